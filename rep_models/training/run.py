"""``train(NAME)``: a recipe or a registered model trained from scratch (or resumed), its weights and card
written. The pieces, in order: the process and its device, the model, the data and the recipe's steps,
greedy layer-wise pretraining, the steps after pretraining, the main phase, the card."""
from __future__ import annotations

import os
import platform
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .. import checkpoint, data
from ..device import pick_device
from ..models import build
from ..zoo import ZOO
from . import recipes, state
from .distributed import dist_info, init_distributed
from .loop import Callbacks, Phase, finish, make_optimisers, run_phase, validate
from .options import TrainOptions, resolve
from .steps import GAN_KINDS, LossModule


@contextmanager
def own_rng(device: torch.device) -> Iterator[None]:
    """The run seeds torch's and numpy's global generators for itself; the caller gets its own back after."""
    np_state = np.random.get_state()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        try:
            yield
        finally:
            np.random.set_state(np_state)


def check_data_options(opts: TrainOptions) -> None:
    if opts.data_source not in data.SOURCES:
        raise SystemExit(f"data_source must be one of {data.SOURCES}, got {opts.data_source!r}")
    if opts.data_source == "sample" and opts.data_root:
        raise SystemExit("--data names a folder of full MNIST files; it does not go with --data-source sample")


def build_model(model_name: str, config: dict, seed: int, rank: int, device: torch.device):
    """The same initial weights on every rank (DDP broadcasts rank 0's anyway), then different noise per rank."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = build(model_name, **config).to(device)
    torch.manual_seed(seed + rank)
    return model


def load_data(opts: TrainOptions) -> recipes.TrainingData:
    x, y = data.load_tensors("mnist", "train", root=opts.data_root, source=opts.data_source)
    xv, yv = data.load_tensors("mnist", "val", root=opts.data_root, source=opts.data_source)
    if opts.limit:
        n_val = max(100, opts.limit // 5)
        x, y, xv, yv = x[: opts.limit], y[: opts.limit], xv[:n_val], yv[:n_val]
    return recipes.TrainingData(x, y, xv, yv)


def resume_from(path: Path, model, opts: TrainOptions, d: recipes.TrainingData, rank: int) -> state.SavedState:
    """Put the model, the history, the recipe steps' outputs and the random generators back as the state file
    ``path`` has them (the optimisers go back when their phase starts: :func:`train_phase`)."""
    saved = state.load(path)
    saved.restore_model(model)
    opts.history = saved.meta["history"]
    d.prepared.update(saved.prepared())
    if not saved.restore_rng(rank):
        print("warning: the saved state has no random generator states; the resumed run will not match", file=sys.stderr)
    if rank == 0:
        print(f"resuming {path.name.removesuffix('.state.safetensors')} from {path}: {saved.meta['done']}", file=sys.stderr)
    return saved


def train_phase(model, wrapped, phase: Phase, x, y, opts: TrainOptions, device, ckpt: state.Checkpoints,
                saved: state.SavedState | None, val=None) -> None:
    """Run ``phase`` from where the saved state left it (its optimisers too, if they were saved in it)."""
    start = ckpt.epochs_done(phase)
    if start >= phase.epochs:
        return
    optim = make_optimisers(model, phase, len(x), opts)
    if start and saved is not None and not saved.restore_optim(optim, phase):
        print(f"warning: the saved state has no optimiser for {phase.desc}; it restarts", file=sys.stderr)
    run_phase(model, wrapped, phase, optim, x, y, opts, device, start, val, Callbacks(on_epoch_end=ckpt.after_epoch(phase, optim, opts.history)))


def train(name: str, out_dir: str | os.PathLike = "pretrained", out_name: str | None = None, args=None, resume: bool = False) -> dict:
    """Train the recipe or registered model ``name``; returns the written card."""
    model_name, config, opts, fp16 = resolve(name, args)
    check_data_options(opts)
    out_name = out_name or name
    out = Path(out_dir)
    device = init_distributed(pick_device(opts.device))
    rank, world = dist_info()
    with own_rng(device):
        model = build_model(model_name, config, opts.seed, rank, device)
        d = recipes.run_steps(recipes.BEFORE_TRAINING, model, load_data(opts), opts)
        wrapped = LossModule(model)
        if world > 1:
            wrapped = DistributedDataParallel(wrapped, find_unused_parameters=True)

        state_path = out / f"{out_name}.state.safetensors"
        saved = resume_from(state_path, model, opts, d, rank) if resume and state_path.is_file() else None
        ckpt = state.Checkpoints(state_path, model, d.prepared, saved, rank)

        for layer in range(model.pretrain_layers if opts.pretrain_epochs else 0):
            phase = Phase("layerwise", opts.pretrain_epochs, f"pretrain layer {layer + 1}", layer)
            train_phase(model, wrapped, phase, d.x, d.y, opts, device, ckpt, saved)
        recipes.run_steps(recipes.AFTER_PRETRAINING, model, d, opts)
        main = Phase(model.trainer if model.trainer in GAN_KINDS else "standard", opts.epochs, "train")
        train_phase(model, wrapped, main, d.x_sup, d.y_sup, opts, device, ckpt, saved, val=(d.xv, d.yv))
        finish(model)

        card = write_card(model, name, out / out_name, args, opts, d, device, world, ckpt.wall_seconds(), fp16) if rank == 0 else {}
    if rank == 0:
        state_path.unlink(missing_ok=True)
    if world > 1:
        dist.barrier()
    return card


def write_card(model, name: str, stem: Path, args, opts: TrainOptions, d: recipes.TrainingData, device, world: int,
               wall_seconds: float, fp16: bool) -> dict:
    """Save the weights and the card: the recipe, the command, the options, the final validation, the history."""
    argv = getattr(args, "argv", sys.argv[1:]) if args is not None else [name]
    return checkpoint.save(model, stem, {
        "recipe": name,
        "trained_by": "python -m rep_models.train " + " ".join(shlex.quote(a) for a in argv),
        "train_options": {k: v for k, v in opts.__dict__.items() if k not in ("history", "progress")},
        "metrics": {"validation": validate(model, d.xv, d.yv, device), **d.report},
        "history": opts.history,
        "epochs": opts.epochs,
        "seed": opts.seed,
        "data": data_entry(opts),
        "wall_seconds": round(wall_seconds, 1),
        "device": str(device),
        "world_size": world,
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
    }, fp16=fp16, int8_min=ZOO.get(name, {}).get("int8_min"))


def data_entry(opts: TrainOptions) -> dict:
    """The card's record of the data a model saw: source, split and checksum."""
    if opts.data_source == "sample":
        split = (f"the shipped sample's {data.SAMPLE_TRAIN:,} training digits minus a {data.SAMPLE_VAL:,}-image "
                 "validation split (seed 0)")
    else:
        split = "train minus a 5,000-image validation split (seed 0)"
    split += (f", first {opts.limit}" if opts.limit else "") + (f", {opts.labels} labels" if opts.labels else "")
    return {"dataset": "mnist", "source": opts.data_source, "split": split,
            "sha256": data.data_checksum("mnist", opts.data_root, source=opts.data_source)}
