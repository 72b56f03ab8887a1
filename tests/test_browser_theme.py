"""Light and dark themes (.streamlit/config.toml [theme.light], [theme.dark]): the theme a visitor picks in Streamlit's
menu (System / Light / Dark), or the system's colour scheme under System, reaches the in-page components while the
page is open: the latent map repaints its background (WebGL), the drawing canvas's mat, the sliders' and the frame
player's frames follow it, and the digits themselves stay white on black (they are MNIST data, not chrome).

Each test has its own browser context: the theme picked in the menu is kept in the browser's localStorage, and the
other browser tests' shared context must stay in the light theme."""
from __future__ import annotations

import io
from collections import Counter

import pytest
from browser_support import CANVAS, MAP_CANVAS, assert_no_error, browser, draw_strokes, needs, screenshot, st_server, wait_idle  # noqa: F401

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_support"]

VAE_CANVAS = "canvas[data-role='decoded-digit']"
WALK_CANVAS = "canvas[data-role='latent-walk']"
FIND = ("(sel) => { for (const e of document.querySelectorAll('*')) { const c = e.shadowRoot && e.shadowRoot.querySelector(sel);"
        " if (c) return c; } return null; }")
# The component's theme as it last saw it (theme.js sets data-theme on its wrapper), and its frame's background.
THEME_OF = (f"(sel) => {{ const c = ({FIND})(sel); const w = c && c.closest('[data-theme]');"
            " return c && [w && w.dataset.theme, getComputedStyle(c.parentElement).backgroundColor]; }")


def luminance(rgb) -> float:
    r, g, b = rgb[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def background(png: bytes) -> tuple[int, int, int]:
    """The commonest colour of a screenshot: a chart's background."""
    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB")
    return Counter(im.get_flattened_data() if hasattr(im, "get_flattened_data") else im.getdata()).most_common(1)[0][0]


def pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((x, y))


def theme_context(browser, scheme: str, width: int = 1400, **kwargs):  # noqa: F811
    return browser.new_context(viewport={"width": width, "height": 1200}, color_scheme=scheme, **kwargs)


def goto(page, st_server, path: str) -> None:  # noqa: F811
    page.set_default_timeout(120_000)
    page.goto(f"{st_server}/{path}", wait_until="commit")
    page.wait_for_selector('[data-testid="stSidebar"]', state="attached")  # folded away on a phone
    wait_idle(page)


def pick(page, theme: str) -> None:
    """Streamlit's menu (⋮, shown to visitors with toolbarMode = "viewer"): System, Light or Dark."""
    page.locator('[data-testid="stMainMenu"]').click()
    page.locator(f'[data-testid="stMainMenuItem-theme-{theme}"]').click()
    page.keyboard.press("Escape")


def wait_theme(page, sel: str, theme: str) -> None:
    page.wait_for_function(f"(sel) => ({THEME_OF})(sel)?.[0] === {theme!r}", arg=sel, timeout=20_000)


def wait_map(page) -> None:
    page.wait_for_function(f"() => Number(({FIND})({MAP_CANVAS!r})?.dataset.points) >= 10000", timeout=60_000)


def test_the_map_and_the_canvas_follow_the_theme_picked_in_the_menu(st_server, browser):  # noqa: F811
    needs("conv_ae")
    ctx = theme_context(browser, "light")
    try:
        page = ctx.new_page()
        goto(page, st_server, "draw")
        canvas = page.locator(CANVAS)
        canvas.wait_for()
        draw_strokes(page, [[(0.5, 0.2), (0.5, 0.8)]])  # a 1
        page.wait_for_function(f"() => ({FIND})({CANVAS!r})?.dataset.strokes === '1'")
        wait_idle(page)
        drawing = f"(sel) => ({FIND})(sel).getContext('2d').getImageData(0, 0, 280, 280).data.join(',')"
        before = page.evaluate(drawing, CANVAS)
        theme, mat = page.evaluate(THEME_OF, CANVAS)
        assert theme == "light" and luminance(tuple(map(int, mat[4:-1].split(",")))) > 200, mat
        mat_light = pixel(page.locator(".dc .mat").screenshot(), 3, 40)  # inside the mat's padding, beside the drawing
        screenshot(page, "theme_draw_light")

        pick(page, "Dark")  # while the page is open: no reload, no rerun of the script
        wait_theme(page, CANVAS, "dark")
        theme, mat = page.evaluate(THEME_OF, CANVAS)
        mat_dark = pixel(page.locator(".dc .mat").screenshot(), 3, 40)
        assert luminance(mat_light) > 200 and luminance(mat_dark) < 80, (mat_light, mat_dark)
        assert page.evaluate(drawing, CANVAS) == before  # the drawing is the digit: still white on black, unchanged
        assert canvas.get_attribute("data-strokes") == "1"
        screenshot(page, "theme_draw_dark")
        assert_no_error(page)

        # The sidebar's menu to the map: the pick holds for the tab (Streamlit keeps it in localStorage under the
        # address the tab was opened at, so a new tab opened at /latent_map would start from System).
        page.locator('[data-testid="stSidebar"] a[href="latent_map"]').click()
        wait_map(page)
        wait_theme(page, MAP_CANVAS, "dark")
        dark = background(page.locator(MAP_CANVAS).screenshot())
        assert luminance(dark) < 60, dark
        screenshot(page, "theme_map_dark")

        pick(page, "Light")  # WebGL repaints with the light theme's background
        wait_theme(page, MAP_CANVAS, "light")
        light = background(page.locator(MAP_CANVAS).screenshot())
        assert luminance(light) > 200, light
        assert page.evaluate(f"() => ({FIND})({MAP_CANVAS!r}).dataset.renderer") == "webgl"
        screenshot(page, "theme_map_light")
        assert_no_error(page)
    finally:
        ctx.close()


def test_system_follows_the_computers_colour_scheme_while_the_page_is_open(st_server, browser):  # noqa: F811
    """Under System (the default), a change of the computer's colour scheme repaints the map at once, and the
    sliders' decoded digit keeps its black background in a frame that follows the theme."""
    needs("vae")
    ctx = theme_context(browser, "dark")
    try:
        page = ctx.new_page()
        goto(page, st_server, "latent_map")
        wait_map(page)
        wait_theme(page, MAP_CANVAS, "dark")
        assert luminance(background(page.locator(MAP_CANVAS).screenshot())) < 60
        page.emulate_media(color_scheme="light")
        wait_theme(page, MAP_CANVAS, "light")
        assert luminance(background(page.locator(MAP_CANVAS).screenshot())) > 200

        page.emulate_media(color_scheme="dark")
        goto(page, st_server, "vae")
        page.wait_for_function(f"() => Number(({FIND})({VAE_CANVAS!r})?.dataset.renders) > 0", timeout=60_000)
        wait_theme(page, VAE_CANVAS, "dark")
        digit = page.locator(VAE_CANVAS).screenshot()
        assert pixel(digit, 2, 2) == (0, 0, 0)  # the digit's own background: MNIST black in both themes
        frame_dark = page.evaluate(THEME_OF, VAE_CANVAS)[1]
        screenshot(page, "theme_vae_dark")
        page.emulate_media(color_scheme="light")
        wait_theme(page, VAE_CANVAS, "light")
        frame_light = page.evaluate(THEME_OF, VAE_CANVAS)[1]
        assert frame_light != frame_dark, frame_light
        assert pixel(page.locator(VAE_CANVAS).screenshot(), 2, 2) == (0, 0, 0)
        assert_no_error(page)
    finally:
        ctx.close()


def test_a_repaint_without_streamlit_calling_the_component_again(st_server, browser):  # noqa: F811
    """theme.js's own watch: the --st-* properties change under the map (as a Streamlit that does not call the
    component's function again would do it) and the map still repaints."""
    ctx = theme_context(browser, "light")
    try:
        page = ctx.new_page()
        goto(page, st_server, "latent_map")
        wait_map(page)
        draws = int(page.evaluate(f"() => ({FIND})({MAP_CANVAS!r}).dataset.draws"))
        page.evaluate(f"() => ({FIND})({MAP_CANVAS!r}).getRootNode().host.style.setProperty('--st-background-color', '#102030')")
        page.wait_for_function(f"() => ({FIND})({MAP_CANVAS!r}).dataset.bg === '#102030'", timeout=10_000)
        assert int(page.evaluate(f"() => ({FIND})({MAP_CANVAS!r}).dataset.draws")) > draws
        assert background(page.locator(MAP_CANVAS).screenshot()) == (0x10, 0x20, 0x30)
    finally:
        ctx.close()


def test_the_maps_2d_fallback_follows_the_theme(st_server, browser):  # noqa: F811
    """Where WebGL's shaders fail the map draws on a 2-D canvas: its background is the theme's too, live."""
    from test_browser_map_fallback import BREAK_SHADERS

    ctx = theme_context(browser, "dark")
    try:
        ctx.add_init_script(BREAK_SHADERS)
        page = ctx.new_page()
        goto(page, st_server, "latent_map")
        wait_map(page)
        corner = f"() => [...({FIND})({MAP_CANVAS!r}).getContext('2d').getImageData(1, 1, 1, 1).data]"
        assert page.evaluate(f"() => ({FIND})({MAP_CANVAS!r}).dataset.renderer") == "2d"
        wait_theme(page, MAP_CANVAS, "dark")
        assert luminance(page.evaluate(corner)) < 60
        page.emulate_media(color_scheme="light")
        wait_theme(page, MAP_CANVAS, "light")
        assert luminance(page.evaluate(corner)) > 200
        assert_no_error(page)
    finally:
        ctx.close()


def test_a_phone_in_the_dark_theme(st_server, browser):  # noqa: F811
    """390 px, dark: the canvas's mat fits the screen and the page does not run past its edge; then the map, and
    the map again in the light theme."""
    ctx = theme_context(browser, "dark", width=390, has_touch=True, is_mobile=True, device_scale_factor=2)
    try:
        page = ctx.new_page()
        goto(page, st_server, "draw")
        page.locator(CANVAS).wait_for()
        wait_theme(page, CANVAS, "dark")
        box = page.locator(".dc .mat").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        screenshot(page, "theme_draw_phone_dark")
        goto(page, st_server, "latent_map")
        wait_map(page)
        wait_theme(page, MAP_CANVAS, "dark")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.locator(MAP_CANVAS).scroll_into_view_if_needed()
        screenshot(page, "theme_map_phone_dark")
        page.emulate_media(color_scheme="light")
        wait_theme(page, MAP_CANVAS, "light")
        screenshot(page, "theme_map_phone_light")
        assert_no_error(page)
    finally:
        ctx.close()
