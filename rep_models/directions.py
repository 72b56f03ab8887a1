"""Directions to move a code along in a VAE's latent space: the raw axes, the principal directions of the
codes (``rep_models.pca``), the mean codes of the digits and the direction from one digit to another.

Codes are ``(N, d)`` arrays; a direction is a ``(d,)`` vector.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import pca


@dataclass
class Directions:
    """Directions to move a code along: ``z = z0 + sum_i a_i * scales[i] * vectors[i]`` (see :func:`move`)."""

    vectors: np.ndarray  # (k, d) unit vectors
    scales: np.ndarray  # (k,) one slider unit: the codes' std along the direction (or the prior's, 1)
    names: list[str]
    spread: np.ndarray  # (k,) std of the test codes along each direction (small = an unused direction)
    explained: np.ndarray | None = None  # (k,) fraction of the codes' variance (principal directions)


def _check_codes(codes) -> np.ndarray:
    c = np.asarray(codes, dtype=np.float64)
    if c.ndim != 2 or len(c) < 2:
        raise ValueError(f"codes must be (N, d) with N >= 2, got shape {c.shape}")
    return c


def axis_directions(codes, k: int | None = None) -> Directions:
    """The raw latent axes, the most used first (largest spread of the posterior means).

    One slider unit is the prior's standard deviation (1), so ±3 spans the prior. An axis whose codes
    barely move (spread near 0) was switched off by the KL term: moving it changes (almost) nothing.
    """
    c = _check_codes(codes)
    std = c.std(0)
    order = np.argsort(-std)[: k or c.shape[1]]
    eye = np.eye(c.shape[1])
    return Directions(eye[order], np.ones(len(order)), [f"z[{i}]" for i in order], std[order])



def principal_directions(codes, k: int | None = None) -> Directions:
    """PCA of the codes ``(N, d)``: the top ``k`` directions, each scaled by its std (slider ±3 = ±3 sd)."""
    p = pca.fit(_check_codes(codes))
    var = p.eigenvalues
    k = min(k or len(var), len(var))
    std = np.sqrt(var[:k])
    return Directions(p.components[:k], std, [f"PC {i + 1}" for i in range(k)], std, var[:k] / max(var.sum(), 1e-12))


def class_means(codes, labels, n_classes: int = 10) -> np.ndarray:
    """The mean code of each digit, ``(n_classes, d)``."""
    c = _check_codes(codes)
    y = np.asarray(labels).reshape(-1)
    if len(y) != len(c):
        raise ValueError(f"codes and labels differ in length: {len(c)} vs {len(y)}")
    missing = [k for k in range(n_classes) if not (y == k).any()]
    if missing:
        raise ValueError(f"no codes for digits {missing}")
    return np.stack([c[y == k].mean(0) for k in range(n_classes)])


def class_direction(codes, labels, a: int, b: int) -> np.ndarray:
    """Mean code of digit ``b`` minus mean code of digit ``a``, ``(d,)``: adding it morphs an ``a`` into a ``b``."""
    for v in (a, b):
        if not 0 <= int(v) <= 9:
            raise ValueError(f"digits must be in 0..9, got {v}")
    means = class_means(codes, labels)
    return means[int(b)] - means[int(a)]


def move(z0, directions: Directions, amounts) -> np.ndarray:
    """``z0 (d,)`` moved by ``amounts (k,)`` slider units along ``directions``; returns ``(d,)`` float32."""
    a = np.asarray(amounts, dtype=np.float64).reshape(-1)
    if len(a) > len(directions.vectors):
        raise ValueError(f"{len(a)} amounts for {len(directions.vectors)} directions")
    step = (a * directions.scales[: len(a)]) @ directions.vectors[: len(a)]
    return (np.asarray(z0, dtype=np.float64) + step).astype(np.float32)



def active_dims(codes, k: int) -> np.ndarray:
    """Indices of the ``k`` latent units whose posterior means vary most over the data (the used ones)."""
    c = _check_codes(codes)
    return np.argsort(-c.var(0))[:k]
