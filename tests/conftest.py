"""Shared test set-up.

Tests read the MNIST digits that ship with the app (``data/mnist_sample.npz``: the 10,000 test digits and
10,000 training digits), so the suite runs on a fresh clone with no dataset folder and no network. The few
checks that need the full MNIST (the loader on the real IDX files, the 55,000/60,000-image training set) take
the ``full_mnist`` fixture: it finds the files where ``rep_models.data`` looks (``$LATENT_LAB_MNIST``,
``~/.cache/latent_lab/mnist``, ``../shared/data/mnist``), never downloads, and skips with its reason when
they are absent -- except under CI (``CI`` set) or when ``LATENT_LAB_MNIST`` is set, where a missing full
dataset fails, so CI cannot skip those checks silently. ``fashion_mnist_test`` does the same for
Fashion-MNIST (Debian's ``dataset-fashion-mnist``; fails under CI or with ``LATENT_LAB_FASHION_MNIST`` set).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
# One thread: tests run beside other work, and small tensors gain nothing from more.
torch.set_num_threads(1)
# Whether this run must have the datasets (CI, or the variable naming their folder), read before any test module
# is imported: importing bench/common.py (tests/browser_support.py does) sets LATENT_LAB_MNIST as a default.
MUST_HAVE = {dataset: bool(os.environ.get("CI") or os.environ.get(var))
             for dataset, var in (("mnist", "LATENT_LAB_MNIST"), ("fashion_mnist", "LATENT_LAB_FASHION_MNIST"))}


def pytest_configure(config):
    config.addinivalue_line("markers", "full_mnist: needs the full MNIST IDX files (skips without them, fails under CI)")


def pytest_collection_modifyitems(items):
    for item in items:  # `-m "not full_mnist"` / `-m full_mnist` select by the fixture a test uses
        if "full_mnist" in getattr(item, "fixturenames", ()):
            item.add_marker("full_mnist")


def dataset_dir(dataset: str) -> Path | None:
    """The first folder ``rep_models.data`` searches that holds all four of ``dataset``'s IDX files
    (gzipped or plain); None when none does. Never downloads."""
    from rep_models.data import FILES, search_dirs

    for d in search_dirs(dataset):
        if all((d / f).is_file() or (d / f[:-3]).is_file() for f in FILES.values()):
            return d
    return None


def _absent(what: str, dataset: str) -> None:
    """Skip, or fail when ``CI`` or the dataset's variable is set (there the checks must run)."""
    from rep_models.data import DATASETS, search_dirs

    where = ", ".join(str(d) for d in search_dirs(dataset))
    msg = f"{what} not found (looked in {where})"
    env_var = DATASETS[dataset].env_var
    if MUST_HAVE[dataset]:
        pytest.fail(f"{msg}; CI or {env_var} is set, so the checks that need it must run, not skip", pytrace=False)
    pytest.skip(f"{msg}: this check needs it (CI runs it); the rest of the suite uses the shipped data/mnist_sample.npz")


def require_full_mnist() -> Path:
    """The folder holding the full MNIST; skips the calling test when absent (fails under CI or with
    ``LATENT_LAB_MNIST`` set)."""
    d = dataset_dir("mnist")
    if d is None:
        _absent("the full MNIST (train-images-idx3-ubyte.gz, ...)", "mnist")
    return d


@pytest.fixture(scope="session")
def full_mnist() -> Path:
    """For the checks that need the full MNIST: the folder holding its four IDX files (see the module doc)."""
    return require_full_mnist()


@pytest.fixture(scope="session")
def fashion_mnist_test():
    """Fashion-MNIST's test images ``(10000,1,28,28)``: skips when absent (Debian's package), fails under CI
    or with ``LATENT_LAB_FASHION_MNIST`` set."""
    from rep_models.data import load_tensors

    d = dataset_dir("fashion_mnist")
    if d is None:
        _absent("Fashion-MNIST (apt-get install -y dataset-fashion-mnist)", "fashion_mnist")
    return load_tensors("fashion_mnist", "test", root=d)


@pytest.fixture(scope="session")
def mnist_val():
    """The shipped sample's 1,000-image validation split (carved with seed 0 from its 10,000 training digits):
    ``(1000,1,28,28)`` floats in [0,1] and labels. These digits come from the split the zoo was trained on:
    measure the shipped models on ``mnist_test``."""
    from rep_models.data import load_tensors

    return load_tensors("mnist", "val", source="sample")


@pytest.fixture(scope="session")
def mnist_train():
    """The shipped sample's other 9,000 training digits (1,000 per class before the validation carve)."""
    from rep_models.data import load_tensors

    return load_tensors("mnist", "train", source="sample")


@pytest.fixture(scope="session")
def mnist_test():
    """The 10,000 MNIST test digits (shipped, identical to MNIST's test set)."""
    from rep_models.data import load_tensors

    return load_tensors("mnist", "test", source="sample")


@pytest.fixture(scope="session")
def small_batch(mnist_val):
    x, y = mnist_val
    return x[:64], y[:64]
