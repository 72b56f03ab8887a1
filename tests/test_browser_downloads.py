"""In headless Chromium: the GAN studio's and the latent map's downloads produce valid files (a PNG grid, a GIF of an
interpolation, the CSV of a lasso selection)."""
from __future__ import annotations

import csv
import io
import re

import pytest
from PIL import Image

pytest.register_assert_rewrite("browser_support")
from browser_support import assert_no_error, lasso_on_map, needs, wait_idle  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]


def download(page, label: str) -> bytes:
    with page.expect_download(timeout=60_000) as d:
        page.get_by_role("button", name=label).first.click()
    return open(d.value.path(), "rb").read()


def test_gan_studio_downloads_a_png_grid_and_a_gif(open_page):
    needs("gan")
    page = open_page("gan?seed=5", wait_for_text="seed 5")
    img = Image.open(io.BytesIO(download(page, "Download the grid (PNG)")))
    assert img.format == "PNG" and img.size[0] >= 500
    page.locator('[data-testid="stButtonGroup"] button', has_text="Interpolate").first.click()
    page.get_by_role("button", name="Download as an animation (GIF)").wait_for()
    wait_idle(page)
    gif = Image.open(io.BytesIO(download(page, "Download as an animation (GIF)")))
    assert gif.format == "GIF" and gif.n_frames == 2 * 10 - 2
    assert_no_error(page)


def test_latent_map_downloads_the_selection_as_csv(open_page):
    needs("conv_ae")
    page = open_page("latent_map", wait_for_text="Latent map")
    lasso_on_map(page)
    head = page.get_by_text(re.compile(r"[\d,]+ digits selected"))
    head.wait_for(timeout=30_000)
    wait_idle(page)
    n = int(re.search(r"([\d,]+) digits selected", head.inner_text()).group(1).replace(",", ""))
    rows = list(csv.DictReader(io.StringIO(download(page, "Selection (CSV)").decode("utf-8"))))
    assert len(rows) == n and list(rows[0]) == ["test_index", "label", "x", "y"]
    assert all(0 <= int(r["test_index"]) < 10_000 and 0 <= int(r["label"]) <= 9 for r in rows)
    assert_no_error(page)
