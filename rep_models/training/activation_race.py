"""Hidden activations compared live: Train live's "Compare activations". Two to four copies of the same small
network, differing only in their hidden activation, trained side by side on the same batches from the same start.

    race = ActivationRace(["relu", "sigmoid"], x, y, preset="large")   # x (N, 1, 28, 28) in [0, 1], y (N,) digits
    race.step(50)                                                       # 50 steps of every copy
    race.history["relu"][-1]                                           # RaceRecord: loss, dead share, gradient norms
    race.verdicts()                                                    # what the run says of the seeds' claims

The network is an MLP classifier, 784 -> 128 -> 128 -> 128 -> 10, trained with plain SGD (one learning rate for all,
no momentum, so the rate alone decides what happens); its weights start the same for every copy (the same seed).
A hidden unit is **dead** on a batch when its activation's slope at its input is below :data:`DEAD_SLOPE` for every
digit in it: it passes (almost) no gradient back, so it cannot learn its way out. For ReLU that is an input at most 0
for every digit (the "dying ReLU"); for sigmoid and tanh, saturation at one end; Leaky ReLU never dies this way. The share is measured after each step on a
fixed probe of digits (:data:`PROBE`). The gradient norm of each layer is that of its weight matrix, on the step's
batch. Bounded like the other live tools: :data:`MAX_STEPS_PER_CALL` steps or :data:`MAX_SECONDS_PER_CALL` per call,
:data:`MAX_STEPS` in all, one race stepping at a time per server (:data:`SERVER_SLOT`).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "prelu": nn.PReLU, "elu": nn.ELU, "selu": nn.SELU, "softplus": nn.Softplus,
}
# Learning rates of plain SGD. "large": about where the seeds warn that ReLU units die (many of them do here).
PRESETS = {"normal": 0.05, "large": 1.0}
HIDDEN = (128, 128, 128)
BATCH = 64
PROBE = 512  # digits the dead-unit share is measured on
DEAD_SLOPE = 1e-3  # below this slope a unit passes no useful gradient (sigmoid: inputs beyond about ±6.9)
DIED = 0.1  # the claim "many ReLU units die" holds when at least this share of them is dead
MIN_COPIES, MAX_COPIES = 2, 4
MAX_STEPS_PER_CALL = 100
MAX_SECONDS_PER_CALL = 3.0
MAX_STEPS = 3000
SERVER_SLOT = threading.BoundedSemaphore(1)


@dataclass
class RaceRecord:
    """One step of one copy: its number (1-based), the loss on the step's batch, the share of dead units in each
    hidden layer on the probe after the step, and each layer's weight-gradient norm on the step."""

    step: int
    loss: float
    dead: list[float]
    grad_norms: list[float]


class RaceNet(nn.Module):
    """``(B, 1, 28, 28)`` -> logits ``(B, 10)``: Linear layers of :data:`HIDDEN` units with ``activation`` between."""

    def __init__(self, activation: str, hidden=HIDDEN):
        super().__init__()
        sizes = [784, *hidden, 10]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.acts = nn.ModuleList(ACTIVATIONS[activation]() for _ in hidden)

    def forward(self, x: torch.Tensor, pre: list | None = None) -> torch.Tensor:
        """Logits; with a list ``pre``, each hidden layer's pre-activations ``(B, units)`` are appended to it."""
        h = x.reshape(len(x), -1)
        for lin, act in zip(self.linears[:-1], self.acts, strict=True):
            z = lin(h)
            if pre is not None:
                pre.append(z.detach())
            h = act(z)
        return self.linears[-1](h)


def dead_share(net: RaceNet, x: torch.Tensor) -> list[float]:
    """For each hidden layer of ``net``, the share of its units whose activation's slope is below :data:`DEAD_SLOPE`
    on every one of the digits ``x (B, 1, 28, 28)``."""
    pre: list[torch.Tensor] = []
    with torch.no_grad():
        net(x, pre)
    out = []
    for z, act in zip(pre, net.acts, strict=True):
        z = z.clone().requires_grad_(True)
        (slope,) = torch.autograd.grad(act(z).sum(), z)  # elementwise activations: the slope at each input
        out.append(float((slope.abs() < DEAD_SLOPE).all(0).float().mean()))
    return out


def grad_norms(net: RaceNet) -> list[float]:
    """Each layer's weight-gradient norm (0 where there is no gradient yet)."""
    return [float(lin.weight.grad.norm()) if lin.weight.grad is not None else 0.0 for lin in net.linears]


class ActivationRace:
    """Copies of :class:`RaceNet`, one per activation in ``names``, on the digits ``x`` with labels ``y``."""

    def __init__(self, names: list[str], x: torch.Tensor, y: torch.Tensor, preset: str = "normal", seed: int = 0,
                 device: str | torch.device = "cpu"):
        unknown = [n for n in names if n not in ACTIVATIONS]
        if unknown:
            raise ValueError(f"unknown activations {unknown}; expected some of {list(ACTIVATIONS)}")
        if not MIN_COPIES <= len(names) <= MAX_COPIES or len(set(names)) != len(names):
            raise ValueError(f"pick {MIN_COPIES} to {MAX_COPIES} different activations, got {names}")
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {list(PRESETS)}, got {preset!r}")
        if len(x) < PROBE + BATCH or len(x) != len(y):
            raise ValueError(f"need at least {PROBE + BATCH} digits with as many labels, got {len(x)} and {len(y)}")
        self.names, self.preset, self.lr, self.seed, self.device = list(names), preset, PRESETS[preset], seed, torch.device(device)
        self.x, self.y = x[PROBE:].to(self.device), y[PROBE:].to(self.device)
        self.probe = x[:PROBE].to(self.device)
        self.nets: dict[str, RaceNet] = {}
        for n in self.names:
            torch.manual_seed(seed)  # the same weights for every copy (PReLU's slope is its own parameter)
            self.nets[n] = RaceNet(n).to(self.device)
        self.opts = {n: torch.optim.SGD(net.parameters(), lr=self.lr) for n, net in self.nets.items()}
        self.batches = torch.Generator().manual_seed(seed)
        self.history: dict[str, list[RaceRecord]] = {n: [] for n in self.names}
        self.diverged: dict[str, int] = {}  # copy -> the step its loss stopped being finite (it trains no further)
        self.steps = 0

    def step(self, n: int = 1) -> int:
        """Up to ``n`` steps of every copy on the same batches (bounded per call and in all); how many were taken."""
        n = max(0, min(int(n), MAX_STEPS_PER_CALL, MAX_STEPS - self.steps))
        t0, done = time.perf_counter(), 0
        for _ in range(n):
            idx = torch.randint(len(self.x), (BATCH,), generator=self.batches).to(self.device)
            xb, yb = self.x[idx], self.y[idx]
            self.steps += 1
            for name, net in self.nets.items():
                if name in self.diverged:
                    continue
                loss = F.cross_entropy(net(xb), yb)
                if not torch.isfinite(loss):  # blown up at this learning rate: say so, stop spending steps on it
                    self.diverged[name] = self.steps
                    continue
                self.opts[name].zero_grad()
                loss.backward()
                self.opts[name].step()
                self.history[name].append(RaceRecord(self.steps, float(loss.detach()), dead_share(net, self.probe), grad_norms(net)))
            done += 1
            if time.perf_counter() - t0 > MAX_SECONDS_PER_CALL:
                break
        return done

    def summary(self, last: int = 20) -> dict[str, dict]:
        """Per copy: the mean loss over its ``last`` steps, the dead share (all hidden units) and the first layer's
        gradient norm at the last step, and ``diverged`` (the step its loss blew up, else None; its loss is then inf).
        Empty before the first step."""
        out = {}
        for name, h in self.history.items():
            if h or name in self.diverged:
                tail = h[-last:]
                gone = self.diverged.get(name)
                out[name] = {"loss": float("inf") if gone else float(np.mean([r.loss for r in tail])),
                             "dead": float(np.mean(h[-1].dead)) if h else 0.0,
                             "first_grad": float(np.mean([r.grad_norms[0] for r in tail])) if h else 0.0, "diverged": gone}
        return out

    def verdicts(self) -> list[dict]:
        """What this run says of the seeds' claims, for those whose activations it trains: ``{claim, supported,
        figures}`` with the claim's key (``ui`` words it) and the figures it rests on. Needs 50 steps or more."""
        if self.steps < 50:
            return []
        s, out = self.summary(), []
        s = {n: v for n, v in s.items() if v["diverged"] is None}  # a copy that blew up says nothing of these claims
        if "relu" in s:  # with a large learning rate many ReLU units die
            others = {n: v["dead"] for n, v in s.items() if n != "relu"}
            out.append({"claim": "relu_dies", "supported": s["relu"]["dead"] >= DIED, "figures": {"relu": s["relu"]["dead"], **others}})
        if "sigmoid" in s and len(s) > 1:  # sigmoid's saturation kills gradients and slows convergence
            others = {n: v["loss"] for n, v in s.items() if n != "sigmoid"}
            out.append({"claim": "sigmoid_slow", "supported": all(s["sigmoid"]["loss"] > v for v in others.values()),
                        "figures": {"sigmoid": s["sigmoid"]["loss"], **others},
                        "grads": {n: v["first_grad"] for n, v in s.items()}})
        if "sigmoid" in s and "tanh" in s:  # prefer zero-centred activations
            out.append({"claim": "zero_centred", "supported": s["tanh"]["loss"] < s["sigmoid"]["loss"],
                        "figures": {"tanh": s["tanh"]["loss"], "sigmoid": s["sigmoid"]["loss"]}})
        return out
