"""Sampling a generator: repeatable samples, a smooth endless latent walk decoded frame by frame, and
what a classifier makes of the samples (the class histogram, mode collapse in numbers).

Images are ``(B, 28, 28)`` float32 in [0, 1]; latents ``(n, z_dim)``.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import metrics
from .codes import decode_at, latent_dim
from .images import tile
from .models.base import seeded_normal
from .paths import slerp


def gan_samples(model, n: int, seed: int, truncation: float | None = None, digit: int | None = None) -> np.ndarray:
    """``n`` samples ``(n, 28, 28)`` of a GAN, repeatable for ``seed``. ``truncation`` t > 0 redraws latent values
    beyond ±t (fewer odd samples, less variety); ``digit`` for the conditional GAN (default: rows cycle 0..9)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    t = truncation if truncation and truncation > 0 else None
    return model.sample(n, seed=int(seed), truncation=t, digit=digit).float().clamp(0, 1).cpu().numpy()[:, 0]


def _circle(z_dim: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two orthogonal vectors per walker ``(n, d)`` of the same (typical) norm: the plane of its great circle."""
    a = seeded_normal((n, z_dim), seed).double().numpy()
    b = seeded_normal((n, z_dim), seed + 7919).double().numpy()
    b -= (np.sum(a * b, 1) / np.sum(a * a, 1))[:, None] * a
    b *= (np.linalg.norm(a, axis=1) / np.maximum(np.linalg.norm(b, axis=1), 1e-12))[:, None]
    return a, b


def walk_latents(z_dim: int, frame: int, n: int = 1, seed: int = 0, period: int = 120, method: str = "circle") -> np.ndarray:
    """The codes ``(n, z_dim)`` of ``n`` walkers at ``frame`` of a smooth, endless latent walk.

    ``circle``: each walker goes round a great circle through random Gaussian points (``period`` frames per
    turn): smooth, periodic, and always at the typical norm. ``random``: slerp between successive random
    points, ``period // 4`` frames per leg. Stateless (a function of the frame), so an animation can resume.
    """
    if z_dim < 1 or n < 1 or period < 4:
        raise ValueError(f"need z_dim >= 1, n >= 1, period >= 4; got {z_dim}, {n}, {period}")
    if method == "circle":
        a, b = _circle(z_dim, n, seed)
        theta = 2 * math.pi * (frame % period) / period
        return (math.cos(theta) * a + math.sin(theta) * b).astype(np.float32)
    if method == "random":
        leg_len = max(2, period // 4)
        leg, t = divmod(frame, leg_len)
        start = seeded_normal((n, z_dim), seed * 100_003 + leg).numpy()
        end = seeded_normal((n, z_dim), seed * 100_003 + leg + 1).numpy()
        return np.stack([slerp(start[i], end[i], t / leg_len) for i in range(n)]).astype(np.float32)
    raise ValueError(f"method must be 'circle' or 'random', got {method!r}")


def walk_frames(model, start: int, n_frames: int, walkers: int = 1, seed: int = 0, period: int = 120,
                method: str = "circle") -> np.ndarray:
    """Frames ``start … start + n_frames - 1`` of the latent walk (:func:`walk_latents`) of a generator or
    decoder, decoded in one batch: ``(n_frames, H, W)``, each frame the walkers' images tiled (:func:`tile`).
    A conditional model draws walker ``i`` as digit ``i % 10``."""
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    z = np.concatenate([walk_latents(latent_dim(model), f, walkers, seed, period, method) for f in range(start, start + n_frames)])
    y = np.tile(np.arange(walkers) % 10, n_frames) if getattr(model, "conditional", False) else None
    images = decode_at(model, z, y=y).reshape(n_frames, walkers, 28, 28)
    return np.stack([tile(frame) for frame in images])


def class_histogram(classifier, images, batch_size: int = 1000) -> tuple[np.ndarray, float]:
    """How many ``images (B, 28, 28)`` the classifier calls each digit: counts ``(10,)`` and mean confidence."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    x = x[:, None] if x.dim() == 3 else x
    probs = metrics.predict_proba(classifier, x, batch_size)
    return np.bincount(probs.argmax(1).numpy(), minlength=10), metrics.class_histogram(probs)["mean_top_prob"]


def mode_summary(counts) -> dict[str, float]:
    """Mode collapse in numbers: entropy of the class histogram (bits; 3.32 = all ten equally), digits with at
    least 2 % of the samples, and the share of the most common digit."""
    c = np.asarray(counts, dtype=np.float64)
    if c.sum() <= 0:
        raise ValueError("counts are all zero")
    p = c / c.sum()
    nz = p[p > 0]
    return {"entropy_bits": float(abs((nz * np.log2(nz)).sum())), "digits_covered": int((p >= 0.02).sum()), "top_share": float(p.max())}
