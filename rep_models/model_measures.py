"""What the evaluation measures of one model, by what the model is (``rep_models.evaluate`` dispatches by family):
reconstructions against PCA(32), the anomaly AUROC on Fashion-MNIST, denoising PSNRs, the VAE's bounds, generated
samples' class histogram and Frechet distance, and frozen codes read with few labels (the few-label curve's
budgets, draws and rows), all on one :class:`Context` of test data loaded once.

    ctx = make_context(Path("pretrained"), fast=True)   # (2000, 1, 28, 28) test digits, PCA(32), the classifier
    eval_autoencoder("conv_ae", load_model("conv_ae", ctx.directory), ctx)   # {measure: value}
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

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


def eval_rbm(name: str, model, ctx: Context) -> dict:
    """An RBM: its test log-likelihood on binarized digits (``rep_models.ais``: log Z by annealed importance
    sampling, 100 runs of 14,500 steps; a fast evaluation 100 runs of 1,450), with the estimate's error bar; and
    the classifier's histogram of ``n_samples`` digits after ``sample_steps`` Gibbs steps from the persistent chains."""
    from . import ais

    b_a = ais.base_rate_biases(ais.binarize(ctx.x_train, seed=1))
    betas = ais.schedule((50, 400, 1_000) if ctx.fast else (500, 4_000, 10_000))
    z = ais.log_partition(model, b_a, runs=100, betas=betas, generator=torch.Generator().manual_seed(0))
    v = ais.binarize(ctx.x_test, seed=0)
    ll = ais.mean_log_likelihood(model, v, z.log_z)
    out = {"test_log_likelihood_ais": ll, "test_log_likelihood_low": ll - (z.log_z_high - z.log_z),
           "test_log_likelihood_high": ll + (z.log_z - z.log_z_low), "log_z": z.log_z, "ais_runs": z.runs, "ais_steps": z.steps}
    if ctx.classifier is not None:
        out.update(_histogram_of(model.persistent_samples(ctx.n_samples, seed=0), ctx))
    return out


def _histogram_of(imgs: torch.Tensor, ctx: Context) -> dict:
    """The classifier's histogram of samples ``imgs (n, 1, 28, 28)``, as ``samples_*`` measures and ``n_samples``."""
    out = {f"samples_{k}": v for k, v in metrics.class_histogram(metrics.predict_proba(ctx.classifier, imgs)).items()}
    out["n_samples"] = len(imgs)
    return out


def eval_dbn(name: str, model, ctx: Context) -> dict:
    """A deep belief network: the classifier's histogram of ``n_samples`` digits (the top RBM's persistent chains after
    ``sample_steps`` Gibbs steps, passed down), and the mean-field reconstruction error; its features are measured
    as every encoder's (``eval_codes``)."""
    out = {}
    with torch.no_grad():
        rec = torch.cat([model(ctx.x_test[i : i + 1000]) for i in range(0, len(ctx.x_test), 1000)])
    out["test_mse"] = float(((rec - ctx.x_test) ** 2).mean())
    if ctx.classifier is not None:
        out.update(_histogram_of(model.sample(ctx.n_samples, seed=0), ctx))
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
