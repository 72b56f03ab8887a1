"""A restricted Boltzmann machine (Bernoulli visible and hidden units), trained with persistent contrastive
divergence (Tieleman 2008), CD-k as an option, on binarized digits.

Energy ``E(v, h) = -b.v - c.h - v^T W h``; summing the hidden units out gives the free energy
``F(v) = -b.v - sum_j softplus(c_j + v.W_j)``, so ``p(v) = exp(-F(v)) / Z``. The log-likelihood's gradient is
``-dF(v_data) + E_model[dF(v)]``: the step minimises ``mean F(v_data) - mean F(v_model)`` with the model's digits
held fixed (no gradient through the sampler), where ``v_model`` are ``n_chains`` persistent Gibbs chains advanced
``k`` steps per batch (``persistent=False``: chains started at the batch, CD-k). The digits are binarized afresh
for every batch (a pixel is on with its grey level's probability).

``Z`` cannot be summed (2^500 hidden states); ``rep_models.ais`` estimates it by annealed importance sampling.
Verbs: ``free_energy(v)``, ``hidden_probs(v)``, ``visible_probs(h)``, ``gibbs(v, steps)``, ``sample(n, seed, steps)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Model, noise_generator, uniform_like


@dataclass
class RBMConfig:
    n_visible: int = 784
    n_hidden: int = 500
    k: int = 1  # Gibbs steps per batch
    persistent: bool = True  # PCD: chains kept between batches (False: CD-k, chains start at the batch)
    n_chains: int = 100  # persistent chains
    sample_steps: int = 1000  # Gibbs steps that sample() runs from its start
    weight_decay: float = 0.0  # L2 on W added to the loss (Hinton's guide: 1e-4 to 1e-2 x the lr helps the chains mix)


def _bernoulli(p: torch.Tensor) -> torch.Tensor:
    """Binary units on with probabilities ``p``, the noise from the model's noise source (``base.uniform_like``)."""
    return (uniform_like(p) < p).to(p.dtype)


class RBM(Model):
    """``(B, 1, 28, 28)`` digits in [0, 1] (binarized inside) <-> 500 binary hidden units."""

    Config = RBMConfig
    family = "rbm"
    train_defaults = {"epochs": 30, "lr": 1e-3, "batch_size": 100}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        self.W = nn.Parameter(torch.randn(c.n_visible, c.n_hidden) * 0.01)
        self.b = nn.Parameter(torch.zeros(c.n_visible))  # visible biases
        self.c = nn.Parameter(torch.zeros(c.n_hidden))  # hidden biases
        self.register_buffer("chains", torch.zeros(c.n_chains, c.n_visible))
        self.register_buffer("chains_started", torch.zeros((), dtype=torch.bool))

    # -- the verbs
    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``(B, 784)`` binary (or in [0, 1]) -> ``(B,)``: ``-b.v - sum_j softplus(c_j + v.W_j)``."""
        return -(v @ self.b) - F.softplus(v @ self.W + self.c).sum(1)

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        """``p(h_j = 1 | v)``: ``(B, 784) -> (B, 500)``."""
        return torch.sigmoid(v @ self.W + self.c)

    def visible_probs(self, h: torch.Tensor) -> torch.Tensor:
        """``p(v_i = 1 | h)``: ``(B, 500) -> (B, 784)``."""
        return torch.sigmoid(h @ self.W.t() + self.b)

    def gibbs(self, v: torch.Tensor, steps: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """``steps`` rounds of v -> h -> v from binary ``v (B, 784)``: the last binary ``v`` and its means."""
        p = v
        for _ in range(steps):
            h = _bernoulli(self.hidden_probs(v))
            p = self.visible_probs(h)
            v = _bernoulli(p)
        return v, p

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, steps: int | None = None) -> torch.Tensor:
        """``n`` digits ``(n, 1, 28, 28)`` in [0, 1] (the last step's means) after ``steps`` Gibbs steps from noise."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        with noise_generator(g):
            v = _bernoulli(torch.full((n, self.config.n_visible), 0.5, device=self.W.device))
            _, p = self.gibbs(v, steps or self.config.sample_steps)
        return p.reshape(n, 1, 28, 28)

    @torch.no_grad()
    def persistent_samples(self, n: int, seed: int | None = 0, steps: int | None = None) -> torch.Tensor:
        """``n`` digits ``(n, 1, 28, 28)`` (the last step's means) after ``steps`` more Gibbs steps of the persistent
        chains the training left (copied, cycled to ``n``): what the model draws once it has mixed."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        reps = -(-n // len(self.chains))
        with noise_generator(g):
            _, p = self.gibbs(self.chains.repeat(reps, 1)[:n].clone(), steps or self.config.sample_steps)
        return p.reshape(n, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The mean-field reconstruction ``(B, 1, 28, 28)`` of digits in [0, 1]."""
        return self.visible_probs(self.hidden_probs(x.flatten(1))).reshape(x.shape)

    # -- training
    def loss(self, batch) -> dict[str, torch.Tensor]:
        x, _ = batch
        v = _bernoulli(x.flatten(1))
        if self.training:
            with torch.no_grad():
                if self.config.persistent:
                    if not bool(self.chains_started):  # the chains start at data, then run on their own
                        self.chains.copy_(v[: self.config.n_chains].repeat(-(-self.config.n_chains // len(v)), 1)[: self.config.n_chains])
                        self.chains_started.fill_(True)
                    model_v, _ = self.gibbs(self.chains, self.config.k)
                    self.chains.copy_(model_v)
                else:
                    model_v, _ = self.gibbs(v, self.config.k)
        else:  # validation: a fixed-cost proxy that leaves the chains alone
            with torch.no_grad():
                model_v, _ = self.gibbs(v, 1)
        cd = self.free_energy(v).mean() - self.free_energy(model_v).mean()
        if self.config.weight_decay and self.training:
            cd = cd + 0.5 * self.config.weight_decay * (self.W ** 2).sum()
        with torch.no_grad():
            recon = F.binary_cross_entropy(self.forward(v.reshape(x.shape)).flatten(1), v, reduction="sum") / len(v)
        return {"loss": cd, "recon_bce": recon}

    # The chains are binary: stored as bits (``chains_bits``, 8 pixels a byte), 1,000 chains in 98 kB instead of 3 MB.
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "chains_bits"] = pack_bits(destination.pop(prefix + "chains"))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        if prefix + "chains_bits" in state_dict:
            state_dict = dict(state_dict)
            state_dict[prefix + "chains"] = unpack_bits(state_dict.pop(prefix + "chains_bits"), self.config.n_visible)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    def training_state(self) -> dict[str, torch.Tensor]:
        return {}  # the chains are buffers: saved with the state dict


_BITS = 2 ** torch.arange(7, -1, -1)  # 128, 64, ..., 1: the first pixel is a byte's highest bit


def pack_bits(v: torch.Tensor) -> torch.Tensor:
    """Binary ``(n, d)`` (values 0 or 1) -> ``(n, ceil(d / 8))`` uint8."""
    n, d = v.shape
    b = F.pad((v > 0.5).to(torch.uint8), (0, -d % 8)).reshape(n, -1, 8)
    return (b * _BITS.to(torch.uint8)).sum(2, dtype=torch.uint8)


def unpack_bits(packed: torch.Tensor, d: int) -> torch.Tensor:
    """:func:`pack_bits` undone: ``(n, ceil(d / 8))`` uint8 -> ``(n, d)`` float32 of 0 and 1."""
    bits = (packed.to(torch.int32)[:, :, None] // _BITS.to(torch.int32)) % 2
    return bits.reshape(len(packed), -1)[:, :d].float()
