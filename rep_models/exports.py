"""Files to download: a digit or a grid as PNG, a latent walk, an interpolation or a class morph as an animated
GIF, the latent map's selection as CSV, and a model trained in the app as its safetensors weights and card.

Plain bytes from arrays, no Streamlit: the pages hand these functions to ``st.download_button`` as callables,
so a file is made only when someone clicks (``ui/downloads.py``).
"""
from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

MIN_SIDE = 560  # px: an exported image is enlarged (whole pixels) until its longer side reaches this
MAX_SCALE = 20


def _gray(image) -> Image.Image:
    """A (H, W) image in [0, 1] (any leading size-1 axes) as an 8-bit grey PIL image."""
    a = np.asarray(image, dtype=np.float32)
    a = a.reshape(a.shape[-2:])
    return Image.fromarray((np.clip(np.nan_to_num(a), 0, 1) * 255 + 0.5).astype(np.uint8), "L")


def scale_for(shape: tuple[int, ...], min_side: int = MIN_SIDE) -> int:
    """The whole-number enlargement that brings the longer side of ``shape`` (…, H, W) to at least ``min_side``."""
    return int(np.clip(-(-min_side // max(shape[-2:])), 1, MAX_SCALE))


def _enlarge(img: Image.Image, scale: int) -> Image.Image:
    # nearest neighbour: a digit's 28x28 pixels stay square and sharp, as on the page
    return img if scale <= 1 else img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


def png(image, scale: int | None = None) -> bytes:
    """A (H, W) image in [0, 1] (a digit, a grid, a strip) as PNG, enlarged ``scale`` times (default: to ``MIN_SIDE``)."""
    a = np.asarray(image, dtype=np.float32)
    buf = io.BytesIO()
    _enlarge(_gray(a), scale or scale_for(a.shape)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def gif(frames, fps: float = 10.0, scale: int | None = None, bounce: bool = False, hold: int = 0) -> bytes:
    """Frames ``(F, H, W)`` in [0, 1] as an animated GIF that loops, ``fps`` frames a second. ``bounce``: forward
    then back (an interpolation returns to its start instead of jumping); ``hold``: the two ends stay ``hold``
    frame-times longer, so the eye catches where the path starts and ends."""
    f = np.asarray(frames, dtype=np.float32)
    if f.ndim != 3 or len(f) == 0:
        raise ValueError(f"need frames (F, H, W), got shape {f.shape}")
    order = list(range(len(f)))
    if bounce and len(f) > 2:
        order += order[-2:0:-1]
    step = max(20, round(1000 / fps))  # ms; GIF keeps hundredths of a second
    ends = {0, len(f) - 1}
    durations = [step * (1 + hold) if i in ends else step for i in order]
    s = scale or scale_for(f.shape)
    images = [_enlarge(_gray(f[i]), s) for i in order]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=False)
    return buf.getvalue()


CSV_COLUMNS = ("test_index", "label", "x", "y")


def selection_csv(ids, labels, coords) -> bytes:
    """The latent map's selected points as CSV (UTF-8): one row each, ``test_index,label,x,y`` (the index into the
    MNIST test set, its label and its place on the map)."""
    ids, labels, xy = np.asarray(ids, dtype=np.int64), np.asarray(labels, dtype=np.int64), np.asarray(coords, dtype=np.float64)
    if not (len(ids) == len(labels) == len(xy)) or (len(xy) and xy.shape[1:] != (2,)):
        raise ValueError(f"need as many ids, labels and (x, y) rows, got {len(ids)}, {len(labels)}, {xy.shape}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for i, lab, (x, y) in zip(ids.tolist(), labels.tolist(), xy.tolist(), strict=True):
        w.writerow((i, lab, f"{x:.4f}", f"{y:.4f}"))
    return buf.getvalue().encode("utf-8")


def model_archive(model, name: str, card: dict | None = None) -> bytes:
    """A zip of ``NAME.safetensors`` and ``NAME.json`` (its card, ``rep_models.checkpoint.save``) for ``model``:
    ``checkpoint.load("NAME")`` reads the two files back."""
    from .checkpoint import save  # torch and safetensors: only when a model is exported

    with tempfile.TemporaryDirectory() as d:
        save(model, Path(d) / name, card=card)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for suffix in (".safetensors", ".json"):
                z.write(Path(d) / f"{name}{suffix}", f"{name}{suffix}")
    return buf.getvalue()


def map_selection_csv(ids, map_indices, map_labels, map_coords) -> bytes:
    """:func:`selection_csv` of the test-set indices ``ids`` picked on a map whose points are ``map_indices`` (N,)
    with ``map_labels`` (N,) at ``map_coords`` (N, 2); in the order of ``ids``, unknown ids left out."""
    where = {int(i): k for k, i in enumerate(np.asarray(map_indices).tolist())}
    rows = np.asarray([where[int(i)] for i in ids if int(i) in where], dtype=np.int64)
    return selection_csv(np.asarray(map_indices)[rows], np.asarray(map_labels)[rows], np.asarray(map_coords)[rows].reshape(-1, 2))
