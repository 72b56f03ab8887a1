"""The style-based generator (rep_models/models/stylegan.py): its API's shapes, seeds, truncation in W, style
mixing, the training step, progressive growing; small configs, so it runs in seconds on a CPU."""
from __future__ import annotations

import pytest
import torch

from rep_models.models import build
from rep_models.models.base import noise_generator
from rep_models.training.loop import Phase, make_optimisers
from rep_models.training.options import TrainOptions
from rep_models.training.steps import STEPS, LossModule

SMALL = {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "channels": (8, 8, 4), "d_channels": (4, 8, 8)}


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = build("stylegan", **SMALL).eval()
    m.w_avg.normal_()  # as if trained: truncation then has somewhere to pull to
    return m


def test_api_shapes(model):
    assert model.latent_dim == 8 and model.n_styles == 6 and model.coarse_styles == 2
    assert model.w_avg.shape == (8,)
    z = torch.randn(5, 8)
    w = model.mapping(z)
    assert w.shape == (5, 8)
    ws = model.broadcast(w)
    assert ws.shape == (5, model.n_styles, 8)
    img = model.synthesis(ws)
    assert img.shape == (5, 1, 28, 28) and img.min() >= 0 and img.max() <= 1
    s = model.sample(7, seed=3)
    assert s.shape == (7, 1, 28, 28) and s.min() >= 0 and s.max() <= 1
    assert model.sample(3, seed=1, digit=4).shape == (3, 1, 28, 28)  # the evaluation's call (digit ignored: unconditional)
    assert model.decode(model.latent(2, 0)).shape == (2, 1, 28, 28)  # the latent walk's path


def test_sample_is_repeatable_for_a_seed(model):
    a, b = model.sample(6, seed=11), model.sample(6, seed=11)
    assert torch.equal(a, b)
    assert not torch.equal(a, model.sample(6, seed=12))
    # Without a seed, the thread's noise generator decides.
    with noise_generator(torch.Generator().manual_seed(5)):
        c = model.sample(6)
    with noise_generator(torch.Generator().manual_seed(5)):
        d = model.sample(6)
    assert torch.equal(c, d)


def test_truncation_zero_draws_the_average_w(model):
    avg = model.synthesis(model.broadcast(model.w_avg[None].expand(4, -1)), noise="const")
    t0 = model.sample(4, seed=2, truncation=0.0, noise="const")
    assert torch.allclose(t0, avg, atol=1e-6)
    assert torch.allclose(t0[0], t0[3], atol=1e-6)  # every seed: the same digit
    full = model.sample(4, seed=2, truncation=None, noise="const")
    assert torch.equal(full, model.sample(4, seed=2, truncation=1.0, noise="const"))
    half = model.sample(4, seed=2, truncation=0.5, noise="const")
    assert (half - avg).abs().mean() < (full - avg).abs().mean()  # psi pulls toward the average


def test_style_mixing_api(model):
    wa, wb = model.mapping(torch.randn(3, 8)), model.mapping(torch.randn(3, 8))
    ws = model.mix(wa, wb, 2)
    assert ws.shape == (3, 6, 8)
    assert torch.equal(ws[:, :2], wa[:, None].expand(-1, 2, -1)) and torch.equal(ws[:, 2:], wb[:, None].expand(-1, 4, -1))
    a = model.synthesis(model.broadcast(wa), noise="const")
    assert torch.equal(model.synthesis(model.mix(wa, wb, model.n_styles), noise="const"), a)  # crossover at the end: A
    assert not torch.equal(model.synthesis(ws, noise="const"), a)
    assert torch.equal(model.synthesis(ws, noise="const"), model.synthesis(ws, noise="const"))  # fixed noise: repeatable
    # noise switched off differs from noise on once the noise strengths are non-zero
    for layer in model.generator_net.synthesis.layers:
        layer.noise.strength.data.fill_(0.5)
    assert not torch.equal(model.synthesis(ws, noise="none"), model.synthesis(ws, noise="const"))


def test_style_mixing_metric_reports_every_crossover(model):
    from rep_models import metrics

    class Fake(torch.nn.Module):  # a "classifier": the brightest quadrant
        def __init__(self):
            super().__init__()
            self.p = torch.nn.Parameter(torch.zeros(1))  # metrics asks a classifier for its device

        def predict_proba(self, x):
            q = torch.stack([x[:, 0, :14, :14].mean((1, 2)), x[:, 0, :14, 14:].mean((1, 2)), x[:, 0, 14:, :14].mean((1, 2)),
                             x[:, 0, 14:, 14:].mean((1, 2))], 1)
            return torch.softmax(torch.cat([q, torch.zeros(len(x), 6)], 1) * 100, 1)

    m = metrics.style_mixing(model, Fake(), n_pairs=50)
    assert [r["crossover"] for r in m["style_mixing_by_crossover"]] == [1, 2, 3, 4, 5]
    assert m["style_mixing_agreement"] == m["style_mixing_by_crossover"][1]["agreement_a"]
    assert 0 <= m["style_mixing_pixel_diff"] <= 1


def _train(config: dict, steps: int, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    m = build("stylegan", **{**SMALL, **config})
    opt = make_optimisers(m, Phase("stylegan", 1, "t"), 64, TrainOptions(batch_size=16, lr=2e-3))
    x = torch.rand(16, 1, 28, 28)
    y = torch.zeros(16, dtype=torch.long)
    with noise_generator(torch.Generator().manual_seed(seed)):
        for _ in range(steps):
            out = STEPS["stylegan"](m, LossModule(m), opt, x, y)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(out)
    return m


def test_training_step_updates_both_networks_and_the_averages():
    torch.manual_seed(0)
    before = build("stylegan", **SMALL)
    m = _train({"r1_every": 2}, 4)
    assert int(m.steps) == 4
    assert not torch.equal(m.w_avg, before.w_avg)
    assert m.training_state(), "the generator's moving average is kept for the resumable state"
    moved = lambda a, b: any(not torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))  # noqa: E731
    assert moved(m.generator_net, before.generator_net) and moved(m.discriminator_net, before.discriminator_net)
    # The mapping learns 100x slower: its weights move less, relative to their size, than the synthesis'.
    rel = lambda a, b: float(((a.weight - b.weight).norm() / b.weight.norm()).detach())  # noqa: E731
    assert rel(m.generator_net.mapping.layers[0], before.generator_net.mapping.layers[0]) < \
        rel(m.generator_net.synthesis.layers[0].conv, before.generator_net.synthesis.layers[0].conv)


def test_training_is_repeatable():
    a, b = _train({}, 3), _train({}, 3)
    for (k, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), k


@pytest.mark.parametrize("over", [{"progressive": True, "grow_steps": 1}, {"equalized_lr": False}, {"pixel_norm": False},
                                  {"minibatch_std": False}, {"mixing_prob": 0.0}, {"ema": 0.0}, {"r1_gamma": 0.0}, {"noise": False},
                                  {"style": "demod"}, {"skip": True}, {"d_arch": "dcgan", "ndf": 4}, {"clusters": 3},
                                  {"dense_input": True}])
def test_every_trick_can_be_left_out(over):
    m = _train(over, 5)
    m.finish_training()
    assert m.sample(2, seed=0).shape == (2, 1, 28, 28)


def test_the_generator_learns_at_its_own_rate():
    m = build("stylegan", **SMALL, g_lr_scale=5.0)
    opt = make_optimisers(m, Phase("stylegan", 1, "t"), 64, TrainOptions(batch_size=16, lr=2e-4))
    assert [o.param_groups[0]["lr"] for o in opt.opts] == [2e-4, pytest.approx(1e-3)]
    assert [o.param_groups[0]["betas"] for o in opt.opts] == [m.adam_betas] * 2


def test_progressive_growing_fades_in_each_resolution():
    m = build("stylegan", **SMALL, progressive=True, grow_steps=10)
    x = torch.rand(2, 1, 28, 28)
    assert m.fade() == (0.0, 0.0)
    lo = m.seen_resolution(x)
    assert torch.allclose(lo, torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(x, 4), size=28, mode="bilinear"))
    m.steps.fill_(15)
    assert m.fade() == (0.5, 0.0)
    m.steps.fill_(35)
    assert m.fade() == (1.0, 0.5)
    m.steps.fill_(40)
    assert m.fade() == (1.0, 1.0) and torch.equal(m.seen_resolution(x), x)
    assert build("stylegan", **SMALL).fade() == (1.0, 1.0)

