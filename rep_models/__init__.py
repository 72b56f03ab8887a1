"""Latent Lab's model package: data, models, training, checkpoints and the measures the app shows."""
from .checkpoint import CheckpointError, load, load_pretrained, save
from .data import DatasetError, load_tensors
from .device import pick_device
from .models import REGISTRY, build

__all__ = ["REGISTRY", "build", "load", "save", "load_pretrained", "load_tensors", "pick_device", "CheckpointError", "DatasetError"]
