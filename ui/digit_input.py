"""The digit input widget: a source picker, then the drawing canvas, an image uploader or a test-digit picker, and
what the user gave preprocessed like MNIST (``rep_models.preprocess.to_mnist``): a (28, 28) float32 array in
[0, 1], white ink on black, or None after a message saying why (an empty canvas, a file that is not a digit).
The steps behind the last result stay in the session (:func:`last_steps`) for the page to show.
"""
from __future__ import annotations

import random

import numpy as np
import streamlit as st

from rep_models.framing import Steps
from rep_models.image_decode import EmptyImageError, ImageError, decode_data_url, decode_image
from rep_models.preprocess import to_mnist
from ui import i18n, links, live
from ui.i18n import t
from ui.resources import test_set

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
