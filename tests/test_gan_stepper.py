"""Train live's "Step a GAN" (rep_models.training.gan_stepper): each player moves alone, the scores and the
histogram say what happened, and stepping leaves the process's random stream alone."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rep_models.data import load_tensors
from rep_models.training import gan_stepper
from rep_models.training.gan_stepper import GanStepper, kl_to_uniform


@pytest.fixture(autouse=True)
def no_time_limit(monkeypatch):
    """The tests count steps: a busy CI machine must not cut a call short."""
    monkeypatch.setattr(gan_stepper, "MAX_SECONDS_PER_CALL", 1e9)


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    x, _ = load_tensors("mnist", "full_train", source="sample")
    return x[:1024]


def params(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(a, b) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a, b, strict=True))


def test_refuses_what_it_cannot_step(digits):
    with pytest.raises(ValueError, match="'conv_ae'"):
        GanStepper("conv_ae", digits)
    with pytest.raises(ValueError, match=r"\(10, 28, 28\)"):
        GanStepper("dcgan", digits[:10, 0])
    g = GanStepper("dcgan", digits)
    with pytest.raises(ValueError, match="'referee'"):
        g.step("referee")
    with pytest.raises(ValueError, match="got 21"):
        g.step("both", gan_stepper.MAX_STEPS_PER_CALL + 1)


def test_the_discriminator_alone_learns_to_tell_real_from_generated(digits):
    g = GanStepper("dcgan", digits, seed=0)
    gen_before = params(g.model.generator_net)
    real0, fake0 = g.scores()
    recs = g.step("discriminator", 20)
    assert [r.step for r in recs] == list(range(1, 21)) and all(r.g_loss is None and r.d_loss is not None for r in recs)
    assert same(gen_before, params(g.model.generator_net)), "a discriminator step moved the generator"
    # Measured: the gap D(real) - D(fake) goes from -0.06..0.13 to 0.86-0.87 in 20 steps (seeds 0, 1, 2).
    assert recs[-1].d_real - recs[-1].d_fake > (real0 - fake0) + 0.5, (real0, fake0, recs[-1])


def test_the_generator_alone_learns_to_fool_a_fixed_judge(digits):
    g = GanStepper("dcgan", digits, seed=0)
    g.step("discriminator", 20)  # a judge worth fooling
    disc_before = params(g.model.discriminator_net)
    fake_before = g.history[-1].d_fake
    recs = g.step("generator", 20)
    assert all(r.d_loss is None and r.g_loss is not None for r in recs)
    assert same(disc_before, params(g.model.discriminator_net)), "a generator step moved the discriminator"
    # Measured: D's score on generated digits rises by 0.20-0.29 in 20 steps (from about 0.015; seeds 0, 1, 2),
    # while its score on the real probe does not move at all (the judge is fixed).
    assert recs[-1].d_fake > fake_before + 0.1, (fake_before, recs[-1])
    assert {r.d_real for r in recs} == {g.history[19].d_real}


def test_a_call_stops_after_its_time(digits, monkeypatch):
    monkeypatch.setattr(gan_stepper, "MAX_SECONDS_PER_CALL", 0.0)
    g = GanStepper("dcgan", digits)
    assert len(g.step("both", 20)) == 1 and g.steps == 1


def test_stepping_leaves_the_global_random_stream_alone_and_is_bounded(digits, monkeypatch):
    g = GanStepper("dcgan", digits, seed=3)
    state = torch.get_rng_state()
    g.step("both", 3)
    assert torch.equal(state, torch.get_rng_state())
    monkeypatch.setattr(gan_stepper, "MAX_STEPS", 5)
    assert len(g.step("both", 10)) == 2 and g.steps == 5
    assert g.step("both", 1) == [] and g.steps == 5


def test_histogram_reads_the_current_samples(digits):
    from rep_models import checkpoint

    classifier = checkpoint.load_pretrained("classifier").eval()
    g = GanStepper("dcgan", digits)
    h = g.histogram(classifier, n=200)
    assert h["counts"].sum() == 200 and h["counts"].shape == (10,)
    assert math.isclose(h["shares"].sum(), 1.0) and 0 <= h["kl_to_uniform"] <= math.log(10) + 1e-9
    assert np.array_equal(g.samples(8), g.samples(8))  # the same latents every time


def test_kl_to_uniform():
    assert kl_to_uniform(np.full(10, 7)) == pytest.approx(0.0)
    assert kl_to_uniform([0] * 9 + [5]) == pytest.approx(math.log(10))
    assert 0 < kl_to_uniform([2, 1, 1, 1, 1, 1, 1, 1, 1, 1]) < 0.1
    with pytest.raises(ValueError, match="positive sum"):
        kl_to_uniform(np.zeros(10))
