"""Anomaly scores from reconstruction error, the Draw page's verdict on one digit, and the AUROC that
measures how well the scores separate.

An autoencoder trained on digits reconstructs digits well and anything else badly, so the per-image
reconstruction error is an anomaly score: high means "this does not look like the training data".
:func:`anomaly_score` says where one error falls among the MNIST test digits' (:func:`reference_errors`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import catalogue

# The reference for the anomaly score: its role in the catalogue.
ANOMALY_MODEL = catalogue.the("anomaly_reference")
UNUSUAL_PERCENTILE = 95.0
NOT_A_DIGIT_PERCENTILE = 99.5


def _reconstruct(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    # Every autoencoder / VAE / denoising AE here has ``reconstruct``; fall back to ``forward``.
    if hasattr(model, "reconstruct"):
        return model.reconstruct(x)
    return model(x)


@torch.inference_mode()
def reconstruction_error(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Per-image mean squared error between ``x`` and its reconstruction.

    x: ``(B, 1, 28, 28)`` floats in [0, 1] (or ``(1, 28, 28)`` / ``(28, 28)`` for one image).
    Returns ``(B,)`` float32 on the CPU.
    """
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(f"x must have shape (B, 1, 28, 28), got {tuple(x.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(device)
        rec = _reconstruct(model, xb).clamp(0, 1)
        out.append(((rec - xb) ** 2).flatten(1).mean(1).float().cpu())
    return torch.cat(out) if out else torch.zeros(0)


def auroc(normal_scores, anomalous_scores) -> float:
    """Area under the ROC curve for "higher score = anomalous".

    normal_scores: ``(N,)``, anomalous_scores: ``(M,)`` (arrays or tensors). Equals the probability that a
    random anomalous score exceeds a random normal one (ties count half): 1.0 perfect, 0.5 chance.
    """
    a = np.asarray(normal_scores, dtype=np.float64).ravel()
    b = np.asarray(anomalous_scores, dtype=np.float64).ravel()
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"need at least one score in each group, got {len(a)} normal and {len(b)} anomalous")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("scores must be finite (got NaN or inf)")
    # Mann-Whitney U via average ranks: O((N+M) log(N+M)), handles ties.
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([a, b]))
    u = ranks[len(a) :].sum() - len(b) * (len(b) + 1) / 2
    return float(u / (len(a) * len(b)))


def reference_errors(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Per-image reconstruction MSE ``(N,)`` of ``model`` on ``x`` (N, 1, 28, 28), sorted ascending."""
    return np.sort(reconstruction_error(model, x, batch_size).numpy())


@dataclass
class Anomaly:
    error: float
    percentile: float  # % of the reference errors that are <= error
    verdict: str  # "digit", "unusual" or "not a digit"
    message: str


def _verdict(value: float, reference: np.ndarray, what: str) -> tuple[float, str]:
    """Where ``value`` falls among the sorted ``reference`` (% of them <= it) and the verdict it gives."""
    if len(reference) == 0:
        raise ValueError(f"reference {what} are empty; expected the per-image {what} of a test set")
    pct = 100.0 * np.searchsorted(reference, value, side="right") / len(reference)
    return float(pct), "not a digit" if pct >= NOT_A_DIGIT_PERCENTILE else "unusual" if pct >= UNUSUAL_PERCENTILE else "digit"


def anomaly_score(error: float, reference: np.ndarray) -> Anomaly:
    """Where ``error`` falls among the sorted ``reference`` errors, and what that means in plain words."""
    pct, verdict = _verdict(error, reference, "errors")
    msg = {"not a digit": "This does not look like a digit: the autoencoder reconstructs it worse than almost every MNIST test digit.",
           "unusual": "This is an unusual digit: the autoencoder reconstructs it worse than most MNIST test digits.",
           "digit": "This looks like an ordinary digit to the autoencoder."}[verdict]
    return Anomaly(float(error), pct, verdict, f"{msg} Its error is higher than {pct:.1f}% of the 10,000 MNIST test digits.")


def free_energy_score(energy: float, reference: np.ndarray) -> Anomaly:
    """An RBM's anomaly score: where free energy ``energy`` falls among the sorted ``reference`` free energies of test
    digits (``rep_models.gibbs.free_energy``; higher = less likely under the model), in plain words."""
    pct, verdict = _verdict(energy, reference, "free energies")
    msg = {"not a digit": "The RBM finds this very unlikely: its free energy is higher than almost every MNIST test digit's.",
           "unusual": "The RBM finds this unusual: its free energy is higher than most MNIST test digits'.",
           "digit": "The RBM finds this as likely as an ordinary digit."}[verdict]
    return Anomaly(float(energy), pct, verdict, f"{msg} Higher than {pct:.1f}% of the MNIST test digits'.")
