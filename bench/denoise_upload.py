"""Denoising what users upload: noisy MNIST test digits made into files, put through the app's own input path,
denoised, and scored against the clean digit.

    python -m bench.denoise_upload                  # 1,000 test digits per case (about 15 minutes on one core)
    python -m bench.denoise_upload --n 200          # a quicker run
    python -m bench.denoise_upload --model out/denoising_ae   # another checkpoint (default: the shipped one)

Each case is a file format (``rep_models.uploads.FORMATS``: 28x28 PNGs, enlarged scans dark on light and light
on dark, smooth off-centre scans, JPEG copies) times a noise (Gaussian sigma 0.1 / 0.3 / 0.5, salt and pepper
10 / 20 %: the very arrays ``noise.corrupt(x, kind, level, seed=0)`` the in-app figures use), plus photos of
digits with camera sensor noise (``uploads.photo``). A file goes through exactly what the Denoise page calls
with "My picture is already noisy" on: ``decode_image`` and ``to_mnist(keep_noise=True)`` on its bytes, then
``inspect.denoise_direct`` with the model as the app loads it (``rep_models.fast.optimize``).

Scores (mean over the digits): PSNR and SSIM of the path's 28x28 input (``noisy``) and of the denoised result
against the clean digit put through the same geometric steps (``Frame.apply``: block reduction, shrink, crop,
fit, centre), so resampling is not counted as noise; PSNR of the result against the original 28x28 digit;
``in-app``: the denoiser on the same noisy arrays directly (the Denoise page's "Test digit" path); ``worse``:
the share of digits whose result is further from the clean one than the noisy input was; ``picture``: PSNR
at the uploaded file's size, of the noisy file and of the denoised result put back into it
(``preprocess.restore``) against the clean file.

Bars: 28x28 uploads within 1 dB of the in-app figure; enlarged scans within 2 dB; every case closer to the
clean digit than the noisy input was. Writes bench/results/denoise_upload.{md,json} and bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch

from bench.common import header, passfail, table, write_section
from rep_models import checkpoint, data, fast, noise, uploads
from rep_models import inspect as rinspect
from rep_models.preprocess import restore

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


def load_model(path: str | None):
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
        r = rinspect.denoise_direct(model, steps.final)  # what the page calls
        noisy.append(steps.final)
        den.append(r.denoised)
        ref.append(np.clip(steps.frame.apply(clean_geom), 0, 1))
        seen = steps.gray  # the file as decoded (at most preprocess.WORK_SIDE a side: every benchmark file but the photos)
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


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000, help="test digits per case (the first n)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 50 digits per case")
    p.add_argument("--model", help="a checkpoint path without extension (default: the shipped denoising_ae)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    x, _ = data.load_tensors("mnist", "test", source="sample")
    x = x[: 50 if args.quick else args.n]
    model = load_model(args.model)
    rows = []
    for case in cases(x):
        row = score(case, model, x)
        row["bars"] = {name: passfail(ok) for name, ok in bars(row)}
        rows.append(row)
        print(f"{row['case']:<34} noisy {row['psnr_noisy']:5.2f}  denoised {row['psnr_denoised']:5.2f}  in-app "
              f"{row.get('psnr_in_app', float('nan')):5.2f}  {row['bars']}", flush=True)
    failed = [(r["case"], b) for r in rows for b, v in r["bars"].items() if v != "PASS"]
    table_rows = [{
        "case": r["case"], "file": r["file"], "noise": r["noise"],
        "in-app dB": r.get("psnr_in_app"), "noisy dB": r["psnr_noisy"], "denoised dB": r["psnr_denoised"],
        "Δ in-app dB": (r["psnr_denoised"] - r["psnr_in_app"]) if "psnr_in_app" in r else None,
        "vs original dB": r["psnr_denoised_vs_original"],
        "SSIM in-app": r.get("ssim_in_app"), "SSIM noisy": r["ssim_noisy"], "SSIM denoised": r["ssim_denoised"],
        "worse %": 100 * r["worse_share"],
        "picture dB (noisy → denoised)": (f"{r['picture_psnr_noisy']:.1f} → {r['picture_psnr_denoised']:.1f}"
                                          if r["picture_psnr_noisy"] is not None else ""),
        "bars": ", ".join(f"{b}: {v}" for b, v in r["bars"].items()),
    } for r in rows]
    model_name = args.model or "the shipped denoising_ae (pretrained/denoising_ae)"
    md = [header("Denoising uploads: the app's input path", f"- Model: {model_name}; {len(x):,} MNIST test digits per case (the first {len(x):,})"),
          "",
          "Noisy test digits made into files and put through exactly what the Denoise page calls with \"My picture is already "
          "noisy\" on (`decode_image`, `to_mnist(keep_noise=True)`, `inspect.denoise_direct`). PSNR/SSIM are against the clean "
          "digit put through the same geometric steps; `in-app`: the denoiser on the same noisy arrays directly; `vs original`: "
          "the result against the original 28x28 digit; `worse %`: digits whose result is further from the clean one than the "
          "noisy input; `picture`: PSNR at the file's own size, the noisy file and the result put back into it, against the "
          "clean file. Bars: 28x28 files within 1 dB of in-app, enlarged scans within 2 dB, every case closer to the clean "
          "digit than its noisy input.",
          "",
          f"**Bars: {'all pass' if not failed else f'{len(failed)} FAIL: ' + '; '.join(f'{c} ({b})' for c, b in failed)}** "
          f"({sum(len(r['bars']) for r in rows)} checks over {len(rows)} cases).",
          "",
          table(table_rows)]
    write_section("denoise_upload", "\n".join(md), {"model": model_name, "n": len(x), "rows": rows})
    print(f"{len(failed)} bars failed" if failed else "every bar passes")


if __name__ == "__main__":
    main()
