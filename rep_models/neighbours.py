"""The latent map's inspector: a picked digit's nearest neighbours in the code space (not on the 2-D map, whose
distances t-SNE and UMAP do not keep). No Streamlit: tested as it is (tests/test_neighbours.py)."""
from __future__ import annotations

import numpy as np

METRICS = ("euclidean", "cosine")


def nearest(codes, i: int, k: int = 8, metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``codes (N, d)`` nearest to row ``i`` (itself left out), nearest first, and their distances:
    euclidean, or cosine (1 − cosine similarity; a zero code is at distance 1 from everything)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")
    c = np.asarray(codes, dtype=np.float64)
    if not 0 <= i < len(c):
        raise IndexError(f"row {i} of {len(c)}")
    k = max(0, min(int(k), len(c) - 1))
    if metric == "cosine":
        norms = np.linalg.norm(c, axis=1)
        d = 1.0 - (c @ c[i]) / np.where(norms * norms[i] > 0, norms * norms[i], np.inf)
    else:
        d = np.sqrt(np.maximum(((c - c[i]) ** 2).sum(1), 0.0))
    d[i] = np.inf  # not its own neighbour
    order = np.argpartition(d, k)[:k] if k < len(c) - 1 else np.arange(len(c))
    order = order[np.argsort(d[order], kind="stable")][:k]
    return order, d[order]
