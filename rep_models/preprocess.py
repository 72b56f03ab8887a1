"""Defensive image decoding and MNIST-style preprocessing for drawings, uploads and photos of digits.

    img = decode_image(uploaded_bytes)        # PIL 'L' image, or ImageError with a human message
    steps = to_mnist(img)                     # every step as an array; EmptyImageError if there is no ink
    steps.final                               # (28, 28) float32 in [0, 1], white ink on black
    steps.tensor                              # (1, 1, 28, 28) float32, what the models take

Error contract: for bad *input* (the bytes or pixels a user supplied) the only exception that escapes
:func:`decode_image`, :func:`decode_data_url` and :func:`to_mnist` is :class:`ImageError` (a
``ValueError``), or its subclass :class:`EmptyImageError` when the image has no ink. Their messages are
written for the person who uploaded the file and never contain user-supplied text. Passing the wrong
*type* (not bytes, not an image or array) is a programming error and raises ``TypeError``.

The steps follow how MNIST was made: grayscale; dark ink on light paper detected and inverted (MNIST is
white ink on black); background removed; cropped to the ink's bounding box; fitted in 20x20 keeping the
aspect ratio (anti-aliased); placed in 28x28 so that its centre of mass is at pixel (14, 14).
No Streamlit here: the pages call these functions and show the arrays.
"""
from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

MAX_BYTES = 8 * 1024 * 1024  # larger uploads are refused before any parsing
MAX_PIXELS = 24_000_000  # width * height limit, checked from the header before the pixels are decoded
WORK_SIDE = 320  # big images are shrunk to this longest side first: a digit needs no more
ALLOWED_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF")  # MPO: what many phones call their JPEGs
MIN_CONTRAST = 0.08  # ink must differ from the background by this much (of the full 0..1 range)
INK_THRESHOLD = 0.2  # after the contrast stretch, values below this are background (noise, paper grain)


class ImageError(ValueError):
    """The file or drawing cannot be used as a digit; the message says why, for the user."""


class EmptyImageError(ImageError):
    """The image has no ink (a blank canvas, a uniform image)."""

    def __init__(self, message: str = "The image is empty: there is no ink to read. Please draw or upload a digit."):
        super().__init__(message)


# --------------------------------------------------------------------------------------------- decoding


def _sniff_non_image(head: bytes) -> str | None:
    """A message for well-known non-image files that users rename to .png."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"%pdf"):
        return "This file is a PDF document, not an image. Please upload a PNG, JPEG, WebP, BMP or GIF picture."
    if text.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in text[:1024]:
        return "This file is an SVG (vector) image, which is not supported. Please export it as PNG and upload that."
    if text.startswith((b"<!doctype html", b"<html")):
        return "This file is a web page (HTML), not an image. Please upload a PNG, JPEG, WebP, BMP or GIF picture."
    return None


def to_gray(img: Image.Image) -> Image.Image:
    """Any PIL image -> 8-bit grayscale 'L'. Transparency is composited on white, 16-bit and float images
    are rescaled (not clipped), palette and CMYK go through RGB."""
    mode = img.mode
    if mode == "L":
        return img
    if mode.startswith("I;16"):  # the high byte, in place of a float copy (4-8 bytes a pixel at 24 megapixels)
        return Image.fromarray((np.asarray(img).astype(np.uint16, copy=False) >> 8).astype(np.uint8), "L")
    if mode in ("I", "F"):
        a = np.asarray(img, dtype=np.float32)  # 32-bit int or float: no fixed range, stretch what is there
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        return Image.fromarray(np.clip(np.nan_to_num(a) * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode in ("P", "L", "RGB") and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if mode in ("1", "P", "RGB"):
        return img.convert("L")
    return img.convert("RGB").convert("L")  # CMYK, YCbCr, LAB, HSV, ...


REDUCIBLE_MODES = ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F")  # box-averaging is meaningful for these


def _shrink(img: Image.Image) -> Image.Image:
    """Box-reduce a very large decoded image by an integer factor (to no less than twice ``WORK_SIDE``)
    before grayscale conversion, so the conversion's copies are small. Palette and 1-bit images are left
    as they are (averaging palette indices would be wrong; they are cheap to convert)."""
    factor = max(img.size) // (2 * WORK_SIDE)
    if factor < 2 or img.mode not in REDUCIBLE_MODES:
        return img
    return img.reduce(factor)


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> Image.Image:
    """Uploaded bytes -> a grayscale PIL image (mode 'L'), upright (EXIF rotation applied), first frame.

    Raises :class:`ImageError` with a message for the user for an empty, oversized, truncated or corrupt
    file, a non-image (PDF, SVG, HTML, text, ...) and an image with more than ``max_pixels`` pixels
    (checked from the header, before decoding: a decompression bomb is never expanded).
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"decode_image expects bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ImageError("The file is empty (0 bytes). Please upload a picture of a digit.")
    if len(data) > max_bytes:
        raise ImageError(f"The file is too large ({len(data) / 1e6:.1f} MB); the limit is {max_bytes / 1e6:.0f} MB.")
    non_image = _sniff_non_image(data[:2048])
    if non_image:
        raise ImageError(non_image)
    Image.init()  # registers every plugin (WebP and MPO are not preloaded); a no-op after the first call
    try:
        img = Image.open(io.BytesIO(data), formats=[f for f in ALLOWED_FORMATS if f in Image.OPEN])  # header only
    except Image.DecompressionBombError as e:
        raise ImageError("The image has far too many pixels to be processed safely. Please upload a smaller picture.") from e
    except Exception as e:  # UnidentifiedImageError, and parser errors on garbage headers
        raise ImageError("This file is not an image we can read. Please upload a PNG, JPEG, WebP, BMP or GIF picture.") from e
    w, h = img.size
    if w <= 0 or h <= 0:
        raise ImageError("The image has no pixels (its width or height is 0).")
    if w * h > max_pixels:
        raise ImageError(f"The image is too big ({w}x{h} pixels); the limit is {max_pixels / 1e6:.0f} megapixels. Please upload a smaller picture.")
    try:
        img.seek(0)  # animated GIF/WebP/PNG: the first frame
        if img.format in ("JPEG", "MPO"):
            # Phone photos: let the JPEG decoder scale by 1/2..1/8 and decode luminance only, so a
            # 12-megapixel photo costs a few MB instead of hundreds.
            img.draft("L", (2 * WORK_SIDE, 2 * WORK_SIDE))
        img.load()
        img = _shrink(img)
    except Exception as e:  # truncated data, bad compressed stream, bad palette, ...
        raise ImageError("The image file is damaged or incomplete (it may have been cut off during upload). Please try another file.") from e
    try:
        img = ImageOps.exif_transpose(img)  # phone photos: rotate as the camera says
    except Exception:  # a malformed EXIF block is not worth refusing the picture for
        pass
    try:
        gray = _shrink(to_gray(img))  # palette, 1-bit and 16-bit images are reduced once they are grayscale
        gray.load()
    except Exception as e:
        raise ImageError(f"This image uses a colour format ({img.mode}) we cannot convert. Please save it as PNG or JPEG and try again.") from e
    return gray.copy()


# ----------------------------------------------------------------------------------------- preprocessing


@dataclass
class Steps:
    """Every step of :func:`to_mnist`, as arrays in [0, 1] (float32) so a page can show them.

    gray: (H, W) the input in grayscale (shrunk to at most ``WORK_SIDE`` on the longest side)
    inverted: whether the input was dark ink on a light background (and so was inverted)
    ink: (H, W) white ink on black, background removed and contrast stretched
    bbox: (top, left, bottom, right) of the ink in ``ink`` (bottom/right exclusive)
    cropped: (h, w) ``ink`` cropped to ``bbox``
    fitted: (h', w') the crop resized so its longer side is 20, aspect kept
    final: (28, 28) ``fitted`` placed so its centre of mass is at (14, 14)
    tensor: (1, 1, 28, 28) ``final`` as a torch tensor
    """

    gray: np.ndarray
    inverted: bool
    ink: np.ndarray
    bbox: tuple[int, int, int, int]
    cropped: np.ndarray
    fitted: np.ndarray
    final: np.ndarray
    tensor: torch.Tensor

    def stages(self) -> list[tuple[str, np.ndarray]]:
        """(caption, image) for each step, in order, for display."""
        return [
            ("1. grayscale", self.gray),
            ("2. inverted to white ink" if self.inverted else "2. ink (already light on dark)", self.ink),
            ("3. cropped to the ink", self.cropped),
            ("4. fitted in 20x20", self.fitted),
            ("5. centred in 28x28", self.final),
        ]


def _as_gray_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """PIL image or array -> (H, W) float32 in [0, 1]."""
    if isinstance(image, Image.Image):
        return np.asarray(to_gray(image), dtype=np.float32) / 255.0
    if not isinstance(image, np.ndarray):
        raise TypeError(f"to_mnist expects a PIL image or a numpy array, got {type(image).__name__}")
    a = image
    if a.ndim == 4 and a.shape[:2] == (1, 1):  # (1, 1, H, W), as the models take
        a = a[0, 0]
    if a.ndim == 3 and a.shape[2] in (3, 4):  # colour array: through PIL, which handles alpha
        if a.dtype != np.uint8:
            a = np.clip(np.nan_to_num(a.astype(np.float64)) * 255 + 0.5, 0, 255).astype(np.uint8)
        return _as_gray_array(Image.fromarray(a, "RGBA" if a.shape[2] == 4 else "RGB"))
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim != 2:
        raise ImageError(f"Expected a 2-D grayscale image, got an array of shape {a.shape}.")
    if a.size == 0:
        raise ImageError("The image has no pixels.")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"to_mnist expects a numeric array, got dtype {a.dtype}")
    a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    if a.max(initial=0) > 1.0:  # 0..255 (or 0..65535) given as numbers
        a = a / (255.0 if a.max() <= 255 else float(a.max()))
    return np.clip(a, 0.0, 1.0)


def _resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Float image (H, W) -> ``size`` = (width, height); area-averaging when shrinking (MNIST's anti-aliasing)."""
    h, w = a.shape
    shrink = size[0] <= w and size[1] <= h
    img = Image.fromarray(a.astype(np.float32), "F")
    return np.asarray(img.resize(size, Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR), dtype=np.float32)


def _background(a: np.ndarray, tiles: int = 8, q: float = 25.0) -> np.ndarray:
    """A smooth background estimate (H, W) of bright-ink image ``a``.

    Each tile of a ``tiles`` x ``tiles`` grid gives its ``q``-th percentile (background, as long as ink covers
    less than 1 - q/100 of the tile), then a quadratic surface is fitted to those values, twice, the second
    time without the tiles that sit far above it (mostly ink). Smooth lighting gradients across a photo are
    removed everywhere, corners included; a flat background gives a flat surface.
    """
    h, w = a.shape
    tiles = min(tiles, min(h, w) // 8)
    if tiles < 3:
        return np.full_like(a, np.percentile(a, q))
    th, tw = h // tiles, w // tiles  # equal tiles (a few edge pixels left out), one vectorised percentile
    blocks = a[: th * tiles, : tw * tiles].reshape(tiles, th, tiles, tw).transpose(0, 2, 1, 3).reshape(tiles, tiles, -1)
    grid = np.percentile(blocks, q, axis=2)
    cy = ((np.arange(tiles) + 0.5) * th - 0.5) / max(h - 1, 1) * 2 - 1  # tile centres in [-1, 1]
    cx = ((np.arange(tiles) + 0.5) * tw - 0.5) / max(w - 1, 1) * 2 - 1
    gy, gx = np.meshgrid(cy, cx, indexing="ij")
    design = np.stack([np.ones_like(gy), gx, gy, gx * gx, gx * gy, gy * gy], -1).reshape(-1, 6)
    values = grid.ravel()
    keep = np.ones(len(values), bool)
    for _ in range(2):
        coef = np.linalg.lstsq(design[keep], values[keep], rcond=None)[0]
        resid = values - design @ coef
        spread = 1.4826 * np.median(np.abs(resid[keep] - np.median(resid[keep]))) + 1e-3
        keep = resid <= 2.5 * spread  # tiles far above the surface hold ink, not background
        if keep.sum() < 6:
            break
    y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    c = coef.astype(np.float32)
    return c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * x * y + c[5] * y * y


def _window(mask: np.ndarray, k: int, reduce) -> np.ndarray:
    """Separable k x k min (erosion) or max (dilation) of a boolean mask; outside the image counts as False."""
    r = k // 2
    out = mask
    for axis in (0, 1):
        pad = np.pad(out, [(r, r) if a == axis else (0, 0) for a in (0, 1)])
        n = out.shape[axis]
        views = [np.take(pad, np.arange(i, i + n), axis=axis) for i in range(k)]
        out = reduce(views)
    return out


def _erode(mask: np.ndarray, k: int) -> np.ndarray:
    return _window(mask, k, lambda v: np.logical_and.reduce(v))


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    return _window(mask, k, lambda v: np.logical_or.reduce(v))


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    """(row, col) of the intensity-weighted mean position of ``a``; the centre of the array if it is all zero."""
    total = float(a.sum())
    if total <= 0:
        return (a.shape[0] - 1) / 2, (a.shape[1] - 1) / 2
    rows, cols = np.indices(a.shape)
    return float((rows * a).sum() / total), float((cols * a).sum() / total)


def to_mnist(image: Image.Image | np.ndarray, box: int = 20, size: int = 28) -> Steps:
    """A drawing, upload or photo -> MNIST-like ``Steps`` (``.final`` (28, 28) float32, ``.tensor`` (1,1,28,28)).

    ``image``: a PIL image (any mode) or an array: (H, W) uint8 0..255 or float 0..1, (H, W, 3|4) colour,
    or (1, 1, H, W). Raises :class:`EmptyImageError` when there is no ink, :class:`ImageError` for an
    unusable array.
    """
    gray = _as_gray_array(image)
    h, w = gray.shape
    if max(h, w) > WORK_SIDE:  # a 12-megapixel photo is shrunk first: faster and averages sensor noise
        s = WORK_SIDE / max(h, w)
        gray = np.clip(_resize(gray, (max(1, round(w * s)), max(1, round(h * s)))), 0, 1)
        h, w = gray.shape
    # Ink is the minority of pixels: if the typical pixel is light, the ink is dark -> invert.
    inverted = bool(np.median(gray) > 0.5)
    a = gray
    if min(h, w) >= 64:  # photos: a 3x3 median removes speckle noise (strokes are much wider than 3 px)
        u8 = Image.fromarray((a * 255 + 0.5).astype(np.uint8), "L")  # rank filters are much faster on 8 bits
        a = np.asarray(u8.filter(ImageFilter.MedianFilter(3)), dtype=np.float32) / 255.0
    if inverted:
        # Paper under uneven light: what we see is reflectance x light, so divide by the local paper brightness
        # (1 - the low percentile of the inverted image) rather than subtract it.
        paper = 1.0 - _background(1.0 - a)
        ink = np.clip(1.0 - a / np.maximum(paper, 1e-3), 0.0, None)
    else:  # light ink on a dark background (a canvas, an MNIST digit): subtract the background
        ink = np.clip(a - _background(a), 0.0, None)
    strength = float(ink.max(initial=0.0))
    if strength < MIN_CONTRAST:
        raise EmptyImageError()
    # Below the threshold is background: a fixed fraction of the ink's strength, raised above the noise floor
    # (median + 6 robust sigmas of the ink map, where most pixels are background) for noisy photos.
    med = float(np.median(ink))
    noise_floor = med + 6 * 1.4826 * float(np.median(np.abs(ink - med)))
    thr = min(0.6, max(INK_THRESHOLD, noise_floor / strength))
    ink = np.clip((ink / strength - thr) / (1 - thr), 0.0, 1.0).astype(np.float32)
    if min(h, w) >= 64:  # drop specks smaller than 3x3 (a morphological opening of the ink mask), keep stroke edges
        ink = ink * _dilate(_erode(ink > 0, 3), 5)
    rows, cols = np.nonzero(ink)
    if len(rows) == 0:
        raise EmptyImageError()
    top, bottom, left, right = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    cropped = ink[top:bottom, left:right]
    ch, cw = cropped.shape
    scale = box / max(ch, cw)
    fitted = np.clip(_resize(cropped, (max(1, round(cw * scale)), max(1, round(ch * scale)))), 0.0, 1.0)
    if fitted.max() <= 0:  # a faint speck averaged away
        raise EmptyImageError()
    fitted = (fitted / fitted.max()).astype(np.float32)  # MNIST strokes reach full white
    # Place the fitted digit so its centre of mass lands on (14, 14), staying inside the frame.
    cy, cx = centre_of_mass(fitted)
    fh, fw = fitted.shape
    oy = int(np.clip(round(size / 2 - cy), 0, size - fh))
    ox = int(np.clip(round(size / 2 - cx), 0, size - fw))
    final = np.zeros((size, size), np.float32)
    final[oy : oy + fh, ox : ox + fw] = fitted
    return Steps(
        gray=gray.astype(np.float32), inverted=inverted, ink=ink, bbox=(top, left, bottom, right),
        cropped=cropped, fitted=fitted, final=final, tensor=torch.from_numpy(final.copy())[None, None],
    )


def decode_data_url(url: str, max_bytes: int = MAX_BYTES) -> Image.Image:
    """A drawing as the page sends it, ``data:image/png;base64,...`` -> a grayscale PIL image (mode 'L').

    The bytes then go through :func:`decode_image` (size limits, format checks). Raises :class:`ImageError`
    for anything that is not a base64 PNG/JPEG/WebP data URL of at most ``max_bytes`` bytes.
    """
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url[:40]:
        raise ImageError("The drawing did not arrive as an image (expected a data:image/...;base64 URL).")
    payload = url.split(",", 1)[1]
    if len(payload) > 4 * (max_bytes // 3 + 1):
        raise ImageError(f"The drawing is too large ({len(payload) * 3 // 4 / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB).")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ImageError(f"The drawing's data is not valid base64 ({e}).") from None
    return decode_image(data, max_bytes=max_bytes)
