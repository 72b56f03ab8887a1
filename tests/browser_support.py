"""End-to-end test support: one `streamlit run app.py` server and one headless Chromium for the whole session.

Use in a test module: load this file as a pytest plugin (registered once, so every module shares the
session fixtures ``st_server``, ``browser`` and ``open_page``), and import the helpers you need:

    from browser_support import assert_no_error, draw_strokes, screenshot, wait_count, wait_idle

    pytestmark = pytest.mark.browser
    pytest_plugins = ["browser_support"]

    def test_my_page(open_page):
        page = open_page("vae")                      # url_path from ui.common.PAGES; "" is Home
        assert_no_error(page)
        screenshot(page, "vae")                      # artifacts/browser_vae.png (gitignored)

The server and the browser are process-wide singletons, so modules that import these fixtures share
one of each; both are stopped at the end of the session. The server is started by ``harness.server``
(shared with the bench scripts) as our own child process (its PID, not a shell's) on a free 127.0.0.1
port, headless, without usage statistics, and inherits the environment (set ``LATENT_LAB_PRETRAINED`` to
serve another model directory).

Skips: only when /usr/bin/chromium is missing and the environment variable ``CI`` is not set. Under CI
a missing browser fails the test.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python -m pytest` from the root has it already; plain `pytest` may not
    sys.path.insert(0, str(ROOT))
from harness.server import CHROMIUM, CHROMIUM_ARGS, base_url, free_port, start_app, stop_app  # noqa: E402, F401 - free_port: for tests
from harness.server import healthy as _healthy  # noqa: E402, F401 - for tests that start their own server

ARTIFACTS = ROOT / "artifacts"
STARTUP_TIMEOUT_S = 60
WARM_UP_TIMEOUT_S = 300  # the first script run imports torch & co. cold: seconds normally, minutes on a saturated CPU

_state: dict = {}


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing and CI is set: browser tests must run under CI (install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (and CI not set)")


def start_server() -> str:
    """Start (once) `streamlit run app.py`; returns its base URL when /_stcore/health answers."""
    if "url" in _state:
        return _state["url"]
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    _state["proc"] = start_app(port, log_path=ARTIFACTS / "streamlit_server.log", timeout_s=STARTUP_TIMEOUT_S)  # RuntimeError if not
    url = base_url(port)
    # The first script run imports torch and loads models cold: do it once here, so that the tests' own timings
    # and timeouts start from a warm server (a deep link as the very first request works too:
    # test_browser_safety.py's test_first_visitor_by_url_gets_the_page_with_the_apps_navigation).
    _warm_up(url)
    _state["url"] = url
    return url


def _warm_up(url: str) -> None:
    page = shared_context(start_browser()).new_page()
    page.set_default_timeout(WARM_UP_TIMEOUT_S * 1000)
    try:
        page.goto(url + "/", wait_until="commit")  # then wait for the app itself, not every resource
        page.wait_for_selector('[data-testid="stSidebar"]')
        page.get_by_text("The models").first.wait_for()  # the Home page: the first run (cold imports) is over
        wait_idle(page, WARM_UP_TIMEOUT_S * 1000)
    finally:
        page.close()


def stop_server() -> None:
    proc = _state.pop("proc", None)
    if proc is not None:
        stop_app(proc, timeout_s=10)  # our own child, by its PID; closes its log
    _state.pop("url", None)


def start_browser():
    if "browser" not in _state:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        _state["pw"] = pw
        _state["browser"] = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    return _state["browser"]


def stop_browser() -> None:
    if "context" in _state:
        _state.pop("context").close()
    if "browser" in _state:
        _state.pop("browser").close()
    if "pw" in _state:
        _state.pop("pw").stop()


@pytest.fixture(scope="session")
def st_server(request) -> str:
    """Base URL of the shared Streamlit server."""
    require_chromium()  # no point serving without a browser
    request.addfinalizer(stop_server)
    return start_server()


@pytest.fixture(scope="session")
def browser(request):
    """The shared headless Chromium (playwright Browser)."""
    require_chromium()
    request.addfinalizer(stop_browser)
    return start_browser()


def shared_context(browser):
    """One browser context for the session: pages (tabs) in it are separate Streamlit sessions, but they share
    the HTTP cache, so the app's JavaScript is downloaded and compiled once, not per test."""
    if "context" not in _state:
        # Tall viewport: Streamlit scrolls inside the page, so a screenshot shows only the viewport.
        _state["context"] = browser.new_context(viewport={"width": 1400, "height": 1700})
    return _state["context"]


@pytest.fixture
def open_page(st_server, browser):
    """``open_page(url_path="")`` -> a fresh playwright Page on that app page, rendered (the app's script ran)."""
    pages = []

    def _open(url_path: str = "", wait_for_text: str | None = None, timeout_ms: int = 90_000, route=None):
        page = shared_context(browser).new_page()
        pages.append(page)
        page.set_default_timeout(timeout_ms)
        if route is not None:  # (url pattern, handler): e.g. a file the page would load, blocked
            page.route(*route)
        page.goto(f"{st_server}/{url_path}", wait_until="commit")
        page.wait_for_selector('[data-testid="stApp"]')
        page.wait_for_selector('[data-testid="stSidebar"]')  # navigation drawn: app.py ran
        wait_idle(page, timeout_ms)
        if wait_for_text:
            page.get_by_text(wait_for_text).first.wait_for()
        return page

    yield _open
    for page in pages:
        page.close()


def wait_idle(page, timeout_ms: int = 90_000, settle_ms: int = 300) -> None:
    """Wait until Streamlit's script run is over (``stApp[data-test-script-state]`` is not "running")."""
    page.wait_for_timeout(settle_ms)  # let a just-triggered rerun start
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
        " return a && a.getAttribute('data-test-script-state') !== 'running'; }",
        timeout=timeout_ms,
    )


def wait_count(page, selector: str, n: int, timeout_ms: int = 60_000) -> None:
    """Wait until at least ``n`` elements match ``selector``."""
    page.wait_for_function(f"() => document.querySelectorAll({selector!r}).length >= {n}", timeout=timeout_ms)


def assert_no_error(page) -> None:
    """No exception box, no st.error box, and no Python traceback text on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0, "an exception box is shown"
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0, (
        "an error box is shown: " + " | ".join(page.locator('[data-testid="stAlertContentError"]').all_inner_texts()))
    body = page.inner_text("body")
    assert "Traceback" not in body and 'File "' not in body, "traceback text on the page"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"browser_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


CANVAS = "canvas[data-role='drawing-canvas']"  # ui/js/digit_canvas.js


def draw_strokes(page, strokes: list[list[tuple[float, float]]], selector: str = CANVAS) -> None:
    """Draw mouse strokes on the (first) drawable canvas; points are fractions (0..1) of its width/height."""
    canvas = page.locator(selector).first
    canvas.wait_for()
    box = canvas.bounding_box()
    for stroke in strokes:
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
        page.mouse.down()
        for (xa, ya), (xb, yb) in zip(stroke[:-1], stroke[1:], strict=False):
            for t in (0.25, 0.5, 0.75, 1.0):
                x, y = xa + t * (xb - xa), ya + t * (yb - ya)
                page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.up()


MAP_CANVAS = "canvas[data-role='latent-map']"  # ui/js/scatter_map.js


def lasso_on_map(page, half: float = 80) -> None:
    """Wait for the latent map's 10,000 points, then drag a square lasso of ``half`` px around its centre."""
    page.wait_for_function(f"() => [...document.querySelectorAll('*')].some(e => e.shadowRoot && "
                           f"Number(e.shadowRoot.querySelector({MAP_CANVAS!r})?.dataset.points) >= 10000)", timeout=60_000)
    box = page.locator(MAP_CANVAS).bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - half, cy - half)
    page.mouse.down()
    for dx, dy in [(half, -half), (half, half), (-half, half), (-half, -half)]:
        page.mouse.move(cx + dx, cy + dy, steps=6)
    page.mouse.up()


def needs(*names: str) -> None:
    """Skip the test while a shipped model it needs is not installed."""
    from rep_models import checkpoint

    missing = [n for n in names if not (checkpoint.PRETRAINED_DIR / f"{n}.json").is_file()]
    if missing:
        pytest.skip(f"pretrained {missing} not installed yet")
