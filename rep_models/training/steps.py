"""One training step per kind of model, on one batch, written out as pytorch/examples' dcgan/main.py writes
its update: ``standard`` minimises ``loss(batch)["loss"]``; ``gan`` takes a discriminator step, then a
generator step; ``stylegan`` the same with a lazy R1 penalty and style mixing; ``layerwise`` trains one layer of a stacked autoencoder on the codes of the layers below.
Each returns the batch's losses (tensors) for the progress bar and the epoch record."""
from __future__ import annotations

import torch

from .optim import Optimisers

KINDS = ("standard", "gan", "stylegan", "layerwise")
GAN_KINDS = ("gan", "stylegan")  # two optimisers: the discriminator's, then the generator's


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
    if kind in GAN_KINDS:
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


def stylegan_step(model, wrapped, optim: Optimisers, x, y, layer: int = 0) -> dict:
    # (1) Update the discriminator with the non-saturating logistic loss: softplus(-D(real)) + softplus(D(fake)),
    #     the fakes drawn with style mixing (two latents, a random crossover) for most of the batch.
    d = wrapped(x, y, "discriminator_loss")
    optim.step(d["loss"], 0)
    # (2) Every r1_every steps, a separate discriminator step on the R1 penalty alone (lazy regularisation,
    #     StyleGAN2): the squared gradient of D at the real digits, weighted by r1_every. It costs a double
    #     backward pass, so taking it one step in eight keeps most of its effect for an eighth of its price.
    r1 = {}
    if model.r1_due():
        r1 = wrapped(x, y, "r1_penalty")
        optim.step(r1["loss"], 0)
    # (3) Update the generator (mapping and synthesis) with softplus(-D(G(z))). The discriminator's weights are
    #     frozen for it: the gradient only has to pass through D, not fill D's weight gradients (a tenth of a step).
    model.discriminator_net.requires_grad_(False)
    g = wrapped(x, y, "generator_loss")
    optim.step(g["loss"], 1)
    model.discriminator_net.requires_grad_(True)
    # (4) The moving averages: the generator's weights (what ships) and w (what truncation pulls toward).
    model.after_generator_step()
    out = {**d, **g, **({"r1": r1["r1"]} if r1 else {})}
    out.pop("loss")
    return out


def layerwise_step(model, wrapped, optim: Optimisers, x, y, layer: int = 0) -> dict:
    out = wrapped(x, y, "layerwise", layer)  # rebuild layer ``layer``'s input from its (corrupted) code
    optim.step(out["loss"])
    return out


STEPS = {"standard": standard_step, "gan": gan_step, "stylegan": stylegan_step, "layerwise": layerwise_step}
