"""Measure every shipped model against its quality bars (``rep_models.catalogue``) and write ``pretrained/metrics.json``.

    python -m rep_models.evaluate                   # every shipped model, the full MNIST test set
    python -m rep_models.evaluate --fast            # 2,000 test images, fewer samples: a quick check
    python -m rep_models.evaluate --only vae dcgan  # some models (the others' entries are kept)
    python -m rep_models.evaluate --projections     # (re)compute the 2-D maps and their quality
    python -m rep_models.evaluate --few-label-curves  # only the few-label curves (the rest of the file is kept)

Every measure is reported for every model it applies to, not only where there is a bar (e.g. the MLP
GAN's class histogram beside the DCGAN's). ``metrics.json`` holds ``{model: {measure: value}}``, the
``bars`` (``{model, measure, value, bar, passed}``), ``projections`` (map quality) and ``meta``.

Few-label curves: for raw pixels (``pixels``) and every encoder, ``few_label_curve`` is
``[{"labels": n, "accuracy": mean, "std": spread, "draws": k}, ...]``: a logistic regression on the frozen codes of
``n`` labelled training digits (``n // 10`` per class) at every budget of :data:`FEW_LABEL_BUDGETS`, scored on the
test set, mean and standard deviation over ``k`` random labelled subsets (:func:`few_label_draws`); for a fine-tuned
classifier (the SdA) one row, its test accuracy at the label count its recipe trained it with.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import catalogue, checkpoint, lesson, metrics
from .bars import check_bars
from .data import load_tensors
from .model_measures import (
    IWAE_K,
    Context,
    eval_autoencoder,
    eval_codes,
    eval_dbn,
    eval_rbm,
    eval_samples,
    eval_vae,
    few_label_curve,
    few_label_measures,
    load_model,
    make_context,
    trained_labels,
)
from .zoo import ZOO

FEW_LABEL_REPS = ["pixels", *catalogue.FEW_LABEL_ENCODERS, *catalogue.FINE_TUNED]  # what --few-label-curves measures


# ------------------------------------------ per-family measures (the classifier's; the others: rep_models.model_measures)

def eval_classifier(name: str, model, ctx: Context) -> dict:
    err = metrics.classifier_error(model, ctx.x_test, ctx.y_test)
    out = {"test_error": err, "test_accuracy": 1 - err}
    out["labels_used"] = ZOO[name].get("train", {}).get("labels", 0) or "all"
    if ctx.few_label_curves and "fine_tuned" in catalogue.entry(name).roles:  # one model per budget: one point
        out["few_label_curve"] = [{"labels": trained_labels(name, len(ctx.x_train)), "accuracy": 1 - err, "std": 0.0, "draws": 1}]
    if ctx.users_path and name == "classifier":
        out.update(eval_not_a_digit(model, ctx))
    return out


def eval_not_a_digit(classifier, ctx: Context) -> dict:
    """The Draw page's not-a-digit detector on inputs made the way users send them (``rep_models.ood.users_path``:
    the test digits, Fashion-MNIST, letters, hand-drawn figures), with the conv AE's old verdict beside it."""
    from . import ood, precomputed

    ae, anomaly = catalogue.the("anomaly_reference"), None
    if (ctx.directory / f"{ae}.json").is_file():
        anomaly = (load_model(ae, ctx.directory), precomputed.get(f"anomaly_{ae}")["errors"])
    dets = ood.detectors(precomputed.get(ood.ITEM))
    m = ood.users_path(classifier, dets, ctx.x_test, ctx.x_fashion, n_made=1000 if ctx.fast else 2000, baseline=anomaly,
                       log=lambda msg: print(msg, file=sys.stderr, flush=True))
    return ood.metrics_entry(m)


def evaluate_model(name: str, ctx: Context) -> dict | None:
    model = load_model(name, ctx.directory)
    if model is None:
        return None
    t = time.perf_counter()
    # By what the model is (its family), not by its name.
    if model.family == "classifier":
        out = eval_classifier(name, model, ctx)
    elif model.family == "vae":
        out = eval_vae(name, model, ctx)
    elif model.family == "gan":
        out = eval_samples(name, model, ctx)
        if hasattr(model, "synthesis") and ctx.classifier is not None:  # a style-based generator: its styles mixed
            out.update(metrics.style_mixing(model, ctx.classifier, n_pairs=2000, seed=0))
    elif model.family == "rbm":
        out = eval_rbm(name, model, ctx)
    elif model.family == "dbn":
        out = eval_dbn(name, model, ctx)
    elif model.family == "encoder":  # no decoder: only its codes are measured (below)
        out = {}
    else:
        out = eval_autoencoder(name, model, ctx)
    if name in catalogue.FEW_LABEL_ENCODERS or "lesson" in catalogue.entry(name).roles:
        out.update(eval_codes(name, model, ctx))
    card = checkpoint.read_card(ctx.directory / name)
    if card.get("train_options", {}).get("limit"):  # trained on the first ``limit`` training digits only: how it does on those and on new ones
        out.update(lesson.memorised(model, lesson.memory_digits(card), ctx.x_test))
    out["train_seconds"] = card.get("wall_seconds")
    out["file_mb"] = round((ctx.directory / f"{name}.safetensors").stat().st_size / 2**20, 3)
    out["eval_seconds"] = round(time.perf_counter() - t, 1)
    return out


def evaluate_reference(ctx: Context, pixel_curve: bool = True) -> dict:
    """Measures of the data themselves: raw pixels with 100 labels (and, with ``ctx.few_label_curves`` and
    ``pixel_curve``, their few-label curve), and the Frechet distance between 10,000 real training images and the
    test set (the floor any generator's distance is read against)."""
    n = ctx.n_code_train or len(ctx.x_train)
    pixels = few_label_measures(ctx.x_train[:n].flatten(1), ctx.x_test.flatten(1), ctx, ctx.few_label_curves and pixel_curve)
    out = {"pixels": pixels, "pca32": {"test_mse": ctx.pca_mse}}
    if ctx.classifier is not None:
        g = torch.Generator().manual_seed(1)
        real = ctx.x_train[torch.randperm(len(ctx.x_train), generator=g)[: ctx.n_samples]]
        out["real_data"] = {
            "frechet_distance": metrics.frechet_distance(metrics.classifier_features(ctx.classifier, real), ctx.test_features),
            **{f"samples_{k}": v for k, v in metrics.class_histogram(metrics.predict_proba(ctx.classifier, real)).items()},
            "n_samples": len(real),
        }
    return out


def few_label_curves(ctx: Context, names=None) -> dict[str, list[dict]]:
    """``{name: few_label_curve}`` for raw pixels (``"pixels"``), the encoders and the fine-tuned classifiers among
    ``names`` (default :data:`FEW_LABEL_REPS`, all of them); a model without a shipped file is skipped."""
    unknown = [n for n in names or () if n not in FEW_LABEL_REPS]
    if unknown:
        raise ValueError(f"no few-label curve for {unknown}; expected some of {FEW_LABEL_REPS}")
    ctx = dataclasses.replace(ctx, few_label_curves=True)
    n = ctx.n_code_train or len(ctx.x_train)
    out = {}
    for name in names or FEW_LABEL_REPS:
        t = time.perf_counter()
        model = None if name == "pixels" else load_model(name, ctx.directory)
        if name == "pixels":
            out[name] = few_label_curve(ctx.x_train[:n].flatten(1), ctx.y_train[:n], ctx.x_test.flatten(1), ctx.y_test)
        elif model is None:
            print(f"[few-label curves] {name}: no shipped file, skipped", file=sys.stderr)
            continue
        elif name in catalogue.FEW_LABEL_ENCODERS:
            out[name] = eval_codes(name, model, ctx)["few_label_curve"]
        else:  # fine-tuned: its test accuracy at the labels it was trained with
            out[name] = eval_classifier(name, model, ctx)["few_label_curve"]
        print(f"[few-label curves] {name} ({time.perf_counter() - t:.0f} s): "
              + ", ".join(f"{r['labels']}: {r['accuracy']:.4f} ± {r['std']:.4f}" for r in out[name]), file=sys.stderr, flush=True)
    return out


def _curves_meta(ctx: Context, command: str, names, seconds: float) -> dict:
    return {"command": command, "names": list(names), "n_train": ctx.n_code_train or len(ctx.x_train), "n_test": len(ctx.x_test),
            "fast": ctx.fast, "seconds": round(seconds, 1), "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def write_few_label_curves(directory: Path, out_path: Path, fast: bool, names=None, command: str = "") -> dict:
    """Measure the few-label curves (:func:`few_label_curves`) and merge them into the metrics file: each one into
    its representation's entry, the run into ``meta["few_label_curves"]``; every other key is kept."""
    t = time.perf_counter()
    ctx = make_context(directory, fast, baselines=False)
    curves = few_label_curves(ctx, names)
    merged = json.loads(out_path.read_text()) if out_path.is_file() else {}  # read now: another run may have written it
    for name, rows in curves.items():
        merged.setdefault(name, {})["few_label_curve"] = rows
    merged.setdefault("meta", {})["few_label_curves"] = _curves_meta(ctx, command, curves, time.perf_counter() - t)
    merged["bars"] = check_bars(merged)
    out_path.write_text(json.dumps(_clean(merged), indent=1) + "\n")
    return merged


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3g}"


# ------------------------------------------------------------------------------------------ projections

def compute_projections(directory: Path, reps=None, methods=None, n: int | None = None, n_jobs: int = 2) -> dict:
    """Fit and save every 2-D map of the MNIST test set; returns ``{rep: {method: quality}}``."""
    from . import projections as P

    x, y = load_tensors("mnist", "test")
    if n:
        x, y = x[:n], y[:n]
    out = {}
    for rep in reps or P.REPS:
        model = None
        if rep != "pixels":
            model = load_model(rep, directory)
            if model is None:
                print(f"[projections] {rep}: no shipped model, skipped", file=sys.stderr)
                continue
        codes = P.codes_for(rep, x, model=model)
        t = time.perf_counter()
        out[rep] = P.compute_and_save(rep, codes, y.numpy(), methods=tuple(methods or P.METHODS), directory=directory, n_jobs=n_jobs)
        print(f"[projections] {rep}: {json.dumps(out[rep])} ({time.perf_counter() - t:.0f} s)", file=sys.stderr, flush=True)
    return out


# ------------------------------------------------------------------------------------------------- main

def _clean(obj):
    """JSON-ready: floats rounded to 6 significant digits, numpy scalars unwrapped."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(f"{float(obj):.6g}")
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fast", action="store_true", help="2,000 test images and fewer samples")
    p.add_argument("--only", nargs="+", metavar="NAME", help="evaluate only these models (the file keeps the others)")
    p.add_argument("--projections", action="store_true", help="(re)compute the 2-D maps instead of the model metrics")
    p.add_argument("--reps", nargs="+", help="with --projections: only these representations")
    p.add_argument("--methods", nargs="+", help="with --projections: only these methods (pca, tsne, umap)")
    p.add_argument("--dir", default=str(checkpoint.PRETRAINED_DIR), help="folder of the shipped models")
    p.add_argument("--out", default=None, help="metrics file (default DIR/metrics.json)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bars-only", action="store_true", help="re-check the bars on the measures already in the metrics file "
                   "(after the catalogue's bars changed); evaluates nothing")
    p.add_argument("--few-label-curves", action="store_true", help="measure only the few-label curves (raw pixels, every "
                   "encoder, the fine-tuned SdA; --only: some of them) and merge them into the metrics file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    directory = Path(args.dir)
    out_path = Path(args.out) if args.out else directory / "metrics.json"
    results: dict = {}
    dropped: list[str] = []
    command = "python -m rep_models.evaluate " + " ".join(argv if argv is not None else sys.argv[1:])
    t0 = time.perf_counter()

    if args.bars_only:
        results = json.loads(out_path.read_text())
        results["bars"] = check_bars(results)
        out_path.write_text(json.dumps(_clean(results), indent=1) + "\n")
        print(f"{sum(b['passed'] for b in results['bars'])} of {len(results['bars'])} bars pass ({out_path})")
        return 0
    if args.few_label_curves:
        unknown = set(args.only or ()) - set(FEW_LABEL_REPS)
        if unknown:
            p.error(f"no few-label curve for {sorted(unknown)}; expected some of {FEW_LABEL_REPS}")
        merged = write_few_label_curves(directory, out_path, args.fast, args.only, command.strip())
        print(f"few-label curves of {merged['meta']['few_label_curves']['names']} -> {out_path} "
              f"({time.perf_counter() - t0:.0f} s)")
        return 0
    if args.projections:
        results["projections"] = compute_projections(directory, args.reps, args.methods, n_jobs=args.threads)
    else:
        names = args.only or [n for n in ZOO if n != "classifier"]
        unknown = set(names) - set(ZOO)
        if unknown:
            p.error(f"unknown model(s) {sorted(unknown)}; expected some of {sorted(ZOO)}")
        ctx = make_context(directory, args.fast)
        if args.only is None or "classifier" in names:
            names = ["classifier", *[n for n in names if n != "classifier"]]
        results.update(evaluate_reference(ctx, pixel_curve=args.only is None))  # an --only run keeps the data's curve
        for name in names:
            t = time.perf_counter()
            r = evaluate_model(name, ctx)
            if r is None:
                print(f"[evaluate] {name}: no shipped file, skipped", file=sys.stderr)
                dropped.append(name)  # a stale entry must not outlive its model
                continue
            results[name] = _clean(r)
            print(f"[evaluate] {name} ({time.perf_counter() - t:.0f} s): "
                  + ", ".join(f"{k}={v:.4g}" for k, v in r.items() if isinstance(v, float)), file=sys.stderr, flush=True)
        results["meta"] = {"command": command.strip(), "fast": args.fast, "n_test": len(ctx.x_test),
                           "n_samples": ctx.n_samples, "iwae_k": IWAE_K, "seconds": round(time.perf_counter() - t0, 1),
                           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "torch": torch.__version__, "machine": platform.machine()}
        curves = [n for n in results if "few_label_curve" in results[n]]
        if curves:  # a run that measured no curve (--only classifier) leaves the curves' record as it was
            results["meta"]["few_label_curves"] = _curves_meta(ctx, command.strip(), curves, time.perf_counter() - t0)
    # Merge into the file as it is now: a projections run and a metrics run may overlap; each keeps the other's keys.
    merged = json.loads(out_path.read_text()) if out_path.is_file() else {}
    meta = merged.get("meta", {})
    if args.projections:
        merged.setdefault("projections", {}).update(results["projections"])
        meta["projections_command"] = command.strip()
    else:
        kept = merged.get("pixels", {}).get("few_label_curve")
        merged.update({k: v for k, v in results.items() if k != "meta"})
        if kept and "few_label_curve" not in merged["pixels"]:
            merged["pixels"]["few_label_curve"] = kept
        # Each model's entry says how it was measured; meta keeps the last run and the list of runs.
        for name in names:
            if name in merged and isinstance(merged[name], dict):
                merged[name]["measured_with"] = {"n_test": len(ctx.x_test), "fast": args.fast, "date": results["meta"]["date"]}
        runs = [r for r in meta.get("runs", []) if r.get("only") != args.only] + [
            {"command": command.strip(), "only": args.only, "date": results["meta"]["date"], "seconds": results["meta"]["seconds"]}]
        meta.update(results["meta"])
        meta["runs"] = runs
        for name in dropped:
            merged.pop(name, None)
    merged["meta"] = meta
    results = merged
    results["bars"] = check_bars(results)
    out_path.write_text(json.dumps(_clean(results), indent=1) + "\n")
    for b in results["bars"]:
        v = b["value"]
        print(f"{'PASS' if b['passed'] else 'FAIL'}  {b['model']:<22} {b['measure']:<70} {_fmt(v):>10}  {b['bar']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
