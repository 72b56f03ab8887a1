"""The pages' Streamlit API: the page header, the error guard and its messages, and (re-exported, one name each)
the cached models and data (``ui.resources``), the digit input (``ui.digit_input``) and image display
(``ui.display``). Pages stay thin: computation lives in ``rep_models``.

Navigation
----------
``app.py`` is the entry point and uses ``st.navigation`` over :data:`PAGES` (below): it calls
``st.set_page_config`` once, draws the sidebar (device in use), and runs the chosen page. A page file
listed in :data:`PAGES` that does not exist yet is skipped. So a page is a plain script in ``pages/``:

    import streamlit as st
    from ui import common as ui

    ui.page_header("GAN studio", "What the model is, in one line.", "What to try, in one line.")
    with ui.page_guard():                       # unexpected errors -> a short st.error, never a traceback
        gan = ui.require_model("dcgan")         # None (and an info box) while the zoo is still training
        if gan is not None:
            ...

Do NOT call ``st.set_page_config`` in a page. URLs: ``/`` (home) and ``/<url_path>`` from :data:`PAGES`
(e.g. ``http://127.0.0.1:PORT/vae``). In AppTest: ``AppTest.from_file("app.py").run()`` then
``at.switch_page("pages/4_vae.py").run()``, or ``AppTest.from_file("pages/<file>.py")``.

API (stable)
------------
Pages and navigation
    PAGES: list[PageSpec]               path, title, icon, url_path, section of every page
    page_header(title, what, try_)      title + "Share this view" (ui.links) + what the model is + what to try
    failure_message(e) -> str           what a page says about an unexpected error, in the session's language
    page_guard()                        context manager: an error -> st.error(failure_message(e)), never a traceback
    fragment(f, run_every=None)         st.fragment whose body runs inside page_guard (use it instead of st.fragment)
Models and data (ui.resources: cached once per process with st.cache_resource)
    MODEL_INFO: dict[str, ModelInfo]    title, home page group and one line of each shipped model (from rep_models.catalogue)
    device() -> torch.device            rep_models.device.pick_device("auto")
    device_label() -> str               e.g. "CPU (2 threads)" or the GPU's name
    is_available(name) -> bool          its pretrained card and weights exist
    load_model(name) -> Model           load_pretrained on device(); raises CheckpointError if missing/corrupt
    require_model(name) -> Model|None   the model, or None after an st.info "not available yet" (never raises)
    card(name) -> dict | None           the model's card (pretrained/NAME.json), or None
    metrics() -> dict                   pretrained/metrics.json ({} if absent)
    stylegan_ablation() -> dict | None  pretrained/stylegan_ablation.json (the trick ablation table)
    test_set() -> (x, y)                the shipped MNIST test digits (10000,1,28,28) float [0,1], (10000,) int64; DatasetError
    anomaly_reference() -> np.ndarray   sorted conv_ae reconstruction errors of the MNIST test set (or None)
    not_a_digit_detectors() -> dict     {"draw"|"upload": rep_models.ood.Detector} for the Draw page's verdict (or None)
    free_energy_reference() -> ndarray  sorted RBM free energies of the MNIST test set (or None)
Input (ui.digit_input)
    digit_input(key, sources=("Draw", "Upload"), test_digits=False, keep_noise=False) -> np.ndarray | None
        a source picker, then a canvas (brush size, Clear; the canvas toolbar has undo/redo), an uploader
        (PNG, JPEG, WebP, BMP, GIF) or a test-digit picker. Returns the preprocessed (28, 28) float32
        image in [0, 1] (white ink on black), or None after a clear st.info/st.warning (empty canvas,
        bad file). Never raises for bad input.
    last_steps(key) -> Steps | None     the preprocessing steps behind the last digit_input(key) result
    last_source(key) -> str | None      "Draw", "Upload" or "Test digit"
    canvas_key(key) -> str              the drawing canvas's component key (AppTest feeds drawings here)
Display (ui.display)
    png(image, scale=4) -> bytes        (H, W) [0, 1] -> nearest-neighbour upscaled PNG
    show_image(image, caption=None, scale=4, width=None, square=False)
    show_images(images, captions=None, scale=4, columns=None, width=None, square=False)   a row (or grid)
    pad_square(image) -> np.ndarray     padding (with the median value) to a centred square
"""
from __future__ import annotations

import contextlib
import functools
import logging

import streamlit as st

from rep_models import checkpoint
from ui import layout, links, nav
from ui.digit_input import canvas_key, digit_input, last_source, last_steps, source_label
from ui.display import pad_square, png, show_image, show_images
from ui.i18n import t
from ui.resources import (
    MODEL_INFO,
    anomaly_reference,
    card,
    device,
    device_label,
    free_energy_reference,
    is_available,
    load_model,
    metrics,
    not_a_digit_detectors,
    require_model,
    stylegan_ablation,
    test_set,
)

# The pages' API (``from ui import common as ui``): defined here, or in ui.resources, ui.digit_input and ui.display.
__all__ = [
    "PAGES", "PageSpec", "MODEL_INFO", "page_header", "page_guard", "fragment", "job_panel", "failure_message",
    "device", "device_label", "is_available", "load_model", "require_model", "card", "metrics", "stylegan_ablation", "test_set",
    "anomaly_reference", "not_a_digit_detectors", "free_energy_reference",
    "digit_input", "last_steps", "last_source", "canvas_key", "source_label",
    "png", "show_image", "show_images", "pad_square",
]

log = logging.getLogger("latent_lab")


# ------------------------------------------------------------------------------------------- navigation


PAGES, PageSpec = nav.PAGES, nav.PageSpec  # defined in ui.nav, which app.py imports before torch


def page_header(title: str, what: str, try_: str | None = None) -> None:
    """The page title (with the "Share this view" button), what the model is (one line) and what to try (one line);
    in presentation mode (``ui.layout``) the two lines are folded, so the projector shows the models first."""
    c_title, c_share = st.columns([5, 1], vertical_alignment="center")
    c_title.title(title)
    with c_share:
        links.share_button()
    with st.expander(t("present.about"), expanded=False) if layout.active() else contextlib.nullcontext():
        st.markdown(what)
        if try_:
            st.caption(t("common.try", what=try_))


def failure_message(e: Exception) -> str:
    """What a page says about an error it did not expect: what is wrong and what to do, in plain words, in the
    session's language (``common.failure.*``)."""
    from rep_models.data import DatasetError

    if isinstance(e, DatasetError):
        return t("common.failure.data")
    if isinstance(e, checkpoint.CheckpointError):
        return t("common.failure.model")
    if isinstance(e, MemoryError):
        return t("common.failure.memory")
    return t("common.failure.unexpected")


@contextlib.contextmanager
def _guard(what: str):
    try:
        yield
    except Exception as e:  # noqa: BLE001 - the last line of defence: never show a traceback to a student
        log.exception("error on %s", what)
        st.error(failure_message(e), icon=":material/error:")


@contextlib.contextmanager
def page_guard(what: str = "this page"):
    """Wrap a page body: an error shows :func:`failure_message` as st.error, never a traceback or an
    exception's name (the traceback goes to the server log). At the end of the page's run, the URL keeps
    only the parameters of the controls drawn in it (``ui.links.prune``).

    Streamlit's own control flow (st.stop, st.rerun, st.switch_page) derives from BaseException and passes through.
    """
    with _guard(what):
        yield
    links.prune()


def fragment(func=None, *, run_every=None, what: str = "this part of the page"):
    """``st.fragment`` whose body runs inside :func:`page_guard`: a fragment rerun runs the function alone,
    outside the page's own guard, and an error there would otherwise reach Streamlit's generic error box.
    Use as ``@ui.fragment`` or ``ui.fragment(f, run_every=2)(args…)``."""
    def wrap(f):
        @functools.wraps(f)
        def guarded(*args, **kwargs):
            with _guard(what):
                return f(*args, **kwargs)

        return st.fragment(guarded, run_every=run_every)

    return wrap if func is None else wrap(func)


def job_panel(job, running: bool, mine: bool, *, someone: str, busy_key: str, busy: str, waiting: str, show, args=(),
              poll: float = 1.0) -> None:
    """The panel beside a server-bounded job's controls (Train live, the map's live re-run): someone else's run,
    this session's refused start (``busy_key`` set in session state by the start callback), this session's job
    (``show(job, *args)`` in a fragment redrawn every ``poll`` seconds while it runs), or a grey hint."""
    if running and not mine:
        st.info(someone, icon=":material/hourglass_top:")
    elif st.session_state.pop(busy_key, False):
        st.warning(busy, icon=":material/hourglass_top:")
    elif job is not None and mine:
        fragment(show, run_every=poll if running else None)(job, *args)
    else:
        st.markdown(f":gray[{waiting}]")
