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


def dc_generator(nz: int, ngf: int) -> nn.Sequential:
    """``(B, nz)`` -> ``(B,1,28,28)`` in [-1, 1] through 7x7 and 14x14."""
    return nn.Sequential(
        nn.Unflatten(1, (nz, 1, 1)),
        nn.ConvTranspose2d(nz, 4 * ngf, 7, 1, 0, bias=False), nn.BatchNorm2d(4 * ngf), nn.ReLU(True),  # 7
        nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ngf), nn.ReLU(True),  # 14
        nn.ConvTranspose2d(2 * ngf, 1, 4, 2, 1), nn.Tanh(),  # 28
    )


def dc_discriminator(nc: int, ndf: int) -> nn.Sequential:
    """``(B, nc, 28, 28)`` -> logits ``(B, 1, 1, 1)``."""
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),  # 14
        nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2, True),  # 7
        nn.Conv2d(2 * ndf, 1, 7, 1, 0),
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
        self.generator_net = dc_generator(c.z_dim + c.n_classes, c.ngf)
        self.discriminator_net = dc_discriminator(1 + c.n_classes, c.ndf)
        self.apply(dcgan_init)

    def _onehot(self, y):
        return torch.nn.functional.one_hot(y.long(), self.config.n_classes).float()

    def generate(self, z, y=None):
        if self.conditional:
            z = torch.cat([z, self._onehot(y)], 1)
        return self.generator_net(z)

    def discriminate(self, x, y=None):
        if self.conditional:  # the label as constant extra channels
            x = torch.cat([x, self._onehot(y)[:, :, None, None].expand(-1, -1, 28, 28)], 1)
        return self.discriminator_net(x).flatten()
