"""Re-running t-SNE or UMAP on a subset of a map's digits, with the layout delivered as it iterates, so a class can
watch what perplexity (t-SNE) or n_neighbors and min_dist (UMAP) do.

- :class:`LayoutJob` runs one layout in a thread of the server: openTSNE with a callback every :data:`EVERY`
  iterations, or UMAP's own epoch step (``umap.layouts``) driven one epoch at a time from here; after each chunk the
  latest 2-D layout is kept (:meth:`LayoutJob.snapshot`), so a page can draw it while the run goes on. A run is
  bounded: at most :data:`MAX_SECONDS` of optimisation (then it stops with the layout it has), and it stops when the
  page that started it has not polled for :data:`HEARTBEAT_TIMEOUT` seconds (the visitor left).
- :class:`LayoutSlot` lets one run at a time per process: a second visitor is told the server is busy.
- :func:`subset` picks the digits (the same ones for the same size and seed).

The neighbours are exact (numpy, in blocks), so nothing is compiled or indexed before the first layout but UMAP's
numba functions (a few seconds the first time per server).
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np

from .projections import TSNE_FAST
from .slots import Slot

METHODS = ("tsne", "umap")
MIN_POINTS, MAX_POINTS = 2_000, 10_000
PERPLEXITY_RANGE = (5.0, 100.0)
NEIGHBOURS_RANGE = (2, 100)
MIN_DIST_RANGE = (0.0, 0.99)
MAX_SECONDS = 60.0  # optimisation time per run; the layout reached by then is the result
HEARTBEAT_TIMEOUT = 8.0  # seconds without a page poll: the visitor has gone, stop
EVERY = 10  # iterations (t-SNE) or epochs (UMAP) between two delivered layouts
TSNE_ITERS = TSNE_FAST["early_exaggeration_iter"] + TSNE_FAST["n_iter"]  # the shipped maps' settings
UMAP_EPOCHS = 200


def subset(n_total: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` of the row indices ``0 … n_total - 1``, drawn without replacement by ``seed``, sorted."""
    if not 1 <= n <= n_total:
        raise ValueError(f"subset size must be in 1..{n_total}, got {n}")
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False))


def exact_knn(x: np.ndarray, k: int, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows (itself first, at distance 0) by euclidean distance: ``(indices, distances)``,
    both ``(N, k)``, nearest first."""
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    k = min(k, n)
    sq = (x * x).sum(1)
    idx = np.empty((n, k), np.int64)
    dist = np.empty((n, k), np.float32)
    for s in range(0, n, block):
        d2 = sq[s:s + block, None] + sq[None] - 2 * x[s:s + block] @ x.T
        rows = np.arange(len(d2))
        d2[rows, rows + s] = -1.0  # itself first
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(d2, part, 1), axis=1)
        idx[s:s + block] = np.take_along_axis(part, order, 1)
        dist[s:s + block] = np.sqrt(np.maximum(np.take_along_axis(d2, idx[s:s + block], 1), 0))
    return idx, dist


@dataclass(frozen=True)
class Snapshot:
    """What a page shows of a run: the latest layout ``coords (n, 2)`` (None before the first), how far it got
    (``step`` of ``total`` iterations or epochs), ``phase`` ("neighbours", "early", "main" for t-SNE, "epochs" for
    UMAP, "done"), whether it is still ``running``, why it ``stopped`` early ("time", "left", "cancelled", or None),
    the ``error`` text if it failed, the seconds since it started."""
    coords: np.ndarray | None
    step: int
    total: int
    phase: str
    running: bool
    stopped: str | None
    error: str | None
    seconds: float
    version: int  # one more for every layout delivered


class _Stop(Exception):
    pass


class LayoutJob:
    """One t-SNE or UMAP layout of ``codes (n, d)`` (the map space: at most 50 dimensions) in a thread."""

    def __init__(self, codes: np.ndarray, method: str, *, perplexity: float = 30.0, n_neighbors: int = 15,
                 min_dist: float = 0.1, seed: int = 0, max_seconds: float = MAX_SECONDS,
                 heartbeat_timeout: float = HEARTBEAT_TIMEOUT, every: int = EVERY, labels=None, ids=None, rep: str = ""):
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {list(METHODS)}")
        codes = np.ascontiguousarray(codes, dtype=np.float32)
        if codes.ndim != 2 or len(codes) < 10:
            raise ValueError(f"codes must be (n, d) with n >= 10, got shape {codes.shape}")
        self.codes, self.method, self.seed = codes, method, int(seed)
        # what the page draws with the layout (not used here): each row's label and test-set index, the representation
        self.labels = np.zeros(len(codes), int) if labels is None else np.asarray(labels).astype(int)
        self.ids = np.arange(len(codes)) if ids is None else np.asarray(ids).astype(int)
        self.rep = rep
        self.perplexity = float(np.clip(perplexity, *PERPLEXITY_RANGE))
        self.n_neighbors = int(np.clip(n_neighbors, *NEIGHBOURS_RANGE))
        self.min_dist = float(np.clip(min_dist, *MIN_DIST_RANGE))
        self.max_seconds, self.heartbeat_timeout, self.every = float(max_seconds), float(heartbeat_timeout), int(every)
        self.total = TSNE_ITERS if method == "tsne" else UMAP_EPOCHS
        self._lock = threading.Lock()
        self._coords: np.ndarray | None = None
        self._step, self._phase, self._version = 0, "neighbours", 0
        self._stopped: str | None = None
        self._error: str | None = None
        self._cancel = threading.Event()
        self._t0 = self._t1 = None
        self._opt_t0: float | None = None
        self._beat = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"layout-{method}", daemon=True)

    # ------------------------------------------------------------------ control
    def start(self) -> LayoutJob:
        self._t0 = time.monotonic()
        self._beat = self._t0
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def heartbeat(self) -> None:
        """The page is still there (call on every poll)."""
        self._beat = time.monotonic()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def snapshot(self) -> Snapshot:
        with self._lock:
            end = self._t1 if self._t1 is not None else time.monotonic()
            return Snapshot(None if self._coords is None else self._coords.copy(), self._step, self.total, self._phase,
                            self.running and self._t1 is None, self._stopped, self._error,
                            0.0 if self._t0 is None else end - self._t0, self._version)

    # ------------------------------------------------------------------ the run
    def _why_stop(self) -> str | None:
        now = time.monotonic()
        if self._cancel.is_set():
            return "cancelled"
        if now - self._beat > self.heartbeat_timeout:
            return "left"
        if self._opt_t0 is not None and now - self._opt_t0 > self.max_seconds:
            return "time"
        return None

    def _deliver(self, coords: np.ndarray, step: int, phase: str) -> None:
        c = np.asarray(coords, dtype=np.float32)
        c = c - c.mean(0)
        with self._lock:
            self._coords, self._step, self._phase = c.copy(), int(step), phase
            self._version += 1
        self._check()

    def _check(self) -> None:
        """Raise :class:`_Stop` (the reason kept) when the run must end now."""
        why = self._why_stop()
        if why:
            with self._lock:
                self._stopped = why
            raise _Stop(why)

    def _run(self) -> None:
        try:
            (self._tsne if self.method == "tsne" else self._umap)()
            with self._lock:
                self._phase = "done"
        except _Stop:
            with self._lock:
                self._phase = "done"
        except Exception as e:  # noqa: BLE001 - reported to the page, which says what to do
            traceback.print_exc()
            with self._lock:
                self._error, self._phase = f"{type(e).__name__}: {e}", "done"
        finally:
            with self._lock:
                self._t1 = time.monotonic()

    def _tsne(self) -> None:
        from openTSNE import TSNE

        z, n = self.codes, len(self.codes)
        early = TSNE_FAST["early_exaggeration_iter"]
        calls = [0]

        def callback(iteration, error, embedding):  # every `every` iterations of each phase
            calls[0] += 1
            step = min(calls[0] * self.every, self.total)
            try:
                self._deliver(np.asarray(embedding), step, "early" if step <= early else "main")
            except _Stop:
                return True  # openTSNE stops and returns the layout it has
            return False

        self._check()
        self._opt_t0 = time.monotonic()  # openTSNE's neighbours come first; they count to the bound too
        perplexity = min(self.perplexity, (n - 1) / 3)
        big = n >= 5000
        emb = TSNE(perplexity=perplexity, n_jobs=1, random_state=self.seed, neighbors="annoy" if big else "exact",
                   negative_gradient_method="fft" if big else "bh", verbose=False, callbacks=callback,
                   callbacks_every_iters=self.every, **TSNE_FAST).fit(z)
        with self._lock:
            stopped = self._stopped
        if stopped is None:
            self._deliver(np.asarray(emb), self.total, "main")

    def _umap(self) -> None:
        """UMAP's fit (umap-learn 0.5's ``simplicial_set_embedding``) with its epoch loop here, one epoch at a time:
        the fuzzy graph from exact neighbours, a PCA start, the epochs' learning rate falling linearly to 0."""
        import scipy.sparse
        from umap.layouts import _get_optimize_layout_euclidean_single_epoch_fn
        from umap.umap_ import find_ab_params, fuzzy_simplicial_set, make_epochs_per_sample

        z, n = self.codes, len(self.codes)
        k = min(self.n_neighbors, n - 1)
        self._check()
        knn_idx, knn_dist = exact_knn(z, k)
        self._check()
        rs = np.random.RandomState(self.seed)
        graph, _, _ = fuzzy_simplicial_set(z, k, rs, "euclidean", knn_indices=knn_idx, knn_dists=knn_dist)
        graph = scipy.sparse.coo_matrix(graph)
        graph.sum_duplicates()
        n_epochs = self.total
        graph.data[graph.data < graph.data.max() / float(n_epochs)] = 0.0
        graph.eliminate_zeros()
        a, b = find_ab_params(1.0, self.min_dist)
        # start: the first two principal components, scaled to [0, 10] as umap-learn scales its start
        zc = z - z.mean(0)
        _, _, vt = np.linalg.svd(zc[: min(n, 5000)], full_matrices=False)
        emb = zc @ vt[:2].T
        emb = emb + rs.normal(scale=1e-4 * np.abs(emb).max(), size=emb.shape)
        emb = (10.0 * (emb - emb.min(0)) / (emb.max(0) - emb.min(0))).astype(np.float32, order="C")
        epochs_per_sample = make_epochs_per_sample(graph.data, n_epochs)
        head, tail = graph.row.astype(np.int32), graph.col.astype(np.int32)
        rng_state = rs.randint(np.iinfo(np.int32).min + 1, np.iinfo(np.int32).max - 1, 3).astype(np.int64)
        rng_per_sample = np.full((n, len(rng_state)), rng_state, dtype=np.int64) + \
            emb[:, 0].astype(np.float64).view(np.int64).reshape(-1, 1)
        epochs_per_negative_sample = epochs_per_sample / 5.0  # negative_sample_rate 5
        next_negative = epochs_per_negative_sample.copy()
        next_sample = epochs_per_sample.copy()
        step_fn = _get_optimize_layout_euclidean_single_epoch_fn(False)
        zeros = np.zeros(1, dtype=np.float32)
        self._deliver(emb, 0, "epochs")
        self._opt_t0 = time.monotonic()
        alpha = 1.0
        for epoch in range(n_epochs):
            step_fn(emb, emb, head, tail, n, epochs_per_sample, a, b, rng_per_sample, 1.0, 2, True, alpha,
                    epochs_per_negative_sample, next_negative, next_sample, epoch, False, zeros, zeros, 0, 0, 0, 0,
                    zeros, zeros, 0)
            alpha = 1.0 - epoch / n_epochs
            if (epoch + 1) % self.every == 0 or epoch + 1 == n_epochs:
                self._deliver(emb, epoch + 1, "epochs")


class LayoutSlot(Slot[LayoutJob]):
    """One layout run at a time per process: :meth:`claim` refuses a new job while another is running."""
