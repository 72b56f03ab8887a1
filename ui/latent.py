"""Cached, per-process computations shared by the latent-space pages (4-9), over ``rep_models.explore``.

Each function is keyed by model *name* (a string), loads the model through ``ui.common.load_model`` and
caches its result with ``st.cache_resource``, so the first visitor pays once and every slider move after
that is only a decode. Functions return None when a model they need is not installed yet.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from rep_models import explore
from rep_models import inspect as rinspect
from ui import common as ui

N_CODES = 2000  # test digits encoded for directions and class means: 200 per class is plenty, and fast


@st.cache_resource(show_spinner="Encoding 2,000 test digits (once per server)…", max_entries=16)
def test_codes(name: str, n: int = N_CODES) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means ``(n, d)`` of the first ``n`` MNIST test digits under model ``name``, and their labels."""
    x, y = ui.test_set()
    model = ui.load_model(name)
    yy = y[:n] if getattr(model.config, "n_classes", 0) else None
    return explore.encode_all(model, x[:n], yy), y[:n].numpy()


@st.cache_resource(show_spinner=False, max_entries=32)
def directions(name: str, kind: str, k: int) -> explore.Directions:
    codes, _ = test_codes(name)
    return explore.principal_directions(codes, k) if kind == "principal" else explore.axis_directions(codes, k)


@st.cache_resource(show_spinner=False, max_entries=16)
def class_means(name: str) -> np.ndarray:
    codes, labels = test_codes(name)
    return explore.class_means(codes, labels)


@st.cache_resource(show_spinner="Decoding the 2-D map…", max_entries=8)
def manifold(name: str, n: int) -> explore.Manifold:
    return explore.manifold_grid(ui.load_model(name), n)


@st.cache_resource(show_spinner="Classifying 2,000 samples (once per server)…", max_entries=8)
def gan_histogram(name: str, n: int = 2000, seed: int = 1234) -> tuple[np.ndarray, float]:
    """The classifier's digit counts ``(10,)`` over ``n`` samples of GAN ``name``, and its mean confidence."""
    images = explore.gan_samples(ui.load_model(name), n, seed)
    return explore.class_histogram(ui.load_model("classifier"), images)


N_PCA = 10_000  # training digits for the PCA: its top components are stable well before 55,000


@st.cache_resource(show_spinner="Computing PCA of 10,000 training digits (once per server)…")
def train_pca() -> explore.PCA:
    return explore.pca_fit(train_images(N_PCA)[0])


@st.cache_resource(show_spinner="Loading MNIST training digits…", max_entries=4)
def train_images(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` of the 10,000 shipped training digits ``(n,1,28,28)`` and labels (drawn class-balanced
    from the split the models were trained on; data/mnist_sample.npz). ``n`` beyond 10,000 gives 10,000."""
    from rep_models.data import load_tensors

    x, y = load_tensors("mnist", "full_train", source="sample")
    return x[:n].clone(), y[:n].clone()


@st.cache_resource(show_spinner=False)
def train_slot() -> explore.TrainSlot:
    """The one training slot of this server process (Train live runs one model at a time)."""
    return explore.TrainSlot()


def encode_one(name: str, image: np.ndarray | None, digit: int | None = None) -> np.ndarray | None:
    """The code ``(d,)`` of one ``(28, 28)`` image under model ``name`` (posterior mean), or None without an image."""
    if image is None:
        return None
    model = ui.load_model(name)
    x = rinspect.as_batch(image).to(next(model.parameters()).device)
    with torch.inference_mode():
        z = model.encode(x) if digit is None else model.encode(x, torch.tensor([int(digit)], device=x.device))
    return z[0].float().cpu().numpy()


def predict(image: np.ndarray) -> tuple[int, float] | None:
    """The classifier's top digit and probability for one image, or None while it is not installed."""
    if not ui.is_available("classifier"):
        return None
    return rinspect.top_k(ui.load_model("classifier"), image, k=1)[0]


def prediction_caption(image: np.ndarray) -> str:
    p = predict(image)
    return "" if p is None else f"classifier: **{p[0]}** ({100 * p[1]:.0f} %)"


show_image = ui.show_image  # one implementation (PNG at its exact integer scale)


def show_rgb(rgb: np.ndarray, caption: str | None = None) -> None:
    """An RGB uint8 image ``(H, W, 3)`` shown at its exact size as PNG."""
    st.image(rgb, caption=caption, width=int(rgb.shape[1]), output_format="PNG")
