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
``denoising.denoise_direct`` with the model as the app loads it (``rep_models.fast.optimize``).

Scores (mean over the digits): PSNR and SSIM of the path's 28x28 input (``noisy``) and of the denoised result
against the clean digit put through the same geometric steps (``Frame.apply``: block reduction, shrink, crop,
fit, centre), so resampling is not counted as noise; PSNR of the result against the original 28x28 digit;
``in-app``: the denoiser on the same noisy arrays directly (the Denoise page's "Test digit" path); ``worse``:
the share of digits whose result is further from the clean one than the noisy input was; ``picture``: PSNR
at the uploaded file's size, of the noisy file and of the denoised result put back into it
(``framing.restore``) against the clean file.

The cases, scores and bars are ``rep_models.upload_denoising``. Bars: 28x28 uploads within 1 dB of the in-app figure; enlarged scans within 2 dB; every case closer to the
clean digit than the noisy input was. Writes bench/results/denoise_upload.{md,json} and bench/RESULTS.md.
"""
from __future__ import annotations

import argparse

import torch

from bench.common import header, passfail, table, write_section
from rep_models import data
from rep_models.upload_denoising import bars, cases, load_model, score


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
          "noisy\" on (`decode_image`, `to_mnist(keep_noise=True)`, `denoising.denoise_direct`). PSNR/SSIM are against the clean "
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
