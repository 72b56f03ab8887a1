"""Corruptions, classical filters and PSNR for ``(B,1,H,W)`` images in [0, 1]."""
from __future__ import annotations

import torch
import torch.nn.functional as F

NOISE_KINDS = ("gaussian", "salt_pepper", "mask")


def _gen(seed: int | None) -> torch.Generator | None:
    return torch.Generator().manual_seed(seed) if seed is not None else None


def _rand(x: torch.Tensor, g, normal: bool = False) -> torch.Tensor:
    fn = torch.randn if normal else torch.rand
    return fn(x.shape, generator=g).to(x.device) if g is not None else (torch.randn_like(x) if normal else torch.rand_like(x))


def gaussian(x: torch.Tensor, sigma: float, seed: int | None = None) -> torch.Tensor:
    """Add N(0, sigma^2) noise, clipped to [0, 1]."""
    return (x + sigma * _rand(x, _gen(seed), normal=True)).clamp(0, 1)


def salt_pepper(x: torch.Tensor, p: float, seed: int | None = None) -> torch.Tensor:
    """Set a fraction ``p`` of pixels to 0 or 1 (half each)."""
    g = _gen(seed)
    u, v = _rand(x, g), _rand(x, g)
    return torch.where(u < p, (v < 0.5).to(x.dtype), x)


def mask(x: torch.Tensor, p: float, seed: int | None = None) -> torch.Tensor:
    """Zero a fraction ``p`` of pixels (dropout on the input)."""
    return x * (_rand(x, _gen(seed)) >= p)


def corrupt(x: torch.Tensor, kind: str, level: float, seed: int | None = None) -> torch.Tensor:
    """Apply the named corruption: ``gaussian`` (level = sigma), ``salt_pepper`` or ``mask`` (level = fraction)."""
    fns = {"gaussian": gaussian, "salt_pepper": salt_pepper, "mask": mask}
    if kind not in fns:
        raise ValueError(f"noise kind {kind!r} unknown; expected one of {NOISE_KINDS}")
    return fns[kind](x, level, seed)


def random_corruption(x: torch.Tensor, max_sigma: float, max_sp: float, max_mask: float) -> torch.Tensor:
    """Per image, one of the three corruptions at a level drawn uniformly (training the blind denoiser)."""
    b = x.shape[0]
    kind = torch.randint(0, 3, (b, 1, 1, 1), device=x.device)
    level = torch.rand(b, 1, 1, 1, device=x.device)
    g = (x + level * max_sigma * torch.randn_like(x)).clamp(0, 1)
    u, v = torch.rand_like(x), torch.rand_like(x)
    sp = torch.where(u < level * max_sp, (v < 0.5).to(x.dtype), x)
    m = x * (u >= level * max_mask)
    return torch.where(kind == 0, g, torch.where(kind == 1, sp, m))


def psnr(clean: torch.Tensor, est: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image ``(B,)`` for signals in [0, 1]."""
    mse = ((clean - est) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def median_filter(x: torch.Tensor, k: int = 3) -> torch.Tensor:
    """k x k median filter with reflect padding."""
    pad = k // 2
    patches = F.unfold(F.pad(x, (pad,) * 4, mode="reflect"), k)  # (B, k*k, H*W)
    return patches.median(dim=1).values.reshape(x.shape)


def gaussian_filter(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel radius 3 sigma)."""
    r = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k1 = torch.exp(-(t**2) / (2 * sigma**2))
    k1 = k1 / k1.sum()
    xp = F.pad(x, (r, r, r, r), mode="reflect")
    xp = F.conv2d(xp, k1.view(1, 1, 1, -1))
    return F.conv2d(xp, k1.view(1, 1, -1, 1))


CLASSICAL_FILTERS = {
    "median 3x3": lambda x: median_filter(x, 3),
    "median 5x5": lambda x: median_filter(x, 5),
    "gaussian σ=0.7": lambda x: gaussian_filter(x, 0.7),
    "gaussian σ=1.0": lambda x: gaussian_filter(x, 1.0),
    "gaussian σ=1.5": lambda x: gaussian_filter(x, 1.5),
}


def best_classical(noisy: torch.Tensor, clean: torch.Tensor) -> tuple[str, torch.Tensor]:
    """The classical filter with the highest mean PSNR against ``clean`` (an oracle choice, as a baseline)."""
    best = max(CLASSICAL_FILTERS, key=lambda n: psnr(clean, CLASSICAL_FILTERS[n](noisy)).mean().item())
    return best, CLASSICAL_FILTERS[best](noisy)
