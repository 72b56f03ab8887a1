"""MNIST-style preprocessing of drawings, uploads and photos of digits: a picture -> every step of how MNIST
was made, as arrays (``Steps``), ending in the (28, 28) digit the models take.

    img = decode_image(uploaded_bytes)        # rep_models.image_decode: PIL 'L' image, or ImageError
    steps = to_mnist(img)                     # every step as an array; EmptyImageError if there is no ink
    steps.final                               # (28, 28) float32 in [0, 1], white ink on black
    steps.tensor                              # (1, 1, 28, 28) float32, what the models take
    noisy = to_mnist(img, keep_noise=True)    # for the denoiser: the same steps, robustly, the noise kept
    picture = restore(noisy.frame, result28)  # rep_models.framing: a 28x28 result put back at the upload's size

Error contract: for bad *input* the only exception that escapes :func:`to_mnist` is ``ImageError`` (a
``ValueError``, ``rep_models.image_decode``), or its subclass ``EmptyImageError`` when the image has no ink; the
wrong *type* (not an image or array) raises ``TypeError``.

The steps follow how MNIST was made: grayscale; dark ink on light paper detected and inverted (MNIST is
white ink on black); background removed; cropped to the ink's bounding box; fitted in 20x20 keeping the
aspect ratio (anti-aliased); placed in 28x28 so that its centre of mass is at pixel (14, 14).
No Streamlit here: the pages call these functions and show the arrays.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageFilter

from .framing import Steps
from .image_decode import WORK_SIDE, EmptyImageError, gray_array
from .ink import MIN_CONTRAST, background_surface, centre_of_mass, resize
from .noisy_framing import to_mnist_keep_noise

INK_THRESHOLD = 0.2  # after the contrast stretch, values below this are background (noise, paper grain)


def _window(mask: np.ndarray, k: int, reduce) -> np.ndarray:
    """Separable k x k min (erosion) or max (dilation) of a boolean mask; outside the image counts as False."""
    r = k // 2
    out = mask
    for axis in (0, 1):
        pad = np.pad(out, [(r, r) if a == axis else (0, 0) for a in (0, 1)])
        n = out.shape[axis]
        views = [np.take(pad, np.arange(i, i + n), axis=axis) for i in range(k)]
        out = reduce(views)
    return out


def _erode(mask: np.ndarray, k: int) -> np.ndarray:
    return _window(mask, k, lambda v: np.logical_and.reduce(v))


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    return _window(mask, k, lambda v: np.logical_or.reduce(v))


def to_mnist(image: Image.Image | np.ndarray, box: int = 20, size: int = 28, keep_noise: bool = False) -> Steps:
    """A drawing, upload or photo -> MNIST-like ``Steps`` (``.final`` (28, 28) float32, ``.tensor`` (1,1,28,28)).

    ``image``: a PIL image (any mode) or an array: (H, W) uint8 0..255 or float 0..1, (H, W, 3|4) colour,
    or (1, 1, H, W). Raises ``EmptyImageError`` when there is no ink, ``ImageError`` for an unusable array
    (``rep_models.image_decode``).

    ``keep_noise=True`` is for a picture that is already noisy and goes to the denoiser: the same steps, but
    estimated on a smoothed copy, and the pixels keep their noise (no background removal, threshold or
    median filter; see ``rep_models.noisy_framing.to_mnist_keep_noise``). ``Steps.frame`` then records where the
    28x28 frame came from, for ``rep_models.framing.restore``.
    """
    if keep_noise:
        return to_mnist_keep_noise(image, box, size)
    gray = gray_array(image)
    h, w = gray.shape
    if max(h, w) > WORK_SIDE:  # a 12-megapixel photo is shrunk first: faster and averages sensor noise
        s = WORK_SIDE / max(h, w)
        gray = np.clip(resize(gray, (max(1, round(w * s)), max(1, round(h * s)))), 0, 1)
        h, w = gray.shape
    # Ink is the minority of pixels: if the typical pixel is light, the ink is dark -> invert.
    inverted = bool(np.median(gray) > 0.5)
    a = gray
    if min(h, w) >= 64:  # photos: a 3x3 median removes speckle noise (strokes are much wider than 3 px)
        u8 = Image.fromarray((a * 255 + 0.5).astype(np.uint8), "L")  # rank filters are much faster on 8 bits
        a = np.asarray(u8.filter(ImageFilter.MedianFilter(3)), dtype=np.float32) / 255.0
    if inverted:
        # Paper under uneven light: what we see is reflectance x light, so divide by the local paper brightness
        # (1 - the low percentile of the inverted image) rather than subtract it.
        paper = 1.0 - background_surface(1.0 - a)
        ink = np.clip(1.0 - a / np.maximum(paper, 1e-3), 0.0, None)
    else:  # light ink on a dark background (a canvas, an MNIST digit): subtract the background
        ink = np.clip(a - background_surface(a), 0.0, None)
    strength = float(ink.max(initial=0.0))
    if strength < MIN_CONTRAST:
        raise EmptyImageError()
    # Below the threshold is background: a fixed fraction of the ink's strength, raised above the noise floor
    # (median + 6 robust sigmas of the ink map, where most pixels are background) for noisy photos.
    med = float(np.median(ink))
    noise_floor = med + 6 * 1.4826 * float(np.median(np.abs(ink - med)))
    thr = min(0.6, max(INK_THRESHOLD, noise_floor / strength))
    ink = np.clip((ink / strength - thr) / (1 - thr), 0.0, 1.0).astype(np.float32)
    if min(h, w) >= 64:  # drop specks smaller than 3x3 (a morphological opening of the ink mask), keep stroke edges
        ink = ink * _dilate(_erode(ink > 0, 3), 5)
    rows, cols = np.nonzero(ink)
    if len(rows) == 0:
        raise EmptyImageError()
    top, bottom, left, right = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    cropped = ink[top:bottom, left:right]
    ch, cw = cropped.shape
    scale = box / max(ch, cw)
    fitted = np.clip(resize(cropped, (max(1, round(cw * scale)), max(1, round(ch * scale)))), 0.0, 1.0)
    if fitted.max() <= 0:  # a faint speck averaged away
        raise EmptyImageError()
    fitted = (fitted / fitted.max()).astype(np.float32)  # MNIST strokes reach full white
    # Place the fitted digit so its centre of mass lands on (14, 14), staying inside the frame.
    cy, cx = centre_of_mass(fitted)
    fh, fw = fitted.shape
    oy = int(np.clip(round(size / 2 - cy), 0, size - fh))
    ox = int(np.clip(round(size / 2 - cx), 0, size - fw))
    final = np.zeros((size, size), np.float32)
    final[oy : oy + fh, ox : ox + fw] = fitted
    return Steps(
        gray=gray.astype(np.float32), inverted=inverted, ink=ink, bbox=(top, left, bottom, right),
        cropped=cropped, fitted=fitted, final=final, tensor=torch.from_numpy(final.copy())[None, None],
    )
