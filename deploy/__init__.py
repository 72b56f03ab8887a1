"""Deployment: nginx in front of Streamlit replicas (``python -m deploy.local``; Dockerfile and compose.yaml)."""
