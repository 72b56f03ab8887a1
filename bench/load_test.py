"""A classroom on one server: N concurrent browser sessions drawing, uploading and moving sliders.

    python -m bench.load_test                          # 30 sessions x 60 s (run it when the CPU is otherwise idle)
    python -m bench.load_test --sessions 3 --seconds 10 --no-write   # a smoke test

Loopback only and bounded in time: starts ``streamlit run app.py`` headless on a free 127.0.0.1 port (its own
PID, stopped at the end), opens ``--sessions`` headless Chromium contexts (each a separate Streamlit session)
and runs them at once for ``--seconds``. Sessions take turns over four scenarios:

- draw:    the Draw & reconstruct canvas, a random stroke per interaction (Clear every few strokes);
- upload:  the same page's uploader, a random digit PNG per interaction and every fourth file corrupt;
- denoise: the Denoise page's noise-level slider, moved with the keyboard;
- vae:     the VAE explorer's first latent slider (or the Denoise slider while no VAE is installed).

Latency of an interaction = from the input event in the page (pointer up, key down, file chosen) to the end of
the script run it triggered (Streamlit's ``data-test-script-state`` back to ``notRunning``), both on the
page's clock. Errors = exception boxes, st.error boxes, "Traceback" text, a page error in the browser, or an
interaction with no rerun within ``--timeout`` seconds. Server memory: VmRSS of the server process, sampled
every 0.5 s, before sessions (models warm in ``st.cache_resource``), at the peak, and after they close.

Writes ``bench/RESULTS_load.md`` (and ``bench/results/load_test.{md,json}`` for ``bench/RESULTS.md``).
Note: the browsers share the machine with the server, so on a 2-core box the latencies include the
clients' own rendering; the figures are an upper bound for real, separate student devices.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
from bench import common  # noqa: E402
from bench.server import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app  # noqa: E402

SCENARIOS = ["draw", "upload", "denoise", "vae"]
RSS_BOUND_MB_PER_SESSION = 25.0  # the stated bound: what one more student may cost the server

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


# ------------------------------------------------------------------------------------------------ server


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------------------------- sessions


def digit_png(rng: random.Random, corrupt: bool = False) -> bytes:
    """A dark digit-like scribble on light paper, as a phone photo would be (and sometimes cut short)."""
    img = Image.new("L", (rng.randint(60, 240), rng.randint(60, 240)), rng.randint(190, 255))
    d = ImageDraw.Draw(img)
    w, h = img.size
    pts = [(rng.uniform(0.2, 0.8) * w, rng.uniform(0.15, 0.85) * h) for _ in range(rng.randint(2, 5))]
    d.line(pts, fill=rng.randint(0, 60), width=max(3, min(w, h) // 10))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = buf.getvalue()
    return data[: len(data) // 2] if corrupt else data


@dataclass
class Session:
    index: int
    scenario: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    interactions: int = 0
    note: str = ""

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


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
    path = {"draw": "draw", "upload": "draw", "denoise": "denoise", "vae": "vae"}[s.scenario]
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
        await page.locator("canvas.upper-canvas").first.wait_for(timeout=120_000)
    if s.scenario == "upload":
        n = await runs(page)
        await page.get_by_text("Upload", exact=True).first.click()
        await wait_run(page, n, 60)
        await page.locator('input[type="file"]').first.wait_for(state="attached", timeout=120_000)
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
        if s.interactions % 6 == 5:  # Clear now and then: a new canvas key, a rerun
            await page.get_by_role("button", name="Clear").first.click()
            await wait_run(page, n, timeout_s)
            n = await runs(page)
        box = await page.locator("canvas.upper-canvas").first.bounding_box()
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


async def run_session(browser, base: str, s: Session, start_at: float, seconds: float, timeout_s: float) -> Session:
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
            await asyncio.sleep(rng.uniform(0.2, 0.8))  # a person's pause between moves
    except Exception as e:  # noqa: BLE001 - a session that breaks is an error, the others go on
        s.error("session failed")
        s.note = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
    finally:
        await ctx.close()
    return s


async def run(args) -> dict:
    from playwright.async_api import async_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(args.server_log)
    try:
        proc = start_app(port, log_path=log_path, timeout_s=90)
    except RuntimeError as e:
        raise SystemExit(str(e)) from None
    samples: list[tuple[float, float]] = []
    try:
        rss_start = rss_mb(proc.pid)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            # Warm-up: one session visits every scenario once, so the models are in st.cache_resource.
            t = time.monotonic()
            warm = [await run_session(browser, base, Session(-1, scen), 0, 1.0, args.timeout) for scen in args.scenarios]
            warm_s = time.monotonic() - t
            warm_notes = [f"warm-up {w.scenario}: {w.note or 'ok'} {w.errors or ''}".strip() for w in warm]
            await asyncio.sleep(2)
            rss_warm = rss_mb(proc.pid)

            stop_sampling = asyncio.Event()

            async def sample():
                t0 = time.monotonic()
                while not stop_sampling.is_set():
                    samples.append((time.monotonic() - t0, rss_mb(proc.pid)))
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample())
            now = time.monotonic()
            ramp = min(10.0, 0.3 * args.sessions)  # students arrive over a few seconds, not in one instant
            sessions = [Session(i, args.scenarios[i % len(args.scenarios)]) for i in range(args.sessions)]
            done = await asyncio.gather(*[
                run_session(browser, base, s, now + ramp * i / max(1, args.sessions), args.seconds, args.timeout)
                for i, s in enumerate(sessions)])
            rss_loaded = rss_mb(proc.pid)
            await asyncio.sleep(args.settle)
            stop_sampling.set()
            await sampler
            rss_after = rss_mb(proc.pid)
            await browser.close()
        server_alive = proc.poll() is None
    finally:
        stop_app(proc)

    lat = [v for s in done for v in s.latencies_ms]
    by_scenario = {}
    for scen in SCENARIOS:
        v = [x for s in done if s.scenario == scen for x in s.latencies_ms]
        if v:
            by_scenario[scen] = {"sessions": sum(s.scenario == scen for s in done), "interactions": len(v),
                                 "p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "max_ms": max(v)}
    errors: dict[str, int] = {}
    for s in done:
        for k, c in s.errors.items():
            errors[k] = errors.get(k, 0) + c
    rss_peak = max([r for _, r in samples] + [rss_loaded])
    return {
        "sessions": args.sessions, "seconds": args.seconds, "warmup_s": round(warm_s, 1),
        "interactions": sum(s.interactions for s in done), "errors": errors, "error_total": sum(errors.values()),
        "latency_ms": {"p50": pct(lat, 50), "p95": pct(lat, 95), "max": max(lat) if lat else None, "n": len(lat)},
        "by_scenario": by_scenario,
        "rss_mb": {"start": rss_start, "warm": rss_warm, "peak": rss_peak, "end_of_sessions": rss_loaded, "after_close": rss_after},
        "rss_growth_per_session_mb": (rss_peak - rss_warm) / max(1, args.sessions),
        "server_alive": server_alive,
        "notes": sorted({s.note for s in done if s.note}),
        "warmup": warm_notes,
        "rss_samples": samples[:: max(1, len(samples) // 60)],
    }


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values), q))


def report(r: dict) -> str:
    per = r["rss_growth_per_session_mb"]
    ok = r["error_total"] == 0 and r["server_alive"] and per <= RSS_BOUND_MB_PER_SESSION
    lines = [common.header("Load test: a classroom on one server"), "",
             f"- {r['sessions']} concurrent headless Chromium sessions for {r['seconds']} s each, on loopback "
             f"(server and browsers on the same machine); warm-up {r['warmup_s']} s first.",
             f"- Result: **{common.passfail(ok)}** ({r['interactions']} interactions, {r['error_total']} errors"
             + (f": {r['errors']}" if r["errors"] else "") + f"; server {'alive' if r['server_alive'] else 'DEAD'} at the end).",
             f"- Interaction latency (input event to end of the rerun, in the page): p50 {fmt(r['latency_ms']['p50'])} ms, "
             f"**p95 {fmt(r['latency_ms']['p95'])} ms**, max {fmt(r['latency_ms']['max'])} ms over {r['latency_ms']['n']} interactions.",
             f"- Server memory (VmRSS): {r['rss_mb']['start']:.0f} MB at start, {r['rss_mb']['warm']:.0f} MB with the models loaded, "
             f"peak {r['rss_mb']['peak']:.0f} MB under load, {r['rss_mb']['after_close']:.0f} MB after the sessions closed: "
             f"**{per:.1f} MB per session** (bound: {RSS_BOUND_MB_PER_SESSION:.0f} MB per session).", ""]
    rows = [{"scenario": k, **v} for k, v in r["by_scenario"].items()]
    lines.append(common.table(rows, ["scenario", "sessions", "interactions", "p50_ms", "p95_ms", "max_ms"]))
    if r["notes"]:
        lines += ["Notes: " + "; ".join(r["notes"]), ""]
    lines += ["Warm-up: " + "; ".join(r["warmup"]), ""]
    return "\n".join(lines)


def fmt(v) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--seconds", type=float, default=60.0, help="how long each session interacts")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds an interaction may wait for its rerun")
    p.add_argument("--settle", type=float, default=10.0, help="seconds after the sessions close before the last RSS reading")
    p.add_argument("--scenarios", type=lambda v: v.split(","), default=SCENARIOS, help=f"comma-separated subset of {','.join(SCENARIOS)}")
    p.add_argument("--server-log", default=str(ROOT / "artifacts" / "load_test_server.log"))
    p.add_argument("--no-write", action="store_true", help="print only; do not write bench/RESULTS_load.md")
    args = p.parse_args(argv)
    if not args.scenarios or set(args.scenarios) - set(SCENARIOS):
        raise SystemExit(f"--scenarios must be a subset of {','.join(SCENARIOS)}, got {args.scenarios}")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found (apt-get install chromium)")
    Path(args.server_log).parent.mkdir(parents=True, exist_ok=True)
    r = asyncio.run(run(args))
    md = report(r)
    print(md)
    print(json.dumps({k: v for k, v in r.items() if k != "rss_samples"}, indent=1))
    if not args.no_write:
        (BENCH / "RESULTS_load.md").write_text(md)
        common.RESULTS_DIR.mkdir(exist_ok=True)
        (common.RESULTS_DIR / "load_test.md").write_text(md)
        (common.RESULTS_DIR / "load_test.json").write_text(json.dumps(r, indent=1, default=str) + "\n")
    if r["error_total"] or not r["server_alive"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
