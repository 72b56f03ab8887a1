"""The measures on synthetic data whose answer is known, and on small fresh models."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rep_models import metrics
from rep_models.anomaly import auroc, reconstruction_error
from rep_models.models import build


def test_auroc_separable_is_one_and_reversed_is_zero():
    assert auroc([0.1, 0.2, 0.3], [0.5, 0.9]) == 1.0
    assert auroc([0.5, 0.9], [0.1, 0.2, 0.3]) == 0.0


def test_auroc_ties_and_identical_distributions_give_half():
    assert auroc([1, 1, 1], [1, 1]) == 0.5
    rng = np.random.default_rng(0)
    assert abs(auroc(rng.normal(size=4000), rng.normal(size=4000)) - 0.5) < 0.03  # measured 0.0107 (2026-12-01)


def test_auroc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=300), rng.normal(0.7, 1, size=200).round(1)
    want = roc_auc_score(np.r_[np.zeros(300), np.ones(200)], np.r_[a, b])
    assert auroc(a, b) == pytest.approx(want)


def test_auroc_rejects_empty_and_nan():
    with pytest.raises(ValueError, match="at least one"):
        auroc([], [1.0])
    with pytest.raises(ValueError, match="finite"):
        auroc([np.nan], [1.0])


def test_reconstruction_error_is_per_image_mse():
    model = build("linear_ae", latent_dim=4).eval()
    x = torch.rand(7, 1, 28, 28)
    err = reconstruction_error(model, x, batch_size=3)
    assert err.shape == (7,)
    want = ((model(x).clamp(0, 1) - x) ** 2).flatten(1).mean(1)
    assert torch.allclose(err, want.detach(), atol=1e-6)
    assert reconstruction_error(model, x[0, 0]).shape == (1,)  # a single (28, 28) image
    with pytest.raises(ValueError, match="shape"):
        reconstruction_error(model, torch.rand(2, 3, 28, 28))


def test_principal_angles_of_a_subspace_with_itself_and_its_complement():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(50, 6)))
    a, b = q[:, :3], q[:, 3:]
    assert metrics.principal_angles_deg(a, a @ rng.normal(size=(3, 3))).max() < 1e-4  # same span, other basis
    assert metrics.principal_angles_deg(a, b).min() == pytest.approx(90.0)


def test_pca_mse_and_linear_decoder_on_low_rank_data():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(784, 5)))[0]
    train = rng.normal(size=(400, 5)) @ basis.T + 0.3
    test = rng.normal(size=(100, 5)) @ basis.T + 0.3
    assert metrics.pca_mse(train, test, k=5) < 1e-20  # rank-5 data: PCA(5) is exact
    assert metrics.pca_mse(train, test, k=2) > 1e-3  # measured 0.0038 (k=5: 3e-32; the angle below 1e-13)
    assert metrics.largest_angle_to_pca(basis @ rng.normal(size=(5, 5)), train) < 1e-3


def test_frechet_distance_identical_zero_and_shift_is_squared_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5000, 8))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_distance(a, a + 2.0) == pytest.approx(8 * 4.0, rel=1e-6)  # mean shift only
    b = rng.normal(size=(5000, 8))  # same Gaussian, other draw: small, positive
    assert 0 <= metrics.frechet_distance(a, b) < 0.1  # measured 0.0107 (2026-12-01)
    with pytest.raises(ValueError, match="same F"):
        metrics.frechet_distance(a, a[:, :3])


def test_frechet_distance_matches_the_sqrtm_formula():
    from scipy import linalg

    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3000, 12)) @ rng.normal(size=(12, 12)), rng.normal(size=(3000, 12)) * 1.5 + 0.3
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    want = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real)
    assert metrics.frechet_distance(a, b) == pytest.approx(want, rel=1e-8)


def test_iwae_bound_is_at_least_as_tight_as_elbo(small_batch):
    torch.manual_seed(0)
    model = build("vae", latent_dim=4, channels=4, hidden=32).eval()
    x = small_batch[0][:16]
    elbo = metrics.vae_neg_elbo(model, x, seed=0)
    iw1 = metrics.vae_iwae(model, x, k=1, seed=0)
    iw100 = metrics.vae_iwae(model, x, k=100, seed=0)
    # Measured 2026-12-01: -ELBO 502.786, IWAE k=1 502.807, k=100 502.743; the gaps (0.043, 0.065 nats) are the
    # same to 1e-4 with 1e-5 noise on the pixels, 400 times what float differences move them.
    assert iw100 <= elbo  # -log p(x) <= IWAE_k bound <= -ELBO (in expectation; far apart for an untrained VAE)
    assert iw100 <= iw1
    assert abs(iw1 - elbo) / elbo < 0.05  # k = 1 is the ELBO, up to sampling noise (measured 4.3e-5)


def test_iwae_conditional_vae_needs_labels(small_batch):
    model = build("cvae", latent_dim=4, channels=4, hidden=32).eval()
    x, y = small_batch[0][:8], small_batch[1][:8]
    assert np.isfinite(metrics.vae_iwae(model, x, y, k=5))
    with pytest.raises(ValueError, match="conditional"):
        metrics.vae_iwae(model, x, None, k=5)


def test_jacobian_frobenius_matches_closed_form_of_contractive_ae():
    torch.manual_seed(0)
    model = build("contractive_ae", latent_dim=16, hidden=32).eval()
    x = torch.rand(5, 1, 28, 28)
    got = metrics.jacobian_frobenius(model.encode, x, batch_size=2)
    with torch.no_grad():
        want = model.jacobian_norm_sq(model.encode(x)).sqrt()
    assert torch.allclose(got, want, rtol=1e-4)
    w = torch.randn(784, 3)  # a linear map's Jacobian is its matrix, the same for every input
    lin = metrics.jacobian_frobenius(lambda xb: xb.flatten(1) @ w, x)
    assert torch.allclose(lin, w.norm().expand(5), rtol=1e-5)


def test_class_histogram_and_mean_activation():
    probs = np.eye(10)[np.r_[np.zeros(5, int), np.arange(10)]] * 0.8 + 0.02
    h = metrics.class_histogram(probs)
    assert sum(h["histogram"]) == pytest.approx(1.0)
    assert h["max_class_fraction"] == pytest.approx(6 / 15)
    assert h["mean_top_prob"] == pytest.approx(0.82)
    assert metrics.mean_activation(np.full((4, 3), 0.05)) == pytest.approx(0.05)


def test_knn_accuracy_and_trustworthiness_of_clusters():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    centres = rng.normal(scale=20, size=(4, 10))
    codes = centres[labels] + rng.normal(size=(200, 10))
    coords = codes[:, :2]  # well separated clusters survive dropping dimensions
    assert metrics.knn_accuracy(coords, labels) > 0.95  # measured 1.0 (2026-12-01)
    assert metrics.knn_accuracy(rng.normal(size=(200, 2)), labels) < 0.5  # a random map: about chance (measured 0.18)
    assert metrics.trustworthiness(codes, codes[:, :2]) > metrics.trustworthiness(codes, rng.normal(size=(200, 2)))  # 0.945 > 0.507


def test_few_label_accuracy_on_separable_codes():
    rng = np.random.default_rng(0)
    ytr, yte = rng.integers(0, 10, 2000), rng.integers(0, 10, 500)
    centres = rng.normal(scale=5, size=(10, 16))
    xtr, xte = centres[ytr] + rng.normal(size=(2000, 16)), centres[yte] + rng.normal(size=(500, 16))
    mean, std = metrics.few_label_accuracy(xtr, ytr, xte, yte, n_labels=100, draws=3)
    assert mean > 0.95 and 0 <= std < 0.05  # measured 1.0 and 0.0 (2026-12-01)
    noise_mean, _ = metrics.few_label_accuracy(rng.normal(size=(2000, 16)), ytr, xte, yte, n_labels=100, draws=3)
    assert noise_mean < 0.3  # measured 0.07
    with pytest.raises(ValueError, match="n_labels"):
        metrics.few_label_accuracy(xtr, ytr, xte, yte, n_labels=5)


def test_denoising_psnr_of_identity_equals_noisy(small_batch):
    x = small_batch[0][:32]
    r = metrics.denoising_psnr(lambda b: b, x, "gaussian", 0.3, seed=0)
    assert r["model"] == pytest.approx(r["noisy"], abs=1e-4)
    assert r["best_classical"] >= r["median3"] - 1e-6  # median 3x3 is one of the candidates
    perfect = metrics.denoising_psnr(lambda b: x, x, "gaussian", 0.3, seed=0)
    assert perfect["model"] > 90  # measured 100.0


def test_test_mse_and_pca_mse_agree_for_a_pca_linear_ae(mnist_train):
    x = mnist_train[0][:2000]
    mean, v = metrics.pca_basis(x, 8)
    model = build("linear_ae", latent_dim=8).eval()
    with torch.no_grad():  # set the linear AE to the PCA projection: encoder V^T(x - m), decoder V z + m
        model.encoder.weight.copy_(torch.from_numpy(v.T).float())
        model.encoder.bias.copy_(-torch.from_numpy(v.T @ mean).float())
        model.decoder.weight.copy_(torch.from_numpy(v).float())
        model.decoder.bias.copy_(torch.from_numpy(mean).float())
    assert metrics.test_mse(model, x) == pytest.approx(metrics.pca_mse(x, x, 8), rel=1e-3)  # measured 1.4e-7 apart
    assert metrics.largest_angle_to_pca(model.decoder.weight.detach(), x) < 0.1  # measured 1.6e-6 degrees (2026-12-01)
