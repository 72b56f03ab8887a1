"""Every quality measure of the model zoo as a plain function (the bars that use them: rep_models.catalogue).

Images are ``(B, 1, 28, 28)`` floats in [0, 1]; codes are ``(B, d)``; returned scalars are Python floats.
"""
from __future__ import annotations

import numpy as np
import torch

from . import pca


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def few_label_accuracy(train_codes, train_labels, test_codes, test_labels, n_labels: int = 100,
                       draws: int = 5, seed: int = 0, max_iter: int = 1000) -> tuple[float, float]:
    """Test accuracy of a logistic regression fitted on ``n_labels`` labelled codes (``n_labels // 10`` per
    class), mean and standard deviation over ``draws`` random labelled subsets.

    train_codes ``(N, d)``, train_labels ``(N,)``, test_codes ``(M, d)``, test_labels ``(M,)``; arrays or
    tensors. Codes are standardised with the mean and std of ALL ``train_codes`` (unlabelled statistics
    are fair game in the few-label setting; 100 samples alone give wild scales to rarely-active units).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from .data import balanced_subset

    xtr, ytr = _np(train_codes).reshape(len(train_codes), -1), _np(train_labels).astype(np.int64)
    xte, yte = _np(test_codes).reshape(len(test_codes), -1), _np(test_labels).astype(np.int64)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise ValueError(f"codes and labels differ in length: train {len(xtr)} vs {len(ytr)}, test {len(xte)} vs {len(yte)}")
    n_classes = len(np.unique(ytr))
    if n_labels < n_classes or n_labels > len(ytr):
        raise ValueError(f"n_labels must be between {n_classes} (one per class) and {len(ytr)}, got {n_labels}")
    scaler = StandardScaler().fit(xtr)
    xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    accs = []
    for d in range(draws):
        idx = balanced_subset(torch.from_numpy(ytr), n_labels, seed=seed + d).numpy()
        clf = LogisticRegression(max_iter=max_iter).fit(xtr[idx], ytr[idx])
        accs.append(float((clf.predict(xte) == yte).mean()))
    return float(np.mean(accs)), float(np.std(accs))


def few_label_spreading_accuracy(train_codes, train_labels, test_codes, test_labels, n_labels: int = 100,
                                 draws: int = 5, seed: int = 0, k: int = 10, max_dim: int = 50) -> tuple[float, float]:
    """Like :func:`few_label_accuracy` but the ``n_labels`` labels are spread over the ``k``-nearest-neighbour
    graph of all codes, train and test together (:mod:`rep_models.semi`; transductive: the unlabelled codes
    shape the classes). Codes are standardised; wider than ``max_dim`` they are first reduced by PCA.
    Returns the mean and standard deviation of the test accuracy over ``draws`` labelled subsets."""
    from .data import balanced_subset
    from .semi import knn_graph, label_spreading

    xtr, ytr = _np(train_codes).reshape(len(train_codes), -1), _np(train_labels).astype(np.int64)
    xte, yte = _np(test_codes).reshape(len(test_codes), -1), _np(test_labels).astype(np.int64)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        raise ValueError(f"codes and labels differ in length: train {len(xtr)} vs {len(ytr)}, test {len(xte)} vs {len(yte)}")
    if n_labels < 10 or n_labels > len(ytr):
        raise ValueError(f"n_labels must be between 10 (one per class) and {len(ytr)}, got {n_labels}")
    std = xtr.std(0)
    std[std < 1e-6] = 1.0  # as StandardScaler: a constant unit (a corner pixel) is centred, not blown up
    z = torch.from_numpy(((np.concatenate([xtr, xte]) - xtr.mean(0)) / std).astype(np.float32))
    if z.shape[1] > max_dim:  # exact (the covariance's eigenvectors: well under a second for 10,000 x 784)
        z = torch.from_numpy(pca.fit(z, max_dim).transform(z).astype(np.float32))
    neighbours, distances = knn_graph(z, k)
    accs = []
    for d in range(draws):
        idx = balanced_subset(torch.from_numpy(ytr), n_labels, seed=seed + d).numpy()
        labels = -np.ones(len(z), dtype=np.int64)
        labels[idx] = ytr[idx]
        pred = label_spreading(neighbours, distances, labels, n_classes=int(ytr.max()) + 1).argmax(1)
        accs.append(float((pred[len(xtr):] == yte).mean()))
    return float(np.mean(accs)), float(np.std(accs))


# ---------------------------------------------------------------------------------------------- helpers

def _batches(n: int, batch_size: int):
    for i in range(0, n, batch_size):
        yield slice(i, min(i + batch_size, n))


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def _map_batches(fn, x: torch.Tensor, batch_size: int, device) -> torch.Tensor:
    """``fn`` applied to ``x`` in batches, results concatenated on the CPU."""
    return torch.cat([fn(x[s].to(device)).float().cpu() for s in _batches(len(x), batch_size)])


# ------------------------------------------------------------------------------------ reconstruction

def pca_basis(train_x, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and the top-``k`` principal directions ``(D, k)`` (orthonormal columns) of
    ``train_x`` ``(N, ...)`` flattened to ``(N, D)``."""
    a = _np(train_x).reshape(len(train_x), -1)
    if not 1 <= k <= min(a.shape):
        raise ValueError(f"k must be between 1 and {min(a.shape)}, got {k}")
    p = pca.fit(a, k)
    return p.mean, p.components.T


def pca_mse(train_x, test_x, k: int = 32, basis: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Per-pixel MSE of projecting ``test_x`` ``(M, ...)`` onto the top-``k`` PCA subspace of ``train_x``
    ``(N, ...)`` and back (no clipping): the best any linear ``k``-d autoencoder can do. ``basis`` is
    ``pca_basis(train_x, k)`` if already computed."""
    mean, v = basis if basis is not None else pca_basis(train_x, k)
    b = _np(test_x).reshape(len(test_x), -1).astype(np.float64) - mean
    return float(((b - b @ v @ v.T) ** 2).mean())


def principal_angles_deg(a, b) -> np.ndarray:
    """Principal angles in degrees, ascending, between the column spans of ``a`` ``(D, k1)`` and ``b``
    ``(D, k2)`` (``min(k1, k2)`` angles; 0 means a shared direction)."""
    from scipy.linalg import subspace_angles

    return np.sort(np.degrees(subspace_angles(_np(a).astype(np.float64), _np(b).astype(np.float64))))


def largest_angle_to_pca(decoder_weight, train_x, basis: np.ndarray | None = None) -> float:
    """Largest principal angle (degrees) between a linear decoder's column span, ``decoder_weight``
    ``(D, k)`` (``nn.Linear(k, D).weight``), and the top-``k`` PCA subspace of ``train_x`` (``basis``
    ``(D, k)`` = ``pca_basis(train_x, k)[1]`` if already computed)."""
    w = _np(decoder_weight)
    basis = basis if basis is not None else pca_basis(train_x, w.shape[1])[1]
    return float(principal_angles_deg(w, basis).max())


def test_mse(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1000, clip: bool = False) -> float:
    """Mean per-pixel squared error of ``model(x)`` against ``x`` ``(B,1,28,28)``. ``clip`` clamps the
    output to [0, 1] first (only matters for the linear AE, whose decoder has no sigmoid; off by default
    so the linear AE is compared with unclipped PCA on equal terms)."""
    dev = _device(model)

    def err(xb):
        rec = model(xb)
        rec = rec.clamp(0, 1) if clip else rec
        return ((rec - xb) ** 2).flatten(1).mean(1)

    return float(_map_batches(err, x, batch_size, dev).mean())


# ------------------------------------------------------------------------------------------------ VAE

@torch.inference_mode()
def vae_neg_elbo(model, x: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 1000, seed: int = 0) -> float:
    """Mean negative ELBO in nats per image (Bernoulli likelihood on [0, 1] pixels, one posterior sample
    per image, the training loss with beta = 1). ``y`` ``(B,)`` only for a conditional VAE."""
    torch.manual_seed(seed)
    dev, total = _device(model), 0.0
    for s in _batches(len(x), batch_size):
        rec, kl = model.elbo_terms(x[s].to(dev), None if y is None else y[s].to(dev))
        total += float((rec + kl).sum())
    return total / len(x)


_LOG2PI = float(np.log(2 * np.pi))


@torch.inference_mode()
def vae_iwae(model, x: torch.Tensor, y: torch.Tensor | None = None, k: int = 100, batch_size: int = 50, seed: int = 0) -> float:
    """Importance-weighted estimate of -log p(x) (Burda et al. 2016) with ``k`` samples, mean nats per image.

    -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x): a tighter bound than the ELBO (equal at
    k = 1), approaching -log p(x) as k grows. Same Bernoulli likelihood as ``VAE.elbo_terms``.
    """
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    dev, total = _device(model), 0.0
    for s in _batches(len(x), batch_size):
        xb = x[s].to(dev)
        yb = None if y is None else y[s].to(dev)
        mu, logvar = model.encode_stats(xb, yb)  # (b, d)
        std = (0.5 * logvar).exp()
        eps = torch.randn((k, *mu.shape), generator=g).to(dev)  # (k, b, d)
        z = mu + eps * std
        b, d = mu.shape
        yk = None if yb is None else yb.repeat(k)
        logits = model.decode_logits(z.reshape(k * b, d), yk)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, xb.repeat(k, 1, 1, 1), reduction="none").flatten(1).sum(1).reshape(k, b)
        log_pz = -0.5 * (z.pow(2) + _LOG2PI).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + _LOG2PI + logvar).sum(-1)
        log_w = log_px_z + log_pz - log_qz  # (k, b)
        total += float(-(torch.logsumexp(log_w, 0) - np.log(k)).sum())
    return total / len(x)


# ------------------------------------------------------------------------------------------- denoising

def denoising_psnr(denoise, x: torch.Tensor, kind: str, level: float, seed: int = 0, batch_size: int = 1000) -> dict:
    """Mean PSNR (dB) on ``x`` ``(B,1,28,28)`` corrupted by ``noise.corrupt(kind, level, seed)``: of the
    noisy input, of ``denoise`` (a callable on a batch), of the best classical filter (chosen per
    setting on this very data, an oracle baseline) and of the 3x3 median filter."""
    from . import noise

    noisy = noise.corrupt(x, kind, level, seed=seed)
    with torch.inference_mode():
        den = torch.cat([denoise(noisy[s]).float().cpu() for s in _batches(len(x), batch_size)])
    best_name, best = noise.best_classical(noisy, x)
    return {
        "noisy": float(noise.psnr(x, noisy).mean()),
        "model": float(noise.psnr(x, den.clamp(0, 1)).mean()),
        "best_classical": float(noise.psnr(x, best).mean()),
        "best_classical_name": best_name,
        "median3": float(noise.psnr(x, noise.median_filter(noisy, 3)).mean()),
    }


# ------------------------------------------------------------------------------------- code properties

@torch.inference_mode()
def encode_all(model, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Codes ``(B, d)`` of ``x`` ``(B,1,28,28)`` through ``model.encode`` (feature maps flattened)."""
    return _map_batches(lambda xb: model.encode(xb).flatten(1), x, batch_size, _device(model))


def mean_activation(codes) -> float:
    """Mean code activation over images and units of ``codes`` ``(B, d)`` (compare with the sparsity
    target rho)."""
    return float(_np(codes).mean())


def jacobian_frobenius(encode, x: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """Frobenius norm of the encoder Jacobian d code / d x per image ``(B,)`` for any ``encode``
    mapping ``(b,1,28,28)`` -> ``(b, d)``, by ``torch.func.jacrev`` vectorised with ``vmap``."""
    from torch.func import jacrev, vmap

    def one(xi):  # (1,28,28) -> (d,)
        return encode(xi[None])[0]

    out = []
    for s in _batches(len(x), batch_size):
        with torch.no_grad():
            j = vmap(jacrev(one))(x[s])  # (b, d, 1, 28, 28)
        out.append(j.flatten(1).norm(dim=1).cpu())
    return torch.cat(out)


# ----------------------------------------------------------------------------- samples and classifier

def predict_proba(classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities ``(B, 10)`` of images ``(B,1,28,28)`` in [0, 1]."""
    return _map_batches(classifier.predict_proba, images, batch_size, _device(classifier))


def classifier_features(classifier, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate features ``(B, F)`` of the classifier (for the Frechet distance)."""
    return _map_batches(classifier.features, images, batch_size, _device(classifier))


def classifier_error(model, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of ``x`` misclassified by a model whose ``forward`` gives logits ``(B, 10)``."""
    logits = _map_batches(model, x, batch_size, _device(model))
    return float((logits.argmax(1) != y.cpu()).float().mean())


def class_histogram(probs) -> dict:
    """From class probabilities ``(B, 10)`` of generated images: the fraction of images given to each
    class ``(10,)`` (a good generator is near 10 % each) and the mean top-class probability (near 1 when
    the samples look like clear digits)."""
    p = _np(probs)
    hist = np.bincount(p.argmax(1), minlength=p.shape[1]) / len(p)
    return {"histogram": [float(h) for h in hist], "min_class_fraction": float(hist.min()),
            "max_class_fraction": float(hist.max()), "mean_top_prob": float(p.max(1).mean())}


def frechet_distance(feat_a, feat_b) -> float:
    """Frechet distance between Gaussians fitted to features ``(N, F)`` and ``(M, F)``:
    ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}) (the FID formula, here in the shipped
    classifier's feature space)."""
    a, b = _np(feat_a).astype(np.float64), _np(feat_b).astype(np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"features must be (N, F) and (M, F) with the same F, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr (S_a S_b)^{1/2} is the sum of the square roots of the eigenvalues of S_a S_b (real and >= 0 for
    # PSD S_a, S_b): stable where scipy's sqrtm warns about the singular covariances of dead ReLU units.
    eig = np.linalg.eigvals(s_a @ s_b).real.clip(min=0)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * np.sqrt(eig).sum())


def conditional_agreement(model, classifier, n_per_digit: int = 1000, seed: int = 0) -> float:
    """Fraction of a conditional generator's samples (``model.sample(n, seed, digit=d)`` for d = 0..9) the
    classifier labels as the requested digit."""
    hits = 0
    for d in range(10):
        imgs = model.sample(n_per_digit, seed=seed + d, digit=d)
        hits += int((predict_proba(classifier, imgs).argmax(1) == d).sum())
    return hits / (10 * n_per_digit)


# -------------------------------------------------------------------------------------------- 2-D maps

def knn_accuracy(coords, labels, k: int = 10) -> float:
    """Leave-one-out ``k``-NN classification accuracy of ``labels`` ``(N,)`` from 2-D ``coords`` ``(N, 2)``
    (majority vote of the k nearest other points): how well the map keeps classes together."""
    from sklearn.neighbors import NearestNeighbors

    c, y = _np(coords).astype(np.float32), _np(labels).astype(np.int64)
    if len(c) != len(y) or len(c) <= k:
        raise ValueError(f"need more than k={k} points with one label each, got {len(c)} points, {len(y)} labels")
    idx = NearestNeighbors(n_neighbors=k + 1).fit(c).kneighbors(c, return_distance=False)[:, 1:]
    votes = np.apply_along_axis(np.bincount, 1, y[idx], minlength=y.max() + 1)
    return float((votes.argmax(1) == y).mean())


def trustworthiness(codes, coords, k: int = 10) -> float:
    """sklearn's trustworthiness of a 2-D map ``coords`` ``(N, 2)`` of ``codes`` ``(N, d)``: 1 when the
    k nearest neighbours in the map are also near in the code space (no false neighbours)."""
    from sklearn.manifold import trustworthiness as tw

    return float(tw(_np(codes).reshape(len(codes), -1).astype(np.float32), _np(coords).astype(np.float32), n_neighbors=k))


@torch.inference_mode()
def style_mixing(model, classifier, n_pairs: int = 2000, seed: int = 0) -> dict:
    """Style mixing of a style-based generator, measured: for ``n_pairs`` random pairs (A, B) and every crossover
    k = 1 .. n_styles - 1, the image made of A's first k styles and B's others (the same fixed noise maps as A's).
    Per crossover: the share the classifier reads as A's digit, as B's, and the mean absolute pixel difference from
    A. The headline figures are at ``model.coarse_styles`` (A's 7x7 styles, B's finer ones): the digit should stay
    A's while the stroke changes."""
    g = torch.Generator().manual_seed(seed)
    za, zb = torch.randn(n_pairs, model.latent_dim, generator=g), torch.randn(n_pairs, model.latent_dim, generator=g)
    device = next(model.parameters()).device
    wa, wb = model.mapping(za.to(device)), model.mapping(zb.to(device))
    img_a = model.synthesis(model.broadcast(wa), noise="const").cpu()
    img_b = model.synthesis(model.broadcast(wb), noise="const").cpu()
    label_a, label_b = predict_proba(classifier, img_a).argmax(1), predict_proba(classifier, img_b).argmax(1)
    rows = []
    for k in range(1, model.n_styles):
        mixed = model.synthesis(model.mix(wa, wb, k), noise="const").cpu()
        label = predict_proba(classifier, mixed).argmax(1)
        rows.append({"crossover": k, "agreement_a": float((label == label_a).float().mean()),
                     "agreement_b": float((label == label_b).float().mean()),
                     "pixel_diff": float((mixed - img_a).abs().mean())})
    head = rows[model.coarse_styles - 1]
    return {"style_mixing_agreement": head["agreement_a"], "style_mixing_pixel_diff": head["pixel_diff"],
            "style_mixing_crossover": model.coarse_styles, "style_mixing_pairs": n_pairs,
            "style_mixing_same_digit_pairs": float((label_a == label_b).float().mean()),  # the chance two samples agree anyway
            "style_mixing_by_crossover": rows}
