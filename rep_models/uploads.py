"""Noisy digits as users upload them: the files that the upload benchmark (``bench/denoise_upload.py``), its
tests and the denoiser's upload-path training pairs are made of, and the app's path they go through.

    fmt = FORMATS["scan10_dark"]
    data = fmt.encode(noisy28)                      # the PNG/JPEG bytes a user would upload
    steps = through_path(data)                      # decode_image + to_mnist(keep_noise=True), as the Denoise page
    ref = steps.frame.apply(fmt.render(clean28))    # the clean digit through the very same geometric steps

A photo is made from a clean digit instead (:func:`photo`): the digit written on paper under uneven light,
seen through a slightly soft lens, with a camera sensor's noise (shot noise that grows with the light, read
noise, the grain of demosaicing) and the phone's JPEG.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from . import noise
from .framing import Steps
from .image_decode import decode_image
from .preprocess import to_mnist


def through_path(data: bytes) -> Steps:
    """Upload bytes -> ``Steps`` exactly as the Denoise page prepares a picture that is already noisy."""
    return to_mnist(decode_image(data), keep_noise=True)


def encode(a: np.ndarray, jpeg: int | None = None) -> bytes:
    """(H, W) float in [0, 1] -> 8-bit grayscale PNG (or JPEG at quality ``jpeg``) bytes."""
    u8 = (np.clip(np.nan_to_num(a), 0, 1) * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8, "L").save(buf, "JPEG", quality=jpeg) if jpeg else Image.fromarray(u8, "L").save(buf, "PNG")
    return buf.getvalue()


_METHODS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
            "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


@dataclass(frozen=True)
class UploadFormat:
    """How a (noisy) 28x28 digit becomes a file: enlarged (``scale``, ``method``), with paper ``margins``
    (top, left, bottom, right, in the file's pixels) around it, dark on light or not, PNG or JPEG."""

    name: str
    label: str
    scale: float = 1.0
    method: str = "nearest"
    margins: tuple[int, int, int, int] = (0, 0, 0, 0)
    dark_on_light: bool = False
    jpeg: int | None = None

    @property
    def enlarged(self) -> bool:
        return self.scale > 1

    def render(self, a28: np.ndarray) -> np.ndarray:
        """The digit at the file's geometry, white ink on black: (H, W) float32 in [0, 1]."""
        a = np.asarray(a28, np.float32).reshape(28, 28)
        if self.scale > 1:
            size = (round(28 * self.scale),) * 2
            a = np.asarray(Image.fromarray(a, "F").resize(size, _METHODS[self.method]), np.float32)
        t, left, b, r = self.margins
        return np.clip(np.pad(a, ((t, b), (left, r))), 0, 1)

    def encode(self, noisy28: np.ndarray) -> bytes:
        a = self.render(noisy28)
        return encode(1.0 - a if self.dark_on_light else a, self.jpeg)


# The benchmark's files: the MNIST format itself, scans of it enlarged (pixel blocks, as an image viewer's
# "nearest" zoom or the app's own download makes them; and smoothly, off-centre, as most viewers and
# printers do), and JPEG copies.
FORMATS: dict[str, UploadFormat] = {f.name: f for f in [
    UploadFormat("png28", "28x28 PNG (MNIST's format)"),
    UploadFormat("scan10_dark", "10x enlarged scan, dark on light", 10, "nearest", dark_on_light=True),
    UploadFormat("scan10_light", "10x enlarged scan, light on dark", 10, "nearest"),
    UploadFormat("scan_smooth_dark", "7.5x smooth (bicubic) scan, off-centre, dark on light", 7.5, "bicubic", (30, 60, 10, 25), True),
    UploadFormat("scan_smooth_light", "6.4x smooth (bilinear) scan, off-centre, light on dark", 6.4, "bilinear", (12, 0, 40, 30)),
    UploadFormat("jpeg28", "28x28 JPEG, quality 75", jpeg=75),
    UploadFormat("jpeg_scan10_dark", "10x enlarged scan, dark on light, JPEG quality 75", 10, "nearest", dark_on_light=True, jpeg=75),
]}


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage

    return ndimage.gaussian_filter(a, sigma, mode="nearest").astype(np.float32)


def photo(clean28: np.ndarray, level: float, seed: int, dark: bool = False) -> tuple[bytes, np.ndarray]:
    """A phone photo of ``clean28`` written on paper, with sensor noise of standard deviation ``level`` on the
    paper (``dark``: in dim light, the exposure pushed up, so the noise is stronger against the ink).
    Returns (JPEG bytes, the photographed digit's ink without the sensor noise: white on black at the photo's
    geometry, the reference the path's result is scored against)."""
    rng = np.random.default_rng(seed)
    h, w, f = 360, 480, 9.0
    digit = np.asarray(Image.fromarray(np.asarray(clean28, np.float32).reshape(28, 28), "F").resize(
        (round(28 * f), round(28 * f)), Image.Resampling.BICUBIC), np.float32)
    top, left = int(rng.integers(20, h - digit.shape[0] - 20)), int(rng.integers(40, w - digit.shape[1] - 40))
    ink = np.zeros((h, w), np.float32)
    ink[top : top + digit.shape[0], left : left + digit.shape[1]] = np.clip(digit, 0, 1)
    ink = _blur(ink, 1.5)  # the lens
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 0.65 + 0.35 * xx / w - 0.15 * ((yy / h - 0.5) ** 2 + (xx / w - 0.5) ** 2)  # a lamp on the right, vignetting
    if dark:
        light *= 0.45
    signal = light * (0.82 - 0.70 * ink)  # paper reflects 82 %, ink 12 %
    grain = _blur(rng.standard_normal((h, w)).astype(np.float32), 0.8)  # demosaicing correlates neighbouring pixels
    grain /= grain.std()
    sd = level * np.sqrt(0.25 + 0.75 * signal / (0.82 * light.max()))  # shot noise grows with the light, plus read noise
    gain = 1.0 / light.max() if dark else 1.0  # a dim photo's exposure is pushed up: the noise with it
    picture = (signal + sd * grain * light.max()) * gain
    return encode(picture, jpeg=90), ink


# ------------------------------------------------------------------------------------------- training pairs

def random_format(rng: np.random.Generator) -> UploadFormat:
    """An upload format drawn at random: the 28x28 digit or an enlargement (2x to 12x, any resampling), paper
    margins, either polarity, PNG or JPEG (quality 50 to 95)."""
    if rng.random() < 0.2:
        scale, method, margins = 1.0, "nearest", (0, 0, 0, 0)
    else:
        scale = float(rng.uniform(2.0, 12.0))
        method = str(rng.choice(["nearest", "bilinear", "bicubic", "lanczos"], p=[0.25, 0.25, 0.3, 0.2]))
        margins = tuple(int(m) for m in rng.integers(0, int(6 * scale) + 1, 4))
    jpeg = int(rng.integers(50, 96)) if rng.random() < 0.35 else None
    return UploadFormat("random", "random", scale, method, margins, bool(rng.random() < 0.5), jpeg)


def training_pairs(clean: torch.Tensor, seed: int, max_sigma: float = 0.6, max_salt_pepper: float = 0.4,
                   photo_share: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets), each ``(N, 1, 28, 28)``: the clean digits ``clean`` corrupted (Gaussian or salt and
    pepper at a random level, or photographed with sensor noise), uploaded in a random format, and put
    through the app's path; the target is the clean digit through the same geometric steps. A file the path
    refuses (no ink left to find) is replaced by the in-app corruption of the clean digit."""
    rng = np.random.default_rng(seed)
    ins, outs = [], []
    for i in range(len(clean)):
        c = clean[i, 0].numpy()
        try:
            if rng.random() < photo_share:
                data, ref = photo(c, float(rng.uniform(0.03, 0.25)), int(rng.integers(1 << 31)), dark=bool(rng.random() < 0.4))
            else:
                fmt = random_format(rng)
                x = torch.from_numpy(c)[None, None]
                if rng.random() < 0.5:
                    noisy = noise.gaussian(x, float(rng.uniform(0, max_sigma)), seed=int(rng.integers(1 << 31)))
                else:
                    noisy = noise.salt_pepper(x, float(rng.uniform(0, max_salt_pepper)), seed=int(rng.integers(1 << 31)))
                data, ref = fmt.encode(noisy[0, 0].numpy()), fmt.render(c)
            steps = through_path(data)
            ins.append(steps.final)
            outs.append(np.clip(steps.frame.apply(ref), 0, 1))
        except ValueError:  # ImageError: nothing the path can use
            x = torch.from_numpy(c)[None, None]
            ins.append(noise.gaussian(x, float(rng.uniform(0, max_sigma)), seed=int(rng.integers(1 << 31)))[0, 0].numpy())
            outs.append(c)
    return torch.from_numpy(np.stack(ins))[:, None].float(), torch.from_numpy(np.stack(outs))[:, None].float()
