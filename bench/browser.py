"""Browser: what a student waits for, measured in headless Chromium driving the real app.

    python -m bench.browser            # the full figures (about 3 minutes on an idle 2-core machine)
    python -m bench.browser --quick    # a smoke run: few repeats

Starts ``streamlit run app.py`` headless on a free 127.0.0.1 port (``harness.server``), opens the Home page once
(the first script run after a server start imports torch & co., and a deep link as the very first run hits a
Streamlit "Page not found" quirk), then measures, all on the page's own clock (``performance.now()``):

1. VAE latent explorer (``/vae``), Sliders section: a key press on a principal-direction slider to the new
   decoded digit shown: by default decoded in the page on onnxruntime-web (the component's canvas counted one more
   render, then the next animation frame started; the runtime's own time is the canvas's ``data-ms``); again with
   "Decode in your browser" off (the server's image ``src`` changed, the image loaded, the next animation frame).
   Presses sweep PC 1, PC 2, ... one step at a time (right on the first pass, left on the next), so the value
   stays in range and every press asks for a code not decoded before.
2. Draw & reconstruct (``/draw``): mouse-up at the end of a stroke on the canvas to every reconstruction image
   (the images captioned "<model> · <error>") replaced and loaded. Strokes come in groups of three on a canvas
   cleared before each group: the first makes the reconstructions appear, the next two change them.
3. GAN studio (``/gan``, the default MLP GAN, then ``/gan?model=dcgan``): a new seed typed in the grid's own Seed box,
   Enter to the new 64-sample grid on the page's canvas (decoded in the page); then the Latent walk's Play: frames
   the page made and drew per second (its canvas counts them; a MutationObserver times each).
4. A page that runs the runtime (``/gan``, ``/vae``) opened in a new tab (the runtime's files in the browser's
   cache after one warm-up load): navigation start to the first in-page decode on the canvas, the script idle.
5. Latent map (``/latent_map``, 10,000 points): navigation start to interactive (the WebGL scatter drawn with
   all its points (the component's canvas counts them), and the script idle: no run in progress, no status widget),
   for the first visit after the server start (cold: the map is loaded into ``st.cache_resource``), then for
   fresh loads in a new tab each (after one warm-up load), and in a new browser context (empty HTTP cache).

Writes ``bench/results/browser.{md,json}`` and rebuilds ``bench/RESULTS.md``; screenshots of each measured page
go to ``artifacts/bench_browser_*.png`` (not committed). The browser shares the CPU with the server, as it would
on a student's laptop running the app locally; run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import ROOT, header, passfail, table, write_section
from harness.server import CHROMIUM, CHROMIUM_ARGS, base_url, free_port, start_app, stop_app

ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1400, "height": 1700}  # tall: Streamlit scrolls inside the page; screenshots show everything
MAP_POINTS = 10_000
TIMEOUT_MS = 60_000  # one interaction under a heavily loaded CPU; an idle machine needs a fraction of a second
# Issue 18's bars for what runs in the page (onnxruntime-web): a slider step within two frames, a new grid within 50 ms,
# the walk at 30 frames/s, a page with the runtime interactive within 2 s in a new tab; the Draw and map bars as before.
BARS = {"vae_median": 20.0, "vae_p95": 33.0, "draw_p95": 400.0, "gan_grid_p95": 50.0, "gan_fps": 30.0, "map_s": 2.0, "runtime_tab_s": 2.0}

# Installed in every page before its own scripts (context.add_init_script): input timestamps, a one-shot
# "these images were replaced and loaded" watcher, the latent map's readiness loop and a frame counter.
HOOKS = r"""
(() => {
  if (window.__bench) return;
  const B = window.__bench = {input: {}, result: null, map: {since: null, points: 0, chart: null, drawn: null, ran: false, runStart: null, runEnd: null}};
  for (const ev of ['keydown', 'pointerup']) document.addEventListener(ev, () => { B.input[ev] = performance.now(); }, true);

  // Images: [data-testid=stImage] elements under `selector`, optionally only those whose caption matches `caption`.
  const images = (spec) => {
    let els = [...document.querySelectorAll(spec.selector)];
    if (spec.caption) {
      const re = new RegExp(spec.caption);
      els = els.filter(e => { const c = e.querySelector('[data-testid="stImageCaption"]'); return c && re.test(c.textContent.trim()); });
    }
    return els.map(e => e.querySelector('img')).filter(Boolean);
  };
  // Arm before the input: B.result becomes {loaded, frame, n} once at least spec.min matching images are shown,
  // none of them with a src shown when armed, all loaded; `frame` is the start of the next animation frame.
  // Script runs, from the app's own state attribute: when the last run started and ended.
  const watchRuns = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || B.runObs) return;
    B.state = app.getAttribute('data-test-script-state');
    B.runObs = new MutationObserver(() => {
      const s = app.getAttribute('data-test-script-state');
      if (s === B.state) return;
      if (s === 'running') B.runStart = performance.now();
      if (s === 'notRunning') B.runEnd = performance.now();
      B.state = s;
    });
    B.runObs.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  };
  // Query through open shadow roots (Latent Lab's in-page components render in one).
  B.deep = (sel, root = document) => {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const h = B.deep(sel, el.shadowRoot); if (h) return h; }
    return null;
  };
  // A canvas that counts its own renders in data-renders (the VAE sliders decoded in the page): the result is
  // the animation frame after the count went up.
  B.armCanvas = (spec) => {
    const c = B.deep(spec.canvas);
    B.result = null;
    B.input = {};
    if (!c) return -1;
    const before = Number(c.dataset.renders);
    if (B.obs) B.obs.disconnect();
    B.obs = new MutationObserver(() => {
      if (B.result !== null || Number(c.dataset.renders) <= before) return;
      B.obs.disconnect();
      const loaded = performance.now();
      const runtime = Number(c.dataset.ms);  // the component's own time: its decode in the page's runtime
      requestAnimationFrame(() => { B.result = {loaded, frame: performance.now(), n: 1, runtime}; });
    });
    B.obs.observe(c, {attributes: true, attributeFilter: ['data-renders']});
    return before;
  };
  // Frames a player canvas showed in `ms` (its data-shown counter), with their times.
  B.countCanvasFrames = (sel, ms) => new Promise(resolve => {
    const c = B.deep(sel);
    if (!c) { resolve({shown: 0, changes: 0, ticks: 0, seconds: ms / 1000, times: []}); return; }
    const n0 = Number(c.dataset.shown), t0 = performance.now(), times = [];
    let ticks = 0;
    const obs = new MutationObserver(() => times.push(performance.now()));
    obs.observe(c, {attributes: true, attributeFilter: ['data-shown']});
    const tick = (now) => {
      ticks++;
      if (now - t0 < ms) requestAnimationFrame(tick);
      else { obs.disconnect(); resolve({shown: Number(c.dataset.shown) - n0, changes: times.length, ticks, seconds: (now - t0) / 1000, times}); }
    };
    requestAnimationFrame(tick);
  });
  B.arm = (spec) => {
    if (spec.canvas) return B.armCanvas(spec);
    watchRuns();
    if (B.obs) B.obs.disconnect();
    const before = new Set(images(spec).map(i => i.src));
    B.result = null;
    B.input = {};
    B.armedAt = performance.now();
    const check = () => {
      if (B.result !== null || B.done) return;
      const imgs = images(spec);
      if (imgs.length < (spec.min || 1) || imgs.some(i => before.has(i.src))) return;
      const pending = imgs.filter(i => !(i.complete && i.naturalWidth > 0));
      if (pending.length) { pending.forEach(i => i.addEventListener('load', check, {once: true})); return; }
      B.done = true;
      B.obs.disconnect();
      const loaded = performance.now();
      requestAnimationFrame(() => { B.result = {loaded, frame: performance.now(), n: imgs.length}; });
    };
    B.done = false;
    B.obs = new MutationObserver(check);
    B.obs.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src'], characterData: true});
    return before.size;
  };

  // A page that runs a network in the page: when its first decode is on the canvas and the script is idle (from
  // navigation start): the in-page runtime started, the network arrived and ran.
  if (/\/(gan|vae)\/?$/.test(location.pathname)) {
    B.decode = {at: null};
    const look = () => {
      const c = B.deep("canvas[data-role='generated-digits']") || B.deep("canvas[data-role='decoded-digit']");
      const app = document.querySelector('[data-testid="stApp"]');
      const idle = !!app && app.getAttribute('data-test-script-state') === 'notRunning';
      if (c && Number(c.dataset.renders) > 0 && idle) { B.decode.at = performance.now(); B.decode.ms = Number(c.dataset.ms); return; }
      requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  }

  // The latent map: every animation frame from navigation start, is the WebGL scatter drawn with all its points
  // and the app idle? B.map.since = when that became (and stayed) true, on the navigation-start clock.
  if (/\/latent_map\/?$/.test(location.pathname)) {
    let canvas = null, lastLook = 0;
    const tick = (now) => {
      // The map's WebGL canvas lives in the component's shadow root: look for it every 50 ms until found.
      if (!canvas || !canvas.isConnected) {
        if (now - lastLook > 50) { lastLook = now; canvas = B.deep("canvas[data-role='latent-map']"); }
      }
      const n = canvas ? Number(canvas.dataset.points || 0) : 0;
      const app = document.querySelector('[data-testid="stApp"]');
      const idle = !!app && app.getAttribute('data-test-script-state') === 'notRunning' && !document.querySelector('[data-testid="stStatusWidget"]');
      const drawn = !!canvas && canvas.width > 0 && n >= B.map.expected && Number(canvas.dataset.draws || 0) > 0;
      const ok = drawn && idle;
      B.map.points = n;
      const state = app && app.getAttribute('data-test-script-state');
      if (state === 'running') { B.map.ran = true; if (B.map.runStart === null) B.map.runStart = performance.now(); }
      if (B.map.ran && state === 'notRunning' && B.map.runEnd === null) B.map.runEnd = performance.now();
      if (canvas && B.map.chart === null) B.map.chart = performance.now();  // milestones: the map element, the points drawn
      if (drawn && B.map.drawn === null) B.map.drawn = performance.now();
      if (ok && B.map.since === null) B.map.since = performance.now();
      if (!ok) B.map.since = null;
      requestAnimationFrame(tick);
    };
    B.map.expected = %d;
    requestAnimationFrame(tick);
  }
})();
""" % MAP_POINTS

IDLE_JS = ("() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
           " return !!a && a.getAttribute('data-test-script-state') === 'notRunning'; }")
ERRORS_JS = """() => {
  const n = s => document.querySelectorAll(s).length;
  const main = document.querySelector('[data-testid="stMain"]');
  return {exception: n('[data-testid="stException"]'), error_box: n('[data-testid="stAlertContentError"]'),
          traceback: main && main.innerText.includes('Traceback') ? 1 : 0};
}"""
IMAGES = '[data-testid="stMain"] [data-testid="stImage"]'
WALK_CANVAS = "canvas[data-role='latent-walk']"
DRAW_CANVAS = "canvas[data-role='drawing-canvas']"
RECON_CAPTION = r"^\S.* · \d+\.\d+$"  # "Conv · 0.0015": the Draw page's reconstructions (not the steps or "your input")


# ------------------------------------------------------------------------------------------------ helpers


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "median": None, "p95": None, "max": None, "min": None}
    return {"n": len(values), "median": statistics.median(values), "p95": float(np.percentile(values, 95)),
            "max": max(values), "min": min(values)}


def verdict(ok: bool) -> str:
    return passfail(ok, fail="MISS")


def wait_idle(page, settle_ms: int = 150, timeout_ms: int = TIMEOUT_MS) -> None:
    """Let a just-triggered rerun start, then wait until the script run is over."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)


def open_app_page(ctx, url: str, ready, timeout_ms: int = 300_000):
    """A new tab on ``url``, rendered: ``ready(page)`` waited for, then the script run over."""
    page = ctx.new_page()
    page.set_default_timeout(timeout_ms)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)[:200]))
    page.errors = errors
    page.goto(url, wait_until="commit")
    page.wait_for_selector('[data-testid="stSidebar"]')
    for _ in range(3):  # a modal (e.g. "Page not found") would make the page inert
        if page.locator('[data-testid="stDialog"]').count() == 0:
            break
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
    ready(page)
    wait_idle(page, settle_ms=300, timeout_ms=timeout_ms)
    page.set_default_timeout(TIMEOUT_MS)
    return page


def page_errors(page) -> dict:
    found = {k: v for k, v in page.evaluate(ERRORS_JS).items() if v}
    if page.errors:
        found["page_errors"] = list(page.errors)
    return found


def screenshot(page, name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"bench_browser_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return str(path.relative_to(ROOT))


def timed(page, spec: dict, act, event: str) -> dict | None:
    """Arm the image watcher, ``act()``, wait for the new images: ms from the input ``event`` to their frame."""
    page.evaluate("spec => window.__bench.arm(spec)", spec)
    act()
    try:
        page.wait_for_function("() => window.__bench.result !== null", timeout=TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: counted as a timeout by the caller
        return None
    wait_idle(page)
    b = page.evaluate("() => { const B = window.__bench; return {result: B.result, input: B.input, run_start: B.runStart, run_end: B.runEnd}; }")
    t_in = b["input"].get(event)
    if t_in is None:
        return {"error": f"no {event} event seen"}
    r = b["result"]
    after = lambda t: t - t_in if t is not None and t > t_in else None
    return {"ms": r["frame"] - t_in, "loaded_ms": r["loaded"] - t_in, "images": r["n"], "runtime_ms": r.get("runtime"),
            "run_start_ms": after(b["run_start"]), "run_end_ms": after(b["run_end"])}


def timed_series(page, spec: dict, n: int, warmup: int, before, act, event: str) -> tuple[list[dict], int]:
    """``warmup + n`` timed interactions (``before(i)`` prepares the i-th, ``act(i)`` makes it): the timed results
    after the warm-up and how many of them timed out."""
    out, timeouts = [], 0
    for i in range(warmup + n):
        before(i)
        r = timed(page, spec, lambda i=i: act(i), event)
        if i >= warmup:
            if r is None or "ms" not in r:
                timeouts += 1
            else:
                out.append(r)
        wait_idle(page)
    return out, timeouts


def _runs(rows: list[dict]) -> list[float]:
    """Input to the end of the script run it triggered (the server's part plus the round trip), where seen."""
    return [r["run_end_ms"] for r in rows if r.get("run_end_ms") is not None]


# ---------------------------------------------------------------------------------------------- scenarios


VAE_CANVAS = "canvas[data-role='decoded-digit']"


def vae_slider(ctx, url: str, presses: int, warmup: int, in_browser: bool = True) -> dict:
    """Key presses on the principal-direction sliders to the new decoded digit on screen. ``in_browser``: the
    app's default (decoded in the page, a canvas); otherwise with "Decode in your browser" switched off
    (decoded by the server, an image)."""
    page = open_app_page(ctx, f"{url}/vae", lambda p: p.get_by_text("PC 1").first.wait_for())
    if in_browser:
        page.wait_for_function(f"() => {{ const c = window.__bench.deep({VAE_CANVAS!r}); return c && Number(c.dataset.renders) > 0; }}",
                               timeout=TIMEOUT_MS)
        sliders = page.locator("input[type=range]")  # Playwright's CSS reaches into the component's shadow root
        spec = {"canvas": VAE_CANVAS}
    else:
        page.get_by_text("Decode in your browser").click()
        page.locator(IMAGES).first.wait_for()
        wait_idle(page)
        sliders = page.locator('[data-testid="stMain"] [data-testid="stSlider"]').filter(has_text=re.compile(r"^PC \d")).get_by_role("slider")
        spec = {"selector": IMAGES, "min": 1}
    n_sliders = sliders.count()

    def focus(i: int) -> None:
        sliders.nth((i // 10) % n_sliders).focus()  # 10 steps on PC 1, then PC 2, ...; the next pass goes back left

    def press(i: int) -> None:
        page.keyboard.press("ArrowRight" if (i // (10 * n_sliders)) % 2 == 0 else "ArrowLeft")

    out, timeouts = timed_series(page, spec, presses, warmup, focus, press, "keydown")
    shot = screenshot(page, "vae" if in_browser else "vae_server")
    caption = page.locator('[data-testid="stMain"]').get_by_text(re.compile(r"code norm")).first.inner_text()
    res = {"sliders": n_sliders, "ms": [r["ms"] for r in out], "loaded_ms": [r["loaded_ms"] for r in out], "run_end_ms": _runs(out),
           "runtime_ms": [r["runtime_ms"] for r in out if r.get("runtime_ms") is not None],
           "timeouts": timeouts, "caption": caption, "errors": page_errors(page), "screenshot": shot}
    page.close()
    return res


def _stroke(page, rng: random.Random) -> None:
    """One mouse stroke through 2-4 random points in the middle of the canvas."""
    box = page.locator(DRAW_CANVAS).first.bounding_box()
    pts = [(rng.uniform(0.2, 0.8), rng.uniform(0.15, 0.85)) for _ in range(rng.randint(2, 4))]
    xy = lambda p: (box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"])
    page.mouse.move(*xy(pts[0]))
    page.mouse.down()
    for a, b in zip(pts[:-1], pts[1:], strict=False):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(*xy((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))))
    page.mouse.up()


def draw(ctx, url: str, strokes: int, warmup: int) -> dict:
    page = open_app_page(ctx, f"{url}/draw", lambda p: p.locator(DRAW_CANVAS).first.wait_for())
    rng = random.Random(0)
    # Warm-up: the first stroke also tells how many reconstructions the page shows (one per installed autoencoder).
    page.evaluate("spec => window.__bench.arm(spec)", {"selector": IMAGES, "caption": RECON_CAPTION, "min": 1})
    _stroke(page, rng)
    page.wait_for_function("() => window.__bench.result !== null", timeout=300_000)
    wait_idle(page, settle_ms=500)
    n_recon = page.evaluate("spec => window.__bench.arm(spec)", {"selector": IMAGES, "caption": RECON_CAPTION})
    spec = {"selector": IMAGES, "caption": RECON_CAPTION, "min": n_recon}
    rows, timeouts = [], 0
    for i in range(warmup + strokes):
        fresh = i % 3 == 0
        if fresh:  # a new group: Clear (a new canvas key), then the first stroke makes the reconstructions appear
            page.get_by_role("button", name="Clear").first.click()
            wait_idle(page)
            page.locator(DRAW_CANVAS).first.wait_for()
            page.wait_for_timeout(200)
        r = timed(page, spec, lambda: _stroke(page, rng), "pointerup")
        if i >= warmup:
            if r is None or "ms" not in r:
                timeouts += 1
            else:
                rows.append({**r, "kind": "appear" if fresh else "change"})
        wait_idle(page)
    shot = screenshot(page, "draw")
    res = {"reconstructions": n_recon, "ms": [r["ms"] for r in rows], "loaded_ms": [r["loaded_ms"] for r in rows], "run_end_ms": _runs(rows),
           "appear_ms": [r["ms"] for r in rows if r["kind"] == "appear"], "change_ms": [r["ms"] for r in rows if r["kind"] == "change"],
           "timeouts": timeouts, "errors": page_errors(page), "screenshot": shot}
    page.close()
    return res


GRID_CANVAS = "canvas[data-role='generated-digits']"


def gan(ctx, url: str, changes: int, warmup: int, walk_s: float, model: str = "") -> dict:
    """New seeds typed into the grid's own Seed box (the page decodes), then the latent walk's Play, for the studio's
    default generator (``model`` "") or the one named."""
    q = f"?model={model}" if model else ""
    page = open_app_page(ctx, f"{url}/gan{q}", lambda p: p.get_by_label("Seed", exact=True).wait_for())
    page.wait_for_function(f"() => {{ const c = window.__bench.deep({GRID_CANVAS!r}); return c && Number(c.dataset.renders) > 0; }}",
                           timeout=TIMEOUT_MS)
    seed_box = page.get_by_label("Seed", exact=True)
    spec = {"canvas": GRID_CANVAS}
    out, timeouts = timed_series(page, spec, changes, warmup, lambda i: seed_box.fill(str(i + 1)),  # a grid never shown before
                                 lambda i: seed_box.press("Enter"), "keydown")
    grid_caption = page.locator(".gg-cap").first.inner_text()
    shots = [screenshot(page, f"gan{'_' + model if model else ''}")]
    errors = page_errors(page)

    page.locator('[data-testid="stButtonGroup"] button', has_text="Latent walk").first.click()
    wait_idle(page)
    page.locator(WALK_CANVAS).first.wait_for()
    page.get_by_text("Play", exact=True).click()
    page.wait_for_function(f"() => {{ const c = window.__bench.deep({WALK_CANVAS!r}); return c && Number(c.dataset.shown) > 3; }}",
                           timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # let the animation reach its steady rate
    walk_canvas = page.locator(WALK_CANVAS)
    f0, t0 = int(walk_canvas.get_attribute("data-frame")), time.perf_counter()
    count = page.evaluate("([sel, ms]) => window.__bench.countCanvasFrames(sel, ms)", [WALK_CANVAS, int(walk_s * 1000)])
    f1, t1 = int(walk_canvas.get_attribute("data-frame")), time.perf_counter()
    stalls = int(walk_canvas.get_attribute("data-stalls") or 0)
    frame_ms = float(walk_canvas.get_attribute("data-ms") or "nan")  # the page's own time to make the last frame
    walk_caption = page.locator(".fp-cap").first.inner_text()  # the player's caption, under the mat around its canvas
    shots.append(screenshot(page, f"gan_walk{'_' + model if model else ''}"))
    page.get_by_text("Play", exact=True).click()  # stop the timer
    wait_idle(page)
    for k, v in page_errors(page).items():
        errors[k] = v
    page.close()
    gaps = np.diff(count["times"]) if len(count["times"]) > 1 else np.array([])
    return {"model": model or "default", "ms": [r["ms"] for r in out], "loaded_ms": [r["loaded_ms"] for r in out],
            "runtime_ms": [r["runtime_ms"] for r in out if r.get("runtime_ms") is not None],
            "run_end_ms": _runs(out), "timeouts": timeouts, "grid_caption": grid_caption,
            "walk": {"seconds": count["seconds"], "frames_shown": count["shown"], "src_changes": count["changes"],
                     "fps_shown": count["shown"] / count["seconds"], "fps_src_changes": count["changes"] / count["seconds"],
                     "browser_frames_per_s": count["ticks"] / count["seconds"],  # animation frames the browser ran at all
                     "walk_frames": f1 - f0, "walk_fps": (f1 - f0) / (t1 - t0), "stalls": stalls, "caption": walk_caption,
                     "frame_ms": frame_ms,
                     "frame_gap_ms_median": float(np.median(gaps)) if gaps.size else None,
                     "frame_gap_ms_max": float(gaps.max()) if gaps.size else None},
            "errors": errors, "screenshot": shots}


def runtime_tab(ctx, url: str, path: str, loads: int) -> dict:
    """Fresh loads of a page that runs a network in the page, each in a new tab (after one warm-up): seconds from
    navigation start to its first decode on the canvas with the script idle, and the decode's own time."""
    def once() -> dict:
        page = ctx.new_page()
        page.set_default_timeout(300_000)
        page.goto(f"{url}/{path}", wait_until="commit")
        page.wait_for_function("() => window.__bench && window.__bench.decode && window.__bench.decode.at !== null", polling=50)
        d = page.evaluate("() => window.__bench.decode")
        page.close()
        return {"s": d["at"] / 1000, "decode_ms": d.get("ms")}

    once()  # warm-up: the browser's HTTP cache holds the runtime afterwards, as for a returning student
    return {"path": path, "loads": [once() for _ in range(loads)]}


def map_load(ctx, url: str, shot: str | None = None) -> dict:
    """One fresh load of the latent map in a new tab: seconds from navigation start to interactive."""
    page = ctx.new_page()
    page.set_default_timeout(300_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)[:200]))
    page.errors = errors
    page.goto(f"{url}/latent_map", wait_until="commit")
    # Interactive for 1 s in a row (a rerun starting would reset it), then read when it began.
    page.wait_for_function("() => { const m = window.__bench && window.__bench.map;"
                           " return m && m.since !== null && performance.now() - m.since > 1000; }", polling=100)
    m = page.evaluate("() => window.__bench.map")
    nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return n ? {response_end: n.responseEnd, dom_content_loaded: n.domContentLoadedEventEnd} : {}; }")
    sec = lambda v: v / 1000 if v is not None else None
    res = {"s": m["since"] / 1000, "points": m["points"],
           "dom_content_loaded_s": sec(nav.get("dom_content_loaded")), "first_run_start_s": sec(m["runStart"]), "first_run_over_s": sec(m["runEnd"]),
           "chart_element_s": sec(m["chart"]), "scatter_drawn_s": sec(m["drawn"]),
           "dialog": page.locator('[data-testid="stDialog"]').count(), "errors": page_errors(page)}
    if shot:
        res["screenshot"] = screenshot(page, shot)
    page.close()
    return res


def latent_map(browser, ctx, url: str, loads: int, context_loads: int) -> dict:
    fresh_ctx = browser.new_context(viewport=VIEWPORT)
    fresh_ctx.add_init_script(HOOKS)
    cold = map_load(fresh_ctx, url, shot="latent_map")  # the first visit of this page since the server started
    fresh_ctx.close()
    map_load(ctx, url)  # warm-up load (not counted): the browser's HTTP cache of this context
    tabs = [map_load(ctx, url) for _ in range(loads)]
    contexts = []
    for _ in range(context_loads):
        c = browser.new_context(viewport=VIEWPORT)
        c.add_init_script(HOOKS)
        contexts.append(map_load(c, url))
        c.close()
    return {"cold": cold, "tabs": tabs, "contexts": contexts}


# ----------------------------------------------------------------------------------------------- report


def fmt(v, digits: int = 0) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def report(r: dict) -> tuple[str, list[str]]:
    vae, vae_srv, dr, g, gd, mp = r["vae"], r["vae_server"], r["draw"], r["gan"], r["gan_dcgan"], r["map"]
    sv, sd, sg, ss, sgd = stats(vae["ms"]), stats(dr["ms"]), stats(g["ms"]), stats(vae_srv["ms"]), stats(gd["ms"])
    tab_s, ctx_s = stats([x["s"] for x in mp["tabs"]]), stats([x["s"] for x in mp["contexts"]])
    walk, walk_d = g["walk"], gd["walk"]
    rt = {k: stats([x["s"] for x in r["runtime_tabs"][k]["loads"]]) for k in r["runtime_tabs"]}
    own = lambda v: fmt(statistics.median(v), 1) if v else "n/a"  # the runtime's own time, median

    def ok(v, bar, le=True):
        return v is not None and (v <= bar if le else v >= bar)

    checks = [
        ("VAE slider, key press to new image: median", f"{fmt(sv['median'], 1)} ms (runtime {own(vae['runtime_ms'])} ms)",
         f"≤ {BARS['vae_median']:.0f} ms", ok(sv["median"], BARS["vae_median"])),
        ("VAE slider, key press to new image: p95", f"{fmt(sv['p95'], 1)} ms", f"≤ {BARS['vae_p95']:.0f} ms", ok(sv["p95"], BARS["vae_p95"])),
        ("Draw, end of stroke to reconstructions shown: p95", f"{fmt(sd['p95'])} ms", f"≤ {BARS['draw_p95']:.0f} ms", ok(sd["p95"], BARS["draw_p95"])),
        ("GAN studio (MLP GAN, the default), new seed to new 64-sample grid: p95", f"{fmt(sg['p95'], 1)} ms (runtime {own(g['runtime_ms'])} ms)",
         f"≤ {BARS['gan_grid_p95']:.0f} ms", ok(sg["p95"], BARS["gan_grid_p95"])),
        ("GAN studio (DCGAN), new seed to new 64-sample grid: p95", f"{fmt(sgd['p95'], 1)} ms (runtime {own(gd['runtime_ms'])} ms)",
         f"≤ {BARS['gan_grid_p95']:.0f} ms", ok(sgd["p95"], BARS["gan_grid_p95"])),
        ("GAN latent walk (MLP GAN, 9 walkers), frames displayed per second", f"{walk['fps_shown']:.1f} /s (runtime {fmt(walk['frame_ms'], 1)} ms a frame)",
         f"≥ {BARS['gan_fps']:.0f} /s", ok(walk["fps_shown"], BARS["gan_fps"], le=False)),
        ("GAN latent walk (DCGAN, 9 walkers), frames displayed per second", f"{walk_d['fps_shown']:.1f} /s (runtime {fmt(walk_d['frame_ms'], 1)} ms a frame)",
         f"≥ {BARS['gan_fps']:.0f} /s", ok(walk_d["fps_shown"], BARS["gan_fps"], le=False)),
        *[(f"{r['runtime_tabs'][k]['path']} in a new tab, navigation to the first in-page decode: p95",
           f"{fmt(rt[k]['p95'], 2)} s (decode {own([x['decode_ms'] for x in r['runtime_tabs'][k]['loads'] if x['decode_ms']])} ms)",
           f"≤ {BARS['runtime_tab_s']:.0f} s", ok(rt[k]["p95"], BARS["runtime_tab_s"])) for k in r["runtime_tabs"]],
        ("Latent map (10,000 points), navigation to interactive, new tab: p95", f"{fmt(tab_s['p95'], 2)} s", f"≤ {BARS['map_s']:.0f} s", ok(tab_s["p95"], BARS["map_s"])),
    ]
    timeouts = vae["timeouts"] + vae_srv["timeouts"] + dr["timeouts"] + g["timeouts"] + gd["timeouts"]
    med = lambda v: statistics.median([x for x in v if x is not None]) if any(x is not None for x in v) else None
    run_med = med
    tab_med = lambda key: fmt(med([x[key] for x in mp["tabs"]]), 2)
    rows = [
        {"figure": "VAE slider: key press → new decoded digit (decoded in the page: the app's default)", **sv, "unit": "ms"},
        {"figure": "… with “Decode in your browser” off (decoded on the server)", **ss, "unit": "ms", "run over (median)": run_med(vae_srv["run_end_ms"])},
        {"figure": "Draw: mouse-up → reconstructions shown (all)", **sd, "unit": "ms", "run over (median)": run_med(dr["run_end_ms"])},
        {"figure": "… first stroke on a cleared canvas (appear)", **stats(dr["appear_ms"]), "unit": "ms"},
        {"figure": "… a further stroke (change)", **stats(dr["change_ms"]), "unit": "ms"},
        {"figure": "GAN studio (MLP GAN): Enter in the grid's Seed → new 64-sample grid (decoded in the page)", **sg, "unit": "ms"},
        {"figure": "… its runtime's own time (onnxruntime-web, 64 samples)", **stats(g["runtime_ms"]), "unit": "ms"},
        {"figure": "GAN studio (DCGAN): the same", **sgd, "unit": "ms"},
        {"figure": "… its runtime's own time (64 samples)", **stats(gd["runtime_ms"]), "unit": "ms"},
        {"figure": "VAE slider: the runtime's own time (decoder, one digit)", **stats(vae["runtime_ms"]), "unit": "ms"},
        *[{"figure": f"{r['runtime_tabs'][k]['path']}: new tab → first in-page decode", **rt[k], "unit": "s"} for k in r["runtime_tabs"]],
        {"figure": "Latent map: cold, first visit after server start", "n": 1, "median": mp["cold"]["s"], "unit": "s"},
        {"figure": "Latent map: fresh load, new tab", **tab_s, "unit": "s"},
        {"figure": "Latent map: fresh load, new browser context (empty cache)", **ctx_s, "unit": "s"},
    ]
    load_start, load_end = r["load_start"], os.getloadavg()
    busy = max(load_start[0], load_end[0]) > 2.5
    md = [header("Browser: interaction latency in headless Chromium"), ""]
    if busy:
        md += ["**WARNING: the load average was above 2.5 on 2 cores during this run (other jobs shared the CPU): "
               "these figures are distorted, not the app's.**", ""]
    md += [f"`streamlit run app.py` on 127.0.0.1 and headless Chromium ({VIEWPORT['width']}×{VIEWPORT['height']} viewport) on the same machine. "
           "Times are on the page's clock (`performance.now()`), from the input event (keydown, pointerup) to the animation frame "
           "after the new images loaded; the map from navigation start. See `bench/browser.py` for exactly what is measured.", "",
           table(rows, ["figure", "n", "median", "p95", "max", "unit", "run over (median)"]),
           "\"run over\": from the same input to the end of the script run it triggered (Streamlit's `data-test-script-state` back to "
           "`notRunning`): the server's share plus the round trip; images can show before the run ends.", "",
           *[f"GAN latent walk, {name} (Play, {w['seconds']:.1f} s window, frames made in the page): **{w['fps_shown']:.1f} frames/s displayed** "
             f"({w['frames_shown']} frames drawn on the player's canvas, {w['src_changes']} seen by a MutationObserver; "
             f"the walk advanced {w['walk_frames']} frames, {w['walk_fps']:.1f}/s; "
             f"the browser ran {w['browser_frames_per_s']:.0f} animation frames/s); gap between displayed frames median "
             f"{fmt(w['frame_gap_ms_median'])} ms, max {fmt(w['frame_gap_ms_max'])} ms. The page's caption: “{w['caption']}”." for name, w in
             (("MLP GAN", walk), ("DCGAN", walk_d))], "",
           "| bar | measured | target | result |", "|---|---|---|---|"]
    md += [f"| {name} | {val} | {bar} | **{verdict(good)}** |" for name, val, bar, good in checks]
    md += ["", f"Latent map cold first load (informational, same 2 s bar): {mp['cold']['s']:.2f} s "
           f"({verdict(ok(mp['cold']['s'], BARS['map_s']))}); new browser context p95 {fmt(ctx_s['p95'], 2)} s "
           f"({verdict(ok(ctx_s['p95'], BARS['map_s']))}). Points drawn: {mp['cold']['points']:,}.",
           f"Where a new-tab load of the map spends its time (medians from navigation start): DOMContentLoaded {tab_med('dom_content_loaded_s')} s, "
           f"the script run started {tab_med('first_run_start_s')} s and was over {tab_med('first_run_over_s')} s, "
           f"chart element in the page {tab_med('chart_element_s')} s, scatter drawn {tab_med('scatter_drawn_s')} s, interactive {fmt(tab_s['median'], 2)} s.",
           f"Reconstructions per stroke: {dr['reconstructions']}; VAE sliders: {vae['sliders']}; interactions timed out: {timeouts}.",
           f"Server: first script run (Home, cold imports) {r['home_s']:.1f} s after the server answered.", ""]
    errs = {k: r[k]["errors"] for k in ("vae", "vae_server", "draw", "gan", "gan_dcgan") if r[k]["errors"]}
    errs.update({f"map {k}": x["errors"] for k, x in [("cold", mp["cold"])] + [(f"tab {i}", x) for i, x in enumerate(mp["tabs"])] if x["errors"]})
    md.append(f"Errors on the pages: {errs if errs else 'none'}.")
    lines = [f"{verdict(good)}  {name}: {val} (bar {bar})" for name, val, bar, good in checks]
    if busy:
        lines.append(f"(load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end: figures distorted by other work)")
    return "\n".join(md) + "\n", lines


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: few repeats")
    p.add_argument("--presses", type=int, help="VAE slider key presses timed (default 30, quick 6)")
    p.add_argument("--strokes", type=int, help="strokes timed on the Draw page (default 15, quick 4)")
    p.add_argument("--seeds", type=int, help="GAN seed changes timed (default 20, quick 5)")
    p.add_argument("--walk-seconds", type=float, help="GAN latent-walk counting window (default 5, quick 3)")
    p.add_argument("--loads", type=int, help="latent-map loads in a new tab (default 8, quick 2)")
    p.add_argument("--context-loads", type=int, help="latent-map loads in a new browser context (default 3, quick 1)")
    p.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/browser.*")
    args = p.parse_args(argv)
    q = args.quick
    n = {"presses": args.presses or (6 if q else 30), "strokes": args.strokes or (4 if q else 15), "seeds": args.seeds or (5 if q else 20),
         "walk_s": args.walk_seconds or (3.0 if q else 5.0), "loads": args.loads or (2 if q else 8), "tab_loads": 2 if q else 5,
         "context_loads": args.context_loads if args.context_loads is not None else (1 if q else 3)}
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    r: dict = {"load_start": os.getloadavg(), "settings": n}
    port = free_port()
    url = base_url(port)
    print(f"starting the app on {url}", flush=True)
    try:
        proc = start_app(port, log_path=ARTIFACTS / "bench_browser_server.log")
    except RuntimeError as e:
        raise SystemExit(str(e)) from None
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            ctx = browser.new_context(viewport=VIEWPORT)
            ctx.add_init_script(HOOKS)
            t = time.perf_counter()
            home = open_app_page(ctx, url + "/", lambda pg: pg.get_by_text("The models").first.wait_for())
            r["home_s"] = time.perf_counter() - t
            home.close()
            print(f"home (first script run) {r['home_s']:.1f} s; latent map ...", flush=True)
            r["map"] = latent_map(browser, ctx, url, n["loads"], n["context_loads"])
            print(f"  cold {r['map']['cold']['s']:.2f} s, new tab {[round(x['s'], 2) for x in r['map']['tabs']]} s; VAE slider ...", flush=True)
            r["vae"] = vae_slider(ctx, url, n["presses"], warmup=3)
            print(f"  {[round(x) for x in r['vae']['ms']]} ms; VAE slider decoded on the server ...", flush=True)
            r["vae_server"] = vae_slider(ctx, url, n["presses"], warmup=3, in_browser=False)
            print(f"  {[round(x) for x in r['vae_server']['ms']]} ms; draw ...", flush=True)
            r["draw"] = draw(ctx, url, n["strokes"], warmup=2)
            print(f"  {[round(x) for x in r['draw']['ms']]} ms; GAN studio ...", flush=True)
            r["gan"] = gan(ctx, url, n["seeds"], warmup=2, walk_s=n["walk_s"])
            print(f"  {[round(x) for x in r['gan']['ms']]} ms; walk {r['gan']['walk']['fps_shown']:.1f} frames/s; DCGAN ...", flush=True)
            r["gan_dcgan"] = gan(ctx, url, n["seeds"], warmup=2, walk_s=n["walk_s"], model="dcgan")
            print(f"  {[round(x) for x in r['gan_dcgan']['ms']]} ms; walk {r['gan_dcgan']['walk']['fps_shown']:.1f} frames/s; new tabs ...", flush=True)
            r["runtime_tabs"] = {k: runtime_tab(ctx, url, k, n["tab_loads"]) for k in ("gan", "vae")}
            print(f"  {[[round(x['s'], 2) for x in v['loads']] for v in r['runtime_tabs'].values()]} s", flush=True)
            browser.close()
        r["server_alive"] = proc.poll() is None
    finally:
        stop_app(proc)
    md, lines = report(r)
    print("\n" + "\n".join(lines), flush=True)
    if not args.no_write:
        out = write_section("browser", md, r)
        print(f"wrote bench/results/browser.md and {out.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
