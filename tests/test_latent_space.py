"""Latent spaces without Streamlit: codes and decoding (rep_models.codes), directions, paths, the 2-D manifold,
GAN sampling and walks, linear AE against PCA (rep_models.subspaces) and image tiling.

Mechanics use tiny untrained models built here; tests that need a *trained* model use the shipped one and
skip only while its file is absent.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from rep_models import checkpoint
from rep_models.codes import decode_at, encode_all, latent_dim
from rep_models.directions import axis_directions, class_direction, class_means, move, principal_directions
from rep_models.images import signed_rgb, signed_rgb_row, tile
from rep_models.manifold import manifold_grid, manifold_to_z, z_to_manifold
from rep_models.models import build
from rep_models.paths import interpolate, lerp, slerp, traversal
from rep_models.pca import fit as fit_pca
from rep_models.sampling import class_histogram, gan_samples, mode_summary, walk_latents
from rep_models.subspaces import decoder_basis, decoder_columns, linear_ae_curve, pca_mse, principal_angles, project_onto


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return {
        "vae": build("vae", latent_dim=6, channels=4, hidden=32).eval(),
        "vae_2d": build("vae", latent_dim=2, channels=4, hidden=32).eval(),
        "cvae": build("cvae", latent_dim=4, channels=4, hidden=32).eval(),
        "dcgan": build("dcgan", z_dim=8, ngf=4, ndf=4).eval(),
        "cdcgan": build("cdcgan", z_dim=8, ngf=4, ndf=4).eval(),
        "classifier": build("classifier", channels=4, features=16).eval(),
        "linear_ae": build("linear_ae", latent_dim=5).eval(),
    }


def shipped(name: str):
    if not (checkpoint.PRETRAINED_DIR / f"{name}.json").is_file():
        pytest.skip(f"pretrained {name} not installed yet")
    return checkpoint.load_pretrained(name)


# ------------------------------------------------------------------------------------------- decoding


def test_decode_at_shapes_and_range(tiny):
    img = decode_at(tiny["vae"], np.zeros(6))
    assert img.shape == (28, 28) and img.dtype == np.float32
    batch = decode_at(tiny["vae"], np.random.default_rng(0).normal(size=(3, 6)) * 10)
    assert batch.shape == (3, 28, 28) and 0 <= batch.min() and batch.max() <= 1
    assert decode_at(tiny["cvae"], np.zeros((2, 4)), y=[3, 5]).shape == (2, 28, 28)
    assert decode_at(tiny["cdcgan"], np.zeros(8), y=7).shape == (28, 28)


def test_decode_at_rejects_wrong_sizes(tiny):
    with pytest.raises(ValueError, match=r"\(6,\)"):
        decode_at(tiny["vae"], np.zeros(5))
    with pytest.raises(ValueError, match="0..9"):
        decode_at(tiny["cvae"], np.zeros(4), y=12)


def test_encode_all_matches_encode(tiny, small_batch):
    x, y = small_batch
    codes = encode_all(tiny["vae"], x[:10], batch_size=4)
    with torch.inference_mode():
        assert np.allclose(codes, tiny["vae"].encode(x[:10]).numpy(), atol=1e-5)
    assert encode_all(tiny["cvae"], x[:10], y[:10], batch_size=3).shape == (10, 4)


# ----------------------------------------------------------------------------------------- directions


def test_principal_directions_find_the_widest_axis_and_scale_by_its_std():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(4000, 3)) * np.array([0.5, 3.0, 1.0])
    d = principal_directions(codes, 2)
    assert abs(abs(d.vectors[0, 1]) - 1) < 0.01 and abs(abs(d.vectors[1, 2]) - 1) < 0.02  # measured 2e-5, 1.6e-4
    assert d.scales == pytest.approx([3.0, 1.0], rel=0.05)  # measured 2.951, 0.997 (2026-12-01)
    assert d.explained[0] > d.explained[1]
    moved = move(np.zeros(3), d, [2.0])  # two standard deviations along PC 1
    assert np.linalg.norm(moved) == pytest.approx(2 * d.scales[0], rel=1e-5)


def test_axis_directions_order_by_use_and_step_in_prior_units():
    codes = np.random.default_rng(1).normal(size=(500, 4)) * np.array([0.01, 2.0, 0.5, 1.0])
    d = axis_directions(codes)
    assert d.names[:2] == ["z[1]", "z[3]"] and d.spread[-1] < 0.05  # measured 0.0098
    assert np.allclose(move(np.zeros(4), d, [1.5]), [0, 1.5, 0, 0])


def test_class_direction_is_the_difference_of_class_means():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(10), 50)
    centres = rng.normal(size=(10, 5)) * 4
    codes = centres[labels] + rng.normal(size=(500, 5)) * 0.1
    v = class_direction(codes, labels, 3, 8)
    assert np.allclose(v, centres[8] - centres[3], atol=0.1)  # measured 0.050 at most (2026-12-01)
    with pytest.raises(ValueError, match="no codes for digits"):
        class_means(codes[labels != 4], labels[labels != 4])


# ---------------------------------------------------------------------------------------------- paths


def test_slerp_endpoints_and_norm():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=16), rng.normal(size=16)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    path = slerp(a, b, np.linspace(0, 1, 7))
    assert np.allclose(path[0], a, atol=1e-5) and np.allclose(path[-1], b, atol=1e-5)
    assert np.allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-4)  # stays on the sphere
    assert np.linalg.norm(lerp(a, b, 0.5)) < np.linalg.norm(a)  # the straight line cuts inside
    # Parallel endpoints: no unique great circle, falls back to the line instead of dividing by zero.
    assert np.allclose(slerp(a, 2 * a, 0.5), 1.5 * a, atol=1e-5)


def test_interpolate_shapes_and_bad_method():
    z = interpolate(np.zeros(4), np.ones(4), 5, "spherical")
    assert z.shape == (5, 4)
    with pytest.raises(ValueError, match="linear' or 'spherical"):
        interpolate(np.zeros(4), np.ones(4), 5, "cubic")


def test_traversal_sets_one_unit_per_row(tiny):
    grid = traversal(tiny["vae"], np.zeros(6), [0, 3], span=2.0, steps=4)
    assert grid.shape == (2, 4, 28, 28)
    assert not np.allclose(grid[0, 0], grid[0, -1])  # moving a unit changes the image


# ------------------------------------------------------------------------------------------- manifold


def test_manifold_click_round_trip_and_orientation(tiny):
    m = manifold_grid(tiny["vae_2d"], n=5)
    assert m.image.shape == (140, 140)
    for z in ([0.0, 0.0], [1.2, -0.7], [-1.5, 1.9]):
        px, py = z_to_manifold(m, z)
        assert np.allclose(manifold_to_z(m, px, py), z, atol=1e-4)
    # The code under a tile's centre decodes to that very tile (rows go down as z[1] goes down).
    for r, c in ((0, 0), (0, 4), (3, 1)):
        z = manifold_to_z(m, 28 * c + 14, 28 * r + 14)
        assert z[0] == pytest.approx(m.values[c], abs=1e-4) and z[1] == pytest.approx(m.values[m.n - 1 - r], abs=1e-4)
        assert np.allclose(decode_at(tiny["vae_2d"], z), m.image[28 * r : 28 * r + 28, 28 * c : 28 * c + 28], atol=1e-5)


def test_manifold_needs_a_2d_model(tiny):
    with pytest.raises(ValueError, match="2-D latent"):
        manifold_grid(tiny["vae"])


# ----------------------------------------------------------------------------------------------- GANs


def test_gan_samples_are_repeatable_for_a_seed(tiny):
    g = tiny["dcgan"]
    a, b, c = (gan_samples(g, 6, s, truncation=1.0) for s in (5, 5, 6))
    assert a.shape == (6, 28, 28) and np.array_equal(a, b) and not np.allclose(a, c)
    assert gan_samples(tiny["cdcgan"], 3, 0, digit=4).shape == (3, 28, 28)


def test_walk_is_smooth_periodic_and_keeps_its_norm():
    frames = np.stack([walk_latents(32, f, n=3, seed=1, period=60) for f in range(61)])  # (61, 3, 32)
    assert np.allclose(frames[0], frames[60], atol=1e-5)
    steps = np.linalg.norm(np.diff(frames, axis=0), axis=2)
    norms = np.linalg.norm(frames, axis=2)
    assert steps.max() < 0.15 * norms.min()  # consecutive frames are close (measured 0.643 < 0.671; fixed seed)
    assert np.allclose(norms, norms[0], rtol=1e-4)
    rand = np.stack([walk_latents(32, f, n=2, seed=1, period=40, method="random") for f in range(25)])
    assert np.linalg.norm(np.diff(rand, axis=0), axis=2).max() < 0.5 * np.linalg.norm(rand, axis=2).min()  # 1.17 < 2.08


def test_class_histogram_and_mode_summary(tiny):
    imgs = gan_samples(tiny["dcgan"], 20, 0)
    counts, conf = class_histogram(tiny["classifier"], imgs)
    assert counts.shape == (10,) and counts.sum() == 20 and 0.1 <= conf <= 1
    even = mode_summary(np.full(10, 5))
    assert even["entropy_bits"] == pytest.approx(np.log2(10)) and even["digits_covered"] == 10
    collapsed = mode_summary([0, 0, 30, 0, 0, 0, 0, 0, 0, 0])
    assert collapsed == {"entropy_bits": 0.0, "digits_covered": 1, "top_share": 1.0}


# -------------------------------------------------------------------------------------- linear AE vs PCA


def test_pca_mse_is_the_error_of_projecting_on_the_top_components():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(800, 40)) @ rng.normal(size=(40, 40))  # correlated rows (N, D)
    p = fit_pca(x)
    ks = [0, 1, 10, 39, 40]
    analytic = pca_mse(p.eigenvalues, ks)
    for k, want in zip(ks, analytic, strict=True):
        v = p.components[:k].T
        c = x - p.mean
        err = ((c - c @ v @ v.T) ** 2).mean()
        # float32 products: compare to 1e-4 of the total variance (the covariance divides by N-1)
        assert err == pytest.approx(want * (len(x) - 1) / len(x), rel=1e-3, abs=1e-4 * analytic[0])
    assert np.all(np.diff(analytic) < 0) and analytic[-1] == 0


def test_principal_angles_ignore_the_basis():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(50, 4))
    mixed = a @ rng.normal(size=(4, 4))  # same span, another basis
    assert principal_angles(a, mixed).max() < 1e-4
    q, _ = np.linalg.qr(rng.normal(size=(50, 8)))
    assert principal_angles(q[:, :4], q[:, 4:]).min() == pytest.approx(90, abs=1e-4)
    proj = project_onto(a, mixed.T)
    assert np.allclose(proj, mixed.T, atol=1e-8)


def test_decoder_columns_are_the_decoder_weights(tiny):
    cols = decoder_columns(tiny["linear_ae"])
    assert cols.shape == (5, 28, 28)
    assert np.allclose(cols[2].ravel(), tiny["linear_ae"].decoder.weight[:, 2].detach().numpy())
    assert np.array_equal(decoder_basis(tiny["linear_ae"])[:, 2], cols[2].ravel())


def test_linear_ae_curve_error_falls_with_code_size(mnist_val):
    torch.manual_seed(0)
    curve = linear_ae_curve(mnist_val[0][:512], [1, 16], epochs=2)
    assert curve[16] < curve[1]  # measured 0.128 < 0.416 (2026-12-01)


# ---------------------------------------------------------------------------------------------- display


def test_tile_layout_and_signed_colours():
    imgs = np.stack([np.full((3, 4), i / 5) for i in range(5)])
    t = tile(imgs, ncols=3, pad=1, pad_value=0.5)
    assert t.shape == (2 * 3 + 1, 3 * 4 + 2)
    assert t[4, 5] == pytest.approx(4 / 5) and t[0, 4] == 0.5  # image 4 at row 1, col 1; a gap between
    rgb = signed_rgb(np.array([[1.0, -1.0, 0.0]]), scale=2)
    assert rgb.shape == (2, 6, 3)
    assert tuple(rgb[0, 0]) == (255, 0, 0) and tuple(rgb[0, 2]) == (0, 0, 255) and tuple(rgb[0, 4]) == (255, 255, 255)
    row = signed_rgb_row(np.stack([np.eye(3), -np.eye(3)]), scale=2, pad=1)
    assert row.shape == (8, 16, 3) and tuple(row[0, 0]) == (255, 255, 255)  # a white frame round each
    assert tuple(row[1, 1]) == (255, 0, 0) and tuple(row[1, 9]) == (0, 0, 255)


# --------------------------------------------------------------------------------- shipped models


def test_class_direction_turns_threes_into_eights(mnist_test):
    vae, clf = shipped("vae"), shipped("classifier")
    x, y = mnist_test[0][:2000], mnist_test[1][:2000]
    codes = encode_all(vae, x)
    direction = class_direction(codes, y.numpy(), 3, 8)
    threes = codes[y.numpy() == 3][:20]
    before, _ = class_histogram(clf, decode_at(vae, threes))
    after, _ = class_histogram(clf, decode_at(vae, threes + direction))
    assert before.argmax() == 3 and after.argmax() == 8  # measured: 20 of 20 threes, then 13 of 20 eights (2026-12-01)


def test_shipped_decode_is_fast():
    vae = shipped("vae")
    z = np.zeros(latent_dim(vae), np.float32)
    decode_at(vae, z)
    t = []
    for _ in range(20):
        t0 = time.perf_counter()
        decode_at(vae, z)
        t.append(time.perf_counter() - t0)
    assert np.median(t) < 0.05  # generous on a loaded CI machine; bench/ holds the real figure
