"""Images for display and download: many images tiled into one, a signed image as blue/white/red, and an
image as (upscaled) PNG bytes.

Images are ``(H, W)`` or ``(B, H, W)`` float32 arrays in [0, 1].
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image


def tile(images, ncols: int | None = None, pad: int = 2, pad_value: float = 0.25) -> np.ndarray:
    """Images ``(B, H, W)`` as one ``(rows*(H+pad)-pad, ncols*(W+pad)-pad)`` image, row by row; the gaps are grey.
    ``ncols`` defaults to a square-ish grid."""
    imgs = np.asarray(images, dtype=np.float32)
    if imgs.ndim != 3 or len(imgs) == 0:
        raise ValueError(f"images must be (B, H, W) with B >= 1, got shape {imgs.shape}")
    b, h, w = imgs.shape
    ncols = int(ncols or math.ceil(math.sqrt(b)))
    nrows = math.ceil(b / ncols)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, np.float32)
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return out


def signed_rgb(v, scale: int = 1) -> np.ndarray:
    """A signed image ``(H, W)`` as RGB uint8 ``(H*scale, W*scale, 3)``: negative blue, zero white, positive red
    (symmetric around 0, so the sign of a weight is visible)."""
    a = np.asarray(v, dtype=np.float64)
    m = np.abs(a).max()
    t = a / m if m > 0 else a
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    rgb = np.stack([1 - neg, 1 - pos - neg, 1 - pos], -1)  # white -> red for +, white -> blue for -
    rgb = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    if scale > 1:
        rgb = rgb.repeat(scale, 0).repeat(scale, 1)
    return rgb


def signed_rgb_row(images, scale: int = 1, pad: int = 2) -> np.ndarray:
    """Signed images ``(B, H, W)`` side by side as one RGB uint8 image ``(H*scale + 2*pad, B*(W*scale + 2*pad), 3)``,
    each in its own colour scale (:func:`signed_rgb`) with a white frame of ``pad`` pixels."""
    framed = [np.pad(signed_rgb(im, scale), ((pad, pad), (pad, pad), (0, 0)), constant_values=255) for im in np.asarray(images)]
    return np.concatenate(framed, 1)


def png_bytes(image: np.ndarray | torch.Tensor, scale: int = 4) -> bytes:
    """A (H, W) image in [0, 1] (or (1, 1, H, W)) as PNG bytes, upscaled ``scale`` times with nearest neighbour
    so the pixels stay crisp in the browser."""
    a = image.detach().float().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, dtype=np.float32)
    a = a.reshape(a.shape[-2:]) if a.ndim > 2 else a
    u8 = (np.clip(np.nan_to_num(a), 0, 1) * 255 + 0.5).astype(np.uint8)
    img = Image.fromarray(u8, "L")
    if scale > 1:
        img = img.resize((u8.shape[1] * scale, u8.shape[0] * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # fast: these are tiny and redrawn often
    return buf.getvalue()
