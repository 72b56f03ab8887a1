"""Is it a digit at all? The Draw page's verdict, from the classifier's features (Lee et al. 2018).

The autoencoders' reconstruction error misses much of what users try once it has gone through the page's
input path (cropped to the ink, fitted in 20x20, centred): a letter or a photographed shoe becomes a
digit-sized blob that a convolutional autoencoder rebuilds well, and the classifier's softmax is confident
on it anyway. What works there, measured on those inputs (``rep_models.ood_sets``, ``python -m
rep_models.evaluate``; README has the figures and the candidates compared), is the distance to the digits in
the shipped classifier's own features, layer by layer:

- at four depths of the classifier (:data:`LAYERS`): the first and second convolution blocks (the mean and
  standard deviation of each channel over the image: stroke texture and width), the third (the channel means)
  and the penultimate layer (the 128 features the digit is named from);
- at each, class-conditional Gaussians fitted to training digits, each class with its own covariance (shrunk a
  little toward the identity), and the negative log-likelihood under the most likely class: its Mahalanobis
  distance plus the log-determinant (:class:`Gaussians`; one covariance shared by the classes, as Lee et al.,
  let a quarter of the drawn letters through);
- the four logs of those, each standardised by its spread over training digits, averaged: the *score*.

Calibrated on training digits only, the shipped sample's 10,000, read by the page's input path as they would
arrive (``ood_sets``): one detector per way in (:data:`CHANNELS`), because a digit drawn with the canvas's brush
(even, hard-edged strokes) and a photographed or scanned one (grey, soft) are far apart in these features, and
one detector for both flags a quarter of the drawn digits or lets most letters through. The draw detector is
fitted to the 10,000 training digits drawn on the canvas, the upload detector to the same digits uploaded (half
as pictures, half as photos). Each score's reference distribution is out of fold (5 folds: a digit's score comes
from Gaussians fitted without it), so a new input and the reference are scored alike; the page flags an input
whose score is above :data:`FLAG_PERCENTILE` of them. The fitted Gaussians and the references ship as
``pretrained/precomputed_not_a_digit.npz`` (``rep_models.precomputed``, :func:`calibrate`).

    dets = detectors(precomputed.get(ITEM, load_model))    # {"draw": Detector, "upload": Detector}
    det = dets[channel_of(ui_source)]
    s = det.score(classifier, x)[0]                       # x: (B, 1, 28, 28) or one (28, 28) image
    v = verdict(s, det, top_k(classifier, x), channel)     # the page's headline and its reason
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

ITEM = "not_a_digit"  # the precomputed item (pretrained/precomputed_not_a_digit.npz)
# The classifier's layers the score reads: (name, pooling over the image) in depth order.
LAYERS = (("first convolution block", "mean+std"), ("second convolution block", "mean+std"),
          ("third convolution block", "mean"), ("penultimate layer", None))
# The page's two ways in, each with its own detector calibrated on training digits that came that way: a canvas
# drawing's strokes are even and hard-edged, a picture's grey and soft, and each kind of digit is far from the other.
CHANNELS = {"draw": "drawn on this canvas", "upload": "uploaded as pictures or photos"}
FLAG_PERCENTILE = 99.0  # of training digits' scores: above it the page says "not a digit"
UNUSUAL_PERCENTILE = 95.0  # above it, an unusual digit
FOLDS = 5
N_QUANTILES = 1001  # the reference's quantiles shipped (0.1 % steps)
SHRINK = 0.03  # each class's covariance: 97 % its own, 3 % its mean variance times I (chosen by measurement: README)
RIDGE = 1e-6  # and + RIDGE * mean variance * I: a direction no training digit varies in stays finite


@torch.inference_mode()
def layer_features(classifier: nn.Module, x: torch.Tensor, batch_size: int = 500) -> list[np.ndarray]:
    """The classifier's features at each of :data:`LAYERS`: ``[(B, 64), (B, 128), (B, 128), (B, 128)]`` float64.

    Reads the output of each convolution block's ReLU (before its pooling) and the body's output; works on the
    plain model and on ``fast.optimize``'s (batch norms folded: the same ReLU outputs)."""
    param = next(classifier.parameters())
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(param.dtype).reshape(-1, 1, 28, 28)
    device = param.device
    out: list[list[np.ndarray]] = [[] for _ in LAYERS]
    for i in range(0, len(x), batch_size):
        h = x[i : i + batch_size].to(device)
        maps = []
        for m in classifier.body:
            h = m(h)
            if isinstance(m, nn.ReLU) and h.dim() == 4:
                maps.append(h)
        if len(maps) != len(LAYERS) - 1:
            raise ValueError(f"expected {len(LAYERS) - 1} convolution blocks in the classifier, found {len(maps)}")
        for j, ((_, pool), a) in enumerate(zip(LAYERS, [*maps, h], strict=True)):
            f = a if pool is None else torch.cat([a.mean((2, 3)), a.std((2, 3))], 1) if pool == "mean+std" else a.mean((2, 3))
            out[j].append(f.double().cpu().numpy())
    return [np.concatenate(o) if o else np.zeros((0, 0)) for o in out]


@dataclass
class Gaussians:
    """Class-conditional Gaussians, each class with its own covariance (shrunk by :data:`SHRINK` toward its mean
    variance times the identity), kept whitened: ``whiten`` (C, d, d) lower triangular with ``whiten[c] @
    whiten[c].T`` = the inverse of class c's covariance, ``means`` (C, d) the class means.

    A letter that the classifier reads as a 4 sits near the 4s' mean along directions the 4s hardly vary in; one
    covariance shared by all classes (Lee et al. 2018) counts those directions at the digits' overall spread and
    lets a quarter of the drawn letters through (README: "Knowing what is not a digit")."""

    means: np.ndarray
    whiten: np.ndarray

    @classmethod
    def fit(cls, f: np.ndarray, y: np.ndarray, n_classes: int | None = None) -> Gaussians:
        f = np.asarray(f, np.float64)
        y = np.asarray(y)
        n_classes = int(y.max()) + 1 if n_classes is None else n_classes
        missing = [c for c in range(n_classes) if (y == c).sum() < 2]
        if missing:
            raise ValueError(f"no training example (or only one) of class {missing}; every class needs at least two")
        means, whiten = [], []
        for c in range(n_classes):
            fc = f[y == c]
            mu = fc.mean(0)
            cov = (fc - mu).T @ (fc - mu) / len(fc)
            spread = max(float(np.trace(cov)) / len(cov), 1e-12)
            cov = (1 - SHRINK) * cov + (SHRINK + RIDGE) * spread * np.eye(len(cov))
            means.append(mu)
            whiten.append(np.linalg.cholesky(np.linalg.inv(cov)))
        return cls(np.stack(means), np.stack(whiten))

    @property
    def logdet(self) -> np.ndarray:
        """(C,): log-determinant of each class's covariance (from ``whiten``, so rounding it moves both alike)."""
        return -2.0 * np.log(np.abs(np.diagonal(self.whiten, axis1=1, axis2=2))).sum(1)

    def distance(self, f: np.ndarray) -> np.ndarray:
        """(N,) for ``f`` (N, d): twice the negative log-likelihood under the most likely class, squared Mahalanobis
        distance plus log-determinant, shifted so that it is at least 1 (its log is then defined):
        ``min_c [d_c(f)^2 + logdet_c] - min_c logdet_c + 1``."""
        f = np.asarray(f, np.float64)
        ld = self.logdet
        nll = np.stack([(((f - m) @ w) ** 2).sum(1) + c for m, w, c in zip(self.means, self.whiten, ld, strict=True)], 1)
        return nll.min(1) - ld.min() + 1.0


@dataclass
class Detector:
    """The fitted score: one :class:`Gaussians` per layer, each layer's log-distance centre and scale, the sorted
    quantiles of the training digits' (out-of-fold) scores, and the page's line (:func:`fit` says where it is)."""

    layers: list[Gaussians]
    centre: np.ndarray  # (L,)
    scale: np.ndarray  # (L,)
    quantiles: np.ndarray  # (N_QUANTILES,) ascending
    n_reference: int
    line: float

    def layer_scores(self, features: list[np.ndarray]) -> np.ndarray:
        """(N, L): each layer's standardised log-distance (0: a typical training digit; +1: one spread farther)."""
        return np.stack([(np.log(g.distance(f)) - c) / s for g, f, c, s in
                         zip(self.layers, features, self.centre, self.scale, strict=True)], 1)

    def score_features(self, features: list[np.ndarray]) -> np.ndarray:
        return self.layer_scores(features).mean(1)

    def score(self, classifier: nn.Module, x) -> np.ndarray:
        """The score of each image of ``x`` ((B, 1, 28, 28) or (28, 28), in [0, 1], as the page prepares them)."""
        return self.score_features(layer_features(classifier, x))

    def percentile(self, score) -> np.ndarray | float:
        """% of training digits whose score is lower (0..100)."""
        p = np.interp(score, self.quantiles, np.linspace(0.0, 100.0, len(self.quantiles)))
        return float(p) if np.ndim(p) == 0 else p

    @property
    def threshold(self) -> float:
        """The page's line: above it, not a digit."""
        return self.line

    def flags(self, score) -> np.ndarray:
        return np.asarray(score) > self.threshold

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the shipped file, read back in float64: the whitening matrices in float16 (the scores move
        by less than 0.005, a hundredth of the digits' spread), the rest in float32."""
        out = {"centre": self.centre, "scale": self.scale, "quantiles": self.quantiles.astype(np.float32),
               "n_reference": np.int64(self.n_reference), "line": np.float64(self.line)}
        for i, g in enumerate(self.layers):
            rows, cols = np.tril_indices(g.whiten.shape[-1])  # lower triangular: only those entries are kept
            out[f"means_{i}"], out[f"whiten_{i}"] = g.means.astype(np.float32), g.whiten[:, rows, cols].astype(np.float16)
        return out

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> Detector:
        n = len(LAYERS)
        if any(f"whiten_{i}" not in a for i in range(n)):
            raise ValueError(f"a not-a-digit detector needs whiten_0..whiten_{n - 1}; got {sorted(a)}")
        return cls([Gaussians(np.asarray(a[f"means_{i}"], np.float64), _unpack(a[f"whiten_{i}"], a[f"means_{i}"])) for i in range(n)],
                   np.asarray(a["centre"], np.float64), np.asarray(a["scale"], np.float64),
                   np.asarray(a["quantiles"], np.float64), int(a["n_reference"]), float(a["line"]))


def _unpack(packed: np.ndarray, means: np.ndarray) -> np.ndarray:
    """(C, d(d+1)/2) lower-triangle entries -> (C, d, d) float64 whitening matrices (``means`` (C, d) gives d)."""
    c, d = np.shape(means)
    if np.shape(packed) != (c, d * (d + 1) // 2):
        raise ValueError(f"a not-a-digit detector needs one whitening matrix per class, {c} lower triangles of "
                         f"{d * (d + 1) // 2} entries; got shape {np.shape(packed)}")
    w = np.zeros((c, d, d))
    rows, cols = np.tril_indices(d)
    w[:, rows, cols] = packed
    return w


def fit(features: list[np.ndarray], y: np.ndarray, folds: np.ndarray, gaussians=Gaussians) -> Detector:
    """Fit the detector to training digits' ``features`` (:func:`layer_features`) and labels ``y``: the reference
    scores out of fold (``folds``: each digit's fold number, 0..k-1), the Gaussians on all of them, the line at the
    :data:`FLAG_PERCENTILE`-th percentile of the reference. ``gaussians``: the class fitted per layer (anything with
    :class:`Gaussians`' ``fit`` and ``distance``; bench/ compares others)."""
    y, folds = np.asarray(y), np.asarray(folds)
    logd = np.zeros((len(y), len(features)))
    for k in np.unique(folds):
        held = folds == k
        for j, f in enumerate(features):
            logd[held, j] = np.log(gaussians.fit(f[~held], y[~held]).distance(f[held]))
    centre, scale = logd.mean(0), logd.std(0)
    ref = ((logd - centre) / scale).mean(1)
    quantiles = np.quantile(ref, np.linspace(0, 1, N_QUANTILES))
    line = float(np.percentile(ref, FLAG_PERCENTILE))
    return Detector([gaussians.fit(f, y) for f in features], centre, scale, quantiles, len(y), line)


def calibrate(classifier: nn.Module, x_train, y_train) -> dict[str, np.ndarray]:
    """The precomputed item: one detector per input channel (:data:`CHANNELS`), fitted to training digits
    ``x_train`` (N, 1, 28, 28) arriving that way and read by the page's input path (``ood_sets``): every digit drawn on
    the canvas; every digit uploaded, the even-numbered ones as a picture, the odd-numbered as a photo.
    Arrays named ``<channel>_<name>`` (:meth:`Detector.to_arrays`). The features are computed in float64 (a double
    copy of ``classifier``), so the file is the same on every CPU."""
    import copy

    from . import ood_sets

    x, y = np.asarray(x_train, np.float32).reshape(-1, 28, 28), np.asarray(y_train).reshape(-1)
    clf64 = copy.deepcopy(classifier).double()
    every = np.arange(len(x))
    # Not the pen-written digits (ood_sets' pendigits) too: calibrated on them as well, the upload detector let more
    # than 5 % of the photographed clothes through (README).
    parts = {"draw": [("digits_drawn", every)], "upload": [("digits_image", every[0::2]), ("digits_photo", every[1::2])]}
    out = {}
    for channel, renderings in parts.items():
        feats, labels, folds = [], [], []
        for name, idx in renderings:
            s = ood_sets.build(f"train_{name}", source_images=x[idx])
            feats.append(layer_features(clf64, torch.from_numpy(s.images)))
            labels.append(y[idx][s.index])
            folds.append(s.index % FOLDS)
        f = [np.concatenate([a[j] for a in feats]) for j in range(len(LAYERS))]
        det = fit(f, np.concatenate(labels), np.concatenate(folds))
        out.update({f"{channel}_{k}": v for k, v in det.to_arrays().items()})
    return out


def detectors(arrays: dict[str, np.ndarray]) -> dict[str, Detector]:
    """:func:`calibrate`'s arrays -> ``{channel: Detector}``."""
    return {c: Detector.from_arrays({k[len(c) + 1 :]: v for k, v in arrays.items() if k.startswith(c + "_")}) for c in CHANNELS}


def channel_of(source: str | None) -> str:
    """The channel of a page input source (``ui.common.last_source``): "Draw" is the canvas, anything else an upload
    (a test digit is MNIST's own picture)."""
    return "draw" if source == "Draw" else "upload"


# ------------------------------------------------------------------------------------------------ the verdict

@dataclass
class Verdict:
    score: float
    percentile: float  # % of training digits with a lower score
    level: str  # "digit", "unusual" or "not a digit"
    headline: str  # what the page says first
    why: str  # which score, and where it falls among digits

    @property
    def flagged(self) -> bool:
        return self.level == "not a digit"


def verdict(score: float, detector: Detector, top: list[tuple[int, float]] | None = None, channel: str = "draw") -> Verdict:
    """The page's words for ``score``; ``top``: the classifier's most likely digits ((digit, probability), best first);
    ``channel``: how the input came (:data:`CHANNELS`), and so which training digits it is compared with."""
    pct = float(detector.percentile(score))
    digit, p = top[0] if top else (None, None)
    digits = f"{detector.n_reference:,} training digits {CHANNELS[channel]}"
    where = f"higher than for {pct:.1f}% of {digits}" if pct < 99.95 else f"higher than for all {digits}"
    line = float(detector.percentile(detector.threshold))
    why = (f"Why: its not-a-digit score, the distance from the digits in the classifier's own features, is {where} "
           f"(above {line:.1f}% means not a digit).")
    if score > detector.threshold:
        level = "not a digit"
        headline = "I don't think this is a digit" + (f"; if it were, it would be a {digit}." if digit is not None else ".")
        if p is not None:
            why += f" The classifier's {p:.0%} for {digit} means little: it knows only digits."
    elif pct >= UNUSUAL_PERCENTILE:
        level = "unusual"
        headline = "An unusual digit" + (f": probably a {digit}, but it is far from most digits." if digit is not None else ".")
    else:
        level = "digit"
        headline = "This looks like a digit" + (f": a {digit}." if digit is not None else ".")
    return Verdict(float(score), pct, level, headline, why)


def judge(dets: dict[str, Detector], classifier: nn.Module, x, top: list[tuple[int, float]], source: str | None) -> Verdict:
    """The Draw page's verdict on one input ``x`` (28, 28) that came from ``source`` ("Draw", "Upload", "Test digit"):
    scored by the detector of its channel, in words (:func:`verdict`)."""
    channel = channel_of(source)
    det = dets[channel]
    return verdict(float(det.score(classifier, x)[0]), det, top, channel)


def autoencoder_line(percentile: float, level: str) -> str:
    """The line beside the verdict about the reconstruction error alone (``inspect.anomaly_score``'s percentile
    among MNIST test digits and its verdict): what the page's verdict was before, and why it is not any more."""
    said = {"digit": "an ordinary digit", "unusual": "an unusual digit", "not a digit": "not a digit"}.get(level, level)
    return (f"The convolutional autoencoder alone: its reconstruction error is higher than for {percentile:.1f}% of the "
            f"10,000 MNIST test digits, which would make this {said}. Autoencoders rebuild many things that are not "
            "digits well once they are cropped and centred like one, so the verdict uses the classifier's features.")


# ----------------------------------------------------------------------------------------- measuring it

NORMAL = ("digits", "pendigits", "handdigits")  # the sets of digits: what should not be flagged


def measure(scores: dict[str, np.ndarray], thresholds: dict[str, float]) -> dict:
    """Per set (``ood_sets`` names) of ``scores`` (each scored by the detector of its channel, whose line is
    ``thresholds[channel]``): its size, the share flagged and, for a set that is not digits, the AUROC against the
    MNIST test digits of the same channel. Then the summary the bars read: for Fashion-MNIST, letters, hand-drawn
    letters and shapes the lowest AUROC and the lowest share flagged over their renderings; the highest share of
    MNIST test digits flagged (``flagged_digits``), of the same written with a pen (``flagged_pendigits``) and of
    hand-drawn digits (``flagged_handdigits``)."""
    from . import ood_sets
    from .anomaly import auroc

    def split(name):
        what, rendering = name.rsplit("_", 1)
        return what, ood_sets.CHANNEL[rendering]

    sets = {k: {"n": int(len(v)), "flagged": float(np.mean(v > thresholds[split(k)[1]]))} for k, v in scores.items()}
    for k, v in scores.items():
        what, channel = split(k)
        normal = [scores[d] for d in scores if split(d) == ("digits", channel)]
        if what not in NORMAL and normal:
            sets[k]["auroc"] = auroc(np.concatenate(normal), v)
    out: dict = {"sets": sets}
    for what in ("fashion", "letters", "handletters", "shapes", *NORMAL):
        mine = [k for k in scores if split(k)[0] == what]
        if not mine:
            continue
        if what in NORMAL:
            out[f"flagged_{what}"] = max(sets[k]["flagged"] for k in mine)
        elif all("auroc" in sets[k] for k in mine):
            out[f"auroc_{what}"] = min(sets[k]["auroc"] for k in mine)
            out[f"flagged_{what}"] = min(sets[k]["flagged"] for k in mine)
    return out


def users_path(classifier: nn.Module, dets: dict[str, Detector], digits, fashion=None, n_made: int = 2000,
               baseline=None, log=print) -> dict:
    """Every set of ``ood_sets`` but the training digits, made from ``digits`` (MNIST test images (N, 1, 28, 28))
    and ``fashion`` (Fashion-MNIST's; None: no Fashion sets) and ``n_made`` letters, half as many hand-drawn
    figures, through the page's input path; each scored by its channel's detector, then measured (:func:`measure`). With
    ``baseline`` = (conv_ae, its sorted reference errors on MNIST test digits), the page's old verdict too, the
    reconstruction error at its old line (``inspect.NOT_A_DIGIT_PERCENTILE``), under ``baseline_conv_ae``."""
    import time

    from . import ood_sets
    from .anomaly import NOT_A_DIGIT_PERCENTILE, reconstruction_error

    sources = {"digits": np.asarray(digits, np.float32).reshape(-1, 28, 28)}
    sources["pendigits"] = sources["digits"]
    if fashion is not None:
        sources["fashion"] = np.asarray(fashion, np.float32).reshape(-1, 28, 28)
    scores, errors = {}, {}
    for name in ood_sets.SETS:
        what, rendering = name.rsplit("_", 1)
        if what.startswith("train_") or (what in ood_sets.DATA_SOURCES and what not in sources):
            continue
        t = time.perf_counter()
        try:
            n = None if what in ood_sets.DATA_SOURCES else n_made if what == "letters" else n_made // 2
            s = ood_sets.build(name, n, source_images=sources.get(what))
        except ood_sets.FontsMissing as e:
            log(f"[not a digit] {name}: skipped ({e})")
            continue
        scores[name] = dets[ood_sets.CHANNEL[rendering]].score(classifier, s.images)
        if baseline is not None:
            errors[name] = reconstruction_error(baseline[0], torch.from_numpy(s.images)[:, None]).numpy()
        log(f"[not a digit] {name}: {len(s.images)} items, {time.perf_counter() - t:.0f} s")
    out = measure(scores, {c: d.threshold for c, d in dets.items()})
    if baseline is not None:
        line = float(np.percentile(baseline[1], NOT_A_DIGIT_PERCENTILE))
        out["baseline_conv_ae"] = measure(errors, dict.fromkeys(dets, line))
    out["measured_with"] = {"digits": len(sources["digits"]), "fashion": len(sources.get("fashion", ())), "made": n_made,
                            "flag_percentile": FLAG_PERCENTILE, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    return out


def metrics_entry(m: dict) -> dict:
    """:func:`measure`'s result as the classifier's entry of ``metrics.json`` holds it: the summary as flat
    ``not_a_digit_*`` measures (what the bars, ``catalogue.NOT_A_DIGIT_BARS``, and the home page read) and the
    whole result under ``not_a_digit``."""
    flat = {f"not_a_digit_{k}": v for k, v in m.items() if not isinstance(v, dict)}
    return {**flat, "not_a_digit": m}
