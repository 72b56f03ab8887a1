"""Shared Streamlit helpers for Latent Lab's pages. Pages stay thin: computation lives in ``rep_models``.

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
    MODEL_INFO: dict[str, ModelInfo]    title, home page group and one line of each shipped model (from rep_models.catalogue)
    page_header(title, what, try_)      title + "Share this view" (ui.links) + what the model is + what to try
    page_guard()                        context manager: an error -> st.error(failure_message(e)), never a traceback
    fragment(f, run_every=None)         st.fragment whose body runs inside page_guard (use it instead of st.fragment)
Models and data (cached once per process with st.cache_resource)
    device() -> torch.device            rep_models.device.pick_device("auto")
    device_label() -> str               e.g. "CPU (2 threads)" or the GPU's name
    is_available(name) -> bool          its pretrained card and weights exist
    load_model(name) -> Model           load_pretrained on device(); raises CheckpointError if missing/corrupt
    require_model(name) -> Model|None   the model, or None after an st.info "not available yet" (never raises)
    card(name) -> dict | None           the model's card (pretrained/NAME.json), or None
    metrics() -> dict                   pretrained/metrics.json ({} if absent)
    test_set() -> (x, y)                the shipped MNIST test digits (10000,1,28,28) float [0,1], (10000,) int64; DatasetError
    anomaly_reference() -> np.ndarray   sorted conv_ae reconstruction errors of the MNIST test set (or None)
    not_a_digit_detectors() -> dict     {"draw"|"upload": rep_models.ood.Detector} for the Draw page's verdict (or None)
Input
    digit_input(key, sources=("Draw", "Upload"), test_digits=False, keep_noise=False) -> np.ndarray | None
        a source picker, then a canvas (brush size, Clear; the canvas toolbar has undo/redo), an uploader
        (PNG, JPEG, WebP, BMP, GIF) or a test-digit picker. Returns the preprocessed (28, 28) float32
        image in [0, 1] (white ink on black), or None after a clear st.info/st.warning (empty canvas,
        bad file). Never raises for bad input.
    last_steps(key) -> Steps | None     the preprocessing steps behind the last digit_input(key) result
    last_source(key) -> str | None      "Draw", "Upload" or "Test digit"
    canvas_key(key) -> str              the drawing canvas's component key (AppTest feeds drawings here)
Display
    png(image, scale=4) -> bytes        (H, W) [0, 1] -> nearest-neighbour upscaled PNG
    show_image(image, caption=None, scale=4, width=None, square=False)
    show_images(images, captions=None, scale=4, columns=None, width=None, square=False)   a row (or grid)
    pad_square(image) -> np.ndarray     padding (with the median value) to a centred square
"""
from __future__ import annotations

import base64
import contextlib
import functools
import gc
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image

from rep_models import catalogue, checkpoint, fast
from rep_models.anomaly import ANOMALY_MODEL
from rep_models.device import describe, pick_device
from rep_models.framing import Steps
from rep_models.image_decode import EmptyImageError, ImageError, decode_data_url, decode_image
from rep_models.images import png_bytes
from rep_models.preprocess import to_mnist
from ui import i18n, layout, links, live, nav
from ui.i18n import t

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("latent_lab")


# ------------------------------------------------------------------------------------------- navigation


PAGES, PageSpec = nav.PAGES, nav.PageSpec  # defined in ui.nav, which app.py imports before torch


@dataclass(frozen=True)
class ModelInfo:
    title: str
    family: str  # the home page group: one of rep_models.catalogue.GROUPS
    what: str


MODEL_INFO: dict[str, ModelInfo] = {n: ModelInfo(e.title, e.group, e.what) for n, e in catalogue.CATALOGUE.items() if e.shown}


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


# --------------------------------------------------------------------------------------- models and data


@st.cache_resource(show_spinner=False)
def device() -> torch.device:
    return pick_device("auto")


def device_label() -> str:
    d = device()
    if d.type == "cpu":
        n = torch.get_num_threads()
        return t("common.cpu_one" if n == 1 else "common.cpu", n=n)
    return describe(d)


def is_available(name: str) -> bool:
    return checkpoint.is_shipped(name)


@st.cache_resource(show_spinner="Loading the model…", max_entries=32)
def load_model(name: str):
    """The shipped model ``name`` in eval mode on :func:`device`, shared by every session.

    Raises ``CheckpointError`` if it is missing or corrupt (errors are not cached: it loads once the file appears).
    The model comes through ``rep_models.fast.optimize`` (batch norm folded, sub-pixel deconvolutions): the same
    class and methods, the same outputs, faster on a CPU (bench/RESULTS.md); it is for inference only.
    """
    model = checkpoint.load_pretrained(name, device())
    try:
        model = fast.optimize(model)
    except Exception:  # noqa: BLE001 - a rewrite that does not apply must not cost the page its model
        log.exception("fast path failed for %s; serving the plain model", name)
    # Everything alive now (torch, the models, the imports) lives as long as the server: out of the garbage
    # collector's sight, so its automatic full collections stay cheap (.streamlit/config.toml: postScriptGC).
    gc.freeze()
    return model


def require_model(name: str, purpose: str | None = None):
    """The shipped model, or None after telling the user it is not available yet. Never raises."""
    title = i18n.model(name) if name in MODEL_INFO else name
    if not is_available(name):
        st.info(t("common.not_available", model=title, part=purpose or t("common.this_part")), icon=":material/hourglass_top:")
        return None
    try:
        return load_model(name)
    except checkpoint.CheckpointError as e:
        log.warning("cannot load %s: %s", name, e)
        st.warning(t("common.cannot_load", model=title), icon=":material/error:")
        return None


def card(name: str) -> dict | None:
    try:
        return checkpoint.read_card(checkpoint.PRETRAINED_DIR / name)
    except checkpoint.CheckpointError:
        return None


def metrics() -> dict:
    path = checkpoint.PRETRAINED_DIR / "metrics.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


@st.cache_resource(show_spinner="Loading MNIST test digits…")
def test_set() -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 MNIST test digits that ship with the app (data/mnist_sample.npz). Raises DatasetError."""
    from rep_models.data import load_tensors

    return load_tensors("mnist", "test", source="sample")


@st.cache_resource(show_spinner="Measuring how well the autoencoder reconstructs MNIST test digits (once)…")
def _anomaly_reference(_model_id: int) -> np.ndarray:
    from rep_models import precomputed  # shipped (pretrained/precomputed_anomaly_*.npz); computed if stale

    return precomputed.get(f"anomaly_{ANOMALY_MODEL}", load_model)["errors"]


def anomaly_reference() -> np.ndarray | None:
    """Sorted per-image reconstruction errors of the anomaly model on the MNIST test set, or None if unavailable."""
    if not is_available(ANOMALY_MODEL):
        return None
    try:
        return _anomaly_reference(id(load_model(ANOMALY_MODEL)))
    except Exception as e:  # noqa: BLE001 - the data set or model is missing: the page shows the rest
        log.warning("no anomaly reference: %s", e)
        return None


@st.cache_resource(show_spinner=False)
def _not_a_digit_detectors(_model_id: int) -> dict | None:
    from rep_models import ood, precomputed  # shipped: pretrained/precomputed_not_a_digit.npz

    arrays = precomputed.load(ood.ITEM)  # missing or stale: None (logged); fitting it here would take minutes
    return None if arrays is None else ood.detectors(arrays)


def not_a_digit_detectors() -> dict | None:
    """The Draw page's not-a-digit detectors, one per input channel (``rep_models.ood``), or None if unavailable (the
    shipped file missing or made from another classifier: the page then gives the autoencoder's verdict)."""
    if not is_available("classifier"):
        return None
    try:
        return _not_a_digit_detectors(id(load_model("classifier")))
    except Exception as e:  # noqa: BLE001 - the data or the model is missing: the page shows the rest
        log.warning("no not-a-digit detector: %s", e)
        return None


# ------------------------------------------------------------------------------------------------ input

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]


def canvas_key(key: str) -> str:
    return f"{key}_canvas"


def last_steps(key: str) -> Steps | None:
    return st.session_state.get(f"{key}_steps")


def last_source(key: str) -> str | None:
    return st.session_state.get(f"{key}_source")


def _draw(key: str, size: int):
    brush = st.slider(t("input.brush"), 6, 40, 22, key=f"{key}_brush")
    url = live.digit_canvas(size, brush, key=canvas_key(key))
    st.caption(t("input.draw_hint"))
    return None if url is None else decode_data_url(url)


def _upload(key: str):
    f = st.file_uploader(t("input.upload_label"), type=UPLOAD_TYPES, key=f"{key}_upload")
    if f is None:
        return None
    return decode_image(f.getvalue())


def _test_digit(key: str):
    x, y = test_set()
    k = f"{key}_test_index"
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    c2.button(t("input.random"), key=f"{key}_random", icon=":material/casino:",
              on_click=lambda: st.session_state.__setitem__(k, random.randrange(len(x))))
    with c1:
        i = links.number_input(t("input.test_index"), 0, len(x) - 1, 0, key=k, param="index")
    return x[int(i), 0].numpy()


SOURCE_NAMES = {"Draw": "draw", "Upload": "upload", "Test digit": "test"}  # the inputs' names in a link (?input=test)


def source_label(source: str) -> str:
    """An input source ("Draw", "Upload", "Test digit") in the session's language."""
    return t(f"input.src.{SOURCE_NAMES.get(source, source)}")


def digit_input(key: str, sources: tuple[str, ...] = ("Draw", "Upload"), test_digits: bool = False, canvas_size: int = 280,
                keep_noise: bool = False) -> np.ndarray | None:
    """A digit from the user, preprocessed like MNIST: (28, 28) float32 in [0, 1], or None (with a message).
    ``keep_noise``: an upload that is already noisy, for the denoiser (``to_mnist(keep_noise=True)``)."""
    options = list(sources) + (["Test digit"] if test_digits and "Test digit" not in sources else [])
    src = options[0] if len(options) == 1 else links.segmented_control(t("input.source"), options, default=options[0], key=f"{key}_src",
                                                                          param="input", name=SOURCE_NAMES.get, format_func=source_label)
    src = src or options[0]
    st.session_state[f"{key}_source"] = src
    st.session_state[f"{key}_steps"] = None
    try:
        if src == "Draw":
            raw = _draw(key, canvas_size)
            if raw is None:
                st.info(t("input.draw_empty"), icon=":material/draw:")
                return None
        elif src == "Upload":
            raw = _upload(key)
            if raw is None:
                st.info(t("input.upload_empty"), icon=":material/upload:")
                return None
        else:
            raw = _test_digit(key)
        steps = to_mnist(raw, keep_noise=keep_noise and src == "Upload")
    except EmptyImageError as e:
        st.info(i18n.tr(str(e)), icon=":material/draw:")
        return None
    except ImageError as e:
        st.warning(i18n.tr(str(e)), icon=":material/broken_image:")
        return None
    st.session_state[f"{key}_steps"] = steps
    return steps.final


# ---------------------------------------------------------------------------------------------- display


def png(image, scale: int = 4) -> bytes:
    return png_bytes(image, scale)


def pad_square(image: np.ndarray) -> np.ndarray:
    """Pad a (h, w) image to a centred square with its typical (median) value, so tall and wide images display
    at the same scale without bars: black around white-on-black digits, white around a photo of paper."""
    a = np.asarray(image, dtype=np.float32)
    h, w = a.shape[-2:]
    n = max(h, w)
    out = np.full((n, n), float(np.median(a)), np.float32)
    out[(n - h) // 2 : (n - h) // 2 + h, (n - w) // 2 : (n - w) // 2 + w] = a.reshape(h, w)
    return out


INLINE_MAX_BYTES = 24_000  # PNGs up to this size travel inside the page update (most digits are 1-10 kB)


def show_image(image, caption: str | None = None, scale: int = 4, width: int | None = None, square: bool = False,
               inline: bool | None = None) -> None:
    """One image, pixel-crisp and fast: an integer nearest-neighbour upscale sent as PNG at its exact size.
    With ``width`` (CSS pixels) the scale is the largest integer that fits in it. An ``inline`` PNG travels
    inside the page update as a ``data:`` URL (``st.image`` passes URLs through) instead of as a media file the
    browser fetches afterwards: a page of 15 small digits otherwise waits for 15 more requests after each run.
    ``None`` (default): inline when the PNG is at most ``INLINE_MAX_BYTES``.

    Why not ``st.image`` defaults: with ``output_format="auto"`` Streamlit re-encodes an opaque PNG as JPEG
    (blurry strokes, and an extra encode per rerun), and an image wider than ``width`` is resized bilinearly.
    """
    a = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, dtype=np.float32)
    a = a.reshape(a.shape[-2:])
    if square:
        a = pad_square(a)
    if width and max(a.shape) > width:  # a big photo or the 280-px canvas: box-averaged down to fit
        h, w = a.shape
        f = width / max(h, w)
        img = Image.fromarray(np.clip(a, 0, 1).astype(np.float32), "F").resize((max(1, round(w * f)), max(1, round(h * f))), Image.BOX)
        a, scale = np.asarray(img, dtype=np.float32), 1
    elif width:
        scale = max(1, width // max(a.shape))
    data = png(a, scale)
    if inline or (inline is None and len(data) <= INLINE_MAX_BYTES):
        st.image("data:image/png;base64," + base64.b64encode(data).decode("ascii"), caption=caption, width=a.shape[1] * scale)
    else:
        st.image(data, caption=caption, width=a.shape[1] * scale, output_format="PNG")


def show_images(images, captions=None, scale: int = 4, columns: int | None = None, width: int | None = None, square: bool = False) -> None:
    """Images side by side (``columns`` per row, default all in one row), each with its caption."""
    images = list(images)
    if not images:
        return
    captions = list(captions) if captions is not None else [None] * len(images)
    n = columns or len(images)
    for start in range(0, len(images), n):
        cols = st.columns(n)
        for col, img, cap in zip(cols, images[start : start + n], captions[start : start + n], strict=False):
            with col:
                show_image(img, cap, scale, width, square)
