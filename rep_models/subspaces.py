"""A linear autoencoder against PCA: both rebuild a digit from a k-dimensional code; the linear AE's
decoder spans (about) the top-k PCA subspace in another basis. Reconstructions by each, their errors against
the code size, principal angles between the subspaces, and projections onto a subspace.

Images are ``(N, 1, 28, 28)`` tensors; bases ``(D, k)`` with D = 784.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .codes import device_of
from .metrics import principal_angles_deg
from .models import build
from .pca import PCA
from .training import fit


@dataclass
class TwoReconstructions:
    """One digit rebuilt by PCA and by the linear AE (both unclipped, so their errors compare)."""

    original: np.ndarray  # (28, 28)
    pca: np.ndarray  # (28, 28)
    linear_ae: np.ndarray  # (28, 28)
    pca_mse: float
    linear_ae_mse: float


def pca_vs_linear_ae(pca: PCA, k: int, model, x: torch.Tensor) -> TwoReconstructions:
    """Image ``x (1, 1, 28, 28)`` through the top ``k`` components of ``pca`` and through ``model.decode(model.encode(x))``."""
    flat = x.reshape(-1).float().cpu().numpy()
    r_pca = pca.reconstruct(flat[None], k)[0]
    with torch.inference_mode():
        r_ae = model.decode(model.encode(x.to(device_of(model)))).float().cpu().numpy().reshape(-1)
    mse = lambda r: float(np.mean((r - flat) ** 2))  # noqa: E731
    return TwoReconstructions(flat.reshape(28, 28), r_pca.reshape(28, 28), r_ae.reshape(28, 28), mse(r_pca), mse(r_ae))


def pca_mse(eigenvalues, ks) -> np.ndarray:
    """Mean squared error per pixel of the best k-dimensional linear reconstruction, for each k in ``ks``:
    the variance left in the discarded components, ``sum(eigenvalues[k:]) / D``."""
    w = np.asarray(eigenvalues, dtype=np.float64)
    tail = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])
    return np.array([tail[min(int(k), len(w))] for k in ks]) / len(w)


@torch.inference_mode()
def linear_mse(model, x: torch.Tensor, batch_size: int = 2000) -> float:
    """Mean squared error per pixel of ``decode(encode(x))`` without clipping (comparable with :func:`pca_mse`)."""
    dev = device_of(model)
    total = 0.0
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(dev)
        total += float(((model.decode(model.encode(xb)) - xb) ** 2).sum())
    return total / (len(x) * 784)


def _orthonormal(a: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(np.asarray(a, dtype=np.float64))
    return q


def principal_angles(a, b) -> np.ndarray:
    """Principal angles in degrees (ascending) between the column spaces of ``a (D, k)`` and ``b (D, m)``.
    All near 0: the two span the same subspace. (``rep_models.metrics.principal_angles_deg``.)"""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"need (D, k) and (D, m) matrices with the same D, got {a.shape} and {b.shape}")
    return principal_angles_deg(a, b)


def project_onto(basis, vectors) -> np.ndarray:
    """Each row of ``vectors (m, D)`` projected onto the column space of ``basis (D, k)``: ``(m, D)``."""
    q = _orthonormal(basis)
    v = np.asarray(vectors, dtype=np.float64)
    return (v @ q) @ q.T


def decoder_basis(linear_ae) -> np.ndarray:
    """The linear AE's decoder weights ``(D, k)``: column j is what code unit j adds to the output."""
    return linear_ae.decoder.weight.detach().float().cpu().numpy()


def decoder_columns(linear_ae) -> np.ndarray:
    """The linear AE's decoder weights as images ``(k, 28, 28)``: what each code unit adds to the output."""
    return decoder_basis(linear_ae).T.reshape(-1, 28, 28)


def linear_ae_curve(x: torch.Tensor, sizes, epochs: int = 5, seed: int = 0, lr: float = 3e-3, x_eval: torch.Tensor | None = None,
                    on_size=None) -> dict[int, float]:
    """Train a fresh linear AE for each code size on ``x (N,1,28,28)``; returns ``{size: MSE per pixel on x_eval}``
    (default ``x``). ``on_size(i, size)`` is called before each one (progress)."""
    out = {}
    for i, k in enumerate(sizes):
        if on_size is not None:
            on_size(i, k)
        model = build("linear_ae", latent_dim=int(k))
        fit(model, x, torch.zeros(len(x), dtype=torch.long), epochs=epochs, batch_size=256, lr=lr, seed=seed)
        out[int(k)] = linear_mse(model, x if x_eval is None else x_eval)
    return out
