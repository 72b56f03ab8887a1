"""What tests/ and bench/ both drive the app with (tests never import bench/):

- ``harness.server``: start and stop ``streamlit run app.py`` on a free loopback port by its own PID, and the
  headless Chromium's path and flags. Standard library only: importing it imports neither torch nor streamlit.
- ``harness.protocol``: a client of Streamlit's websocket protocol, without a browser.
- ``harness.scenarios``: the load test's scenarios and the record of one session.
- ``harness.protocol_session``, ``harness.browser_session``: one load-test session over the protocol or in Chromium.
- ``harness.classroom``: the load test's run (all sessions at once, the server's memory sampled) and its summary.
"""
