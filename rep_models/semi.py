"""Graph label propagation: spread a few labels over a k-nearest-neighbour graph of unlabelled codes.

    neighbours, distances = knn_graph(codes, k=10)              # (N, k), (N, k)
    probs = label_spreading(neighbours, distances, labels)      # (N, C); labels -1 where unknown
    pseudo = pseudo_labels(codes, labelled_idx, labelled_y)     # the two above, plus a confidence

Zhou et al. (2004), "Learning with local and global consistency": F <- alpha S F + (1 - alpha) Y with S the
symmetrically normalised affinity matrix. Digits of one class lie on a connected manifold, so 10 labels per
class reach most of their class through the graph; Iscen et al. (2019) train a network on labels spread
this way. The SDA uses it to turn 100 labels into pseudo-labels for the unlabelled images it fine-tunes on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch


def knn_graph(codes, k: int = 10, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest other rows of ``codes`` ``(N, d)``: indices ``(N, k)`` int64 and Euclidean
    distances ``(N, k)`` float32, nearest first. Blocked matrix products: ``chunk * N`` floats at a time."""
    z = torch.as_tensor(np.asarray(codes), dtype=torch.float32)
    if z.ndim != 2 or len(z) <= k:
        raise ValueError(f"codes must be (N, d) with N > k={k}, got shape {tuple(z.shape)}")
    sq = (z * z).sum(1)
    idx, dist = [], []
    with torch.inference_mode():
        for i in range(0, len(z), chunk):
            d2 = sq[i:i + chunk, None] - 2 * z[i:i + chunk] @ z.T + sq[None]
            rows = torch.arange(d2.shape[0])
            d2[rows, rows + i] = float("inf")  # not its own neighbour
            v, j = d2.topk(k, largest=False)  # sorted, nearest first
            idx.append(j)
            dist.append(v.clamp_min(0).sqrt())
    return torch.cat(idx).numpy(), torch.cat(dist).numpy()


def label_spreading(neighbours: np.ndarray, distances: np.ndarray, labels: np.ndarray, n_classes: int | None = None,
                    alpha: float = 0.99, iterations: int = 30) -> np.ndarray:
    """Class scores ``(N, C)`` (rows sum to 1) for every node of the kNN graph ``neighbours`` /
    ``distances`` ``(N, k)`` from ``labels`` ``(N,)`` (class index, or -1 where unknown).

    Affinities are Gaussian in the distance (width: the median k-th neighbour distance), symmetrised.
    """
    labels = np.asarray(labels)
    n, k = neighbours.shape
    if labels.shape != (n,):
        raise ValueError(f"labels must be ({n},) like the graph, got {labels.shape}")
    known = labels >= 0
    if not known.any():
        raise ValueError("no labelled node (every label is -1)")
    n_classes = n_classes or int(labels.max()) + 1
    sigma = float(np.median(distances[:, -1])) or 1.0
    w = sp.csr_matrix((np.exp(-(distances / sigma) ** 2).ravel(), (np.repeat(np.arange(n), k), neighbours.ravel())), shape=(n, n))
    w = w + w.T
    inv_sqrt = sp.diags(1 / np.sqrt(np.asarray(w.sum(1)).ravel().clip(1e-12)))
    s = inv_sqrt @ w @ inv_sqrt
    y = np.zeros((n, n_classes))
    y[np.flatnonzero(known), labels[known]] = 1
    f = y.copy()
    for _ in range(iterations):
        f = alpha * (s @ f) + (1 - alpha) * y
    total = f.sum(1, keepdims=True)
    # a node the labels never reach (an isolated component) gets uniform scores
    return np.where(total > 0, f / np.where(total > 0, total, 1), 1 / n_classes)


@dataclass
class PseudoLabels:
    labels: np.ndarray  # (N,) the propagated class of every node (the given label where one was given)
    confidence: np.ndarray  # (N,) the winning class's share of the scores, in [1/C, 1]


def pseudo_labels(codes, labelled_idx, labelled_y, k: int = 10, n_classes: int = 10) -> PseudoLabels:
    """Propagate ``labelled_y`` ``(L,)`` at rows ``labelled_idx`` ``(L,)`` of ``codes`` ``(N, d)`` to every row."""
    labelled_idx, labelled_y = np.asarray(labelled_idx), np.asarray(labelled_y)
    labels = -np.ones(len(codes), dtype=np.int64)
    labels[labelled_idx] = labelled_y
    neighbours, distances = knn_graph(codes, k)
    probs = label_spreading(neighbours, distances, labels, n_classes)
    out = probs.argmax(1)
    out[labelled_idx] = labelled_y
    conf = probs.max(1)
    conf[labelled_idx] = 1.0
    return PseudoLabels(out, conf)


def most_confident(p: PseudoLabels, fraction: float, n_classes: int = 10) -> np.ndarray:
    """Indices of the ``fraction`` most confident nodes of each propagated class (so the kept set stays as
    balanced as the propagation), always including the labelled nodes (confidence 1)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    keep = []
    for c in range(n_classes):
        members = np.flatnonzero(p.labels == c)
        order = members[np.argsort(-p.confidence[members], kind="stable")]
        keep.append(order[: max(1, int(round(fraction * len(members))))] if len(members) else order)
    return np.sort(np.concatenate(keep))
