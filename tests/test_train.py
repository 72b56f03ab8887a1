"""The training CLI on a few hundred images: the files and card it writes, resume (exact for a GAN's moving
average, layer-wise pretraining and the SdA's pseudo-labels), determinism, random streams that validation
and in-app training leave alone, config overrides, the GAN and layer-wise phases, and a 2-process torchrun
(gloo on CPU) whose ranks agree.

Every run trains on the shipped sample (``--data-source sample``), so these run on a fresh clone; one test
checks the default, the full MNIST, when it is present (``full_mnist``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rep_models import checkpoint, data
from rep_models import train as T
from rep_models.models import REGISTRY, build
from rep_models.models.base import Model, noise_generator, noise_source
from rep_models.training import state as training_state
from rep_models.zoo import ZOO

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


SAMPLE = ("--data-source", "sample")  # the shipped digits: no full MNIST, no download


def cli(*args: str, timeout: float = 300, source: tuple[str, ...] = SAMPLE) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "rep_models.train", *args, *source, "--threads", "1", "--no-progress"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path))


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_cli_one_epoch_writes_weights_and_card(tmp_path):
    proc = cli("conv_ae", "--limit", "300", "--epochs", "1", "--seed", "3", "--out", str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv_ae.json", "conv_ae.safetensors"]  # no state left
    card = json.loads((tmp_path / "conv_ae.json").read_text())
    assert card["model"] == "conv_ae" and card["config"] == {"latent_dim": 32, "channels": 32}
    assert card["epochs"] == 1 and card["seed"] == 3 and card["world_size"] == 1
    val = card["metrics"]["validation"]
    assert {"val_loss", "val_mse"} <= set(val) and all(v == v and abs(v) < 1e6 for v in val.values())
    assert [h["epoch"] for h in card["history"]] == [1] and "train_loss" in card["history"][0]
    assert card["data"]["source"] == "sample" and card["data"]["sha256"] == data.data_checksum("mnist", source="sample")
    assert "shipped sample" in card["data"]["split"] and "first 300" in card["data"]["split"]
    assert card["wall_seconds"] > 0 and card["device"] == "cpu"
    assert card["versions"]["torch"] == torch.__version__ and card["versions"]["python"]
    assert card["trained_by"].startswith("python -m rep_models.train conv_ae") and "--limit 300" in card["trained_by"]
    assert card["train_options"]["limit"] == 300 and card["train_options"]["data_source"] == "sample"
    assert json.loads(proc.stdout.strip().splitlines()[-1])["name"] == "conv_ae"
    model = checkpoint.load(tmp_path / "conv_ae")
    assert model.encode(torch.zeros(2, 1, 28, 28)).shape == (2, 32)


def test_default_trains_on_the_full_mnist(tmp_path, full_mnist):
    """Without --data-source, training reads MNIST's own files (55,000 + 5,000) as before the sample shipped."""
    cli("linear_ae", "--limit", "200", "--epochs", "1", "--out", str(tmp_path), source=())
    card = json.loads((tmp_path / "linear_ae.json").read_text())
    assert card["data"]["source"] == "full" and card["train_options"]["data_source"] == "full"
    assert card["data"]["split"] == "train minus a 5,000-image validation split (seed 0), first 200"
    assert card["data"]["sha256"] == data.data_checksum("mnist", full_mnist)


def test_same_seed_same_weights_and_set_overrides(tmp_path):
    """A VAE (its loss samples noise) trained twice with one seed on CPU: bit-identical weights.
    ``--set`` reaches the config."""
    args = ("vae", "--limit", "300", "--epochs", "1", "--seed", "1", "--set", "latent_dim=2", "channels=4", "hidden=32")
    cli(*args, "--out", str(tmp_path / "a"))
    cli(*args, "--out", str(tmp_path / "b"))
    wa, wb = weights(tmp_path / "a" / "vae.safetensors"), weights(tmp_path / "b" / "vae.safetensors")
    assert same_weights(wa, wb)
    card = json.loads((tmp_path / "a" / "vae.json").read_text())
    assert card["config"]["latent_dim"] == 2 and card["config"]["channels"] == 4
    model = checkpoint.load(tmp_path / "a" / "vae")
    assert model.encode(torch.zeros(3, 1, 28, 28)).shape == (3, 2)
    torch.manual_seed(1)
    fresh = build("vae", latent_dim=2, channels=4, hidden=32).state_dict()
    assert not same_weights(wa, fresh), "the weights did not train"


class Interrupted(Exception):
    pass


def stopped_and_resumed(tmp_path, monkeypatch, args: list[str], stop) -> tuple[dict, dict, dict]:
    """Train ``args`` straight through; then again, stopped right after the state of the epoch where
    ``stop(done)`` holds was saved (``done``: epochs done per phase), and resumed. Returns the straight and the
    resumed run's weights and the resumed run's card."""
    name = args[0]
    T.main([*args, "--out", str(tmp_path / "straight")])

    real_save = training_state.save

    def save_then_stop(path, model, optim, phase, meta, rng, prepared):
        real_save(path, model, optim, phase, meta, rng, prepared)
        if stop(meta["done"]):
            raise Interrupted

    monkeypatch.setattr(training_state, "save", save_then_stop)
    out = tmp_path / "resumed"
    with pytest.raises(Interrupted):
        T.main([*args, "--out", str(out)])
    assert (out / f"{name}.state.safetensors").is_file() and not (out / f"{name}.json").exists()
    monkeypatch.setattr(training_state, "save", real_save)

    T.main([*args, "--out", str(out), "--resume"])
    assert not (out / f"{name}.state.safetensors").exists()
    card = json.loads((out / f"{name}.json").read_text())
    return weights(tmp_path / "straight" / f"{name}.safetensors"), weights(out / f"{name}.safetensors"), card


def test_resume_continues_from_the_saved_state(tmp_path, monkeypatch):
    """Stopped after epoch 1 of 2 and resumed, a conv_ae ends with exactly the weights of an uninterrupted
    run: model, optimiser and learning-rate schedule all continue (conv_ae has no training noise)."""
    args = ["conv_ae", "--limit", "256", "--epochs", "2", "--batch-size", "64", "--no-progress", *SAMPLE]
    straight, resumed, card = stopped_and_resumed(tmp_path, monkeypatch, args, lambda done: done["main"] == 1)
    assert [h["epoch"] for h in card["history"]] == [1, 2]
    assert same_weights(resumed, straight)


def test_resume_is_exact_for_a_gan_with_a_moving_average(tmp_path, monkeypatch):
    """A DCGAN with ema > 0 (and dropout-free noise: its latents), stopped after epoch 1 of 2: the average of
    the generator's weights, both optimisers and the random generators continue, so the shipped (averaged)
    weights are bit-identical to an uninterrupted run's."""
    args = ["dcgan", "--limit", "256", "--epochs", "2", "--batch-size", "64", "--no-progress", *SAMPLE,
            "--set", "ngf=8", "ndf=8", "ema=0.9", "minibatch_std=true", "clusters=0"]
    straight, resumed, card = stopped_and_resumed(tmp_path, monkeypatch, args, lambda done: done["main"] == 1)
    assert [h["epoch"] for h in card["history"]] == [1, 2] and card["config"]["ema"] == 0.9
    assert same_weights(resumed, straight)


def test_resume_is_exact_for_the_stylegan(tmp_path, monkeypatch):
    """The style-based GAN stopped after epoch 1 of 2: its step count (lazy R1, fade-in), the moving averages of
    its generator and of w, both optimisers and the random generators (latents, style-mixing crossovers, noise
    maps) continue, so the shipped weights are bit-identical to an uninterrupted run's."""
    args = ["stylegan", "--limit", "128", "--epochs", "2", "--batch-size", "32", "--no-progress", *SAMPLE,
            "--set", "channels=[8,8,4]", "d_channels=[4,8,8]", "mapping_layers=2", "r1_every=3", "progressive=true", "grow_steps=2"]
    straight, resumed, card = stopped_and_resumed(tmp_path, monkeypatch, args, lambda done: done["main"] == 1)
    assert [h["epoch"] for h in card["history"]] == [1, 2] and card["config"]["r1_every"] == 3
    assert same_weights(resumed, straight)


def test_resume_is_exact_during_layerwise_pretraining(tmp_path, monkeypatch):
    """A stacked AE with masking noise, stopped after the first of two pretraining epochs of its first layer:
    that layer's optimiser and schedule, and the noise, continue where they were."""
    args = ["stacked_ae", "--limit", "256", "--epochs", "1", "--pretrain-epochs", "2", "--batch-size", "64", "--no-progress", *SAMPLE,
            "--set", "hidden=[64,32]", "latent_dim=8", "input_dropout=0.2"]
    straight, resumed, card = stopped_and_resumed(tmp_path, monkeypatch, args, lambda done: done["pretrain"] == [1, 0, 0])
    assert [(h["phase"], h["epoch"]) for h in card["history"]] == [
        ("pretrain layer 1", 1), ("pretrain layer 1", 2), ("pretrain layer 2", 1), ("pretrain layer 2", 2),
        ("pretrain layer 3", 1), ("pretrain layer 3", 2), ("train", 1)]
    assert same_weights(resumed, straight)


def test_resume_is_exact_for_the_sda_with_pseudo_labels(tmp_path, monkeypatch):
    """sda_100 (100 labels spread over the pretrained codes, then a ramped pseudo-label term with dropout,
    shifts and masking noise), stopped after fine-tuning epoch 1 of 2: the spread labels (computed from the
    pretrained weights, which fine-tuning has since changed), the ramp's step count and the random generators
    continue."""
    args = ["sda_100", "--limit", "1000", "--epochs", "2", "--pretrain-epochs", "1", "--batch-size", "64", "--no-progress", *SAMPLE,
            "--set", "hidden=[64]", "latent_dim=32", "pseudo_label_weight=1.0", "pseudo_label_rampup=40"]
    straight, resumed, card = stopped_and_resumed(tmp_path, monkeypatch, args, lambda done: done["main"] == 1)
    assert [h["phase"] for h in card["history"]] == ["pretrain layer 1", "pretrain layer 2", "train", "train"]
    assert card["metrics"]["pseudo_labels"]["images"] > 100 and "train_pseudo_label" in card["history"][-1]
    assert same_weights(resumed, straight)


# -- random streams: validation and in-app training leave the training stream and the process alone -------

def small(name: str):
    """A registered model small enough to build and validate in a blink."""
    configs = {"sda": {"hidden": (64,), "latent_dim": 16}, "stacked_ae": {"hidden": (64,), "latent_dim": 8},
               "vae": {"latent_dim": 4, "channels": 4, "hidden": 32}, "cvae": {"latent_dim": 4, "channels": 4, "hidden": 32},
               "dcgan": {"ngf": 8, "ndf": 8}}
    torch.manual_seed(0)
    return build(name, **configs.get(name, {}))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_validate_leaves_the_global_generator_alone(name):
    """Validation draws its noise (VAE samples, GAN latents, contrastive views) from a generator of its own:
    torch's global generator is where it was, and the same weights give the same figures every time."""
    model = small(name)
    x, y = data.load_tensors("mnist", "val", source="sample")
    x, y = x[:64], y[:64]
    torch.manual_seed(7)
    before = torch.get_rng_state()
    first = T.validate(model, x, y, "cpu")
    assert torch.equal(torch.get_rng_state(), before), "validate() moved torch's global generator"
    assert T.validate(model, x, y, "cpu") == first


@dataclass
class TapConfig:
    pass


class NoiseTap(Model):
    """A one-parameter model whose training step draws from torch's global generator (as dropout does) and
    records the draws, one list per epoch."""

    Config = TapConfig

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.epochs: list[list[float]] = [[]]

    def loss(self, batch):
        u = torch.rand(1) if self.training else torch.zeros(1)
        if self.training:
            self.epochs[-1].append(float(u))
        return {"loss": (self.w - u).pow(2).sum()}


def test_every_epoch_draws_new_noise():
    """From the second epoch on, each epoch used to draw the same stream (validation reseeded the generator)."""
    x, y = torch.rand(64, 1, 28, 28), torch.zeros(64, dtype=torch.long)
    model = NoiseTap()
    T.fit(model, x, y, epochs=4, batch_size=16, val=(x[:16], y[:16]), on_epoch=lambda record: model.epochs.append([]))
    streams = model.epochs[:4]
    assert all(len(s) == 4 for s in streams)
    assert len({tuple(s) for s in streams}) == 4, "two epochs drew the same noise"


def test_cli_epochs_draw_new_noise(tmp_path, monkeypatch):
    """The same through ``python -m rep_models.train``: a VAE's training samples differ in every epoch."""
    draws: list[tuple[float, ...]] = []
    real = torch.randn_like

    def tap(t, *a, **k):
        out = real(t, *a, **k)
        if torch.is_grad_enabled():  # training, not validation
            draws.append(tuple(out.flatten()[:8].tolist()))
        return out

    monkeypatch.setattr(torch, "randn_like", tap)
    T.main(["vae", "--limit", "128", "--epochs", "3", "--batch-size", "64", "--no-progress", *SAMPLE, "--out", str(tmp_path),
            "--set", "latent_dim=2", "channels=4", "hidden=32"])
    assert len(draws) == 6 and len(set(draws)) == 6, "two batches drew the same noise"


def test_fit_leaves_the_global_generator_alone_and_repeats():
    """Train live runs ``fit`` in a server thread: for the models it offers, the run neither reseeds nor draws
    from the generator the rest of the process uses, and the same seed gives the same weights."""
    x, y = data.load_tensors("mnist", "train", source="sample")
    x, y = x[:128], y[:128]
    for name in ("linear_ae", "stacked_ae", "conv_ae", "vae", "dcgan"):
        runs = []
        for _ in range(2):
            model = small(name)
            torch.manual_seed(11)
            before = torch.get_rng_state()
            T.fit(model, x, y, epochs=2, batch_size=64, seed=3, val=(x[:32], y[:32]))
            assert torch.equal(torch.get_rng_state(), before), f"fit() moved torch's global generator ({name})"
            runs.append(model.state_dict())
        assert same_weights(*runs), name


def test_gan_and_layerwise_phases(tmp_path):
    T.main(["gan", "--limit", "256", "--epochs", "1", "--no-progress", *SAMPLE, "--out", str(tmp_path)])
    val = json.loads((tmp_path / "gan.json").read_text())["metrics"]["validation"]
    assert {"val_d_loss", "val_g_loss", "val_d_real", "val_d_fake"} <= set(val)
    assert all(torch.isfinite(torch.tensor(v)) for v in val.values())

    T.main(["stacked_ae", "--limit", "256", "--epochs", "1", "--pretrain-epochs", "1", "--no-progress", *SAMPLE,
            "--set", "hidden=[64,32]", "latent_dim=8", "--out", str(tmp_path)])
    card = json.loads((tmp_path / "stacked_ae.json").read_text())
    assert [h["phase"] for h in card["history"]] == ["pretrain layer 1", "pretrain layer 2", "pretrain layer 3", "train"]
    assert card["config"]["hidden"] == [64, 32]
    # main(argv) records its own argv, not the calling process's (here pytest's).
    assert card["trained_by"].startswith("python -m rep_models.train stacked_ae --limit 256")
    assert checkpoint.load(tmp_path / "stacked_ae").config.hidden == (64, 32)


def test_every_recipe_resolves_and_builds():
    for name in ZOO:
        model_name, config, opts, fp16 = T.resolve(name)
        model = build(model_name, **config)
        assert opts.epochs > 0 and isinstance(fp16, bool), name
        assert model.n_parameters() > 0


@pytest.mark.parametrize("argv, match", [(["resnet"], "unknown model or recipe 'resnet'"),
                                         (["conv_ae", "--set", "latent_dim"], "key=value"),
                                         (["conv_ae", "--data", "/nowhere", *SAMPLE], "does not go with --data-source sample")])
def test_bad_command_lines_are_clear(argv, match):
    with pytest.raises(SystemExit, match=match):
        T.main([*argv, "--out", "/nonexistent", "--no-progress"])


def test_the_noise_generator_is_per_thread():
    """``fit`` sets its generator for its own thread only: the server's other threads still draw from torch's."""
    inside, release = threading.Event(), threading.Event()

    def worker():
        with noise_generator(torch.Generator().manual_seed(0)):
            inside.set()
            release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(10)
    assert noise_source() is None
    release.set()
    t.join()


DDP_SCRIPT = textwrap.dedent("""
    # Runs ``python -m rep_models.train``'s own main() under torchrun, keeping a handle on each rank's model
    # so that the test can compare the ranks' final weights.
    import os, sys
    from safetensors.torch import save_file
    import rep_models.train as T

    import rep_models.training.run as R

    models = []
    real_build = R.build
    R.build = lambda *a, **k: models.append(real_build(*a, **k)) or models[-1]
    T.main(sys.argv[1:])
    out = sys.argv[sys.argv.index("--out") + 1]
    state = {k: v.detach().contiguous() for k, v in models[0].state_dict().items()}
    save_file(state, os.path.join(out, f"rank{os.environ['RANK']}.safetensors"))
""")


def test_torchrun_two_processes_agree(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(script),
           "conv_ae", "--limit", "256", "--epochs", "1", "--device", "cpu", "--no-progress", *SAMPLE, "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    card = json.loads((out / "conv_ae.json").read_text())
    assert card["world_size"] == 2 and [h["epoch"] for h in card["history"]] == [1]
    r0, r1 = weights(out / "rank0.safetensors"), weights(out / "rank1.safetensors")
    assert same_weights(r0, r1), "the ranks' weights differ"
    saved = weights(out / "conv_ae.safetensors")  # the recipe stores fp16
    assert same_weights({k: v.to(saved[k].dtype) for k, v in r0.items()}, saved)
    torch.manual_seed(0)
    assert not same_weights(r0, build("conv_ae").state_dict()), "the weights did not train"
