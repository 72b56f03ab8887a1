"""The restricted Boltzmann machine (rep_models/models/rbm.py) and its partition function by annealed importance
sampling (rep_models/ais.py), checked against exact sums on RBMs small enough to enumerate."""
from __future__ import annotations

import itertools

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
