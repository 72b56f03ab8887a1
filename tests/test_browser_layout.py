"""In headless Chromium, every page at a phone's, a laptop's and a projector's width: nothing runs past the window's
edge (images, charts and button rows stay inside the main column; the page never scrolls sideways), including the
sections with the widest strips (the VAE explorer's interpolation and conditional VAE). And presentation mode
(``?present=1``): the sidebar folded away, the explanations folded, the type larger."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("browser_support")
from browser_support import CANVAS, assert_no_error, needs, screenshot, wait_idle  # noqa: E402

from ui import nav  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]

WIDTHS = {"phone": 390, "laptop": 1400, "projector": 1920}
VIEWS = ["", *(p.url_path for p in nav.PAGES), "vae?section=interpolate", "vae?section=cvae", "gan?section=interpolate"]

# What sticks out: an image, a chart or a row of buttons whose right edge is past the main column's, or a page
# wider than the window. (The in-page components draw inside their own shadow roots and size to their column.)
OVERFLOW = """() => {
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const edge = main.getBoundingClientRect().right;
  const out = [];
  for (const el of main.querySelectorAll('img, [data-testid="stPlotlyChart"], [data-testid="stButtonGroup"], [data-testid="stImage"]')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > edge + 2) out.push(`${el.tagName} ${el.dataset.testid || ''}: right ${Math.round(r.right)} > ${Math.round(edge)}`);
  }
  const d = document.documentElement;
  if (d.scrollWidth > d.clientWidth + 1) out.push(`the page scrolls sideways: ${d.scrollWidth} > ${d.clientWidth}`);
  return out;
}"""


@pytest.fixture(scope="module")
def sized(st_server, browser):
    """``sized(view, width)`` -> a page opened at that window width (its own browser context)."""
    contexts = []

    def _open(view: str, width: int):
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{st_server}/{view}", wait_until="commit")
        page.wait_for_selector('[data-testid="stMainBlockContainer"]')
        wait_idle(page)
        page.wait_for_timeout(800)  # images and charts laid out
        wait_idle(page)
        return page

    yield _open
    for ctx in contexts:
        ctx.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_nothing_runs_past_the_edge(sized, width):
    found = {}
    for view in VIEWS:
        page = sized(view, WIDTHS[width])
        assert_no_error(page)
        bad = page.evaluate(OVERFLOW)
        if bad:
            found[view or "home"] = bad
            screenshot(page, f"overflow_{width}_{(view or 'home').replace('?', '_').replace('=', '-')}")
        page.close()
    assert not found, found


def test_presentation_mode_folds_the_sidebar_and_the_explanations(sized):
    page = sized("gan?present=1", 1920)
    sidebar = page.locator('[data-testid="stSidebar"]').evaluate(
        "e => [e.getAttribute('aria-expanded'), Math.round(e.getBoundingClientRect().right), Math.round(e.getBoundingClientRect().width)]")
    assert sidebar[0] == "false" or sidebar[1] <= 1 or sidebar[2] <= 1, sidebar  # folded away
    page.get_by_text("About this page").first.wait_for()
    assert page.get_by_text("A generator turns 64 random numbers").count() == 0 or not page.get_by_text(
        "A generator turns 64 random numbers").first.is_visible()
    title = page.locator("h1").first.evaluate("e => e.getBoundingClientRect().height")
    plain = sized("gan", 1920).locator("h1").first.evaluate("e => e.getBoundingClientRect().height")
    assert title > 1.2 * plain  # larger type on the projector
    assert "present=1" in page.url
    screenshot(page, "present_gan")


def test_a_finger_draws_on_a_phone_and_the_results_come_right_under_the_canvas(st_server, browser):
    """Touch events (not a mouse) on a 390-px phone: the stroke reaches Python, and the prediction and the
    reconstructions stand between the canvas and the preprocessing steps."""
    needs("classifier", "conv_ae")
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2)
    try:
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{st_server}/draw", wait_until="commit")
        canvas = page.locator(CANVAS)
        canvas.wait_for()
        wait_idle(page)
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        cdp = ctx.new_cdp_session(page)
        points = [(0.25, 0.22), (0.5, 0.22), (0.75, 0.22), (0.6, 0.5), (0.42, 0.85)]  # a 7
        xy = [{"x": box["x"] + fx * box["width"], "y": box["y"] + fy * box["height"]} for fx, fy in points]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [xy[0]]})
        for p in xy[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.get_by_text("The classifier says").first.wait_for()
        page.get_by_text("Reconstructions", exact=True).first.wait_for()
        wait_idle(page)
        assert_no_error(page)
        assert int(canvas.get_attribute("data-strokes")) == 1
        top = {name: page.get_by_text(name, exact=True).first.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
               for name in ("The classifier says", "Reconstructions", "How the models see it")}
        canvas_bottom = canvas.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
        assert canvas_bottom < top["The classifier says"] < top["Reconstructions"] < top["How the models see it"], top
        assert page.evaluate(OVERFLOW) == []
        screenshot(page, "draw_phone_touch")
        page.get_by_text("The classifier says").first.scroll_into_view_if_needed()
        screenshot(page, "draw_phone_touch_results")
    finally:
        ctx.close()
