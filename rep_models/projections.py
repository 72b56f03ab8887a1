"""2-D maps of the MNIST test set (raw pixels and every encoder's codes) by PCA, t-SNE and UMAP, shipped as
small ``.npz`` files so the map page opens instantly, and placement of a NEW code into a shipped map.

Files in ``pretrained/`` (all ``.npz``, no pickle):

- ``proj_<rep>_<method>.npz``: ``coords`` ``(N, 2)`` float16 (plenty for a scatter plot; half the bytes,
  read back as float32), ``labels`` ``(N,)`` uint8, ``indices`` ``(N,)``
  int32 (rows of the MNIST test set), ``seed``; the PCA map also holds its ``mean`` ``(d,)`` and
  ``components`` ``(2, d)``.
- ``proj_<rep>_ref.npz``: what t-SNE and UMAP were fitted on and what placing needs: ``ref`` ``(N, m)``
  float16 reference codes in the "map space" and the linear reduction into it (``mean`` ``(d,)``,
  ``components`` ``(m, d)``; codes wider than ``MAP_DIM``, e.g. raw pixels, are first reduced to their
  top ``MAP_DIM`` principal components, the usual preprocessing for t-SNE and UMAP; narrower codes are
  used as they are and ``components`` is empty).

Placing a new point (``place``), chosen to need no pickle and to answer in well under 300 ms:

- PCA: the exact linear projection.
- t-SNE: what openTSNE's ``TSNEEmbedding.transform`` starts from (``prepare_partial(initialization=
  "median")``): the median 2-D position of the new code's ``TSNE_K`` = 25 nearest reference codes, in plain
  numpy. openTSNE's optimisation after it (250 iterations by default) took 1-3 s per point on this 2-core
  CPU and needs the embedding rebuilt from the stored coords and an exact-kNN ``PerplexityBasedNN`` on the
  stored codes (2 s idle, over a minute on a busy machine); ``Placer(...)(code, n_iter=N)`` still does that
  (the rebuild once, lazily) for anyone who wants the refined position.
- UMAP: umap-learn's ``transform`` needs the fitted ``UMAP`` object, which can only be stored by pickle,
  so we do what its ``transform`` does to initialise a new point: the mean of its ``UMAP_K`` nearest
  reference points' 2-D positions, weighted by UMAP's fuzzy membership exp(-(d - rho) / sigma) with
  sigma set so the weights sum to log2(k) (``umap.umap_.smooth_knn_dist``), here in plain numpy. We skip
  umap's few epochs of refinement: the map does not change and the point lands among its neighbours.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from . import pca
from .catalogue import ENCODERS
from .checkpoint import PRETRAINED_DIR

REPS = ["pixels", *ENCODERS]
METHODS = ("pca", "tsne", "umap")
MAP_DIM = 50  # codes wider than this are reduced to this many principal components for t-SNE / UMAP
TSNE_PERPLEXITY = 30.0
TSNE_K = 25  # openTSNE transform's k for the median initialisation
UMAP_K = 15  # umap-learn's default n_neighbors, used for fitting and for placing
# The fastest settings whose 10-NN accuracy in 2-D is at least the library defaults' (measured side by side
# by ``python -m bench.projections --explore 70000``; figures in bench/RESULTS.md). Everything else is the
# libraries' defaults. openTSNE: half the iterations (the map of 10k-70k codes settles well before 500)
# with its fast path above 5,000 points (Annoy neighbours, FFT-interpolated gradients). UMAP: 100 epochs
# instead of the 200 it uses above 10,000 points, from its default spectral start (a PCA start saves about
# 4 s at 70k but costs about 0.0005 of 10-NN accuracy, which puts it just below the defaults).
TSNE_FAST = dict(early_exaggeration_iter=125, n_iter=250)
UMAP_FAST = dict(n_epochs=100)


def _check(rep: str, method: str) -> None:
    if rep not in REPS:
        raise ValueError(f"unknown representation {rep!r}; expected one of {REPS}")
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; expected one of {list(METHODS)}")


def _dir(directory) -> Path:
    return Path(directory) if directory is not None else PRETRAINED_DIR


def path_for(rep: str, method: str, directory=None) -> Path:
    """Where ``proj_<rep>_<method>.npz`` lives (``method`` may also be ``ref``)."""
    return _dir(directory) / f"proj_{rep}_{method}.npz"


# ------------------------------------------------------------------------------------- representations

@functools.lru_cache(maxsize=None)
def _model(rep: str):
    from .checkpoint import load_pretrained

    return load_pretrained(rep)


@torch.inference_mode()
def codes_for(rep: str, x: torch.Tensor, model=None, batch_size: int = 1000) -> np.ndarray:
    """Images ``(B,1,28,28)`` in [0, 1] -> their representation ``(B, d)`` float32: raw pixels flattened
    (d = 784) or the named encoder's code (``model`` if given, else the shipped one)."""
    if rep == "pixels":
        return x.reshape(len(x), -1).float().cpu().numpy()
    if rep not in REPS:
        raise ValueError(f"unknown representation {rep!r}; expected one of {REPS}")
    model = model if model is not None else _model(rep)
    dev = next(model.parameters()).device
    return torch.cat([model.encode(x[i : i + batch_size].to(dev)).flatten(1).float().cpu() for i in range(0, len(x), batch_size)]).numpy()


def map_space(codes: np.ndarray, dim: int = MAP_DIM) -> tuple[np.ndarray, np.ndarray]:
    """The linear reduction t-SNE and UMAP work in: ``mean`` ``(d,)`` and ``components`` ``(m, d)`` of the
    top ``dim`` principal directions when ``d > dim``, else an empty ``(0, d)`` (use the codes as they are)."""
    codes = np.asarray(codes, dtype=np.float32)
    d = codes.shape[1]
    if d <= dim:
        return np.zeros(d, np.float32), np.zeros((0, d), np.float32)
    p = pca.fit(codes, dim)
    return p.mean.astype(np.float32), p.components.astype(np.float32)


def to_map_space(codes: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """``(B, d)`` codes -> ``(B, m)`` in the map space (identity when ``components`` is empty)."""
    codes = np.asarray(codes, dtype=np.float32).reshape(-1, len(mean))
    return codes if len(components) == 0 else (codes - mean) @ components.T


# --------------------------------------------------------------------------------------------- fitting

def compute_projection(codes: np.ndarray, method: str, seed: int = 0, n_jobs: int = 2, fast: bool = True) -> np.ndarray:
    """2-D coordinates ``(N, 2)`` float32 of ``codes`` ``(N, d)`` by ``pca``, ``tsne`` (openTSNE, FFT
    gradients and Annoy neighbours from 5,000 points: its fast path) or ``umap`` (umap-learn,
    ``random_state=seed``); with ``fast`` the settings :data:`TSNE_FAST` / :data:`UMAP_FAST`, else the
    libraries' defaults. t-SNE and UMAP run in the map space (see :func:`map_space`)."""
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; expected one of {list(METHODS)}")
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or len(codes) < 3:
        raise ValueError(f"codes must be (N, d) with N >= 3, got shape {codes.shape}")
    if method == "pca":
        return _pca2(codes)[0]
    z = to_map_space(codes, *map_space(codes))
    if method == "tsne":
        from openTSNE import TSNE

        perplexity = min(TSNE_PERPLEXITY, (len(z) - 1) / 3)
        # openTSNE's fast path at this size: Annoy neighbours and FFT-interpolated gradients; Barnes-Hut is
        # quicker for a few thousand points (FFT's grid cost is fixed per iteration).
        big = len(z) >= 5000
        emb = TSNE(perplexity=perplexity, n_jobs=n_jobs, random_state=seed, neighbors="annoy" if big else "exact",
                   negative_gradient_method="fft" if big else "bh", verbose=False, **(TSNE_FAST if fast else {})).fit(z)
        return np.asarray(emb, dtype=np.float32)
    import umap  # slow import (numba), so only here

    # n_jobs=1: a fixed random_state makes umap-learn single-threaded anyway (and say so in a warning)
    reducer = umap.UMAP(n_neighbors=min(UMAP_K, len(z) - 1), random_state=seed, n_jobs=1, **(UMAP_FAST if fast else {}))
    return reducer.fit_transform(z).astype(np.float32)


def _pca2(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """coords ``(N, 2)``, mean ``(d,)``, components ``(2, d)`` of a 2-component PCA (``rep_models.pca``: the signs,
    and so the map's orientation, are those scikit-learn's PCA gave the shipped maps)."""
    p = pca.fit(codes, 2)
    mean, comps = p.mean.astype(np.float32), p.components.astype(np.float32)
    return ((codes - mean) @ comps.T).astype(np.float32), mean, comps


def save_projection(rep: str, method: str, coords, labels, indices=None, directory=None, **extra) -> Path:
    """Write ``proj_<rep>_<method>.npz`` (see the module docstring for the contents)."""
    _check(rep, method)
    coords = np.asarray(coords, dtype=np.float32)
    labels = np.asarray(labels)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(labels) != len(coords):
        raise ValueError(f"coords must be (N, 2) with one label per row, got {coords.shape} and {labels.shape}")
    indices = np.arange(len(coords)) if indices is None else np.asarray(indices)
    path = path_for(rep, method, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, coords=coords.astype(np.float16), labels=labels.astype(np.uint8), indices=indices.astype(np.int32),
                        **{k: np.asarray(v) for k, v in extra.items()})
    return path


def save_reference(rep: str, codes: np.ndarray, indices=None, directory=None) -> Path:
    """Write ``proj_<rep>_ref.npz``: the map-space reference codes (float16) and the reduction into it."""
    mean, comps = map_space(codes)
    ref = to_map_space(codes, mean, comps).astype(np.float16)
    indices = np.arange(len(ref)) if indices is None else np.asarray(indices)
    path = path_for(rep, "ref", directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, ref=ref, mean=mean, components=comps, indices=indices.astype(np.int32))
    return path


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: projection file not found; run `python -m rep_models.evaluate --projections`")
    with np.load(path, allow_pickle=False) as f:  # never unpickle
        return {k: f[k] for k in f.files}


def load_projection(rep: str, method: str, directory=None) -> dict[str, np.ndarray]:
    """The stored map: ``coords`` ``(N, 2)``, ``labels`` ``(N,)``, ``indices`` ``(N,)`` (+ PCA's ``mean``
    and ``components``)."""
    _check(rep, method)
    proj = _load_npz(path_for(rep, method, directory))
    proj["coords"] = proj["coords"].astype(np.float32)
    return proj


def load_reference(rep: str, directory=None) -> dict[str, np.ndarray]:
    return _load_npz(path_for(rep, "ref", directory))


def compute_and_save(rep: str, codes: np.ndarray, labels, methods=METHODS, indices=None, directory=None,
                     seed: int = 0, n_jobs: int = 2) -> dict[str, dict]:
    """Fit every map of one representation, save the files and return ``{method: quality dict + seconds}``."""
    import time

    codes = np.asarray(codes, dtype=np.float32)
    out = {}
    if any(m != "pca" for m in methods):
        save_reference(rep, codes, indices, directory)
    for method in methods:
        t = time.perf_counter()
        if method == "pca":
            coords, mean, comps = _pca2(codes)
            extra = {"mean": mean, "components": comps}
        else:
            coords, extra = compute_projection(codes, method, seed=seed, n_jobs=n_jobs), {}
        seconds = time.perf_counter() - t
        save_projection(rep, method, coords, labels, indices, directory, seed=seed, fit_seconds=seconds, **extra)
        out[method] = {**quality(coords, labels, codes), "fit_seconds": round(seconds, 2)}
    return out


# ------------------------------------------------------------------------------------------- placement

def _knn(ref: np.ndarray, sq_norms: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest reference rows of one query ``(m,)``: indices and Euclidean distances, ascending."""
    d2 = np.maximum(sq_norms - 2 * ref @ q + q @ q, 0)
    idx = np.argpartition(d2, k)[:k]
    idx = idx[np.argsort(d2[idx])]
    return idx, np.sqrt(d2[idx])


def umap_weights(dist: np.ndarray, n_iter: int = 64) -> np.ndarray:
    """UMAP's fuzzy membership of a point to its k neighbours at ``dist`` ``(k,)`` (ascending):
    exp(-(d - rho) / sigma), rho = nearest distance, sigma by bisection so the weights sum to log2(k)."""
    k = len(dist)
    rho = dist[0]
    target = np.log2(k)
    lo, hi, sigma = 0.0, np.inf, 1.0
    for _ in range(n_iter):
        s = np.exp(-np.maximum(dist - rho, 0) / sigma).sum()
        if abs(s - target) < 1e-5:
            break
        if s > target:
            hi = sigma
            sigma = (lo + hi) / 2
        else:
            lo = sigma
            sigma = sigma * 2 if hi == np.inf else (lo + hi) / 2
    return np.exp(-np.maximum(dist - rho, 0) / sigma)


class Placer:
    """Places new codes ``(d,)`` into one shipped map; build once per process (see :func:`placer`)."""

    def __init__(self, rep: str, method: str, directory=None):
        _check(rep, method)
        self.rep, self.method = rep, method
        proj = load_projection(rep, method, directory)
        self.coords = proj["coords"].astype(np.float64)
        if method == "pca":
            self.mean, self.components = proj["mean"], proj["components"]
            return
        refs = load_reference(rep, directory)
        self.mean, self.components = refs["mean"], refs["components"]
        self.ref = refs["ref"].astype(np.float32)
        self.sq_norms = (self.ref.astype(np.float64) ** 2).sum(1)
        if len(self.ref) != len(self.coords):
            raise ValueError(f"{rep}/{method}: the map has {len(self.coords)} points but the reference {len(self.ref)}")
        self.embedding = None  # openTSNE's, built on the first refined t-SNE placement

    def _tsne_embedding(self):
        if self.embedding is None:
            from openTSNE import TSNEEmbedding, affinity

            perplexity = min(TSNE_PERPLEXITY, (len(self.ref) - 1) / 3)
            aff = affinity.PerplexityBasedNN(self.ref, perplexity=perplexity, method="exact", n_jobs=1, random_state=0)
            self.embedding = TSNEEmbedding(self.coords, aff, random_state=0)
        return self.embedding

    def __call__(self, code, n_iter: int = 0) -> np.ndarray:
        """``code`` ``(d,)`` (or ``(1, d)``) in the representation's space -> map position ``(2,)``.
        ``n_iter`` > 0 refines a t-SNE placement with openTSNE's ``transform`` (slow; see the module doc)."""
        code = np.asarray(code, dtype=np.float32).reshape(-1)
        if code.shape[0] != len(self.mean):
            raise ValueError(f"{self.rep} codes have {len(self.mean)} values, got {code.shape[0]}")
        if not np.isfinite(code).all():
            raise ValueError("the code contains NaN or inf")
        if self.method == "pca":
            return ((code - self.mean) @ self.components.T).astype(np.float32)
        z = to_map_space(code[None], self.mean, self.components)[0]
        if self.method == "tsne":
            idx, _ = _knn(self.ref, self.sq_norms, z, min(TSNE_K, len(self.ref) - 1))
            pos = np.median(self.coords[idx], axis=0)
            if n_iter > 0:
                pos = np.asarray(self._tsne_embedding().transform(z[None], initialization=pos[None], n_iter=n_iter))[0]
            return pos.astype(np.float32)
        idx, dist = _knn(self.ref, self.sq_norms, z, min(UMAP_K, len(self.ref) - 1))
        w = umap_weights(dist)
        return (w @ self.coords[idx] / w.sum()).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _placer(rep: str, method: str, directory: str) -> Placer:
    return Placer(rep, method, directory)


def placer(rep: str, method: str, directory=None) -> Placer:
    """The cached :class:`Placer` of a shipped map (built on first use: reads two small files)."""
    return _placer(rep, method, str(_dir(directory)))


def place(rep: str, method: str, new_code, directory=None) -> np.ndarray:
    """Position ``(2,)`` of a new code ``(d,)`` (from :func:`codes_for`) in the shipped ``rep``/``method`` map."""
    return placer(rep, method, directory)(new_code)


# ---------------------------------------------------------------------------------------------- quality

def quality(coords, labels, codes, k: int = 10) -> dict[str, float]:
    """How good a map is: leave-one-out ``k``-NN label accuracy in 2-D and trustworthiness (k neighbours)
    of ``coords`` ``(N, 2)`` with respect to ``codes`` ``(N, d)``."""
    from .metrics import knn_accuracy, trustworthiness

    return {"knn10_accuracy": knn_accuracy(coords, labels, k), "trustworthiness": trustworthiness(codes, coords, k)}
