"""End-to-end in headless Chromium: Home, Draw & reconstruct and Denoise render without errors; a digit drawn
with mouse strokes gets reconstructions and a prediction; uploads (good and corrupt) are handled.
Screenshots go to artifacts/ (not committed)."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw

from rep_models import checkpoint

pytest.register_assert_rewrite("browser_support")  # before the import: its asserts give full messages
from browser_support import CANVAS, assert_no_error, draw_strokes, screenshot, wait_count, wait_idle  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]  # the st_server, browser and open_page fixtures, shared by every browser test module

SEVEN = [[(0.25, 0.22), (0.75, 0.22), (0.42, 0.85)]]


def needs(*names: str) -> None:
    missing = [n for n in names if not (checkpoint.PRETRAINED_DIR / f"{n}.json").is_file()]
    if missing:
        pytest.skip(f"pretrained {missing} not installed yet")


def choose(page, option: str) -> None:
    """Click an option of the input-source segmented control."""
    page.locator('[data-testid="stButtonGroup"] button', has_text=option).first.click()
    wait_idle(page)


def test_home_renders(open_page):
    page = open_page("", wait_for_text="The models")
    assert_no_error(page)
    assert page.get_by_text("Latent Lab").first.is_visible()
    screenshot(page, "home")


def test_draw_a_digit_shows_reconstructions_and_prediction(open_page):
    needs("classifier", "conv_ae", "rbm")
    page = open_page("draw", wait_for_text="Draw a digit on the black canvas")
    assert_no_error(page)
    draw_strokes(page, SEVEN)
    page.get_by_text("The classifier says").wait_for()
    page.get_by_text("Closest:").wait_for()
    wait_count(page, '[data-testid="stImage"]', 5 + 2)  # the steps, the input, >= 1 reconstruction
    wait_idle(page)
    assert_no_error(page)
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text().strip() in list("0123456789")
    line = page.get_by_text("The RBM's free energy of your digit")  # the RBM's own anomaly score, beside the AE's
    line.wait_for()
    assert re.search(r"free energy of your digit: -?\d+\.\d, higher than for \d+\.\d% of the MNIST test digits", line.inner_text())
    screenshot(page, "draw")
    canvas = page.locator(CANVAS)
    assert int(canvas.get_attribute("data-strokes")) == len(SEVEN)
    draw_strokes(page, [[(0.5, 0.5), (0.52, 0.55)]])  # one more, then take it back
    assert int(canvas.get_attribute("data-strokes")) == len(SEVEN) + 1
    page.get_by_role("button", name="Undo").click()
    assert int(canvas.get_attribute("data-strokes")) == len(SEVEN)
    wait_idle(page)
    assert page.get_by_text("The classifier says").count() == 1  # still a digit
    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit on the black canvas").wait_for()
    assert page.get_by_text("The classifier says").count() == 0
    assert_no_error(page)


def test_upload_a_digit_and_a_corrupt_file(open_page, tmp_path):
    needs("classifier")
    page = open_page("draw", wait_for_text="Draw a digit")
    choose(page, "Upload")
    img = Image.new("RGB", (160, 200), "white")
    ImageDraw.Draw(img).line([(40, 40), (120, 40), (70, 170)], fill="black", width=14)
    good = tmp_path / "seven.png"
    img.save(good)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(good))
    page.get_by_text("The classifier says").wait_for()
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, "draw_upload")
    data = io.BytesIO()
    img.save(data, "PNG")
    bad = tmp_path / "cut.png"
    bad.write_bytes(data.getvalue()[:300])  # a truncated PNG
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(bad))
    page.get_by_text("damaged or incomplete").wait_for()
    wait_idle(page)
    assert_no_error(page)
    assert page.get_by_text("The classifier says").count() == 0
    screenshot(page, "draw_upload_corrupt")


def test_denoise_page(open_page):
    needs("denoising_ae")
    page = open_page("denoise", wait_for_text="PSNR")
    wait_count(page, '[data-testid="stImage"]', 4)  # clean, noisy, denoised, classical
    wait_idle(page)
    assert_no_error(page)
    assert page.get_by_text("Download the denoised digit").count() == 1
    screenshot(page, "denoise")
    choose(page, "Draw")
    draw_strokes(page, SEVEN)
    page.get_by_text("Improvement over the noisy input").wait_for()
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, "denoise_draw")
