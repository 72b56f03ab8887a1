"""Few-label curves: test accuracy against the number of labelled training digits, for any representation's
codes, recomputed in the app (:func:`few_label_curve`) or read from the evaluation (:func:`few_label_results`).
"""
from __future__ import annotations

from .metrics import few_label_accuracy, few_label_spreading_accuracy

FEW_LABEL_METHODS = {
    "logistic": "logistic regression on the frozen codes",
    "spreading": "labels spread over the codes' 10-nearest-neighbour graph",
}


def few_label_curve(train_codes, train_labels, test_codes, test_labels, counts, draws: int = 3, seed: int = 0,
                    method: str = "logistic") -> list[tuple[int, float, float]]:
    """``[(n_labels, mean accuracy, std), ...]`` per count, ``draws`` random labelled subsets each: a logistic
    regression on ``n_labels`` labelled codes (``rep_models.metrics.few_label_accuracy``) or, with
    ``method="spreading"``, those labels spread over the neighbour graph of all the codes
    (``rep_models.metrics.few_label_spreading_accuracy``)."""
    if method not in FEW_LABEL_METHODS:
        raise ValueError(f"method must be one of {list(FEW_LABEL_METHODS)}, got {method!r}")
    fn = few_label_accuracy if method == "logistic" else few_label_spreading_accuracy
    return [(int(n), *fn(train_codes, train_labels, test_codes, test_labels, int(n), draws=draws, seed=seed)) for n in counts]


def few_label_results(report: dict) -> dict[str, list[tuple[int, float, float]]]:
    """The few-label curves of an evaluation report (``pretrained/metrics.json``): ``{name: [(n_labels, accuracy,
    std), ...]}`` sorted by ``n_labels``, ``{}`` if there are none. ``rep_models.evaluate`` writes each curve into
    its representation's entry as ``report[name]["few_label_curve"] = [{"labels", "accuracy", "std", "draws"}, ...]``
    (raw pixels, every encoder; one point per fine-tuned classifier, ``catalogue.FINE_TUNED``); a malformed row
    is skipped rather than break the page."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for name, entry in report.items() if isinstance(report, dict) else ():
        rows = entry.get("few_label_curve") if isinstance(entry, dict) else None
        points = []
        for row in rows if isinstance(rows, list) else ():
            try:
                points.append((int(row["labels"]), float(row["accuracy"]), float(row.get("std") or 0.0)))
            except (TypeError, ValueError, KeyError, AttributeError):
                continue
        if points:
            out[str(name)] = sorted(points)
    return out
