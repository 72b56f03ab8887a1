"""What a style-based generator (``rep_models.models.stylegan``) lets you do that other GANs do not: samples with
truncation in W and the noise inputs fixed, re-drawn or off; style mixing (the coarse styles of one sample with the
fine styles of another); paths between two samples in W. The GAN studio's style sections call these.

Images are ``(B, 28, 28)`` float32 in [0, 1]. ``psi``: truncation in W (``w_avg + psi (w - w_avg)``; None or 1: none,
0: the average digit). ``noise``: "const" (the generator's one fixed draw: a seed always gives the same picture),
"random" (re-drawn from ``noise_seed``) or "none" (the noise inputs switched off).
"""
from __future__ import annotations

import numpy as np
import torch

NOISE_MODES = ("const", "random", "none")


def is_style_based(model) -> bool:
    """Whether ``model`` has per-layer styles to mix (``mapping``, ``synthesis``, ``mix``)."""
    return all(hasattr(model, a) for a in ("mapping", "synthesis", "mix", "n_styles"))


def _check(model, noise: str, psi: float | None) -> None:
    if not is_style_based(model):
        raise ValueError(f"{type(model).__name__} is not a style-based generator (it has no styles to mix)")
    if noise not in NOISE_MODES:
        raise ValueError(f"noise must be one of {NOISE_MODES}, got {noise!r}")
    if psi is not None and not 0 <= psi <= 1:
        raise ValueError(f"psi (truncation in W) must be within 0..1, got {psi}")


def _ws_of(model, seeds, psi: float | None) -> torch.Tensor:
    """w ``(len(seeds), w_dim)`` of each seed's latent (``model.latent(1, seed)``), truncated toward ``w_avg``."""
    z = torch.cat([model.latent(1, int(s)) for s in seeds])
    return model.truncate(model.mapping(z), psi)


def _images(model, ws: torch.Tensor, noise: str, noise_seed: int) -> np.ndarray:
    """ws ``(B, n_styles, w_dim)`` -> images ``(B, 28, 28)``; re-drawn noise differs from image to image."""
    g = torch.Generator().manual_seed(int(noise_seed))
    return model.synthesis(ws, noise=noise, generator=g).detach().float().cpu().numpy()[:, 0]


def _same_noise(model, ws: torch.Tensor, noise: str, noise_seed: int) -> np.ndarray:
    """As :func:`_images`, with the same noise maps for every image (a draw of one, repeated)."""
    if noise != "random":
        return _images(model, ws, noise, noise_seed)
    return np.concatenate([_images(model, ws[i : i + 1], noise, noise_seed) for i in range(len(ws))])


@torch.inference_mode()
def style_samples(model, n: int, seed: int, psi: float | None = None, noise: str = "const", noise_seed: int = 0) -> np.ndarray:
    """``n`` samples ``(n, 28, 28)``, the latents of ``seed`` (the same as every GAN's for it)."""
    _check(model, noise, psi)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    w = model.truncate(model.mapping(model.latent(n, int(seed))), psi)
    return _images(model, model.broadcast(w), noise, noise_seed)


@torch.inference_mode()
def mixing_grid(model, row_seeds, col_seeds, crossover: int, psi: float | None = None, noise: str = "const",
                noise_seed: int = 0) -> np.ndarray:
    """The style-mixing figure as images ``(R + 1, C + 1, 28, 28)``: cell ``[0, 0]`` blank, row 0 the column sources
    (their own styles), column 0 the row sources, cell ``[r, c]`` the first ``crossover`` styles of row source r
    (the coarse ones: the layout, the digit) with the rest from column source c (the finer ones: the stroke).
    Every cell draws the same noise maps, so only the styles differ."""
    _check(model, noise, psi)
    if not 1 <= crossover < model.n_styles:
        raise ValueError(f"crossover must be within 1..{model.n_styles - 1} (styles taken from the row's sample), got {crossover}")
    if not row_seeds or not col_seeds:
        raise ValueError("mixing_grid needs at least one row seed and one column seed")
    wr, wc = _ws_of(model, row_seeds, psi), _ws_of(model, col_seeds, psi)
    r, c = len(wr), len(wc)
    a = wr.repeat_interleave(c, 0)  # (r * c, w_dim): row r's w, c times
    b = wc.repeat(r, 1)
    cells = [model.broadcast(wc), model.broadcast(wr), model.mix(a, b, crossover)]
    imgs = _same_noise(model, torch.cat(cells), noise, noise_seed)
    out = np.zeros((r + 1, c + 1, 28, 28), np.float32)
    out[0, 1:] = imgs[:c]
    out[1:, 0] = imgs[c : c + r]
    out[1:, 1:] = imgs[c + r :].reshape(r, c, 28, 28)
    return out


@torch.inference_mode()
def w_path(model, seed_a: int, seed_b: int, steps: int, psi: float | None = None, noise: str = "const") -> np.ndarray:
    """``steps`` images ``(steps, 28, 28)`` on the straight line from seed A's w to seed B's (W, not Z: the mapping
    network has already unfolded the latent space, so equal steps in W are closer to equal changes in the picture)."""
    _check(model, noise, psi)
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    w = _ws_of(model, [seed_a, seed_b], psi)
    t = torch.linspace(0, 1, steps, device=w.device)[:, None]
    return _same_noise(model, model.broadcast(w[:1] + t * (w[1:] - w[:1])), noise, 0)
