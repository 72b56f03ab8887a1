"""The data a recipe trains on, prepared by named steps outside the model classes (models import nothing
above ``models/``):

- :func:`few_labels`: ``--labels N`` keeps a class-balanced N of the labels for the supervised phase;
- :func:`unlabelled_pool`: the SdA's pseudo-label term (``pseudo_label_weight``) draws from the other images;
- :func:`contrastive_clusters`: the self-conditioned GANs (``clusters``) train on k-means clusters of the
  shipped contrastive encoder's codes (or of their UMAP embedding: ``cluster_umap``) instead of the labels;
- :func:`upload_pairs`: the denoiser (``upload_share``) also trains on digits put through the app's upload path;
- :func:`spread_labels`, after pretraining: the SdA (``propagate_labels``) spreads its few labels over a
  10-nearest-neighbour graph of its pretrained codes and fine-tunes on the most confident pseudo-labels.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from .. import data
from .distributed import dist_info
from .options import TrainOptions


@dataclass
class TrainingData:
    x: torch.Tensor  # (N,1,28,28) every training image
    y: torch.Tensor  # (N,) their targets: the labels, or what a recipe step put there
    xv: torch.Tensor  # validation images and targets
    yv: torch.Tensor
    x_sup: torch.Tensor | None = None  # what the main phase trains on (default: x, y)
    y_sup: torch.Tensor | None = None
    labelled: torch.Tensor | None = None  # indices into x of the labels kept (--labels)
    report: dict = field(default_factory=dict)  # for the card's metrics
    prepared: dict[str, torch.Tensor] = field(default_factory=dict)  # made during the run: kept in the resumable state

    def __post_init__(self):
        if self.x_sup is None:
            self.x_sup, self.y_sup = self.x, self.y


def _config(model, key: str, default=0):
    return getattr(model.config, key, default)


def few_labels(model, d: TrainingData, opts: TrainOptions) -> None:
    if opts.labels:
        d.labelled = data.balanced_subset(d.y, opts.labels, seed=opts.seed)
        d.x_sup, d.y_sup = d.x[d.labelled], d.y[d.labelled]


def unlabelled_pool(model, d: TrainingData, opts: TrainOptions) -> None:
    if opts.labels and _config(model, "pseudo_label_weight") > 0:
        model.unlabelled = d.x


def cluster_targets(model, x: torch.Tensor, *others: torch.Tensor, encoder=None, seed: int = 0) -> list[torch.Tensor]:
    """k-means (the model's ``clusters``) on the codes of ``x (N,1,28,28)`` by ``encoder`` (default: the shipped
    contrastive encoder), or on their UMAP embedding in ``cluster_umap`` dimensions when the model sets it: sets the model's ``cluster_shares`` and returns the cluster of every image of ``x``
    and of each further image set in ``others`` (e.g. the validation images)."""
    from sklearn.cluster import KMeans

    from ..checkpoint import load_pretrained
    from ..metrics import encode_all

    encoder = encoder if encoder is not None else load_pretrained("contrastive")
    codes = [encode_all(encoder, images).numpy() for images in (x, *others)]
    mean, std = codes[0].mean(0), codes[0].std(0) + 1e-6
    codes = [(c - mean) / std for c in codes]
    if _config(model, "cluster_umap"):
        # k-means finds round clusters; a digit's codes lie on a curved sheet. A UMAP embedding (min_dist 0: tight
        # clumps) makes them round: on the first 20,000 training digits, 10 clusters agree with the labels for
        # 95.8 % of the digits (largest label per cluster), against 83.7 % on the codes (bench/cluster_purity.py).
        import umap

        reducer = umap.UMAP(n_components=_config(model, "cluster_umap"), n_neighbors=15, min_dist=0.0, random_state=seed)
        codes = [reducer.fit_transform(codes[0])] + [reducer.transform(c) for c in codes[1:]]
    k = model.config.clusters
    km = KMeans(k, n_init=10, random_state=seed).fit(codes[0])
    ids = [torch.from_numpy(km.predict(c)).long() for c in codes]
    shares = torch.bincount(ids[0], minlength=k).double() / len(ids[0])
    model.config = replace(model.config, cluster_shares=tuple(round(float(s), 6) for s in shares))
    return ids


def contrastive_clusters(model, d: TrainingData, opts: TrainOptions) -> None:
    if _config(model, "clusters"):
        d.y, d.yv = cluster_targets(model, d.x, d.xv, seed=opts.seed)
        d.x_sup, d.y_sup = d.x, d.y


def upload_pairs(model, d: TrainingData, opts: TrainOptions) -> None:
    n = _config(model, "upload_pairs")
    if _config(model, "upload_share") > 0 and n > 0:
        from ..uploads import training_pairs

        pick = torch.randperm(len(d.x), generator=torch.Generator().manual_seed(opts.seed))[:n]
        model.upload_pool = training_pairs(d.x[pick].cpu(), seed=opts.seed)


PROPAGATION_DIM = 50  # principal components of the codes the labels spread over


def pseudo_label(model, x: torch.Tensor, labelled_idx: torch.Tensor, labelled_y: torch.Tensor):
    """Indices into ``x`` ``(K,)`` and their labels ``(K,)`` to fine-tune on: the labelled images plus the most
    confident pseudo-labelled ones (the model's ``propagation_keep`` of each class), or None when the model's
    ``propagate_labels`` is off. ``x`` is every training image, after pretraining."""
    from .. import pca, semi

    if not _config(model, "propagate_labels", False):
        return None
    h = model.propagation_codes(x)
    # The neighbour graph in the top principal components (the shipped SdA files came from a randomised
    # low-rank PCA here: one retrained now differs slightly).
    features = pca.fit(h, min(PROPAGATION_DIM, h.shape[1])).transform(h)
    p = semi.pseudo_labels(features.astype(np.float32), labelled_idx.numpy(), labelled_y.numpy())
    keep = semi.most_confident(p, model.config.propagation_keep)
    return torch.from_numpy(keep), torch.from_numpy(p.labels[keep])


def spread_labels(model, d: TrainingData, opts: TrainOptions) -> None:
    if not opts.labels or not _config(model, "propagate_labels", False):
        return
    if "pseudo_label_index" not in d.prepared:  # a resumed run keeps the pseudo-labels it fine-tunes on
        idx, pseudo = pseudo_label(model, d.x, d.labelled, d.y[d.labelled])
        d.prepared.update(pseudo_label_index=idx, pseudo_labels=pseudo)
    idx, pseudo = d.prepared["pseudo_label_index"], d.prepared["pseudo_labels"]
    d.x_sup, d.y_sup = d.x[idx], pseudo
    # Measured against the labels the model never saw, for the card only.
    d.report["pseudo_labels"] = {"images": len(idx), "pseudo_label_accuracy": round(float((pseudo == d.y[idx]).float().mean()), 4)}
    if dist_info()[0] == 0:
        print(json.dumps({"pseudo_labels": d.report["pseudo_labels"]}), file=sys.stderr, flush=True)


BEFORE_TRAINING = (few_labels, unlabelled_pool, contrastive_clusters, upload_pairs)
AFTER_PRETRAINING = (spread_labels,)


def run_steps(steps, model, d: TrainingData, opts: TrainOptions) -> TrainingData:
    for step in steps:
        step(model, d, opts)
    return d
