"""``python -m rep_models.train``'s command line (``rep_models/train.py`` is the entry point)."""
from __future__ import annotations

import argparse
import json
import sys

import torch
import torch.distributed as dist

from .. import data
from ..models import REGISTRY
from ..zoo import ZOO
from .run import train

DESCRIPTION = "Train any registered model, or any shipped recipe, from the command line."


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rep_models.train", description=DESCRIPTION)
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
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
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
