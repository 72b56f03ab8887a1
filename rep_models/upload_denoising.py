"""The denoiser scored on what users upload: noisy MNIST test digits made into files (``rep_models.uploads``),
put through the Denoise page's own path (``decode_image``, ``to_mnist(keep_noise=True)``, then
``rep_models.denoising.denoise_direct``) and compared with the clean digit. ``python -m bench.denoise_upload``
reports every case; tests/test_denoise_upload.py checks the bars on a subset. Images are ``(N, 1, 28, 28)``
tensors in [0, 1]; bench/denoise_upload.py's docstring says what each score means.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from . import checkpoint, fast, noise, uploads
from .denoising import denoise_direct
from .framing import restore

NOISES = [("gaussian", 0.1), ("gaussian", 0.3), ("gaussian", 0.5), ("salt_pepper", 0.1), ("salt_pepper", 0.2)]
PHOTOS = [("photo", 0.08, False), ("photo_grainy", 0.2, False), ("photo_dim", 0.1, True)]  # name, sensor noise, dim light
TOLERANCE_DB = {"28x28": 1.0, "scan": 2.0}  # how far below the in-app figure a case may be


@dataclass
class Case:
    name: str
    file: str  # what the upload is
    noise: str
    group: str  # "28x28", "scan", "jpeg" or "photo": which bar applies
    uploads: list  # (bytes, clean reference at the file's geometry, white on black, clean file or None) per digit
    noisy_arrays: torch.Tensor | None  # the in-app noisy digits (None for photos)


def noise_label(kind: str, level: float) -> str:
    return f"Gaussian σ={level:g}" if kind == "gaussian" else f"salt & pepper {level:.0%}"


def group_of(fmt: uploads.UploadFormat) -> str:
    if fmt.jpeg:
        return "jpeg"
    return "scan" if fmt.enlarged else "28x28"


def load_model(path: str | None = None):
    """The denoiser at checkpoint ``path`` (default: the shipped one) as the app runs it (``fast.optimize``)."""
    model = checkpoint.load(path) if path else checkpoint.load_pretrained("denoising_ae", "cpu")
    return fast.optimize(model).eval()


def cases(x: torch.Tensor, formats: list[str] | None = None, photos: bool = True):
    """Yield every :class:`Case` for the clean digits ``x (N,1,28,28)``."""
    for kind, level in NOISES:
        noisy = noise.corrupt(x, kind, level, seed=0)
        for name in formats or list(uploads.FORMATS):
            fmt = uploads.FORMATS[name]
            items = []
            for i in range(len(x)):
                ref = fmt.render(x[i, 0].numpy())
                items.append((fmt.encode(noisy[i, 0].numpy()), ref, 1.0 - ref if fmt.dark_on_light else ref))
            yield Case(f"{name}/{kind}_{level:g}", fmt.label, noise_label(kind, level), group_of(fmt), items, noisy)
    if photos:
        for name, level, dim in PHOTOS:
            items = [(*uploads.photo(x[i, 0].numpy(), level, seed=i, dark=dim), None) for i in range(len(x))]
            what = f"photo of a digit on paper{', dim light' if dim else ''}, phone JPEG"
            yield Case(f"{name}/sensor_{level:g}", what, f"sensor noise {level:g}", "photo", items, None)


def score(case: Case, model, x: torch.Tensor) -> dict:
    """Run one case through the app's path; the mean scores (see the module docstring)."""
    t0 = time.perf_counter()
    noisy, den, ref, pic_noisy, pic_den, refused = [], [], [], [], [], 0
    for (blob, clean_geom, clean_file), orig in zip(case.uploads, x, strict=True):
        try:
            steps = uploads.through_path(blob)
        except ValueError:  # ImageError: the path found nothing to denoise (counted, scored as a blank result)
            refused += 1
            noisy.append(np.zeros((28, 28), np.float32))
            den.append(np.zeros((28, 28), np.float32))
            ref.append(orig[0].numpy())
            continue
        r = denoise_direct(model, steps.final)  # what the page calls
        noisy.append(steps.final)
        den.append(r.denoised)
        ref.append(np.clip(steps.frame.apply(clean_geom), 0, 1))
        seen = steps.gray  # the file as decoded (at most image_decode.WORK_SIDE a side: every benchmark file but the photos)
        if clean_file is not None and seen.shape == clean_file.shape:
            back = restore(steps.frame, r.denoised, max_pixels=seen.size)
            if back.shape == clean_file.shape:
                pic_noisy.append(float(noise.psnr(torch.from_numpy(clean_file)[None, None], torch.from_numpy(seen)[None, None])))
                pic_den.append(float(noise.psnr(torch.from_numpy(clean_file)[None, None], torch.from_numpy(back)[None, None])))
    seconds = time.perf_counter() - t0
    t = lambda arrs: torch.from_numpy(np.stack(arrs))[:, None]  # noqa: E731
    noisy_t, den_t, ref_t = t(noisy), t(den), t(ref)
    p_noisy, p_den = noise.psnr(ref_t, noisy_t), noise.psnr(ref_t, den_t)
    out = {
        "case": case.name, "file": case.file, "noise": case.noise, "group": case.group, "n": len(x), "refused": refused,
        "psnr_noisy": float(p_noisy.mean()), "psnr_denoised": float(p_den.mean()),
        "psnr_denoised_vs_original": float(noise.psnr(x, den_t).mean()),
        "ssim_noisy": float(noise.ssim(ref_t, noisy_t).mean()), "ssim_denoised": float(noise.ssim(ref_t, den_t).mean()),
        "worse_share": float((p_den <= p_noisy).float().mean()),
        "picture_psnr_noisy": float(np.mean(pic_noisy)) if pic_noisy else None,
        "picture_psnr_denoised": float(np.mean(pic_den)) if pic_den else None,
        "ms_per_upload": 1e3 * seconds / len(x),
    }
    if case.noisy_arrays is not None:
        with torch.inference_mode():
            inapp = model.denoise(case.noisy_arrays).float().clamp(0, 1)
        out["psnr_in_app"] = float(noise.psnr(x, inapp).mean())
        out["ssim_in_app"] = float(noise.ssim(x, inapp).mean())
    return out


def bars(row: dict) -> list[tuple[str, bool]]:
    """(bar, passed) for one case's row."""
    out = [("closer to the clean digit than the noisy input", row["psnr_denoised"] > row["psnr_noisy"])]
    tol = TOLERANCE_DB.get(row["group"])
    if tol is not None:
        out.append((f"within {tol:g} dB of in-app", row["psnr_denoised"] >= row["psnr_in_app"] - tol))
    return out
