"""What the Draw & reconstruct and Denoise pages compute, without Streamlit.

- :func:`reconstruct_all`: one digit through every autoencoder, with each one's error.
- :func:`reference_errors` / :func:`anomaly_score`: where a reconstruction error falls among MNIST test errors.
- :func:`top_k`: the classifier's most likely digits.
- :func:`denoise_compare` / :func:`denoise_direct`: the denoising AE against the best classical filter.
- :func:`picture_views` / :func:`restored_png`: an uploaded picture's results put back at its size and framing.
- :func:`png_bytes`: an image as an upscaled (nearest-neighbour) PNG, for display and download.

Images are ``(1, 1, 28, 28)`` tensors or ``(28, 28)`` arrays in [0, 1].
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from . import catalogue, noise
from .anomaly import reconstruction_error
from .preprocess import Frame, Steps, restore

# The autoencoders (and VAEs) whose reconstructions the app shows side by side, in display order, and the
# reference for the anomaly score: their roles in the catalogue.
RECONSTRUCTORS = catalogue.with_role("reconstructor")
ANOMALY_MODEL = catalogue.the("anomaly_reference")
UNUSUAL_PERCENTILE = 95.0
NOT_A_DIGIT_PERCENTILE = 99.5


def as_batch(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """(28, 28) array or (1|B, 1, 28, 28) tensor -> float32 tensor (B, 1, 28, 28)."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float32) if isinstance(x, np.ndarray) else x).float()
    if t.dim() == 2:
        t = t[None, None]
    if t.dim() != 4 or tuple(t.shape[1:]) != (1, 28, 28):
        raise ValueError(f"expected a (28, 28) image or a (B, 1, 28, 28) batch, got shape {tuple(t.shape)}")
    return t


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@dataclass
class Reconstruction:
    name: str
    image: np.ndarray  # (28, 28) float32 in [0, 1]
    mse: float  # mean squared error per pixel against the input


@torch.inference_mode()
def reconstruct_all(models: dict[str, torch.nn.Module], x: torch.Tensor | np.ndarray) -> list[Reconstruction]:
    """The reconstruction of one digit ``x`` by each model in ``models`` (in the dict's order)."""
    x = as_batch(x)[:1]
    out = []
    for name, model in models.items():
        r = model.reconstruct(x.to(_device(model))).float().cpu().clamp(0, 1)
        out.append(Reconstruction(name, r[0, 0].numpy(), float(((r - x) ** 2).mean())))
    return out


def reference_errors(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """Per-image reconstruction MSE ``(N,)`` of ``model`` on ``x`` (N, 1, 28, 28), sorted ascending."""
    return np.sort(reconstruction_error(model, x, batch_size).numpy())


@dataclass
class Anomaly:
    error: float
    percentile: float  # % of the reference errors that are <= error
    verdict: str  # "digit", "unusual" or "not a digit"
    message: str


def anomaly_score(error: float, reference: np.ndarray) -> Anomaly:
    """Where ``error`` falls among the sorted ``reference`` errors, and what that means in plain words."""
    if len(reference) == 0:
        raise ValueError("reference errors are empty; expected the per-image errors of a test set")
    pct = 100.0 * np.searchsorted(reference, error, side="right") / len(reference)
    if pct >= NOT_A_DIGIT_PERCENTILE:
        verdict, msg = "not a digit", "This does not look like a digit: the autoencoder reconstructs it worse than almost every MNIST test digit."
    elif pct >= UNUSUAL_PERCENTILE:
        verdict, msg = "unusual", "This is an unusual digit: the autoencoder reconstructs it worse than most MNIST test digits."
    else:
        verdict, msg = "digit", "This looks like an ordinary digit to the autoencoder."
    return Anomaly(float(error), float(pct), verdict, f"{msg} Its error is higher than {pct:.1f}% of the 10,000 MNIST test digits.")


@torch.inference_mode()
def top_k(classifier: torch.nn.Module, x: torch.Tensor | np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The ``k`` most likely digits for one image, as (digit, probability), most likely first."""
    p = classifier.predict_proba(as_batch(x)[:1].to(_device(classifier))).float().cpu()[0]
    probs, digits = p.topk(k)
    return [(int(d), float(q)) for d, q in zip(digits, probs, strict=True)]


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
    out = model.denoise(noisy.to(_device(model))).float().cpu().clamp(0, 1)
    name, classical = noise.best_classical(noisy, clean)
    psnr = {k: float(noise.psnr(clean, v)[0]) for k, v in (("noisy", noisy), ("denoised", out), ("classical", classical))}
    return Denoised(noisy[0, 0].numpy(), out[0, 0].numpy(), classical.clamp(0, 1)[0, 0].numpy(), name, psnr)


@torch.inference_mode()
def denoise_direct(model: torch.nn.Module, noisy: torch.Tensor | np.ndarray, classical: str = "median 3x3") -> Denoised:
    """Denoise an image that is already noisy (an uploaded photo): no clean reference, so no PSNR."""
    noisy = as_batch(noisy)[:1]
    out = model.denoise(noisy.to(_device(model))).float().cpu().clamp(0, 1)
    filt = noise.CLASSICAL_FILTERS[classical](noisy).clamp(0, 1)
    return Denoised(noisy[0, 0].numpy(), out[0, 0].numpy(), filt[0, 0].numpy(), classical, {})


def png_bytes(image: np.ndarray | torch.Tensor, scale: int = 4) -> bytes:
    """A (H, W) image in [0, 1] (or (1, 1, H, W)) as PNG bytes, upscaled ``scale`` times with nearest neighbour
    so the pixels stay crisp in the browser."""
    a = image.detach().float().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, dtype=np.float32)
    a = a.reshape(a.shape[-2:]) if a.ndim > 2 else a
    u8 = (np.clip(np.nan_to_num(a), 0, 1) * 255 + 0.5).astype(np.uint8)
    img = Image.fromarray(u8, "L")
    if scale > 1:
        img = img.resize((u8.shape[1] * scale, u8.shape[0] * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # fast: these are tiny and redrawn often
    return buf.getvalue()


# The uploaded picture, the denoised digit and the classical filter's result side by side: at the picture's
# framing, at most this many pixels (the page shows them about 300 px wide).
VIEW_PIXELS = 320 * 320


def picture_views(steps: Steps | None, result: Denoised, max_pixels: int = VIEW_PIXELS) -> list[np.ndarray]:
    """[the uploaded picture, the denoised digit, the classical filter's result], the last two put back where the
    digit was in the picture (``preprocess.restore``), all at the picture's framing and (display) size. Needs the
    ``steps`` of ``to_mnist(keep_noise=True)``; other steps give the 28x28 images themselves."""
    if steps is None or steps.frame is None:
        return [result.noisy, result.denoised, result.classical]
    picture = steps.gray
    n = min(max_pixels, picture.shape[0] * picture.shape[1])
    return [picture, restore(steps.frame, result.denoised, n), restore(steps.frame, result.classical, n)]


def restored_png(frame: Frame, image: np.ndarray | torch.Tensor) -> bytes:
    """The 28x28 result ``image`` at the uploaded picture's size and framing, as PNG bytes (the download)."""
    return png_bytes(restore(frame, image), scale=1)


def _nice_metric(key: str, value: float) -> tuple[str, str]:
    label = key.removeprefix("val_").replace("_", " ")
    if "accuracy" in key and 0 <= value <= 1:
        return label, f"{value:.2%}"
    if "psnr" in key.lower():
        return label, f"{value:.1f} dB"
    return label, (f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}")


# The evaluation report's measures worth a headline (rep_models.evaluate names), in order of preference.
HEADLINE = [
    ("test_accuracy", "test accuracy", "{:.2%}"),
    # the Draw page's not-a-digit detector reads the classifier's features (rep_models.ood), on the users' path
    ("not_a_digit_flagged_fashion", "clothes photos called not a digit", "{:.0%}"),
    ("not_a_digit_flagged_letters", "printed letters called not a digit", "{:.0%}"),
    ("conditional_agreement", "draws the asked digit", "{:.1%}"),
    ("frechet_distance", "Fréchet distance (lower is better)", "{:.1f}"),
    ("neg_elbo", "−ELBO, nats (lower is better)", "{:.1f}"),
    ("psnr_gaussian_0.3", "PSNR at noise σ=0.3", "{:.1f} dB"),
    ("test_mse", "test MSE", "{:.4f}"),
    ("mse_over_pca32", "error vs PCA(32)", "{:.2f}×"),
    ("largest_angle_to_pca_deg", "angle to PCA subspace", "{:.1f}°"),
    ("anomaly_auroc_fashion", "anomaly AUROC (digits vs clothes)", "{:.3f}"),
    ("few_label_100_accuracy", "accuracy from 100 labels", "{:.1%}"),
]


def headline_metrics(card: dict | None, evaluated: dict | None = None, k: int = 3) -> list[tuple[str, str]]:
    """Up to ``k`` (label, formatted value) pairs for a model: the :data:`HEADLINE` measures of its entry in
    ``pretrained/metrics.json`` (``evaluated``) when there is one, else its card's validation metrics."""
    if isinstance(evaluated, dict) and evaluated:
        picked = [(label, fmt.format(float(evaluated[key]))) for key, label, fmt in HEADLINE
                  if isinstance(evaluated.get(key), (int, float)) and not isinstance(evaluated.get(key), bool)]
        if picked:
            return picked[:k]
    source = evaluated if isinstance(evaluated, dict) and evaluated else ((card or {}).get("metrics") or {}).get("validation") or {}
    flat: list[tuple[str, float]] = []
    for key, v in source.items():
        if key == "measured_with":  # how it was measured (test-set size, date): not a metric
            continue
        if isinstance(v, dict):
            flat += [(f"{key} {k2}", v2) for k2, v2 in v.items() if isinstance(v2, (int, float)) and not isinstance(v2, bool)]
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            flat.append((key, v))
    seen, out = set(), []
    for key, v in flat:  # a loss that *is* the MSE (plain autoencoders) is shown once
        if round(float(v), 10) in seen:
            continue
        seen.add(round(float(v), 10))
        out.append(_nice_metric(key, float(v)))
    return out[:k]
