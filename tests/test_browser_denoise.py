"""In headless Chromium: a noisy digit uploaded to the Denoise page ("My picture is already noisy" on), the page's
two downloads checked against the clean digit: the 28x28 result by PSNR, and the result at the picture's own
size and framing. Screenshots go to artifacts/ (not committed)."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from rep_models import checkpoint, data, noise, uploads

pytest.register_assert_rewrite("browser_support")
from browser_support import assert_no_error, screenshot, wait_count, wait_idle  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]

DIGIT = 3  # MNIST test digit #3 (a 0), with Gaussian noise sigma = 0.3 (seed 0)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(noise.psnr(torch.from_numpy(np.asarray(a, np.float32))[None, None], torch.from_numpy(np.asarray(b, np.float32))[None, None]))


def download(page, name: str) -> np.ndarray:
    """Click the download button labelled ``name``; the PNG it saves, as a float array in [0, 1]."""
    with page.expect_download(timeout=60_000) as info:
        page.locator('[data-testid="stDownloadButton"] button', has_text=name).first.click()
    return np.asarray(Image.open(io.BytesIO(open(info.value.path(), "rb").read())).convert("L"), np.float32) / 255.0


def test_upload_a_noisy_scan_and_download_the_denoised_digit(open_page, tmp_path):
    if not (checkpoint.PRETRAINED_DIR / "denoising_ae.json").is_file():
        pytest.skip("pretrained denoising_ae not installed yet")
    clean = data.load_tensors("mnist", "test", source="sample")[0][DIGIT : DIGIT + 1]
    noisy = noise.gaussian(clean, 0.3, seed=0)
    fmt = uploads.FORMATS["scan10_dark"]  # the case: a 10x enlarged scan, dark ink on light paper
    path = tmp_path / "noisy_scan.png"
    path.write_bytes(fmt.encode(noisy[0, 0].numpy()))
    model = checkpoint.load_pretrained("denoising_ae")
    with torch.inference_mode():
        in_app = psnr(clean[0, 0], model.denoise(noisy).clamp(0, 1)[0, 0])  # the same noisy digit denoised in-app

    page = open_page("denoise", wait_for_text="PSNR")
    page.locator('[data-testid="stButtonGroup"] button', has_text="Upload").first.click()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("judge by eye").wait_for()
    wait_count(page, '[data-testid="stImage"]', 6)  # the picture, denoised, filtered; the three 28x28 ones
    wait_idle(page)
    assert_no_error(page)
    assert page.get_by_text("My picture is already noisy").count() == 1
    screenshot(page, "denoise_upload")

    digit = download(page, "Download the denoised digit")  # the 28x28 result, 10x enlarged in pixel blocks
    assert digit.shape == (280, 280)
    digit = digit.reshape(28, 10, 28, 10).mean((1, 3))
    got, before = psnr(clean[0, 0], digit), psnr(clean[0, 0], noisy[0, 0])
    assert got >= in_app - 1.0, (got, in_app)  # measured: 21.6 dB, in-app 21.6 dB (the noisy upload: 12.9 dB)
    assert got > before + 6

    picture = download(page, "at your picture's size")  # the scan itself, denoised: same size, dark on light
    assert picture.shape == (280, 280)
    clean_file = 1.0 - fmt.render(clean[0, 0].numpy())
    assert psnr(clean_file, picture) >= in_app - 1.0  # measured: 21.6 dB (the noisy scan: 12.9 dB)
    assert picture[:20, :20].mean() > 0.9  # paper stays light
