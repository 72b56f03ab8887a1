"""GAN with MLP generator and discriminator, and the two-step loss shared by every GAN here.

Generators output tanh in [-1, 1]; ``sample`` maps to [0, 1] like every other image in the package,
and the discriminator sees real images mapped to [-1, 1].
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Model, condition_labels, seeded_normal


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
        return condition_labels(n, digit, device) if self.conditional else None

    def conditions(self, z: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """What the discriminator sees beside real and beside fake images: the batch's labels for a
        conditional GAN (the fakes are made of the same digits), nothing for a plain one."""
        y = y if self.conditional else None
        return y, y

    def discriminator_loss(self, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        z = self.latent(len(x))
        y_real, y_fake = self.conditions(z, y)
        real = x * 2 - 1
        with torch.no_grad():
            fake = self.generate(z, y_fake)
        d_real, d_fake = self.discriminate(real, y_real), self.discriminate(fake, y_fake)
        # One-sided label smoothing (0.9) keeps the discriminator from saturating early.
        loss = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, 0.9)) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        return {"loss": loss, "d_loss": loss.detach(), "d_real": torch.sigmoid(d_real).mean().detach(), "d_fake": torch.sigmoid(d_fake).mean().detach()}

    def generator_loss(self, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        z = self.latent(len(x))
        _, y_fake = self.conditions(z, y)
        d_fake = self.discriminate(self.generate(z, y_fake), y_fake)
        loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))  # non-saturating
        return {"loss": loss, "g_loss": loss.detach()}

    def loss(self, batch) -> dict[str, torch.Tensor]:
        """Both losses for validation: ``loss`` is the generator's."""
        d, g = self.discriminator_loss(batch), self.generator_loss(batch)
        return {"loss": g["loss"], "g_loss": g["g_loss"], "d_loss": d["d_loss"], "d_real": d["d_real"], "d_fake": d["d_fake"]}

    def generator_parameters(self):
        return self.generator_net.parameters()

    # -- an exponential moving average of the generator's weights (config ``ema`` > 0) -------------------
    # Samples from the averaged weights are steadier than from the last step's (Yazici et al. 2019).
    # The average lives outside the state dict while training; ``finish_training`` makes it the generator.

    def ema_decay(self) -> float:
        """This step's decay of the average (``config.ema``; a model may ramp it up)."""
        return getattr(self.config, "ema", 0.0)

    def after_generator_step(self) -> None:
        decay = self.ema_decay()
        if not decay:
            return
        params = dict(self.generator_net.named_parameters())
        if getattr(self, "_ema", None) is None:
            self._ema = {k: p.detach().clone() for k, p in params.items()}
        else:
            for k, e in self._ema.items():
                e.lerp_(params[k].detach(), 1.0 - decay)

    def training_state(self) -> dict[str, torch.Tensor]:
        return {f"ema.{k}": e for k, e in (getattr(self, "_ema", None) or {}).items()}

    def load_training_state(self, state: dict[str, torch.Tensor]) -> None:
        ema = {k[4:]: v.clone() for k, v in state.items() if k.startswith("ema.")}
        device = next(self.parameters()).device
        self._ema = {k: v.to(device) for k, v in ema.items()} or None

    @torch.no_grad()
    def finish_training(self, n_batches: int = 100, batch_size: int = 256) -> None:
        """Load the averaged weights into the generator and re-estimate its batch-norm statistics for
        them (the running statistics belong to the last step's weights)."""
        if getattr(self, "_ema", None) is None:
            return
        for k, p in self.generator_net.named_parameters():
            p.copy_(self._ema[k])
        self._ema = None
        norms = [m for m in self.generator_net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if norms:
            momenta = [m.momentum for m in norms]
            for m in norms:
                m.reset_running_stats()
                m.momentum = None  # a plain average over the batches below
            self.generator_net.train()
            for i in range(n_batches):
                z = self.latent(batch_size, seed=i)
                self.generate(z, self._labels(batch_size, None, z.device))
            for m, momentum in zip(norms, momenta, strict=True):
                m.momentum = momentum
        self.eval()

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
