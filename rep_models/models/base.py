"""What every model shares: a config dataclass, the same verbs, and a loss that returns a dict.

Inputs are always ``(B, 1, 28, 28)`` floats in [0, 1]; a batch is ``(x, y)`` with ``y`` int64 labels ``(B,)``.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, replace
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

Batch = tuple[torch.Tensor, torch.Tensor]

# -- where a model's own noise comes from ----------------------------------------------------------------
# The noise a model draws in its loss (a GAN's latents, a VAE's sample, an input corruption) comes from
# torch's global generator unless a thread has set a generator of its own with ``noise_generator``: the
# trainer does, so that validation and a training run in a server thread neither reseed nor consume the
# generator the rest of the process shares. (Dropout always uses the global generator.)
_noise = threading.local()


@contextmanager
def noise_generator(generator: torch.Generator | None) -> Iterator[torch.Generator | None]:
    """In this thread, for the ``with`` block: models draw their noise from ``generator`` (None: the global one)."""
    before = getattr(_noise, "generator", None)
    _noise.generator = generator
    try:
        yield generator
    finally:
        _noise.generator = before


def noise_source() -> torch.Generator | None:
    """The generator this thread's model noise comes from (None: torch's global generator)."""
    return getattr(_noise, "generator", None)


def normal_like(t: torch.Tensor) -> torch.Tensor:
    """Standard normal noise shaped like ``t``, from :func:`noise_source`."""
    g = noise_source()
    if g is None:
        return torch.randn_like(t)
    return torch.randn(t.shape, generator=g, device=g.device, dtype=t.dtype).to(t.device)


def uniform_like(t: torch.Tensor) -> torch.Tensor:
    """Uniform [0, 1) noise shaped like ``t``, from :func:`noise_source`."""
    g = noise_source()
    if g is None:
        return torch.rand_like(t)
    return torch.rand(t.shape, generator=g, device=g.device, dtype=t.dtype).to(t.device)


class Model(nn.Module):
    """Base of every registered model.

    Subclasses set ``Config`` (a dataclass) and ``family`` (``autoencoder``, ``vae``, ``gan`` or
    ``classifier``). ``trainer`` names the training style: ``standard`` (one optimiser on ``loss``) or
    ``gan`` (alternating ``discriminator_loss`` / ``generator_loss``). ``pretrain_layers`` > 0 means the
    model supports greedy layer-wise pretraining through ``layerwise_loss(batch, layer)``.
    """

    Config: ClassVar[type]
    family: ClassVar[str] = "autoencoder"
    trainer: ClassVar[str] = "standard"
    # Default training options for ``python -m rep_models.train``; the CLI overrides them.
    train_defaults: ClassVar[dict[str, Any]] = {"epochs": 10, "lr": 1e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__()
        config = config if config is not None else self.Config()
        if isinstance(config, dict):
            config = self.Config(**config)
        known = {f.name for f in fields(self.Config)}
        bad = set(overrides) - known
        if bad:
            raise TypeError(f"{type(self).__name__}: unknown config fields {sorted(bad)}; expected some of {sorted(known)}")
        # JSON turns tuples (e.g. ``hidden``) into lists: turn them back, so a loaded config equals the saved one.
        overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
        self.config = replace(config, **overrides)

    def config_dict(self) -> dict:
        return asdict(self.config)

    @property
    def pretrain_layers(self) -> int:
        return 0

    def training_state(self) -> dict[str, torch.Tensor]:
        """What training keeps outside the state dict (a moving average, a step count), for an exact resume."""
        return {}

    def load_training_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`training_state` gave."""

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class Autoencoder(Model):
    """An encoder to a code and a decoder back to ``(B, 1, 28, 28)`` in [0, 1]; trained on per-pixel MSE.

    Subclasses implement ``encode`` and ``decode``; ``penalty(x, code)`` adds a regulariser.
    """

    family = "autoencoder"

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B,1,28,28) -> (B, latent_dim)
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # (B, latent_dim) -> (B,1,28,28)
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,1,28,28)`` -> reconstructions ``(B,1,28,28)`` clipped to [0, 1]."""
        return self(x).clamp(0, 1)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """The training input; identity except for denoising models."""
        return x

    def penalty(self, x: torch.Tensor, code: torch.Tensor) -> dict[str, torch.Tensor]:
        return {}

    def loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch[0]
        code = self.encode(self.corrupt(x) if self.training else x)
        mse = F.mse_loss(self.decode(code), x)
        terms = self.penalty(x, code)
        total = mse + sum(terms.values()) if terms else mse
        return {"loss": total, "mse": mse.detach(), **{k: v.detach() for k, v in terms.items()}}


def flatten(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


def unflatten(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], 1, 28, 28)


def mlp(sizes: list[int], act: type[nn.Module] = nn.ReLU, last_act: nn.Module | None = None) -> nn.Sequential:
    """Linear layers of the given sizes with ``act`` between them and ``last_act`` (if any) at the end."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    if last_act is not None:
        layers.append(last_act)
    return nn.Sequential(*layers)


def share_bucket(z0: torch.Tensor, shares) -> torch.Tensor:
    """Which of the buckets with ``shares`` (K,) each standard-normal number ``z0 (B,)`` falls in: bucket k holds
    the normal quantiles between the shares' cumulative sums (equal shares when empty). Compared in z against the
    quantiles of the edges (no erf, no bucketize), so it exports to ONNX and gives the same bucket on every runtime."""
    shares = torch.as_tensor(shares, dtype=torch.float64)
    edges = torch.special.ndtri(shares.cumsum(0)[:-1] / shares.sum()).to(z0.dtype).to(z0.device)  # (K-1,)
    return (z0[:, None] > edges[None, :]).sum(1)


def condition_labels(n: int, digit=None, device="cpu") -> torch.Tensor:
    """The digits ``(n,)`` int64 a conditional model draws: ``digit=None`` cycles 0..9 (an even share of each,
    for every conditional model), an int repeats it, a sequence of ``n`` ints is taken as it is."""
    if digit is None:
        return torch.arange(n, device=device) % 10
    if isinstance(digit, int):
        return torch.full((n,), digit, device=device, dtype=torch.long)
    y = torch.as_tensor(digit, device=device, dtype=torch.long)
    if y.shape != (n,):
        raise ValueError(f"digit: expected an int or {n} ints, got shape {tuple(y.shape)}")
    return y


def _lowbias32(x: np.ndarray) -> np.ndarray:
    """A 32-bit integer hash (C. Wellons' lowbias32) of ``x`` (uint32 array): ``ui/js/seeded.js`` has its twin."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def portable_normal(n: int, seed: int, truncation: float | None = None) -> np.ndarray:
    """``n`` standard normal draws (float64) that are a pure function of ``seed``, the same in the page's JavaScript
    (``ui/js/seeded.js``), so a grid or a walk made there for a seed is the one the server makes for it.

    Draw ``i``, attempt ``r``, uses counter ``c = r * n + i``: two uniforms ``(h(x) + 0.5) / 2**32`` for ``x = 2c, 2c + 1``,
    ``h(x) = lowbias32(lowbias32(x ^ key) + key2)`` (mod 2**32) with the seed's keys, then Box-Muller. With ``truncation`` t > 0 each draw takes its first attempt (of 100) within ±t,
    clamped to ±t if none is."""
    key = _lowbias32(np.array([(int(seed) & 0xFFFFFFFF) ^ 0x9E3779B9], dtype=np.uint32))[0]
    key2 = _lowbias32(np.array([key], dtype=np.uint32))[0]

    def draws(r: int) -> np.ndarray:
        c = (np.arange(n, dtype=np.uint64) + np.uint64(r * n)) * np.uint64(2)
        c = (c & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        u = [(_lowbias32(_lowbias32((c + np.uint32(k)) ^ key) + key2).astype(np.float64) + 0.5) / 4294967296.0 for k in (0, 1)]
        return np.sqrt(-2.0 * np.log(u[0])) * np.cos(2.0 * np.pi * u[1])

    z = draws(0)
    if truncation is not None and truncation > 0:
        for r in range(1, 100):
            bad = np.abs(z) > truncation
            if not bad.any():
                break
            z = np.where(bad, draws(r), z)
        z = np.clip(z, -truncation, truncation)
    return z


def seeded_normal(shape: tuple[int, ...], seed: int | None, truncation: float | None = None, device="cpu") -> torch.Tensor:
    """Standard normal draws ``shape`` (float32), repeatable for a seed (:func:`portable_normal`, the page draws the
    same); with ``truncation`` t, values beyond ±t are redrawn. Without a seed they come from :func:`noise_source`."""
    if seed is not None:
        n = int(np.prod(shape))
        return torch.from_numpy(portable_normal(n, seed, truncation).astype(np.float32).reshape(shape)).to(device)
    g = noise_source()
    z = torch.randn(shape, generator=g, device=g.device if g is not None else "cpu")
    if truncation is not None and truncation > 0:
        for _ in range(100):
            bad = z.abs() > truncation
            if not bad.any():
                break
            z[bad] = torch.randn(int(bad.sum()), generator=g, device=z.device)
        z = z.clamp(-truncation, truncation)
    return z.to(device)
