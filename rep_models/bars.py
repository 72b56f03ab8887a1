"""Which of the catalogue's quality bars (``rep_models.catalogue``) a set of measures passes: one definition for
``pretrained/metrics.json``'s ``bars`` (``rep_models.evaluate``) and the tests.

    check_bars({"classifier": {"test_accuracy": 0.99}})   # [{model, measure, value, bar, passed}, ...]
"""
from __future__ import annotations

import math
import operator

from . import catalogue


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
