"""The app's shared models and data, loaded once per process (``st.cache_resource``) and shared by every
session: the compute device, the shipped models, their cards and metrics, the MNIST test digits, and the Draw
page's references (the anomaly model's errors on the test set, the not-a-digit detectors).

    model = require_model("dcgan")      # the model, or None after an st.info "not available yet" (never raises)
    x, y = test_set()                   # (10000, 1, 28, 28) float in [0, 1], (10000,) int64
"""
from __future__ import annotations

import gc
import json
import logging
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from rep_models import catalogue, checkpoint, fast
from rep_models.anomaly import ANOMALY_MODEL
from rep_models.device import describe, pick_device
from ui import i18n
from ui.i18n import Later, t

log = logging.getLogger("latent_lab")


@dataclass(frozen=True)
class ModelInfo:
    title: str
    family: str  # the home page group: one of rep_models.catalogue.GROUPS
    what: str


MODEL_INFO: dict[str, ModelInfo] = {n: ModelInfo(e.title, e.group, e.what) for n, e in catalogue.CATALOGUE.items() if e.shown}


@st.cache_resource(show_spinner=False)
def device() -> torch.device:
    return pick_device("auto")


def device_label() -> str:
    d = device()
    if d.type == "cpu":
        n = torch.get_num_threads()
        return t("common.cpu_one" if n == 1 else "common.cpu", n=n)
    return describe(d)


def is_available(name: str) -> bool:
    return checkpoint.is_shipped(name)


@st.cache_resource(show_spinner=Later("spin.model"), max_entries=32)
def load_model(name: str):
    """The shipped model ``name`` in eval mode on :func:`device`, shared by every session.

    Raises ``CheckpointError`` if it is missing or corrupt (errors are not cached: it loads once the file appears).
    The model comes through ``rep_models.fast.optimize`` (batch norm folded, sub-pixel deconvolutions): the same
    class and methods, the same outputs, faster on a CPU (bench/RESULTS.md); it is for inference only.
    """
    model = checkpoint.load_pretrained(name, device())
    try:
        model = fast.optimize(model)
    except Exception:  # noqa: BLE001 - a rewrite that does not apply must not cost the page its model
        log.exception("fast path failed for %s; serving the plain model", name)
    # Everything alive now (torch, the models, the imports) lives as long as the server: out of the garbage
    # collector's sight, so its automatic full collections stay cheap (.streamlit/config.toml: postScriptGC).
    gc.freeze()
    return model


def require_model(name: str, purpose: str | None = None):
    """The shipped model, or None after telling the user it is not available yet. Never raises."""
    title = i18n.model(name) if name in MODEL_INFO else name
    if not is_available(name):
        st.info(t("common.not_available", model=title, part=purpose or t("common.this_part")), icon=":material/hourglass_top:")
        return None
    try:
        return load_model(name)
    except checkpoint.CheckpointError as e:
        log.warning("cannot load %s: %s", name, e)
        st.warning(t("common.cannot_load", model=title), icon=":material/error:")
        return None


def card(name: str) -> dict | None:
    try:
        return checkpoint.read_card(checkpoint.PRETRAINED_DIR / name)
    except checkpoint.CheckpointError:
        return None


def metrics() -> dict:
    path = checkpoint.PRETRAINED_DIR / "metrics.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def stylegan_ablation() -> dict | None:
    """The StyleGAN trick ablation (``python bench/stylegan_ablation.py`` writes ``pretrained/stylegan_ablation.json``:
    ``meta`` and one row per variant); None where it is absent or unreadable."""
    path = checkpoint.PRETRAINED_DIR / "stylegan_ablation.json"
    try:
        table = json.loads(path.read_text()) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None
    return table if isinstance(table, dict) and isinstance(table.get("rows"), list) and table["rows"] else None


@st.cache_resource(show_spinner=Later("spin.test_digits"))
def test_set() -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 MNIST test digits that ship with the app (data/mnist_sample.npz). Raises DatasetError."""
    from rep_models.data import load_tensors

    return load_tensors("mnist", "test", source="sample")


@st.cache_resource(show_spinner=Later("spin.anomaly"))
def _anomaly_reference(_model_id: int) -> np.ndarray:
    from rep_models import precomputed  # shipped (pretrained/precomputed_anomaly_*.npz); computed if stale

    return precomputed.get(f"anomaly_{ANOMALY_MODEL}", load_model)["errors"]


def anomaly_reference() -> np.ndarray | None:
    """Sorted per-image reconstruction errors of the anomaly model on the MNIST test set, or None if unavailable."""
    return _for_model(ANOMALY_MODEL, _anomaly_reference, "no anomaly reference")


@st.cache_resource(show_spinner=Later("spin.anomaly"))
def _free_energy_reference(_model_id: int) -> np.ndarray:
    from rep_models import precomputed  # shipped (pretrained/precomputed_free_energy_rbm.npz); computed if stale

    return precomputed.get("free_energy_rbm", load_model)["energies"]


def free_energy_reference() -> np.ndarray | None:
    """Sorted free energies of the RBM on the MNIST test digits (its anomaly score's reference), or None."""
    return _for_model("rbm", _free_energy_reference, "no free-energy reference")


def _for_model(name: str, make, what: str):
    """``make(id(model))`` for shipped model ``name`` (cached there by model), or None, logged, when it cannot be made."""
    if not is_available(name):
        return None
    try:
        return make(id(load_model(name)))
    except Exception as e:  # noqa: BLE001 - the data set or model is missing: the page shows the rest
        log.warning("%s: %s", what, e)
        return None


@st.cache_resource(show_spinner=False)
def _not_a_digit_detectors(_model_id: int) -> dict | None:
    from rep_models import ood, precomputed  # shipped: pretrained/precomputed_not_a_digit.npz

    arrays = precomputed.load(ood.ITEM)  # missing or stale: None (logged); fitting it here would take minutes
    return None if arrays is None else ood.detectors(arrays)


def not_a_digit_detectors() -> dict | None:
    """The Draw page's not-a-digit detectors, one per input channel (``rep_models.ood``), or None if unavailable (the
    shipped file missing or made from another classifier: the page then gives the autoencoder's verdict)."""
    return _for_model("classifier", _not_a_digit_detectors, "no not-a-digit detector")
