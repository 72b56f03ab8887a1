"""Sparse autoencoder: a sigmoid code pushed toward a small mean activation rho by a KL penalty
(or an L1 penalty on the code)."""
from dataclasses import dataclass

import torch

from .base import Autoencoder, flatten, mlp, unflatten


@dataclass
class SparseAEConfig:
    latent_dim: int = 256
    hidden: int = 512
    rho: float = 0.05  # target mean activation of each code unit
    weight: float = 1.0  # penalty weight
    penalty: str = "kl"  # or "l1"


def kl_sparsity(code: torch.Tensor, rho: float) -> torch.Tensor:
    """Sum over units of KL(Bernoulli(rho) || Bernoulli(mean activation of the unit))."""
    q = code.mean(0).clamp(1e-6, 1 - 1e-6)
    return (rho * torch.log(rho / q) + (1 - rho) * torch.log((1 - rho) / (1 - q))).sum()


class SparseAE(Autoencoder):
    Config = SparseAEConfig
    train_defaults = {"epochs": 15, "lr": 1e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        if c.penalty not in ("kl", "l1"):
            raise ValueError(f"penalty must be 'kl' or 'l1', got {c.penalty!r}")
        self.encoder = mlp([784, c.hidden, c.latent_dim], last_act=torch.nn.Sigmoid())
        self.decoder = mlp([c.latent_dim, c.hidden, 784], last_act=torch.nn.Sigmoid())

    def encode(self, x):
        return self.encoder(flatten(x))

    def decode(self, z):
        return unflatten(self.decoder(z))

    def penalty(self, x, code):
        c = self.config
        if c.penalty == "kl":
            # Scaled per pixel like the MSE so the weight means the same across code sizes.
            return {"sparsity": c.weight * kl_sparsity(code, c.rho) / 784}
        return {"sparsity": c.weight * code.abs().sum(1).mean() / 784}
