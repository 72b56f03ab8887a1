"""Fuzz the upload path: every file a user can send ends as a (28, 28) image in [0, 1] or an ImageError.

Hypothesis draws small parameters (format, size, mode, mutation, a seed) and the file is built from them,
so each case costs well under a millisecond of generation and shrinking still gives a minimal failing
recipe. Five groups: 10,200 files plus 1,000 canvas arrays (``test_fuzz_case_count`` checks the total):

- valid images written by PIL in every upload format and many modes, sizes 1..48 and elongated strips;
- the same files mutated: bytes flipped, truncated, spliced with another file, runs zeroed or repeated;
- random bytes, some behind a real image signature;
- foreign files renamed .png (SVG, PDF, ZIP, HTML, TIFF, ...) and headers claiming huge pixel counts;
- canvas drawings as the drawing canvas sends them (PNG data URLs, some damaged) through ``decode_data_url``.

Each case is bounded in CPU time (``MAX_CPU_SECONDS``); the run is derandomized (repeatable) and keeps no
example database. About 30-60 s on a 2-core CPU.
"""
from __future__ import annotations

import base64
import io
import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from rep_models.image_decode import ImageError, decode_data_url, decode_image
from rep_models.preprocess import to_mnist

CASES = {"valid": 2200, "mutated": 5000, "random": 1500, "foreign": 1500, "canvas": 1000}
MAX_CPU_SECONDS = 5.0  # per case; the slowest legal file (24 megapixels claimed in a tiny header) takes ~1-2 s
RUN: dict[str, int] = {}  # cases actually executed per group


def fuzz_settings(group: str):
    return settings(
        max_examples=CASES[group],
        deadline=None,  # wall time is noisy on a shared CI box; check_outcome bounds each case's CPU time instead
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


def check_outcome(make) -> str:
    """Run ``make()`` (returns the processed Steps); it must succeed with a valid image or raise ImageError."""
    t0 = time.process_time()  # CPU seconds: a hang or an expanded bomb fails, a busy machine does not
    try:
        steps = make()
    except ImageError as e:
        msg = str(e)
        assert msg and "Traceback" not in msg, f"unhelpful ImageError message: {msg!r}"
        return "error"
    finally:
        spent = time.process_time() - t0
        assert spent < MAX_CPU_SECONDS, f"one file took {spent:.1f} CPU seconds"
    final = steps.final
    assert isinstance(final, np.ndarray) and final.shape == (28, 28), getattr(final, "shape", type(final))
    assert final.dtype == np.float32
    assert np.isfinite(final).all() and final.min() >= 0.0 and final.max() <= 1.0
    assert tuple(steps.tensor.shape) == (1, 1, 28, 28)
    return "ok"


def process_bytes(data: bytes) -> str:
    return check_outcome(lambda: to_mnist(decode_image(data)))


# ------------------------------------------------------------------------------------------- valid files

FORMATS = ["PNG", "JPEG", "GIF", "BMP", "WEBP"]
MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr"]
SAVE_OK = {  # modes each encoder accepts; other modes are converted to the first one listed
    "PNG": ["L", "1", "LA", "P", "RGB", "RGBA", "I;16"],
    "JPEG": ["L", "RGB", "CMYK", "YCbCr"],
    "GIF": ["P", "L", "1"],
    "BMP": ["RGB", "L", "1", "P", "RGBA"],
    "WEBP": ["RGB", "RGBA"],
}


def make_pixels(rng: np.random.Generator, w: int, h: int, mode: str, kind: str) -> Image.Image:
    """A w x h image in ``mode``: a digit-like stroke, noise, a flat colour or a gradient."""
    if kind == "stroke":
        a = np.full((h, w), 255 if rng.random() < 0.5 else 0, np.uint8)
        ink = 255 - a[0, 0]
        for _ in range(int(rng.integers(1, 4))):
            r0, r1 = sorted(rng.integers(0, h, 2))
            c0, c1 = sorted(rng.integers(0, w, 2))
            a[r0 : r1 + 1, c0 : max(c0 + 1, min(w, c0 + 1 + w // 6))] = ink
            a[r0 : min(h, r0 + 1 + h // 6), c0 : c1 + 1] = ink
    elif kind == "noise":
        a = rng.integers(0, 256, (h, w), dtype=np.uint8)
    elif kind == "flat":
        a = np.full((h, w), int(rng.integers(0, 256)), np.uint8)
    else:  # gradient
        a = np.linspace(0, 255, w * h).reshape(h, w).astype(np.uint8)
    img = Image.fromarray(a, "L")
    if mode == "I;16":
        return Image.fromarray(a.astype(np.uint16) * 257)  # mode I;16
    if mode in ("I", "F"):
        return img.convert(mode)
    if mode in ("LA", "RGBA", "PA"):  # half the time a random alpha channel, else opaque
        opaque = rng.random() < 0.5
        alpha = np.full((h, w), 255, np.uint8) if opaque else rng.integers(0, 256, (h, w), dtype=np.uint8)
        rgba = img.convert("RGBA")
        rgba.putalpha(Image.fromarray(alpha, "L"))
        return rgba.convert(mode)
    return img.convert(mode)


def encode(img: Image.Image, fmt: str, rng: np.random.Generator) -> bytes:
    if img.mode not in SAVE_OK[fmt]:
        img = img.convert(SAVE_OK[fmt][0] if fmt != "WEBP" else ("RGBA" if "A" in img.mode else "RGB"))
    buf = io.BytesIO()
    kw: dict = {}
    if fmt == "JPEG":
        kw = {"quality": int(rng.integers(5, 96)), "progressive": bool(rng.random() < 0.3)}
        if rng.random() < 0.3:  # an EXIF orientation tag, as phones write
            exif = Image.Exif()
            exif[0x0112] = int(rng.integers(1, 9))
            kw["exif"] = exif.tobytes()
    elif fmt == "PNG":
        if img.mode in ("L", "RGB", "P") and rng.random() < 0.2:  # a tRNS chunk: one colour is transparent
            kw["transparency"] = (0, 0, 0) if img.mode == "RGB" else 0
        kw["compress_level"] = 1
    elif fmt == "WEBP":
        kw = {"quality": int(rng.integers(5, 96)), "lossless": bool(rng.random() < 0.3), "method": 0}
    elif fmt == "GIF" and rng.random() < 0.3:  # animated: a few frames
        frames = [img.rotate(float(k * 30)) for k in range(1, int(rng.integers(2, 4)))]
        kw = {"save_all": True, "append_images": frames, "duration": 50, "loop": 0}
    img.save(buf, fmt, **kw)
    return buf.getvalue()


SIZES = st.one_of(
    st.tuples(st.integers(1, 48), st.integers(1, 48)),
    st.tuples(st.integers(1, 3), st.integers(100, 600)),  # extremely elongated
    st.tuples(st.integers(100, 600), st.integers(1, 3)),
)
IMAGE = st.tuples(
    st.sampled_from(FORMATS), st.sampled_from(MODES), SIZES,
    st.sampled_from(["stroke", "stroke", "noise", "flat", "gradient"]), st.integers(0, 2**32 - 1),
)


def build_file(spec) -> bytes:
    fmt, mode, (w, h), kind, seed = spec
    rng = np.random.default_rng(seed)
    return encode(make_pixels(rng, w, h, mode, kind), fmt, rng)


@fuzz_settings("valid")
@given(IMAGE)
def test_fuzz_valid_images(spec):
    data = build_file(spec)
    outcome = process_bytes(data)
    fmt, mode, (w, h), kind, _ = spec
    if kind == "stroke" and min(w, h) >= 8 and fmt in ("PNG", "BMP") and mode in ("L", "RGB", "I;16"):
        # A lossless, opaque, clearly drawn stroke must be accepted, not refused.
        assert outcome == "ok", spec
    RUN["valid"] = RUN.get("valid", 0) + 1


# ---------------------------------------------------------------------------------------- mutated files

MUTATION = st.tuples(
    st.sampled_from(["flip", "truncate", "splice", "zero_run", "repeat", "insert", "flip_header"]),
    st.integers(1, 16),  # how many flips / the run length scale
    st.integers(0, 2**32 - 1),
)


def mutate(data: bytes, other: bytes, how: str, amount: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    b = bytearray(data)
    n = len(b)
    if how == "flip":
        for i in rng.integers(0, n, amount):
            b[i] ^= 1 << int(rng.integers(0, 8))
    elif how == "flip_header":  # the first 64 bytes: signatures, IHDR, dimensions, chunk lengths
        for i in rng.integers(0, min(n, 64), amount):
            b[i] = int(rng.integers(0, 256))
    elif how == "truncate":
        b = b[: int(rng.integers(0, n))]
    elif how == "splice":
        cut, cut2 = int(rng.integers(0, n)), int(rng.integers(0, len(other)))
        b = b[:cut] + other[cut2:]
    elif how == "zero_run":
        start = int(rng.integers(0, n))
        b[start : start + amount * 8] = bytes(len(b[start : start + amount * 8]))
    elif how == "repeat":
        start = int(rng.integers(0, n))
        b = b[:start] + b[start : start + amount * 8] * 4 + b[start:]
    else:  # insert random bytes
        at = int(rng.integers(0, n + 1))
        b = b[:at] + rng.integers(0, 256, amount * 4, dtype=np.uint8).tobytes() + b[at:]
    return bytes(b)


@fuzz_settings("mutated")
@given(IMAGE, IMAGE, MUTATION)
def test_fuzz_mutated_images(spec, other_spec, mutation):
    data = mutate(build_file(spec), build_file(other_spec), *mutation)
    process_bytes(data)
    RUN["mutated"] = RUN.get("mutated", 0) + 1


# ------------------------------------------------------------------------------------------ random bytes

SIGNATURES = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff", b"GIF89a", b"GIF87a", b"BM", b"RIFF\x00\x00\x00\x00WEBPVP8 "]


@fuzz_settings("random")
@given(st.sampled_from(SIGNATURES), st.binary(min_size=0, max_size=300))
def test_fuzz_random_bytes(signature, tail):
    process_bytes(signature + tail)
    RUN["random"] = RUN.get("random", 0) + 1


# ---------------------------------------------------------------------------- foreign files and bombs


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png_bomb(w: int, h: int, body: bytes) -> bytes:
    """A well-formed PNG header claiming w x h pixels (valid CRCs), with ``body`` as its compressed data."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(body)) + png_chunk(b"IEND", b"")


def bmp_header(w: int, h: int) -> bytes:
    """A BMP file header claiming w x h 8-bit pixels (height negative: top-down) and no pixel data."""
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + 1024, 0, 0, 14 + len(info) + 1024) + info + bytes(1024)


def gif_header(w: int, h: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", w, h) + b"\x80\x00\x00" + bytes(6) + b",\x00\x00\x00\x00" + struct.pack("<HH", w, h) + b"\x00\x02\x02D\x01\x00;"


FOREIGN = {
    "svg": lambda t: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">' + t + b"</svg>",
    "svg_bare": lambda t: b"<svg width='9999999' height='9999999'><script>alert(1)</script>" + t,
    "svg_bom": lambda t: b"\xef\xbb\xbf  <svg>" + t,
    "pdf": lambda t: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n" + t,
    "zip": lambda t: b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + t,
    "gzip": lambda t: b"\x1f\x8b\x08\x00" + t,
    "html": lambda t: b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)>" + t,
    "tiff_le": lambda t: b"II*\x00\x08\x00\x00\x00" + t,
    "tiff_be": lambda t: b"MM\x00*\x00\x00\x00\x08" + t,
    "ico": lambda t: b"\x00\x00\x01\x00\x01\x00\x10\x10" + t,
    "psd": lambda t: b"8BPS\x00\x01" + t,
    "elf": lambda t: b"\x7fELF\x02\x01\x01" + t,
    "text": lambda t: b"this is a seven, honest\n" + t,
    "eps": lambda t: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n" + t,
    "heic": lambda t: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + t,
    "avif": lambda t: b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00" + t,
    "tga_pcx": lambda t: b"\x0a\x05\x01\x08" + t,
    "png_bomb": None, "bmp_bomb": None, "gif_bomb": None, "png_tiny_claim": None,
}


@fuzz_settings("foreign")
@given(st.sampled_from(sorted(FOREIGN)), st.binary(max_size=64), st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1))
def test_fuzz_foreign_and_bombs(kind, tail, w, h):
    if kind == "png_bomb":
        data = png_bomb(w, h, tail or b"\x00" * 64)
    elif kind == "png_tiny_claim":  # a plausible size whose data is missing or short
        data = png_bomb(1 + w % 64, 1 + h % 64, tail)
    elif kind == "bmp_bomb":
        data = bmp_header(w, -h)
    elif kind == "gif_bomb":
        data = gif_header(w % 65536, h % 65536)
    else:
        data = FOREIGN[kind](tail)
    outcome = process_bytes(data)
    if kind not in ("png_tiny_claim", "gif_bomb", "tga_pcx"):
        # Never an image: a document, an archive, or more pixels than the limit (or a header with no data).
        assert outcome == "error", kind
    RUN["foreign"] = RUN.get("foreign", 0) + 1


# ------------------------------------------------------------------------------------------------ canvas


@fuzz_settings("canvas")
@given(st.integers(1, 64), st.integers(1, 64), st.sampled_from(["empty", "sparse", "dense", "opaque", "alpha_noise"]), st.integers(0, 2**32 - 1))
def test_fuzz_canvas(h, w, kind, seed):
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w, 4), np.uint8)
    if kind == "sparse":
        m = rng.random((h, w)) < 0.05
        a[m] = rng.integers(0, 256, (int(m.sum()), 4), dtype=np.uint8)
    elif kind == "dense":
        a = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    elif kind == "opaque":
        a[..., :3] = rng.integers(0, 256, 3, dtype=np.uint8)
        a[..., 3] = 255
    elif kind == "alpha_noise":
        a[..., 3] = rng.integers(0, 256, (h, w), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    if seed % 5 == 0:  # a damaged message: cut short, or a character changed
        cut = int(rng.integers(0, len(url)))
        url = url[:cut] if seed % 2 else url[:cut] + "!" + url[cut + 1 :]
    outcome = check_outcome(lambda: to_mnist(decode_data_url(url)))
    if kind in ("empty", "opaque"):
        assert outcome == "error", "a blank canvas must ask for a digit, not reconstruct noise"
    RUN["canvas"] = RUN.get("canvas", 0) + 1


def test_fuzz_case_count():
    """The five groups above ran at least 10,000 cases (when they all ran in this session)."""
    if set(RUN) != set(CASES):
        pytest.skip(f"only {sorted(RUN)} of the fuzz groups ran in this session")
    files = sum(v for k, v in RUN.items() if k != "canvas")
    assert files >= 10_000, RUN
