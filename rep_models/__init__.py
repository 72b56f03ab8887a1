"""Latent Lab's model package: data, models, training, checkpoints and the measures the app shows."""
import torch

from .checkpoint import CheckpointError, load, load_pretrained, save
from .data import DatasetError, load_tensors
from .device import pick_device
from .models import REGISTRY, build

# Denormal floats (below 1.2e-38) appear inside the products of small weights and activations and make
# x86 CPUs take a slow microcode path: the shipped VAE decoded one digit in 23 ms instead of 1.4 ms.
# Flushing them to zero changes results by less than 1e-38 (bench/inference.py measures both).
torch.set_flush_denormal(True)

__all__ = ["REGISTRY", "build", "load", "save", "load_pretrained", "load_tensors", "pick_device", "CheckpointError", "DatasetError"]
