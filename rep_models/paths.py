"""Paths through a latent space: straight and spherical interpolation between two codes, and the traversal
of single latent units (the classic β-VAE figure).

Codes are ``(d,)``; a path is ``(T, d)``; decoded images ``(..., 28, 28)`` in [0, 1].
"""
from __future__ import annotations

import math

import numpy as np

from .codes import decode_at


def lerp(z0, z1, t) -> np.ndarray:
    """Straight line from ``z0`` to ``z1`` (d,) at ``t`` (scalar -> (d,), array (T,) -> (T, d))."""
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    out = z0 + np.multiply.outer(t, z1 - z0)
    return out.astype(np.float32)


def slerp(z0, z1, t) -> np.ndarray:
    """Spherical interpolation: along the great circle, the norm changes smoothly between the endpoints'.

    Why: Gaussian codes live near a sphere of radius sqrt(d); a straight line cuts through its (unlikely)
    inside, so the midpoints of ``lerp`` decode to faded, average-looking digits.
    """
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-8 or n1 < 1e-8:
        return lerp(z0, z1, t)
    omega = math.acos(float(np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0)))
    if math.sin(omega) < 1e-6:  # (anti)parallel: any great circle would do; the line is the honest answer
        return lerp(z0, z1, t)
    t = np.asarray(t, dtype=np.float64)
    w0, w1 = np.sin((1 - t) * omega) / math.sin(omega), np.sin(t * omega) / math.sin(omega)
    return (np.multiply.outer(w0, z0) + np.multiply.outer(w1, z1)).astype(np.float32)


def interpolate(z0, z1, steps: int = 9, method: str = "linear") -> np.ndarray:
    """``steps`` codes ``(steps, d)`` from ``z0`` to ``z1`` (both included); ``method`` linear or spherical."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    t = np.linspace(0.0, 1.0, steps)
    if method == "linear":
        return lerp(z0, z1, t)
    if method == "spherical":
        return slerp(z0, z1, t)
    raise ValueError(f"method must be 'linear' or 'spherical', got {method!r}")


def traversal(model, z0, dims, span: float = 3.0, steps: int = 9, y=None) -> np.ndarray:
    """Set each unit in ``dims`` to ``steps`` values in [-span, span] (prior units), the rest at ``z0``:
    images ``(len(dims), steps, 28, 28)``. The classic β-VAE figure: one row per unit."""
    z0 = np.asarray(z0, dtype=np.float32)
    values = np.linspace(-span, span, steps, dtype=np.float32)
    dims = [int(d) for d in dims]
    z = np.repeat(z0[None], len(dims) * steps, 0).reshape(len(dims), steps, -1)
    for r, d in enumerate(dims):
        z[r, :, d] = values
    imgs = decode_at(model, z.reshape(len(dims) * steps, -1), y)
    return imgs.reshape(len(dims), steps, 28, 28)
