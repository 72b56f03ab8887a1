"""Codes and decoding: images to a model's codes and codes back to images, for every encoder, decoder and
generator of the zoo (conditional ones take digits too).

Images are ``(H, W)`` or ``(B, H, W)`` float32 numpy arrays in [0, 1] (``(B, 1, 28, 28)`` tensors going in);
codes are ``(d,)`` or ``(B, d)``.
"""
from __future__ import annotations

import numpy as np
import torch

from .metrics import encode_all as encode_batches


def device_of(model: torch.nn.Module) -> torch.device:
    """The device a model's weights are on (where its inputs must go)."""
    return next(model.parameters()).device


def as_batch(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """(28, 28) array or (1|B, 1, 28, 28) tensor -> float32 tensor (B, 1, 28, 28)."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32) if isinstance(x, np.ndarray) else x).float()
    if t.dim() == 2:
        t = t[None, None]
    if t.dim() != 4 or tuple(t.shape[1:]) != (1, 28, 28):
        raise ValueError(f"expected a (28, 28) image or a (B, 1, 28, 28) batch, got shape {tuple(t.shape)}")
    return t


def latent_dim(model) -> int:
    """The size of the code a model decodes: ``latent_dim`` (autoencoders, VAEs) or ``z_dim`` (GANs)."""
    c = model.config
    for key in ("latent_dim", "z_dim"):
        if hasattr(c, key):
            return int(getattr(c, key))
    raise ValueError(f"{type(model).__name__} has no latent_dim or z_dim in its config")


def _labels(y, n: int, device) -> torch.Tensor | None:
    if y is None:
        return None
    t = torch.as_tensor(np.asarray(y)).long().reshape(-1)
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ValueError(f"y must be one digit or {n} digits, got {t.numel()}")
    if ((t < 0) | (t > 9)).any():
        raise ValueError(f"digits must be in 0..9, got {t.tolist()}")
    return t.to(device)


@torch.inference_mode()
def encode_all(model, x: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 1000) -> np.ndarray:
    """Codes ``(N, d)`` float32 of images ``x (N,1,28,28)``: the posterior mean for VAEs. ``y`` (N,) for a CVAE."""
    if y is None:
        return encode_batches(model, x, batch_size).numpy()
    dev = device_of(model)
    out = [model.encode(x[i : i + batch_size].to(dev), y[i : i + batch_size].to(dev)).float().cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros((0, latent_dim(model)), np.float32)


@torch.inference_mode()
def decode_at(model, z, y=None) -> np.ndarray:
    """Decode codes ``z (d,)`` or ``(B, d)`` to images ``(28, 28)`` or ``(B, 28, 28)`` in [0, 1].

    ``y`` is the digit (an int or ``B`` ints) for conditional models (CVAE, conditional GAN).
    """
    zt = torch.as_tensor(np.asarray(z, dtype=np.float32))
    single = zt.dim() == 1
    zt = zt[None] if single else zt
    d = latent_dim(model)
    if zt.dim() != 2 or zt.shape[1] != d:
        raise ValueError(f"z must have shape ({d},) or (B, {d}) for this model, got {tuple(np.shape(z))}")
    dev = device_of(model)
    zt = zt.to(dev)
    yt = _labels(y, len(zt), dev)
    img = model.decode(zt, yt) if yt is not None else model.decode(zt)
    img = img.float().clamp(0, 1).cpu().numpy()[:, 0]
    return img[0] if single else img
