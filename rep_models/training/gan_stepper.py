"""A GAN trained one step at a time, so its game can be watched: Train live's "Step a GAN".

    g = GanStepper("dcgan", x)             # x (N, 1, 28, 28) training digits in [0, 1]
    g.step("discriminator")                # or "generator", or "both"; n=10 for ten at once
    g.history[-1]                          # StepRecord: which player moved, losses, D's mean score on real and fake
    g.histogram(classifier)                # what digits the generator draws now, and its KL divergence to uniform
    g.samples(32)                          # (32, 28, 28) from the same 32 latents every time

The update is the zoo's own (``discriminator_loss`` then ``generator_loss`` of the GAN family, Adam with
β1 = 0.5 as in pytorch/examples' dcgan), split so either player can move alone: step the discriminator only
and its scores on real and generated digits pull apart; step the generator only and it fools a fixed judge;
both, and the game goes on. D's scores are measured after each step on a fixed probe (the same 64 real digits
and 64 latents), so the curve moves because the players moved, not because the batch changed. The model's
noise comes from a generator of its own (``noise_generator``): stepping never touches the process's random
stream. Bounded: :data:`MAX_STEPS_PER_CALL` per call, :data:`MAX_STEPS` in all; :data:`SERVER_SLOT` lets one
session step at a time on a server.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

from .. import catalogue
from ..models import REGISTRY, build
from ..models.base import noise_generator, seeded_normal
from ..sampling import class_histogram
from .optim import Optimisers
from .steps import param_groups

PLAYERS = ("discriminator", "generator", "both")
MAX_STEPS_PER_CALL = 20
MAX_SECONDS_PER_CALL = 3.0  # a click returns within about this long, however busy the CPU (fewer steps then)
MAX_STEPS = 5000
PROBE = 64  # real digits and latents D's scores are measured on (a step costs about twice a bare one)
SAMPLE_SEED = 1234  # the latents of the sample grid and of the histogram
SERVER_SLOT = threading.BoundedSemaphore(1)  # one session steps at a time per server process


@dataclass
class StepRecord:
    """One step: its number (1-based), who moved, their losses on the step's batch (None for the one that did not
    move), and the discriminator's mean probability of "real" on the probe's real and generated digits after it."""

    step: int
    player: str
    d_loss: float | None
    g_loss: float | None
    d_real: float
    d_fake: float


def gan_recipes() -> list[str]:
    """The Train live recipes that are GANs (``catalogue.LIVE_RECIPES``)."""
    return [n for n, r in catalogue.LIVE_RECIPES.items() if REGISTRY[r.model].family == "gan"]


class GanStepper:
    """A fresh copy of a Train live GAN recipe (``name``) and its two optimisers, stepped on demand.

    ``x`` ``(N, 1, 28, 28)`` in [0, 1]: the training digits (batches of ``batch_size`` drawn from them);
    ``seed`` fixes the batches and the model's noise (the initial weights come from the process's generator, which
    is not reseeded)."""

    def __init__(self, name: str, x: torch.Tensor, seed: int = 0, batch_size: int = 32, device: str | torch.device = "cpu"):
        if name not in gan_recipes():
            raise ValueError(f"cannot step {name!r}: expected one of the GAN recipes {gan_recipes()}")
        x = torch.as_tensor(x, dtype=torch.float32)
        if x.dim() != 4 or x.shape[1:] != (1, 28, 28) or len(x) < batch_size:
            raise ValueError(f"x must be (N, 1, 28, 28) with N >= batch_size={batch_size}, got {tuple(x.shape)}")
        recipe = catalogue.LIVE_RECIPES[name]
        self.name, self.batch_size, self.device = name, batch_size, torch.device(device)
        self.x = x
        self.model = build(recipe.model, **recipe.config).to(self.device).train()
        # The trainer's own optimisers for a GAN: Adam with beta1 = 0.5, the discriminator's first, no schedule.
        self.optim = Optimisers(param_groups(self.model, "gan"), recipe.lr, total_steps=0, gan=True, schedule="constant")
        self._rng = np.random.default_rng(seed)
        self._noise = torch.Generator().manual_seed(seed)
        probe = self._rng.choice(len(x), size=min(PROBE, len(x)), replace=False)
        self._probe_real = x[probe].to(self.device) * 2 - 1
        self._probe_z = seeded_normal((len(probe), self.model.config.z_dim), seed + 1, device=self.device)
        self.history: list[StepRecord] = []
        self._lock = threading.Lock()  # one call at a time on this model (a page's reruns may overlap)

    @property
    def steps(self) -> int:
        return len(self.history)

    def step(self, player: str = "both", n: int = 1) -> list[StepRecord]:
        """Move ``player`` ("discriminator", "generator" or "both": D then G, as in training) ``n`` times
        (1..:data:`MAX_STEPS_PER_CALL`, no more than :data:`MAX_STEPS` in all), stopping early after
        :data:`MAX_SECONDS_PER_CALL`: the new records."""
        if player not in PLAYERS:
            raise ValueError(f"player must be one of {PLAYERS}, got {player!r}")
        if not 1 <= n <= MAX_STEPS_PER_CALL:
            raise ValueError(f"n must be in 1..{MAX_STEPS_PER_CALL}, got {n}")
        with self._lock:
            n = min(n, MAX_STEPS - self.steps)
            out = []
            t0 = time.monotonic()
            with noise_generator(self._noise):
                for i in range(n):
                    out.append(self._one(player, self.steps + i + 1))
                    if time.monotonic() - t0 > MAX_SECONDS_PER_CALL:
                        break
            self.history.extend(out)
            return out

    def _one(self, player: str, number: int) -> StepRecord:
        m = self.model
        m.train()
        idx = torch.from_numpy(self._rng.choice(len(self.x), size=self.batch_size, replace=False))
        batch = (self.x[idx].to(self.device), torch.zeros(self.batch_size, dtype=torch.long, device=self.device))
        d_loss = g_loss = None
        if player in ("discriminator", "both"):
            d = m.discriminator_loss(batch)
            self.optim.step(d["loss"], 0)
            d_loss = float(d["d_loss"])
        if player in ("generator", "both"):
            g = m.generator_loss(batch)
            self.optim.step(g["loss"], 1)
            g_loss = float(g["g_loss"])
        d_real, d_fake = self.scores()
        return StepRecord(number, player, d_loss, g_loss, d_real, d_fake)

    @torch.no_grad()
    def scores(self) -> tuple[float, float]:
        """The discriminator's mean probability of "real" on the probe's real digits and on the generator's
        digits from the probe's latents, now: as the losses see them (training mode, batch statistics), with the
        batch norms' running statistics put back afterwards, so a player that did not move scores the same."""
        m = self.model
        kept = {k: b.clone() for k, b in m.named_buffers()}
        was = m.training
        m.train()
        try:
            real = torch.sigmoid(m.discriminate(self._probe_real)).mean()
            fake = torch.sigmoid(m.discriminate(m.generate(self._probe_z))).mean()
        finally:
            for k, b in m.named_buffers():
                b.copy_(kept[k])
            m.train(was)
        return float(real), float(fake)

    @torch.no_grad()
    def samples(self, n: int = 32) -> np.ndarray:
        """``(n, 28, 28)`` in [0, 1] from the same ``n`` latents after every step (seed :data:`SAMPLE_SEED`)."""
        m = self.model
        was = m.training
        m.eval()
        try:
            return m.sample(n, seed=SAMPLE_SEED).float().clamp(0, 1).cpu().numpy()[:, 0]
        finally:
            m.train(was)

    def histogram(self, classifier, n: int = 500) -> dict:
        """What the generator draws now, read by ``classifier``: ``counts`` (10,), ``shares`` (10,), the KL divergence
        of the shares from uniform (nats; 0 when every digit is a tenth, ln 10 = 2.30 when one digit is all),
        and the mean top-class probability. Mode collapse shows as the KL rising."""
        counts, confidence = class_histogram(classifier, self.samples(n))
        return {"counts": counts, "shares": counts / counts.sum(), "kl_to_uniform": kl_to_uniform(counts),
                "mean_top_prob": float(confidence)}


def kl_to_uniform(counts) -> float:
    """KL(p || uniform) of the class shares ``counts`` ``(K,)`` (nats): sum p log(K p); empty classes add 0."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.sum() <= 0:
        raise ValueError(f"counts must be a non-empty (K,) array with a positive sum, got {c!r}")
    p = c / c.sum()
    nz = p[p > 0]
    return float((nz * np.log(len(c) * nz)).sum())
