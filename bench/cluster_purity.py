"""How well label-free clusters match the digits: the self-conditioned GANs' clusters (``rep_models.training.recipes.cluster_targets``:
k-means on the shipped contrastive encoder's codes, or on their UMAP embedding with ``cluster_umap``).

    python bench/cluster_purity.py                      # 10 clusters on the first 20,000 training digits
    python bench/cluster_purity.py --clusters 10 20 --n 55000

Purity: the share of digits whose cluster's most common label is their own (1.0: every cluster one digit).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LATENT_LAB_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))

from rep_models.data import load_tensors  # noqa: E402
from rep_models.models import build  # noqa: E402
from rep_models.training.recipes import cluster_targets  # noqa: E402


def purity(ids: np.ndarray, labels: np.ndarray) -> float:
    """The share of items whose cluster's most common label is their own."""
    return float(sum(np.bincount(labels[ids == c]).max() for c in np.unique(ids)) / len(labels))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clusters", type=int, nargs="+", default=[10])
    p.add_argument("--n", type=int, default=20000, help="training digits clustered (the first N of the training split)")
    p.add_argument("--umap-dims", type=int, default=8)
    a = p.parse_args(argv)
    x, y = load_tensors("mnist", "train")
    x, y = x[:a.n], y[:a.n].numpy()
    for k in a.clusters:
        for dims in (0, a.umap_dims):
            t = time.time()
            (ids,) = cluster_targets(build("stylegan", clusters=k, cluster_umap=dims), x)
            print(json.dumps({"clusters": k, "cluster_umap": dims, "n": a.n, "purity": round(purity(ids.numpy(), y), 4),
                              "smallest_share": round(float(np.bincount(ids.numpy()).min() / a.n), 4), "seconds": round(time.time() - t, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
