"""Train any registered model, or any shipped recipe, from the command line.

    python -m rep_models.train conv_ae --epochs 10
    python -m rep_models.train vae_2d                 # a recipe from rep_models/zoo.py
    python -m rep_models.train sda_100 --labels 100
    python -m rep_models.train conv_ae --data-source sample --epochs 1   # the shipped 10,000 digits, offline
    torchrun --nproc-per-node 2 -m rep_models.train conv_ae   # DistributedDataParallel, gloo on CPU

One loop serves every model: ``standard`` models minimise ``loss(batch)["loss"]``; ``gan`` models
alternate a discriminator and a generator step; models with ``pretrain_layers`` are first pretrained
greedily, one layer at a time. Data live in memory as tensors, so batching is indexing (no per-sample
Python). Writes ``OUT/NAME.safetensors`` and ``OUT/NAME.json``; ``--resume`` continues from the training
state saved after each epoch in ``OUT/NAME.state.safetensors``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from . import checkpoint, data
from .device import pick_device
from .models import REGISTRY, build
from .zoo import ZOO


@dataclass
class TrainOptions:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    device: str = "auto"
    labels: int = 0  # > 0: the supervised phase sees only this many labels (10 per class for 100)
    pretrain_epochs: int = 0  # per layer, for models with greedy layer-wise pretraining
    min_steps_per_epoch: int = 0  # repeat a small labelled set so an epoch has at least this many steps
    schedule: str = "cosine"  # or "constant"; GANs always use constant
    limit: int = 0  # > 0: train on the first N training images only (tests, smoke runs)
    data_root: str | None = None
    data_source: str = "full"  # or "sample": the shipped 10,000 training digits (data/mnist_sample.npz; tests, offline)
    progress: bool = True  # the per-batch bar
    log_epochs: bool = True  # one JSON line per epoch on stderr
    history: list = field(default_factory=list)


class LossModule(torch.nn.Module):
    """Routes DDP's forward to the model's loss for a phase, so gradients are synchronised for every phase."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, y, phase: str = "loss", layer: int = 0):
        if phase == "layerwise":
            return self.model.layerwise_loss((x, y), layer)
        return getattr(self.model, phase)((x, y))


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def epoch_batches(n: int, batch_size: int, epoch: int, seed: int, min_steps: int = 0) -> list[torch.Tensor]:
    """This rank's shuffled index batches for one epoch (DistributedSampler shards across ranks)."""
    rank, world = _dist_info()
    sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)
    idx = []
    rounds = 0
    while True:
        sampler.set_epoch(epoch * 1000 + rounds)
        idx.append(torch.tensor(list(sampler), dtype=torch.long))
        rounds += 1
        if sum(len(i) for i in idx) >= max(1, min_steps) * batch_size or not min_steps:
            break
    return list(torch.cat(idx).split(batch_size))


class _Optim:
    """Optimisers and LR schedules for one phase: one for ``standard``, two for ``gan``."""

    def __init__(self, params_groups: list, lr: float, total_steps: int, gan: bool, schedule: str):
        betas = (0.5, 0.999) if gan else (0.9, 0.999)
        self.opts = [torch.optim.Adam(p, lr=lr, betas=betas) for p in params_groups]
        if schedule == "cosine" and not gan:
            self.scheds = [torch.optim.lr_scheduler.LambdaLR(o, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / max(1, total_steps)))) for o in self.opts]
        else:
            self.scheds = []

    def state_tensors(self, prefix: str) -> tuple[dict, dict]:
        """Optimiser states flattened to tensors (for safetensors) plus the JSON-able rest."""
        tensors, meta = {}, {}
        for i, o in enumerate(self.opts):
            sd = o.state_dict()
            for pid, st in sd["state"].items():
                for k, v in st.items():
                    tensors[f"{prefix}.{i}.{pid}.{k}"] = torch.as_tensor(v).clone()
            meta[f"{prefix}.{i}"] = {"param_groups": sd["param_groups"], "ids": list(sd["state"].keys())}
        for i, s in enumerate(self.scheds):
            meta[f"{prefix}.sched.{i}"] = s.state_dict()
        return tensors, meta

    def load_state(self, prefix: str, tensors: dict, meta: dict) -> None:
        for i, o in enumerate(self.opts):
            m = meta[f"{prefix}.{i}"]
            state = {}
            for pid in m["ids"]:
                keys = [k for k in tensors if k.startswith(f"{prefix}.{i}.{pid}.")]
                state[int(pid)] = {k.rsplit(".", 1)[1]: tensors[k] for k in keys}
            o.load_state_dict({"state": state, "param_groups": m["param_groups"]})
        for i, s in enumerate(self.scheds):
            s.load_state_dict(meta[f"{prefix}.sched.{i}"])

    def step(self, loss: torch.Tensor, which: int = 0) -> None:
        o = self.opts[which]
        o.zero_grad(set_to_none=True)
        loss.backward()
        o.step()
        if self.scheds:
            self.scheds[which].step()


def _mean_dicts(dicts: list[dict]) -> dict[str, float]:
    keys = dicts[0].keys()
    return {k: float(np.mean([float(d[k]) for d in dicts])) for k in keys}


@torch.no_grad()
def validate(model, x: torch.Tensor, y: torch.Tensor, device, batch_size: int = 1000) -> dict[str, float]:
    """Mean of every entry of ``model.loss`` over the validation set, in eval mode."""
    model.eval()
    torch.manual_seed(12345)  # the VAE's sampled ELBO and GAN latents: the same draw every epoch
    out = [model.loss((x[i : i + batch_size].to(device), y[i : i + batch_size].to(device))) for i in range(0, len(x), batch_size)]
    model.train()
    return {f"val_{k}": v for k, v in _mean_dicts(out).items()}


def run_phase(model, wrapped, x, y, opts: TrainOptions, device, phase: str, epochs: int, start_epoch: int = 0,
              optim: _Optim | None = None, layer: int = 0, on_epoch=None, val=None, desc: str = "",
              should_stop=None, on_batch_end=None) -> _Optim:
    """Train ``epochs`` epochs of one phase (``loss``, ``gan`` or ``layerwise``).

    ``on_batch_end()`` is called once after every training batch; ``should_stop()`` is polled after every
    batch and after every epoch, and when it returns True the phase ends there.
    """
    rank, _ = _dist_info()
    gan = phase == "gan"
    steps_per_epoch = len(epoch_batches(len(x), opts.batch_size, 0, opts.seed, opts.min_steps_per_epoch))
    if optim is None:
        if gan:
            groups = [list(model.discriminator_parameters()), list(model.generator_parameters())]
        elif phase == "layerwise":
            st = model.stack
            groups = [[p for p in [st.enc[layer].weight, st.enc[layer].bias, st.dec_bias[layer]] + ([] if st.tied else [st.dec[layer].weight])]]
        else:
            groups = [list(model.parameters())]
        optim = _Optim(groups, opts.lr, steps_per_epoch * epochs, gan, opts.schedule)
    model.train()
    for epoch in range(start_epoch, epochs):
        batches = epoch_batches(len(x), opts.batch_size, epoch + 1000 * layer, opts.seed, opts.min_steps_per_epoch)
        bar = tqdm(batches, desc=f"{desc} epoch {epoch + 1}/{epochs}", disable=not opts.progress or rank != 0, leave=True, dynamic_ncols=True)
        running: dict[str, float] = {}
        t0 = time.time()
        for i, idx in enumerate(bar):
            xb, yb = x[idx].to(device, non_blocking=True), y[idx].to(device, non_blocking=True)
            if gan:
                d = wrapped(xb, yb, "discriminator_loss")
                optim.step(d["loss"], 0)
                g = wrapped(xb, yb, "generator_loss")
                optim.step(g["loss"], 1)
                model.after_generator_step()
                out = {**d, **g}
                out.pop("loss")
            else:
                out = wrapped(xb, yb, phase, layer)
                optim.step(out["loss"])
            for k, v in out.items():  # exponential running mean for the bar
                v = float(v.detach()) if torch.is_tensor(v) else float(v)
                running[k] = 0.9 * running.get(k, v) + 0.1 * v
            if i % 10 == 0:
                bar.set_postfix({k: f"{v:.4g}" for k, v in running.items()})
            if on_batch_end is not None:
                on_batch_end()
            if should_stop is not None and should_stop():
                break
        bar.close()
        record = {"phase": desc or phase, "epoch": epoch + 1, "seconds": round(time.time() - t0, 2),
                  "images_per_s": round(len(batches) * opts.batch_size / max(1e-9, time.time() - t0), 1),
                  **{f"train_{k}": round(v, 6) for k, v in running.items()}}
        if val is not None and phase != "layerwise":
            record.update({k: round(v, 6) for k, v in validate(model, *val, device).items()})
        opts.history.append(record)
        if rank == 0 and opts.log_epochs:
            tqdm.write(json.dumps(record), file=sys.stderr)
        if on_epoch is not None:
            on_epoch(phase, layer, epoch + 1, optim)
        if should_stop is not None and should_stop():
            break
    return optim


def fit(model, x: torch.Tensor, y: torch.Tensor, epochs: int = 1, batch_size: int = 128, lr: float | None = None,
        seed: int = 0, device="cpu", val=None, on_epoch=None, should_stop=None, on_batch_end=None) -> list[dict]:
    """Train ``model`` in-process on ``x (N,1,28,28)``, ``y (N,)`` with its own training style (the app's
    Train-live page). ``on_epoch(record)`` gets each epoch's record (losses, seconds, validation if ``val``
    is ``(x, y)``); ``on_batch_end()`` is called after each batch; ``should_stop()`` cancels. Returns the
    list of epoch records."""
    opts = TrainOptions(epochs=epochs, batch_size=batch_size, lr=lr or model.train_defaults["lr"], seed=seed, progress=False, log_epochs=False)
    torch.manual_seed(seed)
    model.to(device)
    phase = "gan" if model.trainer == "gan" else "loss"
    run_phase(model, LossModule(model), x, y, opts, device, phase, epochs, val=val, should_stop=should_stop,
              on_epoch=(lambda *_: on_epoch(opts.history[-1])) if on_epoch else None, on_batch_end=on_batch_end)
    if hasattr(model, "finish_training"):
        model.finish_training()
    model.eval()
    return opts.history


def resolve(name: str, args: argparse.Namespace | None = None) -> tuple[str, dict, TrainOptions, bool]:
    """(registered model, config overrides, training options, fp16) for a recipe or a registered name."""
    if name in ZOO:
        recipe = ZOO[name]
    elif name in REGISTRY:
        recipe = {"model": name}
    else:
        raise SystemExit(f"unknown model or recipe {name!r}; expected one of {sorted(set(REGISTRY) | set(ZOO))}")
    model_name = recipe["model"]
    opts = TrainOptions(**{**REGISTRY[model_name].train_defaults, **recipe.get("train", {})})
    config = dict(recipe.get("config", {}))
    if args is not None:
        for k in ("epochs", "batch_size", "lr", "seed", "device", "labels", "pretrain_epochs", "min_steps_per_epoch", "schedule", "limit", "data_root", "data_source"):
            v = getattr(args, k, None)
            if v is not None:
                setattr(opts, k, v)
        opts.progress = not args.no_progress
        for item in args.set or []:
            if "=" not in item:
                raise SystemExit(f"--set takes key=value, got {item!r}")
            k, v = item.split("=", 1)
            try:
                config[k] = json.loads(v)
            except json.JSONDecodeError:
                config[k] = v
    return model_name, config, opts, bool(recipe.get("fp16", name in ZOO))  # shipped recipes store fp16


def _save_state(path: Path, model, meta: dict, optim: _Optim) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    ot, om = optim.state_tensors("opt")
    tensors.update(ot)
    save_file(tensors, str(path), metadata={"meta": json.dumps({**meta, "optim": om}, default=str)})


def _load_state(path: Path):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = json.loads(f.metadata()["meta"])
    return load_file(str(path)), meta


def train(name: str, out_dir: str | os.PathLike = "pretrained", out_name: str | None = None, args=None, resume: bool = False) -> dict:
    """Train the recipe or registered model ``name``; returns the written card."""
    model_name, config, opts, fp16 = resolve(name, args)
    out_name = out_name or name
    out = Path(out_dir)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = pick_device(opts.device)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
    rank, world = _dist_info()
    torch.manual_seed(opts.seed)
    np.random.seed(opts.seed)
    model = build(model_name, **config).to(device)
    torch.manual_seed(opts.seed + rank)  # different noise per rank, same initial weights (DDP broadcasts rank 0's)

    if opts.data_source not in data.SOURCES:
        raise SystemExit(f"data_source must be one of {data.SOURCES}, got {opts.data_source!r}")
    if opts.data_source == "sample" and opts.data_root:
        raise SystemExit("--data names a folder of full MNIST files; it does not go with --data-source sample")
    x, y = data.load_tensors("mnist", "train", root=opts.data_root, source=opts.data_source)
    xv, yv = data.load_tensors("mnist", "val", root=opts.data_root, source=opts.data_source)
    if opts.limit:
        x, y, xv, yv = x[: opts.limit], y[: opts.limit], xv[: max(100, opts.limit // 5)], yv[: max(100, opts.limit // 5)]
    x_sup, y_sup = x, y
    if opts.labels:
        keep = data.balanced_subset(y, opts.labels, seed=opts.seed)
        x_sup, y_sup = x[keep], y[keep]
        if hasattr(model, "set_unlabelled"):  # semi-supervised models may use the unlabelled rest
            model.set_unlabelled(x)

    # A model may train on targets of its own instead of the labels (a self-conditioned GAN's clusters).
    targets = model.training_targets(x, xv, seed=opts.seed) if hasattr(model, "training_targets") else None
    if targets is not None:
        y, yv = targets
        x_sup, y_sup = x, y

    wrapped = LossModule(model)
    if world > 1:
        wrapped = DistributedDataParallel(wrapped, find_unused_parameters=True)

    state_path = out / f"{out_name}.state.safetensors"
    done = {"pretrain": [0] * model.pretrain_layers, "main": 0}
    resume_state = None
    if resume and state_path.is_file():
        tensors, meta = _load_state(state_path)
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        done, opts.history = meta["done"], meta["history"]
        resume_state = (tensors, meta)
        if rank == 0:
            print(f"resuming {out_name} from {state_path}: {done}", file=sys.stderr)

    t_start = time.time()
    wall_before = resume_state[1].get("wall_seconds", 0.0) if resume_state else 0.0

    def on_epoch(phase, layer, epoch, optim):
        if phase == "layerwise":
            done["pretrain"][layer] = epoch
        else:
            done["main"] = epoch
        if rank == 0:
            out.mkdir(parents=True, exist_ok=True)
            _save_state(state_path, model, {"done": done, "history": opts.history, "wall_seconds": wall_before + time.time() - t_start}, optim)

    for layer in range(model.pretrain_layers if opts.pretrain_epochs else 0):
        if done["pretrain"][layer] < opts.pretrain_epochs:
            run_phase(model, wrapped, x, y, opts, device, "layerwise", opts.pretrain_epochs, done["pretrain"][layer],
                      layer=layer, on_epoch=on_epoch, desc=f"pretrain layer {layer + 1}")
    semi_report = {}
    if opts.labels and hasattr(model, "pseudo_label"):
        chosen = model.pseudo_label(x, keep, y[keep])  # semi-supervised: few labels -> pseudo-labels (after pretraining)
        if chosen is not None:
            idx, pseudo = chosen
            x_sup, y_sup = x[idx], pseudo
            # Measured against the labels the model never saw, for the card only.
            semi_report = {"images": len(idx), "pseudo_label_accuracy": round(float((pseudo == y[idx]).float().mean()), 4)}
            if rank == 0:
                print(json.dumps({"pseudo_labels": semi_report}), file=sys.stderr, flush=True)
    phase = "gan" if model.trainer == "gan" else "loss"
    optim = None
    if resume_state and done["main"]:
        main_opts = TrainOptions(**{**opts.__dict__, "history": opts.history})
        steps = len(epoch_batches(len(x_sup), opts.batch_size, 0, opts.seed, opts.min_steps_per_epoch))
        groups = [list(model.discriminator_parameters()), list(model.generator_parameters())] if phase == "gan" else [list(model.parameters())]
        optim = _Optim(groups, main_opts.lr, steps * opts.epochs, phase == "gan", opts.schedule)
        optim.load_state("opt", resume_state[0], resume_state[1]["optim"])
    if done["main"] < opts.epochs:
        run_phase(model, wrapped, x_sup, y_sup, opts, device, phase, opts.epochs, done["main"], optim=optim,
                  on_epoch=on_epoch, val=(xv, yv), desc="train")

    if hasattr(model, "finish_training"):
        model.finish_training()  # e.g. a GAN's averaged generator weights replace the last step's
    card = {}
    if rank == 0:
        final = validate(model, xv, yv, device)
        card = checkpoint.save(model, out / out_name, {
            "recipe": name,
            "trained_by": "python -m rep_models.train " + " ".join(shlex.quote(a) for a in (getattr(args, "argv", sys.argv[1:]) if args is not None else [name])),
            "train_options": {k: v for k, v in opts.__dict__.items() if k not in ("history", "progress")},
            "metrics": {"validation": final, **({"pseudo_labels": semi_report} if semi_report else {})},
            "history": opts.history,
            "epochs": opts.epochs,
            "seed": opts.seed,
            "data": _data_entry(opts),
            "wall_seconds": round(wall_before + time.time() - t_start, 1),
            "device": str(device),
            "world_size": world,
            "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__},
        }, fp16=fp16, int8_min=ZOO.get(name, {}).get("int8_min"))
        state_path.unlink(missing_ok=True)
    if world > 1:
        dist.barrier()
    return card


def _data_entry(opts: TrainOptions) -> dict:
    """The card's record of the data a model saw: source, split and checksum."""
    if opts.data_source == "sample":
        split = (f"the shipped sample's {data.SAMPLE_TRAIN:,} training digits minus a {data.SAMPLE_VAL:,}-image "
                 "validation split (seed 0)")
    else:
        split = "train minus a 5,000-image validation split (seed 0)"
    split += (f", first {opts.limit}" if opts.limit else "") + (f", {opts.labels} labels" if opts.labels else "")
    return {"dataset": "mnist", "source": opts.data_source, "split": split,
            "sha256": data.data_checksum("mnist", opts.data_root, source=opts.data_source)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m rep_models.train", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help=f"a recipe ({', '.join(ZOO)}) or a registered model ({', '.join(REGISTRY)})")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--labels", type=int, help="supervised phase on this many labels (balanced)")
    p.add_argument("--pretrain-epochs", type=int, help="greedy layer-wise pretraining epochs per layer")
    p.add_argument("--min-steps-per-epoch", type=int)
    p.add_argument("--schedule", choices=["cosine", "constant"])
    p.add_argument("--limit", type=int, help="use only the first N training images")
    p.add_argument("--data", dest="data_root", help="folder with the MNIST files (else $LATENT_LAB_MNIST, the cache, a download)")
    p.add_argument("--data-source", choices=data.SOURCES,
                   help="full (default): MNIST's 60,000 training digits, 55,000 to train and 5,000 to validate; "
                        "sample: the 10,000 that ship in data/ (9,000 and 1,000; never downloads)")
    p.add_argument("--set", nargs="*", metavar="KEY=VALUE", help="model config overrides, e.g. --set latent_dim=2 beta=4")
    p.add_argument("--out", default="pretrained", help="output folder")
    p.add_argument("--name", help="output file name (default: the model/recipe name)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/NAME.state.safetensors")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # for the card: main(argv) is not sys.argv
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        card = train(args.model, args.out, args.name, args, resume=args.resume)
    except data.DatasetError as e:
        raise SystemExit(f"error: {e}") from None
    if card:
        print(json.dumps({"name": card["name"], "validation": card["metrics"]["validation"], "wall_seconds": card["wall_seconds"]}))
    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
