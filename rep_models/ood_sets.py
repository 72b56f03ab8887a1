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
  calibration only, never measured against); ``handdigits``: digits drawn with the brush as strokes;
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

CANVAS = 280  # the Draw page's canvas (ui.common.digit_input's canvas_size)
RENDERINGS = ("drawn", "image", "photo")
CHANNEL = {"drawn": "draw", "image": "upload", "photo": "upload"}  # the page's input each rendering comes through
SOURCES = ("digits", "train_digits", "fashion", "letters", "handletters", "shapes", "handdigits")
DATA_SOURCES = ("digits", "train_digits", "fashion")  # the others are made here
N_MADE = 2000  # items of a made set by default
_RENDERED = {"digits": RENDERINGS, "train_digits": RENDERINGS, "fashion": ("image", "photo"), "letters": ("image", "photo"),
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
SHAPES = ("star", "arrow", "cross", "scribble")
# Capitals made of straight strokes, on a unit square (x right, y down): what a user draws with the mouse.
HAND_LETTERS = {
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0), (0.9, 1.0)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0)], [(0.1, 0.5), (0.7, 0.5)]],
    "H": [[(0.1, 0.0), (0.1, 1.0)], [(0.9, 0.0), (0.9, 1.0)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.15, 0.0), (0.15, 1.0)], [(0.85, 0.0), (0.15, 0.55)], [(0.35, 0.4), (0.9, 1.0)]],
    "M": [[(0.0, 1.0), (0.1, 0.0), (0.5, 0.7), (0.9, 0.0), (1.0, 1.0)]],
    "N": [[(0.1, 1.0), (0.1, 0.0), (0.9, 1.0), (0.9, 0.0)]],
    "R": [[(0.15, 1.0), (0.15, 0.0), (0.75, 0.05), (0.85, 0.25), (0.7, 0.48), (0.15, 0.5)], [(0.4, 0.5), (0.9, 1.0)]],
    "T": [[(0.0, 0.0), (1.0, 0.0)], [(0.5, 0.0), (0.5, 1.0)]],
    "V": [[(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)]],
    "W": [[(0.0, 0.0), (0.25, 1.0), (0.5, 0.35), (0.75, 1.0), (1.0, 0.0)]],
    "X": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
    "Y": [[(0.0, 0.0), (0.5, 0.5), (1.0, 0.0)], [(0.5, 0.5), (0.5, 1.0)]],
}




def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 16) -> list[tuple[float, float]]:
    a = np.radians(np.linspace(a0, a1, n))
    return [(float(x), float(y)) for x, y in zip(cx + rx * np.cos(a), cy - ry * np.sin(a), strict=True)]


# Digits drawn with the brush as a hand draws them on the canvas, on the same unit square: digits too, whose
# strokes are even and smooth where MNIST's pen strokes are not. Not a bar: how often the page calls a drawn digit
# "not a digit".
HAND_DIGITS = {
    "0": [_arc(0.5, 0.5, 0.3, 0.42, 90, 450, 30)],
    "1": [[(0.4, 0.25), (0.55, 0.1), (0.55, 0.9)]],
    "2": [_arc(0.5, 0.32, 0.28, 0.22, 160, -30, 12) + [(0.22, 0.9), (0.8, 0.9)]],
    "3": [_arc(0.48, 0.3, 0.26, 0.2, 150, -90, 14) + _arc(0.48, 0.7, 0.3, 0.2, 90, -150, 14)],
    "4": [[(0.55, 0.1), (0.2, 0.62), (0.85, 0.62)], [(0.65, 0.35), (0.65, 0.92)]],
    "5": [[(0.8, 0.1), (0.3, 0.1), (0.27, 0.45)], _arc(0.5, 0.66, 0.3, 0.25, 135, -160, 16)],
    "6": [_arc(0.6, 0.45, 0.3, 0.38, 70, 180, 10) + _arc(0.5, 0.68, 0.26, 0.22, 180, 540, 24)],
    "7": [[(0.2, 0.12), (0.8, 0.12), (0.42, 0.9)]],
    "8": [_arc(0.5, 0.3, 0.22, 0.2, 270, -90, 24)[:12] + _arc(0.5, 0.72, 0.28, 0.22, 90, 450, 30)
          + _arc(0.5, 0.3, 0.22, 0.2, 270, -90, 24)[12:]],
    "9": [_arc(0.5, 0.32, 0.25, 0.22, 0, 360, 26) + [(0.75, 0.32), (0.72, 0.9)]],
}


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


def brush(strokes: list[np.ndarray], width: float) -> np.ndarray:
    """Strokes (each (K, 2) points in canvas pixels, x then y) painted with a round brush of ``width`` px,
    anti-aliased (drawn at 4x, then averaged): what ``ui/js/digit_canvas.js`` paints."""
    k = 4
    img = Image.new("L", (CANVAS * k, CANVAS * k), 0)
    d = ImageDraw.Draw(img)
    r = width * k / 2
    for pts in strokes:
        p = [(float(x) * k, float(y) * k) for x, y in pts]
        if len(p) > 1:
            d.line(p, fill=255, width=max(1, round(width * k)), joint="curve")
        for x, y in p:  # round caps and joints
            d.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(img.reduce(k), np.float32) / 255.0


def _smooth(points: np.ndarray, per: int = 12) -> np.ndarray:
    """A Catmull-Rom curve through ``points`` (K, 2): a hand's smooth line."""
    p = np.concatenate([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    out.append(p[-2:-1])
    return np.concatenate(out)


def _shaky(pts: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Points of a straight-segment figure, each moved a little, and each segment made a smooth hand line."""
    pts = np.asarray(pts, np.float64) + rng.normal(0, amount, (len(pts), 2))
    dense = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        n = max(2, int(np.hypot(*(b - a)) // 12))
        seg = a + (b - a) * np.linspace(0, 1, n + 1)[1:, None]
        seg[:-1] += rng.normal(0, amount / 4, (n - 1, 2))
        dense.extend(seg)
    return np.asarray(dense)


def _place(strokes: list[np.ndarray], rng: np.random.Generator, lo: float = 110, hi: float = 240) -> list[np.ndarray]:
    """Strokes in any units, scaled so the figure's longer side is ``lo..hi`` px, placed on the canvas."""
    allp = np.concatenate(strokes)
    mn, mx = allp.min(0), allp.max(0)
    side = float(rng.uniform(lo, hi))
    f = side / max(float((mx - mn).max()), 1e-6)
    size = (mx - mn) * f
    margin = 20
    off = np.array([rng.uniform(margin, max(margin, CANVAS - margin - size[0])), rng.uniform(margin, max(margin, CANVAS - margin - size[1]))])
    return [(s - mn) * f + off for s in strokes]


def shape(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes of one ``kind`` of :data:`SHAPES`, in canvas pixels."""
    rot = rng.uniform(0, 2 * np.pi)
    if kind == "star":
        n = int(rng.choice([5, 5, 6]))
        if n == 5 and rng.random() < 0.5:  # the one-stroke pentagram
            a = rot + np.arange(6) * 4 * np.pi / 5
            strokes = [np.stack([np.cos(a), np.sin(a)], 1) * 100]
        else:
            a = rot + np.arange(2 * n + 1) * np.pi / n
            radius = np.where(np.arange(2 * n + 1) % 2 == 0, 100.0, 100.0 * rng.uniform(0.35, 0.55))
            strokes = [np.stack([np.cos(a), np.sin(a)], 1) * radius[:, None]]
    elif kind == "arrow":
        length, head, spread = 200.0, rng.uniform(0.25, 0.4) * 200, rng.uniform(0.4, 0.7)
        tip = np.array([length, 0.0])
        back = np.array([-np.cos(spread), np.sin(spread)]) * head
        strokes = [np.array([[0.0, 0.0], tip]), np.array([tip + back, tip, tip + back * [1, -1]])]
        c, s = np.cos(rot), np.sin(rot)
        strokes = [p @ np.array([[c, s], [-s, c]]) for p in strokes]
    elif kind == "cross":
        a = (np.pi / 4 if rng.random() < 0.5 else 0.0) + rng.normal(0, 0.15)
        arms = rng.uniform(0.6, 1.0, 2) * 100
        d1, d2 = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
        shift = rng.uniform(-0.3, 0.3) * 100
        strokes = [np.stack([-d1 * arms[0], d1 * arms[0]]), np.stack([-d2 * arms[1] + d1 * shift, d2 * arms[1] + d1 * shift])]
    elif kind == "scribble":
        k = int(rng.integers(6, 14))
        strokes = [_smooth(rng.uniform(0, 100, (k, 2)))]
    else:
        raise ValueError(f"unknown shape {kind!r}; expected one of {SHAPES}")
    if kind != "scribble":
        strokes = [_shaky(s, rng, 3.0) for s in strokes]
    return _place(strokes, rng)


def hand_letter(char: str, rng: np.random.Generator, figures: dict | None = None) -> list[np.ndarray]:
    """The strokes of capital ``char`` of :data:`HAND_LETTERS` (or of ``figures``: :data:`HAND_DIGITS`) as a hand
    draws them: uneven, a little slanted."""
    aspect = rng.uniform(0.6, 1.0)
    slant = rng.normal(0, 0.1)
    strokes = []
    for s in (figures or HAND_LETTERS)[char]:
        p = np.asarray(s, np.float64) * [aspect * 100, 100]
        p[:, 0] += slant * (100 - p[:, 1])
        strokes.append(_shaky(p, rng, 3.5))
    return _place(strokes, rng, 120, 250)


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
        x, y = load_tensors("mnist", "test" if source == "digits" else "full_train", source="sample")
    return x[:, 0].numpy(), y.numpy()


def _item(source: str, rendering: str, i: int, rng: np.random.Generator, images: np.ndarray | None,
          labels: np.ndarray | None) -> tuple[np.ndarray, str]:
    if source in DATA_SOURCES:
        what = "" if labels is None else FASHION_CLASSES[int(labels[i])] if source == "fashion" else str(int(labels[i]))
        ink = enlarged(images[i], rng)
        return (strokes_of(ink, rng) if rendering == "drawn" else ink), what
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
