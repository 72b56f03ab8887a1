"""A run's training options, and what a recipe or a registered model name resolves to."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field

from ..models import REGISTRY
from ..zoo import ZOO

# The command-line options that override a recipe's training options (same names as TrainOptions).
OVERRIDABLE = ("epochs", "batch_size", "lr", "seed", "device", "labels", "pretrain_epochs", "min_steps_per_epoch", "schedule",
               "limit", "data_root", "data_source")


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
        for k in OVERRIDABLE:
            v = getattr(args, k, None)
            if v is not None:
                setattr(opts, k, v)
        opts.progress = not args.no_progress
        config.update(parse_set(args.set or []))
    return model_name, config, opts, bool(recipe.get("fp16", name in ZOO))  # shipped recipes store fp16


def parse_set(items: list[str]) -> dict:
    """``--set key=value ...`` -> config overrides; values are JSON where they parse, else strings."""
    config = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"--set takes key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            config[k] = json.loads(v)
        except json.JSONDecodeError:
            config[k] = v
    return config
