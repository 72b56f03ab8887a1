"""The one PCA of the project, with deterministic signs: the Linear AE page's components, the evaluation's
PCA(32) baseline and principal angles, the latent map's PCA and map space, the VAE page's principal
directions, the few-label spreading's reduction and the SdA's label-spreading features all come from
:func:`fit`.

An eigenvector is only defined up to its sign, and which sign LAPACK returns can change with the library,
the thread count or the order of the rows. Here each component is flipped so that its largest-magnitude
loading is positive (scikit-learn's ``svd_flip(..., u_based_decision=False)``, the convention of its
``PCA``): the same data give the same components, so shipped files, pages and tests agree on them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CHUNK = 8192  # rows per block of the covariance product: bounded memory for 55,000 x 784 float64


@dataclass(frozen=True)
class PCA:
    """A fitted PCA: ``transform`` maps rows ``(N, D)`` to ``(N, k)`` and ``reconstruct`` back to ``(N, D)``."""

    mean: np.ndarray  # (D,) float64
    components: np.ndarray  # (k, D) orthonormal rows by decreasing variance, largest-|loading| entry positive
    eigenvalues: np.ndarray  # (k,) the data's variance (ddof 1) along each component, decreasing, >= 0

    def transform(self, x, k: int | None = None) -> np.ndarray:
        """Rows ``(N, D)`` (or images ``(N, ...)``) -> their coordinates ``(N, k)`` on the top ``k`` components."""
        comps = self.components[: len(self.components) if k is None else int(k)]
        return (_rows(x) - self.mean) @ comps.T

    def reconstruct(self, x, k: int | None = None) -> np.ndarray:
        """Rows ``(N, D)`` projected onto the top ``k`` components and back: ``(N, D)`` (no clipping)."""
        comps = self.components[: len(self.components) if k is None else int(k)]
        return self.mean + ((_rows(x) - self.mean) @ comps.T) @ comps


def _rows(x) -> np.ndarray:
    a = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return a.reshape(len(a), -1).astype(np.float64, copy=False)


def flip_signs(components: np.ndarray) -> np.ndarray:
    """``components (k, D)`` with each row negated where needed so that its largest-|value| entry is positive
    (the first such entry on a tie)."""
    c = np.asarray(components, dtype=np.float64)
    if c.size == 0:
        return c.copy()
    signs = np.sign(c[np.arange(len(c)), np.argmax(np.abs(c), axis=1)])
    signs[signs == 0] = 1.0  # an all-zero row stays as it is
    return c * signs[:, None]


def fit(x, k: int | None = None) -> PCA:
    """PCA of ``x``: rows ``(N, D)`` or images ``(N, ...)`` (numpy or torch), flattened to ``(N, D)``.

    Keeps the top ``k`` components (default all ``D``). Exact, in float64: the eigendecomposition of the
    ``(D, D)`` covariance, cheaper than an SVD of the data for the ``N >> D`` sets here (digits, codes) and
    the method scikit-learn's ``PCA`` picks for them (``covariance_eigh``).
    """
    a = _rows(x)
    n, d = a.shape
    if n < 2:
        raise ValueError(f"need at least 2 rows of data, got shape {a.shape}")
    k = d if k is None else int(k)
    if not 1 <= k <= d:
        raise ValueError(f"k must be between 1 and {d}, got {k}")
    mean = a.mean(0)
    cov = np.zeros((d, d))
    for i in range(0, n, _CHUNK):  # centred blocks, summed in a fixed order
        c = a[i : i + _CHUNK] - mean
        cov += c.T @ c
    from scipy.linalg import eigh  # here: importing this module stays cheap

    # Only the top k eigenpairs (LAPACK's evr driver): 50 of 784 took half the time of all 784 here.
    w, v = eigh(cov / (n - 1), subset_by_index=(d - k, d - 1))
    order = np.argsort(w, kind="stable")[::-1]
    return PCA(mean, flip_signs(v[:, order].T), np.clip(w[order], 0, None))
