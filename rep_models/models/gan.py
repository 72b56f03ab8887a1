"""GAN with MLP generator and discriminator, and the two-step loss shared by every GAN here.

Generators output tanh in [-1, 1]; ``sample`` maps to [0, 1] like every other image in the package,
and the discriminator sees real images mapped to [-1, 1].
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Model, seeded_normal


@dataclass
class GANConfig:
    z_dim: int = 64
    hidden: int = 512


class GANBase(Model):
    """Shared by ``gan``, ``dcgan`` and ``cdcgan``: subclasses build ``generator`` and ``discriminator``
    and say how the label enters (``conditional``)."""

    family = "gan"
    trainer = "gan"
    conditional = False
    train_defaults = {"epochs": 20, "lr": 2e-4, "batch_size": 128}

    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, z_dim)`` -> images ``(B,1,28,28)`` in [-1, 1]."""
        raise NotImplementedError

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] -> real/fake logits ``(B,)``."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latent ``(B, z_dim)`` -> images ``(B,1,28,28)`` in [0, 1]."""
        return (self.generate(z, y) + 1) / 2

    def forward(self, z, y=None):
        return self.decode(z, y)

    def latent(self, n: int, seed: int | None = None, truncation: float | None = None) -> torch.Tensor:
        return seeded_normal((n, self.config.z_dim), seed, truncation, device=next(self.parameters()).device)

    @torch.inference_mode()
    def sample(self, n: int, seed: int | None = None, truncation: float | None = None, digit=None) -> torch.Tensor:
        """``n`` images ``(n,1,28,28)`` in [0, 1]; repeatable for a ``seed``. Conditional GANs take ``digit``
        (an int, or a sequence of ``n`` ints); without it they cycle 0..9."""
        z = self.latent(n, seed, truncation)
        return self.decode(z, self._labels(n, digit, z.device))

    def _labels(self, n, digit, device):
        if not self.conditional:
            return None
        if digit is None:
            return torch.arange(n, device=device) % 10
        if isinstance(digit, int):
            return torch.full((n,), digit, device=device, dtype=torch.long)
        return torch.as_tensor(digit, device=device, dtype=torch.long)

    def discriminator_loss(self, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        y = y if self.conditional else None
        real = x * 2 - 1
        with torch.no_grad():
            fake = self.generate(self.latent(len(x)), y)
        d_real, d_fake = self.discriminate(real, y), self.discriminate(fake, y)
        # One-sided label smoothing (0.9) keeps the discriminator from saturating early.
        loss = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, 0.9)) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        return {"loss": loss, "d_loss": loss.detach(), "d_real": torch.sigmoid(d_real).mean().detach(), "d_fake": torch.sigmoid(d_fake).mean().detach()}

    def generator_loss(self, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        y = y if self.conditional else None
        d_fake = self.discriminate(self.generate(self.latent(len(x)), y), y)
        loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))  # non-saturating
        return {"loss": loss, "g_loss": loss.detach()}

    def loss(self, batch) -> dict[str, torch.Tensor]:
        """Both losses for validation: ``loss`` is the generator's."""
        d, g = self.discriminator_loss(batch), self.generator_loss(batch)
        return {"loss": g["loss"], "g_loss": g["g_loss"], "d_loss": d["d_loss"], "d_real": d["d_real"], "d_fake": d["d_fake"]}

    def generator_parameters(self):
        return self.generator_net.parameters()

    def discriminator_parameters(self):
        return self.discriminator_net.parameters()


class GAN(GANBase):
    Config = GANConfig

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        self.generator_net = nn.Sequential(
            nn.Linear(c.z_dim, c.hidden // 2), nn.LeakyReLU(0.2),
            nn.Linear(c.hidden // 2, c.hidden), nn.LeakyReLU(0.2),
            nn.Linear(c.hidden, 784), nn.Tanh(),
        )
        self.discriminator_net = nn.Sequential(
            nn.Linear(784, c.hidden), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(c.hidden, c.hidden // 2), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(c.hidden // 2, 1),
        )

    def generate(self, z, y=None):
        return self.generator_net(z).reshape(-1, 1, 28, 28)

    def discriminate(self, x, y=None):
        return self.discriminator_net(x.flatten(1)).squeeze(1)
