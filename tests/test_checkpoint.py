"""Checkpoints: safetensors + JSON round trips, and every way a file can be wrong gives a CheckpointError
naming the file. Pickle is never read. Everything happens in a temporary folder."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from rep_models import checkpoint
from rep_models.checkpoint import CheckpointError
from rep_models.models import REGISTRY, build


def probe(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A deterministic output of any registered model, for comparing two copies."""
    with torch.no_grad():
        if model.family == "gan":
            return model.sample(len(x), seed=0)
        if model.family == "vae":
            cond = y if model.config.n_classes else None
            return torch.cat([model.encode(x, cond).flatten(1), model.decode(model.encode(x, cond), cond).flatten(1)], 1)
        return model(x)


def trained_a_little(name: str, batch, **config):
    """A model whose weights and buffers (batch-norm statistics) are not the fresh initialisation."""
    torch.manual_seed(0)
    model = build(name, **config).train()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
        if model.family == "gan":
            model.discriminator_loss(batch)  # updates batch-norm running statistics
        else:
            model.loss(batch)
    return model.eval()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_round_trip_gives_identical_outputs(name, tmp_path, small_batch):
    x, y = small_batch[0][:8], small_batch[1][:8]
    model = trained_a_little(name, (x, y))
    card = checkpoint.save(model, tmp_path / name, {"metrics": {"m": 1.0}})
    loaded = checkpoint.load(tmp_path / name)
    assert type(loaded) is type(model) and not loaded.training
    assert loaded.config == model.config
    own, got = model.state_dict(), loaded.state_dict()
    assert own.keys() == got.keys() and all(torch.equal(own[k], got[k]) for k in own)
    assert torch.equal(probe(model, x, y), probe(loaded, x, y))
    on_disk = json.loads((tmp_path / f"{name}.json").read_text())
    assert on_disk == json.loads(json.dumps(card))
    assert on_disk["model"] == name and on_disk["metrics"] == {"m": 1.0}
    assert on_disk["weights_sha256"] == checkpoint.sha256_file(tmp_path / f"{name}.safetensors")


def test_fp16_storage_gives_close_outputs(tmp_path, small_batch):
    x, y = small_batch[0][:16], small_batch[1][:16]
    model = trained_a_little("conv_ae", (x, y))
    checkpoint.save(model, tmp_path / "full", fp16=False)
    card = checkpoint.save(model, tmp_path / "half", fp16=True)
    assert {t["dtype"] for t in card["tensors"].values()} == {"float16"}
    size = lambda stem: (tmp_path / f"{stem}.safetensors").stat().st_size
    assert size("half") < 0.6 * size("full")  # measured 0.500
    loaded = checkpoint.load(tmp_path / "half")
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    a, b = probe(model, x, y), probe(loaded, x, y)
    assert not torch.equal(a, b) and torch.allclose(a, b, atol=1e-2)  # measured 2.5e-5 apart at most (2026-12-01)


def test_int8_rows_for_large_matrices(tmp_path, small_batch):
    """Matrices of at least int8_min elements go to int8 rows + fp16 scales; the rest stay fp16; loading
    dequantizes, and a file whose scales are missing is refused."""
    x, y = small_batch[0][:16], small_batch[1][:16]
    model = trained_a_little("vae", (x, y), latent_dim=4, channels=4, hidden=64)
    checkpoint.save(model, tmp_path / "half", fp16=True)
    card = checkpoint.save(model, tmp_path / "q8", fp16=True, int8_min=10_000)
    big = [k for k, v in model.state_dict().items() if v.dim() == 2 and v.numel() >= 10_000]
    assert big and all(card["tensors"][k + "__q8"]["dtype"] == "int8" for k in big)
    assert all(card["tensors"][k + "__q8scale"]["shape"] == [model.state_dict()[k].shape[0], 1] for k in big)
    assert not any(k in card["tensors"] for k in big)
    size = lambda stem: (tmp_path / f"{stem}.safetensors").stat().st_size
    assert size("q8") < 0.65 * size("half")  # measured 0.544
    loaded = checkpoint.load(tmp_path / "q8")
    for k in big:  # at most half a step of each row's scale away
        w, w8 = model.state_dict()[k], loaded.state_dict()[k]
        step = w.abs().amax(1, keepdim=True) / 127
        assert ((w - w8).abs() <= 0.5 * step * 1.01 + 1e-3 * step).all()
    with torch.no_grad():
        z = torch.randn(8, 4)
        assert torch.allclose(model.decode(z), loaded.decode(z), atol=2e-2)  # measured 3.6e-5 apart at most (2026-12-01)
    from safetensors.torch import load_file, save_file

    state = load_file(str(tmp_path / "q8.safetensors"))
    del state[big[0] + "__q8scale"]
    save_file(state, str(tmp_path / "q8.safetensors"))
    card_path = tmp_path / "q8.json"  # a consistent card, so the missing scales themselves are what is caught
    card_path.write_text(json.dumps({**card, "weights_sha256": checkpoint.sha256_file(tmp_path / "q8.safetensors")}))
    with pytest.raises(checkpoint.CheckpointError, match="scales"):
        checkpoint.load(tmp_path / "q8")


# ---------------------------------------------------------------- every way a file can be wrong


@pytest.fixture
def saved(tmp_path, small_batch):
    """A small saved conv_ae: ``tmp_path/m.safetensors`` and ``tmp_path/m.json``."""
    checkpoint.save(build("conv_ae", latent_dim=4, channels=4), tmp_path / "m")
    return tmp_path / "m"


def _raises_naming(path: Path, stem: Path, *match: str) -> str:
    with pytest.raises(CheckpointError) as err:
        checkpoint.load(stem)
    msg = str(err.value)
    assert str(path) in msg, msg
    for m in match:
        assert m in msg, msg
    return msg


def _edit_card(stem: Path, **changes) -> None:
    path = stem.with_suffix(".json")
    card = json.loads(path.read_text())
    for k, v in changes.items():
        if v is None:
            card.pop(k, None)
        else:
            card[k] = v
    path.write_text(json.dumps(card))


DAMAGES = ["flip header byte", "flip last byte", "truncate", "empty", "text"]


# With the card's sha256 every change is caught; without it, the safetensors parser still refuses a damaged
# header or a truncated file (a flipped byte inside the data can only be caught by the sha256).
@pytest.mark.parametrize("damage, with_sha_in_card", [(d, True) for d in DAMAGES] + [(d, False) for d in DAMAGES if d != "flip last byte"])
def test_corrupt_safetensors(saved, damage, with_sha_in_card):
    if not with_sha_in_card:
        _edit_card(saved, weights_sha256=None)
    weights = saved.with_suffix(".safetensors")
    raw = bytearray(weights.read_bytes())
    if damage == "flip header byte":
        raw[20] ^= 0xFF
    elif damage == "flip last byte":
        raw[-1] ^= 0x01
    elif damage == "truncate":
        raw = raw[: len(raw) - 100]
    elif damage == "empty":
        raw = bytearray()
    else:
        raw = bytearray(b"definitely not safetensors\n" * 10)
    weights.write_bytes(bytes(raw))
    _raises_naming(weights, saved)


def test_missing_files(saved):
    saved.with_suffix(".safetensors").unlink()
    _raises_naming(saved.with_suffix(".safetensors"), saved, "not found")
    saved.with_suffix(".json").unlink()
    _raises_naming(saved.with_suffix(".json"), saved, "not found")


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"config": {"latent_dim": 5, "channels": 4}}, "does not match the config"),  # a wrong shape
        ({"model": "linear_ae", "config": {"latent_dim": 4}}, "does not match the config"),
        ({"config": {"latent_dim": 4, "channels": 4, "width": 3}}, "does not build"),
        ({"config": {"latent_dim": -1, "channels": 4}}, "does not build"),
        ({"config": {"latent_dim": "four", "channels": 4}}, "does not build"),
        ({"config": [4, 4]}, "'config'"),
        ({"model": "resnet"}, "unknown model"),
        ({"model": ["conv_ae"]}, "unknown model"),
        ({"model": None}, "no 'model'"),
    ],
)
def test_card_that_does_not_match_the_weights(saved, changes, match):
    _edit_card(saved, **changes)
    if match == "does not match the config":  # both files are named: the weights in full, then the card
        _raises_naming(saved.with_suffix(".safetensors"), saved, match, "m.json")
    else:
        _raises_naming(saved.with_suffix(".json"), saved, match)


@pytest.mark.parametrize("text", ["{not json", "", "[1, 2]", "42", '"conv_ae"', "\udcff"])
def test_card_that_is_not_a_json_object(saved, text):
    saved.with_suffix(".json").write_bytes(text.encode("utf-8", "surrogateescape"))
    _raises_naming(saved.with_suffix(".json"), saved)


# ---------------------------------------------------------------- pickle is never read


class _Tripwire:
    """Unpickling this touches a file: proof that something ran a pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_is_never_read(saved, tmp_path, monkeypatch):
    marker = tmp_path / "unpickled"
    payload = pickle.dumps({"encoder.0.weight": _Tripwire(marker)})
    def refuse(*a, **k):
        raise AssertionError("a pickle loader was called")
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    weights = saved.with_suffix(".safetensors")
    # A .pt next to the card is ignored: with no safetensors the load fails, it does not fall back.
    saved.with_suffix(".pt").write_bytes(payload)
    good = weights.read_bytes()
    weights.unlink()
    _raises_naming(weights, saved, "not found")
    assert checkpoint.available(tmp_path) == []
    # A pickle renamed .safetensors is refused, with or without the card's sha256.
    weights.write_bytes(payload)
    _raises_naming(weights, saved)
    _edit_card(saved, weights_sha256=None)
    _raises_naming(weights, saved, "not a readable safetensors")
    assert not marker.exists()
    weights.write_bytes(good)
    assert checkpoint.available(tmp_path) == ["m"]


# ---------------------------------------------------------------- load_pretrained and the manifest


@pytest.fixture
def shipped(tmp_path):
    """A pretrained folder with two models and a manifest."""
    d = tmp_path / "pretrained"
    torch.manual_seed(0)
    checkpoint.save(build("conv_ae", latent_dim=4, channels=4), d / "a")
    checkpoint.save(build("vae", latent_dim=2, channels=4, hidden=16), d / "b")
    (d / "a.state.safetensors").write_bytes(b"training state, no card")  # not a model
    checkpoint.write_manifest(d)
    return d


def test_load_pretrained_with_a_manifest(shipped):
    assert checkpoint.available(shipped) == ["a", "b"]
    manifest = checkpoint.read_manifest(shipped)
    assert {"a.safetensors", "a.json", "b.safetensors", "b.json"} <= set(manifest)
    model = checkpoint.load_pretrained("b", "cpu", shipped)
    assert type(model).__name__ == "VAE" and not model.training and model.config.latent_dim == 2
    with pytest.raises(CheckpointError, match=r"'nope'.*available: \['a', 'b'\]"):
        checkpoint.load_pretrained("nope", "cpu", shipped)


def test_manifest_refuses_replaced_weights(shipped):
    """New weights with a matching new card pass the card's check, but not the manifest's."""
    torch.manual_seed(1)
    checkpoint.save(build("conv_ae", latent_dim=4, channels=4), shipped / "a")
    with pytest.raises(CheckpointError, match="manifest") as err:
        checkpoint.load_pretrained("a", "cpu", shipped)
    assert str(shipped / "a") in str(err.value)


def test_manifest_refuses_an_edited_card(shipped):
    _edit_card(shipped / "b", config={"latent_dim": 2, "channels": 4, "hidden": 16, "beta": 9.0})
    checkpoint.load(shipped / "b")  # the weights still fit the edited config...
    with pytest.raises(CheckpointError, match="manifest") as err:  # ...but the manifest knows the card
        checkpoint.load_pretrained("b", "cpu", shipped)
    assert str(shipped / "b.json") in str(err.value)


def test_manifest_refuses_unlisted_files(shipped):
    torch.manual_seed(2)
    checkpoint.save(build("linear_ae", latent_dim=3), shipped / "c")
    with pytest.raises(CheckpointError, match="not listed") as err:
        checkpoint.load_pretrained("c", "cpu", shipped)
    assert str(shipped / "c.safetensors") in str(err.value)
    checkpoint.load_pretrained("a", "cpu", shipped)  # the listed ones still load


@pytest.mark.parametrize("text", ["{", '{"files": ["a.safetensors"]}', "[]", '{"other": {}}'])
def test_unreadable_manifest(shipped, text):
    (shipped / "manifest.json").write_text(text)
    with pytest.raises(CheckpointError, match="manifest.json"):
        checkpoint.load_pretrained("a", "cpu", shipped)
