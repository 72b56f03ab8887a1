"""One meaning per verb, whatever the model: ``sample(digit=None)`` of a conditional model cycles the digits,
``reconstruct`` gives images. (Small untrained models: only shapes and conditions matter here.)"""
from __future__ import annotations

import pytest
import torch

from rep_models.models import build
from rep_models.models.base import condition_labels


def test_condition_labels():
    assert condition_labels(12).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert condition_labels(3, 7).tolist() == [7, 7, 7]
    assert condition_labels(3, [1, 2, 3]).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="expected an int or 3 ints"):
        condition_labels(3, [1, 2])


@pytest.mark.parametrize("name,config", [("cvae", {"channels": 4, "hidden": 32}), ("cdcgan", {})])
def test_conditional_models_cycle_the_digits_without_one(name, config, monkeypatch):
    torch.manual_seed(0)
    model = build(name, **config).eval()
    seen = []
    real_decode = model.decode
    monkeypatch.setattr(model, "decode", lambda z, y=None: seen.append(y) or real_decode(z, y))
    images = model.sample(20, seed=1)
    assert images.shape == (20, 1, 28, 28)
    assert seen[-1].tolist() == [d % 10 for d in range(20)], f"{name}.sample(digit=None) drew {seen[-1].tolist()}"
    model.sample(4, seed=1, digit=3)
    assert seen[-1].tolist() == [3, 3, 3, 3]


def test_sda_reconstruct_gives_images_not_logits():
    torch.manual_seed(0)
    model = build("sda", hidden=(32,), latent_dim=16).eval()
    x = torch.rand(5, 1, 28, 28)
    rec = model.reconstruct(x)
    assert rec.shape == (5, 1, 28, 28) and 0 <= float(rec.min()) and float(rec.max()) <= 1
    assert model(x).shape == (5, 10)  # forward is still the classifier
