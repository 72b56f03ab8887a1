"""The home page's headline figures (ui.headlines), without Streamlit."""
from __future__ import annotations

from ui.headlines import headline_metrics


def test_headline_metrics_prefers_evaluation_report():
    card = {"metrics": {"validation": {"val_loss": 0.05, "val_accuracy": 0.991}}}
    assert headline_metrics(card) == [("loss", "0.0500"), ("accuracy", "99.10%")]
    evaluated = {"test_error": 0.0069, "test_accuracy": 0.9931, "labels_used": "all"}
    assert headline_metrics(card, evaluated) == [("test accuracy", "99.31%")]
    unknown = {"psnr": {"sigma_0.3": 23.4}, "note": "text is skipped"}  # no headline measure: all numbers, nested ok
    assert headline_metrics(card, unknown) == [("psnr sigma 0.3", "23.4 dB")]
    assert headline_metrics(None) == []
    report = {"test_mse": 0.0049, "pca32_mse": 0.0168, "mse_over_pca32": 0.29, "anomaly_auroc_fashion": 0.993, "code_dim": 32}
    assert headline_metrics(None, report) == [("test MSE", "0.0049"), ("error vs PCA(32)", "0.29×"),
                                                       ("anomaly AUROC (digits vs clothes)", "0.993")]
    same = {"metrics": {"validation": {"val_loss": 0.02, "val_mse": 0.02, "val_kl": 3.0}}}
    assert headline_metrics(same) == [("loss", "0.0200"), ("kl", "3.0000")]
