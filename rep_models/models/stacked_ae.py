"""Stacked (deep MLP) autoencoder with optional tied weights and greedy layer-wise pretraining.

Tied: the decoder uses the transposed encoder weights (half the parameters). Greedy pretraining trains
one shallow AE at a time on the codes of the layer below, then the whole stack is fine-tuned.
"""
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import Autoencoder, flatten, unflatten, uniform_like


@dataclass
class StackedAEConfig:
    hidden: tuple[int, ...] = (512, 256)
    latent_dim: int = 32
    tied: bool = True
    input_dropout: float = 0.0  # masking noise during training (the denoising variant, used by ``sda``)


class LayerStack(nn.Module):
    """Encoder layers ``784 -> hidden... -> latent`` with ReLU between them; decoders tied or untied."""

    def __init__(self, sizes: list[int], tied: bool):
        super().__init__()
        self.sizes, self.tied = sizes, tied
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.dec_bias = nn.ParameterList(nn.Parameter(torch.zeros(a)) for a in sizes[:-1])
        self.dec = None if tied else nn.ModuleList(nn.Linear(b, a, bias=False) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    def encode_layer(self, h: torch.Tensor, i: int) -> torch.Tensor:
        h = self.enc[i](h)
        return h if i == len(self.enc) - 1 else F.relu(h)

    def decode_layer(self, h: torch.Tensor, i: int) -> torch.Tensor:
        # F.linear(h, w) is h @ w.T, so the tied decoder passes the encoder weight transposed.
        w = self.enc[i].weight.t() if self.tied else self.dec[i].weight
        out = F.linear(h, w, self.dec_bias[i])
        return torch.sigmoid(out) if i == 0 else F.relu(out)

    def encode(self, h: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        for i in range(len(self.enc) if upto is None else upto):
            h = self.encode_layer(h, i)
        return h

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        for i in reversed(range(len(self.enc))):
            z = self.decode_layer(z, i)
        return z


class StackedAE(Autoencoder):
    Config = StackedAEConfig
    train_defaults = {"epochs": 20, "lr": 1e-3, "batch_size": 128, "pretrain_epochs": 2}

    def __init__(self, config=None, **overrides):
        super().__init__(config, **overrides)
        c = self.config
        self.stack = LayerStack([784, *c.hidden, c.latent_dim], c.tied)

    @property
    def pretrain_layers(self) -> int:
        return len(self.stack.enc)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.stack.encode(flatten(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return unflatten(self.stack.decode(z))

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        p = self.config.input_dropout
        return x * (uniform_like(x) >= p) if p > 0 else x

    def layer_parameters(self, layer: int) -> list[nn.Parameter]:
        """What greedy pretraining of ``layer`` trains: its encoder weight and bias, its decoder bias and
        (untied) decoder weight."""
        st = self.stack
        return [st.enc[layer].weight, st.enc[layer].bias, st.dec_bias[layer]] + ([] if st.tied else [st.dec[layer].weight])

    def layerwise_loss(self, batch, layer: int) -> dict[str, torch.Tensor]:
        """Loss of the shallow AE at ``layer``, trained on the (frozen) codes of the layers below."""
        with torch.no_grad():
            h = self.stack.encode(flatten(batch[0]), upto=layer)
        inp = self.corrupt(h)
        rec = self.stack.decode_layer(self.stack.encode_layer(inp, layer), layer)
        mse = F.mse_loss(rec, h)
        return {"loss": mse, "mse": mse.detach()}
