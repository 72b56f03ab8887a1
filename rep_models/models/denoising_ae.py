"""Denoising autoencoder: a small U-Net (skip connections keep fine detail) trained blind on Gaussian,
salt-and-pepper and masking noise at random levels, so one model serves every noise and level.

With ``upload_share`` > 0 it also learns what users upload: before training, a recipe step makes
``upload_pairs`` of the training digits into files (noisy, enlarged smoothly or in pixel blocks, JPEG, or
photographed with sensor noise: ``rep_models.training.recipes.upload_pairs``) and puts them through the app's input
path; that share of every batch is then drawn from these pairs, each with its clean digit through the same
geometric steps as the target."""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Autoencoder


@dataclass
class DenoisingAEConfig:
    channels: int = 32
    max_sigma: float = 0.6  # Gaussian noise levels drawn from U(0, max_sigma)
    max_salt_pepper: float = 0.4
    max_mask: float = 0.5
    upload_share: float = 0.0  # share of each training batch drawn from upload-path pairs (0: none)
    upload_pairs: int = 0  # how many training digits the recipe step makes into upload-path pairs


def random_corruption(x: torch.Tensor, max_sigma: float, max_sp: float, max_mask: float) -> torch.Tensor:
    """Per image, one of the three corruptions of ``rep_models.noise`` (Gaussian, salt and pepper, masking) at
    a level drawn uniformly: the blind denoiser's training input."""
    b = x.shape[0]
    kind = torch.randint(0, 3, (b, 1, 1, 1), device=x.device)
    level = torch.rand(b, 1, 1, 1, device=x.device)
    g = (x + level * max_sigma * torch.randn_like(x)).clamp(0, 1)
    u, v = torch.rand_like(x), torch.rand_like(x)
    sp = torch.where(u < level * max_sp, (v < 0.5).to(x.dtype), x)
    m = x * (u >= level * max_mask)
    return torch.where(kind == 0, g, torch.where(kind == 1, sp, m))


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class DenoisingAE(Autoencoder):
    Config = DenoisingAEConfig
    train_defaults = {"epochs": 8, "lr": 1e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config.channels
        self.down1 = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), nn.ReLU())  # 28
        self.down2 = block(c, 2 * c)  # 14
        self.bottom = block(2 * c, 2 * c)  # 7
        self.up2 = block(4 * c, c)  # 14, after concatenating the skip
        self.up1 = nn.Sequential(nn.Conv2d(2 * c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, 1, 3, padding=1))
        # (inputs, targets) ``(N,1,28,28)`` each: upload-path training pairs, set before training by the
        # recipe step rep_models.training.recipes.upload_pairs (when ``upload_share`` > 0)
        self.upload_pool: tuple[torch.Tensor, torch.Tensor] | None = None

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The U-Net's feature maps ``[28x28, 14x14, 7x7]``; the last is the (spatial) code."""
        f1 = self.down1(x)
        f2 = self.down2(F.max_pool2d(f1, 2))
        f3 = self.bottom(F.max_pool2d(f2, 2))
        return [f1, f2, f3]

    def decode(self, feats: list[torch.Tensor]) -> torch.Tensor:
        f1, f2, f3 = feats
        u2 = self.up2(torch.cat([F.interpolate(f3, scale_factor=2.0), f2], 1))
        # Linear output, clipped only at inference (reconstruct): a sigmoid here saturates early in training,
        # when predicting the mostly black background, and its vanishing gradient then freezes the network.
        return self.up1(torch.cat([F.interpolate(u2, scale_factor=2.0), f1], 1))

    def denoise(self, x: torch.Tensor) -> torch.Tensor:
        """Noisy ``(B,1,28,28)`` in [0, 1] -> clean estimate, same shape."""
        return self.reconstruct(x)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        return random_corruption(x, c.max_sigma, c.max_salt_pepper, c.max_mask)

    def loss(self, batch) -> dict[str, torch.Tensor]:
        pool = self.upload_pool
        if not self.training or pool is None:
            return super().loss(batch)
        x = batch[0]
        n = int(round(self.config.upload_share * len(x)))
        pick = torch.randint(0, len(pool[0]), (n,))
        inputs = torch.cat([self.corrupt(x[n:]), pool[0][pick].to(x.device)])
        targets = torch.cat([x[n:], pool[1][pick].to(x.device)])
        mse = F.mse_loss(self(inputs), targets)
        return {"loss": mse, "mse": mse.detach()}
