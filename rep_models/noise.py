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


def psnr(clean: torch.Tensor, est: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image ``(B,)`` for signals in [0, 1]."""
    mse = ((clean - est) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def ssim(clean: torch.Tensor, est: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per image ``(B,)`` for signals in [0, 1]: Gaussian window
    (11 x 11, sigma 1.5), K1 = 0.01, K2 = 0.03, averaged over the positions where the window fits."""
    t = torch.arange(window, dtype=torch.float32) - (window - 1) / 2
    g = torch.exp(-(t**2) / (2 * sigma**2))
    g = g / g.sum()
    k = (g[:, None] * g[None, :]).view(1, 1, window, window).to(clean.device, torch.float64)
    a, b = clean.double(), est.double()  # float64: the variances are differences of nearly equal numbers
    mu_a, mu_b = F.conv2d(a, k), F.conv2d(b, k)
    var_a = F.conv2d(a * a, k) - mu_a**2
    var_b = F.conv2d(b * b, k) - mu_b**2
    cov = F.conv2d(a * b, k) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1).float()


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
