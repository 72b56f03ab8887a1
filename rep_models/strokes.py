"""Figures drawn in code as a hand draws them with the mouse on the Draw page's canvas: capitals made of straight
strokes (:data:`HAND_LETTERS`), digits (:data:`HAND_DIGITS`), stars, arrows, crosses and scribbles (:func:`shape`),
each made uneven and placed on the canvas, and :func:`brush`, which paints strokes as ``ui/js/digit_canvas.js``
does. ``rep_models.ood_sets`` makes the not-a-digit test sets from them.

    strokes = hand_letter("A", rng)         # [(K, 2) points in canvas pixels, x then y] per stroke
    ink = brush(strokes, 22)                # (CANVAS, CANVAS) float32 in [0, 1], white on black
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280  # the Draw page's canvas (ui.digit_input's canvas_size)
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
