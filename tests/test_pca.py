"""rep_models.pca: the one PCA, exact, with deterministic signs (largest-|loading| entry positive)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rep_models import pca


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(600, 12)) @ rng.normal(size=(12, 12)) + rng.normal(size=12)  # correlated rows (N, D)


def test_signs_follow_the_largest_loading(data):
    p = pca.fit(data)
    top = p.components[np.arange(len(p.components)), np.argmax(np.abs(p.components), axis=1)]
    assert (top > 0).all()
    assert np.allclose(p.components @ p.components.T, np.eye(12), atol=1e-10)  # orthonormal rows
    assert np.all(np.diff(p.eigenvalues) <= 0) and p.eigenvalues.min() >= 0


def test_the_same_data_in_another_order_or_negated_give_the_same_components(data):
    p = pca.fit(data)
    shuffled = pca.fit(data[np.random.default_rng(1).permutation(len(data))])
    np.testing.assert_allclose(shuffled.components, p.components, atol=1e-10)
    flipped = pca.fit(-data)  # the same covariance: the very same components, not their negatives
    np.testing.assert_array_equal(flipped.components, p.components)
    np.testing.assert_allclose(flipped.mean, -p.mean)
    as_tensor = pca.fit(torch.from_numpy(data).float().reshape(600, 3, 4))  # images (N, ...) are flattened
    np.testing.assert_allclose(as_tensor.components, p.components, atol=1e-5)


def test_matches_scikit_learn_up_to_sign(data):
    from sklearn.decomposition import PCA

    ref = PCA(5, svd_solver="full").fit(data)
    p = pca.fit(data, 5)
    np.testing.assert_allclose(np.abs(np.sum(ref.components_ * p.components, axis=1)), 1, atol=1e-10)
    np.testing.assert_allclose(p.eigenvalues, ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(p.transform(data), ref.transform(data) * np.sign(np.sum(ref.components_ * p.components, 1)), atol=1e-8)
    # scikit-learn (>= 1.5) flips its components by the same rule
    np.testing.assert_allclose(p.components, pca.flip_signs(ref.components_), atol=1e-10)


def test_reconstruct_and_bad_sizes(data):
    p = pca.fit(data)
    np.testing.assert_allclose(p.reconstruct(data), data, atol=1e-8)  # every component: exact
    err = ((p.reconstruct(data, 3) - data) ** 2).sum(1).mean()
    assert err == pytest.approx(p.eigenvalues[3:].sum() * (len(data) - 1) / len(data), rel=1e-8)
    with pytest.raises(ValueError, match="k must be"):
        pca.fit(data, 13)
    with pytest.raises(ValueError, match="2 rows"):
        pca.fit(data[:1])
    assert np.array_equal(pca.flip_signs(np.zeros((1, 3))), np.zeros((1, 3)))


def test_the_shipped_pixel_maps_have_these_signs():
    """The latent map's shipped PCA map and map space (made by scikit-learn's PCA, which flips by the same rule)
    are what rep_models.pca gives now, sign included: no file needed remaking."""
    from rep_models import projections
    from rep_models.data import load_tensors

    x, _ = load_tensors("mnist", "test", source="sample")
    shipped = projections.load_projection("pixels", "pca")
    codes = projections.codes_for("pixels", x)[shipped["indices"]]
    np.testing.assert_allclose(pca.fit(codes, 2).components, shipped["components"], atol=1e-4)  # measured 1.5e-5 (float32 fit)
    ref = projections.load_reference("pixels")
    np.testing.assert_allclose(pca.fit(codes, len(ref["components"])).components, ref["components"], atol=1e-3)  # measured 1.4e-4
