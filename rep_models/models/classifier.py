"""A small CNN digit classifier. The app uses it to name a drawing; the metrics use its penultimate
features (Frechet distance) and its predictions (GAN class histograms)."""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Model


@dataclass
class ClassifierConfig:
    channels: int = 32
    features: int = 128
    dropout: float = 0.3
    shift: int = 2  # random translation in pixels during training (augmentation)


def random_shift(x: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels in x and y (zero fill), batched."""
    if max_shift <= 0:
        return x
    b = x.shape[0]
    pad = F.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), device=x.device)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), device=x.device)
    rows = (dy[:, None] + torch.arange(28, device=x.device))[:, :, None]  # (B, 28, 1)
    cols = (dx[:, None] + torch.arange(28, device=x.device))[:, None, :]  # (B, 1, 28)
    return pad[torch.arange(b, device=x.device)[:, None, None], 0, rows, cols].unsqueeze(1)


class Classifier(Model):
    Config = ClassifierConfig
    family = "classifier"
    train_defaults = {"epochs": 8, "lr": 2e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config.channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),  # 14
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(), nn.MaxPool2d(2),  # 7
            nn.Conv2d(2 * c, 4 * c, 3, padding=1), nn.BatchNorm2d(4 * c), nn.ReLU(), nn.MaxPool2d(2),  # 3
            nn.Flatten(), nn.Dropout(self.config.dropout),
            nn.Linear(4 * c * 9, self.config.features), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(self.config.dropout), nn.Linear(self.config.features, 10))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,1,28,28)`` -> penultimate features ``(B, features)``."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 10)``."""
        return self.head(self.features(x))

    @torch.inference_mode()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        return F.softmax(self(x), dim=1)

    def loss(self, batch):
        x, y = batch
        logits = self(random_shift(x, self.config.shift) if self.training else x)
        loss = F.cross_entropy(logits, y)
        return {"loss": loss, "accuracy": (logits.argmax(1) == y).float().mean()}
