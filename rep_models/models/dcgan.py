"""DCGAN (Radford et al.): transposed convolutions with batch norm and ReLU, tanh output in the generator;
strided convolutions with LeakyReLU in the discriminator. ``cdcgan.py`` adds the class condition."""
from dataclasses import dataclass

import torch
import torch.nn as nn

from .gan import GANBase


@dataclass
class DCGANConfig:
    z_dim: int = 64
    ngf: int = 64
    ndf: int = 64
    n_classes: int = 0
    ema: float = 0.0  # > 0: ship an exponential moving average of the generator's weights with this decay
    minibatch_std: bool = False  # the discriminator also sees how much a batch varies (against mode collapse)
    # InfoGAN (Chen et al. 2016): > 0 makes the largest of the first n_categories latent numbers pick one
    # of n_categories categories, fed to the generator as a one-hot; a head on the discriminator must
    # recover it. Without labels, the categories come to stand for kinds of digit, and the generator no
    # longer has to spread its continuous latent over blends between digits.
    n_categories: int = 0
    info_weight: float = 1.0


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
        if c.n_categories > c.z_dim:
            raise ValueError(f"n_categories must be at most z_dim ({c.z_dim}), got {c.n_categories}")
        self.generator_net = dc_generator(c.z_dim + c.n_classes + c.n_categories, c.ngf)
        self.discriminator_net = dc_discriminator(1 + c.n_classes, c.ndf, c.minibatch_std)
        if c.n_categories:
            n_feat = (2 * c.ndf + int(c.minibatch_std)) * 49
            self.info_head = nn.Sequential(nn.Flatten(), nn.Linear(n_feat, 128), nn.LeakyReLU(0.2, True), nn.Linear(128, c.n_categories))
        self.apply(dcgan_init)

    def _onehot(self, y):
        return torch.nn.functional.one_hot(y.long(), self.config.n_classes).float()

    def generate(self, z, y=None):
        parts = [z]
        if self.conditional:
            parts.append(self._onehot(y))
        if self.config.n_categories:
            parts.append(torch.nn.functional.one_hot(self.info_target(z), self.config.n_categories).to(z.dtype))
        return self.generator_net(torch.cat(parts, 1) if len(parts) > 1 else z)

    def info_target(self, z):
        k = self.config.n_categories
        return z[:, :k].argmax(1) if k else None

    def _trunk(self, x, y=None):
        if self.conditional:  # the label as constant extra channels
            x = torch.cat([x, self._onehot(y)[:, :, None, None].expand(-1, -1, 28, 28)], 1)
        return self.discriminator_net[:-1](x)

    def discriminate(self, x, y=None):
        return self.discriminator_net[-1](self._trunk(x, y)).flatten()

    def critic(self, x, y=None):
        h = self._trunk(x, y)
        q = self.info_head(h) if self.config.n_categories else None
        return self.discriminator_net[-1](h).flatten(), q

    def discriminator_parameters(self):
        yield from self.discriminator_net.parameters()
        if self.config.n_categories:
            yield from self.info_head.parameters()
