"""Convolutional autoencoder: strided convolutions down to a code, transposed convolutions back."""
from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import Autoencoder


@dataclass
class ConvAEConfig:
    latent_dim: int = 32
    channels: int = 32  # first conv layer; the second has twice as many


def conv_encoder(c: int, out_dim: int) -> nn.Sequential:
    """``(B,1,28,28)`` -> ``(B, out_dim)`` through 14x14 and 7x7 feature maps."""
    return nn.Sequential(
        nn.Conv2d(1, c, 4, 2, 1), nn.ReLU(),  # 14x14
        nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(),  # 7x7
        nn.Flatten(), nn.Linear(2 * c * 49, out_dim),
    )


def conv_decoder(c: int, in_dim: int) -> nn.Sequential:
    """``(B, in_dim)`` -> logits ``(B,1,28,28)``, the mirror of :func:`conv_encoder`."""
    return nn.Sequential(
        nn.Linear(in_dim, 2 * c * 49), nn.ReLU(), nn.Unflatten(1, (2 * c, 7, 7)),
        nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),  # 14x14
        nn.ConvTranspose2d(c, 1, 4, 2, 1),  # 28x28
    )


class ConvAE(Autoencoder):
    Config = ConvAEConfig
    train_defaults = {"epochs": 10, "lr": 2e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        self.encoder = conv_encoder(c.channels, c.latent_dim)
        self.decoder = conv_decoder(c.channels, c.latent_dim)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))
