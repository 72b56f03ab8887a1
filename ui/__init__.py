"""Shared Streamlit helpers for the pages (see ui/common.py for the API and how navigation works)."""
