"""Recurrent autoencoder: a GRU/LSTM reads the image row by row (both ways when ``bidirectional``) into a
code; a second one writes 28 rows back from the code repeated at every step."""
from dataclasses import dataclass

import torch
import torch.nn as nn

from .base import Autoencoder


@dataclass
class RecurrentAEConfig:
    latent_dim: int = 32
    hidden: int = 256
    cell: str = "gru"  # or "lstm"
    bidirectional: bool = False  # True: the reader also runs bottom-up, so the code sees the top rows as recently as the bottom


class RecurrentAE(Autoencoder):
    Config = RecurrentAEConfig
    train_defaults = {"epochs": 12, "lr": 2e-3, "batch_size": 128}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        if c.cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', got {c.cell!r}")
        rnn = nn.GRU if c.cell == "gru" else nn.LSTM
        self.reader = rnn(28, c.hidden, batch_first=True, bidirectional=c.bidirectional)
        self.to_code = nn.Linear(c.hidden * (2 if c.bidirectional else 1), c.latent_dim)
        self.writer = rnn(c.latent_dim, c.hidden, batch_first=True)
        self.to_row = nn.Linear(c.hidden, 28)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.reader(x.reshape(-1, 28, 28))  # rows as time steps
        h = h[0] if isinstance(h, tuple) else h  # LSTM returns (h, c)
        # h: (directions, B, hidden); both directions' last states side by side
        return self.to_code(h.transpose(0, 1).flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out, _ = self.writer(z.unsqueeze(1).expand(-1, 28, -1))
        return torch.sigmoid(self.to_row(out)).reshape(-1, 1, 28, 28)
