"""Start and stop the app's server (`streamlit run app.py`) for the benchmarks and the browser tests.

    from harness.server import free_port, start_app, stop_app

    port = free_port()
    proc = start_app(port, log_path=Path("artifacts/server.log"))   # returns once /_stcore/health answers
    try:
        ...  # http://127.0.0.1:{port}/
    finally:
        stop_app(proc)

The server is our own child process (its PID, not a shell's), bound to 127.0.0.1, headless, without usage
statistics and without a file watcher, and it inherits the environment (plus ``env``; e.g. set
``LATENT_LAB_PRETRAINED`` to serve another model directory). Standard library only: importing this module
does not import torch or streamlit. ``CHROMIUM`` and ``CHROMIUM_ARGS`` are the headless browser the
benchmarks and tests drive.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def healthy(url: str) -> bool:
    """True when the Streamlit server at ``url`` (e.g. ``http://127.0.0.1:8501``) answers /_stcore/health."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_app(port: int, log_path: str | Path | None = None, env: Mapping[str, str] | None = None,
              timeout_s: float = 120.0, script: str = "app.py") -> subprocess.Popen:
    """Start ``streamlit run app.py`` on 127.0.0.1:``port`` and return its process once /_stcore/health answers.

    Output goes to ``log_path`` (overwritten; the file is closed by :func:`stop_app`) or is discarded. Raises
    RuntimeError (after stopping the process) if the server exits or is not healthy within ``timeout_s``.
    """
    log = open(log_path, "wb") if log_path is not None else subprocess.DEVNULL  # noqa: SIM115 - closed in stop_app
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    proc.log = log if log_path is not None else None  # type: ignore[attr-defined]
    where = f"; see {log_path}" if log_path is not None else ""
    url = base_url(port)
    deadline = time.monotonic() + timeout_s
    while not healthy(url):
        if proc.poll() is not None:
            stop_app(proc)
            raise RuntimeError(f"the Streamlit server exited with code {proc.returncode}{where}")
        if time.monotonic() > deadline:
            stop_app(proc)
            raise RuntimeError(f"the Streamlit server did not answer /_stcore/health within {timeout_s:.0f} s{where}")
        time.sleep(0.2)
    return proc


def stop_app(proc: subprocess.Popen, timeout_s: float = 15.0) -> None:
    """Stop a server started by :func:`start_app` (SIGTERM to its own PID, SIGKILL if it lingers); closes its log."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    log = getattr(proc, "log", None)
    if log is not None:
        log.close()
        proc.log = None  # type: ignore[attr-defined]
