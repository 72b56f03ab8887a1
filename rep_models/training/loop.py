"""The one training loop: epochs of shuffled in-memory batches through a phase's step, an epoch record
(losses, time, validation), and the callbacks Train live and the resumable state hang on it.

Randomness: batches are shuffled by their own generator (``seed`` and the epoch); a model's noise comes
from torch's global generator, or from the thread's generator set by ``models.base.noise_generator``.
Validation draws its noise from a generator of its own (the same draw every epoch) and so neither reseeds
nor advances the training's stream; :func:`fit` (a training run inside the app's server) sets its own
generator too and leaves the process's global generator alone.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from ..models.base import noise_generator
from .distributed import dist_info
from .optim import Optimisers
from .options import TrainOptions
from .steps import GAN_KINDS, STEPS, LossModule, param_groups

VALIDATION_SEED = 12345  # validation's own noise: the same VAE samples and GAN latents every epoch


@dataclass
class Phase:
    """One phase of a run: ``kind`` (``standard``, ``gan`` or ``layerwise``), ``epochs`` epochs, the name its
    epoch records carry (``desc``), the layer a layer-wise phase trains."""

    kind: str
    epochs: int
    desc: str
    layer: int = 0

    @property
    def validated(self) -> bool:
        return self.kind != "layerwise"


@dataclass
class Callbacks:
    on_batch_end: Callable[[], None] | None = None  # after every training batch
    on_epoch_end: Callable[[dict], None] | None = None  # with each epoch's record, after validation
    should_stop: Callable[[], bool] | None = None  # polled after every batch and every epoch: True ends the phase


def epoch_batches(n: int, batch_size: int, epoch: int, seed: int, min_steps: int = 0) -> list[torch.Tensor]:
    """This rank's shuffled index batches for one epoch (DistributedSampler shards across ranks)."""
    rank, world = dist_info()
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


def make_optimisers(model, phase: Phase, n: int, opts: TrainOptions) -> Optimisers:
    """The phase's optimisers, with a schedule over its ``epochs`` of ``n`` images."""
    steps = len(epoch_batches(n, opts.batch_size, 0, opts.seed, opts.min_steps_per_epoch))
    return Optimisers(param_groups(model, phase.kind, phase.layer), opts.lr, steps * phase.epochs, phase.kind in GAN_KINDS, opts.schedule,
                      getattr(model, "adam_betas", None) if phase.kind != "layerwise" else None,
                      getattr(model, "lr_scales", None) if phase.kind in GAN_KINDS else None)


def _mean_dicts(dicts: list[dict]) -> dict[str, float]:
    keys = dicts[0].keys()
    return {k: float(np.mean([float(d[k]) for d in dicts])) for k in keys}


@torch.no_grad()
def validate(model, x: torch.Tensor, y: torch.Tensor, device, batch_size: int = 1000) -> dict[str, float]:
    """Mean of every entry of ``model.loss`` over the validation set, in eval mode, with noise of its own."""
    was_training = model.training
    model.eval()
    with noise_generator(torch.Generator().manual_seed(VALIDATION_SEED)):
        out = [model.loss((x[i : i + batch_size].to(device), y[i : i + batch_size].to(device))) for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return {f"val_{k}": v for k, v in _mean_dicts(out).items()}


def run_phase(model, wrapped, phase: Phase, optim: Optimisers, x, y, opts: TrainOptions, device, start_epoch: int = 0,
              val=None, callbacks: Callbacks | None = None) -> None:
    """Train epochs ``start_epoch..phase.epochs`` of ``phase`` on ``x``, ``y``; each epoch's record goes to
    ``opts.history`` (and a JSON line on stderr), validated on ``val = (x, y)`` unless layer-wise."""
    cb = callbacks or Callbacks()
    rank, _ = dist_info()
    step = STEPS[phase.kind]
    model.train()
    for epoch in range(start_epoch, phase.epochs):
        batches = epoch_batches(len(x), opts.batch_size, epoch + 1000 * phase.layer, opts.seed, opts.min_steps_per_epoch)
        bar = tqdm(batches, desc=f"{phase.desc} epoch {epoch + 1}/{phase.epochs}", disable=not opts.progress or rank != 0,
                   leave=True, dynamic_ncols=True)
        running: dict[str, float] = {}
        t0 = time.time()
        for i, idx in enumerate(bar):
            out = step(model, wrapped, optim, x[idx].to(device, non_blocking=True), y[idx].to(device, non_blocking=True), phase.layer)
            for k, v in out.items():  # exponential running mean for the bar
                v = float(v.detach()) if torch.is_tensor(v) else float(v)
                running[k] = 0.9 * running.get(k, v) + 0.1 * v
            if i % 10 == 0:
                bar.set_postfix({k: f"{v:.4g}" for k, v in running.items()})
            if cb.on_batch_end is not None:
                cb.on_batch_end()
            if cb.should_stop is not None and cb.should_stop():
                break
        bar.close()
        record = {"phase": phase.desc, "epoch": epoch + 1, "seconds": round(time.time() - t0, 2),
                  "images_per_s": round(len(batches) * opts.batch_size / max(1e-9, time.time() - t0), 1),
                  **{f"train_{k}": round(v, 6) for k, v in running.items()}}
        if val is not None and phase.validated:
            record.update({k: round(v, 6) for k, v in validate(model, *val, device).items()})
        opts.history.append(record)
        if rank == 0 and opts.log_epochs:
            tqdm.write(json.dumps(record), file=sys.stderr)
        if cb.on_epoch_end is not None:
            cb.on_epoch_end(record)
        if cb.should_stop is not None and cb.should_stop():
            break


def finish(model) -> None:
    """After the last phase, e.g. a GAN's averaged generator weights replace the last step's."""
    if hasattr(model, "finish_training"):
        model.finish_training()


def fit(model, x: torch.Tensor, y: torch.Tensor, epochs: int = 1, batch_size: int = 128, lr: float | None = None,
        seed: int = 0, device="cpu", val=None, on_epoch=None, should_stop=None, on_batch_end=None) -> list[dict]:
    """Train ``model`` in-process on ``x (N,1,28,28)``, ``y (N,)`` with its own training style (the app's
    Train-live page). ``on_epoch(record)`` gets each epoch's record (losses, seconds, validation if ``val``
    is ``(x, y)``); ``on_batch_end()`` is called after each batch; ``should_stop()`` cancels. Returns the
    list of epoch records.

    Safe in a server thread: the model's noise comes from a generator of this call's own (seeded with
    ``seed``), so the run neither reseeds nor draws from the generator other requests use (dropout, which
    the models Train live offers do not have, still draws from it)."""
    opts = TrainOptions(epochs=epochs, batch_size=batch_size, lr=lr or model.train_defaults["lr"], seed=seed, progress=False, log_epochs=False)
    model.to(device)
    gan = model.trainer in GAN_KINDS
    phase = Phase(model.trainer if gan else "standard", epochs, "gan" if gan else "loss")
    with noise_generator(torch.Generator().manual_seed(seed)):
        run_phase(model, LossModule(model), phase, make_optimisers(model, phase, len(x), opts), x, y, opts, device, val=val,
                  callbacks=Callbacks(on_batch_end=on_batch_end, on_epoch_end=on_epoch, should_stop=should_stop))
        finish(model)
    model.eval()
    return opts.history
