"""What tests/ and bench/ both drive the app with: the server (``harness.server``: start and stop
``streamlit run app.py`` on a free loopback port by its own PID, and the headless Chromium's path and flags).
Standard library only, so importing it imports neither torch nor streamlit."""
