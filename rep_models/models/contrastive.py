"""Contrastive encoder (SimCLR, Chen et al. 2020): an encoder with no decoder at all.

Each training image is shown twice, each time moved a little differently (rotated, scaled, shifted,
its strokes thickened or thinned). The encoder learns a code in which the two views of one image lie
close together and views of different images lie apart (the NT-Xent loss over a batch). Nothing asks
the code to redraw the pixels, so it keeps what stays the same under those moves (which digit it is)
and drops the rest: compare its latent map and its few-label accuracy with the autoencoders'.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Model, noise_source


@dataclass
class ContrastiveConfig:
    latent_dim: int = 64  # the code: what the app projects and probes
    proj_dim: int = 32  # the projection head's output, where the loss is computed (SimCLR's g(h))
    channels: int = 16
    temperature: float = 0.5
    max_rotation: float = 20.0  # degrees
    max_shift: float = 0.2  # fraction of the half-width: 0.2 is about 3 pixels
    min_scale: float = 0.8
    max_scale: float = 1.15
    p_thickness: float = 0.4  # chance of thickening or thinning the strokes by one pixel


def augment(x: torch.Tensor, c: ContrastiveConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random view of each image: ``(B,1,28,28)`` -> ``(B,1,28,28)`` in [0, 1]."""
    b, dev = len(x), x.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return (torch.rand(b, generator=generator) * (hi - lo) + lo).to(dev)

    angle = u(-c.max_rotation, c.max_rotation) * math.pi / 180
    scale = u(c.min_scale, c.max_scale)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, u(-c.max_shift, c.max_shift)], 1),
                         torch.stack([sin, cos, u(-c.max_shift, c.max_shift)], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    # Stroke width is a nuisance for naming a digit: a 3x3 max (dilate) or min (erode) changes it.
    r = torch.rand(b, generator=generator).to(dev)[:, None, None, None]
    thick = F.max_pool2d(out, 3, 1, 1)
    thin = -F.max_pool2d(-out, 3, 1, 1)
    p = c.p_thickness / 2
    out = torch.where(r < p, thick, torch.where(r < 2 * p, thin, out))
    return out.clamp(0, 1)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """SimCLR's loss for two views ``(B, d)`` each: cross-entropy of picking each view's partner among
    the other ``2B - 1`` views by cosine similarity / ``temperature``. Also returns how often the partner
    is the most similar view (easy to read while training)."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    b = len(z1)
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    top1 = (sim.detach().argmax(1) == target).float().mean()
    return F.cross_entropy(sim, target), top1


class ContrastiveEncoder(Model):
    Config = ContrastiveConfig
    family = "encoder"
    train_defaults = {"epochs": 15, "lr": 1e-3, "batch_size": 256}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c, ch = self.config, self.config.channels
        self.encoder_net = nn.Sequential(
            nn.Conv2d(1, ch, 3, 1, 1), nn.BatchNorm2d(ch), nn.ReLU(),
            nn.Conv2d(ch, 2 * ch, 4, 2, 1), nn.BatchNorm2d(2 * ch), nn.ReLU(),  # 14
            nn.Conv2d(2 * ch, 4 * ch, 4, 2, 1), nn.BatchNorm2d(4 * ch), nn.ReLU(),  # 7
            nn.Flatten(),
            nn.Linear(4 * ch * 49, 256), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, c.latent_dim),
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(c.latent_dim, 128), nn.ReLU(), nn.Linear(128, c.proj_dim))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,1,28,28)`` -> codes ``(B, latent_dim)``."""
        return self.encoder_net(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)

    def loss(self, batch) -> dict[str, torch.Tensor]:
        x, _ = batch  # labels unused: the only signal is which two views came from one image
        if not self.training:  # validation: fixed views, so epochs compare on the same draws
            g = torch.Generator().manual_seed(0)
            v1, v2 = augment(x, self.config, g), augment(x, self.config, g)
        else:
            v1, v2 = augment(x, self.config, noise_source()), augment(x, self.config, noise_source())
        loss, top1 = nt_xent(self.head(self.encode(v1)), self.head(self.encode(v2)), self.config.temperature)
        return {"loss": loss, "pair_top1": top1}
