"""Stacked denoising autoencoder (Vincent et al. 2010) fine-tuned as a classifier: each layer is
pretrained to undo masking noise on the codes of the layer below (all images, no labels), then a softmax
layer is added and the whole stack is fine-tuned on the labelled images (few or all).

With few labels, ``pseudo_label_weight`` > 0 adds Lee's (2013) Pseudo-Label term: unlabelled images
are trained toward the network's own current prediction, with a weight ramped up from 0, which is how
DAE pretraining plus pseudo-labels reached 10.5 % error with 100 MNIST labels in that paper.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import flatten
from .classifier import random_shift
from .stacked_ae import StackedAE


@dataclass
class SDAConfig:
    hidden: tuple[int, ...] = (1000, 1000)
    latent_dim: int = 500
    tied: bool = True
    input_dropout: float = 0.25  # masking noise in pretraining
    dropout: float = 0.2  # in fine-tuning
    shift: int = 0  # random translation (pixels) of labelled images in fine-tuning
    pseudo_label_weight: float = 0.0  # final weight of the pseudo-label loss (0: plain supervised fine-tuning)
    pseudo_label_rampup: int = 1000  # steps over which that weight rises from 0
    # With few labels: spread them over a 10-NN graph of the pretrained codes (rep_models.semi) and fine-tune
    # on the labelled images plus this fraction of the most confidently pseudo-labelled ones, per class.
    propagate_labels: bool = False
    propagation_keep: float = 0.8
    propagate_on: str = "code"  # the graph's space: "code" (the pretrained stack's top code) or "pixels"


class SDA(StackedAE):
    Config = SDAConfig
    family = "classifier"
    train_defaults = {"epochs": 20, "lr": 1e-3, "batch_size": 128, "pretrain_epochs": 3}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(self.config.dropout), nn.Linear(self.config.latent_dim, 10))
        # (N,1,28,28) the pool the pseudo-label term draws from (set by rep_models.training.recipes.unlabelled_pool)
        self.unlabelled: torch.Tensor | None = None
        self._steps = 0

    @torch.inference_mode()
    def propagation_codes(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """``(N,1,28,28)`` -> ``(N, D)`` the pretrained codes (or the pixels): what the labels spread over, after
        ``rep_models.training.recipes.pseudo_label`` reduces them by PCA."""
        if self.config.propagate_on not in ("code", "pixels"):
            raise ValueError(f"propagate_on must be 'code' or 'pixels', got {self.config.propagate_on!r}")
        was_training, device = self.training, next(self.parameters()).device
        self.eval()
        if self.config.propagate_on == "code":
            h = torch.cat([self.stack.encode(flatten(x[i:i + batch_size].to(device))).cpu() for i in range(0, len(x), batch_size)])
        else:
            h = flatten(x).float()
        self.train(was_training)
        return h

    def training_state(self) -> dict[str, torch.Tensor]:
        return {"pseudo_label_steps": torch.tensor(self._steps)}  # where the pseudo-label weight's ramp is

    def load_training_state(self, state: dict[str, torch.Tensor]) -> None:
        self._steps = int(state.get("pseudo_label_steps", 0))

    def forward(self, x):
        """Logits ``(B, 10)``."""
        return self.head(self.stack.encode(flatten(x)))

    @torch.inference_mode()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,1,28,28)`` -> what the denoising stack rebuilds, ``(B,1,28,28)`` in [0, 1] (as for every
        autoencoder; ``forward`` gives the class logits instead)."""
        return self.decode(self.encode(x)).clamp(0, 1)

    @torch.inference_mode()
    def predict_proba(self, x):
        return F.softmax(self(x), dim=1)

    def loss(self, batch):
        x, y = batch
        if self.training:
            x = random_shift(self.corrupt(x), self.config.shift)
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        out = {"accuracy": (logits.argmax(1) == y).float().mean()}
        c = self.config
        if self.training and c.pseudo_label_weight > 0 and self.unlabelled is not None:
            self._steps += 1
            weight = c.pseudo_label_weight * min(1.0, self._steps / max(1, c.pseudo_label_rampup))
            idx = torch.randint(0, len(self.unlabelled), (len(x),))
            xu = self.unlabelled[idx].to(x.device)
            with torch.no_grad():
                self.eval()
                target = self(xu).argmax(1)  # the current prediction, without dropout
                self.train()
            pl = F.cross_entropy(self(random_shift(xu, c.shift)), target)
            out["pseudo_label"] = pl.detach()
            loss = loss + weight * pl
        return {"loss": loss, **out}
