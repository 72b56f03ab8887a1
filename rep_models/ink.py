"""Measurements of the ink on a grayscale picture, (H, W) float in [0, 1], that both ways of framing it as an
MNIST digit share (``rep_models.preprocess``, ``rep_models.noisy_framing``): resampling, the smooth background
under the ink, and the ink's centre of mass.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

MIN_CONTRAST = 0.08  # ink must differ from the background by this much (of the full 0..1 range)


def resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Float image (H, W) -> ``size`` = (width, height); area-averaging when shrinking (MNIST's anti-aliasing)."""
    h, w = a.shape
    shrink = size[0] <= w and size[1] <= h
    img = Image.fromarray(a.astype(np.float32), "F")
    return np.asarray(img.resize(size, Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR), dtype=np.float32)


def background_surface(a: np.ndarray, tiles: int = 8, q: float = 25.0) -> np.ndarray:
    """A smooth background estimate (H, W) of bright-ink image ``a``.

    Each tile of a ``tiles`` x ``tiles`` grid gives its ``q``-th percentile (background, as long as ink covers
    less than 1 - q/100 of the tile), then a quadratic surface is fitted to those values, twice, the second
    time without the tiles that sit far above it (mostly ink). Smooth lighting gradients across a photo are
    removed everywhere, corners included; a flat background gives a flat surface.
    """
    h, w = a.shape
    tiles = min(tiles, min(h, w) // 8)
    if tiles < 3:
        return np.full_like(a, np.percentile(a, q))
    th, tw = h // tiles, w // tiles  # equal tiles (a few edge pixels left out), one vectorised percentile
    blocks = a[: th * tiles, : tw * tiles].reshape(tiles, th, tiles, tw).transpose(0, 2, 1, 3).reshape(tiles, tiles, -1)
    grid = np.percentile(blocks, q, axis=2)
    cy = ((np.arange(tiles) + 0.5) * th - 0.5) / max(h - 1, 1) * 2 - 1  # tile centres in [-1, 1]
    cx = ((np.arange(tiles) + 0.5) * tw - 0.5) / max(w - 1, 1) * 2 - 1
    gy, gx = np.meshgrid(cy, cx, indexing="ij")
    design = np.stack([np.ones_like(gy), gx, gy, gx * gx, gx * gy, gy * gy], -1).reshape(-1, 6)
    values = grid.ravel()
    keep = np.ones(len(values), bool)
    for _ in range(2):
        coef = np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]
        resid = values - design @ coef
        spread = 1.4826 * np.median(np.abs(resid[keep] - np.median(resid[keep]))) + 1e-3
        keep = resid <= 2.5 * spread  # tiles far above the surface hold ink, not background
        if keep.sum() < 6:
            break
    y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    c = coef.astype(np.float32)
    return c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * x * y + c[5] * y * y


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    """(row, col) of the intensity-weighted mean position of ``a``; the centre of the array if it is all zero."""
    total = float(a.sum())
    if total <= 0:
        return (a.shape[0] - 1) / 2, (a.shape[1] - 1) / 2
    rows, cols = np.indices(a.shape)
    return float((rows * a).sum() / total), float((cols * a).sum() / total)
