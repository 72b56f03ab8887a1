"""A deep belief network (Hinton, Osindero and Teh 2006): a stack of restricted Boltzmann machines trained greedily,
one at a time, each on the hidden units of the one below.

``784 -> 500 -> 500`` by default. The trainer's layer-wise phases (``pretrain_layers``, ``layerwise_loss``) train
every RBM but the top one, each with persistent contrastive divergence on the (binary, sampled) hidden units of the
frozen layers below; the main phase then trains the top RBM the same way. Up the stack the hidden units'
probabilities are the features (``encode``: the top layer's, what Few labels compares with the autoencoders'); to
draw, the top RBM runs its Gibbs chain and one pass down the directed layers turns its visible units into pixels.

Verbs: ``encode(x)``, ``sample(n, seed, steps)``, ``up(x, layers)``, ``down(h, layers)``, ``loss``, ``layerwise_loss``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import Model, noise_generator, uniform_like
from .rbm import RBM


@dataclass
class DBNConfig:
    hidden: tuple[int, ...] = (500, 500)
    k: int = 1  # Gibbs steps per batch, in every layer
    n_chains: int = 100  # each layer's persistent chains
    weight_decay: float = 2e-4
    sample_steps: int = 1000  # Gibbs steps of the top RBM that sample() runs


class DBN(Model):
    """``(B, 1, 28, 28)`` digits in [0, 1] <-> ``hidden[-1]`` top-layer features, through ``len(hidden)`` RBMs."""

    Config = DBNConfig
    family = "dbn"
    train_defaults = {"epochs": 30, "lr": 1e-3, "batch_size": 100, "pretrain_epochs": 30}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        sizes = [784, *c.hidden]
        self.rbms = nn.ModuleList(RBM(n_visible=a, n_hidden=b, k=c.k, n_chains=c.n_chains, weight_decay=c.weight_decay)
                                  for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    @property
    def latent_dim(self) -> int:
        return self.config.hidden[-1]

    @property
    def pretrain_layers(self) -> int:
        return len(self.rbms) - 1  # the top RBM is the main phase's

    def up(self, x: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        """The hidden units' probabilities after ``layers`` RBMs (all by default): ``(B, 1, 28, 28)`` or ``(B, 784)`` ->
        ``(B, hidden[layers - 1])`` (``layers=0``: the pixels, flat)."""
        h = x.reshape(len(x), -1)
        for rbm in self.rbms[: len(self.rbms) if layers is None else layers]:
            h = rbm.hidden_probs(h)
        return h

    def down(self, h: torch.Tensor, layers: int) -> torch.Tensor:
        """From the visible units of RBM ``layers`` (``(B, hidden[layers - 1])``) down to pixel probabilities
        ``(B, 784)``, each lower layer's visible probabilities in turn (the directed part of the network)."""
        for rbm in reversed(self.rbms[:layers]):
            h = rbm.visible_probs(h)
        return h

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 28, 28)`` -> the top layer's features ``(B, hidden[-1])`` in [0, 1]."""
        return self.up(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Up the stack and down again (mean field): ``(B, 1, 28, 28)`` -> ``(B, 1, 28, 28)``."""
        top = self.rbms[-1]
        below = self.up(x, len(self.rbms) - 1)
        return self.down(top.visible_probs(top.hidden_probs(below)), len(self.rbms) - 1).reshape(x.shape)

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, steps: int | None = None) -> torch.Tensor:
        """``n`` digits ``(n, 1, 28, 28)`` in [0, 1]: ``steps`` Gibbs steps of the top RBM from its persistent chains
        (cycled to ``n``), then its visible units' probabilities passed down."""
        top = self.rbms[-1]
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        reps = -(-n // len(top.chains))
        with noise_generator(g):
            _, p = top.gibbs(top.chains.repeat(reps, 1)[:n].clone(), steps or self.config.sample_steps)
        return self.down(p, len(self.rbms) - 1).reshape(n, 1, 28, 28)

    # -- training: greedy, one RBM at a time on the sampled hidden units of the frozen layers below
    def _below(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        with torch.no_grad():
            p = self.up(x, layer)
            return p if layer == 0 else (uniform_like(p) < p).float()

    def layerwise_loss(self, batch, layer: int) -> dict[str, torch.Tensor]:
        x, y = batch
        return self.rbms[layer].loss((self._below(x, layer), y))

    def layer_parameters(self, layer: int) -> list[nn.Parameter]:
        return list(self.rbms[layer].parameters())

    def loss(self, batch) -> dict[str, torch.Tensor]:
        x, y = batch
        top = len(self.rbms) - 1
        out = self.rbms[top].loss((self._below(x, top), y))
        if top:  # the RBM's own recon_bce is of its visible units; the pixels' is what one can compare
            with torch.no_grad():
                v = x.reshape(len(x), -1)
                out["recon_bce"] = nn.functional.binary_cross_entropy(self.forward(x).reshape(len(x), -1).clamp(1e-6, 1 - 1e-6),
                                                                      v, reduction="sum") / len(v)
        return out

    def training_state(self) -> dict[str, torch.Tensor]:
        return {}  # the chains are buffers: saved with the state dict
