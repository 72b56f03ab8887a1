"""Hostile uploads in a real browser: the Draw & reconstruct page answers each with a clear message, never a traceback.

Uses the shared server and Chromium of ``browser_support`` (skips only without Chromium outside CI).
Screenshots go to ``artifacts/browser_safety_*.png``.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from browser_support import assert_no_error, browser, open_page, screenshot, st_server, wait_idle  # noqa: F401
from PIL import Image

pytestmark = pytest.mark.browser


def _png_bytes() -> bytes:
    a = np.full((64, 64), 255, np.uint8)
    a[8:56, 28:36] = 0  # a dark "1" on white paper
    buf = io.BytesIO()
    Image.fromarray(a, "L").save(buf, "PNG")
    return buf.getvalue()


def _dismiss_dialogs(page) -> None:
    """Close a modal (e.g. Streamlit's 'Page not found') so the page underneath takes clicks."""
    for _ in range(3):
        if page.locator('[data-testid="stDialog"]').count() == 0:
            return
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)


def _upload(page, name: str, data: bytes, expect: list[str], mime: str = "image/png") -> str:
    """Upload one file through the page's uploader and wait (up to 30 s) until one of ``expect`` shows in the
    main area; returns that area's text (the caller asserts, so a timeout reports what was shown instead)."""
    page.locator('input[type="file"]').first.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
    try:
        page.wait_for_function(
            "want => { const t = (document.querySelector('[data-testid=\"stMain\"]') || {}).innerText || '';"
            " return want.some(w => t.toLowerCase().includes(w.toLowerCase())); }", arg=expect, timeout=30_000)
    except Exception:  # noqa: BLE001 - fall through to the assertion, which shows the page text
        pass
    wait_idle(page)
    return page.locator('[data-testid="stMain"]').inner_text()


@pytest.fixture
def upload_page(open_page):  # noqa: F811 - the fixture imported above
    page = open_page("draw")
    _dismiss_dialogs(page)
    page.get_by_text("Upload", exact=True).first.click()
    page.locator('input[type="file"]').first.wait_for(state="attached")
    wait_idle(page)
    return page


def test_corrupt_and_foreign_uploads_get_a_clear_message(upload_page):
    page = upload_page
    png = _png_bytes()
    cases = [
        ("truncated.png", png[: len(png) // 2], ["damaged or incomplete"]),
        ("document.png", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(200), ["PDF"]),
        ("vector.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', ["SVG"]),
        ("noise.png", bytes(range(256)) * 8, ["not an image"]),
    ]
    for name, data, expected in cases:
        text = _upload(page, name, data, expected)
        screenshot(page, f"safety_{name.split('.')[0]}")
        assert any(e.lower() in text.lower() for e in expected), f"{name}: no clear message in {text[-600:]!r}"
        assert_no_error(page)
        assert "alert(1)" not in text  # the file's content is never echoed
    # ...and the page still works: a good upload afterwards is processed.
    _upload(page, "one.png", png, ["How the models see it"])
    page.get_by_text("not an image we can read").wait_for(state="detached", timeout=30_000)  # the last warning goes
    assert page.get_by_text("How the models see it").count() == 1
    assert_no_error(page)


def test_upload_over_the_size_limit_is_refused_by_the_uploader(upload_page):
    """server.maxUploadSize (5 MB in .streamlit/config.toml) is enforced before the page sees the file."""
    page = upload_page
    big = _png_bytes() + bytes(6 * 1024 * 1024)
    page.locator('input[type="file"]').first.set_input_files(files=[{"name": "big.png", "mimeType": "image/png", "buffer": big}])
    page.wait_for_timeout(1000)
    wait_idle(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    screenshot(page, "safety_too_big")
    assert "5" in text and "MB" in text and ("large" in text.lower() or "smaller" in text.lower()), text[-600:]
    assert page.get_by_text("How the models see it").count() == 0
    assert_no_error(page)


@pytest.fixture
def fresh_server():
    """A new server nobody has visited yet (the shared one has run every page already)."""
    from harness.server import base_url, free_port, start_app, stop_app

    port = free_port()
    proc = start_app(port)
    yield base_url(port)
    stop_app(proc)


@pytest.mark.parametrize("url_path", ["draw", "latent_map", "train_live"])
def test_first_visitor_by_url_gets_the_page_with_the_apps_navigation(fresh_server, browser, url_path):  # noqa: F811
    """The first student to follow a shared link (http://host/draw) after the server starts lands on that page
    as every later visitor does: the app's own menu in the sidebar (titles, this page highlighted; never the
    file names of Streamlit's legacy pages-folder mode), the page's title, the wide layout, no modal, no error.

    Streamlit runs the very first script of a process in its legacy pages-folder mode, where a deep link runs
    the page file without app.py; ui/nav.py leaves that mode and reruns through app.py (see its docstring).
    """
    from ui import nav

    spec = next(p for p in nav.PAGES if p.url_path == url_path)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{fresh_server}/{url_path}")
        page.wait_for_selector('[data-testid="stSidebar"]')
        page.get_by_role("heading", name=spec.title, exact=True).first.wait_for()
        wait_idle(page)
        dialogs = page.locator('[data-testid="stDialog"]')
        assert dialogs.count() == 0, "modal shown on a direct link: " + " | ".join(dialogs.all_inner_texts())
        assert_no_error(page)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0, "Streamlit's own (file-name) menu is shown"
        links = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').all_inner_texts()
        labels = [t.split("\n")[-1].strip() for t in links]
        assert labels == [nav.HOME.title] + [p.title for p in nav.PAGES], labels
        backgrounds = page.locator('[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]').evaluate_all(
            "links => links.map(a => getComputedStyle(a).backgroundColor)")
        highlighted = [label for label, bg in zip(labels, backgrounds, strict=True) if backgrounds.count(bg) == 1]
        assert highlighted == [spec.title], (labels, backgrounds)  # the current page, and only it, stands out
        width = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"]
        assert width > 900, f"main column {width:.0f} px wide: not the wide layout app.py sets"
        assert page.url.rstrip("/").endswith("/" + url_path)
    finally:
        ctx.close()
