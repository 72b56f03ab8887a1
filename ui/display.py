"""Images on a page, pixel-crisp and fast: an (H, W) array in [0, 1] (or a tensor of that size) upscaled by a
whole number with nearest-neighbour pixels and sent as PNG at its exact size, inline as a ``data:`` URL when small.
"""
from __future__ import annotations

import base64

import numpy as np
import streamlit as st
import torch
from PIL import Image

from rep_models.images import png_bytes


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
