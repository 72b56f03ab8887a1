"""Denoising compared: the denoising autoencoder against the best classical filter on a corrupted digit, or
on a picture that is already noisy, and the results put back at an uploaded picture's size and framing (the
Denoise page).

Images are ``(1, 1, 28, 28)`` tensors or ``(28, 28)`` arrays in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import noise
from .codes import as_batch, device_of
from .framing import Frame, Steps, restore
from .images import png_bytes


@dataclass
class Denoised:
    noisy: np.ndarray  # (28, 28)
    denoised: np.ndarray  # the denoising autoencoder's output
    classical: np.ndarray  # the best classical filter's output
    classical_name: str
    psnr: dict[str, float]  # "noisy", "denoised", "classical" -> dB against the clean image (empty without one)


@torch.inference_mode()
def denoise_compare(model: torch.nn.Module, clean: torch.Tensor | np.ndarray, kind: str, level: float, seed: int = 0) -> Denoised:
    """Corrupt ``clean`` with ``kind`` noise at ``level``, then denoise it with ``model`` and with the best classical
    filter (chosen by PSNR against the clean image: an oracle baseline). PSNRs are against ``clean``."""
    clean = as_batch(clean)[:1]
    noisy = noise.corrupt(clean, kind, level, seed=seed)
    out = model.denoise(noisy.to(device_of(model))).float().cpu().clamp(0, 1)
    name, classical = noise.best_classical(noisy, clean)
    psnr = {k: float(noise.psnr(clean, v)[0]) for k, v in (("noisy", noisy), ("denoised", out), ("classical", classical))}
    return Denoised(noisy[0, 0].numpy(), out[0, 0].numpy(), classical.clamp(0, 1)[0, 0].numpy(), name, psnr)


@torch.inference_mode()
def denoise_direct(model: torch.nn.Module, noisy: torch.Tensor | np.ndarray, classical: str = "median 3x3") -> Denoised:
    """Denoise an image that is already noisy (an uploaded photo): no clean reference, so no PSNR."""
    noisy = as_batch(noisy)[:1]
    out = model.denoise(noisy.to(device_of(model))).float().cpu().clamp(0, 1)
    filt = noise.CLASSICAL_FILTERS[classical](noisy).clamp(0, 1)
    return Denoised(noisy[0, 0].numpy(), out[0, 0].numpy(), filt[0, 0].numpy(), classical, {})


# The uploaded picture, the denoised digit and the classical filter's result side by side: at the picture's
# framing, at most this many pixels (the page shows them about 300 px wide).
VIEW_PIXELS = 320 * 320


def picture_views(steps: Steps | None, result: Denoised, max_pixels: int = VIEW_PIXELS) -> list[np.ndarray]:
    """[the uploaded picture, the denoised digit, the classical filter's result], the last two put back where the
    digit was in the picture (``framing.restore``), all at the picture's framing and (display) size. Needs the
    ``steps`` of ``to_mnist(keep_noise=True)``; other steps give the 28x28 images themselves."""
    if steps is None or steps.frame is None:
        return [result.noisy, result.denoised, result.classical]
    picture = steps.gray
    n = min(max_pixels, picture.shape[0] * picture.shape[1])
    return [picture, restore(steps.frame, result.denoised, n), restore(steps.frame, result.classical, n)]


def restored_png(frame: Frame, image: np.ndarray | torch.Tensor) -> bytes:
    """The 28x28 result ``image`` at the uploaded picture's size and framing, as PNG bytes (the download)."""
    return png_bytes(restore(frame, image), scale=1)
