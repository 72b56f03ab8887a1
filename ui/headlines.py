"""The home page's headline figures of a model: its evaluation's measures (``pretrained/metrics.json``, names
from ``rep_models.evaluate``) or its card's validation metrics, as (label, formatted value) pairs. No
Streamlit: testable as it is.
"""
from __future__ import annotations


def _nice_metric(key: str, value: float) -> tuple[str, str]:
    label = key.removeprefix("val_").replace("_", " ")
    if "accuracy" in key and 0 <= value <= 1:
        return label, f"{value:.2%}"
    if "psnr" in key.lower():
        return label, f"{value:.1f} dB"
    return label, (f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}")


# The evaluation report's measures worth a headline (rep_models.evaluate names), in order of preference.
HEADLINE = [
    ("test_accuracy", "test accuracy", "{:.2%}"),
    # the Draw page's not-a-digit detector reads the classifier's features (rep_models.ood), on the users' path
    ("not_a_digit_flagged_fashion", "clothes photos called not a digit", "{:.0%}"),
    ("not_a_digit_flagged_letters", "printed letters called not a digit", "{:.0%}"),
    ("conditional_agreement", "draws the asked digit", "{:.1%}"),
    ("frechet_distance", "Fréchet distance (lower is better)", "{:.1f}"),
    ("neg_elbo", "−ELBO, nats (lower is better)", "{:.1f}"),
    ("psnr_gaussian_0.3", "PSNR at noise σ=0.3", "{:.1f} dB"),
    ("train_mse", "MSE on the digits it trained on", "{:.4f}"),  # a model trained on a few digits (the Lesson's memoriser)
    ("test_mse", "test MSE", "{:.4f}"),
    ("mse_over_pca32", "error vs PCA(32)", "{:.2f}×"),
    ("largest_angle_to_pca_deg", "angle to PCA subspace", "{:.1f}°"),
    ("anomaly_auroc_fashion", "anomaly AUROC (digits vs clothes)", "{:.3f}"),
    ("few_label_100_accuracy", "accuracy from 100 labels", "{:.1%}"),
    ("test_log_likelihood_ais", "test log-likelihood, nats (AIS)", "{:.1f}"),
    ("samples_max_class_fraction", "largest digit share of samples", "{:.1%}"),
]


def headline_metrics(card: dict | None, evaluated: dict | None = None, k: int = 3) -> list[tuple[str, str]]:
    """Up to ``k`` (label, formatted value) pairs for a model: the :data:`HEADLINE` measures of its entry in
    ``pretrained/metrics.json`` (``evaluated``) when there is one, else its card's validation metrics."""
    if isinstance(evaluated, dict) and evaluated:
        picked = [(label, fmt.format(float(evaluated[key]))) for key, label, fmt in HEADLINE
                  if isinstance(evaluated.get(key), (int, float)) and not isinstance(evaluated.get(key), bool)]
        if picked:
            return picked[:k]
    source = evaluated if isinstance(evaluated, dict) and evaluated else ((card or {}).get("metrics") or {}).get("validation") or {}
    flat: list[tuple[str, float]] = []
    for key, v in source.items():
        if key == "measured_with":  # how it was measured (test-set size, date): not a metric
            continue
        if isinstance(v, dict):
            flat += [(f"{key} {k2}", v2) for k2, v2 in v.items() if isinstance(v2, (int, float)) and not isinstance(v2, bool)]
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            flat.append((key, v))
    seen, out = set(), []
    for key, v in flat:  # a loss that *is* the MSE (plain autoencoders) is shown once
        if round(float(v), 10) in seen:
            continue
        seen.add(round(float(v), 10))
        out.append(_nice_metric(key, float(v)))
    return out[:k]
