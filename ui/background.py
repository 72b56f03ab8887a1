"""Work done in the server's background gives way to the pages: :func:`yield_to_pages`.

Light (no torch, no Streamlit): ``ui.latent`` calls it between batches and ``ui.warmup`` runs the thread.
"""
from __future__ import annotations

import threading
import time

THREAD_NAME = "latent_lab_warmup"  # the background warm-up thread (ui.warmup)
MAX_YIELD_S = 30.0  # the longest the warm-up gives way to busy pages before one more piece of work
SCRIPT_THREAD = "ScriptRunner.scriptThread"  # Streamlit's thread for a session's script runs (gone when idle)


def yield_to_pages(max_wait_s: float = MAX_YIELD_S) -> None:
    """In the warm-up thread: wait (up to ``max_wait_s``) while a page's script is running. Elsewhere: return."""
    if threading.current_thread().name != THREAD_NAME:
        return
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline and any(t.name == SCRIPT_THREAD and t.is_alive() for t in threading.enumerate()):
        time.sleep(0.05)
