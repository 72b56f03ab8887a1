"""The latent map's inspector in Chromium: the label filter from a link, isolating a lasso's selection, finding a
digit by its index, and thumbnails when the wheel zooms in (asked for then, not on the first load)."""
from __future__ import annotations

import re

import pytest
from browser_support import MAP_CANVAS, assert_no_error, lasso_on_map, needs, screenshot, wait_idle

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]

CANVAS_JS = ("(() => { for (const e of document.querySelectorAll('*')) { const c = e.shadowRoot && "
             f"e.shadowRoot.querySelector({MAP_CANVAS!r}); if (c) return c; }} return null; }})()")


def data(page, name: str) -> str | None:
    return page.evaluate(f"() => {{ const c = {CANVAS_JS}; return c && c.dataset[{name!r}]; }}")


def wait_data(page, cond: str, timeout_ms: int = 60_000) -> None:
    """Wait until ``cond`` (JS over the map canvas's dataset ``d``) holds."""
    page.wait_for_function(f"() => {{ const c = {CANVAS_JS}; if (!c) return false; const d = c.dataset; return {cond}; }}",
                           timeout=timeout_ms)


def test_filter_isolate_and_thumbnails(open_page):
    needs("conv_ae")
    page = open_page("latent_map?labels=1,7", wait_for_text="Latent map")
    wait_data(page, "Number(d.points) >= 10000 && Number(d.shown) > 0 && Number(d.shown) < 3000")
    shown = int(data(page, "shown"))  # about 2,163 test digits are 1s or 7s
    assert 1800 < shown < 2600, shown
    assert data(page, "thumbs") == "0"
    screenshot(page, "map_filter_1_7")

    # Isolate: a lasso, then only its points are drawn; Show all brings the filter's points back.
    lasso_on_map(page, half=120)
    page.get_by_text(re.compile(r"[\d,]+ digits selected")).wait_for(timeout=30_000)
    n = int(page.get_by_text(re.compile(r"[\d,]+ digits selected")).inner_text().split()[0].replace(",", ""))
    page.get_by_role("button", name="Isolate").click()
    wait_data(page, f"Number(d.shown) === {n}")
    screenshot(page, "map_isolated")
    page.get_by_role("button", name="Show all").click()
    wait_data(page, f"Number(d.shown) === {shown}")

    # Zoom in with the wheel until at most 300 points are in view: the map asks, the server sends their digits.
    box = page.locator(MAP_CANVAS).bounding_box()
    px, py = page.evaluate(f"""() => {{  // where a shown point is (the map's own state, on its shadow root)
        const m = {CANVAS_JS}.getRootNode().__sm, P = m.P, v = m.view;
        let i = 0;
        while (!m.visible.has(P.labels[i])) i++;
        return [(P.x[i] - v[0]) / (v[1] - v[0]) * m.w, (1 - (P.y[i] - v[2]) / (v[3] - v[2])) * m.h];
    }}""")
    page.mouse.move(box["x"] + px, box["y"] + py)
    for _ in range(40):  # in small steps, until the map is in its thumbnail range
        page.mouse.wheel(0, -150)
        page.wait_for_timeout(40)
        if page.evaluate(f"() => {CANVAS_JS}.getRootNode().__sm.inThumbs"):
            break
    wait_data(page, "Number(d.thumbs) > 0", timeout_ms=30_000)
    wait_idle(page)
    assert_no_error(page)
    screenshot(page, "map_thumbnails")


def test_find_a_digit_in_chinese_on_a_phone(st_server, browser):
    needs("conv_ae")
    ctx = browser.new_context(viewport={"width": 390, "height": 1400})
    try:
        page = ctx.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{st_server}/latent_map?lang=zh&find=1234")
        page.get_by_text("测试集数字 #1234 的最近邻").wait_for()
        wait_data(page, "Number(d.points) >= 10000 && Number(d.thumbs) > 0")  # zoomed to it: its neighbourhood as digits
        wait_idle(page)
        assert_no_error(page)
        page.locator(MAP_CANVAS).scroll_into_view_if_needed()
        page.locator(MAP_CANVAS).screenshot(path=str(screenshot(page, "map_find_zh_phone").with_name("browser_map_find_zh_phone_map.png")))
    finally:
        ctx.close()


def test_live_tsne_is_drawn_as_it_iterates(open_page):
    needs("conv_ae")
    page = open_page("latent_map?subset=2000&perplexity=10", wait_for_text="Latent map")
    page.get_by_role("button", name="Run").click()  # the link's settings opened the section
    live = "[...document.querySelectorAll('*')].filter(e => e.shadowRoot).map(e => e.shadowRoot.querySelector(" \
           f"{MAP_CANVAS!r})).filter(c => c && Number(c.dataset.points) === 2000)"
    page.wait_for_function(f"() => {live}.length === 1", timeout=90_000)
    layouts = set()
    for _ in range(200):  # the layouts as they come: the live map is redrawn with new points while it runs
        layouts.add(page.evaluate(f"() => {live}[0]?.getRootNode().__sm.d.points"))
        if page.get_by_text(re.compile(r"375 / 375")).count():
            break
        page.wait_for_timeout(150)
    page.get_by_text(re.compile(r"375 / 375")).wait_for(timeout=90_000)
    assert len(layouts) >= 3, layouts
    wait_idle(page)
    assert_no_error(page)
    page.locator("[data-testid='stExpander']").first.scroll_into_view_if_needed()
    screenshot(page, "map_live_tsne")
