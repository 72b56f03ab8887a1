"""What the latent-space pages compute, without Streamlit: VAE explorer, GAN studio, Linear AE = PCA,
Few labels and Train live.

- Codes and decoding: :func:`encode_all`, :func:`decode_at`, :func:`latent_dim`.
- Directions in a VAE's latent space: :func:`axis_directions`, :func:`principal_directions`,
  :func:`class_means`, :func:`class_direction`, :func:`move`.
- Paths: :func:`lerp`, :func:`slerp`, :func:`interpolate`, :func:`traversal`, :func:`active_dims`.
- The 2-D VAE's manifold: :func:`manifold_grid` and the click <-> code mapping :func:`manifold_to_z`,
  :func:`z_to_manifold`.
- GANs: :func:`gan_samples`, :func:`walk_latents` (a smooth animated walk), :func:`class_histogram`,
  :func:`mode_summary`.
- Linear AE vs PCA: :func:`pca_fit`, :func:`pca_mse`, :func:`principal_angles`, :func:`project_onto`,
  :func:`linear_ae_curve`.
- Few labels: :func:`few_label_curve` (the page's re-runs), :func:`few_label_results` (the evaluation's curves).
- Train live: :class:`TrainJob` (a training run in a thread, with progress, per-batch losses, snapshots and
  cancellation) and :class:`TrainSlot` (one training at a time per process).
- Display: :func:`tile` (many images -> one), :func:`signed_rgb` (weights -> blue/white/red).

Images are ``(H, W)`` or ``(B, H, W)`` float32 numpy arrays in [0, 1]; codes are ``(d,)`` or ``(B, d)``.
"""
from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import norm

from . import catalogue
from .models.base import seeded_normal

# ------------------------------------------------------------------------------------ codes and decoding


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


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
        from .metrics import encode_all as encode_batches

        return encode_batches(model, x, batch_size).numpy()
    dev = _device(model)
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
    dev = _device(model)
    zt = zt.to(dev)
    yt = _labels(y, len(zt), dev)
    img = model.decode(zt, yt) if yt is not None else model.decode(zt)
    img = img.float().clamp(0, 1).cpu().numpy()[:, 0]
    return img[0] if single else img


# ------------------------------------------------------------------------------------------- directions


@dataclass
class Directions:
    """Directions to move a code along: ``z = z0 + sum_i a_i * scales[i] * vectors[i]`` (see :func:`move`)."""

    vectors: np.ndarray  # (k, d) unit vectors
    scales: np.ndarray  # (k,) one slider unit: the codes' std along the direction (or the prior's, 1)
    names: list[str]
    spread: np.ndarray  # (k,) std of the test codes along each direction (small = an unused direction)
    explained: np.ndarray | None = None  # (k,) fraction of the codes' variance (principal directions)


def _check_codes(codes) -> np.ndarray:
    c = np.asarray(codes, dtype=np.float64)
    if c.ndim != 2 or len(c) < 2:
        raise ValueError(f"codes must be (N, d) with N >= 2, got shape {c.shape}")
    return c


def axis_directions(codes, k: int | None = None) -> Directions:
    """The raw latent axes, the most used first (largest spread of the posterior means).

    One slider unit is the prior's standard deviation (1), so ±3 spans the prior. An axis whose codes
    barely move (spread near 0) was switched off by the KL term: moving it changes (almost) nothing.
    """
    c = _check_codes(codes)
    std = c.std(0)
    order = np.argsort(-std)[: k or c.shape[1]]
    eye = np.eye(c.shape[1])
    return Directions(eye[order], np.ones(len(order)), [f"z[{i}]" for i in order], std[order])


def principal_directions(codes, k: int | None = None) -> Directions:
    """PCA of the codes ``(N, d)``: the top ``k`` directions, each scaled by its std (slider ±3 = ±3 sd)."""
    c = _check_codes(codes)
    centred = c - c.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s**2 / (len(c) - 1)
    k = min(k or len(var), len(var))
    std = np.sqrt(var[:k])
    return Directions(vt[:k], std, [f"PC {i + 1}" for i in range(k)], std, var[:k] / max(var.sum(), 1e-12))


def class_means(codes, labels, n_classes: int = 10) -> np.ndarray:
    """The mean code of each digit, ``(n_classes, d)``."""
    c = _check_codes(codes)
    y = np.asarray(labels).reshape(-1)
    if len(y) != len(c):
        raise ValueError(f"codes and labels differ in length: {len(c)} vs {len(y)}")
    missing = [k for k in range(n_classes) if not (y == k).any()]
    if missing:
        raise ValueError(f"no codes for digits {missing}")
    return np.stack([c[y == k].mean(0) for k in range(n_classes)])


def class_direction(codes, labels, a: int, b: int) -> np.ndarray:
    """Mean code of digit ``b`` minus mean code of digit ``a``, ``(d,)``: adding it morphs an ``a`` into a ``b``."""
    for v in (a, b):
        if not 0 <= int(v) <= 9:
            raise ValueError(f"digits must be in 0..9, got {v}")
    means = class_means(codes, labels)
    return means[int(b)] - means[int(a)]


def move(z0, directions: Directions, amounts) -> np.ndarray:
    """``z0 (d,)`` moved by ``amounts (k,)`` slider units along ``directions``; returns ``(d,)`` float32."""
    a = np.asarray(amounts, dtype=np.float64).reshape(-1)
    if len(a) > len(directions.vectors):
        raise ValueError(f"{len(a)} amounts for {len(directions.vectors)} directions")
    step = (a * directions.scales[: len(a)]) @ directions.vectors[: len(a)]
    return (np.asarray(z0, dtype=np.float64) + step).astype(np.float32)


# ------------------------------------------------------------------------------------------------ paths


def lerp(z0, z1, t) -> np.ndarray:
    """Straight line from ``z0`` to ``z1`` (d,) at ``t`` (scalar -> (d,), array (T,) -> (T, d))."""
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    out = z0 + np.multiply.outer(t, z1 - z0)
    return out.astype(np.float32)


def slerp(z0, z1, t) -> np.ndarray:
    """Spherical interpolation: along the great circle, the norm changes smoothly between the endpoints'.

    Why: Gaussian codes live near a sphere of radius sqrt(d); a straight line cuts through its (unlikely)
    inside, so the midpoints of ``lerp`` decode to faded, average-looking digits.
    """
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-8 or n1 < 1e-8:
        return lerp(z0, z1, t)
    omega = math.acos(float(np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0)))
    if math.sin(omega) < 1e-6:  # (anti)parallel: any great circle would do; the line is the honest answer
        return lerp(z0, z1, t)
    t = np.asarray(t, dtype=np.float64)
    w0, w1 = np.sin((1 - t) * omega) / math.sin(omega), np.sin(t * omega) / math.sin(omega)
    return (np.multiply.outer(w0, z0) + np.multiply.outer(w1, z1)).astype(np.float32)


def interpolate(z0, z1, steps: int = 9, method: str = "linear") -> np.ndarray:
    """``steps`` codes ``(steps, d)`` from ``z0`` to ``z1`` (both included); ``method`` linear or spherical."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    t = np.linspace(0.0, 1.0, steps)
    if method == "linear":
        return lerp(z0, z1, t)
    if method == "spherical":
        return slerp(z0, z1, t)
    raise ValueError(f"method must be 'linear' or 'spherical', got {method!r}")


def active_dims(codes, k: int) -> np.ndarray:
    """Indices of the ``k`` latent units whose posterior means vary most over the data (the used ones)."""
    c = _check_codes(codes)
    return np.argsort(-c.var(0))[:k]


def traversal(model, z0, dims, span: float = 3.0, steps: int = 9, y=None) -> np.ndarray:
    """Set each unit in ``dims`` to ``steps`` values in [-span, span] (prior units), the rest at ``z0``:
    images ``(len(dims), steps, 28, 28)``. The classic β-VAE figure: one row per unit."""
    z0 = np.asarray(z0, dtype=np.float32)
    values = np.linspace(-span, span, steps, dtype=np.float32)
    dims = [int(d) for d in dims]
    z = np.repeat(z0[None], len(dims) * steps, 0).reshape(len(dims), steps, -1)
    for r, d in enumerate(dims):
        z[r, :, d] = values
    imgs = decode_at(model, z.reshape(len(dims) * steps, -1), y)
    return imgs.reshape(len(dims), steps, 28, 28)


# ---------------------------------------------------------------------------------------- 2-D manifold


@dataclass
class Manifold:
    """A 2-D VAE's decoder output over a grid of codes at the prior's quantiles.

    Column ``c`` has ``z[0] = values[c]``; row ``r`` has ``z[1] = values[n - 1 - r]`` (up is +z[1]).
    Pixel coordinates are those of ``image``: x to the right, y down, 28 pixels per cell.
    """

    image: np.ndarray  # (n*28, n*28) float32
    values: np.ndarray  # (n,) the code value of each column (and row, bottom to top)
    n: int
    lo: float  # the prior quantiles of the first and last cells' centres
    hi: float


def manifold_grid(model, n: int = 15, lo: float = 0.03, hi: float = 0.97) -> Manifold:
    """Decode an ``n x n`` grid of 2-D codes at prior quantiles ``lo..hi`` into one image (Kingma & Welling's figure)."""
    if latent_dim(model) != 2:
        raise ValueError(f"the manifold grid needs a 2-D latent space, this model has {latent_dim(model)}")
    if n < 2 or not 0 < lo < hi < 1:
        raise ValueError(f"need n >= 2 and 0 < lo < hi < 1, got n={n}, lo={lo}, hi={hi}")
    values = norm.ppf(np.linspace(lo, hi, n)).astype(np.float32)
    zx, zy = np.meshgrid(values, values[::-1])  # row 0 at the top = the largest z[1]
    imgs = decode_at(model, np.stack([zx.ravel(), zy.ravel()], 1))
    image = imgs.reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    return Manifold(image, values, n, lo, hi)


def _cell_to_z(m: Manifold, u: np.ndarray) -> np.ndarray:
    q = m.lo + (m.hi - m.lo) * np.asarray(u, dtype=np.float64) / (m.n - 1)
    return norm.ppf(np.clip(q, 1e-6, 1 - 1e-6))


def _z_to_cell(m: Manifold, z: np.ndarray) -> np.ndarray:
    return (norm.cdf(np.asarray(z, dtype=np.float64)) - m.lo) / (m.hi - m.lo) * (m.n - 1)


def manifold_to_z(m: Manifold, px: float, py: float) -> np.ndarray:
    """The code ``(2,)`` under pixel ``(px, py)`` of ``m.image`` (continuous: between cell centres too)."""
    ux = px / 28.0 - 0.5
    uy = (m.n - 1) - (py / 28.0 - 0.5)
    return _cell_to_z(m, np.array([ux, uy])).astype(np.float32)


def manifold_lattice(m: Manifold) -> tuple[np.ndarray, np.ndarray]:
    """The clickable points of the map (the cell centres and the half-cells between them): pixel positions
    ``(P, 2)`` on ``m.image`` and the codes under them ``(P, 2)``, P = (2n - 1)²."""
    size = m.image.shape[0]
    u = np.linspace(14, size - 14, 2 * m.n - 1)
    gx, gy = np.meshgrid(u, u)
    pixels = np.stack([gx.ravel(), gy.ravel()], 1)
    return pixels, np.array([manifold_to_z(m, px, py) for px, py in pixels])


def manifold_positions(m: Manifold, codes: np.ndarray) -> np.ndarray:
    """Where codes ``(N, 2)`` fall on ``m.image``: pixels ``(N, 2)``."""
    return np.array([z_to_manifold(m, c) for c in np.asarray(codes)]).reshape(-1, 2)


def z_to_manifold(m: Manifold, z) -> tuple[float, float]:
    """Where a code ``(2,)`` falls on ``m.image``, in pixels ``(px, py)`` (may be outside for extreme codes)."""
    ux, uy = _z_to_cell(m, np.asarray(z, dtype=np.float64).reshape(2))
    return float(28.0 * (ux + 0.5)), float(28.0 * ((m.n - 1 - uy) + 0.5))


# ------------------------------------------------------------------------------------------------- GANs


def gan_samples(model, n: int, seed: int, truncation: float | None = None, digit: int | None = None) -> np.ndarray:
    """``n`` samples ``(n, 28, 28)`` of a GAN, repeatable for ``seed``. ``truncation`` t > 0 redraws latent values
    beyond ±t (fewer odd samples, less variety); ``digit`` for the conditional GAN (default: rows cycle 0..9)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    t = truncation if truncation and truncation > 0 else None
    return model.sample(n, seed=int(seed), truncation=t, digit=digit).float().clamp(0, 1).cpu().numpy()[:, 0]


def _circle(z_dim: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two orthogonal vectors per walker ``(n, d)`` of the same (typical) norm: the plane of its great circle."""
    a = seeded_normal((n, z_dim), seed).double().numpy()
    b = seeded_normal((n, z_dim), seed + 7919).double().numpy()
    b -= (np.sum(a * b, 1) / np.sum(a * a, 1))[:, None] * a
    b *= (np.linalg.norm(a, axis=1) / np.maximum(np.linalg.norm(b, axis=1), 1e-12))[:, None]
    return a, b


def walk_latents(z_dim: int, frame: int, n: int = 1, seed: int = 0, period: int = 120, method: str = "circle") -> np.ndarray:
    """The codes ``(n, z_dim)`` of ``n`` walkers at ``frame`` of a smooth, endless latent walk.

    ``circle``: each walker goes round a great circle through random Gaussian points (``period`` frames per
    turn): smooth, periodic, and always at the typical norm. ``random``: slerp between successive random
    points, ``period // 4`` frames per leg. Stateless (a function of the frame), so an animation can resume.
    """
    if z_dim < 1 or n < 1 or period < 4:
        raise ValueError(f"need z_dim >= 1, n >= 1, period >= 4; got {z_dim}, {n}, {period}")
    if method == "circle":
        a, b = _circle(z_dim, n, seed)
        theta = 2 * math.pi * (frame % period) / period
        return (math.cos(theta) * a + math.sin(theta) * b).astype(np.float32)
    if method == "random":
        leg_len = max(2, period // 4)
        leg, t = divmod(frame, leg_len)
        start = seeded_normal((n, z_dim), seed * 100_003 + leg).numpy()
        end = seeded_normal((n, z_dim), seed * 100_003 + leg + 1).numpy()
        return np.stack([slerp(start[i], end[i], t / leg_len) for i in range(n)]).astype(np.float32)
    raise ValueError(f"method must be 'circle' or 'random', got {method!r}")


def walk_frames(model, start: int, n_frames: int, walkers: int = 1, seed: int = 0, period: int = 120,
                method: str = "circle") -> np.ndarray:
    """Frames ``start … start + n_frames - 1`` of the latent walk (:func:`walk_latents`) of a generator or
    decoder, decoded in one batch: ``(n_frames, H, W)``, each frame the walkers' images tiled (:func:`tile`).
    A conditional model draws walker ``i`` as digit ``i % 10``."""
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    z = np.concatenate([walk_latents(latent_dim(model), f, walkers, seed, period, method) for f in range(start, start + n_frames)])
    y = np.tile(np.arange(walkers) % 10, n_frames) if getattr(model, "conditional", False) else None
    images = decode_at(model, z, y=y).reshape(n_frames, walkers, 28, 28)
    return np.stack([tile(frame) for frame in images])


def class_histogram(classifier, images, batch_size: int = 1000) -> tuple[np.ndarray, float]:
    """How many ``images (B, 28, 28)`` the classifier calls each digit: counts ``(10,)`` and mean confidence."""
    from . import metrics

    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    x = x[:, None] if x.dim() == 3 else x
    probs = metrics.predict_proba(classifier, x, batch_size)
    return np.bincount(probs.argmax(1).numpy(), minlength=10), metrics.class_histogram(probs)["mean_top_prob"]


def mode_summary(counts) -> dict[str, float]:
    """Mode collapse in numbers: entropy of the class histogram (bits; 3.32 = all ten equally), digits with at
    least 2 % of the samples, and the share of the most common digit."""
    c = np.asarray(counts, dtype=np.float64)
    if c.sum() <= 0:
        raise ValueError("counts are all zero")
    p = c / c.sum()
    nz = p[p > 0]
    return {"entropy_bits": float(abs((nz * np.log2(nz)).sum())), "digits_covered": int((p >= 0.02).sum()), "top_share": float(p.max())}


# ------------------------------------------------------------------------------------ Linear AE vs PCA


@dataclass
class PCA:
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (D, D) rows, by decreasing variance
    eigenvalues: np.ndarray  # (D,) variances along the components, decreasing


@dataclass
class TwoReconstructions:
    """One digit rebuilt by PCA and by the linear AE (both unclipped, so their errors compare)."""

    original: np.ndarray  # (28, 28)
    pca: np.ndarray  # (28, 28)
    linear_ae: np.ndarray  # (28, 28)
    pca_mse: float
    linear_ae_mse: float


def pca_vs_linear_ae(pca: PCA, k: int, model, x: torch.Tensor) -> TwoReconstructions:
    """Image ``x (1, 1, 28, 28)`` through the top ``k`` components of ``pca`` and through ``model.decode(model.encode(x))``."""
    flat = x.reshape(-1).float().cpu().numpy()
    comps = pca.components[:k]
    r_pca = pca.mean + ((flat - pca.mean) @ comps.T) @ comps
    with torch.inference_mode():
        r_ae = model.decode(model.encode(x.to(_device(model)))).float().cpu().numpy().reshape(-1)
    mse = lambda r: float(np.mean((r - flat) ** 2))  # noqa: E731
    return TwoReconstructions(flat.reshape(28, 28), r_pca.reshape(28, 28), r_ae.reshape(28, 28), mse(r_pca), mse(r_ae))


def pca_fit(x) -> PCA:
    """PCA of images ``(N,1,28,28)`` or rows ``(N, D)`` from the covariance's eigendecomposition."""
    a = torch.as_tensor(np.asarray(x, dtype=np.float32))
    a = a.reshape(len(a), -1)
    if len(a) < 2:
        raise ValueError(f"need at least 2 rows of data, got shape {tuple(a.shape)}")
    mean = a.double().mean(0)
    centred = a - mean.float()
    cov = (centred.T @ centred).double().numpy() / (len(a) - 1)  # the big product in float32 (fast), the rest in float64
    w, v = np.linalg.eigh(cov)
    mean = mean.numpy()
    order = np.argsort(w)[::-1]
    return PCA(mean, v[:, order].T, np.clip(w[order], 0, None))


def pca_mse(eigenvalues, ks) -> np.ndarray:
    """Mean squared error per pixel of the best k-dimensional linear reconstruction, for each k in ``ks``:
    the variance left in the discarded components, ``sum(eigenvalues[k:]) / D``."""
    w = np.asarray(eigenvalues, dtype=np.float64)
    tail = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])
    return np.array([tail[min(int(k), len(w))] for k in ks]) / len(w)


@torch.inference_mode()
def linear_mse(model, x: torch.Tensor, batch_size: int = 2000) -> float:
    """Mean squared error per pixel of ``decode(encode(x))`` without clipping (comparable with :func:`pca_mse`)."""
    dev = _device(model)
    total = 0.0
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(dev)
        total += float(((model.decode(model.encode(xb)) - xb) ** 2).sum())
    return total / (len(x) * 784)


def _orthonormal(a: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(np.asarray(a, dtype=np.float64))
    return q


def principal_angles(a, b) -> np.ndarray:
    """Principal angles in degrees (ascending) between the column spaces of ``a (D, k)`` and ``b (D, m)``.
    All near 0: the two span the same subspace. (``rep_models.metrics.principal_angles_deg``.)"""
    from .metrics import principal_angles_deg

    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"need (D, k) and (D, m) matrices with the same D, got {a.shape} and {b.shape}")
    return principal_angles_deg(a, b)


def project_onto(basis, vectors) -> np.ndarray:
    """Each row of ``vectors (m, D)`` projected onto the column space of ``basis (D, k)``: ``(m, D)``."""
    q = _orthonormal(basis)
    v = np.asarray(vectors, dtype=np.float64)
    return (v @ q) @ q.T


def decoder_columns(linear_ae) -> np.ndarray:
    """The linear AE's decoder weights as images ``(k, 28, 28)``: what each code unit adds to the output."""
    return linear_ae.decoder.weight.detach().float().cpu().numpy().T.reshape(-1, 28, 28)


def linear_ae_curve(x: torch.Tensor, sizes, epochs: int = 5, seed: int = 0, lr: float = 3e-3, x_eval: torch.Tensor | None = None,
                    on_size=None) -> dict[int, float]:
    """Train a fresh linear AE for each code size on ``x (N,1,28,28)``; returns ``{size: MSE per pixel on x_eval}``
    (default ``x``). ``on_size(i, size)`` is called before each one (progress)."""
    from .models import build
    from .train import fit

    out = {}
    for i, k in enumerate(sizes):
        if on_size is not None:
            on_size(i, k)
        model = build("linear_ae", latent_dim=int(k))
        fit(model, x, torch.zeros(len(x), dtype=torch.long), epochs=epochs, batch_size=256, lr=lr, seed=seed)
        out[int(k)] = linear_mse(model, x if x_eval is None else x_eval)
    return out


# -------------------------------------------------------------------------------------------- few labels


FEW_LABEL_METHODS = {
    "logistic": "logistic regression on the frozen codes",
    "spreading": "labels spread over the codes' 10-nearest-neighbour graph",
}


def few_label_curve(train_codes, train_labels, test_codes, test_labels, counts, draws: int = 3, seed: int = 0,
                    method: str = "logistic") -> list[tuple[int, float, float]]:
    """``[(n_labels, mean accuracy, std), ...]`` per count, ``draws`` random labelled subsets each: a logistic
    regression on ``n_labels`` labelled codes (``rep_models.metrics.few_label_accuracy``) or, with
    ``method="spreading"``, those labels spread over the neighbour graph of all the codes
    (``rep_models.metrics.few_label_spreading_accuracy``)."""
    from .metrics import few_label_accuracy, few_label_spreading_accuracy

    if method not in FEW_LABEL_METHODS:
        raise ValueError(f"method must be one of {list(FEW_LABEL_METHODS)}, got {method!r}")
    fn = few_label_accuracy if method == "logistic" else few_label_spreading_accuracy
    return [(int(n), *fn(train_codes, train_labels, test_codes, test_labels, int(n), draws=draws, seed=seed)) for n in counts]


def few_label_results(report: dict) -> dict[str, list[tuple[int, float, float]]]:
    """The few-label curves of an evaluation report (``pretrained/metrics.json``): ``{name: [(n_labels, accuracy,
    std), ...]}`` sorted by ``n_labels``, ``{}`` if there are none. ``rep_models.evaluate`` writes each curve into
    its representation's entry as ``report[name]["few_label_curve"] = [{"labels", "accuracy", "std", "draws"}, ...]``
    (raw pixels, every encoder; one point per fine-tuned classifier, ``catalogue.FINE_TUNED``); a malformed row
    is skipped rather than break the page."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for name, entry in report.items() if isinstance(report, dict) else ():
        rows = entry.get("few_label_curve") if isinstance(entry, dict) else None
        points = []
        for row in rows if isinstance(rows, list) else ():
            try:
                points.append((int(row["labels"]), float(row["accuracy"]), float(row.get("std") or 0.0)))
            except (TypeError, ValueError, KeyError, AttributeError):
                continue
        if points:
            out[str(name)] = sorted(points)
    return out


# -------------------------------------------------------------------------------------------- train live

TRAINABLE = catalogue.LIVE_RECIPES  # the small models the Train-live page may train (rep_models.catalogue)
MAX_EPOCHS = 20
MAX_SAMPLES = 10_000
HEARTBEAT_TIMEOUT = 8.0  # seconds without a page poll: the session is gone, stop training


@dataclass
class TrainState:
    """A snapshot of a :class:`TrainJob` for display."""

    name: str
    status: str  # "running", "done", "cancelled" or "failed"
    epochs: int
    samples: int
    batches_done: int
    batches_total: int
    losses: list[tuple[int, str, float]]  # (batch, series, training loss) per batch
    records: list[dict]  # one per finished epoch (from train.fit)
    snapshot: np.ndarray | None  # (H, W) reconstructions or samples after the last epoch
    seconds: float
    message: str = ""

    @property
    def progress(self) -> float:
        return min(1.0, self.batches_done / max(1, self.batches_total))


@dataclass
class TrainJob:
    """Train a fresh copy of a small model in a background thread, never touching the shipped weights.

    ``x (N,1,28,28)``, ``y (N,)`` is the training data; ``val`` a few held-out ``(x, y)`` for the epoch records
    and the snapshots. The job stops early when :meth:`cancel` is called or when nobody has called
    :meth:`heartbeat` for ``heartbeat_timeout`` seconds (the browser tab was closed).
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    val: tuple[torch.Tensor, torch.Tensor]
    epochs: int = 3
    batch_size: int = 128
    seed: int = 0
    device: str | torch.device = "cpu"
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT
    owner: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.name not in TRAINABLE:
            raise ValueError(f"cannot train {self.name!r} live; expected one of {sorted(TRAINABLE)}")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be in 1..{MAX_EPOCHS}, got {self.epochs}")
        if not 1 <= len(self.x) <= MAX_SAMPLES or len(self.x) != len(self.y):
            raise ValueError(f"need 1..{MAX_SAMPLES} training images with as many labels, got {len(self.x)} and {len(self.y)}")
        self._batches = 0
        self._losses: list[tuple[int, str, float]] = []
        self._records: list[dict] = []
        self._snapshot: np.ndarray | None = None
        self._status = "running"
        self._message = ""
        self._t0 = time.time()
        self._t1: float | None = None
        self._seen = time.time()
        self.batches_total = self.epochs * math.ceil(len(self.x) / self.batch_size)
        self.model = None

    # -- control
    def start(self) -> TrainJob:
        self._thread = threading.Thread(target=self._run, name=f"train-live-{self.name}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def heartbeat(self) -> None:
        self._seen = time.time()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def should_stop(self) -> bool:
        # fit() polls this after every batch and after every epoch: it must not count batches.
        if time.time() - self._seen > self.heartbeat_timeout:
            with self._lock:
                self._message = "stopped: the page that started it was closed"
            self._cancel.set()
        return self._cancel.is_set()

    def _batch_done(self) -> None:
        with self._lock:
            self._batches += 1

    def state(self) -> TrainState:
        with self._lock:
            return TrainState(self.name, self._status, self.epochs, len(self.x), min(self._batches, self.batches_total), self.batches_total,
                              list(self._losses), list(self._records), self._snapshot,
                              (self._t1 or time.time()) - self._t0, self._message)

    # -- the work
    def _tap(self, model, method: str, series: str) -> None:
        """Record each training batch's loss by wrapping one loss method of this session's copy of the model
        (``fit`` reports only per epoch; a live chart wants every batch)."""
        orig = getattr(model, method)

        def tapped(batch):
            out = orig(batch)
            if model.training:
                with self._lock:
                    self._losses.append((self._batches, series, float(out["loss"].detach())))
            return out

        setattr(model, method, tapped)

    @torch.inference_mode()
    def _make_snapshot(self, model) -> np.ndarray:
        was_training = model.training
        model.eval()
        try:
            if model.family == "gan":
                img = tile(gan_samples(model, 32, seed=0), ncols=8)
            else:
                xv = self.val[0][:8].to(_device(model))
                rec = model.reconstruct(xv).float().clamp(0, 1).cpu().numpy()[:, 0]
                rows = [xv.cpu().numpy()[:, 0], rec]
                if model.family == "vae":
                    rows.append(model.sample(8, seed=0).float().cpu().numpy()[:, 0])
                img = tile(np.concatenate(rows), ncols=8)
        finally:
            model.train(was_training)
        return img

    def _on_epoch(self, record: dict) -> None:
        snap = self._make_snapshot(self.model)
        with self._lock:
            self._records.append(record)
            self._snapshot = snap

    def _run(self) -> None:
        from .models import build
        from .train import fit

        try:
            recipe = TRAINABLE[self.name]
            # Initial weights from the process's generator, without reseeding it: a seed here would reset the stream
            # every other request of the server draws from. ``seed`` fixes the batches and the model's noise (fit).
            model = build(recipe.model, **recipe.config).to(self.device)
            if model.trainer == "gan":
                self._tap(model, "discriminator_loss", "discriminator")
                self._tap(model, "generator_loss", "generator")
            else:
                self._tap(model, "loss", "training loss")
            snap = self._make_snapshot(model)  # the untrained model: noise
            with self._lock:
                self.model, self._snapshot = model, snap
            fit(model, self.x, self.y, epochs=self.epochs, batch_size=self.batch_size, lr=recipe.lr, seed=self.seed,
                device=self.device, val=self.val, on_epoch=self._on_epoch, should_stop=self.should_stop,
                on_batch_end=self._batch_done)
            with self._lock:
                self._status = "cancelled" if self._cancel.is_set() else "done"
                self._message = self._message or ("stopped" if self._cancel.is_set() else "")
        except Exception as e:  # noqa: BLE001 - report in the page, never kill the server
            with self._lock:
                self._status = "failed"
                self._message = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            with self._lock:
                self._t1 = time.time()


class TrainSlot:
    """One training at a time per process: :meth:`claim` refuses a new job while another is running."""

    def __init__(self):
        self._lock = threading.Lock()
        self.job: TrainJob | None = None

    def claim(self, job: TrainJob) -> bool:
        """Start ``job`` if no other job is running; False (and nothing started) otherwise."""
        with self._lock:
            if self.job is not None and self.job.running:
                return False
            self.job = job.start()
            return True

    def current(self) -> TrainJob | None:
        return self.job


# ---------------------------------------------------------------------------------------------- display


def tile(images, ncols: int | None = None, pad: int = 2, pad_value: float = 0.25) -> np.ndarray:
    """Images ``(B, H, W)`` as one ``(rows*(H+pad)-pad, ncols*(W+pad)-pad)`` image, row by row; the gaps are grey.
    ``ncols`` defaults to a square-ish grid."""
    imgs = np.asarray(images, dtype=np.float32)
    if imgs.ndim != 3 or len(imgs) == 0:
        raise ValueError(f"images must be (B, H, W) with B >= 1, got shape {imgs.shape}")
    b, h, w = imgs.shape
    ncols = int(ncols or math.ceil(math.sqrt(b)))
    nrows = math.ceil(b / ncols)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, np.float32)
    for i, img in enumerate(imgs):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return out


def signed_rgb(v, scale: int = 1) -> np.ndarray:
    """A signed image ``(H, W)`` as RGB uint8 ``(H*scale, W*scale, 3)``: negative blue, zero white, positive red
    (symmetric around 0, so the sign of a weight is visible)."""
    a = np.asarray(v, dtype=np.float64)
    m = np.abs(a).max()
    t = a / m if m > 0 else a
    pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
    rgb = np.stack([1 - neg, 1 - pos - neg, 1 - pos], -1)  # white -> red for +, white -> blue for -
    rgb = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    if scale > 1:
        rgb = rgb.repeat(scale, 0).repeat(scale, 1)
    return rgb
