"""Latent Lab's model package: data, models, training, checkpoints and the measures the app shows."""
from .checkpoint import CheckpointError, load, load_pretrained, save
from .data import DatasetError, load_tensors
from .device import flush_denormals, pick_device
from .models import REGISTRY, build

flush_denormals()  # this thread; the app calls it again in each script thread

__all__ = ["REGISTRY", "build", "load", "save", "load_pretrained", "load_tensors", "pick_device", "CheckpointError", "DatasetError"]
