"""Stacked denoising autoencoder (Vincent et al. 2010) fine-tuned as a classifier: each layer is
pretrained to undo masking noise on the codes of the layer below (all images, no labels), then a softmax
layer is added and the whole stack is fine-tuned on the labelled images (few or all)."""
from dataclasses import dataclass

import torch.nn as nn
import torch.nn.functional as F

from .base import flatten
from .stacked_ae import StackedAE


@dataclass
class SDAConfig:
    hidden: tuple[int, ...] = (1000, 1000)
    latent_dim: int = 500
    tied: bool = True
    input_dropout: float = 0.25  # masking noise in pretraining
    dropout: float = 0.2  # in fine-tuning


class SDA(StackedAE):
    Config = SDAConfig
    family = "classifier"
    train_defaults = {"epochs": 20, "lr": 1e-3, "batch_size": 128, "pretrain_epochs": 3}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(self.config.dropout), nn.Linear(self.config.latent_dim, 10))

    def forward(self, x):
        """Logits ``(B, 10)``."""
        return self.head(self.stack.encode(flatten(x)))

    def predict_proba(self, x):
        return F.softmax(self(x), dim=1)

    def loss(self, batch):
        x, y = batch
        logits = self(self.corrupt(x) if self.training else x)
        loss = F.cross_entropy(logits, y)
        return {"loss": loss, "accuracy": (logits.argmax(1) == y).float().mean()}
