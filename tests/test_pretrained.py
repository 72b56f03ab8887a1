"""Every shipped model file: its card matches its weights, and it still reaches its quality bar on a
fixed subset of the test set (2,000 images), so a change that breaks a model or its weights fails CI.

The bars are the catalogue's (``rep_models.catalogue``), checked by ``rep_models.bars.check_bars`` (one definition for the report and the
tests); the measures are computed on the subset with the same functions as the full report. A model of the
zoo whose file is missing fails its tests: a checkout without pretrained/ is not green.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open

from rep_models import checkpoint, evaluate, model_measures
from rep_models.bars import check_bars
from rep_models.catalogue import CATALOGUE, ENCODERS
from rep_models.checkpoint import PRETRAINED_DIR, sha256_file
from rep_models.zoo import ZOO

N_TEST = 2000


def _require(*names: str) -> None:
    """Fail (not skip) when a model of the zoo lacks its weights or card."""
    missing = [f"{n}.{ext}" for n in names for ext in ("safetensors", "json") if not (PRETRAINED_DIR / f"{n}.{ext}").is_file()]
    assert not missing, f"pretrained/ lacks {missing}: restore it (git checkout -- pretrained/) or retrain (python -m rep_models.train NAME)"


@pytest.mark.parametrize("name", list(ZOO))
def test_card_matches_weights(name):
    _require(name)
    card = json.loads((PRETRAINED_DIR / f"{name}.json").read_text())
    weights = PRETRAINED_DIR / f"{name}.safetensors"
    assert card["weights_sha256"] == sha256_file(weights), f"{name}: the card's sha256 is not the file's"
    with safe_open(str(weights), "pt") as f:
        stored = {k: (list(f.get_slice(k).get_shape()), f.get_slice(k).get_dtype()) for k in f.keys()}
    assert set(stored) == set(card["tensors"]), f"{name}: card and file list different tensors"
    for k, (shape, _) in stored.items():
        assert card["tensors"][k]["shape"] == shape, f"{name}.{k}: card says {card['tensors'][k]['shape']}, file has {shape}"
    assert card["model"] == ZOO[name]["model"]
    model = checkpoint.load(PRETRAINED_DIR / name)  # builds from the card's config: shapes must fit
    assert sum(p.numel() for p in model.parameters()) == card["n_parameters"]
    assert weights.stat().st_size <= 8 * 2**20, f"{name}: {weights.stat().st_size / 2**20:.1f} MB > 8 MB"


def test_pretrained_folder_is_at_most_40_mb():
    total = sum(f.stat().st_size for f in PRETRAINED_DIR.iterdir() if f.is_file() and not f.name.endswith(".state.safetensors"))
    assert total <= 40 * 10**6, f"pretrained/ holds {total / 1e6:.1f} MB > 40 MB"


@pytest.fixture(scope="module")
def ctx():
    """The shipped data, so the bars run offline: a fixed 2,000-image subset of the (shipped, real) test set,
    the shipped 10,000 training digits (1,000 a class, from the split the zoo trained on) for the PCA(32)
    baseline, the few-label classifiers' pools and the real-data reference, 2,000 samples per generator.
    Fashion-MNIST, when installed, for the anomaly AUROCs (without it only ``test_best_anomaly_auroc`` skips)."""
    from conftest import dataset_dir

    from rep_models.data import load_tensors

    x_test, y_test = load_tensors("mnist", "test", source="sample")
    x_train, y_train = load_tensors("mnist", "full_train", source="sample")
    fashion = dataset_dir("fashion_mnist")
    x_fashion = load_tensors("fashion_mnist", "test", root=fashion)[0][:N_TEST] if fashion else None
    g = torch.Generator().manual_seed(0)
    te = torch.randperm(len(x_test), generator=g)[:N_TEST].sort().values
    c = model_measures.Context(x_test[te], y_test[te], x_train, y_train, x_fashion, PRETRAINED_DIR, fast=True,
                         n_samples=2000, n_iwae=100, n_jacobian=300, n_code_train=10000)
    return model_measures.prepare(c)


@pytest.fixture(scope="module")
def results(ctx):
    """Measures computed on demand, once per model."""
    cache: dict[str, dict] = {"pca32": {"test_mse": ctx.pca_mse}}

    def get(*names: str) -> dict:
        for n in names:
            if n == "pixels" and n not in cache:  # the data's own measures (raw pixels), which some bars are read against
                cache[n] = evaluate.evaluate_reference(ctx, pixel_curve=False)["pixels"]
            elif n not in cache:
                _require(n)
                cache[n] = evaluate.evaluate_model(n, ctx)
        return cache

    return get


# Which models each bar needs (the model and what its catalogue entry needs; all must be shipped).
BAR_NEEDS = {n: [n, *e.needs] for n, e in CATALOGUE.items() if e.bars}


# Bars the shipped zoo does not reach yet, with the figure measured by ``python -m rep_models.evaluate --fast``
# (pretrained/metrics.json). strict=True: a model that starts passing turns into a failure, so this list
# cannot go stale, and a regression elsewhere still fails.
KNOWN_MISSES: dict[str, str] = {}  # every bar passes


def _bar_param(model: str):
    if model in KNOWN_MISSES:
        return pytest.param(model, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[model]))
    return model


# A bar that needs the full 55,000-digit training set: the PCA(32) subspace of the shipped 10,000 training
# digits lies 14.0 degrees from that of the 55,000 (its last directions have nearly equal variance; the shipped
# linear_ae is 0.15 degrees from the latter and 14.0 from the former), so this bar has its own test on the full set.
NEEDS_FULL_TRAIN = "largest principal angle to PCA(32) subspace (deg)"

# The measures on the subset, with the shipped data (``ctx``), 2026-12-01 on this project's 2-core CPU; every
# bar is the catalogue's (rep_models.bars.check_bars). All are computed with fixed seeds on fixed
# images: the small margins (vae_2d, cdcgan, classifier) are over 15 images or 1 nat, far beyond float noise.
#   classifier acc 0.9950 (>= 0.993) | linear_ae MSE/PCA 0.996 (<= 1.02) | stacked_ae 0.275 (<= 0.6)
#   conv_ae 0.242 (<= 0.3) | recurrent_ae 0.499 (<= 0.6) | vae -ELBO 93.49 (<= 95) | vae_2d -ELBO 143.88 (<= 145)
#   denoising_ae PSNR 29.27 / 23.43 / 20.06 dB (>= 28 / 22 / 19.5), salt-and-pepper 25.62 (>= 24), minus median 7.34 (> 0)
#   sparse_ae activation/rho 1.084 (0.8..1.2), MSE/PCA 0.341 (<= 1) | contractive_ae Jacobian ratio 0.219 (<= 0.5),
#   MSE/PCA 0.584 (<= 1) | dcgan class shares 0.0805..0.122 (0.06..0.14), top-prob 0.967 (>= 0.9), FD minus vae's
#   -69.4, minus gan's -329.3 (< 0) | cdcgan agreement 0.9775 (>= 0.97) | cvae 0.9735 (>= 0.95)
#   sda error 0.0085 (<= 0.014) | sda_100 0.0545 (<= 0.10) | best few-label error 0.0726, contrastive (<= 0.10)
#   dbn 100-label error minus pixels' -0.0825 (< 0), class shares 0.078..0.133 (0.05..0.15; 2,000 samples)
#   overcomplete_ae MSE minus conv_ae's -0.0030 (< 0), 100-label error minus pixels' -0.0073 (>= -0.01: 5 of the 2,000
#   images, fixed draws) | memoriser_ae test/train MSE 6.99 (>= 3), recalled 0.967 (>= 0.9), answered from memory 0.998
#   best anomaly AUROC 0.9996, conv_ae (>= 0.99) | with the full training set instead: the same but the PCA
#   ratios (linear_ae 1.000, others +0.002) and the few-label error (0.0756).


@pytest.mark.parametrize("model", [_bar_param(m) for m in BAR_NEEDS])
def test_bar_on_subset(model, results):
    needs = BAR_NEEDS[model]
    _require(*needs)
    against = [ref[0] for b in CATALOGUE[model].bars for ref in (b.minus, b.over) if ref and ref[0] not in needs]
    bars = [b for b in check_bars(results(*needs, *against)) if b["model"] == model and "UMAP" not in b["measure"]
            and not b["measure"].startswith("best ")  # the best-of-all-encoders bars have their own tests
            and b["measure"] != NEEDS_FULL_TRAIN]
    assert bars, f"no bar found for {model}"
    failed = [f"{b['measure']}: {b['value']} (bar {b['bar']})" for b in bars if not b["passed"]]
    assert not failed, f"{model} misses its bar on {N_TEST} test images: {failed}"


def test_linear_ae_spans_the_pca_subspace_of_the_training_set(full_mnist):
    """The angle bar, against the PCA(32) of the 55,000 training digits the linear AE was trained on
    (measured 0.147 degrees on 2026-12-01; bar 10)."""
    _require("linear_ae")
    from rep_models import metrics
    from rep_models.data import load_tensors

    x_train, _ = load_tensors("mnist", "train", root=full_mnist)
    basis = metrics.pca_basis(x_train, model_measures.PCA_K)[1]
    model = checkpoint.load(PRETRAINED_DIR / "linear_ae")
    angle = metrics.largest_angle_to_pca(model.decoder.weight.detach(), x_train, basis=basis)
    [bar] = [b for b in check_bars({"linear_ae": {"largest_angle_to_pca_deg": angle}}) if b["measure"] == NEEDS_FULL_TRAIN]
    assert bar["passed"], f"{bar['measure']}: {bar['value']} (bar {bar['bar']})"


def _best_bar(results, prefix: str) -> None:
    bars = [b for b in check_bars(results(*ENCODERS, "denoising_ae")) if b["measure"].startswith(prefix)]
    assert bars, f"no {prefix!r} bar"
    for b in bars:
        assert b["passed"], f"{b['measure']}: {b['value']} ({b['model']}), bar {b['bar']}"


def test_best_anomaly_auroc(results, fashion_mnist_test):
    _best_bar(results, "best anomaly")  # Fashion-MNIST's test images are the anomalies: skips without them


def test_best_encoder_few_labels(results):
    _best_bar(results, "best encoder")


def test_conv_ae_umap_map_quality():
    from rep_models import metrics, projections

    _require("conv_ae")
    assert projections.path_for("conv_ae", "umap").is_file(), "the conv_ae UMAP map is missing from pretrained/"
    proj = projections.load_projection("conv_ae", "umap")
    assert metrics.knn_accuracy(proj["coords"], proj["labels"]) >= 0.95  # measured 0.9645 (the shipped map: fixed)
    # Trustworthiness on a 2,000-point subset of the map against freshly computed codes (the full 10,000 is
    # the report's): also checks the map still belongs to the shipped model.
    from rep_models.data import load_tensors

    x, _ = load_tensors("mnist", "test", source="sample")
    sub = np.arange(0, len(proj["indices"]), len(proj["indices"]) // N_TEST)[:N_TEST]
    codes = projections.codes_for("conv_ae", x[proj["indices"][sub]], model=checkpoint.load(PRETRAINED_DIR / "conv_ae"))
    assert metrics.trustworthiness(codes, proj["coords"][sub]) >= 0.95  # measured 0.9668 (2026-12-01)


def test_readme_zoo_table_is_generated_from_metrics_json():
    import subprocess
    import sys

    root = PRETRAINED_DIR.parent
    readme, metrics_json = root / "README.md", PRETRAINED_DIR / "metrics.json"
    assert metrics_json.is_file(), "pretrained/metrics.json is missing (python -m rep_models.evaluate)"
    assert "<!-- zoo-table -->" in readme.read_text(), "README.md lost its zoo-table block (python scripts/zoo_table.py)"
    r = subprocess.run([sys.executable, str(root / "scripts" / "zoo_table.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_bars_passes_fails_and_marks_missing():
    good = {
        "classifier": {"test_accuracy": 0.995}, "linear_ae": {"mse_over_pca32": 1.0, "largest_angle_to_pca_deg": 1.0},
        "contractive_ae": {"jacobian_frobenius_mean": 1.0, "mse_over_pca32": 0.5},
        "contractive_ae_lambda0": {"jacobian_frobenius_mean": 3.0},
        "dcgan": {"frechet_distance": 1.0}, "vae": {"frechet_distance": 2.0},
    }
    bars = {(b["model"], b["measure"]): b for b in check_bars(good)}
    assert bars[("classifier", "test accuracy")]["passed"]
    assert bars[("contractive_ae", "mean Jacobian Frobenius norm / unpenalised twin's")]["value"] == pytest.approx(1 / 3)
    assert bars[("contractive_ae", "mean Jacobian Frobenius norm / unpenalised twin's")]["passed"]
    fd = [b for (m, k), b in bars.items() if m == "dcgan" and k.startswith("Frechet")]
    assert [b["passed"] for b in fd] == [True, False]  # beats the VAE; the MLP GAN is missing, so that bar fails
    bad = check_bars({"classifier": {"test_accuracy": 0.99}, "linear_ae": {"largest_angle_to_pca_deg": 12.0}})
    assert not any(b["passed"] for b in bad)
    assert all(b["value"] is None for b in bad if b["model"] not in ("classifier", "linear_ae"))
