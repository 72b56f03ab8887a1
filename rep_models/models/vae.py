"""Variational autoencoder (convolutional, Bernoulli likelihood, reparameterisation, closed-form KL).

``beta`` > 1 gives a beta-VAE. The conditional VAE (``cvae.py``) reuses this with the digit as input.
The loss is the negative ELBO in nats per image: BCE summed over pixels plus beta * KL.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Model, condition_labels, normal_like


@dataclass
class VAEConfig:
    latent_dim: int = 32
    channels: int = 32
    hidden: int = 512
    beta: float = 1.0
    n_classes: int = 0  # > 0 conditions encoder and decoder on a one-hot label (the CVAE)
    depth: int = 0  # extra 3x3 convolutions at 14x14 and 7x7 in the encoder, and at 7x7 in the decoder


def _convs(c_in: int, c_out: int, n: int) -> list[nn.Module]:
    """``n`` same-size 3x3 convolutions with ReLU, the first from ``c_in`` channels."""
    layers: list[nn.Module] = []
    for i in range(n):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, 1, 1), nn.ReLU()]
    return layers


class VAE(Model):
    Config = VAEConfig
    family = "vae"
    train_defaults = {"epochs": 30, "lr": 1e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c, k = self.config, self.config.n_classes
        ch = c.channels
        self.features = nn.Sequential(
            nn.Conv2d(1, ch, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(ch, ch, 4, 2, 1), nn.ReLU(),  # 14
            *_convs(ch, ch, c.depth),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1), nn.ReLU(),  # 7
            *_convs(2 * ch, 2 * ch, c.depth),
            nn.Flatten(),
        )
        self.to_stats = nn.Sequential(nn.Linear(2 * ch * 49 + k, c.hidden), nn.ReLU(), nn.Linear(c.hidden, 2 * c.latent_dim))
        self.from_code = nn.Sequential(nn.Linear(c.latent_dim + k, c.hidden), nn.ReLU(), nn.Linear(c.hidden, 2 * ch * 49), nn.ReLU())
        self.generator = nn.Sequential(
            nn.Unflatten(1, (2 * ch, 7, 7)),
            # A conditional VAE also gets the label as k constant 7x7 maps here, so the deconvolutions
            # cannot lose the digit on the way (the code alone would otherwise drift towards holding it).
            # Extra depth stays at 7x7, where a 3x3 convolution is cheap: decoding one code must stay fast.
            *_convs(2 * ch + k, 2 * ch, c.depth),
            nn.ConvTranspose2d(2 * ch + (k if c.depth == 0 else 0), ch, 4, 2, 1), nn.ReLU(),  # 14
            nn.ConvTranspose2d(ch, ch, 4, 2, 1), nn.ReLU(),  # 28
            nn.Conv2d(ch, 1, 3, 1, 1),
        )

    def _cond(self, h: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if self.config.n_classes == 0:
            return h
        if y is None:
            raise ValueError("this VAE is conditional: pass the digit labels y (B,)")
        return torch.cat([h, F.one_hot(y.long(), self.config.n_classes).float()], 1)

    def encode_stats(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B,1,28,28)`` -> posterior mean and log-variance, each ``(B, latent_dim)``."""
        mu, logvar = self.to_stats(self._cond(self.features(x), y)).chunk(2, dim=1)
        return mu, logvar

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The posterior mean ``(B, latent_dim)``: the code used for maps and sliders."""
        return self.encode_stats(x, y)[0]

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.generator[0](self.from_code(self._cond(z, y)))  # (B, 2ch, 7, 7)
        if self.config.n_classes:
            onehot = F.one_hot(y.long(), self.config.n_classes).to(h.dtype)
            h = torch.cat([h, onehot[:, :, None, None].expand(-1, -1, 7, 7)], 1)
        return self.generator[1:](h)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, latent_dim)`` -> Bernoulli means ``(B,1,28,28)`` in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode(self.encode(x, y), y)

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self(x, y)

    @torch.inference_mode()
    def sample(self, n: int, seed: int | None = None, digit=None, device=None) -> torch.Tensor:
        """``n`` images ``(n,1,28,28)`` decoded from the prior. The CVAE draws the given ``digit`` (an int or
        ``n`` ints); without one it cycles 0..9, as every conditional model does (``base.condition_labels``)."""
        device = device or next(self.parameters()).device
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.config.latent_dim, generator=g).to(device)
        y = None if self.config.n_classes == 0 else condition_labels(n, digit, device)
        return self.decode(z, y)

    def elbo_terms(self, x: torch.Tensor, y: torch.Tensor | None = None, sample: bool = True):
        """Per-image reconstruction (nats) and KL ``(B,)``, ``(B,)``."""
        mu, logvar = self.encode_stats(x, y)
        z = mu + normal_like(mu) * (0.5 * logvar).exp() if sample else mu
        rec = F.binary_cross_entropy_with_logits(self.decode_logits(z, y), x, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return rec, kl

    def loss(self, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        rec, kl = self.elbo_terms(x, y if self.config.n_classes else None)
        neg_elbo = (rec + kl).mean()
        loss = (rec + self.config.beta * kl).mean()
        return {"loss": loss, "neg_elbo": neg_elbo.detach(), "rec": rec.mean().detach(), "kl": kl.mean().detach()}
