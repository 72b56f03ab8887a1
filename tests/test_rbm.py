"""The restricted Boltzmann machine (rep_models/models/rbm.py) and its partition function by annealed importance
sampling (rep_models/ais.py), checked against exact sums on RBMs small enough to enumerate."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from rep_models import ais
from rep_models.models import build


def tiny(n_v: int = 10, n_h: int = 5, seed: int = 0):
    torch.manual_seed(seed)
    m = build("rbm", n_visible=n_v, n_hidden=n_h, n_chains=8)
    with torch.no_grad():
        m.W.normal_(0, 1)
        m.b.normal_(0, 0.5)
        m.c.normal_(0, 0.5)
    return m


def all_states(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)))


def test_free_energy_sums_the_hidden_units_out():
    m = tiny()
    v, h = all_states(10)[::37], all_states(5)
    energy = -(v @ m.b)[:, None] - (h @ m.c)[None, :] - (v @ m.W @ h.t())  # E(v, h): (V, H)
    with torch.no_grad():
        torch.testing.assert_close(m.free_energy(v), -torch.logsumexp(-energy, 1), atol=1e-4, rtol=1e-5)


def test_ais_finds_the_exact_log_partition_function():
    m = tiny(12, 6, seed=1)
    with torch.no_grad():
        exact = torch.logsumexp(-m.free_energy(all_states(12)).double(), 0).item()
    r = ais.log_partition(m, torch.zeros(12), runs=200, betas=ais.schedule((100, 400, 500)))
    assert abs(r.log_z - exact) < 0.05, (r.log_z, exact)  # measured: 0.002 off
    assert r.log_z_low <= exact + 0.05 and r.log_z_high >= exact - 0.05 and r.log_z_low < r.log_z < r.log_z_high


def test_persistent_cd_raises_the_exact_likelihood_of_the_training_patterns():
    torch.manual_seed(0)
    m = build("rbm", n_visible=10, n_hidden=8, n_chains=32, k=1)
    data = torch.tensor([[1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]], dtype=torch.float32).repeat(16, 1)
    states = all_states(10)

    def exact_ll() -> float:
        with torch.no_grad():
            log_z = torch.logsumexp(-m.free_energy(states).double(), 0)
            return float((-m.free_energy(data[:2]).double() - log_z).mean())

    before = exact_ll()
    # A small step: PCD's chains must keep up with the model (at 0.01 they fell behind and the likelihood dropped
    # back to -10.7 after 300 steps; at 0.05 to -40).
    opt = torch.optim.Adam(m.parameters(), lr=0.003)
    m.train()
    for _ in range(300):
        loss = m.loss((data.reshape(-1, 1, 1, 10), None))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = exact_ll()
    assert after > before + 3, (before, after)  # two patterns of 1024 states: log(1/2) = -0.69 is the best
    assert after > -3  # measured: -6.93 before, -1.80 after


def test_validation_leaves_the_persistent_chains_alone():
    m = tiny()
    m.train()
    m.loss((torch.rand(8, 1, 1, 10), None))
    chains = m.chains.clone()
    assert bool(m.chains_started)
    m.eval()
    m.loss((torch.rand(8, 1, 1, 10), None))
    assert torch.equal(m.chains, chains)
    m.train()
    m.loss((torch.rand(8, 1, 1, 10), None))
    assert not torch.equal(m.chains, chains)  # a training step moves them


@pytest.mark.parametrize("steps", [(10, 20, 30), (500, 4_000, 10_000)])
def test_the_schedule_runs_from_zero_to_one(steps):
    b = ais.schedule(steps)
    assert len(b) == sum(steps) + 1 and b[0] == 0 and b[-1] == 1 and bool((b[1:] > b[:-1]).all())
    assert abs(float(b[steps[0]]) - 0.5) < 1e-12 and abs(float(b[steps[0] + steps[1]]) - 0.9) < 1e-12


# -- rep_models.gibbs: what the Boltzmann machines page shows

def digit_rbm(seed: int = 0):
    torch.manual_seed(seed)
    m = build("rbm", n_hidden=12, n_chains=4)
    with torch.no_grad():
        m.W.normal_(0, 0.3)
    return m.eval()


def test_chains_start_from_noise_or_from_the_drawing_and_repeat_for_a_seed():
    from rep_models import gibbs

    m = digit_rbm()
    noise = gibbs.start_chains(m, 3, seed=1)
    assert noise.shape == (3, 784) and set(noise.unique().tolist()) == {0.0, 1.0} and 0.4 < float(noise.mean()) < 0.6
    assert torch.equal(noise, gibbs.start_chains(m, 3, seed=1)) and not torch.equal(noise, gibbs.start_chains(m, 3, seed=2))
    digit = np.zeros((28, 28), np.float32)
    digit[10:18, 12:16] = 1.0
    v = gibbs.start_chains(m, 2, seed=0, digit=digit)
    assert torch.equal(v[0], torch.from_numpy(digit.ravel())) and torch.equal(v[1], v[0])  # black and white: exact
    with pytest.raises(ValueError, match="784 pixels"):
        gibbs.start_chains(m, 1, seed=0, digit=np.zeros((14, 14)))
    with pytest.raises(ValueError, match="n must be"):
        gibbs.start_chains(m, 0, seed=0)


def test_run_chains_gives_a_frame_per_step_group_and_continues_where_it_stopped():
    from rep_models import gibbs

    m = digit_rbm()
    v0 = gibbs.start_chains(m, 2, seed=0)
    v1, frames = gibbs.run_chains(m, v0, frames=5, steps_per_frame=3, seed=7)
    assert frames.shape == (5, 2, 28, 28) and frames.dtype == np.float32 and 0 <= frames.min() and frames.max() <= 1
    v1b, again = gibbs.run_chains(m, v0, frames=5, steps_per_frame=3, seed=7)
    assert torch.equal(v1, v1b) and np.array_equal(frames, again)  # the same seed, the same dream
    _, other = gibbs.run_chains(m, v0, frames=5, steps_per_frame=3, seed=8)
    assert not np.array_equal(frames, other)
    # frames only sample the chain's path: 2 frames of 3 steps end where 1 frame of 6 does, on the same draws
    v2, two = gibbs.run_chains(m, v0, frames=2, steps_per_frame=3, seed=7)
    v6, one = gibbs.run_chains(m, v0, frames=1, steps_per_frame=6, seed=7)
    assert torch.equal(v2, v6) and np.array_equal(two[-1], one[-1]) and np.array_equal(two, frames[:2])
    with pytest.raises(ValueError, match="frames and steps_per_frame"):
        gibbs.run_chains(m, v0, frames=0, steps_per_frame=1, seed=0)


def test_filters_are_the_strongest_units_scaled_around_grey():
    from rep_models import gibbs

    m = digit_rbm()
    with torch.no_grad():
        m.W[:, 5] *= 10  # the strongest unit
        m.W[:, 5] = m.W[:, 5].abs()  # all positive: brighter than grey everywhere
    f = gibbs.filters(m, 4)
    assert f.shape == (4, 28, 28) and f.min() >= 0 and f.max() <= 1
    assert (f[0] >= 0.5).all() and np.isclose(f[0].max(), 1.0)
    assert gibbs.filters(m, 100).shape == (12, 28, 28)  # at most the hidden units it has
    with pytest.raises(ValueError, match="not a restricted Boltzmann machine"):
        gibbs.filters(build("linear_ae"), 4)


def test_free_energy_score_ranks_a_digit_among_the_reference():
    from rep_models import gibbs
    from rep_models.anomaly import free_energy_score

    m = digit_rbm()
    x = np.random.default_rng(0).random((6, 28, 28)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(gibbs.free_energy(m, x), m.free_energy(torch.from_numpy(x).reshape(6, -1)).numpy(), rtol=1e-6)
    ref = np.sort(np.arange(1000, dtype=np.float64))
    assert free_energy_score(10.0, ref).verdict == "digit" and free_energy_score(10.0, ref).percentile == pytest.approx(1.1)
    assert free_energy_score(960.0, ref).verdict == "unusual"
    assert free_energy_score(5000.0, ref).verdict == "not a digit"
    with pytest.raises(ValueError, match="free energies are empty"):
        free_energy_score(1.0, np.array([]))


def test_dbn_trains_one_rbm_at_a_time_on_the_layer_below():
    """Greedy: the layer-wise loss of layer 0 moves only the first RBM, the main loss only the top one (the layers
    below frozen, their hidden units sampled); features and samples have the stack's shapes."""
    torch.manual_seed(0)
    m = build("dbn", hidden=[20, 12], n_chains=6).train()
    x = torch.rand(8, 1, 28, 28)
    assert m.pretrain_layers == 1 and m.latent_dim == 12
    for loss, trained in ((m.layerwise_loss((x, None), 0), 0), (m.loss((x, None)), 1)):
        m.zero_grad(set_to_none=True)
        loss["loss"].backward()
        moved = [i for i, r in enumerate(m.rbms) if any(p.grad is not None and p.grad.abs().sum() > 0 for p in r.parameters())]
        assert moved == [trained]
    assert bool(m.rbms[1].chains_started) and m.rbms[1].chains.shape == (6, 20)  # the top RBM's chains: layer-1 units
    m.eval()
    assert m.encode(x).shape == (8, 12) and 0 <= float(m.encode(x).min()) and float(m.encode(x).max()) <= 1
    s = m.sample(4, seed=1, steps=5)
    assert s.shape == (4, 1, 28, 28) and torch.equal(s, m.sample(4, seed=1, steps=5))
    assert m(x).shape == x.shape
