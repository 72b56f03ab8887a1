"""One digit through the models: each autoencoder's reconstruction with its error, and the classifier's most
likely digits (the Draw page).

Images are ``(1, 1, 28, 28)`` tensors or ``(28, 28)`` arrays in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import catalogue
from .codes import as_batch, device_of

# The autoencoders (and VAEs) whose reconstructions the app shows side by side, in display order: their role
# in the catalogue.
RECONSTRUCTORS = catalogue.with_role("reconstructor")


@dataclass
class Reconstruction:
    name: str
    image: np.ndarray  # (28, 28) float32 in [0, 1]
    mse: float  # mean squared error per pixel against the input


@torch.inference_mode()
def reconstruct_all(models: dict[str, torch.nn.Module], x: torch.Tensor | np.ndarray) -> list[Reconstruction]:
    """The reconstruction of one digit ``x`` by each model in ``models`` (in the dict's order)."""
    x = as_batch(x)[:1]
    out = []
    for name, model in models.items():
        r = model.reconstruct(x.to(device_of(model))).float().cpu().clamp(0, 1)
        out.append(Reconstruction(name, r[0, 0].numpy(), float(((r - x) ** 2).mean())))
    return out


@torch.inference_mode()
def top_k(classifier: torch.nn.Module, x: torch.Tensor | np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The ``k`` most likely digits for one image, as (digit, probability), most likely first."""
    p = classifier.predict_proba(as_batch(x)[:1].to(device_of(classifier))).float().cpu()[0]
    probs, digits = p.topk(k)
    return [(int(d), float(q)) for d, q in zip(digits, probs, strict=True)]
