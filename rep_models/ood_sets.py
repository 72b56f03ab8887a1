"""Digits and things that are not digits, made the way the Draw page receives them (a drawing from its canvas, an
uploaded image or photo) and then read by exactly the page's input path (``ui.common.digit_input``:
``decode_data_url`` or ``decode_image``, then ``to_mnist``). What the not-a-digit detector is measured and
calibrated on (``rep_models.ood``): the 28x28 raw images are not what a user's input looks like by the time it
reaches the models (cropped to the ink, fitted in 20x20, centred).

    s = build("letters_photo", 500)         # the first 500 items of a set (deterministic: item i is the same
    s.images                                # for every n); s.images (N, 28, 28) float32 = Steps.final
    s.detail                                # per item: the digit, the Fashion class, the letter and font, the shape

A set (:data:`SETS`) is ``<what>_<rendering>``. ``what``:

- ``digits``: the MNIST test digits (shipped sample); ``train_digits``: the shipped training sample (for
  calibration only, never measured against); ``pendigits``: the test digits written again with a pen of even
  width (their strokes, :func:`strokes_of`) and photographed: what a user who writes a digit on paper and uploads a
  photo of it sends; ``handdigits``: digits drawn with the brush as strokes;
- ``fashion``: Fashion-MNIST test items (Debian's ``dataset-fashion-mnist``);
- ``letters``: capital and small letters in the fonts of Debian's ``fonts-dejavu-core`` and ``fonts-liberation``
  (:data:`FONT_FILES`), at several sizes, small rotations and stroke widths, without the letters that are shaped
  like a digit (:data:`LOOKALIKE_LETTERS`);
- ``handletters``: capitals drawn with the brush as straight strokes (A, E, F, H, ...), as people try them;
- ``shapes``: stars, arrows, crosses and scribbles drawn with the brush.

``rendering`` (:data:`RENDERINGS`), and the page's input it stands for (:data:`CHANNEL`):

- ``drawn``: a drawing on the canvas, as ``digit_canvas.js`` sends it (a white on black 280x280 PNG data URL; a
  brush paints hard-edged strokes, so an MNIST digit is drawn as its strokes, :func:`strokes_of`);
- ``image``: an uploaded picture, light on dark (a PNG of the item enlarged smoothly, grey levels kept);
- ``photo``: the item printed dark on light paper and photographed (a JPEG with uneven light, a soft lens and
  sensor noise).

Not every pair exists: nobody draws a shirt or a font on the canvas, and a hand-drawn figure is drawn or photographed.
Every item has its own random stream (seed, source, index), so a subset is a prefix.
"""
from __future__ import annotations

import base64
import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .image_decode import EmptyImageError, decode_data_url, decode_image
from .preprocess import to_mnist
from .strokes import CANVAS, HAND_DIGITS, HAND_LETTERS, SHAPES, brush, hand_letter, shape

RENDERINGS = ("drawn", "image", "photo")
CHANNEL = {"drawn": "draw", "image": "upload", "photo": "upload"}  # the page's input each rendering comes through
SOURCES = ("digits", "train_digits", "fashion", "letters", "handletters", "shapes", "handdigits", "pendigits")  # an item's
# random stream is seeded by its source's place here: a new source goes at the end, so every other set stays as it was
DATA_SOURCES = ("digits", "train_digits", "fashion", "pendigits")  # the others are made here
N_MADE = 2000  # items of a made set by default
_RENDERED = {"digits": RENDERINGS, "train_digits": RENDERINGS, "pendigits": ("photo",), "fashion": ("image", "photo"), "letters": ("image", "photo"),
             "handletters": ("drawn", "photo"), "shapes": ("drawn", "photo"), "handdigits": ("drawn", "photo")}
SETS = tuple(f"{s}_{r}" for s in SOURCES for r in _RENDERED[s])
SEED = 15

# Letters that are shaped like a digit, left out of the letter sets (and why). A detector that calls them digits
# is right to.
LOOKALIKE_LETTERS = {
    "O": "0", "o": "0", "Q": "0 (an O with a short tail)",
    "I": "1", "l": "1", "i": "1 (a bar and a dot)",
    "S": "5", "s": "5", "Z": "2", "z": "2", "B": "8", "G": "6", "b": "6", "g": "9", "q": "9",
}
LETTERS = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in LOOKALIKE_LETTERS)

# The fonts: every face of Debian's fonts-dejavu-core and fonts-liberation (found with fc-list, else in
# /usr/share/fonts). CI installs both (.ci/run).
FONT_FILES = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    *(f"Liberation{family}-{style}.ttf" for family in ("Sans", "Serif", "Mono", "SansNarrow")
      for style in ("Regular", "Bold", "Italic", "BoldItalic")),
)
FONT_PACKAGES = "fonts-dejavu-core fonts-liberation"
FASHION_CLASSES = ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot")
class FontsMissing(RuntimeError):
    """None of :data:`FONT_FILES` is installed."""


@cache
def font_paths() -> tuple[Path, ...]:
    """The installed files of :data:`FONT_FILES`, in that order (fc-list, else a search of /usr/share/fonts)."""
    found: dict[str, Path] = {}
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, timeout=30).stdout
            found = {Path(p).name: Path(p) for p in out.splitlines() if p}
        except (OSError, subprocess.SubprocessError):
            found = {}
    if not found:
        found = {p.name: p for p in Path("/usr/share/fonts").rglob("*.ttf")} if Path("/usr/share/fonts").is_dir() else {}
    return tuple(found[f] for f in FONT_FILES if f in found and found[f].is_file())


def require_fonts() -> tuple[Path, ...]:
    paths = font_paths()
    if not paths:
        raise FontsMissing(f"none of the letter sets' fonts is installed (apt-get install -y {FONT_PACKAGES})")
    return paths


# ------------------------------------------------------------------------------------------------- inks
# Each item is first an ink map: (CANVAS, CANVAS) float32 in [0, 1], white ink on black, as on the canvas.

def _item_rng(seed: int, source: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SOURCES.index(source), index])


def enlarged(a28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 28x28 image enlarged smoothly to 65-100 % of the canvas, placed anywhere on it."""
    side = int(rng.integers(180, CANVAS + 1))
    big = np.asarray(Image.fromarray(np.asarray(a28, np.float32).reshape(28, 28), "F").resize((side, side), Image.Resampling.BICUBIC))
    out = np.zeros((CANVAS, CANVAS), np.float32)
    top, left = (int(v) for v in rng.integers(0, CANVAS - side + 1, 2))
    out[top : top + side, left : left + side] = np.clip(big, 0, 1)
    return out


def _fit(ink: np.ndarray, side: float, rng: np.random.Generator) -> np.ndarray:
    """The ink of ``ink`` (any size) scaled so its longer side is ``side`` pixels, placed at random on the canvas."""
    rows, cols = np.nonzero(ink > 0.05)
    if len(rows) == 0:
        return np.zeros((CANVAS, CANVAS), np.float32)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    f = side / max(crop.shape)
    w, h = max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))
    small = np.clip(np.asarray(Image.fromarray(crop.astype(np.float32), "F").resize((w, h), Image.Resampling.BOX if f < 1 else Image.Resampling.BICUBIC)), 0, 1)
    out = np.zeros((CANVAS, CANVAS), np.float32)
    top, left = int(rng.integers(0, CANVAS - h + 1)), int(rng.integers(0, CANVAS - w + 1))
    out[top : top + h, left : left + w] = small
    return out


def letter(char: str, font: Path, size: int, angle: float, stroke: int, side: float, rng: np.random.Generator) -> np.ndarray:
    """``char`` in ``font`` at ``size`` px, thickened by ``stroke`` px, turned ``angle`` degrees, its longer side
    ``side`` px on the canvas."""
    f = ImageFont.truetype(str(font), size)
    work = Image.new("L", (3 * size, 3 * size), 0)
    ImageDraw.Draw(work).text((1.5 * size, 1.5 * size), char, font=f, fill=255, anchor="mm", stroke_width=stroke, stroke_fill=255)
    work = work.rotate(angle, resample=Image.Resampling.BICUBIC)
    return _fit(np.asarray(work, np.float32) / 255.0, side, rng)


# ---------------------------------------------------------------------------------------------- renderings

def strokes_of(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey-level digit (an enlarged MNIST digit) as a brush would draw it: its strokes hard-edged (above half
    their brightness), made thinner or thicker by up to 2 or 3 canvas pixels (a brush of another size)."""
    from scipy import ndimage

    m = ink > 0.5
    w = int(rng.integers(-2, 4))
    if w > 0:
        m = ndimage.binary_dilation(m, iterations=w)
    elif w < 0:
        thin = ndimage.binary_erosion(m, iterations=-w)
        m = thin if thin.sum() > 0.3 * m.sum() else m  # a thin digit is not erased
    return m.astype(np.float32)


def png_bytes(ink: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.clip(ink, 0, 1) * 255 + 0.5).astype(np.uint8), "L").save(buf, "PNG")
    return buf.getvalue()


def canvas_url(ink: np.ndarray) -> str:
    """The canvas's PNG data URL of an ink map, as ``digit_canvas.js`` sends it."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(ink)).decode("ascii")


def photo_bytes(ink: np.ndarray, rng: np.random.Generator) -> bytes:
    """The ink map printed dark on light paper and photographed: a 480x360 JPEG, the paper lit unevenly, the
    lens a little soft, the sensor noisy."""
    from scipy import ndimage

    h, w = 360, 480
    f = float(rng.uniform(0.8, 1.2))
    side = round(CANVAS * f)
    scaled = np.clip(np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize((side, side), Image.Resampling.BILINEAR)), 0, 1)
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    page = np.zeros((h, w), np.float32)
    page[top : top + side, left : left + side] = scaled
    page = ndimage.gaussian_filter(page, float(rng.uniform(0.6, 1.6)))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / np.float32(max(h, w))
    gx, gy = rng.uniform(-0.3, 0.3, 2)
    light = float(rng.uniform(0.7, 1.0)) * (1 + gx * (xx - 0.5) + gy * (yy - 0.5))
    paper, dark = float(rng.uniform(0.75, 0.92)), float(rng.uniform(0.05, 0.2))
    picture = light * (paper - (paper - dark) * page) + rng.normal(0, rng.uniform(0.005, 0.03), (h, w))
    buf = io.BytesIO()
    Image.fromarray((np.clip(picture, 0, 1) * 255 + 0.5).astype(np.uint8), "L").save(buf, "JPEG", quality=int(rng.integers(75, 96)))
    return buf.getvalue()


def through_app(ink: np.ndarray, rendering: str, rng: np.random.Generator) -> np.ndarray:
    """An ink map as it arrives (``rendering``) and through the Draw page's input path: ``Steps.final``."""
    if rendering == "drawn":
        return to_mnist(decode_data_url(canvas_url(ink))).final
    if rendering == "image":
        return to_mnist(decode_image(png_bytes(ink))).final
    if rendering == "photo":
        return to_mnist(decode_image(photo_bytes(ink, rng))).final
    raise ValueError(f"unknown rendering {rendering!r}; expected one of {RENDERINGS}")


# ---------------------------------------------------------------------------------------------------- sets

@dataclass
class InputSet:
    name: str
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1]: what the page's models see
    detail: list[str]  # per item: digit, Fashion class, "letter font", shape
    index: np.ndarray  # (N,) int: the item's number in its source (a refused one is left out)
    refused: int  # items the path refused as empty (none expected)


def source_data(source: str) -> tuple[np.ndarray, np.ndarray]:
    """The 28x28 images (N, 28, 28) float32 and labels of a data-set source: the shipped MNIST sample's test or
    training digits, or Fashion-MNIST's test items (``rep_models.data`` finds them; DatasetError if it cannot)."""
    from .data import load_tensors

    if source == "fashion":
        x, y = load_tensors("fashion_mnist", "test")
    else:
        x, y = load_tensors("mnist", "test" if source in ("digits", "pendigits") else "full_train", source="sample")
    return x[:, 0].numpy(), y.numpy()


def _item(source: str, rendering: str, i: int, rng: np.random.Generator, images: np.ndarray | None,
          labels: np.ndarray | None) -> tuple[np.ndarray, str]:
    if source in DATA_SOURCES:
        what = "" if labels is None else FASHION_CLASSES[int(labels[i])] if source == "fashion" else str(int(labels[i]))
        ink = enlarged(images[i], rng)
        return (strokes_of(ink, rng) if rendering == "drawn" or source == "pendigits" else ink), what
    if source == "letters":
        fonts = require_fonts()
        char, font = LETTERS[int(rng.integers(len(LETTERS)))], fonts[int(rng.integers(len(fonts)))]
        size = int(rng.integers(48, 200))
        ink = letter(char, font, size, float(rng.uniform(-12, 12)), int(rng.integers(0, size // 24 + 1)),
                     float(rng.uniform(100, 230)), rng)
        return ink, f"{char} {font.stem}"
    if source in ("handletters", "handdigits"):
        figures = HAND_LETTERS if source == "handletters" else HAND_DIGITS
        char = sorted(figures)[int(rng.integers(len(figures)))]
        return brush(hand_letter(char, rng, figures), float(rng.uniform(10, 34))), char
    kind = SHAPES[int(rng.integers(len(SHAPES)))]
    return brush(shape(kind, rng), float(rng.uniform(10, 34))), kind


def build(name: str, n: int | None = None, seed: int = SEED, source_images: np.ndarray | None = None,
          labels: np.ndarray | None = None) -> InputSet:
    """The first ``n`` items of set ``name`` (:data:`SETS`) through the app's input path; default: all of a data
    set, :data:`N_MADE` made items. ``source_images`` (N, 28, 28) in [0, 1] (and their ``labels``) replace a data
    set's own (:func:`source_data`). Raises FontsMissing (letters without fonts) or DatasetError (no data)."""
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; expected one of {SETS}")
    source, rendering = name.rsplit("_", 1)
    images = None
    if source in DATA_SOURCES:
        images, labels = (np.asarray(source_images, np.float32).reshape(-1, 28, 28), labels) if source_images is not None \
            else source_data(source)
    total = len(images) if images is not None else N_MADE
    n = total if n is None else (min(n, total) if images is not None else n)
    out, detail, index, refused = [], [], [], 0
    for i in range(n):
        rng = _item_rng(seed, source, i)
        ink, what = _item(source, rendering, i, rng, images, labels)
        try:
            out.append(through_app(ink, rendering, rng))
        except EmptyImageError:
            refused += 1
            continue
        detail.append(what)
        index.append(i)
    return InputSet(name, np.stack(out).astype(np.float32) if out else np.zeros((0, 28, 28), np.float32), detail,
                    np.asarray(index, np.int64), refused)
