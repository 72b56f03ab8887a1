"""DCGAN (Radford et al.): transposed convolutions with batch norm and ReLU, tanh output in the generator;
strided convolutions with LeakyReLU in the discriminator. ``cdcgan.py`` adds the class condition.

With ``clusters`` > 0 it is self-conditioned (Liu et al. 2020, "Diverse image generation via
self-conditioned GANs"): before training, the training digits are split into clusters without any
label, by k-means on the shipped contrastive encoder's codes (the recipe step
``rep_models.training.recipes.contrastive_clusters``), and both networks are conditioned on the
cluster as the cDCGAN is on the digit. The model stays unconditional: the first latent number picks the
cluster (its normal quantile, cut at the clusters' shares of the data), so every latent vector is one
digit and a latent walk crosses from cluster to cluster. An unconditional generator otherwise has to
stretch one connected latent space over ten separate digit shapes, and the blends it makes between
them are the ambiguous samples.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import share_bucket
from .gan import GANBase


@dataclass
class DCGANConfig:
    z_dim: int = 64
    ngf: int = 64
    ndf: int = 64
    n_classes: int = 0
    ema: float = 0.0  # > 0: ship an exponential moving average of the generator's weights with this decay
    minibatch_std: bool = False  # the discriminator also sees how much a batch varies (against mode collapse)
    clusters: int = 0  # > 0: self-conditioned on this many label-free clusters (see the module docstring)
    cluster_shares: tuple[float, ...] = ()  # each cluster's share of the training digits (set by the recipe step)


def dc_generator(nz: int, ngf: int) -> nn.Sequential:
    """``(B, nz)`` -> ``(B,1,28,28)`` in [-1, 1] through 7x7 and 14x14."""
    return nn.Sequential(
        nn.Unflatten(1, (nz, 1, 1)),
        nn.ConvTranspose2d(nz, 4 * ngf, 7, 1, 0, bias=False), nn.BatchNorm2d(4 * ngf), nn.ReLU(True),  # 7
        nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ngf), nn.ReLU(True),  # 14
        nn.ConvTranspose2d(2 * ngf, 1, 4, 2, 1), nn.Tanh(),  # 28
    )


class MinibatchStd(nn.Module):
    """Appends one channel holding the batch's mean feature standard deviation (Karras et al. 2018):
    a generator that collapses onto a few digits makes batches that vary too little, and the
    discriminator can now see it. ``(B, C, H, W)`` -> ``(B, C + 1, H, W)``."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        std = h.std(dim=0, unbiased=False).mean() if len(h) > 1 else h.new_zeros(())
        return torch.cat([h, std.expand(len(h), 1, *h.shape[2:])], 1)


def dc_discriminator(nc: int, ndf: int, minibatch_std: bool = False) -> nn.Sequential:
    """``(B, nc, 28, 28)`` -> logits ``(B, 1, 1, 1)``."""
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),  # 14
        nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2, True),  # 7
        *([MinibatchStd()] if minibatch_std else []),
        nn.Conv2d(2 * ndf + int(minibatch_std), 1, 7, 1, 0),
    )


def dcgan_init(m: nn.Module) -> None:
    """The DCGAN paper's initialisation: N(0, 0.02) weights, N(1, 0.02) batch-norm scales."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class DCGAN(GANBase):
    Config = DCGANConfig
    train_defaults = {"epochs": 8, "lr": 2e-4, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        self.conditional = c.n_classes > 0
        if c.clusters and c.n_classes:
            raise ValueError(f"a DCGAN is conditioned on labels (n_classes={c.n_classes}) or on clusters (clusters={c.clusters}), not both")
        if c.cluster_shares and len(c.cluster_shares) != c.clusters:
            raise ValueError(f"cluster_shares needs one share per cluster ({c.clusters}), got {len(c.cluster_shares)}")
        n_cond = c.n_classes + c.clusters
        self.generator_net = dc_generator(c.z_dim + n_cond, c.ngf)
        self.discriminator_net = dc_discriminator(1 + n_cond, c.ndf, c.minibatch_std)
        self.apply(dcgan_init)

    def _onehot(self, y):
        return torch.nn.functional.one_hot(y.long(), self.config.n_classes + self.config.clusters).float()

    def cluster_of(self, z: torch.Tensor) -> torch.Tensor:
        """The cluster ``(B,)`` each latent ``(B, z_dim)`` asks for: where its first number's normal
        quantile falls among the clusters' cumulative shares (equal shares until they are set)."""
        return share_bucket(z[:, 0], self.config.cluster_shares or [1.0] * self.config.clusters)

    def generate(self, z, y=None):
        if self.config.clusters:
            y = self.cluster_of(z)
        if self.conditional or self.config.clusters:
            z = torch.cat([z, self._onehot(y)], 1)
        return self.generator_net(z)

    def discriminate(self, x, y=None):
        if self.conditional or self.config.clusters:  # the label or cluster as constant extra channels
            x = torch.cat([x, self._onehot(y)[:, :, None, None].expand(-1, -1, 28, 28)], 1)
        return self.discriminator_net(x).flatten()

    def conditions(self, z, y):
        if self.config.clusters:  # real digits come with their cluster (the batch's targets), fakes ask for theirs
            return y, self.cluster_of(z)
        return super().conditions(z, y)

