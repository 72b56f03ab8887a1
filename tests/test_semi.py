"""Graph label propagation (rep_models.semi); the SDA's use of it is tested in test_recipes.py."""
from __future__ import annotations

import numpy as np
import pytest

from rep_models import semi


def rings(n_per: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric noisy circles (radius 1 and 3): no line separates them, the neighbour graph does."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, 2 * n_per)
    r = np.repeat([1.0, 3.0], n_per) + rng.normal(0, 0.08, 2 * n_per)
    return np.stack([r * np.cos(t), r * np.sin(t)], 1).astype(np.float32), np.repeat([0, 1], n_per)


def test_knn_graph_matches_brute_force():
    x = np.random.default_rng(1).normal(size=(500, 7)).astype(np.float32)
    idx, dist = semi.knn_graph(x, k=5, chunk=64)  # several chunks
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    want = np.argsort(d, 1)[:, :5]
    assert (idx == want).mean() > 0.999  # ties aside (measured 1.0)
    np.testing.assert_allclose(dist, np.take_along_axis(d, want, 1), rtol=1e-4, atol=1e-4)
    assert (idx != np.arange(500)[:, None]).all()  # never its own neighbour


def test_one_label_per_ring_labels_every_point():
    x, y = rings()
    labels = -np.ones(len(x), int)
    labels[[0, 300]] = [0, 1]  # one labelled point on each ring
    idx, dist = semi.knn_graph(x, k=8)
    probs = semi.label_spreading(idx, dist, labels, iterations=200)  # ~50 hops round the outer ring
    assert probs.shape == (600, 2)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-6)
    assert (probs.argmax(1) == y).mean() > 0.99  # measured 1.0 (2026-12-01)
    # a linear classifier on the same two labels cannot do this
    from sklearn.linear_model import LogisticRegression

    assert (LogisticRegression().fit(x[[0, 300]], [0, 1]).predict(x) == y).mean() < 0.8  # measured 0.652


def test_pseudo_labels_keep_the_given_labels_and_most_confident_is_per_class():
    x, y = rings()
    given = np.array([5, 17, 305])
    p = semi.pseudo_labels(x, given, np.array([1, 1, 0]), k=8, n_classes=2)  # deliberately wrong labels
    assert list(p.labels[given]) == [1, 1, 0] and (p.confidence[given] == 1).all()
    keep = semi.most_confident(p, 0.5, n_classes=2)
    assert set(given) <= set(keep)
    for c in (0, 1):
        members = (p.labels == c).sum()
        assert abs((p.labels[keep] == c).sum() - round(0.5 * members)) <= 1


@pytest.mark.parametrize("bad", [dict(labels=-np.ones(600, int)), dict(labels=np.zeros(5, int))])
def test_label_spreading_rejects_bad_labels(bad):
    x, _ = rings()
    idx, dist = semi.knn_graph(x, k=4)
    with pytest.raises(ValueError, match="label"):
        semi.label_spreading(idx, dist, bad["labels"])


def test_most_confident_rejects_a_bad_fraction():
    p = semi.PseudoLabels(np.zeros(4, int), np.ones(4))
    with pytest.raises(ValueError, match="fraction"):
        semi.most_confident(p, 0.0)
