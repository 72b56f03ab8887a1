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
import operator
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import catalogue, checkpoint, metrics
from .anomaly import auroc, reconstruction_error
from .data import load_tensors
from .zoo import ZOO

PCA_K = 32
IWAE_K = 100
SIGMAS = (0.1, 0.3, 0.5)
SALT_PEPPER = 0.2
# Labelled training digits per point of the few-label curves; None: every label of the training split (55,000).
FEW_LABEL_BUDGETS = (10, 20, 50, 100, 300, 1000, 3000, 10_000, None)
FEW_LABEL_REPS = ["pixels", *catalogue.ENCODERS, *catalogue.FINE_TUNED]  # what --few-label-curves measures


@dataclass
class Context:
    """Data and settings shared by every model's evaluation (loaded once)."""

    x_test: torch.Tensor  # (N, 1, 28, 28)
    y_test: torch.Tensor  # (N,)
    x_train: torch.Tensor  # all 55,000: PCA (a 10,000 subset misplaces the 32nd direction by ~20 degrees)
    y_train: torch.Tensor
    x_fashion: torch.Tensor | None  # Fashion-MNIST test, the anomalies (None: no anomaly AUROC is measured)
    directory: Path
    fast: bool
    n_samples: int  # generated images per model for histograms and Frechet distances
    n_iwae: int  # test images for the importance-weighted bound
    n_jacobian: int
    n_code_train: int = 0  # > 0: the few-label classifiers see only the first n training codes
    few_label_curves: bool = False  # also measure the few-label curves (python -m rep_models.evaluate does)
    users_path: bool = False  # with the classifier, the not-a-digit detector on the users' path (rep_models.ood)
    classifier: torch.nn.Module | None = None
    test_features: torch.Tensor | None = None
    pca_mse: float = math.nan
    pca: tuple | None = None  # (mean (784,), components (784, PCA_K)) of x_train
    cache: dict = field(default_factory=dict)


def load_model(name: str, directory: Path):
    """A shipped model in eval mode, checked against its card's sha256 (None when the file is absent)."""
    if not (directory / f"{name}.safetensors").is_file() or not (directory / f"{name}.json").is_file():
        return None
    return checkpoint.load(directory / name)


def make_context(directory: Path, fast: bool, baselines: bool = True) -> Context:
    """The data (the full MNIST; ``fast``: 2,000 test images) and, with ``baselines``, Fashion-MNIST, the PCA(32)
    baseline and the classifier's test features (what the few-label curves alone do not need)."""
    x_test, y_test = load_tensors("mnist", "test")
    x_train, y_train = load_tensors("mnist", "train")
    x_fashion = load_tensors("fashion_mnist", "test")[0] if baselines else None
    n = 2000 if fast else len(x_test)
    if fast:  # a fixed subset, the same for every model
        g = torch.Generator().manual_seed(0)
        x_test, y_test = _subset(x_test, y_test, n, g)
        x_fashion = None if x_fashion is None else x_fashion[:n]
    ctx = Context(x_test, y_test, x_train, y_train, x_fashion, directory, fast, n_samples=2000 if fast else 10000,
                  n_iwae=200 if fast else 1000, n_jacobian=min(n, 2000), n_code_train=10000 if fast else 0,
                  few_label_curves=True, users_path=baselines)
    return prepare(ctx) if baselines else ctx


def prepare(ctx: Context) -> Context:
    """Fill in what every model is compared with: the PCA(32) baseline and the classifier's test features."""
    ctx.pca = metrics.pca_basis(ctx.x_train, PCA_K)
    ctx.pca_mse = metrics.pca_mse(ctx.x_train, ctx.x_test, PCA_K, basis=ctx.pca)
    ctx.classifier = load_model("classifier", ctx.directory)
    if ctx.classifier is not None:
        ctx.test_features = metrics.classifier_features(ctx.classifier, ctx.x_test)
    return ctx


def _subset(x, y, n, g):
    idx = torch.randperm(len(x), generator=g)[:n].sort().values
    return x[idx], y[idx]


# ---------------------------------------------------------------------------------- per-family measures

def eval_reconstruction(name: str, model, ctx: Context) -> dict:
    mse = metrics.test_mse(model, ctx.x_test)
    out = {"test_mse": mse, "pca32_mse": ctx.pca_mse, "mse_over_pca32": mse / ctx.pca_mse}
    if ctx.x_fashion is not None:
        normal = reconstruction_error(model, ctx.x_test)
        out["anomaly_auroc_fashion"] = auroc(normal, reconstruction_error(model, ctx.x_fashion))
    return out


def few_label_measures(tr, te, ctx: Context, curve: bool) -> dict:
    """Logistic regression on the frozen training codes ``tr`` (those of ``ctx.x_train[:len(tr)]``) with 100 labels
    (10 per class), mean of 5 draws, scored on the test codes ``te``; and, with ``curve``, the few-label curve."""
    y = ctx.y_train[: len(tr)]
    acc, std = metrics.few_label_accuracy(tr, y, te, ctx.y_test, n_labels=100, draws=5)
    out = {"code_dim": int(tr.shape[1]), "few_label_100_accuracy": acc, "few_label_100_error": 1 - acc, "few_label_100_std": std}
    if curve:
        out["few_label_curve"] = few_label_curve(tr, y, te, ctx.y_test)
    return out


def eval_codes(name: str, model, ctx: Context) -> dict:
    """Frozen codes + logistic regression with few labels (:func:`few_label_measures`)."""
    n = ctx.n_code_train or len(ctx.x_train)
    return few_label_measures(metrics.encode_all(model, ctx.x_train[:n]), metrics.encode_all(model, ctx.x_test), ctx, ctx.few_label_curves)


def few_label_budgets(n_train: int) -> list[int]:
    """The curve's label counts for a pool of ``n_train`` labelled digits: :data:`FEW_LABEL_BUDGETS` below it, then all."""
    return sorted({n_train if b is None else min(b, n_train) for b in FEW_LABEL_BUDGETS})


def few_label_draws(n_labels: int, n_train: int) -> int:
    """Random labelled subsets measured at a label count: 5 up to 1,000 labels, 3 up to 3,000, 2 above; 1 with all."""
    if n_labels >= n_train:
        return 1
    return 5 if n_labels <= 1000 else 3 if n_labels <= 3000 else 2


def few_label_curve(train_codes, train_labels, test_codes, test_labels) -> list[dict]:
    """``[{"labels", "accuracy", "std", "draws"}, ...]`` at every budget (:func:`few_label_budgets`): the mean and
    standard deviation of the test accuracy over the draws (``metrics.few_label_accuracy``, seeds 0, 1, ...)."""
    rows = []
    for n in few_label_budgets(len(train_labels)):
        k = few_label_draws(n, len(train_labels))
        acc, std = metrics.few_label_accuracy(train_codes, train_labels, test_codes, test_labels, n_labels=n, draws=k)
        rows.append({"labels": n, "accuracy": acc, "std": std, "draws": k})
    return rows


def trained_labels(name: str, n_train: int) -> int:
    """The labels a model's recipe trains it with (``labels``; none: all ``n_train`` of the training split)."""
    return int(ZOO[name].get("train", {}).get("labels") or n_train)


def eval_samples(name: str, model, ctx: Context) -> dict:
    """Class histogram and Frechet distance of ``n_samples`` generated images (conditional models cycle
    the digits 0..9, so their histogram shows how well the condition is obeyed)."""
    if ctx.classifier is None:
        return {}
    n = ctx.n_samples
    if getattr(model, "family", "") == "gan":
        imgs = model.sample(n, seed=0, digit=None)
    elif model.config.n_classes:
        imgs = torch.cat([model.sample(n // 10, seed=d, digit=d) for d in range(10)])
    else:
        imgs = model.sample(n, seed=0)
    probs = metrics.predict_proba(ctx.classifier, imgs)
    out = {f"samples_{k}": v for k, v in metrics.class_histogram(probs).items()}
    out["frechet_distance"] = metrics.frechet_distance(metrics.classifier_features(ctx.classifier, imgs), ctx.test_features)
    out["n_samples"] = n
    if getattr(model, "conditional", False) or getattr(model.config, "n_classes", 0):
        out["conditional_agreement"] = metrics.conditional_agreement(model, ctx.classifier, n_per_digit=n // 10, seed=0)
    return out


def eval_vae(name: str, model, ctx: Context) -> dict:
    conditional = model.config.n_classes > 0
    y = ctx.y_test if conditional else None
    out = {"neg_elbo": metrics.vae_neg_elbo(model, ctx.x_test, y)}
    n = ctx.n_iwae
    out[f"iwae_k{IWAE_K}"] = metrics.vae_iwae(model, ctx.x_test[:n], None if y is None else y[:n], k=IWAE_K)
    out["neg_elbo_on_iwae_subset"] = metrics.vae_neg_elbo(model, ctx.x_test[:n], None if y is None else y[:n])
    out["iwae_n_images"] = n
    if conditional:  # reconstructions need the label; Fashion-MNIST has no digit label, so no anomaly score
        with torch.inference_mode():
            rec = torch.cat([model.reconstruct(ctx.x_test[i : i + 1000], ctx.y_test[i : i + 1000]) for i in range(0, len(ctx.x_test), 1000)])
        out["test_mse"] = float(((rec - ctx.x_test) ** 2).mean())
        out["mse_over_pca32"] = out["test_mse"] / ctx.pca_mse
    else:
        out.update(eval_reconstruction(name, model, ctx))
        out["latent_dim"] = model.config.latent_dim
    out.update(eval_samples(name, model, ctx))
    return out


def eval_denoising(name: str, model, ctx: Context) -> dict:
    out = eval_reconstruction(name, model, ctx)
    settings = [("gaussian", s, f"gaussian_{s}") for s in SIGMAS] + [("salt_pepper", SALT_PEPPER, f"salt_pepper_{SALT_PEPPER}")]
    for kind, level, key in settings:
        r = metrics.denoising_psnr(model.denoise, ctx.x_test, kind, level, seed=0)
        out[f"psnr_{key}"] = r["model"]
        out[f"psnr_{key}_noisy"] = r["noisy"]
        out[f"psnr_{key}_best_classical"] = r["best_classical"]
        out[f"psnr_{key}_best_classical_name"] = r["best_classical_name"]
        out[f"psnr_{key}_median3"] = r["median3"]
    return out


def eval_autoencoder(name: str, model, ctx: Context) -> dict:
    if "denoiser" in catalogue.entry(name).roles:
        return eval_denoising(name, model, ctx)
    out = eval_reconstruction(name, model, ctx)
    cfg = model.config
    if any(b.key == "largest_angle_to_pca_deg" for b in catalogue.entry(name).bars):  # the linear AE's bar
        out["largest_angle_to_pca_deg"] = metrics.largest_angle_to_pca(model.decoder.weight.detach(), ctx.x_train, basis=ctx.pca[1])
    codes = metrics.encode_all(model, ctx.x_test)
    out["mean_code_activation"] = metrics.mean_activation(codes)
    if hasattr(cfg, "rho"):
        out["rho"] = cfg.rho
        out["activation_over_rho"] = out["mean_code_activation"] / cfg.rho
    if hasattr(cfg, "lam"):  # a contractive penalty (or its unpenalised twin): the Jacobian's norm
        out["jacobian_frobenius_mean"] = float(metrics.jacobian_frobenius(model.encode, ctx.x_test[: ctx.n_jacobian]).mean())
        out["jacobian_n_images"] = ctx.n_jacobian
    return out


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
    elif model.family == "encoder":  # no decoder: only its codes are measured (below)
        out = {}
    else:
        out = eval_autoencoder(name, model, ctx)
    if "encoder" in catalogue.entry(name).roles:
        out.update(eval_codes(name, model, ctx))
    card = checkpoint.read_card(ctx.directory / name)
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
        elif "encoder" in catalogue.entry(name).roles:
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


# ------------------------------------------------------------------------------------------------- bars

def _get(results: dict, model: str, key: str):
    v = results.get(model, {}).get(key)
    return None if v is None else v


def _bar(model, measure, value, bar, ok) -> dict:
    passed = bool(value is not None and not (isinstance(value, float) and math.isnan(value)) and ok(value))
    return {"model": model, "measure": measure, "value": value, "bar": bar, "passed": passed}


def _value(results: dict, model: str, bar: catalogue.Bar):
    """The bar's measure for ``model``: its value, minus or over another model's when the bar compares them."""
    v = _get(results, model, bar.key)
    for ref, op in ((bar.minus, operator.sub), (bar.over, operator.truediv)):
        if ref is not None:
            other = _get(results, *ref)
            v = None if v is None or other is None else op(v, other)
    return v


def check_bars(results: dict) -> list[dict]:
    """Every bar of the catalogue as ``{model, measure, value, bar, passed}``; a missing model fails its bar."""
    bars = [_bar(name, b.label, _value(results, name, b), b.describe(), b.passes)
            for name, e in catalogue.CATALOGUE.items() for b in e.bars]
    for bar, candidates, pick in ((catalogue.BEST_ENCODER_FEW_LABELS, catalogue.with_role("encoder"), min),
                                  (catalogue.BEST_ANOMALY_AUROC, list(catalogue.CATALOGUE), max)):
        values = {m: _get(results, m, bar.key) for m in candidates if _get(results, m, bar.key) is not None}
        best = pick(values, key=values.get) if values else None
        bars.append(_bar(best or "the zoo", bar.label, values.get(best), bar.describe(), bar.passes))
    who, entry, ood_bars = catalogue.NOT_A_DIGIT_BARS
    bars += [_bar(who, b.label, _get(results, entry, b.key), b.describe(), b.passes) for b in ood_bars]
    for rep, map_bars in catalogue.MAP_BARS.items():
        quality = results.get("projections", {}).get(rep, {}).get("umap", {})
        bars += [_bar(rep, b.label, quality.get(b.key), b.describe(), b.passes) for b in map_bars]
    return bars


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
