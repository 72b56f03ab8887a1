"""What each of the StyleGAN's tricks does, measured: the generator trained with one trick left out at a time.

    python bench/stylegan_ablation.py                    # every variant, the fixed budget below (~13 min each)
    python bench/stylegan_ablation.py --variants full no_mbstd --steps 1000
    python bench/stylegan_ablation.py --only-config '{"lr_scale": 0.5}' --steps 800   # one ad-hoc variant (prototyping)
    python bench/stylegan_ablation.py --variants full no_ema --out bench/results/part_a   # split over two processes, then
    python bench/stylegan_ablation.py --merge bench/results/part_a.json bench/results/part_b.json   # one table

Every variant trains the recipe's generator (``rep_models.zoo.ZOO["stylegan"]``; the model's defaults while no recipe
ships) with the project's
training step (``rep_models.training.steps.stylegan_step``) for the same number of steps from the same seed on one
CPU thread, then draws 10,000 samples from its averaged generator (the raw one where the moving average is the
trick left out) and measures what ``rep_models.evaluate`` measures: the Frechet distance in the shipped classifier's
features to the test set, the class shares, the mean top-class probability. Writes ``bench/results/stylegan_ablation.json``
and ``.md`` (the table) and, for the whole set of variants, ``pretrained/stylegan_ablation.json`` (the GAN studio's table).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LATENT_LAB_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))

from rep_models import checkpoint, metrics  # noqa: E402
from rep_models.data import load_tensors  # noqa: E402
from rep_models.models import build  # noqa: E402
from rep_models.models.base import noise_generator  # noqa: E402
from rep_models.training.loop import Phase, epoch_batches, make_optimisers  # noqa: E402
from rep_models.training.options import TrainOptions  # noqa: E402
from rep_models.training.steps import STEPS, LossModule  # noqa: E402
from rep_models.zoo import ZOO  # noqa: E402

OUT = ROOT / "bench" / "results"
# One trick left out per variant (config overrides on the recipe's config).
VARIANTS: dict[str, dict] = {
    "full": {},
    "no_mbstd": {"minibatch_std": False},
    "no_equalized_lr": {"equalized_lr": False},
    "no_pixel_norm": {"pixel_norm": False},
    "no_style_mixing": {"mixing_prob": 0.0},
    "no_ema": {"ema": 0.0},
    "progressive": {"progressive": True},  # grow_steps: a sixth of the budget (set in main)
    "no_r1": {"r1_gamma": 0.0},
    "no_noise": {"noise": False},
}


def train_variant(config: dict, steps: int, seed: int = 0, batch_size: int = 64, lr: float = 2e-3, x=None,
                  check_every: int = 0, check=None, y=None) -> tuple[torch.nn.Module, float]:
    """A fresh ``stylegan`` with ``config`` trained ``steps`` steps on ``x (N, 1, 28, 28)`` (with their clusters
    ``y (N,)`` when self-conditioned); returns (the model with its averaged generator in place, training seconds).
    ``check(model, step, seconds)`` every ``check_every`` steps."""
    torch.manual_seed(seed)
    model = build("stylegan", **config)
    opts = TrainOptions(batch_size=batch_size, lr=lr, seed=seed)
    phase = Phase("stylegan", 1, "ablation")
    optim = make_optimisers(model, phase, len(x), opts)
    wrapped = LossModule(model)
    y = torch.zeros(len(x), dtype=torch.long) if y is None else y
    t0, done, epoch = time.time(), 0, 0
    with noise_generator(torch.Generator().manual_seed(seed)):
        while done < steps:
            for idx in epoch_batches(len(x), batch_size, epoch, seed):
                STEPS["stylegan"](model, wrapped, optim, x[idx], y[idx])
                done += 1
                if check is not None and check_every and done % check_every == 0:
                    check(model, done, time.time() - t0)
                if done >= steps:
                    break
            epoch += 1
    seconds = time.time() - t0
    model.finish_training()
    return model, seconds


def averaged_copy(model) -> torch.nn.Module:
    """A copy whose generator holds the moving average (what would ship at this step)."""
    m = build("stylegan", **model.config_dict())
    m.load_state_dict(model.state_dict())
    m.load_training_state(model.training_state())
    m.finish_training()
    return m


def measure(model, classifier, test_features, n: int = 10000, seed: int = 0) -> dict:
    imgs = model.sample(n, seed=seed)
    probs = metrics.predict_proba(classifier, imgs)
    h = metrics.class_histogram(probs)
    return {"frechet_distance": round(metrics.frechet_distance(metrics.classifier_features(classifier, imgs), test_features), 3),
            "min_class_fraction": h["min_class_fraction"], "max_class_fraction": h["max_class_fraction"],
            "mean_top_prob": round(h["mean_top_prob"], 4), "n_samples": n}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--only-config", help="train one ad-hoc variant with these JSON config overrides (prototyping)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--check-every", type=int, default=0, help="also measure (2,000 samples) every N steps")
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(OUT / "stylegan_ablation"))
    p.add_argument("--merge", nargs="+", metavar="JSON", help="only join the rows of earlier runs (same steps and seed) into one table")
    args = p.parse_args(argv)
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        rows = {r["variant"]: r for part in parts for r in part["rows"]}
        first = next(iter(rows.values()))
        meta = {**parts[0]["meta"], "command": " + ".join(part["meta"]["command"] for part in parts),
                **{k: first[k] for k in ("steps", "batch_size", "lr", "seed")}, "samples": first["n_samples"]}
        write_table([rows[v] for v in VARIANTS if v in rows], meta, Path(args.out))
        return 0
    torch.set_num_threads(args.threads)
    recipe = ZOO.get("stylegan", {"train": {"lr": 1e-3, "batch_size": 64}})  # no shipped recipe yet: the defaults
    base = dict(recipe.get("config", {}))
    lr = args.lr or recipe.get("train", {}).get("lr", 2e-3)
    bs = args.batch_size or recipe.get("train", {}).get("batch_size", 64)
    x, _ = load_tensors("mnist", "train")
    xt, _ = load_tensors("mnist", "test")
    classifier = checkpoint.load(ROOT / "pretrained" / "classifier")
    test_features = metrics.classifier_features(classifier, xt)
    variants = {"adhoc": json.loads(args.only_config)} if args.only_config else {v: VARIANTS[v] for v in args.variants}
    if args.only_config:
        base = {**base, **variants["adhoc"]}
    y = None
    if base.get("clusters"):  # self-conditioned: the recipe's clusters, found once for every variant
        from rep_models.training.recipes import cluster_targets

        probe = build("stylegan", **base)
        (y,) = cluster_targets(probe, x, seed=args.seed)
        base = {**base, "cluster_shares": probe.config.cluster_shares}
    rows = []
    for name, over in variants.items():
        if over.get("progressive") and "grow_steps" not in over:  # 7x7, fade to 14, 14x14, fade to 28: a sixth each
            over = {**over, "grow_steps": max(1, args.steps // 6)}
        def check(model, step, secs, name=name):
            raw = measure(model, classifier, test_features, n=2000)["frechet_distance"]  # the last step's weights
            r = measure(averaged_copy(model), classifier, test_features, n=2000)
            print(json.dumps({"variant": name, "step": step, "seconds": round(secs), "raw_frechet_distance": raw, **r}), flush=True)

        model, secs = train_variant({**base, **over}, args.steps, args.seed, bs, lr, x, args.check_every, check, y)
        row = {"variant": name, "overrides": over, "steps": args.steps, "batch_size": bs, "lr": lr, "seed": args.seed,
               "train_seconds": round(secs, 1), **measure(model, classifier, test_features, n=args.samples)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.only_config:
        return 0
    meta = {"command": "python bench/stylegan_ablation.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "threads": args.threads, "load_average": os.getloadavg(),
            "steps": args.steps, "batch_size": bs, "lr": lr, "seed": args.seed, "samples": args.samples}
    write_table(rows, meta, Path(args.out))
    return 0


def write_table(rows: list[dict], meta: dict, out: Path) -> None:
    """``out``.json and .md; with every variant, also ``pretrained/stylegan_ablation.json`` (the page's copy)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    table = {"meta": meta, "rows": rows}
    out.with_suffix(".json").write_text(json.dumps(table, indent=1) + "\n")
    lines = ["| variant | left out | Frechet distance | class shares | top-class prob | train s |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {json.dumps(r['overrides']) if r['overrides'] else '-'} | {r['frechet_distance']:.2f} | "
                     f"{100 * r['min_class_fraction']:.1f}-{100 * r['max_class_fraction']:.1f} % | {r['mean_top_prob']:.3f} | {r['train_seconds']:.0f} |")
    out.with_suffix(".md").write_text(f"Each variant: {meta['steps']} steps of {meta['batch_size']}, lr {meta['lr']:g}, seed {meta['seed']}, "
                                      f"one thread; {meta['samples']:,} samples vs the test set.\n\n" + "\n".join(lines) + "\n")
    if {r["variant"] for r in rows} == set(VARIANTS):
        (ROOT / "pretrained" / "stylegan_ablation.json").write_text(json.dumps(table, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
