"""What the pages would otherwise compute over the data set on their first use, computed offline and shipped as
small files, so that the first visitor after a server start waits no longer than the hundredth.

    python -m rep_models.precomputed                # write every file into pretrained/ (about 10 s on 2 cores)
    python -m rep_models.precomputed --only NAME    # one item (or several: --only A B)
    python -m rep_models.precomputed --check        # exit 1 if a file is missing or does not match its models
    python -m rep_models.checkpoint manifest        # then record the files' sha256 in pretrained/manifest.json

Each item of :data:`ITEMS` is one file, ``pretrained/precomputed_<name>.npz`` (plain arrays, read without pickle):

==========================  ===================  ==============================================================
name                        page                 arrays
==========================  ===================  ==============================================================
``anomaly_conv_ae``         Draw & reconstruct   ``errors`` (10000,) float32: the conv AE's per-image MSE on
                                                 the test digits, sorted (the anomaly score's reference)
``free_energy_rbm``         Draw & reconstruct   ``energies`` (1001,) float64: the quantiles 0, 0.1, ..., 100 %
                                                 of the RBM's free energies of the test digits (its anomaly
                                                 score's reference, read as a sorted sample)
``train_pca``               Linear AE = PCA      PCA of the 10,000 shipped training digits: ``mean`` (784,),
                                                 ``components`` (32, 784) float32 (the top 32, all the page
                                                 shows), ``eigenvalues`` (784,) (all: the error curve)
``test_codes_<vae>``        VAE latent explorer  ``codes`` (2000, d) float32, posterior means of the first
                                                 2,000 test digits, and their ``labels``; for vae, beta_vae,
                                                 vae_2d (slider directions, class means, the map overlay)
``gan_histogram_<gan>``     GAN studio           ``counts`` (10,): the classifier's digits over 2,000 samples
                                                 (seed 1234) and ``mean_top_prob``; for gan and dcgan
``linear_ae_test_mse``      Linear AE = PCA      ``mse``: the linear AE's error on the first 5,000 test digits
``not_a_digit``             Draw & reconstruct   the not-a-digit detectors (``rep_models.ood``), fitted to the
                                                 training digits drawn and uploaded: per channel (``draw_``,
                                                 ``upload_``) and classifier layer ``means_<i>``, ``whiten_<i>``,
                                                 the log-distances' ``centre`` and ``scale``, the reference
                                                 scores' ``quantiles`` (about 120 kB)
==========================  ===================  ==============================================================

Each file also holds ``sources``, a JSON string: the item, its parameters, the sha256 of the weights of every
model it used (from their cards) and of the shipped data sample. :func:`load` returns None, and logs why, when a
file is missing, unreadable, does not match ``manifest.json`` or was made from other models or data than the
shipped ones (a model retrained and this command not re-run); :func:`get` then computes the value as the page
did before (:func:`compute`), and ``tests/test_precomputed.py`` fails on a stale file. The values are computed
the way the app computes them (``rep_models.fast``'s inference path, one torch thread), so a page shows the same
numbers whether it read the file or computed them itself.
"""
from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import catalogue, checkpoint, fast, ood, ood_sets
from .anomaly import ANOMALY_MODEL, reference_errors
from .codes import encode_all
from .gibbs import free_energy
from .pca import fit as fit_pca
from .sampling import class_histogram, gan_samples
from .subspaces import linear_mse

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what a file holds changes: every older file then reads as stale
PREFIX = "precomputed_"
N_CODES = 2000  # test digits encoded per VAE (directions and class means: 200 per class is plenty)
N_PCA = 10_000  # shipped training digits in the PCA
PCA_COMPONENTS = 32  # components shipped: the linear AE's code size (the page shows at most that many)
N_GAN, GAN_SEED = 2000, 1234  # samples per GAN histogram
N_MSE = 5000  # test digits for the linear AE's error
N_ENERGY_QUANTILES = 1001  # the RBM's free-energy reference: every 0.1 %
CODE_VAES = tuple(catalogue.with_role("latent_explorer"))
HISTOGRAM_GANS = tuple(catalogue.with_role("mode_collapse"))


@dataclass(frozen=True)
class Item:
    """One precomputed file: the models it needs, the part of the shipped sample it reads, its parameters and
    ``fn(models, x, y) -> {array name: array}``."""

    models: tuple[str, ...]
    split: str | None  # "test", "full_train" (the 10,000 shipped training digits) or None
    fn: Callable[..., dict[str, np.ndarray]]
    params: dict = field(default_factory=dict)


def _anomaly(models, x, y):
    return {"errors": reference_errors(models[ANOMALY_MODEL], x)}


def _free_energy(models, x, y):
    # 1,001 quantiles (every 0.1 %) say where a free energy falls as well as the 10,000 values, in a tenth of the room
    return {"energies": np.quantile(free_energy(models["rbm"], x), np.linspace(0, 1, N_ENERGY_QUANTILES))}


def _pca(models, x, y):
    p = fit_pca(x[:N_PCA])
    return {"mean": p.mean, "components": p.components[:PCA_COMPONENTS].astype(np.float32), "eigenvalues": p.eigenvalues}


def _test_codes(name: str):
    def fn(models, x, y):
        model = models[name]
        yy = y[:N_CODES] if getattr(model.config, "n_classes", 0) else None
        return {"codes": encode_all(model, x[:N_CODES], yy), "labels": y[:N_CODES].numpy().astype(np.uint8)}
    return fn


def _gan_histogram(name: str):
    def fn(models, x, y):
        counts, conf = class_histogram(models["classifier"], gan_samples(models[name], N_GAN, GAN_SEED))
        return {"counts": np.asarray(counts, np.int64), "mean_top_prob": np.float64(conf)}
    return fn


def _linear_mse(models, x, y):
    return {"mse": np.float64(linear_mse(models["linear_ae"], x[:N_MSE]))}


def _not_a_digit(models, x, y):
    return ood.calibrate(models["classifier"], x, y)  # renders 20,000 drawings and pictures: about 3 minutes of one core


ITEMS: dict[str, Item] = {
    f"anomaly_{ANOMALY_MODEL}": Item((ANOMALY_MODEL,), "test", _anomaly),
    "free_energy_rbm": Item(("rbm",), "test", _free_energy, {"quantiles": N_ENERGY_QUANTILES}),
    "train_pca": Item((), "full_train", _pca, {"n": N_PCA, "components": PCA_COMPONENTS}),
    **{f"test_codes_{n}": Item((n,), "test", _test_codes(n), {"n": N_CODES}) for n in CODE_VAES},
    **{f"gan_histogram_{n}": Item((n, "classifier"), None, _gan_histogram(n), {"n": N_GAN, "seed": GAN_SEED}) for n in HISTOGRAM_GANS},
    "linear_ae_test_mse": Item(("linear_ae",), "test", _linear_mse, {"n": N_MSE}),
    ood.ITEM: Item(("classifier",), "full_train", _not_a_digit, {"channels": list(ood.CHANNELS), "seed": ood_sets.SEED, "folds": ood.FOLDS,
                                                                   "covariance": "per class", "shrink": ood.SHRINK}),
}


def _dir(directory) -> Path:
    return Path(directory) if directory is not None else checkpoint.PRETRAINED_DIR


def path_for(name: str, directory=None) -> Path:
    if name not in ITEMS:
        raise ValueError(f"unknown precomputed item {name!r}; expected one of {sorted(ITEMS)}")
    return _dir(directory) / f"{PREFIX}{name}.npz"


def app_model(name: str, directory=None):
    """A shipped model as the app serves it: ``fast.optimize`` over ``load_pretrained`` (the plain model if the
    rewrite does not apply), on the CPU."""
    model = checkpoint.load_pretrained(name, "cpu", directory)
    try:
        return fast.optimize(model)
    except Exception:  # noqa: BLE001 - the same fallback as ui.resources.load_model
        log.exception("fast path failed for %s; using the plain model", name)
        return model


def sources(name: str, directory=None) -> dict:
    """What the file for ``name`` must have been made from: the item, its parameters, its models' weights and
    the data sample (sha256s). Raises CheckpointError (a model is not shipped) or DatasetError (no sample)."""
    from .data import data_checksum

    item = ITEMS[name]
    models = {}
    for m in item.models:
        card = checkpoint.read_card(_dir(directory) / m)
        models[m] = card.get("weights_sha256") or checkpoint.sha256_file(_dir(directory) / f"{m}.safetensors")
    return {"item": name, "format": FORMAT, "params": item.params, "models": models,
            "data": data_checksum("mnist", source="sample") if item.split else None}


def _read(name: str, directory=None) -> tuple[dict[str, np.ndarray] | None, str]:
    """``(arrays, "")`` for a usable file, else ``(None, why not)``."""
    from .data import DatasetError

    path = path_for(name, directory)
    if not path.is_file():
        return None, f"{path.name} not found"
    try:
        want = checkpoint.read_manifest(_dir(directory)).get(path.name)
        if want and checkpoint.sha256_file(path) != want:
            return None, f"{path.name}: sha256 does not match manifest.json (corrupt or replaced)"
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        stored = json.loads(str(arrays.pop("sources")))
        expected = sources(name, directory)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, checkpoint.CheckpointError, DatasetError) as e:
        return None, f"{path.name}: unreadable ({e})"
    if stored != expected:
        what = [k for k in expected if stored.get(k) != expected[k]]
        if "models" in what:
            what[what.index("models")] = "models " + ", ".join(m for m in expected["models"]
                                                               if stored.get("models", {}).get(m) != expected["models"][m])
        return None, f"{path.name} is stale: made from other {', '.join(what)} than the shipped ones"
    return arrays, ""


def load(name: str, directory=None) -> dict[str, np.ndarray] | None:
    """The shipped arrays of item ``name``, or None (logged) if the file is missing, corrupt or stale."""
    arrays, why = _read(name, directory)
    if arrays is None:
        log.warning("precomputed %s not used, computing it instead: %s (python -m rep_models.precomputed --only %s)",
                    name, why, name)
    return arrays


def compute(name: str, model: Callable[[str], object] | None = None, directory=None) -> dict[str, np.ndarray]:
    """Compute item ``name`` now, over the shipped data sample; ``model(name)`` gives each model (default
    :func:`app_model`; the app passes its cached ``ui.resources.load_model``)."""
    from .data import load_tensors

    item = ITEMS[name]
    model = model or (lambda m: app_model(m, directory))
    x = y = None
    if item.split:
        x, y = load_tensors("mnist", item.split, source="sample")
    return item.fn({m: model(m) for m in item.models}, x, y)


def get(name: str, model: Callable[[str], object] | None = None, directory=None) -> dict[str, np.ndarray]:
    """The shipped arrays of item ``name`` (:func:`load`), or, when they cannot be used, :func:`compute`'s."""
    arrays = load(name, directory)
    return arrays if arrays is not None else compute(name, model, directory)


def write(names=None, directory=None) -> dict[str, Path]:
    """Compute and write the files of ``names`` (default: every item); the same bytes for the same values."""
    from .sample_data import npz_bytes

    out = {}
    for name in names or ITEMS:
        arrays = compute(name, directory=directory)
        arrays["sources"] = np.array(json.dumps(sources(name, directory), sort_keys=True))
        path = path_for(name, directory)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(npz_bytes(arrays))
        os.replace(tmp, path)
        out[name] = path
    return out


def check(directory=None) -> dict[str, str]:
    """``{name: problem}`` for every item whose file is missing, corrupt or stale; ``{}`` when all are usable."""
    return {name: why for name in ITEMS for arrays, why in [_read(name, directory)] if arrays is None}


def main(argv: list[str] | None = None) -> None:
    import argparse
    import time

    import torch

    from .device import flush_denormals

    p = argparse.ArgumentParser(prog="python -m rep_models.precomputed", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(ITEMS), metavar="NAME", help=f"items to write: {', '.join(ITEMS)}")
    p.add_argument("--check", action="store_true", help="only check the shipped files; exit 1 if one is missing or stale")
    p.add_argument("--dir", help=f"the pretrained folder (default {checkpoint.PRETRAINED_DIR})")
    a = p.parse_args(argv)
    if a.check:
        problems = check(a.dir)
        for name, why in problems.items():
            print(f"{name}: {why}")
        print(f"{len(ITEMS) - len(problems)} of {len(ITEMS)} precomputed files usable")
        raise SystemExit(1 if problems else 0)
    torch.set_num_threads(1)  # as the app runs (app.py), so the values are the ones its pages computed
    flush_denormals()
    for name in a.only or ITEMS:
        t = time.perf_counter()
        path = write([name], a.dir)[name]
        print(f"{path}: {path.stat().st_size:,} bytes, {time.perf_counter() - t:.1f} s")
    print("now run: python -m rep_models.checkpoint manifest")


if __name__ == "__main__":
    main()
