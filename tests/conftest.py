"""Shared test set-up: the data loader points at ../shared/data/mnist unless told otherwise."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("LATENT_LAB_MNIST", str((ROOT.parent / "shared" / "data" / "mnist").resolve()))
# One thread: tests run beside other work, and small tensors gain nothing from more.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def mnist_val():
    """The 5,000-image validation split: ``(5000,1,28,28)`` floats in [0,1] and labels."""
    from rep_models.data import load_tensors

    return load_tensors("mnist", "val")


@pytest.fixture(scope="session")
def mnist_test():
    from rep_models.data import load_tensors

    return load_tensors("mnist", "test")


@pytest.fixture(scope="session")
def small_batch(mnist_val):
    x, y = mnist_val
    return x[:64], y[:64]
