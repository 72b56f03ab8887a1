"""2-D maps of codes: fit time of PCA, t-SNE (scikit-learn vs openTSNE) and UMAP against n, their 10-NN
accuracy, and the time to place one new point into an existing 10,000-point map.

    python -m bench.projections                      # 1k, 5k, 10k, 70k (scikit-learn up to 20k)
    python -m bench.projections --quick              # a smoke run on 1k and 2k
    python -m bench.projections --explore 70000      # time/accuracy of candidate fast settings at one n

Codes: the shipped ``conv_ae``'s 32-d codes of MNIST train+test (70,000), or PCA-32 of the pixels when
``pretrained/conv_ae`` is missing. Subsets are the first n of one fixed permutation.

10-NN accuracy: each point of the 2-D map labelled by the majority of its 10 nearest other points.
Placement accuracy: 500 held-out points placed into the 10k map, labelled by their 10 nearest map points.
Heavy fits run once (repeats would take an hour); placement times are medians over single points.
"""
from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch

from bench.common import BENCH, header, passfail, table, write_section
from rep_models.projections import TSNE_FAST, UMAP_FAST

warnings.filterwarnings("ignore")

# The app's and rep_models.evaluate's fast settings (rep_models.projections.TSNE_FAST / UMAP_FAST, chosen
# with ``--explore``), with the big-n fast paths and both cores.
FAST_TSNE = dict(n_jobs=2, initialization="pca", neighbors="annoy", negative_gradient_method="fft", **TSNE_FAST)
FAST_UMAP = dict(n_jobs=2, **UMAP_FAST)
# openTSNE's transform defaults run 250 iterations per call; placing one drawing needs far fewer.
FAST_TSNE_TRANSFORM = dict(n_iter=50)


def fast_tsne(codes: np.ndarray, **overrides) -> np.ndarray:
    """openTSNE with :data:`FAST_TSNE`: ``(n, d)`` codes -> ``(n, 2)`` map (an ``openTSNE.TSNEEmbedding``)."""
    from openTSNE import TSNE

    return TSNE(**{**FAST_TSNE, **overrides}).fit(np.ascontiguousarray(codes, dtype=np.float32))


def fast_umap(codes: np.ndarray, **overrides):
    """umap-learn with :data:`FAST_UMAP`; returns the fitted ``umap.UMAP`` (its ``embedding_`` is the map)."""
    import umap

    return umap.UMAP(**{**FAST_UMAP, **overrides}).fit(np.ascontiguousarray(codes, dtype=np.float32))


def get_codes(n_max: int = 70000) -> tuple[np.ndarray, np.ndarray, str]:
    """``(N, 32)`` float32 codes, labels ``(N,)``, and what they are; shuffled with a fixed seed."""
    from rep_models import checkpoint, data

    xs, ys = zip(*(data.load_tensors("mnist", s) for s in ("full_train", "test")), strict=True)
    x, y = torch.cat(xs), torch.cat(ys)
    if (checkpoint.PRETRAINED_DIR / "conv_ae.json").is_file() and (checkpoint.PRETRAINED_DIR / "conv_ae.safetensors").is_file():
        model = checkpoint.load(checkpoint.PRETRAINED_DIR / "conv_ae")
        with torch.inference_mode():
            codes = torch.cat([model.encode(x[i : i + 2000]) for i in range(0, len(x), 2000)]).numpy()
        what = "conv_ae codes (32-d) of MNIST train+test"
    else:
        from sklearn.decomposition import PCA

        flat = x.reshape(len(x), -1).numpy()
        codes = PCA(32, random_state=0).fit_transform(flat)
        what = "PCA-32 of MNIST train+test pixels (pretrained/conv_ae not available)"
    perm = np.random.default_rng(0).permutation(len(codes))[:n_max]
    return np.ascontiguousarray(codes[perm], dtype=np.float32), y.numpy()[perm], what


def knn_accuracy(emb: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Leave-one-out k-NN accuracy of a 2-D map (majority of the k nearest other points)."""
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=k + 1).fit(emb).kneighbors(emb, return_distance=False)[:, 1:]
    votes = labels[idx]
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    return float((pred == labels).mean())


def placed_accuracy(map_xy: np.ndarray, map_labels: np.ndarray, new_xy: np.ndarray, new_labels: np.ndarray, k: int = 10) -> float:
    """How often a placed point's 10 nearest map points carry its label."""
    from sklearn.neighbors import NearestNeighbors

    idx = NearestNeighbors(n_neighbors=k).fit(map_xy).kneighbors(new_xy, return_distance=False)
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in map_labels[idx]])
    return float((pred == new_labels).mean())


# ---- the methods: name -> fit(codes) -> 2-D array -------------------------------------------------

def fit_pca(codes):
    from sklearn.decomposition import PCA

    return PCA(2, random_state=0).fit_transform(codes)


def fit_sklearn_tsne(codes):
    from sklearn.manifold import TSNE

    return TSNE(2, random_state=0, n_jobs=2).fit_transform(codes)


def fit_opentsne_default(codes):
    from openTSNE import TSNE

    return np.asarray(TSNE(n_jobs=2, random_state=0).fit(codes))


def fit_opentsne_fast(codes):
    return np.asarray(fast_tsne(codes, random_state=0))


def fit_umap_default(codes):
    import umap

    return umap.UMAP(n_jobs=2).fit_transform(codes)


def fit_umap_fast(codes):
    return fast_umap(codes).embedding_


def fit_b(method: str) -> Callable:
    """``rep_models.projections.compute_projection`` (what the app's shipped maps use), when present."""
    def fit(codes):
        from rep_models import projections

        return projections.compute_projection(codes, method, seed=0)

    return fit


METHODS: dict[str, Callable] = {
    "pca": fit_pca,
    "sklearn_tsne": fit_sklearn_tsne,
    "opentsne_default": fit_opentsne_default,
    "opentsne_fast": fit_opentsne_fast,
    "umap_default": fit_umap_default,
    "umap_fast": fit_umap_fast,
}
try:
    from rep_models import projections as _b  # noqa: F401

    METHODS.update({"app_tsne": fit_b("tsne"), "app_umap": fit_b("umap")})
except ImportError:
    pass


def warm_numba() -> float:
    """Fit and transform small UMAPs once so numba's compilation is not billed to the first fit: 600 points
    take the exact-neighbours path, 4,500 points (above umap-learn's 4,096) the NN-descent one."""
    import umap

    t = time.perf_counter()
    rng = np.random.default_rng(0)
    small = rng.normal(size=(600, 8)).astype(np.float32)
    u = umap.UMAP(n_jobs=2, n_epochs=20).fit(small)
    u.transform(small[:1])
    u = umap.UMAP(n_jobs=2, n_epochs=20, init="pca").fit(small)
    bigger = rng.normal(size=(4500, 8)).astype(np.float32)
    umap.UMAP(n_jobs=2, n_epochs=20).fit(bigger).transform(bigger[:1])
    return time.perf_counter() - t


def scaling(codes, labels, sizes: list[int], sklearn_max: int, app_sizes: set[int]) -> list[dict]:
    """Every method at every n of ``sizes``, except: scikit-learn's TSNE only up to ``sklearn_max`` (and at
    ``sklearn_max`` itself, its largest point), nothing else at an n added only for scikit-learn, and the
    app's own functions (``app_*``) only at ``app_sizes``."""
    rows = []
    for n in sorted(set(sizes) | {sklearn_max}):
        for name, fit in METHODS.items():
            if name == "sklearn_tsne" and n > sklearn_max:
                continue
            if name != "sklearn_tsne" and n not in sizes:
                continue
            if name.startswith("app_") and n not in app_sizes:
                continue
            t = time.perf_counter()
            emb = np.asarray(fit(codes[:n]))
            sec = time.perf_counter() - t
            acc = knn_accuracy(emb, labels[:n])
            rows.append({"n": n, "method": name, "seconds": sec, "knn10_accuracy": acc})
            print(rows[-1], flush=True)
    return rows


def extrapolate_sklearn(rows: list[dict], target: int = 70000) -> dict | None:
    """Power-law fit ``t = c n^p`` through scikit-learn's two largest measured sizes."""
    pts = sorted((r["n"], r["seconds"]) for r in rows if r["method"] == "sklearn_tsne")
    if len(pts) < 2:
        return None
    (n1, t1), (n2, t2) = pts[-2], pts[-1]
    p = np.log(t2 / t1) / np.log(n2 / n1)
    return {"n": target, "method": "sklearn_tsne (EXTRAPOLATED)", "seconds": float(t2 * (target / n2) ** p), "exponent": float(p),
            "from": f"{n1:,} and {n2:,}"}


def placement(codes, labels, n_map: int = 10000, n_new: int = 500, n_timed: int = 30) -> list[dict]:
    """Place single new points into a 10k map: openTSNE transform (default and fast), UMAP transform,
    and k-NN placement (mean of the 2-D positions of the 10 nearest codes)."""
    from openTSNE import TSNE
    from sklearn.neighbors import NearestNeighbors

    train, new = codes[:n_map], codes[n_map : n_map + n_new]
    ytr, ynew = labels[:n_map], labels[n_map : n_map + n_new]
    rows = []

    def timed(label: str, fn: Callable[[np.ndarray], np.ndarray], map_xy: np.ndarray, first_s: float | None = None):
        times = []
        for i in range(n_timed):
            t = time.perf_counter()
            fn(new[i : i + 1])
            times.append(time.perf_counter() - t)
        placed = np.asarray(fn(new))  # all 500 at once, for the accuracy only
        rows.append({"method": label, "median_ms_one_point": float(np.median(times) * 1e3), "p90_ms": float(np.percentile(times, 90) * 1e3),
                     "first_call_s": first_s, "placed_knn10_accuracy": placed_accuracy(map_xy, ytr, placed, ynew),
                     "pass": passfail(np.median(times) * 1e3 <= 300)})
        print(rows[-1], flush=True)

    emb = TSNE(n_jobs=2, random_state=0).fit(train)
    tsne_xy = np.asarray(emb)
    t = time.perf_counter()
    emb.transform(new[:1])
    timed("openTSNE transform (defaults)", lambda q: emb.transform(q), tsne_xy, time.perf_counter() - t)
    timed(f"openTSNE transform ({FAST_TSNE_TRANSFORM})", lambda q: emb.transform(q, **FAST_TSNE_TRANSFORM), tsne_xy)
    timed("openTSNE prepare_partial (median of 25 NN, no optimisation)", lambda q: emb.prepare_partial(q), tsne_xy)

    nn = NearestNeighbors(n_neighbors=10).fit(train)

    def knn_place(xy):
        def place(q):
            idx = nn.kneighbors(q, return_distance=False)
            return xy[idx].mean(1)

        return place

    timed("k-NN placement on the t-SNE map (mean of 10 NN)", knn_place(tsne_xy), tsne_xy)

    import umap

    u = umap.UMAP(n_jobs=2).fit(train)
    t = time.perf_counter()
    u.transform(new[:1])
    timed("UMAP transform", lambda q: u.transform(q), u.embedding_, time.perf_counter() - t)
    timed("k-NN placement on the UMAP map (mean of 10 NN)", knn_place(u.embedding_), u.embedding_)

    try:  # the app's module: its Placer on the same two maps, through its own files in a temp folder
        import tempfile

        from rep_models import projections as proj
    except ImportError:
        rows.append({"method": "rep_models.projections: not present when this ran"})
        return rows
    with tempfile.TemporaryDirectory() as tmp:
        proj.save_reference("conv_ae", train, directory=tmp)
        for method, xy in (("tsne", tsne_xy), ("umap", u.embedding_)):
            proj.save_projection("conv_ae", method, xy, ytr, directory=tmp)
            t = time.perf_counter()
            pl = proj.Placer("conv_ae", method, directory=tmp)
            build_s = time.perf_counter() - t
            timed(f"rep_models.projections.Placer {method} (build {build_s:.1f} s)", lambda q, pl=pl: np.stack([pl(c) for c in q]), xy)
    return rows


def explore(codes, labels, n: int, only: str | None = None) -> list[dict]:
    """Candidate fast settings at one n: time and 10-NN accuracy, against the defaults."""
    import umap
    from openTSNE import TSNE

    x, y = codes[:n], labels[:n]
    cands: list[tuple[str, Callable]] = [
        ("openTSNE defaults", lambda: TSNE(n_jobs=2, random_state=0).fit(x)),
        ("openTSNE ee125+250", lambda: TSNE(n_jobs=2, random_state=0, early_exaggeration_iter=125, n_iter=250).fit(x)),
        ("openTSNE ee125+250 pynndescent", lambda: TSNE(n_jobs=2, random_state=0, early_exaggeration_iter=125, n_iter=250, neighbors="pynndescent").fit(x)),
        ("openTSNE ee100+150", lambda: TSNE(n_jobs=2, random_state=0, early_exaggeration_iter=100, n_iter=150).fit(x)),
        ("openTSNE ee125+250 perp15", lambda: TSNE(n_jobs=2, random_state=0, early_exaggeration_iter=125, n_iter=250, perplexity=15).fit(x)),
        ("UMAP defaults", lambda: umap.UMAP(n_jobs=2).fit_transform(x)),
        ("UMAP defaults (again: run-to-run spread)", lambda: umap.UMAP(n_jobs=2).fit_transform(x)),
        ("UMAP init=pca", lambda: umap.UMAP(n_jobs=2, init="pca").fit_transform(x)),
        ("UMAP n_epochs=100", lambda: umap.UMAP(n_jobs=2, n_epochs=100).fit_transform(x)),
        ("UMAP n_epochs=150 init=pca", lambda: umap.UMAP(n_jobs=2, n_epochs=150, init="pca").fit_transform(x)),
        ("UMAP n_epochs=100 init=pca", lambda: umap.UMAP(n_jobs=2, n_epochs=100, init="pca").fit_transform(x)),
        ("UMAP n_epochs=50 init=pca", lambda: umap.UMAP(n_jobs=2, n_epochs=50, init="pca").fit_transform(x)),
        ("UMAP n_epochs=100 init=pca nn=10", lambda: umap.UMAP(n_jobs=2, n_epochs=100, init="pca", n_neighbors=10).fit_transform(x)),
        ("UMAP n_epochs=100 init=pca min_dist=0", lambda: umap.UMAP(n_jobs=2, n_epochs=100, init="pca", min_dist=0.0).fit_transform(x)),
        ("UMAP n_epochs=100 init=pca min_dist=0.05", lambda: umap.UMAP(n_jobs=2, n_epochs=100, init="pca", min_dist=0.05).fit_transform(x)),
    ]
    rows = []
    for label, fit in cands:
        if only and not label.lower().startswith(only):
            continue
        t = time.perf_counter()
        emb = np.asarray(fit())
        sec = time.perf_counter() - t
        rows.append({"n": n, "setting": label, "seconds": sec, "knn10_accuracy": knn_accuracy(emb, y)})
        print(rows[-1], flush=True)
    return rows


# ---- the plot (PIL only: no matplotlib here) -----------------------------------------------------

COLOURS = {"pca": (120, 120, 120), "sklearn_tsne": (214, 39, 40), "opentsne_default": (31, 119, 180), "opentsne_fast": (23, 190, 207),
           "umap_default": (44, 160, 44), "umap_fast": (188, 189, 34), "app_tsne": (148, 103, 189), "app_umap": (140, 86, 75)}


def plot(rows: list[dict], extrapolated: dict | None, path) -> None:
    """Log-log time vs n, one line per method; scikit-learn's extrapolation dashed."""
    from PIL import Image, ImageDraw

    w, h, left, right, top, bottom = 900, 560, 80, 230, 40, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    ns = [r["n"] for r in rows] + ([extrapolated["n"]] if extrapolated else [])
    ts = [max(r["seconds"], 1e-3) for r in rows] + ([extrapolated["seconds"]] if extrapolated else [])
    lx0, lx1 = np.log10(min(ns)) - 0.05, np.log10(max(ns)) + 0.05
    ly0, ly1 = np.floor(np.log10(min(ts))), np.ceil(np.log10(max(ts)))
    px = lambda n: left + (np.log10(n) - lx0) / (lx1 - lx0) * (w - left - right)
    py = lambda s: h - bottom - (np.log10(max(s, 1e-3)) - ly0) / (ly1 - ly0) * (h - top - bottom)
    d.rectangle([left, top, w - right, h - bottom], outline="black")
    for e in range(int(ly0), int(ly1) + 1):
        y = py(10**e)
        d.line([left, y, w - right, y], fill=(225, 225, 225))
        d.text((left - 60, y - 6), f"{10**e:g} s", fill="black")
    for n in sorted(set(ns)):
        x = px(n)
        d.line([x, top, x, h - bottom], fill=(235, 235, 235))
        d.text((x - 12, h - bottom + 8), f"{n // 1000}k", fill="black")
    d.text((left, 12), "Fit time vs n (log-log), 32-d codes, this 2-core CPU", fill="black")
    d.text(((w - right + left) / 2 - 40, h - 25), "n (points)", fill="black")
    for i, (name, col) in enumerate(COLOURS.items()):
        pts = sorted((r["n"], r["seconds"]) for r in rows if r["method"] == name)
        xy = [(px(n), py(s)) for n, s in pts]
        if len(xy) > 1:
            d.line(xy, fill=col, width=3)
        for x, y in xy:
            d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=col)
        if name == "sklearn_tsne" and extrapolated and pts:
            x0, y0 = xy[-1]
            x1, y1 = px(extrapolated["n"]), py(extrapolated["seconds"])
            for k in range(0, 20, 2):  # dashed
                d.line([x0 + (x1 - x0) * k / 20, y0 + (y1 - y0) * k / 20, x0 + (x1 - x0) * (k + 1) / 20, y0 + (y1 - y0) * (k + 1) / 20], fill=col, width=2)
            d.ellipse([x1 - 4, y1 - 4, x1 + 4, y1 + 4], outline=col, width=2)
        ly = top + 10 + 22 * i
        d.line([w - right + 15, ly + 6, w - right + 45, ly + 6], fill=col, width=3)
        d.text((w - right + 52, ly), name, fill="black")
    d.text((w - right + 15, top + 10 + 22 * len(COLOURS)), "dashed: extrapolated", fill="black")
    img.save(path)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 1k and 2k, placement into a 2k map")
    p.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000, 10000, 70000])
    p.add_argument("--sklearn-max", type=int, default=20000, help="largest n for scikit-learn's TSNE (slow)")
    p.add_argument("--explore", type=int, metavar="N", help="only compare candidate fast settings at this n")
    p.add_argument("--explore-only", choices=["umap", "opentsne"], help="with --explore: only this library's candidates")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.sklearn_max = [500, 1000], 1000
    n_map = 1000 if args.quick else 10000
    sizes = sorted(set(args.sizes))
    codes, labels, what = get_codes(max(max(sizes), args.sklearn_max, n_map + 500, args.explore or 0))
    warm_s = warm_numba()
    if args.explore:
        rows = explore(codes, labels, args.explore, args.explore_only)
        md = header(f"Projections: candidate fast settings at n = {args.explore:,}", f"- Codes: {what}") + "\n" + table(rows)
        write_section("projections_explore", md, {"rows": rows})
        return
    rows = scaling(codes, labels, sizes, args.sklearn_max, {min(sizes[-1], 10000), sizes[-1]})
    ext = extrapolate_sklearn(rows, 70000 if not args.quick else 2000)
    place = placement(codes, labels, n_map=n_map, n_new=100 if args.quick else 500, n_timed=5 if args.quick else 30)
    png = BENCH / "projections_scaling.png"
    plot(rows, ext, png)

    by = {(r["n"], r["method"]): r for r in rows}
    big = max(sizes)
    ratio_rows = []
    for n in sorted({r["n"] for r in rows}):
        sk = by.get((n, "sklearn_tsne"), ext if ext and ext["n"] == n else None)
        for m in ("opentsne_default", "opentsne_fast", "app_tsne", "umap_default", "umap_fast", "app_umap"):
            if (n, m) in by and sk:
                ratio_rows.append({"n": n, "method": m, "seconds": by[(n, m)]["seconds"], "sklearn_tsne_s": sk["seconds"],
                                   "sklearn_measured": "extrapolated" if "EXTRAPOLATED" in sk["method"] else "measured",
                                   "speedup_vs_sklearn": sk["seconds"] / by[(n, m)]["seconds"]})
    bars = []
    if (big, "opentsne_fast") in by:
        r, dflt = by[(big, "opentsne_fast")], by.get((big, "opentsne_default"))
        ok = r["seconds"] <= 100 and (dflt is None or r["knn10_accuracy"] >= dflt["knn10_accuracy"] - 0.002)
        bars.append({"bar": f"t-SNE {big:,} ≤ 100 s, accuracy ≥ defaults'", "seconds": r["seconds"], "knn10": r["knn10_accuracy"],
                     "defaults_knn10": dflt and dflt["knn10_accuracy"], "pass": passfail(ok)})
    if (big, "umap_fast") in by:
        r, dflt = by[(big, "umap_fast")], by.get((big, "umap_default"))
        ok = r["seconds"] <= 30 and (dflt is None or r["knn10_accuracy"] >= dflt["knn10_accuracy"] - 0.002)
        bars.append({"bar": f"UMAP {big:,} ≤ 30 s, accuracy ≥ defaults'", "seconds": r["seconds"], "knn10": r["knn10_accuracy"],
                     "defaults_knn10": dflt and dflt["knn10_accuracy"], "pass": passfail(ok)})
    md = [header("Projections", f"- Codes: {what}\n- numba warm-up (tiny UMAP fit+transform, before timing): {warm_s:.1f} s"), "",
          f"Fast settings: openTSNE `{FAST_TSNE}`; UMAP `{FAST_UMAP}`; openTSNE transform `{FAST_TSNE_TRANSFORM}` "
          "(functions `bench.projections.fast_tsne` / `fast_umap`). Fits run once each (single wall-clock measurement).", "",
          "### Bars", "", table(bars), "Accuracy tolerance: within 0.002 of the defaults' 10-NN accuracy counts as equal (run-to-run noise).", "",
          "### Fit time and 10-NN accuracy", "", table(rows), ""]
    if ext:
        md += [f"scikit-learn TSNE at {ext['n']:,}: **{ext['seconds']:.0f} s EXTRAPOLATED** (t ∝ n^{ext['exponent']:.2f} through {ext['from']}), not measured.", ""]
    md += ["### Ratio to scikit-learn's TSNE (same run)", "", table(ratio_rows),
           f"### Placing one new point into a {n_map:,}-point map (bar ≤ 300 ms)", "", table(place),
           f"![time vs n]({png.name})", ""]
    write_section("projections", "\n".join(md), {"rows": rows, "extrapolated": ext, "placement": place, "ratios": ratio_rows, "bars": bars})
    print("wrote", png)


if __name__ == "__main__":
    main()
