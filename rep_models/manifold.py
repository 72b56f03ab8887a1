"""The 2-D VAE's manifold: its decoder over a grid of codes at the prior's quantiles (Kingma & Welling's
figure), and the mapping between a pixel of that picture and the code under it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .codes import decode_at, latent_dim


@dataclass
class Manifold:
    """A 2-D VAE's decoder output over a grid of codes at the prior's quantiles.

    Column ``c`` has ``z[0] = values[c]``; row ``r`` has ``z[1] = values[n - 1 - r]`` (up is +z[1]).
    Pixel coordinates are those of ``image``: x to the right, y down, 28 pixels per cell.
    """

    image: np.ndarray  # (n*28, n*28) float32
    values: np.ndarray  # (n,) the code value of each column (and row, bottom to top)
    n: int
    lo: float  # the prior quantiles of the first and last cells' centres
    hi: float


def manifold_grid(model, n: int = 15, lo: float = 0.03, hi: float = 0.97) -> Manifold:
    """Decode an ``n x n`` grid of 2-D codes at prior quantiles ``lo..hi`` into one image (Kingma & Welling's figure)."""
    if latent_dim(model) != 2:
        raise ValueError(f"the manifold grid needs a 2-D latent space, this model has {latent_dim(model)}")
    if n < 2 or not 0 < lo < hi < 1:
        raise ValueError(f"need n >= 2 and 0 < lo < hi < 1, got n={n}, lo={lo}, hi={hi}")
    values = norm.ppf(np.linspace(lo, hi, n)).astype(np.float32)
    zx, zy = np.meshgrid(values, values[::-1])  # row 0 at the top = the largest z[1]
    imgs = decode_at(model, np.stack([zx.ravel(), zy.ravel()], 1))
    image = imgs.reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    return Manifold(image, values, n, lo, hi)


def _cell_to_z(m: Manifold, u: np.ndarray) -> np.ndarray:
    q = m.lo + (m.hi - m.lo) * np.asarray(u, dtype=np.float64) / (m.n - 1)
    return norm.ppf(np.clip(q, 1e-6, 1 - 1e-6))


def _z_to_cell(m: Manifold, z: np.ndarray) -> np.ndarray:
    return (norm.cdf(np.asarray(z, dtype=np.float64)) - m.lo) / (m.hi - m.lo) * (m.n - 1)


def manifold_to_z(m: Manifold, px: float, py: float) -> np.ndarray:
    """The code ``(2,)`` under pixel ``(px, py)`` of ``m.image`` (continuous: between cell centres too)."""
    ux = px / 28.0 - 0.5
    uy = (m.n - 1) - (py / 28.0 - 0.5)
    return _cell_to_z(m, np.array([ux, uy])).astype(np.float32)


def manifold_lattice(m: Manifold) -> tuple[np.ndarray, np.ndarray]:
    """The clickable points of the map (the cell centres and the half-cells between them): pixel positions
    ``(P, 2)`` on ``m.image`` and the codes under them ``(P, 2)``, P = (2n - 1)²."""
    size = m.image.shape[0]
    u = np.linspace(14, size - 14, 2 * m.n - 1)
    gx, gy = np.meshgrid(u, u)
    pixels = np.stack([gx.ravel(), gy.ravel()], 1)
    return pixels, np.array([manifold_to_z(m, px, py) for px, py in pixels])


def manifold_positions(m: Manifold, codes: np.ndarray) -> np.ndarray:
    """Where codes ``(N, 2)`` fall on ``m.image``: pixels ``(N, 2)``."""
    return np.array([z_to_manifold(m, c) for c in np.asarray(codes)]).reshape(-1, 2)


def z_to_manifold(m: Manifold, z) -> tuple[float, float]:
    """Where a code ``(2,)`` falls on ``m.image``, in pixels ``(px, py)`` (may be outside for extreme codes)."""
    ux, uy = _z_to_cell(m, np.asarray(z, dtype=np.float64).reshape(2))
    return float(28.0 * (ux + 0.5)), float(28.0 * ((m.n - 1 - uy) + 0.5))
