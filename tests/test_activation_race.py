"""Train live's activation comparison (rep_models/training/activation_race.py): copies of one network that differ
only in their hidden activation, the dead-unit share on a network built to have dead units, and the seeds' claims
reproduced on the shipped digits (ReLU units dying at the large learning rate, sigmoid's slow start)."""
from __future__ import annotations

import pytest
import torch

from rep_models.data import load_tensors
from rep_models.training import activation_race as ar


@pytest.fixture(scope="module")
def digits():
    x, y = load_tensors("mnist", "full_train", source="sample")  # what the page trains on (ui.latent.train_images)
    return x[:3000], y[:3000]


@pytest.mark.parametrize("act, dead", [("relu", 0.5), ("sigmoid", 0.5), ("softplus", 0.5), ("leaky_relu", 0.0), ("tanh", 0.5)])
def test_dead_share_counts_the_units_that_pass_no_gradient(act, dead):
    """The first layer's inputs are set by its biases alone (weights 0): half the units get -1000, far below 0 for
    every digit, the rest 0.5. ReLU, sigmoid, Softplus and tanh have no slope at -1000 (dead); Leaky ReLU keeps a
    slope of 0.01 there (alive); at 0.5 every activation has a slope."""
    torch.manual_seed(0)
    net = ar.RaceNet(act)
    with torch.no_grad():
        net.linears[0].weight.zero_()
        net.linears[0].bias.fill_(0.5)
        net.linears[0].bias[::2] = -1000.0
    x = torch.rand(64, 1, 28, 28)
    share = ar.dead_share(net, x)
    assert len(share) == len(ar.HIDDEN) and share[0] == dead
    with torch.no_grad():
        net.linears[0].bias.fill_(0.5)
        net.linears[0].bias[:32] = -1000.0  # a quarter
    assert ar.dead_share(net, x)[0] == dead / 2


def test_the_copies_start_alike_and_see_the_same_batches(digits):
    race = ar.ActivationRace(["relu", "tanh", "prelu"], *digits, preset="normal", seed=3)
    w = [net.linears[0].weight.detach().clone() for net in race.nets.values()]
    assert all(torch.equal(w[0], v) for v in w[1:])
    assert race.step(1_000) == ar.MAX_STEPS_PER_CALL and race.steps == ar.MAX_STEPS_PER_CALL  # bounded per call
    h = race.history
    assert [len(v) for v in h.values()] == [race.steps] * 3
    r = h["relu"][-1]
    assert len(r.dead) == len(ar.HIDDEN) and len(r.grad_norms) == len(ar.HIDDEN) + 1 and all(g > 0 for g in r.grad_norms)
    again = ar.ActivationRace(["relu", "tanh", "prelu"], *digits, preset="normal", seed=3)
    again.step(ar.MAX_STEPS_PER_CALL)
    assert [r.loss for r in again.history["tanh"]] == [r.loss for r in h["tanh"]]  # the same run for the same seed
    with pytest.raises(ValueError, match="unknown activations"):
        ar.ActivationRace(["relu", "swish"], *digits)
    with pytest.raises(ValueError, match="2 to 4 different"):
        ar.ActivationRace(["relu"], *digits)
    with pytest.raises(ValueError, match="preset"):
        ar.ActivationRace(["relu", "tanh"], *digits, preset="huge")


def test_a_large_learning_rate_kills_relu_units_but_not_leaky_ones(digits):
    race = ar.ActivationRace(["relu", "leaky_relu"], *digits, preset="large")
    for _ in range(2):
        race.step(100)
    s = race.summary()
    assert s["relu"]["dead"] >= 0.3 and s["leaky_relu"]["dead"] == 0.0  # measured 0.79 and 0 after 200 steps
    (v,) = [v for v in race.verdicts() if v["claim"] == "relu_dies"]
    assert v["supported"] and v["figures"]["relu"] == s["relu"]["dead"]


def test_at_the_normal_rate_relu_lives_and_sigmoid_starts_slowest(digits):
    race = ar.ActivationRace(["relu", "sigmoid", "tanh"], *digits, preset="normal")
    assert race.verdicts() == []  # too early to say
    for _ in range(2):
        race.step(100)
    s = race.summary()
    assert s["relu"]["dead"] <= 0.2  # measured 0.055
    assert s["sigmoid"]["loss"] > s["relu"]["loss"] + 0.2  # measured 2.31 against 1.68 after 200 steps
    assert s["sigmoid"]["first_grad"] < 0.1 * s["relu"]["first_grad"]  # its first layer hears almost nothing
    claims = {v["claim"]: v["supported"] for v in race.verdicts()}
    assert claims == {"relu_dies": False, "sigmoid_slow": True, "zero_centred": True}


def test_a_copy_that_blows_up_stops_and_says_nothing_of_the_claims(digits):
    """At the large rate Leaky ReLU's loss goes to infinity here (measured: NaN within 500 steps, as PReLU, ELU and
    SELU); the copy stops training, its summary says when, and the verdicts leave it out."""
    race = ar.ActivationRace(["relu", "leaky_relu"], *digits, preset="large")
    with torch.no_grad():
        race.nets["leaky_relu"].linears[-1].weight.fill_(float("nan"))  # a blow-up, at once
    race.step(60)
    assert race.diverged == {"leaky_relu": 1} and race.history["leaky_relu"] == [] and len(race.history["relu"]) == 60
    s = race.summary()
    assert s["leaky_relu"]["loss"] == float("inf") and s["leaky_relu"]["diverged"] == 1 and s["relu"]["diverged"] is None
    (v,) = race.verdicts()
    assert v["claim"] == "relu_dies" and set(v["figures"]) == {"relu"}
