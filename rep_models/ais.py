"""Annealed importance sampling (Neal 2001) of an RBM's partition function, as Salakhutdinov and Murray (2008)
measured their RBMs: the test log-likelihood an RBM gives binarized MNIST, in nats, with its error bar.

From a base-rate model A (no weights; visible biases ``b_A`` from the training digits' pixel means, so ``Z_A`` is
exact) to the RBM B through ``p_k(v) ~ p*_A(v)^(1-beta_k) p*_B(v)^beta_k``: with the hidden units summed out,
``log p*_k(v) = (1 - beta_k) b_A.v + beta_k b.v + sum_j softplus(beta_k (c_j + v.W_j))``. Each of ``runs``
chains starts from A and collects the importance weight ``sum_k [log p*_k(v_k) - log p*_(k-1)(v_k)]`` while one
Gibbs step at each ``beta_k`` moves it; ``log Z_B ~ log Z_A + log mean exp(w)``. The default schedule is theirs:
500 steps of beta to 0.5, 4,000 to 0.9, 10,000 to 1 (14,500 in all).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def schedule(steps: tuple[int, int, int] = (500, 4_000, 10_000)) -> torch.Tensor:
    """The betas ``(K + 1,)`` from 0 to 1: ``steps[0]`` up to 0.5, ``steps[1]`` to 0.9, ``steps[2]`` to 1."""
    a = torch.linspace(0, 0.5, steps[0] + 1, dtype=torch.float64)
    b = torch.linspace(0.5, 0.9, steps[1] + 1, dtype=torch.float64)[1:]
    c = torch.linspace(0.9, 1.0, steps[2] + 1, dtype=torch.float64)[1:]
    return torch.cat([a, b, c])


def base_rate_biases(train_binary: torch.Tensor, smoothing: float = 0.05) -> torch.Tensor:
    """``b_A (784,)``: the log-odds of each pixel being on in the training digits (smoothed away from 0 and 1)."""
    p = (train_binary.double().mean(0) * len(train_binary) + smoothing) / (len(train_binary) + 2 * smoothing)
    return torch.log(p) - torch.log1p(-p)


@dataclass
class AISResult:
    log_z: float  # the estimate of log Z_B
    log_z_low: float  # log (mean - 3 standard errors of the weights' mean), as Salakhutdinov and Murray report it
    log_z_high: float
    runs: int
    steps: int


@torch.no_grad()
def log_partition(rbm, b_a: torch.Tensor, runs: int = 100, betas: torch.Tensor | None = None,
                  generator: torch.Generator | None = None) -> AISResult:
    """AIS estimate of the RBM's ``log Z`` from the base-rate model with visible biases ``b_a (784,)``."""
    W, b, c = rbm.W.double(), rbm.b.double(), rbm.c.double()
    b_a = b_a.double().to(W.device)
    betas = schedule() if betas is None else betas.double()
    g = generator or torch.Generator().manual_seed(0)
    rand = lambda *shape: torch.rand(*shape, generator=g, dtype=torch.float64).to(W.device)
    n_v, n_h = W.shape

    def log_p(v, beta):  # log p*_beta(v), hidden units summed out: (runs,)
        return (1 - beta) * (v @ b_a) + beta * (v @ b) + F.softplus(beta * (v @ W + c)).sum(1)

    v = (rand(runs, n_v) < torch.sigmoid(b_a)).double()  # exact samples of the base-rate model
    w = torch.zeros(runs, dtype=torch.float64, device=W.device)
    for k in range(1, len(betas)):
        beta_prev, beta = float(betas[k - 1]), float(betas[k])
        w += log_p(v, beta) - log_p(v, beta_prev)
        h = (rand(runs, n_h) < torch.sigmoid(beta * (v @ W + c))).double()  # one Gibbs step that leaves p_k invariant
        v = (rand(runs, n_v) < torch.sigmoid((1 - beta) * b_a + beta * (h @ W.t() + b))).double()
    log_z_a = F.softplus(b_a).sum().item() + n_h * math.log(2)
    m = torch.logsumexp(w, 0) - math.log(runs)  # log mean exp(w)
    r = torch.exp(w - m)  # weights over their mean: mean 1
    se = float(r.std() / math.sqrt(runs))  # standard error of the mean, relative
    low = log_z_a + float(m) + (math.log(max(1 - 3 * se, 1e-12)))
    high = log_z_a + float(m) + math.log(1 + 3 * se)
    return AISResult(log_z_a + float(m), low, high, runs, len(betas) - 1)


@torch.no_grad()
def mean_log_likelihood(rbm, v: torch.Tensor, log_z: float, batch: int = 2_000) -> float:
    """The mean ``log p(v) = -F(v) - log Z`` of binary digits ``v (N, 784)``, nats."""
    total = 0.0
    for i in range(0, len(v), batch):
        total += float(-rbm.free_energy(v[i : i + batch].to(rbm.W.device)).double().sum())
    return total / len(v) - log_z


def binarize(x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Digits ``(N, 1, 28, 28)`` or ``(N, 784)`` in [0, 1] as fixed binary ``(N, 784)``: each pixel on with its grey
    level's probability, from ``seed`` (the same test set every time)."""
    x = x.reshape(len(x), -1).float()
    return (torch.rand(x.shape, generator=torch.Generator().manual_seed(seed)) < x).float()
