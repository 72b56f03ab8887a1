"""Watching a restricted Boltzmann machine (``rep_models.models.rbm``) "dream": Gibbs chains run step by step from
noise or from a digit, the learned filters as images, and the free energy as an anomaly score.

Images are ``(28, 28)`` float32 in [0, 1]; chains are binary ``(n, 784)`` float32. A chain's picture at a step is the
means ``p(v = 1 | h)`` of its last half-step (what the model "imagines"), its state the binary sample drawn from them.
Every random draw comes from a seeded generator, so the same seed gives the same dream.
"""
from __future__ import annotations

import numpy as np
import torch

from .models.base import noise_generator

STARTS = ("noise", "digit")


def _check(rbm) -> None:
    if not all(hasattr(rbm, a) for a in ("gibbs", "free_energy", "W")):
        raise ValueError(f"{type(rbm).__name__} is not a restricted Boltzmann machine (no gibbs / free_energy / W)")


@torch.no_grad()
def start_chains(rbm, n: int, seed: int, digit: np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
    """``n`` binary chains ``(n, 784)``: from noise (each pixel on with probability 0.5), or from ``digit``
    ``(28, 28)`` in [0, 1] (each pixel on with its grey level's probability, a different draw per chain)."""
    _check(rbm)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    g = torch.Generator().manual_seed(int(seed))
    if digit is None:
        p = torch.full((n, rbm.W.shape[0]), 0.5)
    else:
        d = torch.as_tensor(np.asarray(digit, dtype=np.float32)).reshape(-1)
        if d.numel() != rbm.W.shape[0]:
            raise ValueError(f"digit must have {rbm.W.shape[0]} pixels (28x28), got {d.numel()}")
        p = d.clamp(0, 1).expand(n, -1)
    return (torch.rand(p.shape, generator=g) < p).float()


@torch.no_grad()
def run_chains(rbm, v: torch.Tensor, frames: int, steps_per_frame: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """Advance chains ``v (n, 784)`` by ``frames * steps_per_frame`` Gibbs steps: the new state ``(n, 784)`` and the
    picture after every ``steps_per_frame`` steps, ``(frames, n, 28, 28)`` in [0, 1]."""
    _check(rbm)
    if frames < 1 or steps_per_frame < 1:
        raise ValueError(f"frames and steps_per_frame must be >= 1, got {frames} and {steps_per_frame}")
    v = v.to(rbm.W.device, torch.float32)
    out = []
    with noise_generator(torch.Generator(device=v.device).manual_seed(int(seed))):
        for _ in range(frames):
            v, p = rbm.gibbs(v, steps_per_frame)
            out.append(p.reshape(-1, 28, 28).cpu().numpy())
    return v.cpu(), np.stack(out).astype(np.float32)


@torch.no_grad()
def filters(rbm, n: int = 64) -> np.ndarray:
    """The ``n`` hidden units' weights with the largest norms, ``(n, 28, 28)`` in [0, 1]: each unit's 784 weights
    scaled by its largest absolute weight, 0.5 = zero (bright: the unit wants that pixel on, dark: off)."""
    _check(rbm)
    W = rbm.W.detach().float().cpu()  # (784, hidden)
    order = torch.argsort(W.norm(dim=0), descending=True)[: max(1, min(n, W.shape[1]))]
    w = W[:, order].t()  # (n, 784)
    w = 0.5 + 0.5 * w / w.abs().amax(1, keepdim=True).clamp_min(1e-12)
    return w.reshape(-1, 28, 28).numpy()


@torch.no_grad()
def free_energy(rbm, x: np.ndarray | torch.Tensor, batch: int = 2_000) -> np.ndarray:
    """The free energy ``F(x)`` ``(B,)`` of images ``(B, 28, 28)`` or ``(B, 1, 28, 28)`` in [0, 1] (grey levels taken
    as they are): ``p(x) ~ exp(-F(x))``, so a high free energy means "unlikely under the model"."""
    _check(rbm)
    x = torch.as_tensor(np.asarray(x, dtype=np.float32) if not isinstance(x, torch.Tensor) else x).float()
    x = x.reshape(len(x), -1)
    if x.shape[1] != rbm.W.shape[0]:
        raise ValueError(f"images must have {rbm.W.shape[0]} pixels (28x28), got {x.shape[1]}")
    out = [rbm.free_energy(x[i : i + batch].to(rbm.W.device)).cpu() for i in range(0, len(x), batch)]
    return torch.cat(out).numpy().astype(np.float64)
