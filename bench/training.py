"""Training throughput per model family on CPU: images/s, the implied time per epoch, and how long
fetching a batch takes against a training step (the data pipeline must not be the bottleneck).

    python -m bench.training            # every shipped recipe, 40 steps each after 5 warm-up steps
    python -m bench.training --quick    # 8 steps each, a few recipes

A step is what ``rep_models.train.run_phase`` does for one batch: index the in-memory tensors (the
"fetch"), then the model's loss, backward and optimiser step (two of each for GANs). Time per epoch is
the step time times the steps of one epoch of the 55,000 training images (without validation).
The ``DataLoader`` column, for comparison, fetches the same batches through a
``torch.utils.data.DataLoader`` over a ``TensorDataset`` (per-sample indexing and collation).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from bench.common import header, table, write_section
from rep_models import data
from rep_models.models import build
from rep_models.train import LossModule, TrainOptions, _Optim, epoch_batches
from rep_models.zoo import ZOO

N_TRAIN = 55000  # MNIST train minus the 5,000-image validation split


def recipe_options(name: str) -> tuple[torch.nn.Module, TrainOptions]:
    r = ZOO[name]
    cls_defaults = build(r["model"], **r.get("config", {})).train_defaults
    opts = TrainOptions(**{**cls_defaults, **r.get("train", {})})
    return build(r["model"], **r.get("config", {})), opts


def measure(name: str, x: torch.Tensor, y: torch.Tensor, steps: int, warmup: int = 5) -> dict:
    torch.manual_seed(0)
    model, opts = recipe_options(name)
    model.train()
    gan = model.trainer == "gan"
    wrapped = LossModule(model)
    groups = [list(model.discriminator_parameters()), list(model.generator_parameters())] if gan else [list(model.parameters())]
    optim = _Optim(groups, opts.lr, 10_000, gan, opts.schedule)
    batches = epoch_batches(len(x), opts.batch_size, 0, 0)
    fetch, step = [], []
    for i in range(warmup + steps):
        idx = batches[i % len(batches)]
        t0 = time.perf_counter()
        xb, yb = x[idx], y[idx]
        t1 = time.perf_counter()
        if gan:
            optim.step(wrapped(xb, yb, "discriminator_loss")["loss"], 0)
            optim.step(wrapped(xb, yb, "generator_loss")["loss"], 1)
        else:
            optim.step(wrapped(xb, yb, "loss")["loss"])
        t2 = time.perf_counter()
        if i >= warmup:
            fetch.append(t1 - t0)
            step.append(t2 - t1)
    # The same batches through a DataLoader over a TensorDataset, the textbook alternative.
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=opts.batch_size, shuffle=True)
    it = iter(loader)
    dl = []
    for _ in range(min(steps, 20)):
        t = time.perf_counter()
        next(it)
        dl.append(time.perf_counter() - t)
    f, s = statistics.median(fetch), statistics.median(step)
    steps_per_epoch = -(-N_TRAIN // opts.batch_size)
    return {"recipe": name, "model": ZOO[name]["model"], "family": model.family, "batch": opts.batch_size,
            "step_ms": s * 1e3, "fetch_ms": f * 1e3, "fetch_share_%": 100 * f / (f + s), "dataloader_fetch_ms": statistics.median(dl) * 1e3,
            "images_per_s": opts.batch_size / (f + s), "epoch_s": steps_per_epoch * (f + s)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--recipes", nargs="*", help="default: every shipped recipe")
    args = p.parse_args(argv)
    names = args.recipes or (["linear_ae", "conv_ae", "vae", "gan", "dcgan", "classifier"] if args.quick else list(ZOO))
    steps = 8 if args.quick else args.steps
    x, y = data.load_tensors("mnist", "train")
    rows = []
    for name in names:
        rows.append(measure(name, x, y, steps))
        print(rows[-1], flush=True)
    worst = max(rows, key=lambda r: r["fetch_share_%"])
    md = [header("Training throughput", f"- {steps} timed steps per recipe after 5 warm-up steps; medians; torch threads {torch.get_num_threads()}"), "",
          "`step_ms`: loss + backward + optimiser step(s) on one batch; `fetch_ms`: indexing the in-memory tensors for that batch; "
          "`dataloader_fetch_ms`: the same batch through `DataLoader(TensorDataset)` for comparison; `epoch_s`: (fetch + step) x steps of "
          f"one epoch of {N_TRAIN:,} images (greedy pretraining and validation not included).", "",
          table(rows), "",
          f"Largest share of time spent fetching: {worst['fetch_share_%']:.2f}% ({worst['recipe']}): the data pipeline is not the bottleneck.", ""]
    write_section("training", "\n".join(md), {"rows": rows, "steps": steps})


if __name__ == "__main__":
    main()
