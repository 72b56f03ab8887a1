"""MNIST's steps for a picture that is already noisy (the denoiser's input), estimated robustly, the noise kept:
``rep_models.preprocess.to_mnist(image, keep_noise=True)`` calls :func:`to_mnist_keep_noise`.

The cleaning path (``rep_models.preprocess``) cleans the ink (background removal, a threshold, a median filter, a
contrast stretch) and takes the ink's bounding box from the pixels themselves. On a noisy picture the noise counts
as ink: the box covers the whole square, and the cleaning turns the noise into something no denoiser was trained
on. Here the same steps are estimated on a smoothed copy instead, with thresholds set by the ink's own contrast
there (half-way up a blurred stroke is its edge, whatever the noise), and then applied to the pixels as they are:
only geometry (resampling) and levels (an offset and a gain), so the noise stays noise.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .framing import Frame, Steps, block_factor, resample_frame, working_copy
from .image_decode import EmptyImageError, gray_array
from .ink import MIN_CONTRAST, background_surface, centre_of_mass, resize

INK_LEVEL = 0.5  # the ink box: where the smoothed ink exceeds this share of its contrast (the edge of a blurred stroke)
NEAR_LEVEL = 0.2  # the ink's surroundings: the smoothed ink above this share of its contrast, around the ink box's blobs
COM_LEVEL = 0.0  # the centre of mass weighs the smoothed ink above this share of its contrast, in the surroundings
PAPER_LEVEL = 0.25  # the background's level: the median of the pixels whose smoothed ink is below this share
CORE_LEVEL = 0.75  # the ink's level: the median of the pixels whose smoothed ink is above this share
PAPER_SNAP, INK_SNAP = 0.05, 0.15  # levels this close to black paper and white ink (MNIST's 0 and 1) are left alone
MIN_PART = 0.1  # a separate blob of the ink mask counts as ink when at least this share of the biggest one's area


def _smoothed_ink(a: np.ndarray, sigma: float) -> tuple[np.ndarray, float, float]:
    """``a`` blurred with a Gaussian of ``sigma`` pixels, its typical (median) value and the ink's contrast above it."""
    from scipy import ndimage

    sm = ndimage.gaussian_filter(a, sigma, mode="nearest", truncate=3.0)
    base = float(np.median(sm))
    return sm, base, float(sm.max()) - base


def _ink_mask(sm: np.ndarray, base: float, contrast: float) -> tuple[np.ndarray, np.ndarray]:
    """(ink, near): the smoothed ink above ``INK_LEVEL`` of its contrast, without stray blobs (noise that
    survived the blur), and the wider region above ``NEAR_LEVEL`` around it."""
    from scipy import ndimage

    mask = sm > base + INK_LEVEL * contrast
    labels, n = ndimage.label(mask)
    if n > 1:
        areas = np.bincount(labels.ravel())[1:]
        mask = np.isin(labels, np.flatnonzero(areas >= MIN_PART * areas.max()) + 1)
    labels, _ = ndimage.label(sm > base + NEAR_LEVEL * contrast)
    touched = np.unique(labels[mask])
    return mask, np.isin(labels, touched[touched > 0])


def to_mnist_keep_noise(image: Image.Image | np.ndarray, box: int = 20, size: int = 28) -> Steps:
    """``to_mnist(keep_noise=True)``: MNIST's steps for a noisy picture, estimated robustly, the noise kept.

    1. A pixel-block enlargement (a 28x28 digit shown 10x) is undone exactly; a big picture is shrunk.
    2. Polarity from the median; the ink is smoothed (one MNIST pixel: the shorter side / 28, then the ink
       box's longer side / 20) and its box is where the smoothed ink is half-way up its contrast, stray blobs
       dropped; the centre of mass is the smoothed ink's.
    3. Levels: the background (its median, or a smooth surface under uneven light on a photo) is subtracted
       (divided out, for dark ink on paper) and the ink's median level scaled to 1: an offset and a gain,
       clipped to [0, 1] as the training noise was.
    4. A digit that is already 28x28 is not re-cropped; otherwise the frame (the box fitted in 20x20, its
       centre of mass at (14, 14)) is resampled from the whole picture, background noise included.
    """
    gray_full = gray_array(image)
    upload = (image.info.get("upload_size") or image.size) if isinstance(image, Image.Image) else gray_full.shape[::-1]
    block = block_factor(gray_full)
    work = working_copy(gray_full, block)
    gray = work if block == 1 else working_copy(gray_full, 1)  # what is shown: the picture, not its reduction
    h, w = work.shape
    inverted = bool(np.median(work) > 0.5)
    a = (1.0 - work) if inverted else work
    sigma = max(1.0, min(h, w) / size)
    if min(h, w) >= 64:  # a photo under uneven light: a smooth surface under the paper (tile medians, ink tiles left out)
        surface = background_surface(a)
    else:
        sm, base, contrast = _smoothed_ink(a, sigma)
        surface = np.full_like(a, float(np.median(a[sm <= base + PAPER_LEVEL * contrast])))
    ink_map = (a - surface) / np.maximum(1.0 - surface, 1e-3) if inverted else a - surface  # reflectance: paper 0
    sm, base, contrast = _smoothed_ink(ink_map, sigma)
    if contrast < MIN_CONTRAST:
        raise EmptyImageError()
    mask, near = _ink_mask(sm, base, contrast)
    rows, cols = np.nonzero(mask)
    long_side = max(int(rows.max()) - int(rows.min()), int(cols.max()) - int(cols.min())) + 1
    if (h, w) != (size, size) and 1.0 < long_side / box < sigma:  # a digit small in its picture: blur less
        sm, base, contrast = _smoothed_ink(ink_map, long_side / box)
        if contrast < MIN_CONTRAST:
            raise EmptyImageError()
        mask, near = _ink_mask(sm, base, contrast)
        rows, cols = np.nonzero(mask)
    background = sm <= base + PAPER_LEVEL * contrast
    offset = float(np.median(ink_map[background])) if background.any() else 0.0  # what the surface missed
    core = mask & (sm >= base + CORE_LEVEL * contrast)
    level = max(float(np.median(ink_map[core if core.any() else mask])) - offset, MIN_CONTRAST)
    if max(float(np.abs(surface).max()), abs(offset)) <= PAPER_SNAP and abs(level - 1.0) <= INK_SNAP:  # MNIST's own levels
        surface, ink_map, offset, level = np.zeros_like(a), a, 0.0, 1.0
    ink_map = ink_map - offset
    ink = np.clip(np.nan_to_num(ink_map / level), 0.0, 1.0).astype(np.float32)
    top, bottom, left, right = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    if (h, w) == (size, size):
        frame_box = (0.0, 0.0, float(size), float(size))
    else:
        scale = box / max(bottom - top, right - left)
        weights = np.clip(sm - (base + COM_LEVEL * contrast), 0.0, None) * near
        cy, cx = centre_of_mass(weights)
        left_f, top_f = cx + 0.5 - (size / 2 + 0.5) / scale, cy + 0.5 - (size / 2 + 0.5) / scale
        frame_box = (float(left_f), float(top_f), float(left_f + size / scale), float(top_f + size / scale))
    final = np.clip(resample_frame(ink, frame_box, size), 0.0, 1.0)
    cropped = ink[top:bottom, left:right]
    ch, cw = cropped.shape
    fit = box / max(ch, cw)
    fitted = np.clip(resize(cropped, (max(1, round(cw * fit)), max(1, round(ch * fit)))), 0.0, 1.0)
    under = float(np.median(surface))
    if inverted:  # back from reflectance: grayscale = (1 - surface) (1 - offset - level * value)
        paper, ink_level = (1.0 - under) * (1.0 - offset), (1.0 - under) * (1.0 - offset - level)
    else:
        paper, ink_level = under + offset, under + offset + level
    frame = Frame(upload_size=(int(upload[0]), int(upload[1])), block=block, work_size=(w, h), box=frame_box,
                  inverted=inverted, paper=float(np.clip(paper, 0, 1)), ink=float(np.clip(ink_level, 0, 1)))
    return Steps(gray=gray.astype(np.float32), inverted=inverted, ink=ink, bbox=(top, left, bottom, right), cropped=cropped,
                 fitted=fitted, final=final, tensor=torch.from_numpy(final.copy())[None, None], frame=frame)
