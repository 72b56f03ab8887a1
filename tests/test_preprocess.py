"""Defensive decoding and MNIST-style preprocessing: every class of bad input (files made here)
and the normal steps (inversion, crop, 20x20 fit, centre of mass)."""
from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from rep_models.image_decode import WORK_SIDE, EmptyImageError, ImageError, decode_data_url, decode_image
from rep_models.ink import centre_of_mass
from rep_models.preprocess import to_mnist


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def digit_seven(size=(200, 240), ink=0, paper=255, width=18, mode="L") -> Image.Image:
    """A '7' in dark ink on light paper (by default), drawn with PIL."""
    img = Image.new(mode, size, paper)
    w, h = size
    ImageDraw.Draw(img).line([(0.25 * w, 0.2 * h), (0.75 * w, 0.2 * h), (0.4 * w, 0.85 * h)], fill=ink, width=width)
    return img


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# --------------------------------------------------------------------------------------- bad input


def test_zero_byte_file():
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")


def test_too_large_file():
    with pytest.raises(ImageError, match="too large"):
        decode_image(b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, max_bytes=1000)


def test_not_an_image():
    with pytest.raises(ImageError, match="not an image"):
        decode_image(b"hello, this is a text file renamed digit.png\n" * 20)


def test_random_bytes():
    with pytest.raises(ImageError):
        decode_image(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def test_pdf_renamed_png():
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    with pytest.raises(ImageError, match="PDF"):
        decode_image(pdf)


def test_svg_renamed_png():
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><path d="M4 4 L24 24"/></svg>'
    with pytest.raises(ImageError, match="SVG"):
        decode_image(svg)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(fmt):
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 256, (120, 120), dtype=np.uint8))
    data = encode(noisy, fmt)
    with pytest.raises(ImageError, match="damaged or incomplete"):
        decode_image(data[: len(data) // 2])


def test_decompression_bomb_refused_before_decoding():
    """A tiny PNG whose header claims 100,000 x 100,000 pixels: refused from the header, in milliseconds."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b"")
    t = time.perf_counter()
    with pytest.raises(ImageError, match="too many pixels|too big"):
        decode_image(data)
    assert time.perf_counter() - t < 0.5


def test_pixel_limit_is_configurable():
    data = encode(digit_seven((300, 300)))
    assert decode_image(data).size == (300, 300)
    with pytest.raises(ImageError, match="too big"):
        decode_image(data, max_pixels=300 * 300 - 1)


def test_only_image_error_escapes_for_garbage_headers():
    """A valid signature followed by nonsense must still end in ImageError, for every allowed format."""
    for sig in (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"RIFF\0\0\0\0WEBPVP8 "):
        with pytest.raises(ImageError):
            decode_image(sig + b"\x00\xff" * 40)


# ----------------------------------------------------------------------------------- odd but valid


def test_palette_with_transparency():
    img = digit_seven(mode="RGB", ink=(0, 0, 0), paper=(255, 255, 255)).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    data = encode(img, "PNG", transparency=0)
    steps = to_mnist(decode_image(data))
    assert steps.final.shape == (28, 28) and steps.final.max() == pytest.approx(1.0)


def test_rgba_transparency_is_composited_on_white():
    """Black ink on a fully transparent background whose hidden colour is also black (a common export):
    without compositing on white the image would be all black, i.e. empty."""
    rgba = Image.new("RGBA", (100, 120), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).line([(30, 20), (70, 20), (45, 100)], fill=(0, 0, 0, 255), width=10)
    gray = decode_image(encode(rgba))
    a = np.asarray(gray)
    assert a[5, 5] == 255 and a[20, 50] == 0  # background white, ink black
    steps = to_mnist(gray)
    assert steps.inverted
    assert steps.final.sum() > 20


def test_la_mode_and_fully_transparent_image_is_empty():
    la = Image.new("LA", (50, 50), (0, 0))
    gray = decode_image(encode(la))
    assert np.asarray(gray).min() == 255
    with pytest.raises(EmptyImageError, match="draw or upload a digit"):
        to_mnist(gray)


def test_16_bit_png_is_rescaled_not_clipped():
    a = np.full((60, 60), 60000, np.uint16)  # light paper
    a[10:50, 28:33] = 3000  # a dark '1'
    img = Image.fromarray(a)  # mode I;16
    assert img.mode.startswith("I;16")
    gray = np.asarray(decode_image(encode(img)))
    assert gray[0, 0] > 220 and gray[30, 30] < 20  # measured 234 and 11
    steps = to_mnist(decode_image(encode(img)))
    assert steps.inverted and steps.fitted.shape[0] == 20


def test_cmyk_jpeg():
    cmyk = digit_seven(mode="RGB", ink=(0, 0, 0), paper=(255, 255, 255)).convert("CMYK")
    steps = to_mnist(decode_image(encode(cmyk, "JPEG", quality=95)))
    assert steps.inverted and steps.final.max() == pytest.approx(1.0)


def test_exif_rotation_is_applied():
    img = digit_seven((120, 200))  # portrait
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    data = encode(img.convert("RGB"), "JPEG", exif=exif.tobytes())
    assert decode_image(data).size == (200, 120)


def test_animated_gif_uses_first_frame():
    first = digit_seven((80, 80), width=8)
    second = Image.new("L", (80, 80), 255)  # blank
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    gray = decode_image(data)
    assert np.asarray(gray).min() < 50  # the first frame has the ink
    assert to_mnist(gray).final.sum() > 10


def test_one_by_one_image():
    gray = decode_image(encode(Image.new("L", (1, 1), 0)))
    assert gray.size == (1, 1)
    with pytest.raises(ImageError):  # a single uniform pixel has no ink
        to_mnist(gray)


@pytest.mark.parametrize("size", [(3000, 12), (12, 3000), (3000, 1), (1, 3000)])
def test_extremely_elongated_image(size):
    """A 250:1 (or 3000:1) strip holding a dark stroke along its middle third."""
    w, h = size
    a = np.full((h, w), 255, np.uint8)
    if h >= w:
        a[h // 3 : 2 * h // 3, w // 2 - (w > 2) : w // 2 + 1] = 0
    else:
        a[h // 2 - (h > 2) : h // 2 + 1, w // 3 : 2 * w // 3] = 0
    steps = to_mnist(decode_image(encode(Image.fromarray(a))))
    assert steps.final.shape == (28, 28)
    assert max(steps.fitted.shape) == 20 and min(steps.fitted.shape) >= 1
    assert steps.final.max() == pytest.approx(1.0)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_every_upload_format(fmt):
    steps = to_mnist(decode_image(encode(digit_seven().convert("RGB"), fmt)))
    assert steps.final.dtype == np.float32 and steps.tensor.shape == (1, 1, 28, 28)


def test_blank_and_uniform_images_are_empty():
    for value in (0, 128, 255):
        with pytest.raises(EmptyImageError, match="draw or upload a digit"):
            to_mnist(np.full((100, 100), value, np.uint8))


def test_wrong_type_is_a_type_error():
    with pytest.raises(TypeError):
        decode_image("digit.png")
    with pytest.raises(TypeError):
        to_mnist([[0, 1], [1, 0]])


# ------------------------------------------------------------------------------------ normal steps


def test_steps_inversion_crop_fit_and_centre_of_mass():
    img = digit_seven((200, 240), width=18)  # dark on light, off-centre aspect
    steps = to_mnist(img)
    assert steps.inverted
    assert steps.ink[0, 0] == 0 and steps.ink.max() == pytest.approx(1.0)  # background removed, ink white
    top, left, bottom, right = steps.bbox
    assert steps.cropped.shape == (bottom - top, right - left)
    assert steps.cropped[0].max() > 0 and steps.cropped[-1].max() > 0  # tight crop: ink on the first and last rows
    assert steps.cropped[:, 0].max() > 0 and steps.cropped[:, -1].max() > 0
    assert max(steps.fitted.shape) == 20
    ratio_in = steps.cropped.shape[1] / steps.cropped.shape[0]
    ratio_out = steps.fitted.shape[1] / steps.fitted.shape[0]
    assert abs(ratio_in - ratio_out) < 0.1  # aspect kept (measured 0.0027)
    cy, cx = centre_of_mass(steps.final)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # an integer shift: within half a pixel (measured 0.47, 0.45)
    assert steps.final.dtype == np.float32 and 0 <= steps.final.min() and steps.final.max() <= 1
    assert np.array_equal(steps.tensor[0, 0].numpy(), steps.final)
    assert [c for c, _ in steps.stages()][0].startswith("1.")


def test_light_on_dark_is_not_inverted():
    steps = to_mnist(digit_seven(ink=255, paper=0))
    assert not steps.inverted
    assert np.allclose(steps.final, to_mnist(digit_seven()).final, atol=1e-5)


def test_mnist_digits_pass_through_almost_unchanged(mnist_val):
    """MNIST digits are already preprocessed: doing it again should change little."""
    x, _ = mnist_val
    diffs = [np.abs(to_mnist(x[i, 0].numpy()).final - x[i, 0].numpy()).mean() for i in range(50)]
    assert np.median(diffs) < 0.05  # measured 0.012 (2026-12-01)


def test_photo_with_uneven_light_and_noise_matches_clean_scan():
    rng = np.random.default_rng(0)
    clean = to_mnist(digit_seven((300, 360), width=24)).final
    a = np.asarray(digit_seven((300, 360), ink=40, paper=200, width=24), np.float64)
    yy, xx = np.mgrid[0:360, 0:300]
    a = a * (0.55 + 0.45 * xx / 300) + 30 * (yy / 360)  # a lamp on the right, a shadow gradient
    a = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
    photo = to_mnist(Image.fromarray(a)).final
    inter = np.logical_and(photo > 0.3, clean > 0.3).sum()
    union = np.logical_or(photo > 0.3, clean > 0.3).sum()
    assert inter / union > 0.6  # measured 1.0 (2026-12-01)


def test_big_photo_is_shrunk_first():
    steps = to_mnist(digit_seven((2000, 1500), width=120))
    assert max(steps.gray.shape) <= WORK_SIDE


def test_big_jpeg_is_decoded_small_and_upright():
    # A 4000x3000 phone photo held in portrait (EXIF orientation 6): the decoder scales it down while
    # decoding, yet the rotation and the digit survive.
    photo = digit_seven((4000, 3000), width=240).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    gray = decode_image(encode(photo, "JPEG", quality=90, exif=exif.tobytes()))
    w, h = gray.size
    assert h > w, "portrait after EXIF rotation"
    assert 2 * WORK_SIDE <= max(w, h) <= 4000 // 2, f"decoded at {w}x{h}: not reduced"
    upright = photo.convert("L").transpose(Image.Transpose.ROTATE_270)  # the same photo decoded at full size
    assert np.abs(to_mnist(gray).final - to_mnist(upright).final).mean() < 0.02


def test_big_transparent_png_is_reduced_before_compositing():
    img = Image.new("RGBA", (5000, 4000), (0, 0, 0, 0))  # transparent: composited on white paper
    ImageDraw.Draw(img).line([(1250, 800), (3750, 800), (2000, 3400)], fill=(0, 0, 0, 255), width=300)
    gray = decode_image(encode(img, "PNG"))
    assert 2 * WORK_SIDE <= max(gray.size) < 5000
    a = np.asarray(gray)
    assert a.max() == 255 and a.min() < 30  # white paper, dark ink: alpha handled after the reduction
    assert to_mnist(gray).inverted


# ------------------------------------------------------------------------------------------- canvas


def canvas(background, ink, size=140):
    a = np.zeros((size, size, 4), np.uint8)
    a[:] = background
    a[30:110, 65:80] = ink  # a vertical bar: a '1'
    return a


def as_data_url(rgba: np.ndarray) -> str:
    """An RGBA array as the drawing canvas sends it: a PNG ``data:`` URL."""
    import base64

    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize(
    "background, ink",
    [
        ((0, 0, 0, 255), (255, 255, 255, 255)),  # white on black (the app's canvas)
        ((255, 255, 255, 255), (0, 0, 0, 255)),  # black on white
        ((255, 255, 255, 255), (20, 20, 200, 255)),  # coloured ink on white
    ],
)
def test_canvas_drawing_handles_colours(background, ink):
    steps = to_mnist(decode_data_url(as_data_url(canvas(background, ink))))
    assert steps.final.shape == (28, 28)
    assert steps.fitted.shape[0] == 20 and steps.fitted.shape[1] < 8  # a thin vertical bar
    assert steps.final[14, 14] > 0.5


@pytest.mark.parametrize("background", [(0, 0, 0, 255), (255, 255, 255, 255)])
def test_empty_canvas_says_draw_a_digit(background):
    a = np.zeros((100, 100, 4), np.uint8)
    a[:] = background
    with pytest.raises(EmptyImageError, match="draw or upload a digit"):
        to_mnist(decode_data_url(as_data_url(a)))


def test_decode_data_url_takes_the_canvas_png_and_refuses_the_rest():
    import base64

    img = Image.new("RGB", (280, 280), "black")
    ImageDraw.Draw(img).line([(80, 60), (200, 60), (120, 230)], fill="white", width=22)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    out = decode_data_url(url)
    assert out.mode == "L" and out.size == (280, 280) and out.getpixel((140, 60)) == 255 and out.getpixel((10, 10)) == 0
    svg = base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg'/>").decode()
    for bad, why in [("https://example.com/x.png", "did not arrive"), ("data:image/png;base64,@@@", "base64"),
                     ("data:image/svg+xml;base64," + svg, ""), (None, "did not arrive")]:
        with pytest.raises(ImageError, match=why):
            decode_data_url(bad)
    with pytest.raises(ImageError, match="too large"):
        decode_data_url(url, max_bytes=100)
