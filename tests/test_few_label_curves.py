"""The few-label curves (issue 14, bug 8): ``rep_models.evaluate`` writes, for raw pixels, every encoder and each
fine-tuned SdA, test accuracy against the number of labels into ``metrics.json``, and ``few_label_results``
reads that one format back (what the Few labels page draws)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rep_models import catalogue, checkpoint, evaluate, model_measures
from rep_models.few_label_curves import few_label_curve, few_label_results
from rep_models.models import build
from rep_models.zoo import ZOO

N_TRAIN, N_TEST = 700, 300


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, mnist_train, mnist_test):
    """Untrained models of every curve's representation, built from their recipes, and a slice of the shipped digits."""
    d = tmp_path_factory.mktemp("few_label_curves")
    torch.manual_seed(0)
    for name in [*catalogue.ENCODERS, *catalogue.FINE_TUNED]:
        checkpoint.save(build(ZOO[name]["model"], **ZOO[name].get("config", {})), d / name)
    (x, y), (xt, yt) = mnist_train, mnist_test
    return d, (x[:N_TRAIN], y[:N_TRAIN]), (xt[:N_TEST], yt[:N_TEST])


def _context(tiny) -> model_measures.Context:
    d, (x, y), (xt, yt) = tiny
    return model_measures.Context(xt, yt, x, y, None, d, fast=False, n_samples=0, n_iwae=0, n_jacobian=0)


def test_budgets_and_draws_on_the_full_training_split():
    assert model_measures.few_label_budgets(55_000) == [10, 20, 50, 100, 300, 1000, 3000, 10_000, 55_000]
    assert [model_measures.few_label_draws(n, 55_000) for n in model_measures.few_label_budgets(55_000)] == [5] * 6 + [3, 2, 1]
    assert model_measures.few_label_budgets(N_TRAIN) == [10, 20, 50, 100, 300, N_TRAIN]  # budgets past the pool: all of it
    assert model_measures.trained_labels("sda_100", 55_000) == 100 and model_measures.trained_labels("sda", 55_000) == 55_000


def test_curves_cover_every_budget_of_every_representation_and_read_back(tiny, monkeypatch):
    d, (x, y), (xt, yt) = tiny
    monkeypatch.setattr(model_measures, "load_tensors", lambda dataset, split, **k: (xt, yt) if split == "test" else (x, y))
    out = d / "metrics.json"
    out.write_text(json.dumps({"conv_ae": {"test_mse": 0.004}, "bars": [], "meta": {"runs": [{"command": "earlier"}]}}))
    assert evaluate.main(["--few-label-curves", "--dir", str(d), "--threads", "1"]) == 0
    report = json.loads(out.read_text())
    assert report["conv_ae"]["test_mse"] == 0.004 and report["meta"]["runs"] == [{"command": "earlier"}]  # the rest is kept
    assert report["meta"]["few_label_curves"]["n_train"] == N_TRAIN and report["meta"]["few_label_curves"]["n_test"] == N_TEST
    got = few_label_results(report)
    assert set(got) == {"pixels", *catalogue.ENCODERS, *catalogue.FINE_TUNED}
    budgets = [10, 20, 50, 100, 300, N_TRAIN]
    for rep in ["pixels", *catalogue.ENCODERS]:
        assert [n for n, _, _ in got[rep]] == budgets, rep
        assert [r["draws"] for r in report[rep]["few_label_curve"]] == [5, 5, 5, 5, 5, 1], rep
        assert all(0 <= a <= 1 and s >= 0 for _, a, s in got[rep]) and got[rep][-1][2] == 0.0
    assert got["sda_100"] == [(100, pytest.approx(got["sda_100"][0][1]), 0.0)]
    assert [n for n, _, _ in got["sda"]] == [N_TRAIN]  # no "labels" in its recipe: every training label
    assert got["pixels"][3][1] > 0.6  # raw pixels with 100 labels (measured 0.761 on these 700 + 300 digits)
    # A full evaluation of some models (Fashion-MNIST: the same test digits) writes their curves too, and keeps the
    # data's (pixels) curve, which it does not re-measure.
    report["pixels"]["few_label_curve"][0]["accuracy"] = 0.123  # a marker: kept, not re-measured
    out.write_text(json.dumps(report))
    assert evaluate.main(["--only", "linear_ae", "sda_100", "--dir", str(d), "--threads", "1"]) == 0
    again = few_label_results(json.loads(out.read_text()))
    assert again["pixels"][0][1] == 0.123 and again["linear_ae"] == got["linear_ae"] and again["sda_100"] == got["sda_100"]
    # Malformed rows are skipped; a report without curves has none (the 100-label figures alone are not a curve).
    assert few_label_results({"pixels": {"few_label_100_accuracy": 0.75}, "meta": {"x": 1}}) == few_label_results({}) == {}
    assert few_label_results({"x": {"few_label_curve": [{"labels": 10}, "junk", {"labels": 20, "accuracy": 0.5}]}}) == {
        "x": [(20, 0.5, 0.0)]}


def test_the_curve_holds_the_bars_100_label_figure(tiny):
    """A full evaluation (``few_label_curves`` on) writes the curve beside the 100-label figure, from the same draws."""
    ctx = _context(tiny)
    ctx.few_label_curves = True
    model = checkpoint.load(ctx.directory / "linear_ae")
    r = model_measures.eval_codes("linear_ae", model, ctx)
    [at_100] = [row for row in r["few_label_curve"] if row["labels"] == 100]
    assert (at_100["accuracy"], at_100["std"], at_100["draws"]) == (r["few_label_100_accuracy"], r["few_label_100_std"], 5)
    ctx.few_label_curves = False  # the shipped-zoo tests' context: the bars' figure only
    assert "few_label_curve" not in model_measures.eval_codes("linear_ae", model, ctx)
    with pytest.raises(ValueError, match="no few-label curve"):
        evaluate.few_label_curves(ctx, ["classifier"])


def test_few_label_curve_beats_chance(mnist_train):
    x, y = mnist_train
    codes = x[:3000].reshape(3000, -1).numpy() @ np.random.default_rng(0).normal(size=(784, 24))  # a cheap 24-d "encoder"
    rows = few_label_curve(codes[:2000], y[:2000].numpy(), codes[2000:], y[2000:3000].numpy(), [20, 100], draws=2)
    assert [r[0] for r in rows] == [20, 100] and all(r[1] > 0.3 for r in rows)  # measured 0.355, 0.525 (2026-12-01)


def test_spreading_labels_over_the_neighbour_graph_beats_the_linear_probe(mnist_train):
    # With 100 labels, the other 1,900 unlabelled digits' neighbours carry the labels where a line cannot.
    x, y = mnist_train
    pixels = x[:3000].reshape(3000, -1).numpy()
    args = (pixels[:2000], y[:2000].numpy(), pixels[2000:], y[2000:3000].numpy(), [100])
    linear = few_label_curve(*args, draws=2)[0][1]
    spread = few_label_curve(*args, draws=2, method="spreading")[0][1]
    assert spread > linear + 0.05, (spread, linear)  # measured 0.790 > 0.703 + 0.05 (2026-12-01)
    with pytest.raises(ValueError, match="method"):
        few_label_curve(*args, method="svm")
