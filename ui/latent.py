"""Cached, per-process computations shared by the latent-space pages (4-9), over ``rep_models`` (codes,
directions, the 2-D manifold, GAN samples, the PCA, Train live's slot).

Each function is keyed by model *name* (a string), loads the model through ``ui.resources.load_model`` and
caches its result with ``st.cache_resource``, so the first visitor pays once and every slider move after
that is only a decode. Functions return None when a model they need is not installed yet. What they would
compute over the data set on first use ships precomputed (``rep_models.precomputed``: test codes, GAN
histograms, the PCA), and ``ui.warmup`` fills the rest (manifold grids, Few labels codes) after a start.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from rep_models import precomputed
from rep_models.codes import as_batch, encode_all
from rep_models.directions import Directions, axis_directions, principal_directions
from rep_models.directions import class_means as mean_codes
from rep_models.live_projection import LayoutSlot
from rep_models.manifold import Manifold, manifold_grid
from rep_models.pca import PCA
from rep_models.pca import fit as fit_pca
from rep_models.predict import top_k
from rep_models.sampling import class_histogram, gan_samples
from rep_models.training.live import TrainSlot
from ui import display, resources
from ui.background import yield_to_pages
from ui.i18n import Later, t

N_CODES = precomputed.N_CODES  # test digits encoded for directions and class means: 200 per class is plenty


@st.cache_resource(show_spinner=Later("spin.test_codes"), max_entries=16)
def test_codes(name: str, n: int = N_CODES) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means ``(n, d)`` of the first ``n`` MNIST test digits under model ``name``, and their labels
    (shipped for the VAEs: ``rep_models.precomputed``)."""
    if n == N_CODES and f"test_codes_{name}" in precomputed.ITEMS:
        a = precomputed.get(f"test_codes_{name}", resources.load_model)
        return a["codes"], a["labels"].astype(np.int64)
    x, y = resources.test_set()
    model = resources.load_model(name)
    yy = y[:n] if getattr(model.config, "n_classes", 0) else None
    return encode_all(model, x[:n], yy), y[:n].numpy()


@st.cache_resource(show_spinner=False, max_entries=32)
def directions(name: str, kind: str, k: int) -> Directions:
    codes, _ = test_codes(name)
    return principal_directions(codes, k) if kind == "principal" else axis_directions(codes, k)


@st.cache_resource(show_spinner=False, max_entries=16)
def class_means(name: str) -> np.ndarray:
    codes, labels = test_codes(name)
    return mean_codes(codes, labels)


MANIFOLD_SIZES = (7, 11, 15, 21)  # the 2-D map's grid sizes (the VAE page's choices; warmed after a start)


@st.cache_resource(show_spinner=Later("spin.manifold"), max_entries=8)
def manifold(name: str, n: int) -> Manifold:
    return manifold_grid(resources.load_model(name), n)


@st.cache_resource(show_spinner=Later("spin.gan_histogram"), max_entries=8)
def gan_histogram(name: str, n: int = precomputed.N_GAN, seed: int = precomputed.GAN_SEED) -> tuple[np.ndarray, float]:
    """The classifier's digit counts ``(10,)`` over ``n`` samples of GAN ``name``, and its mean confidence
    (shipped for the default ``n`` and ``seed``: ``rep_models.precomputed``)."""
    if (n, seed) == (precomputed.N_GAN, precomputed.GAN_SEED) and f"gan_histogram_{name}" in precomputed.ITEMS:
        a = precomputed.get(f"gan_histogram_{name}", resources.load_model)
        return a["counts"], float(a["mean_top_prob"])
    images = gan_samples(resources.load_model(name), n, seed)
    return class_histogram(resources.load_model("classifier"), images)


N_PCA = precomputed.N_PCA  # training digits for the PCA: its top components are stable well before 55,000


def train_pca(components: int = precomputed.PCA_COMPONENTS) -> PCA:
    """PCA of the 10,000 shipped training digits: the mean, at least the top ``components`` components (the
    shipped 32 when that is enough, else all 784) and every eigenvalue."""
    return _shipped_pca() if components <= precomputed.PCA_COMPONENTS else _full_pca()


@st.cache_resource(show_spinner=Later("spin.train_pca"))
def _shipped_pca() -> PCA:
    a = precomputed.get("train_pca", resources.load_model)
    return PCA(a["mean"], a["components"], a["eigenvalues"])


@st.cache_resource(show_spinner=Later("spin.train_pca"))
def _full_pca() -> PCA:
    return fit_pca(train_images(N_PCA)[0])


FEW_POOL = 10_000  # Few labels: all the shipped training digits, which the labelled subsets are drawn from (their codes also set the scaling)
FEW_TEST = 5_000  # and test digits it scores on
FEW_LABEL_DEFAULTS = ("conv_ae", "vae")  # the encoders its re-run starts with (warmed first)


@st.cache_resource(show_spinner=False, max_entries=16)
def few_label_codes(rep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pool codes, pool labels, test codes, test labels) of a representation (``"pixels"`` or an encoder) for
    the Few labels page: ``FEW_POOL`` training and ``FEW_TEST`` test digits. Too big to ship (10,000 codes per
    encoder); ``ui.warmup`` computes them after a start."""
    x, y = train_images(FEW_POOL)
    xt, yt = resources.test_set()
    xt, yt = xt[:FEW_TEST], yt[:FEW_TEST]
    if rep == "pixels":
        return x.reshape(len(x), -1).numpy(), y.numpy(), xt.reshape(len(xt), -1).numpy(), yt.numpy()
    model = resources.load_model(rep)
    return _encode_giving_way(model, x), y.numpy(), _encode_giving_way(model, xt), yt.numpy()


def _encode_giving_way(model, x: torch.Tensor, batch: int = 1000) -> np.ndarray:
    """``encode_all(model, x)`` (the same batches, so the same numbers), one batch at a time; in the
    warm-up thread it gives way to the pages before each batch (``ui.background.yield_to_pages``)."""
    parts = []
    for i in range(0, len(x), batch):
        yield_to_pages()
        parts.append(encode_all(model, x[i : i + batch], batch_size=batch))
    return np.concatenate(parts) if parts else encode_all(model, x, batch_size=batch)


@st.cache_resource(show_spinner=Later("spin.train_digits"), max_entries=4)
def train_images(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` of the 10,000 shipped training digits ``(n,1,28,28)`` and labels (drawn class-balanced
    from the split the models were trained on; data/mnist_sample.npz). ``n`` beyond 10,000 gives 10,000."""
    from rep_models.data import load_tensors

    x, y = load_tensors("mnist", "full_train", source="sample")
    return x[:n].clone(), y[:n].clone()


@st.cache_resource(show_spinner=False)
def train_slot() -> TrainSlot:
    """The one training slot of this server process (Train live runs one model at a time)."""
    return TrainSlot()


@st.cache_resource(show_spinner=False)
def layout_slot() -> LayoutSlot:
    """The one live-layout slot of this server process (the latent map re-runs one t-SNE or UMAP at a time)."""
    return LayoutSlot()


def encode_one(name: str, image: np.ndarray | None, digit: int | None = None) -> np.ndarray | None:
    """The code ``(d,)`` of one ``(28, 28)`` image under model ``name`` (posterior mean), or None without an image."""
    if image is None:
        return None
    model = resources.load_model(name)
    x = as_batch(image).to(next(model.parameters()).device)
    with torch.inference_mode():
        z = model.encode(x) if digit is None else model.encode(x, torch.tensor([int(digit)], device=x.device))
    return z[0].float().cpu().numpy()


def predict(image: np.ndarray) -> tuple[int, float] | None:
    """The classifier's top digit and probability for one image, or None while it is not installed."""
    if not resources.is_available("classifier"):
        return None
    return top_k(resources.load_model("classifier"), image, k=1)[0]


def prediction_caption(image: np.ndarray) -> str:
    p = predict(image)
    return "" if p is None else t("common.prediction", d=p[0], pct=f"{100 * p[1]:.0f}")


show_image = display.show_image  # one implementation (PNG at its exact integer scale)


def show_rgb(rgb: np.ndarray, caption: str | None = None) -> None:
    """An RGB uint8 image ``(H, W, 3)`` shown at its exact size as PNG."""
    st.image(rgb, caption=caption, width=int(rgb.shape[1]), output_format="PNG")
