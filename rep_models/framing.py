"""A digit framed as MNIST, and the frame's geometry: every step's arrays (:class:`Steps`), where the 28x28 frame
came from in the picture (:class:`Frame`), the same geometry on another picture (:meth:`Frame.apply`) and a 28x28
result put back at the picture's size and framing (:func:`restore`).

    steps = to_mnist(img, keep_noise=True)      # rep_models.preprocess: Steps, with .frame
    clean28 = steps.frame.apply(clean_gray)     # (H, W) -> (28, 28), the upload's geometry, no levels
    picture = restore(steps.frame, result28)    # (28, 28) -> (H, W) at the upload's size, polarity and levels
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from PIL import Image

from .image_decode import WORK_SIDE
from .ink import resize

BLOCK_TOLERANCE = 0.06  # a picture is a k-times pixel-block enlargement when its spread within k x k blocks is below this share of its spread
RESTORE_MAX_PIXELS = 16_000_000  # restore(): a bigger upload's result is returned scaled down to this many pixels


@dataclass
class Steps:
    """Every step of ``rep_models.preprocess.to_mnist``, as arrays in [0, 1] (float32) so a page can show them.

    gray: (H, W) the input in grayscale (shrunk to at most ``WORK_SIDE`` on the longest side)
    inverted: whether the input was dark ink on a light background (and so was inverted)
    ink: (H, W) white ink on black, background removed and contrast stretched
    bbox: (top, left, bottom, right) of the ink in ``ink`` (bottom/right exclusive)
    cropped: (h, w) ``ink`` cropped to ``bbox``
    fitted: (h', w') the crop resized so its longer side is 20, aspect kept
    final: (28, 28) ``fitted`` placed so its centre of mass is at (14, 14)
    tensor: (1, 1, 28, 28) ``final`` as a torch tensor
    frame: with ``keep_noise=True``, where the 28x28 frame came from and the picture's levels (:class:`Frame`)
    """

    gray: np.ndarray
    inverted: bool
    ink: np.ndarray
    bbox: tuple[int, int, int, int]
    cropped: np.ndarray
    fitted: np.ndarray
    final: np.ndarray
    tensor: torch.Tensor
    frame: Frame | None = None

    def stages(self) -> list[tuple[str, np.ndarray]]:
        """(caption, image) for each step, in order, for display."""
        return [
            ("1. grayscale", self.gray),
            ("2. inverted to white ink" if self.inverted else "2. ink (already light on dark)", self.ink),
            ("3. cropped to the ink", self.cropped),
            ("4. fitted in 20x20", self.fitted),
            ("5. centred in 28x28", self.final),
        ]


@dataclass(frozen=True)
class Frame:
    """What ``to_mnist(keep_noise=True)`` did to a picture, to do it again or undo it.

    upload_size: (width, height) of the picture as uploaded
    block: the pixel-block enlargement undone first (10: every pixel of a 28x28 digit was a 10x10 block; 1: none)
    work_size: (width, height) of the working copy: block-reduced, then shrunk to at most ``WORK_SIDE``
    box: (left, top, right, bottom) of the 28x28 frame in the working copy's pixel coordinates (pixel (i, j)
        covers [j, j+1) x [i, i+1)); it may reach past the picture's edges (that part is background)
    inverted: dark ink on light paper (inverted to white ink on black)
    paper, ink: the picture's background and ink levels (grayscale, 0..1), for putting a result back
    """

    upload_size: tuple[int, int]
    block: int
    work_size: tuple[int, int]
    box: tuple[float, float, float, float]
    inverted: bool
    paper: float
    ink: float

    def apply(self, image: np.ndarray, size: int = 28) -> np.ndarray:
        """The same geometric steps on another picture of the same size (a clean copy, say): ``image`` (H, W)
        float in [0, 1], white ink on black -> (size, size). No levels: only the block reduction, the
        shrink and the frame's resampling, exactly as for the upload."""
        return resample_frame(working_copy(np.asarray(image, np.float32), self.block), self.box, size)


def block_factor(a: np.ndarray) -> int:
    """The largest k such that ``a`` is (nearly) made of k x k blocks of one value each: a small picture enlarged
    with nearest-neighbour resampling (as the app's own downloads are). 1 when it is not."""
    h, w = a.shape
    g = math.gcd(h, w)
    spread = float(a.std())
    if spread <= 0:
        return 1
    for k in sorted((d for d in range(2, g + 1) if g % d == 0 and min(h, w) // d >= 8), reverse=True):
        blocks = a.reshape(h // k, k, w // k, k)
        within = float(np.sqrt(((blocks - blocks.mean((1, 3), keepdims=True)) ** 2).mean()))
        if within < BLOCK_TOLERANCE * spread:
            return k
    return 1


def working_copy(gray: np.ndarray, block: int) -> np.ndarray:
    """The block reduction, then the shrink to at most ``WORK_SIDE`` (area-averaging: noise is averaged, not aliased)."""
    if block > 1:
        h, w = gray.shape
        gray = gray.reshape(h // block, block, w // block, block).mean((1, 3), dtype=np.float32)
    h, w = gray.shape
    if max(h, w) > WORK_SIDE:
        s = WORK_SIDE / max(h, w)
        gray = np.clip(resize(gray, (max(1, round(w * s)), max(1, round(h * s)))), 0, 1)
    return gray.astype(np.float32, copy=False)


def resample_frame(a: np.ndarray, box: tuple[float, float, float, float], size: int = 28) -> np.ndarray:
    """The region ``box`` (left, top, right, bottom; may reach past the edges, where it is 0) of ``a`` resampled to
    (size, size): area-averaging when shrinking, bilinear when enlarging; unchanged when it is ``a`` itself."""
    h, w = a.shape
    if (h, w) == (size, size) and tuple(box) == (0.0, 0.0, float(size), float(size)):
        return np.array(a, np.float32)
    left, top, right, bottom = box
    pad = int(math.ceil(max(0.0, -left, -top, right - w, bottom - h))) + 1
    padded = np.pad(np.asarray(a, np.float32), pad)
    shrink = right - left >= size
    img = Image.fromarray(padded, "F").resize((size, size), Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR,
                                              box=(left + pad, top + pad, right + pad, bottom + pad))
    return np.array(img, dtype=np.float32)  # a writable copy


def restore(frame: Frame, image: np.ndarray | torch.Tensor, max_pixels: int = RESTORE_MAX_PIXELS) -> np.ndarray:
    """A 28x28 result (white ink on black, [0, 1]; the denoised digit) put back where the digit was in the
    upload: (H, W) float32 in [0, 1] at the uploaded picture's size (scaled down, aspect kept, to at most
    ``max_pixels``), in its polarity, on its paper and ink levels, smoothly (bicubic) resampled."""
    a = image.detach().float().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, np.float32)
    a = np.clip(np.nan_to_num(a.reshape(a.shape[-2:])), 0.0, 1.0).astype(np.float32)
    uw, uh = frame.upload_size
    f = min(1.0, math.sqrt(max_pixels / max(1, uw * uh)))
    ow, oh = max(1, int(uw * f)), max(1, int(uh * f))  # rounded down: at most max_pixels
    if frame.block > 1:  # a pixel-block picture gets its blocks back: the result at the small picture's size, enlarged alike
        small = restore(replace(frame, block=1, upload_size=frame.work_size), a)
        img = Image.fromarray(small, "F").resize((ow, oh), Image.Resampling.NEAREST)
        return np.asarray(img, np.float32).copy()
    n = a.shape[0]
    ww, wh = frame.work_size
    left, top, right, bottom = frame.box
    # The output picture's extent in the 28x28 frame's coordinates, and the frame padded with background to cover it.
    fx, fy = n / ((right - left) * ow / ww), n / ((bottom - top) * oh / wh)
    u0, v0 = -left * ow / ww * fx, -top * oh / wh * fy
    u1, v1 = u0 + ow * fx, v0 + oh * fy
    pad = int(math.ceil(max(0.0, -u0, -v0, u1 - n, v1 - n))) + 2
    padded = Image.fromarray(np.pad(a, pad), "F")
    out = np.asarray(padded.resize((ow, oh), Image.Resampling.BICUBIC, box=(u0 + pad, v0 + pad, u1 + pad, v1 + pad)), np.float32).copy()
    np.clip(out, 0.0, 1.0, out=out)
    out *= frame.ink - frame.paper
    out += frame.paper
    return out
