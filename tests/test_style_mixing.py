"""The GAN studio's style-based views (rep_models/style_mixing.py) on a small untrained StyleGAN: the mixing grid's
layout and shared noise, truncation in W, the noise inputs fixed / re-drawn / off, the path in W, and clear errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rep_models import style_mixing as sm
from rep_models.models import build

SMALL = {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "channels": (8, 8, 4), "d_channels": (4, 8, 8)}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = build("stylegan", **SMALL).eval()
    for k, p in m.named_parameters():  # an untrained net's noise strengths start at 0: make them count
        if k.endswith("strength"):
            p.data.normal_(0, 0.5)
    m.w_avg.normal_()
    return m


@pytest.mark.parametrize("noise", ["const", "random"])
def test_mixing_grid_layout_and_one_noise_for_every_cell(model, noise):
    g = sm.mixing_grid(model, [1, 2], [1, 3, 4], crossover=2, noise=noise, noise_seed=5)
    assert g.shape == (3, 4, 28, 28) and g.dtype == np.float32
    assert not g[0, 0].any()  # the corner is blank
    with torch.no_grad():
        own = {s: sm._same_noise(model, model.broadcast(sm._ws_of(model, [s], None)), noise, 5)[0] for s in (1, 2, 3, 4)}
    for c, s in enumerate([1, 3, 4], start=1):
        np.testing.assert_allclose(g[0, c], own[s], atol=1e-5)  # the top row (batch of one vs many: float rounding, measured 1.3e-6): each column's sample as it is
    for r, s in enumerate([1, 2], start=1):
        np.testing.assert_allclose(g[r, 0], own[s], atol=1e-5)
    np.testing.assert_allclose(g[1, 1], own[1], atol=1e-5)  # a sample mixed with itself is itself: the same noise in every cell
    with torch.no_grad():
        wa, wb = sm._ws_of(model, [2], None), sm._ws_of(model, [4], None)
        want = sm._same_noise(model, model.mix(wa, wb, 2), noise, 5)[0]
    np.testing.assert_allclose(g[2, 3], want, atol=1e-5)  # row 2's first two styles, column 4's others
    assert np.abs(g[2, 3] - own[2]).mean() > 1e-4 and np.abs(g[2, 3] - own[4]).mean() > 1e-4


def test_the_crossover_decides_how_much_comes_from_each(model):
    diffs = [np.abs(sm.mixing_grid(model, [1], [2], k)[1, 1] - sm.mixing_grid(model, [1], [2], k)[1, 0]).mean()
             for k in range(1, model.n_styles)]
    assert diffs[0] > diffs[-1]  # the more styles from A, the closer the mix is to A


def test_truncation_in_w_and_the_noise_inputs(model):
    base = sm.style_samples(model, 4, 7)
    assert base.shape == (4, 28, 28)
    np.testing.assert_array_equal(base, sm.style_samples(model, 4, 7))  # repeatable
    avg = sm.style_samples(model, 4, 7, psi=0.0)
    assert np.abs(avg - avg[:1]).max() < 1e-6  # psi 0: every sample is the average w's digit
    half = sm.style_samples(model, 4, 7, psi=0.5)
    assert np.abs(half - avg).mean() < np.abs(base - avg).mean()  # pulled toward it
    off = sm.style_samples(model, 4, 7, noise="none")
    r1, r1b, r2 = (sm.style_samples(model, 4, 7, noise="random", noise_seed=s) for s in (1, 1, 2))
    assert np.abs(off - base).mean() > 1e-4 and np.abs(r1 - r2).mean() > 1e-4
    np.testing.assert_array_equal(r1, r1b)


def test_path_in_w_runs_from_a_to_b(model):
    path = sm.w_path(model, 3, 8, 6)
    assert path.shape == (6, 28, 28)
    ends = sm.mixing_grid(model, [3], [8], 1)
    np.testing.assert_allclose(path[0], ends[1, 0], atol=1e-5)  # batch sizes differ: float rounding
    np.testing.assert_allclose(path[-1], ends[0, 1], atol=1e-5)


def test_bad_values_are_named(model):
    with pytest.raises(ValueError, match=r"crossover must be within 1\.\.5.*got 6"):
        sm.mixing_grid(model, [1], [2], 6)
    with pytest.raises(ValueError, match="noise must be one of.*'loud'"):
        sm.style_samples(model, 2, 0, noise="loud")
    with pytest.raises(ValueError, match=r"psi .* 0\.\.1, got 1\.5"):
        sm.style_samples(model, 2, 0, psi=1.5)
    with pytest.raises(ValueError, match="at least one row seed"):
        sm.mixing_grid(model, [], [2], 2)
    with pytest.raises(ValueError, match="steps must be >= 2"):
        sm.w_path(model, 1, 2, 1)
    dc = build("dcgan", ngf=8, ndf=8)
    assert not sm.is_style_based(dc)
    with pytest.raises(ValueError, match="DCGAN is not a style-based generator"):
        sm.style_samples(dc, 2, 0)
