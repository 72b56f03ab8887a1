"""One student in headless Chromium (Playwright), for ``python -m bench.load_test --clients browser``: open the
scenario's page, then draw, upload or move a slider at a person's pace, each interaction timed on the page's own
clock from the input event to the end of the script run, and the page's exception and error boxes counted.
"""
from __future__ import annotations

import asyncio
import random
import time

from harness.scenarios import PAGE, THINK_S, Session, digit_png

DRAW_CANVAS = "canvas[data-role='drawing-canvas']"  # ui/js/digit_canvas.js
# In the page: count finished script runs and remember the last user input, on the page's own clock.
PROBE = """() => {
  if (window.__ll) return;
  const app = document.querySelector('[data-testid="stApp"]');
  const ll = window.__ll = {runs: 0, done: 0, input: 0, state: app ? app.getAttribute('data-test-script-state') : null, errors: []};
  if (app) new MutationObserver(() => {
    const s = app.getAttribute('data-test-script-state');
    if (s !== ll.state) { if (s === 'notRunning') { ll.runs++; ll.done = performance.now(); } ll.state = s; }
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  for (const ev of ['pointerup', 'keydown', 'change']) document.addEventListener(ev, () => { ll.input = performance.now(); }, true);
}"""
ERRORS_JS = """() => {
  const n = s => document.querySelectorAll(s).length;
  const main = document.querySelector('[data-testid="stMain"]');
  const text = main ? main.innerText : '';
  return {exception: n('[data-testid="stException"]'), error_box: n('[data-testid="stAlertContentError"]'),
          traceback: text.includes('Traceback') ? 1 : 0};
}"""


async def wait_run(page, runs_before: int, timeout_s: float) -> float | None:
    """Milliseconds from the last input to the end of the next script run, or None on timeout."""
    try:
        await page.wait_for_function("n => window.__ll && window.__ll.runs > n && window.__ll.state === 'notRunning'",
                                     arg=runs_before, timeout=timeout_s * 1000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: counted by the caller
        return None
    ll = await page.evaluate("() => window.__ll")
    return max(0.0, ll["done"] - ll["input"])


async def runs(page) -> int:
    return await page.evaluate("() => window.__ll ? window.__ll.runs : 0")


def main_slider(page):
    """The first slider of the page body. Streamlit 1.67 renders it as an <input type="range"> (an implicit ARIA
    role, no role attribute), so a CSS ``[role="slider"]`` selector finds nothing: ask for the role instead."""
    return page.locator('[data-testid="stMain"] [data-testid="stSlider"]').first.get_by_role("slider")


async def open_scenario(page, base: str, s: Session) -> None:
    path = PAGE[s.scenario]
    await page.goto(f"{base}/{path}")
    await page.wait_for_selector('[data-testid="stSidebar"]', timeout=120_000)
    await page.evaluate(PROBE)
    for _ in range(3):  # a modal (e.g. "Page not found") would make the page inert
        if await page.locator('[data-testid="stDialog"]').count() == 0:
            break
        await page.keyboard.press("Escape")
        await page.wait_for_timeout(300)
    await page.wait_for_function("() => window.__ll.state === 'notRunning'", timeout=120_000)
    if s.scenario in ("draw", "upload"):
        await page.locator(DRAW_CANVAS).first.wait_for(timeout=120_000)
    if s.scenario == "upload":
        n = await runs(page)
        await page.get_by_text("Upload", exact=True).first.click()
        await wait_run(page, n, 60)
        await page.locator('input[type="file"]').first.wait_for(state="attached", timeout=120_000)
    if s.scenario == "vae":
        # As the protocol clients: the Conditional VAE's style sliders rerun on the server (the Sliders section decodes in the page).
        section = page.locator('[data-testid="stButtonGroup"] button', has_text="Conditional VAE")
        if await section.count():
            n = await runs(page)
            await section.first.click()
            await wait_run(page, n, 60)
    if s.scenario in ("denoise", "vae"):
        try:
            await main_slider(page).wait_for(timeout=120_000)
        except Exception:  # noqa: BLE001 - e.g. no VAE installed yet: fall back to the Denoise page
            if s.scenario == "vae":
                s.scenario, s.note = "denoise", "vae page had no slider (model not installed); used denoise"
                await open_scenario(page, base, s)
                return
            raise


async def interact(page, s: Session, rng: random.Random, timeout_s: float) -> None:
    n = await runs(page)
    if s.scenario == "draw":
        if s.interactions % 6 == 5:  # Clear now and then (the canvas's own button): an empty drawing, a rerun
            await page.get_by_role("button", name="Clear").first.click()
            await wait_run(page, n, timeout_s)
            n = await runs(page)
        box = await page.locator(DRAW_CANVAS).first.bounding_box()
        pts = [(rng.uniform(0.25, 0.75), rng.uniform(0.15, 0.85)) for _ in range(rng.randint(2, 4))]
        await page.mouse.move(box["x"] + pts[0][0] * box["width"], box["y"] + pts[0][1] * box["height"])
        await page.mouse.down()
        for (xa, ya), (xb, yb) in zip(pts[:-1], pts[1:], strict=False):
            for t in (0.25, 0.5, 0.75, 1.0):
                await page.mouse.move(box["x"] + (xa + t * (xb - xa)) * box["width"], box["y"] + (ya + t * (yb - ya)) * box["height"])
        await page.mouse.up()
    elif s.scenario == "upload":
        corrupt = s.interactions % 4 == 3
        await page.locator('input[type="file"]').first.set_input_files(
            files=[{"name": f"digit{s.interactions}.png", "mimeType": "image/png", "buffer": digit_png(rng, corrupt)}])
    else:
        slider = main_slider(page)
        await slider.focus()
        await page.keyboard.press("ArrowRight" if (s.interactions // 3) % 2 == 0 else "ArrowLeft")
    ms = await wait_run(page, n, timeout_s)
    s.interactions += 1
    if ms is None:
        s.error("no response")
    else:
        s.latencies_ms.append(ms)
    found = await page.evaluate(ERRORS_JS)
    for kind, count in found.items():
        if count:
            s.error(kind)


async def run_session(browser, base: str, s: Session, start_at: float, seconds: float, timeout_s: float,
                      think: tuple[float, float] = THINK_S["browser"]) -> Session:
    """Open the scenario's page (at ``start_at``), then interact for ``seconds`` once it is ready."""
    rng = random.Random(s.index)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(timeout_s * 1000)
    page.set_default_navigation_timeout(120_000)
    page.on("pageerror", lambda e: s.error("page error"))
    try:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        await open_scenario(page, base, s)
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            await interact(page, s, rng, timeout_s)
            await asyncio.sleep(rng.uniform(*think))  # a person's pause between moves
    except Exception as e:  # noqa: BLE001 - a session that breaks is an error, the others go on
        s.error("session failed")
        s.note = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
    finally:
        await ctx.close()
    return s
