"""A classroom on one server: concurrent Streamlit sessions drawing, uploading and moving sliders, timed, with
the server's memory sampled (``python -m bench.load_test`` runs and reports it; tests/test_load_protocol.py runs a
short one). Two kinds of client: ``protocol`` sessions over :mod:`harness.protocol`, ``browser`` sessions in
headless Chromium (Playwright). bench/load_test.py's docstring says what each scenario does and what counts as
an error.

One module of about 540 lines: the scenarios, both kinds of session and the run that drives them share the
``Session`` record and the judging of a run; split, each part would import the others.
"""
from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from harness.protocol import WIDGET_KEY, ProtocolError, Run, StreamlitClient
from harness.server import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, start_app, stop_app

SCENARIOS = ["draw", "upload", "denoise", "vae"]
CLIENTS = ["protocol", "browser"]
THINK_S = {"protocol": (0.5, 2.0), "browser": (0.2, 0.8)}  # a person's pause between moves (browser: as first measured)


@dataclass
class LoadOptions:
    """One load run: ``sessions`` at once for ``seconds`` each, taking turns over ``scenarios``; an interaction
    may wait ``timeout`` s for its rerun; ``think`` (MIN, MAX) s between interactions (default :data:`THINK_S`);
    the last memory reading ``settle`` s after the sessions close."""

    clients: str = "protocol"
    sessions: int = 30
    seconds: float = 60.0
    timeout: float = 30.0
    settle: float = 10.0
    think: list[float] | None = None
    scenarios: list[str] = field(default_factory=lambda: list(SCENARIOS))
    server_log: str = str(ROOT / "artifacts" / "load_test_server.log")
    replicas: int = 0  # > 0: that many servers behind nginx (harness/proxy.py), the sessions through the proxy


def rss_mb(*pids: int) -> float:
    """The VmRSS of these processes together, MB (a replica that has exited counts as nan)."""
    total = 0.0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            return float("nan")
        total += next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:")), float("nan"))
    return total


# ------------------------------------------------------------------------------------- shared by both kinds


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
    prep_ms: list[float] = field(default_factory=list)  # protocol uploads: URL request + PUT, before the rerun
    media_ms: list[float] = field(default_factory=list)  # protocol: fetching a run's images after it finished
    details: list[str] = field(default_factory=list)  # what the first few errors said
    warnings: set[str] = field(default_factory=set)  # st.warning texts seen (not errors; reported)

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if detail and len(self.details) < 3:
            self.details.append(f"{kind}: {detail[:160]}")


# --------------------------------------------------------------------------------------- browser clients

DRAW_CANVAS = "canvas[aria-label='drawing canvas']"  # ui/js/digit_canvas.js
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


class Drawing:
    """What the Draw page's canvas (ui/js/digit_canvas.js) sends when a stroke ends: ``{"drawing": {"data": URL}}``,
    the PNG data URL of the whole canvas (white round strokes on black), or ``{"data": null}`` once cleared."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.clear()

    def clear(self) -> str:
        self.img = None
        return json.dumps({"drawing": {"data": None}})

    def stroke(self, size: int, brush: int) -> str:
        """Add a stroke as a hand would draw it on a ``size``-pixel canvas; returns the canvas's new state (JSON)."""
        rng = self.rng
        if self.img is None or self.img.size != (size, size):
            self.img = Image.new("RGBA", (size, size), (0, 0, 0, 255))
        pts = [(rng.uniform(0.25, 0.75) * size, rng.uniform(0.15, 0.85) * size) for _ in range(rng.randint(2, 4))]
        d = ImageDraw.Draw(self.img)
        d.line(pts, fill=(255, 255, 255, 255), width=brush, joint="curve")
        for x, y in (pts[0], pts[-1]):  # round caps
            d.ellipse((x - brush / 2, y - brush / 2, x + brush / 2, y + brush / 2), fill=(255, 255, 255, 255))
        buf = io.BytesIO()
        self.img.save(buf, "PNG")
        return json.dumps({"drawing": {"data": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")}})


def first_sentence(text: str, most: int = 120) -> str:
    head = text.split(". ")[0].rstrip(".")
    return head if len(head) <= most else head[: most - 1] + "…"


class ProtocolSession:
    """One student on one scenario, over the protocol: open the page, then interact at a human pace."""

    def __init__(self, port: int, s: Session, rng: random.Random, timeout_s: float):
        self.s, self.rng = s, rng
        self.page = {"draw": "draw", "upload": "draw", "denoise": "denoise", "vae": "vae"}[s.scenario]
        self.c = StreamlitClient(port, self.page, timeout_s)
        self.drawing = Drawing(rng)
        self.slider_key = ""
        self.file = None  # the UploadedFileInfo the uploader holds

    def judge(self, run: Run, expect: str = "", corrupt: bool = False) -> None:
        """Count what went wrong in ``run``; ``expect`` is what the interaction must show ("metric" or "image")."""
        from streamlit.proto.Alert_pb2 import Alert

        for kind, detail in run.problems:
            self.s.error(kind, detail)
        errors = [body for fmt_, body in run.alerts if fmt_ == Alert.ERROR]
        if corrupt:  # the page must say the file is bad (ui.digit_input shows ImageError as a warning)
            said = [body for fmt_, body in run.alerts if fmt_ in (Alert.ERROR, Alert.WARNING)
                    and any(w in body.lower() for w in ("image", "file"))]
            if not said:
                self.s.error("corrupt file not reported", "; ".join(b for _, b in run.alerts) or "no message")
            errors = [b for b in errors if b not in said]
        for body in errors:
            self.s.error("error box", body)
        if not corrupt:
            self.s.warnings.update(first_sentence(body) for fmt_, body in run.alerts if fmt_ == Alert.WARNING)
        if expect == "metric" and not run.metrics:
            self.s.error("no result", "no prediction shown; alerts: " + "; ".join(b for _, b in run.alerts))
        if expect == "image" and not run.images:
            self.s.error("no result", "no image shown")

    async def setup_run(self, **state) -> Run:
        """A rerun on the way to the scenario (the first visit, a section picked): checked, not timed."""
        run = await self.c.rerun(**state)
        self.judge(run)
        return run

    async def choose(self, kind: str, key: str, **value) -> bool:
        """Set one widget found by its key (e.g. a segmented control) and rerun; False if the page has no such widget."""
        found = self.c.find(kind, key)
        if found is None:
            return False
        self.c.set_state(found[0], **value)
        await self.setup_run(fragment_id=found[1].fragment_id)
        return True

    async def open(self) -> None:
        from streamlit.proto.Common_pb2 import StringArray

        await self.c.connect()
        await self.setup_run()
        scen = self.s.scenario
        if scen in ("draw", "upload") and self.c.find("bidi_component", "draw_canvas") is None:
            raise ProtocolError("the Draw page has no canvas")
        if scen == "upload":
            await self.choose("button_group", "draw_src", string_array_value=StringArray(data=["Upload"]))
            if self.c.find("file_uploader", "draw_upload") is None:
                raise ProtocolError("the Draw page has no uploader after choosing Upload")
        elif scen == "denoise":
            self.slider_key = "denoise_level_"
        elif scen == "vae":
            # The Conditional VAE's style sliders rerun their fragment on the server. Failing that, a Sliders-section
            # slider with in-browser decoding off (the page's toggle, where it has one).
            if await self.choose("button_group", "vae_section", string_array_value=StringArray(data=["Conditional VAE"])) \
                    and self.c.find("slider", "vae_cvae_style_"):
                self.slider_key = "vae_cvae_style_"
            else:
                await self.choose("button_group", "vae_section", string_array_value=StringArray(data=["Sliders"]))
                await self.choose("checkbox", "vae_in_browser", bool_value=False)
                found = next((wid for wid, w in self.c.widgets.items() if w.kind == "slider" and w.fragment_id), None)
                if found is None:  # no VAE installed: as the browser mode does, use the Denoise slider
                    await self.c.close()
                    self.s.scenario, self.s.note = "denoise", "vae page had no server-side slider (model not installed?); used denoise"
                    self.page, self.c = "denoise", StreamlitClient(self.c.port, "denoise", self.c.timeout_s)
                    await self.open()
                    return
                self.slider_key = WIDGET_KEY.match(found).group(1)
        if self.slider_key and self.c.find("slider", self.slider_key) is None:
            raise ProtocolError(f"no slider with a key starting {self.slider_key!r} on /{self.page}")

    async def interact(self) -> None:
        from streamlit.proto.Common_pb2 import DoubleArray, FileUploaderState

        s, c, fragment = self.s, self.c, ""
        expect, corrupt = "image", False
        if s.scenario == "draw":
            wid, w = c.find("bidi_component", "draw_canvas")
            if s.interactions % 6 == 5:  # Clear now and then (the canvas's own button): a rerun, checked, not timed
                c.set_state(wid, json_value=self.drawing.clear())
                try:
                    self.judge(await c.rerun())
                except TimeoutError:
                    s.error("no response", f"Clear: no script_finished within {c.timeout_s:.0f} s")
            data = json.loads(w.proto.json or "{}")  # the component's data: {"size": px, "brush": px}
            c.set_state(wid, json_value=self.drawing.stroke(int(data.get("size", 280)), int(data.get("brush", 22))))
            expect = "metric"
        elif s.scenario == "upload":
            corrupt = s.interactions % 4 == 3
            t = time.perf_counter()
            if self.file is not None:  # picking another file replaces (and deletes) the one held
                await c.delete_upload(self.file)
            self.file = await c.upload(f"digit{s.interactions}.png", digit_png(self.rng, corrupt))
            s.prep_ms.append((time.perf_counter() - t) * 1e3)
            wid, _ = c.find("file_uploader", "draw_upload")
            c.set_state(wid, file_uploader_state_value=FileUploaderState(uploaded_file_info=[self.file]))
            expect = "" if corrupt else "metric"
        else:  # a slider dragged a few steps (and back from the ends)
            wid, w = c.find("slider", self.slider_key)
            sl, fragment = w.proto, w.fragment_id
            held = c.states.get(wid)
            now = held.double_array_value.data[0] if held is not None else (list(sl.value) if sl.set_value else list(sl.default))[0]
            moved = now + self.rng.choice([-1, 1]) * self.rng.randint(1, 5) * sl.step
            if not sl.min <= moved <= sl.max:
                moved = now - (moved - now)
            c.set_state(wid, double_array_value=DoubleArray(data=[round(min(sl.max, max(sl.min, moved)), 10)]))
        s.interactions += 1
        try:
            run = await c.rerun(fragment_id=fragment)
        except TimeoutError:
            s.error("no response", f"no script_finished within {c.timeout_s:.0f} s")
            return
        s.latencies_ms.append(run.ms)
        self.judge(run, expect, corrupt)
        t = time.perf_counter()
        fetched, failures = await c.fetch_media(run.images)
        for failure in failures:
            s.error("media fetch failed", failure)
        if fetched:
            s.media_ms.append((time.perf_counter() - t) * 1e3)


async def run_protocol_session(port: int, s: Session, start_at: float, seconds: float, timeout_s: float,
                               think: tuple[float, float]) -> Session:
    """Open the scenario's page (at ``start_at``), then interact for ``seconds`` once it is ready."""
    rng = random.Random(s.index)
    ps = ProtocolSession(port, s, rng, timeout_s)
    try:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        await ps.open()
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            await ps.interact()
            await asyncio.sleep(rng.uniform(*think))
    except ProtocolError as e:
        s.error("closed connection" if "closed" in str(e) else "session failed", str(e))
        s.note = f"{s.scenario}: {e}"
    except Exception as e:  # noqa: BLE001 - a session that breaks is an error, the others go on
        s.error("session failed", f"{type(e).__name__}: {e}")
        s.note = f"{s.scenario}: {type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
    finally:
        try:
            await ps.c.close()
        except Exception:  # noqa: BLE001 - closing a broken socket
            pass
    return s


async def visit_home(port: int, timeout_s: float) -> None:
    """One run of "/" first. Streamlit quirk (see tests/browser_support.py): with a pages/ folder beside app.py, the
    very first script run after the server starts uses the legacy pages mode, where a deep link gives "Page not
    found"; a run of the home page switches the server to st.navigation for good."""
    c = StreamlitClient(port, "", timeout_s)
    try:
        await c.connect()
        await c.rerun()
    finally:
        await c.close()


# ------------------------------------------------------------------------------------------------ the run


async def drive(args: LoadOptions, pids: list[int], session_fn) -> dict:
    """Warm up (one session per scenario, in turn), then all sessions at once while sampling the server's RSS.

    ``session_fn(session, start_at, seconds)`` runs one session of the chosen client kind."""
    t = time.monotonic()
    warm = [await session_fn(Session(-1, scen), 0, 1.0) for scen in args.scenarios]
    warm_s = time.monotonic() - t
    warm_notes = [f"warm-up {w.scenario}: " + ("; ".join(x for x in (w.note, str(w.errors) if w.errors else "") if x) or "ok")
                  for w in warm]
    await asyncio.sleep(2)
    rss_warm = rss_mb(*pids)
    samples: list[tuple[float, float]] = []
    stop_sampling = asyncio.Event()

    async def sample():
        t0 = time.monotonic()
        while not stop_sampling.is_set():
            samples.append((time.monotonic() - t0, rss_mb(*pids)))
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    now = time.monotonic()
    ramp = min(10.0, 0.3 * args.sessions)  # students arrive over a few seconds, not in one instant
    sessions = [Session(i, args.scenarios[i % len(args.scenarios)]) for i in range(args.sessions)]
    done = await asyncio.gather(*[session_fn(s, now + ramp * i / max(1, args.sessions), args.seconds) for i, s in enumerate(sessions)])
    rss_loaded = rss_mb(*pids)
    await asyncio.sleep(args.settle)
    stop_sampling.set()
    await sampler
    return {"done": done, "warm_s": warm_s, "warm_notes": warm_notes, "warm_errors": sum(sum(w.errors.values()) for w in warm),
            "rss_warm": rss_warm, "rss_loaded": rss_loaded,
            "rss_after": rss_mb(*pids), "samples": samples}


async def run(args: LoadOptions) -> dict:
    """One load run: a server of its own (``args.replicas`` 0), or that many replicas behind nginx
    (``harness.proxy.Cluster``), the sessions going through the proxy. Memory is the replicas' VmRSS summed."""
    think = tuple(args.think) if args.think else THINK_S[args.clients]
    cluster = None
    try:
        if args.replicas:
            from harness.proxy import Cluster

            cluster = Cluster(args.replicas, log_dir=Path(args.server_log).with_suffix(""), timeout_s=90).start()
            procs, port, direct = cluster.procs, cluster.port, cluster.ports
        else:
            port = free_port()
            procs, direct = [start_app(port, log_path=Path(args.server_log), timeout_s=90)], [port]
    except RuntimeError as e:
        raise SystemExit(str(e)) from None
    base = f"http://127.0.0.1:{port}"
    pids = [p.pid for p in procs]
    try:
        rss_start = rss_mb(*pids)
        if args.clients == "browser":
            from playwright.async_api import async_playwright

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    m = await drive(args, pids, lambda s, start_at, seconds: run_session(
                        browser, base, s, start_at, seconds, args.timeout, think))
                finally:
                    await browser.close()
        else:
            for p in direct:  # each replica's first run (also imports torch & co.), straight to it
                await visit_home(p, max(args.timeout, 120.0))
            m = await drive(args, pids, lambda s, start_at, seconds: run_protocol_session(
                port, s, start_at, seconds, args.timeout, think))
        server_alive = all(p.poll() is None for p in procs)
    finally:
        if cluster is not None:
            cluster.stop()
        else:
            stop_app(procs[0])
    return {**summarize(args, think, m, rss_start, server_alive), "replicas": args.replicas, "date": time.strftime("%Y-%m-%d %H:%M")}


def summarize(args: LoadOptions, think, m: dict, rss_start: float, server_alive: bool) -> dict:
    done, samples = m["done"], m["samples"]
    lat = [v for s in done for v in s.latencies_ms]
    by_scenario = {}
    for scen in SCENARIOS:
        mine = [s for s in done if s.scenario == scen]
        v = [x for s in mine for x in s.latencies_ms]
        if v:
            row = {"sessions": len(mine), "interactions": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95), "max_ms": max(v)}
            prep, media = [x for s in mine for x in s.prep_ms], [x for s in mine for x in s.media_ms]
            if prep:
                row["upload_p95_ms"] = pct(prep, 95)
            if media:
                row["media_p95_ms"] = pct(media, 95)
            by_scenario[scen] = row
    errors: dict[str, int] = {}
    for s in done:
        for k, c in s.errors.items():
            errors[k] = errors.get(k, 0) + c
    rss_peak = max([r for _, r in samples] + [m["rss_loaded"]])
    return {
        "clients": args.clients, "sessions": args.sessions, "seconds": args.seconds, "think_s": list(think),
        "timeout_s": args.timeout, "warmup_s": round(m["warm_s"], 1),
        "interactions": sum(s.interactions for s in done), "errors": errors, "error_total": sum(errors.values()),
        "latency_ms": {"p50": pct(lat, 50), "p95": pct(lat, 95), "max": max(lat) if lat else None, "n": len(lat)},
        "by_scenario": by_scenario,
        "rss_mb": {"start": rss_start, "warm": m["rss_warm"], "peak": rss_peak, "end_of_sessions": m["rss_loaded"],
                   "after_close": m["rss_after"]},
        "rss_growth_per_session_mb": (rss_peak - m["rss_warm"]) / max(1, args.sessions),
        "server_alive": server_alive,
        "notes": sorted({s.note for s in done if s.note}),
        "error_details": [d for s in done for d in s.details][:10],
        "warnings": sorted({w for s in done for w in s.warnings}),
        "warmup": m["warm_notes"], "warmup_error_total": m["warm_errors"],
        "rss_samples": samples[:: max(1, len(samples) // 60)],
    }


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values), q))
