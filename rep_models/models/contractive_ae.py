"""Contractive autoencoder: penalises the Frobenius norm of the encoder's Jacobian dh/dx, so the code
changes little along directions the data do not vary in. One sigmoid encoder layer gives it in closed form:
||J||_F^2 = sum_j (h_j (1 - h_j))^2 * ||W_j||^2."""
from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import Autoencoder, flatten, mlp, unflatten


@dataclass
class ContractiveAEConfig:
    latent_dim: int = 128
    hidden: int = 512  # decoder hidden layer
    lam: float = 1e-2  # penalty weight; 0 gives the unpenalised AE of the same shape


class ContractiveAE(Autoencoder):
    Config = ContractiveAEConfig
    train_defaults = {"epochs": 15, "lr": 1e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        self.encoder = nn.Linear(784, c.latent_dim)
        self.decoder = mlp([c.latent_dim, c.hidden, 784], last_act=nn.Sigmoid())

    def encode(self, x):
        return torch.sigmoid(self.encoder(flatten(x)))

    def decode(self, z):
        return unflatten(self.decoder(z))

    def jacobian_norm_sq(self, code: torch.Tensor) -> torch.Tensor:
        """Squared Frobenius norm of dcode/dx per image ``(B,)``, in closed form."""
        w_sq = (self.encoder.weight**2).sum(1)  # (latent,)
        return ((code * (1 - code)) ** 2 * w_sq).sum(1)

    def penalty(self, x, code):
        if self.config.lam == 0:
            return {}
        return {"contractive": self.config.lam * self.jacobian_norm_sq(code).mean()}
