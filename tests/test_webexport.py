"""rep_models.webexport: networks as flat programs for the browser. The reference interpreter must give what
the model gives (with its weights rounded to float16, as shipped to the page), and the blob must round-trip."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from rep_models import webexport as wx
from rep_models.codes import decode_at
from rep_models.models import build


def _fp16_rounded(model):
    """The model with every parameter and buffer rounded to float16 and back (what the page receives)."""
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            if t.is_floating_point():
                t.copy_(t.half().float())
    return model.eval()


def _randomise_batchnorm(model):
    """Untrained batch norm is the identity; give it statistics so folding it is really tested."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
    return model


@pytest.mark.parametrize("config", [{"latent_dim": 8, "channels": 4, "hidden": 32}, {"latent_dim": 2, "channels": 6, "hidden": 16}])
def test_vae_decoder_program_matches_the_model(config):
    torch.manual_seed(0)
    model = _fp16_rounded(build("vae", **config))
    program = wx.decoder_program(model)
    assert program.in_shape == [config["latent_dim"]] and program.out_shape == [1, 28, 28]
    assert program.weights.dtype == np.float16
    for seed in range(3):
        z = np.random.default_rng(seed).normal(size=config["latent_dim"]).astype(np.float32) * 2
        np.testing.assert_allclose(wx.run(program, z)[0], decode_at(model, z), atol=2e-5)  # measured 0 (2026-12-01)


def test_classifier_program_matches_the_model(mnist_test):
    torch.manual_seed(0)
    model = _fp16_rounded(_randomise_batchnorm(build("classifier", channels=4, features=16)))
    program = wx.classifier_program(model)
    assert [o["op"] for o in program.ops].count("maxpool") == 3 and program.out_shape == [10]
    x, _ = mnist_test
    with torch.no_grad():
        expected = torch.softmax(model(x[:4]), 1).numpy()
    for i in range(4):
        got = wx.run(program, x[i].numpy())
        np.testing.assert_allclose(got, expected[i], atol=1e-5)  # measured 2.0e-6 at most (2026-12-01)
        assert got.sum() == pytest.approx(1.0, abs=1e-5)


def test_dcgan_generator_with_batchnorm_and_tanh():
    torch.manual_seed(0)
    model = _fp16_rounded(_randomise_batchnorm(build("dcgan", z_dim=8, ngf=4, ndf=4)))
    program = wx.export(model.generator_net, [8], post="tanh01")
    assert "affine" in [o["op"] for o in program.ops]
    z = torch.randn(1, 8)
    with torch.no_grad():
        expected = (model.generator_net(z)[0, 0] + 1) / 2
    np.testing.assert_allclose(wx.run(program, z[0].numpy())[0], expected.numpy(), atol=2e-5)  # measured 2.5e-6


def test_pack_round_trip_and_bad_blobs():
    model = build("vae", latent_dim=3, channels=2, hidden=8)
    program = wx.decoder_program(model)
    blob = wx.pack(program, "vae:test")
    assert blob[:4] == b"LLW1" and (len(blob) - 8) % 2 == 0
    name, back = wx.unpack(blob)
    assert name == "vae:test" and back.ops == program.ops and np.array_equal(back.weights, program.weights)
    with pytest.raises(ValueError, match="magic"):
        wx.unpack(b"PK\x03\x04" + blob[4:])
    with pytest.raises(ValueError, match="weights"):
        wx.unpack(blob[:-2])


def test_what_cannot_be_exported_is_named():
    with pytest.raises(ValueError, match="conditional"):
        wx.decoder_program(build("cvae", latent_dim=4, channels=2, hidden=8))
    with pytest.raises(ValueError, match="GRU"):
        wx.export([nn.GRU(4, 4)], [4])
    with pytest.raises(ValueError, match="Linear expects 5"):
        wx.export([nn.Linear(5, 2)], [4])
    with pytest.raises(ValueError, match="post"):
        wx.export([nn.Linear(4, 2)], [4], post="relu")
