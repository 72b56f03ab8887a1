"""Warm the server's caches in the background once it has answered its first request, so that the first visitor
of a page waits no longer than the hundredth.

What the pages would compute over the data set ships precomputed (``rep_models.precomputed``); what cannot ship
is done here, once per server process, in a daemon thread at the lowest CPU priority: the imports the pages
need later (plotly, scikit-learn), every shipped model (``ui.resources.load_model``), the shipped data and
precomputed files, the networks the page runs (exported to ONNX), the 2-D VAE's manifold grids, and the Few labels
page's codes (5,000 + 5,000 digits per encoder: too big to ship, a few seconds each to compute). It fills the
same ``st.cache_resource`` caches the pages read, so a page that asks for something still being warmed waits
for that one computation (Streamlit's per-key lock) instead of doing it twice.

``app.py`` calls :func:`start` on every run; the first call starts the thread, which waits for that first
script run (and the reruns queued behind it) to finish, so the first page is not slowed down. After that it
gives way to the pages: before each piece of work (one model, one grid, 1,000 digits encoded) it waits while
any page's script is running (:func:`yield_to_pages`), so a visitor arriving during the warm-up shares the CPU
with at most one such piece. Set ``LATENT_LAB_WARMUP=0`` to switch it off; it never runs under AppTest (a mock
runtime) or without a server.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from ui.background import MAX_YIELD_S, SCRIPT_THREAD, THREAD_NAME, yield_to_pages  # noqa: F401 - re-exported

log = logging.getLogger("latent_lab")
WAIT_FOR_FIRST_RUN_S = 60.0  # at most, then warm anyway
DONE_LINE = "Latent Lab warm-up done in"

_lock = threading.Lock()
_thread: threading.Thread | None = None
timings: dict[str, float] = {}  # step -> seconds, filled as the steps finish
done = threading.Event()


def enabled_by_env() -> bool:
    """False when ``LATENT_LAB_WARMUP`` is 0 / false / no / off."""
    return os.environ.get("LATENT_LAB_WARMUP", "1").strip().lower() not in ("0", "false", "no", "off")


def enabled() -> bool:
    """True under a real ``streamlit run`` server, unless switched off (:func:`enabled_by_env`)."""
    if not enabled_by_env():
        return False
    try:
        from streamlit.runtime import Runtime
    except ImportError:
        return False
    return Runtime.exists() and type(Runtime.instance()) is Runtime  # AppTest installs a MagicMock(spec=Runtime)


def start() -> threading.Thread | None:
    """Start the warm-up thread (once per process); None if it already started or is switched off."""
    global _thread
    with _lock:
        if _thread is not None or not enabled():
            return None
        _thread = threading.Thread(target=_run, args=(threading.current_thread(),), name=THREAD_NAME, daemon=True)
        _thread.start()
        return _thread


class _NoContextWarning(logging.Filter):
    """Streamlit warns once per thread that calls st.* without a script run ("missing ScriptRunContext"):
    expected here (the cached functions' spinners have no page to go to)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def _lower_priority() -> None:
    try:  # Linux: a thread id is a process id for setpriority, so this lowers only this thread
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def steps() -> list[tuple[str, object]]:
    """``(name, fn)`` in the order they run: what a first page render needs first, the Few labels codes last."""
    import gc

    from rep_models import catalogue, onnx_export, precomputed
    from rep_models.catalogue import FEW_LABEL_ENCODERS
    from ui import latent, live, resources

    def imports():
        import plotly.graph_objects  # noqa: F401 - pages 4-9
        import sklearn.linear_model  # noqa: F401 - Few labels' classifiers
        import sklearn.preprocessing  # noqa: F401

        import rep_models.projections  # noqa: F401 - the latent map
        import rep_models.semi  # noqa: F401

    def models():
        for name in resources.MODEL_INFO:
            if resources.is_available(name):
                yield_to_pages()
                resources.load_model(name)

    def shipped():
        resources.anomaly_reference()
        latent.train_pca()
        for name in precomputed.CODE_VAES:
            if resources.is_available(name):
                latent.test_codes(name)
        for name in precomputed.HISTOGRAM_GANS:
            if resources.is_available(name) and resources.is_available("classifier"):
                latent.gan_histogram(name)

    def data():
        resources.test_set()
        latent.train_images(latent.FEW_POOL)

    def browser_nets():
        for name in catalogue.with_role(onnx_export.ROLE):  # each graph exported from its weights, once
            if resources.is_available(name):
                yield_to_pages()
                live.net_blob(name)

    def manifold():
        if resources.is_available("vae_2d"):
            for n in latent.MANIFOLD_SIZES:
                yield_to_pages()
                latent.manifold("vae_2d", n)

    def few_label_codes():
        first = [r for r in latent.FEW_LABEL_DEFAULTS if r in FEW_LABEL_ENCODERS]
        for rep in first + [r for r in FEW_LABEL_ENCODERS if r not in first]:
            if resources.is_available(rep):
                latent.few_label_codes(rep)
        gc.freeze()  # long-lived from now on (ui.resources.load_model says why)

    return [("imports", imports), ("models", models), ("shipped files", shipped), ("data", data), ("browser nets", browser_nets),
            ("manifold grids", manifold), ("few-label codes", few_label_codes)]


def _run(first_run: threading.Thread) -> None:
    _lower_priority()
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NoContextWarning())
    first_run.join(WAIT_FOR_FIRST_RUN_S)
    from rep_models.device import flush_denormals

    flush_denormals()  # per thread, as app.py does for the script threads: the same numbers as a page computes
    t0 = time.perf_counter()
    try:
        for name, fn in steps():
            yield_to_pages()
            t = time.perf_counter()
            try:
                fn()
            except Exception:  # noqa: BLE001 - a page computes what could not be warmed, and says what is wrong
                log.warning("warm-up step %r failed", name, exc_info=True)
            timings[name] = time.perf_counter() - t
    finally:
        done.set()
    # One line in the server's output (bench/first_visit.py reads it): when the server is as fast as it gets.
    print(f"{DONE_LINE} {time.perf_counter() - t0:.1f} s ({', '.join(f'{k} {v:.1f} s' for k, v in timings.items())})", flush=True)
