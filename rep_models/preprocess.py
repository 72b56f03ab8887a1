"""Defensive image decoding and MNIST-style preprocessing for drawings, uploads and photos of digits.

    img = decode_image(uploaded_bytes)        # PIL 'L' image, or ImageError with a human message
    steps = to_mnist(img)                     # every step as an array; EmptyImageError if there is no ink
    steps.final                               # (28, 28) float32 in [0, 1], white ink on black
    steps.tensor                              # (1, 1, 28, 28) float32, what the models take
    noisy = to_mnist(img, keep_noise=True)    # for the denoiser: the same steps, robustly, the noise kept
    picture = restore(noisy.frame, result28)  # a 28x28 result put back at the upload's size and framing

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
import math
from dataclasses import dataclass, replace

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
    upload_size = (w, h)  # the picture's own size, before any reduction (a denoised result goes back at this size)
    try:
        if img.getexif().get(0x0112) in (5, 6, 7, 8):  # EXIF orientations that turn the picture a quarter
            upload_size = (h, w)
        img = ImageOps.exif_transpose(img)  # phone photos: rotate as the camera says
    except Exception:  # a malformed EXIF block is not worth refusing the picture for
        pass
    try:
        gray = _shrink(to_gray(img))  # palette, 1-bit and 16-bit images are reduced once they are grayscale
        gray.load()
    except Exception as e:
        raise ImageError(f"This image uses a colour format ({img.mode}) we cannot convert. Please save it as PNG or JPEG and try again.") from e
    out = gray.copy()
    out.info["upload_size"] = upload_size  # (width, height) as uploaded; ``out.size`` may be smaller (big photos)
    return out


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
    frame: with ``keep_noise=True``, where the 28x28 frame came from and the picture's levels (:class:`Frame`)
    """

    gray: np.ndarray
    inverted: bool
    ink: np.ndarray
    bbox: tuple[int, int, int, int]
    cropped: np.ndarray
    fitted: np.ndarray
    final: np.ndarray
    tensor: torch.Tensor
    frame: Frame | None = None

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


def to_mnist(image: Image.Image | np.ndarray, box: int = 20, size: int = 28, keep_noise: bool = False) -> Steps:
    """A drawing, upload or photo -> MNIST-like ``Steps`` (``.final`` (28, 28) float32, ``.tensor`` (1,1,28,28)).

    ``image``: a PIL image (any mode) or an array: (H, W) uint8 0..255 or float 0..1, (H, W, 3|4) colour,
    or (1, 1, H, W). Raises :class:`EmptyImageError` when there is no ink, :class:`ImageError` for an
    unusable array.

    ``keep_noise=True`` is for a picture that is already noisy and goes to the denoiser: the same steps, but
    estimated on a smoothed copy, and the pixels keep their noise (no background removal, threshold or
    median filter; see :func:`_to_mnist_keep_noise`). ``Steps.frame`` then records where the 28x28 frame came
    from, for :func:`restore`.
    """
    if keep_noise:
        return _to_mnist_keep_noise(image, box, size)
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


# ------------------------------------------------------------------------ noisy pictures: the noise is kept
#
# The steps above clean the ink (background removal, a threshold, a median filter, a contrast stretch) and take
# the ink's bounding box from the pixels themselves. On a noisy picture the noise counts as ink: the box covers
# the whole square, and the cleaning turns the noise into something no denoiser was trained on. For the
# denoiser the same steps are estimated on a smoothed copy instead, with thresholds set by the ink's own
# contrast there (half-way up a blurred stroke is its edge, whatever the noise), and then applied to the
# pixels as they are: only geometry (resampling) and levels (an offset and a gain), so the noise stays noise.

INK_LEVEL = 0.5  # the ink box: where the smoothed ink exceeds this share of its contrast (the edge of a blurred stroke)
NEAR_LEVEL = 0.2  # the ink's surroundings: the smoothed ink above this share of its contrast, around the ink box's blobs
COM_LEVEL = 0.0  # the centre of mass weighs the smoothed ink above this share of its contrast, in the surroundings
PAPER_LEVEL = 0.25  # the background's level: the median of the pixels whose smoothed ink is below this share
CORE_LEVEL = 0.75  # the ink's level: the median of the pixels whose smoothed ink is above this share
PAPER_SNAP, INK_SNAP = 0.05, 0.15  # levels this close to black paper and white ink (MNIST's 0 and 1) are left alone
MIN_PART = 0.1  # a separate blob of the ink mask counts as ink when at least this share of the biggest one's area
BLOCK_TOLERANCE = 0.06  # a picture is a k-times pixel-block enlargement when its spread within k x k blocks is below this share of its spread
RESTORE_MAX_PIXELS = 16_000_000  # restore(): a bigger upload's result is returned scaled down to this many pixels


@dataclass(frozen=True)
class Frame:
    """What ``to_mnist(keep_noise=True)`` did to a picture, to do it again or undo it.

    upload_size: (width, height) of the picture as uploaded
    block: the pixel-block enlargement undone first (10: every pixel of a 28x28 digit was a 10x10 block; 1: none)
    work_size: (width, height) of the working copy: block-reduced, then shrunk to at most ``WORK_SIDE``
    box: (left, top, right, bottom) of the 28x28 frame in the working copy's pixel coordinates (pixel (i, j)
        covers [j, j+1) x [i, i+1)); it may reach past the picture's edges (that part is background)
    inverted: dark ink on light paper (inverted to white ink on black)
    paper, ink: the picture's background and ink levels (grayscale, 0..1), for putting a result back
    """

    upload_size: tuple[int, int]
    block: int
    work_size: tuple[int, int]
    box: tuple[float, float, float, float]
    inverted: bool
    paper: float
    ink: float

    def apply(self, image: np.ndarray, size: int = 28) -> np.ndarray:
        """The same geometric steps on another picture of the same size (a clean copy, say): ``image`` (H, W)
        float in [0, 1], white ink on black -> (size, size). No levels: only the block reduction, the
        shrink and the frame's resampling, exactly as for the upload."""
        return _resample_frame(_working_copy(np.asarray(image, np.float32), self.block), self.box, size)


def _block_factor(a: np.ndarray) -> int:
    """The largest k such that ``a`` is (nearly) made of k x k blocks of one value each: a small picture enlarged
    with nearest-neighbour resampling (as the app's own downloads are). 1 when it is not."""
    h, w = a.shape
    g = math.gcd(h, w)
    spread = float(a.std())
    if spread <= 0:
        return 1
    for k in sorted((d for d in range(2, g + 1) if g % d == 0 and min(h, w) // d >= 8), reverse=True):
        blocks = a.reshape(h // k, k, w // k, k)
        within = float(np.sqrt(((blocks - blocks.mean((1, 3), keepdims=True)) ** 2).mean()))
        if within < BLOCK_TOLERANCE * spread:
            return k
    return 1


def _working_copy(gray: np.ndarray, block: int) -> np.ndarray:
    """The block reduction, then the shrink to at most ``WORK_SIDE`` (area-averaging: noise is averaged, not aliased)."""
    if block > 1:
        h, w = gray.shape
        gray = gray.reshape(h // block, block, w // block, block).mean((1, 3), dtype=np.float32)
    h, w = gray.shape
    if max(h, w) > WORK_SIDE:
        s = WORK_SIDE / max(h, w)
        gray = np.clip(_resize(gray, (max(1, round(w * s)), max(1, round(h * s)))), 0, 1)
    return gray.astype(np.float32, copy=False)


def _resample_frame(a: np.ndarray, box: tuple[float, float, float, float], size: int = 28) -> np.ndarray:
    """The region ``box`` (left, top, right, bottom; may reach past the edges, where it is 0) of ``a`` resampled to
    (size, size): area-averaging when shrinking, bilinear when enlarging; unchanged when it is ``a`` itself."""
    h, w = a.shape
    if (h, w) == (size, size) and tuple(box) == (0.0, 0.0, float(size), float(size)):
        return np.array(a, np.float32)
    left, top, right, bottom = box
    pad = int(math.ceil(max(0.0, -left, -top, right - w, bottom - h))) + 1
    padded = np.pad(np.asarray(a, np.float32), pad)
    shrink = right - left >= size
    img = Image.fromarray(padded, "F").resize((size, size), Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR,
                                              box=(left + pad, top + pad, right + pad, bottom + pad))
    return np.array(img, dtype=np.float32)  # a writable copy


def _smoothed_ink(a: np.ndarray, sigma: float) -> tuple[np.ndarray, float, float]:
    """``a`` blurred with a Gaussian of ``sigma`` pixels, its typical (median) value and the ink's contrast above it."""
    from scipy import ndimage

    sm = ndimage.gaussian_filter(a, sigma, mode="nearest", truncate=3.0)
    base = float(np.median(sm))
    return sm, base, float(sm.max()) - base


def _ink_mask(sm: np.ndarray, base: float, contrast: float) -> tuple[np.ndarray, np.ndarray]:
    """(ink, near): the smoothed ink above ``INK_LEVEL`` of its contrast, without stray blobs (noise that
    survived the blur), and the wider region above ``NEAR_LEVEL`` around it."""
    from scipy import ndimage

    mask = sm > base + INK_LEVEL * contrast
    labels, n = ndimage.label(mask)
    if n > 1:
        areas = np.bincount(labels.ravel())[1:]
        mask = np.isin(labels, np.flatnonzero(areas >= MIN_PART * areas.max()) + 1)
    labels, _ = ndimage.label(sm > base + NEAR_LEVEL * contrast)
    touched = np.unique(labels[mask])
    return mask, np.isin(labels, touched[touched > 0])


def _to_mnist_keep_noise(image: Image.Image | np.ndarray, box: int = 20, size: int = 28) -> Steps:
    """``to_mnist(keep_noise=True)``: MNIST's steps for a noisy picture, estimated robustly, the noise kept.

    1. A pixel-block enlargement (a 28x28 digit shown 10x) is undone exactly; a big picture is shrunk.
    2. Polarity from the median; the ink is smoothed (one MNIST pixel: the shorter side / 28, then the ink
       box's longer side / 20) and its box is where the smoothed ink is half-way up its contrast, stray blobs
       dropped; the centre of mass is the smoothed ink's.
    3. Levels: the background (its median, or a smooth surface under uneven light on a photo) is subtracted
       (divided out, for dark ink on paper) and the ink's median level scaled to 1: an offset and a gain,
       clipped to [0, 1] as the training noise was.
    4. A digit that is already 28x28 is not re-cropped; otherwise the frame (the box fitted in 20x20, its
       centre of mass at (14, 14)) is resampled from the whole picture, background noise included.
    """
    gray_full = _as_gray_array(image)
    upload = (image.info.get("upload_size") or image.size) if isinstance(image, Image.Image) else gray_full.shape[::-1]
    block = _block_factor(gray_full)
    work = _working_copy(gray_full, block)
    gray = work if block == 1 else _working_copy(gray_full, 1)  # what is shown: the picture, not its reduction
    h, w = work.shape
    inverted = bool(np.median(work) > 0.5)
    a = (1.0 - work) if inverted else work
    sigma = max(1.0, min(h, w) / size)
    if min(h, w) >= 64:  # a photo under uneven light: a smooth surface under the paper (tile medians, ink tiles left out)
        surface = _background(a)
    else:
        sm, base, contrast = _smoothed_ink(a, sigma)
        surface = np.full_like(a, float(np.median(a[sm <= base + PAPER_LEVEL * contrast])))
    ink_map = (a - surface) / np.maximum(1.0 - surface, 1e-3) if inverted else a - surface  # reflectance: paper 0
    sm, base, contrast = _smoothed_ink(ink_map, sigma)
    if contrast < MIN_CONTRAST:
        raise EmptyImageError()
    mask, near = _ink_mask(sm, base, contrast)
    rows, cols = np.nonzero(mask)
    long_side = max(int(rows.max()) - int(rows.min()), int(cols.max()) - int(cols.min())) + 1
    if (h, w) != (size, size) and 1.0 < long_side / box < sigma:  # a digit small in its picture: blur less
        sm, base, contrast = _smoothed_ink(ink_map, long_side / box)
        if contrast < MIN_CONTRAST:
            raise EmptyImageError()
        mask, near = _ink_mask(sm, base, contrast)
        rows, cols = np.nonzero(mask)
    background = sm <= base + PAPER_LEVEL * contrast
    offset = float(np.median(ink_map[background])) if background.any() else 0.0  # what the surface missed
    core = mask & (sm >= base + CORE_LEVEL * contrast)
    level = max(float(np.median(ink_map[core if core.any() else mask])) - offset, MIN_CONTRAST)
    if max(float(np.abs(surface).max()), abs(offset)) <= PAPER_SNAP and abs(level - 1.0) <= INK_SNAP:  # MNIST's own levels
        surface, ink_map, offset, level = np.zeros_like(a), a, 0.0, 1.0
    ink_map = ink_map - offset
    ink = np.clip(np.nan_to_num(ink_map / level), 0.0, 1.0).astype(np.float32)
    top, bottom, left, right = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    if (h, w) == (size, size):
        frame_box = (0.0, 0.0, float(size), float(size))
    else:
        scale = box / max(bottom - top, right - left)
        weights = np.clip(sm - (base + COM_LEVEL * contrast), 0.0, None) * near
        cy, cx = centre_of_mass(weights)
        left_f, top_f = cx + 0.5 - (size / 2 + 0.5) / scale, cy + 0.5 - (size / 2 + 0.5) / scale
        frame_box = (float(left_f), float(top_f), float(left_f + size / scale), float(top_f + size / scale))
    final = np.clip(_resample_frame(ink, frame_box, size), 0.0, 1.0)
    cropped = ink[top:bottom, left:right]
    ch, cw = cropped.shape
    fit = box / max(ch, cw)
    fitted = np.clip(_resize(cropped, (max(1, round(cw * fit)), max(1, round(ch * fit)))), 0.0, 1.0)
    under = float(np.median(surface))
    if inverted:  # back from reflectance: grayscale = (1 - surface) (1 - offset - level * value)
        paper, ink_level = (1.0 - under) * (1.0 - offset), (1.0 - under) * (1.0 - offset - level)
    else:
        paper, ink_level = under + offset, under + offset + level
    frame = Frame(upload_size=(int(upload[0]), int(upload[1])), block=block, work_size=(w, h), box=frame_box,
                  inverted=inverted, paper=float(np.clip(paper, 0, 1)), ink=float(np.clip(ink_level, 0, 1)))
    return Steps(gray=gray.astype(np.float32), inverted=inverted, ink=ink, bbox=(top, left, bottom, right), cropped=cropped,
                 fitted=fitted, final=final, tensor=torch.from_numpy(final.copy())[None, None], frame=frame)


def restore(frame: Frame, image: np.ndarray | torch.Tensor, max_pixels: int = RESTORE_MAX_PIXELS) -> np.ndarray:
    """A 28x28 result (white ink on black, [0, 1]; the denoised digit) put back where the digit was in the
    upload: (H, W) float32 in [0, 1] at the uploaded picture's size (scaled down, aspect kept, to at most
    ``max_pixels``), in its polarity, on its paper and ink levels, smoothly (bicubic) resampled."""
    a = image.detach().float().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, np.float32)
    a = np.clip(np.nan_to_num(a.reshape(a.shape[-2:])), 0.0, 1.0).astype(np.float32)
    uw, uh = frame.upload_size
    f = min(1.0, math.sqrt(max_pixels / max(1, uw * uh)))
    ow, oh = max(1, int(uw * f)), max(1, int(uh * f))  # rounded down: at most max_pixels
    if frame.block > 1:  # a pixel-block picture gets its blocks back: the result at the small picture's size, enlarged alike
        small = restore(replace(frame, block=1, upload_size=frame.work_size), a)
        img = Image.fromarray(small, "F").resize((ow, oh), Image.Resampling.NEAREST)
        return np.asarray(img, np.float32).copy()
    n = a.shape[0]
    ww, wh = frame.work_size
    left, top, right, bottom = frame.box
    # The output picture's extent in the 28x28 frame's coordinates, and the frame padded with background to cover it.
    fx, fy = n / ((right - left) * ow / ww), n / ((bottom - top) * oh / wh)
    u0, v0 = -left * ow / ww * fx, -top * oh / wh * fy
    u1, v1 = u0 + ow * fx, v0 + oh * fy
    pad = int(math.ceil(max(0.0, -u0, -v0, u1 - n, v1 - n))) + 2
    padded = Image.fromarray(np.pad(a, pad), "F")
    out = np.asarray(padded.resize((ow, oh), Image.Resampling.BICUBIC, box=(u0 + pad, v0 + pad, u1 + pad, v1 + pad)), np.float32).copy()
    np.clip(out, 0.0, 1.0, out=out)
    out *= frame.ink - frame.paper
    out += frame.paper
    return out


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
