"""The not-a-digit candidates compared on the users' path: how the Draw page's detector (rep_models.ood) was chosen.

    python -m bench.not_a_digit            # about 15 minutes on one core -> bench/results/not_a_digit.{json,md}
    python -m bench.not_a_digit --quick    # a smoke run on a few hundred inputs

Every candidate scores the same inputs, made through the page's input path (``rep_models.ood_sets``), and is
calibrated the same way, on training digits only: its line is the 99th percentile of its scores on the shipped
training digits that came the same way (drawn on the canvas, or uploaded as pictures and photos); a candidate with
fitted parts (Gaussians, neighbours) is scored there out of fold (5 folds). Per set: the share flagged at that line
and the AUROC against the MNIST test digits of the same channel.

Candidates: the reconstruction error of the conv AE (the page's verdict before); the classifier's maximum softmax
probability and its energy (Liu et al. 2020); the VAE's negative ELBO, and the same minus the input's PNG size in
bits (the complexity correction of Serrà et al. 2020); Mahalanobis distance to the nearest class in the classifier's
penultimate features (Lee et al. 2018) and in the contrastive encoder's codes; the distance to the nearest
training code of the contrastive encoder (k = 1) and to the 10th nearest in the classifier's normalised
penultimate features (Sun et al. 2022); Mahalanobis distance in four layers of the classifier with one covariance
shared by the classes; the shipped detector (the same four layers, each class its own covariance: ``ood.Gaussians``;
one detector per channel); and the shipped detector with one detector for both channels (fitted to pictures only,
and to pictures, photos and drawings together).
"""
from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from rep_models import checkpoint, ood, ood_sets, precomputed
from rep_models.anomaly import reconstruction_error
from rep_models.data import load_tensors

OUT = Path(__file__).resolve().parent / "results"
FOLDS = 5


def png_bits(images: np.ndarray) -> np.ndarray:
    out = []
    for a in images:
        buf = io.BytesIO()
        Image.fromarray((np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8), "L").save(buf, "PNG", optimize=True)
        out.append(8 * len(buf.getvalue()))
    return np.asarray(out, np.float64)


@torch.inference_mode()
def features(images: np.ndarray, models: dict) -> dict[str, np.ndarray]:
    """Everything any candidate reads, for (N, 28, 28) inputs."""
    x = torch.from_numpy(images)[:, None]
    layers = ood.layer_features(models["classifier"], x)
    logits = torch.cat([models["classifier"](x[i : i + 500]) for i in range(0, len(x), 500)]).double().numpy()
    codes = torch.cat([models["contrastive"].encode(x[i : i + 500]) for i in range(0, len(x), 500)]).double().numpy()
    rec, kl = zip(*(models["vae"].elbo_terms(x[i : i + 500], sample=False) for i in range(0, len(x), 500)), strict=True)
    return {"layers": layers, "logits": logits, "codes": codes, "recon": reconstruction_error(models["conv_ae"], x).numpy(),
            "nelbo": torch.cat(rec).numpy() + torch.cat(kl).numpy(), "png_bits": png_bits(images)}


def _softmax_scores(logits):
    m = logits.max(1, keepdims=True)
    e = np.exp(logits - m)
    return 1 - (e / e.sum(1, keepdims=True)).max(1), -(m[:, 0] + np.log(e.sum(1)))


def _knn(f, ref, k):
    norm = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)  # noqa: E731
    f, ref = norm(f), norm(ref)
    return np.concatenate([1 - np.sort(f[i : i + 1000] @ ref.T, axis=1)[:, -k] for i in range(0, len(f), 1000)])


class TiedGaussians:
    """Class-conditional Gaussians with one covariance shared by the classes (Lee et al. 2018): squared Mahalanobis
    distance to the nearest class mean. The shipped detector gives each class its own (``ood.Gaussians``)."""

    def __init__(self, means: np.ndarray, precision: np.ndarray):
        self.means, self.precision = means, precision

    @classmethod
    def fit(cls, f: np.ndarray, y: np.ndarray) -> TiedGaussians:
        mu = np.stack([f[y == c].mean(0) for c in range(int(y.max()) + 1)])
        r = f - mu[y]
        cov = r.T @ r / len(f)
        return cls(mu, np.linalg.inv(cov + np.eye(len(cov)) * ood.RIDGE * float(np.trace(cov)) / len(cov)))

    def distance(self, f: np.ndarray) -> np.ndarray:
        d = np.stack([np.einsum("ij,jk,ik->i", f - m, self.precision, f - m) for m in self.means], 1)
        return np.maximum(d.min(1), 1e-12)


# name -> (fit(train features, labels) -> state, score(features, state)); state None: nothing fitted
CANDIDATES = {
    "reconstruction error (conv AE)": (None, lambda f, s: f["recon"]),
    "max softmax probability": (None, lambda f, s: _softmax_scores(f["logits"])[0]),
    "energy": (None, lambda f, s: _softmax_scores(f["logits"])[1]),
    "VAE -ELBO": (None, lambda f, s: f["nelbo"]),
    "VAE -ELBO minus PNG bits": (None, lambda f, s: f["nelbo"] / np.log(2) - f["png_bits"]),
    "Mahalanobis, penultimate layer": (lambda f, y: TiedGaussians.fit(f["layers"][3], y), lambda f, s: s.distance(f["layers"][3])),
    "Mahalanobis, contrastive codes": (lambda f, y: TiedGaussians.fit(f["codes"], y), lambda f, s: s.distance(f["codes"])),
    "nearest neighbour, contrastive codes": (lambda f, y: f["codes"], lambda f, s: _knn(f["codes"], s, 1)),
    "10th neighbour, penultimate layer": (lambda f, y: f["layers"][3], lambda f, s: _knn(f["layers"][3], s, 10)),
    "Mahalanobis, 4 layers, one covariance": (lambda f, y: ood.fit(f["layers"], y, np.arange(len(y)) % FOLDS, gaussians=TiedGaussians),
                                              lambda f, s: s.score_features(f["layers"])),
    "4 layers, a covariance per class (shipped)": (lambda f, y: ood.fit(f["layers"], y, np.arange(len(y)) % FOLDS),
                                                   lambda f, s: s.score_features(f["layers"])),
}
SHIPPED = "4 layers, a covariance per class (shipped)"
SINGLE = "4 layers, a covariance per class"  # the shipped candidate with one detector for every channel, fitted to ...


def _take(f: dict, idx) -> dict:
    return {k: [a[idx] for a in v] if k == "layers" else v[idx] for k, v in f.items()}


def _cat(fs: list[dict]) -> dict:
    return {k: [np.concatenate([f[k][j] for f in fs]) for j in range(len(fs[0][k]))] if k == "layers"
            else np.concatenate([f[k] for f in fs]) for k in fs[0]}


def calibrated(name, train: dict, y: np.ndarray, sets: dict[str, dict]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(out-of-fold training scores, {set: scores}) of candidate ``name`` fitted to ``train``."""
    fit, score = CANDIDATES[name]
    if fit is None:
        return score(train, None), {k: score(v, None) for k, v in sets.items()}
    folds = np.arange(len(y)) % FOLDS
    ref = np.zeros(len(y))
    for k in range(FOLDS):
        held = folds == k
        ref[held] = score(_take(train, held), fit(_take(train, ~held), y[~held]))
    state = fit(train, y)
    return ref, {k: score(v, state) for k, v in sets.items()}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: 300 training digits per channel, 200 of each set")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    n_train, n_data, n_made = (300, 200, 200) if a.quick else (5000, 1000, 1000)
    models = {n: precomputed.app_model(n) for n in ("classifier", "contrastive", "conv_ae")}
    models["vae"] = checkpoint.load_pretrained("vae", "cpu")
    xtr, ytr = load_tensors("mnist", "full_train", source="sample")
    xte, _ = load_tensors("mnist", "test", source="sample")
    xf, _ = load_tensors("fashion_mnist", "test")
    sources = {"digits": xte[:n_data, 0].numpy(), "pendigits": xte[:n_data, 0].numpy(), "fashion": xf[:n_data, 0].numpy()}
    xtr, ytr = xtr[:, 0].numpy(), ytr.numpy()
    train = {}
    every = np.arange(n_train)  # as ood.calibrate: every digit drawn; uploaded, half as pictures, half as photos
    for name, idx in (("digits_drawn", every), ("digits_image", every[0::2]), ("digits_photo", every[1::2])):
        s = ood_sets.build(f"train_{name}", source_images=xtr[idx])
        train[name] = (features(s.images, models), ytr[idx][s.index])
    sets = {}
    for name in ood_sets.SETS:
        what, rendering = name.rsplit("_", 1)
        if what.startswith("train_"):
            continue
        s = ood_sets.build(name, None if what in sources else n_made if what == "letters" else n_made // 2, source_images=sources.get(what))
        sets[name] = features(s.images, models)
        print(f"{name}: {len(s.images)} ({time.perf_counter() - t0:.0f} s)", flush=True)
    by_channel = {"draw": ["digits_drawn"], "upload": ["digits_image", "digits_photo"]}
    results = {}
    variants = [(n, None) for n in CANDIDATES] + [(f"{SINGLE}, one detector fitted to pictures", ["digits_image"]),
                                                 (f"{SINGLE}, one detector fitted to pictures, photos and drawings", ["digits_image", "digits_photo", "digits_drawn"])]
    for label, single in variants:
        name = label if single is None else SHIPPED
        scores, lines = {}, {}
        for channel, renderings in by_channel.items():
            fit_on = single or renderings
            tr = _cat([train[r][0] for r in fit_on])
            y = np.concatenate([train[r][1] for r in fit_on])
            mine = {k: v for k, v in sets.items() if ood_sets.CHANNEL[k.rsplit("_", 1)[1]] == channel}
            ref, got = calibrated(name, tr, y, mine)
            lines[channel] = float(np.percentile(ref, ood.FLAG_PERCENTILE))
            scores.update(got)
        results[label] = ood.measure(scores, lines)
        print(f"{label}: {time.perf_counter() - t0:.0f} s", flush=True)
    meta = {"command": "python -m bench.not_a_digit" + (" --quick" if a.quick else ""), "n_train_per_channel": n_train,
            "n_data": n_data, "n_made": n_made, "date": time.strftime("%Y-%m-%d %H:%M"), "seconds": round(time.perf_counter() - t0)}
    OUT.mkdir(exist_ok=True)
    (OUT / "not_a_digit.json").write_text(json.dumps({"meta": meta, "candidates": results}, indent=1) + "\n")
    (OUT / "not_a_digit.md").write_text(report(results, meta))
    print(report(results, meta))


def report(results: dict, meta: dict) -> str:
    names = list(next(iter(results.values()))["sets"])
    head = " | ".join(n.replace("_", " ") for n in names)
    lines = ["# Not-a-digit candidates on the users' path\n",
             f"`{meta['command']}`, {meta['date']}: {meta['n_train_per_channel']:,} training digits per channel, "
             f"{meta['n_data']:,} MNIST test digits and Fashion items per rendering, {meta['n_made']:,} font letters, half as "
             "many of each hand-drawn set. Each cell: share flagged at the candidate's line (the 99th percentile of its "
             "scores on training digits of the same channel) / AUROC against the MNIST test digits of the same channel.\n",
             f"| candidate | {head} |", "|---" * (len(names) + 1) + "|"]
    for label, m in results.items():
        cells = [f"{100 * m['sets'][n]['flagged']:.1f}%" + (f" / {m['sets'][n]['auroc']:.3f}" if "auroc" in m["sets"][n] else "") for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
