"""Defensive decoding of what a user gives as a digit: uploaded bytes and the canvas's data URLs -> a grayscale
PIL image, and a PIL image or array -> a (H, W) float32 array in [0, 1].

    img = decode_image(uploaded_bytes)        # PIL 'L' image, or ImageError with a human message
    img = decode_data_url(canvas_url)         # the same for a drawing (``data:image/png;base64,...``)
    a = gray_array(img)                       # (H, W) float32 in [0, 1]

Error contract: for bad *input* (the bytes or pixels a user supplied) the only exception that escapes
:func:`decode_image`, :func:`decode_data_url` and :func:`gray_array` is :class:`ImageError` (a ``ValueError``);
its subclass :class:`EmptyImageError` is what ``rep_models.preprocess.to_mnist`` raises when the image has no ink.
Their messages are written for the person who uploaded the file and never contain user-supplied text. Passing
the wrong *type* (not bytes, not an image or array) is a programming error and raises ``TypeError``.
"""
from __future__ import annotations

import base64
import binascii
import io

import numpy as np
from PIL import Image, ImageOps

MAX_BYTES = 8 * 1024 * 1024  # larger uploads are refused before any parsing
MAX_PIXELS = 24_000_000  # width * height limit, checked from the header before the pixels are decoded
WORK_SIDE = 320  # big images are shrunk to this longest side first: a digit needs no more
ALLOWED_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF")  # MPO: what many phones call their JPEGs


class ImageError(ValueError):
    """The file or drawing cannot be used as a digit; the message says why, for the user."""


class EmptyImageError(ImageError):
    """The image has no ink (a blank canvas, a uniform image)."""

    def __init__(self, message: str = "The image is empty: there is no ink to read. Please draw or upload a digit."):
        super().__init__(message)


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


def gray_array(image: Image.Image | np.ndarray) -> np.ndarray:
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
        return gray_array(Image.fromarray(a, "RGBA" if a.shape[2] == 4 else "RGB"))
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
