"""One training step per kind of model, on one batch, written out as pytorch/examples' dcgan/main.py writes
its update: ``standard`` minimises ``loss(batch)["loss"]``; ``gan`` takes a discriminator step, then a
generator step; ``layerwise`` trains one layer of a stacked autoencoder on the codes of the layers below.
Each returns the batch's losses (tensors) for the progress bar and the epoch record."""
from __future__ import annotations

import torch

from .optim import Optimisers

KINDS = ("standard", "gan", "layerwise")


class LossModule(torch.nn.Module):
    """Routes DDP's forward to the model's loss for a phase, so gradients are synchronised for every phase."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, y, phase: str = "loss", layer: int = 0):
        if phase == "layerwise":
            return self.model.layerwise_loss((x, y), layer)
        return getattr(self.model, phase)((x, y))


def param_groups(model, kind: str, layer: int = 0) -> list[list[torch.nn.Parameter]]:
    """The parameters each optimiser of a phase trains: the discriminator's and the generator's for a GAN,
    one layer's in layer-wise pretraining, all of them otherwise."""
    if kind == "gan":
        return [list(model.discriminator_parameters()), list(model.generator_parameters())]
    if kind == "layerwise":
        return [model.layer_parameters(layer)]
    return [list(model.parameters())]


def standard_step(model, wrapped, optim: Optimisers, x, y, layer: int = 0) -> dict:
    out = wrapped(x, y, "loss")
    optim.step(out["loss"])
    return out


def gan_step(model, wrapped, optim: Optimisers, x, y, layer: int = 0) -> dict:
    # (1) Update the discriminator: real digits toward "real" (0.9), generated ones toward "fake".
    d = wrapped(x, y, "discriminator_loss")
    optim.step(d["loss"], 0)
    # (2) Update the generator: its digits toward "real" (the non-saturating loss).
    g = wrapped(x, y, "generator_loss")
    optim.step(g["loss"], 1)
    model.after_generator_step()  # the moving average of the generator's weights (config ema)
    out = {**d, **g}
    out.pop("loss")
    return out


def layerwise_step(model, wrapped, optim: Optimisers, x, y, layer: int = 0) -> dict:
    out = wrapped(x, y, "layerwise", layer)  # rebuild layer ``layer``'s input from its (corrupted) code
    optim.step(out["loss"])
    return out


STEPS = {"standard": standard_step, "gan": gan_step, "layerwise": layerwise_step}
