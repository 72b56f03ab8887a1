"""Overcomplete autoencoder: a code wider than the image (``code_channels`` x 28 x 28 numbers for 784 pixels).

Nothing in its shape forces it to find structure: the encoder is one 3x3 convolution to ``code_channels`` maps
of the full 28x28 (linear: each map a filtered copy of the image), the decoder two convolutions back, no
downsampling anywhere, so the cheapest solution is close to a copy of the input. (With a ReLU and a second
convolution in the encoder its codes did 1.3 points better than raw pixels with 100 labels; linear, 0.1.) It rebuilds digits almost perfectly, yet its code is the
image again, spread over more numbers: the Lesson's answer to "if an autoencoder reconstructs its input
perfectly, is it a good one?" (rep_models.lesson measures both halves of that answer).
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import Autoencoder


@dataclass
class OvercompleteAEConfig:
    channels: int = 8  # the decoder's hidden feature maps
    code_channels: int = 2  # the code: code_channels feature maps of 28x28

    @property
    def latent_dim(self) -> int:  # what rep_models.codes.latent_dim reads: 1,568 for two maps
        return self.code_channels * 28 * 28


class OvercompleteAE(Autoencoder):
    Config = OvercompleteAEConfig
    train_defaults = {"epochs": 3, "lr": 3e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        self.encoder = nn.Sequential(nn.Conv2d(1, c.code_channels, 3, padding=1), nn.Flatten())
        self.decoder = nn.Sequential(nn.Unflatten(1, (c.code_channels, 28, 28)),
                                     nn.Conv2d(c.code_channels, c.channels, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(c.channels, 1, 3, padding=1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 28, 28)`` -> codes ``(B, code_channels * 784)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes ``(B, code_channels * 784)`` -> ``(B, 1, 28, 28)`` in [0, 1]."""
        return torch.sigmoid(self.decoder(z))
