"""Linear autoencoder: one linear encoder and decoder, no activation. Its decoder spans the PCA subspace."""
from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import Autoencoder, flatten, unflatten


@dataclass
class LinearAEConfig:
    latent_dim: int = 32


class LinearAE(Autoencoder):
    Config = LinearAEConfig
    train_defaults = {"epochs": 30, "lr": 2e-3, "batch_size": 256}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        self.encoder = nn.Linear(784, self.config.latent_dim)
        self.decoder = nn.Linear(self.config.latent_dim, 784)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(flatten(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        # No sigmoid: the optimum of a linear AE is the PCA projection, which can leave [0, 1].
        return unflatten(self.decoder(z))
