"""Train live: a training run of a small model in a thread of the server, with progress, per-batch losses,
snapshots after every epoch and cancellation (:class:`TrainJob`), one at a time per process
(:class:`TrainSlot`). It trains a fresh copy; the shipped weights are never touched.
"""
from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import catalogue
from ..codes import device_of
from ..images import tile
from ..models import REGISTRY, build
from ..sampling import gan_samples
from ..slots import Slot
from .loop import fit

TRAINABLE = catalogue.LIVE_RECIPES  # the small models the Train-live page may train (rep_models.catalogue)
MAX_EPOCHS = 20
MAX_SAMPLES = 10_000
HEARTBEAT_TIMEOUT = 8.0  # seconds without a page poll: the session is gone, stop training
SMOOTHING = 9  # batches in the loss chart's moving average


@dataclass
class TrainState:
    """A snapshot of a :class:`TrainJob` for display."""

    name: str
    status: str  # "running", "done", "cancelled" or "failed"
    epochs: int
    samples: int
    batches_done: int
    batches_total: int
    losses: list[tuple[int, str, float]]  # (batch, series, training loss) per batch
    records: list[dict]  # one per finished epoch (from train.fit)
    snapshot: np.ndarray | None  # (H, W) reconstructions or samples after the last epoch
    seconds: float
    message: str = ""
    adversarial: bool = False  # a GAN: its losses are a game's score, not a quality to plot on a log scale

    @property
    def progress(self) -> float:
        return min(1.0, self.batches_done / max(1, self.batches_total))

    def loss_curves(self, window: int = SMOOTHING) -> dict[str, LossCurve]:
        """Each series' per-batch losses and their moving average over ``window`` batches (the trend behind
        batch noise; the raw values while there are too few batches for one)."""
        series: dict[str, tuple[list[int], list[float]]] = {}
        for b, name, v in self.losses:
            xs, ys = series.setdefault(name, ([], []))
            xs.append(b)
            ys.append(v)
        out = {}
        for name, (xs, ys) in series.items():
            x, y = np.asarray(xs), np.asarray(ys, dtype=np.float64)
            smooth = np.convolve(y, np.ones(window) / window, mode="valid") if len(y) > 2 * window + 2 else y
            out[name] = LossCurve(x, y, x[len(x) - len(smooth):], smooth)
        return out

    def held_out(self) -> list[tuple[float, float]]:
        """``(batch, held-out loss)`` after each finished epoch, at the batch where the epoch ended; none for a
        GAN (its held-out loss says nothing about its samples)."""
        if self.adversarial:
            return []
        per_epoch = self.batches_total / self.epochs
        return [(r["epoch"] * per_epoch, r["val_loss"]) for r in self.records if r.get("val_loss") is not None]


@dataclass
class LossCurve:
    """One loss series of a :class:`TrainState`: per batch ``(n,)`` and its moving average ``(m,)``, m <= n."""

    batches: np.ndarray
    losses: np.ndarray
    smooth_batches: np.ndarray
    smooth: np.ndarray


@dataclass
class TrainJob:
    """Train a fresh copy of a small model in a background thread, never touching the shipped weights.

    ``x (N,1,28,28)``, ``y (N,)`` is the training data; ``val`` a few held-out ``(x, y)`` for the epoch records
    and the snapshots. The job stops early when :meth:`cancel` is called or when nobody has called
    :meth:`heartbeat` for ``heartbeat_timeout`` seconds (the browser tab was closed).
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    val: tuple[torch.Tensor, torch.Tensor]
    epochs: int = 3
    batch_size: int = 128
    seed: int = 0
    device: str | torch.device = "cpu"
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT
    owner: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.name not in TRAINABLE:
            raise ValueError(f"cannot train {self.name!r} live; expected one of {sorted(TRAINABLE)}")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be in 1..{MAX_EPOCHS}, got {self.epochs}")
        if not 1 <= len(self.x) <= MAX_SAMPLES or len(self.x) != len(self.y):
            raise ValueError(f"need 1..{MAX_SAMPLES} training images with as many labels, got {len(self.x)} and {len(self.y)}")
        self._batches = 0
        self._losses: list[tuple[int, str, float]] = []
        self._records: list[dict] = []
        self._snapshot: np.ndarray | None = None
        self._status = "running"
        self._message = ""
        self._t0 = time.time()
        self._t1: float | None = None
        self._seen = time.time()
        self.batches_total = self.epochs * math.ceil(len(self.x) / self.batch_size)
        self.model = None
        self.adversarial = REGISTRY[TRAINABLE[self.name].model].family == "gan"

    # -- control
    def start(self) -> TrainJob:
        self._thread = threading.Thread(target=self._run, name=f"train-live-{self.name}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def heartbeat(self) -> None:
        self._seen = time.time()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def should_stop(self) -> bool:
        # fit() polls this after every batch and after every epoch: it must not count batches.
        if time.time() - self._seen > self.heartbeat_timeout:
            with self._lock:
                self._message = "stopped: the page that started it was closed"
            self._cancel.set()
        return self._cancel.is_set()

    def _batch_done(self) -> None:
        with self._lock:
            self._batches += 1

    def state(self) -> TrainState:
        with self._lock:
            return TrainState(self.name, self._status, self.epochs, len(self.x), min(self._batches, self.batches_total), self.batches_total,
                              list(self._losses), list(self._records), self._snapshot,
                              (self._t1 or time.time()) - self._t0, self._message, self.adversarial)

    # -- the work
    def _tap(self, model, method: str, series: str) -> None:
        """Record each training batch's loss by wrapping one loss method of this session's copy of the model
        (``fit`` reports only per epoch; a live chart wants every batch)."""
        orig = getattr(model, method)

        def tapped(batch):
            out = orig(batch)
            if model.training:
                with self._lock:
                    self._losses.append((self._batches, series, float(out["loss"].detach())))
            return out

        setattr(model, method, tapped)

    @torch.inference_mode()
    def _make_snapshot(self, model) -> np.ndarray:
        was_training = model.training
        model.eval()
        try:
            if model.family == "gan":
                img = tile(gan_samples(model, 32, seed=0), ncols=8)
            else:
                xv = self.val[0][:8].to(device_of(model))
                rec = model.reconstruct(xv).float().clamp(0, 1).cpu().numpy()[:, 0]
                rows = [xv.cpu().numpy()[:, 0], rec]
                if model.family == "vae":
                    rows.append(model.sample(8, seed=0).float().cpu().numpy()[:, 0])
                img = tile(np.concatenate(rows), ncols=8)
        finally:
            model.train(was_training)
        return img

    def _on_epoch(self, record: dict) -> None:
        snap = self._make_snapshot(self.model)
        with self._lock:
            self._records.append(record)
            self._snapshot = snap

    def _run(self) -> None:
        try:
            recipe = TRAINABLE[self.name]
            # Initial weights from the process's generator, without reseeding it: a seed here would reset the stream
            # every other request of the server draws from. ``seed`` fixes the batches and the model's noise (fit).
            model = build(recipe.model, **recipe.config).to(self.device)
            if model.trainer == "gan":
                self._tap(model, "discriminator_loss", "discriminator")
                self._tap(model, "generator_loss", "generator")
            else:
                self._tap(model, "loss", "training loss")
            snap = self._make_snapshot(model)  # the untrained model: noise
            with self._lock:
                self.model, self._snapshot = model, snap
            fit(model, self.x, self.y, epochs=self.epochs, batch_size=self.batch_size, lr=recipe.lr, seed=self.seed,
                device=self.device, val=self.val, on_epoch=self._on_epoch, should_stop=self.should_stop,
                on_batch_end=self._batch_done)
            with self._lock:
                self._status = "cancelled" if self._cancel.is_set() else "done"
                self._message = self._message or ("stopped" if self._cancel.is_set() else "")
        except Exception as e:  # noqa: BLE001 - report in the page, never kill the server
            with self._lock:
                self._status = "failed"
                self._message = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            with self._lock:
                self._t1 = time.time()


class TrainSlot(Slot[TrainJob]):
    """One training at a time per process: :meth:`claim` refuses a new job while another is running."""
