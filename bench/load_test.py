"""A classroom on one server: N concurrent sessions drawing, uploading and moving sliders.

    python -m bench.load_test                          # 30 protocol sessions x 60 s (run it when the CPU is otherwise idle)
    python -m bench.load_test --sessions 3 --seconds 10 --no-write   # a smoke test
    python -m bench.load_test --clients browser        # the same with 30 headless Chromium pages

Loopback only and bounded in time: starts ``streamlit run app.py`` headless on a free 127.0.0.1 port (its own
PID, stopped at the end), opens ``--sessions`` Streamlit sessions and runs them at once for ``--seconds``,
students arriving over a few seconds. Sessions take turns over four scenarios:

- draw:    the Draw & reconstruct canvas, a new stroke per interaction (Clear every sixth);
- upload:  the same page's uploader, a random digit PNG per interaction and every fourth file corrupt (the page must
           say so: that warning is the right answer, not an error);
- denoise: the Denoise page's noise-level slider;
- vae:     a VAE explorer slider that reruns on the server: the Conditional VAE's first style slider (or, failing
           that, a Sliders-section slider with in-browser decoding off; or the Denoise slider when no VAE is installed).

Two kinds of client (``--clients``):

- ``protocol`` (the default): each session is a small asyncio client speaking Streamlit's own protocol as the page
  does, and nothing else: it fetches ``/_stcore/health`` and ``/_stcore/host-config`` (the XSRF cookie), opens the
  websocket ``/_stcore/stream`` with the subprotocols ``streamlit, <xsrf token>``, sends ``BackMsg.rerun_script``
  with a ``ClientState`` (page name, then page script hash; the states of the widgets it has set, kept from run
  to run and dropped when the widget goes, as the page's widget manager does -- the page also lists widgets left at
  their defaults, which the server then takes from its own state; the fragment of the widget that moved; the hashes
  of the cacheable messages it holds) and reads ``ForwardMsg``s until that run's ``script_finished``. Widget ids
  come from the deltas the server sends (a keyed widget's id ends with its key).
  Uploads go as in the page: ``file_urls_request`` over the socket, a multipart PUT to the upload URL with the
  ``X-Xsrftoken`` header, a DELETE of the file it replaces, then the uploader's ``file_uploader_state_value``.
  After each run it GETs the run's images (``/media/...``) as the page would. Think time 0.5-2 s (random).
  Latency = from sending the rerun to its ``script_finished``; no browser rendering is included (no DOM, no
  JavaScript, no image decoding), so it is the server's share of what a student on their own device waits for.
- ``browser``: headless Chromium pages (Playwright), latency from the input event to the end of the script run
  (``data-test-script-state`` back to ``notRunning``) on the page's clock. The browsers share the machine with the
  server, so on a 2-core box this measures the clients as much as the server: an upper bound.

Errors = an exception element, an ``st.error`` that is not the expected message for a corrupt file, a run that does
not show its result (no prediction after a drawing or a good upload, no image after a slider move, no message after
a corrupt file), a closed connection, a page-not-found or compile error, a failed media fetch, or no
``script_finished`` within ``--timeout`` (browser mode: exception and error boxes, "Traceback" text, page errors,
no rerun). Server memory: VmRSS of the server process, sampled every 0.5 s, before the sessions (models warm in
``st.cache_resource``), at the peak, and after they close; the bound is per session.

Writes ``bench/results/load_test.{md,json}`` (through ``bench.common.write_section``,
which rebuilds ``bench/RESULTS.md``): one section per client kind, the latest run of each, so a protocol run keeps
the browser figures and the other way round.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import random
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
from bench import common  # noqa: E402
from harness.server import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app  # noqa: E402

SCENARIOS = ["draw", "upload", "denoise", "vae"]
CLIENTS = ["protocol", "browser"]
THINK_S = {"protocol": (0.5, 2.0), "browser": (0.2, 0.8)}  # a person's pause between moves (browser: as first measured)
RSS_BOUND_MB_PER_SESSION = 25.0  # the stated bound: what one more student may cost the server
TITLE = "Load test: a classroom on one server"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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


# ------------------------------------------------------------------------------------- protocol clients
#
# Streamlit's wire protocol as the page speaks it (streamlit 1.67, Starlette server; checked against
# web/server/starlette/starlette_websocket.py and starlette_routes.py and the frontend bundle's connection manager):
# - the XSRF cookie ``_streamlit_xsrf`` comes with /_stcore/health; the socket's subprotocols are
#   ``["streamlit", <that cookie's value>]`` and the PUT/DELETE of uploads carry it as ``X-Xsrftoken``;
# - the first rerun names the page by its URL path (``page_name``); later ones by ``page_script_hash`` (from the
#   ``navigation`` message), with every widget state the page holds; a widget inside an ``st.fragment`` reruns with
#   its delta's ``fragment_id``;
# - a message whose hash the client lists in ``cached_message_hashes`` comes back as a ``ref_hash``.

XSRF_COOKIE = "_streamlit_xsrf"
WIDGET_KEY = re.compile(r"^\$\$ID-[0-9a-f]+-(.+)$")  # ids of keyed widgets: $$ID-<hash>-<user key>


class ProtocolError(Exception):
    """The session cannot go on: the socket closed or the server refused a request."""


async def http(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"",
               timeout_s: float = 30.0) -> tuple[int, dict[str, list[str]], bytes]:
    """One HTTP/1.1 request to 127.0.0.1:``port`` on a connection of its own (a browser would keep a few open):
    (status, headers, body). Plain asyncio streams: no threads, no HTTP library."""
    async def go():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
            if body or method in ("PUT", "POST"):
                head.append(f"Content-Length: {len(body)}")
            head += [f"{k}: {v}" for k, v in (headers or {}).items()]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            raw = await reader.read()  # to the end: the server closes
        finally:
            writer.close()
        top, _, payload = raw.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        hdrs: dict[str, list[str]] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        return int(lines[0].split()[1]), hdrs, payload
    return await asyncio.wait_for(go(), timeout_s)


@dataclass
class Widget:
    kind: str  # the element's type: slider, button, button_group, checkbox, file_uploader, bidi_component, ...
    proto: object  # that element's protobuf (e.g. streamlit.proto.Slider)
    fragment_id: str


@dataclass
class Run:
    """What one script run sent: the parts the checks and the next interaction need."""
    id: str = ""
    ms: float | None = None
    status: int | None = None
    widgets: dict[str, Widget] = field(default_factory=dict)
    alerts: list[tuple[int, str]] = field(default_factory=list)  # (Alert.Format, body)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (error kind, detail)
    metrics: list[str] = field(default_factory=list)  # labels of st.metric
    images: list[str] = field(default_factory=list)  # image URLs (/media/...)

    def add(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind is None:
            return
        proto = getattr(el, kind)
        if kind == "exception":
            self.problems.append(("exception", f"{proto.type}: {proto.message}"))
        elif kind == "alert":
            self.alerts.append((proto.format, proto.body))
        elif kind == "metric":
            self.metrics.append(proto.label)
        elif kind == "imgs":
            self.images += [img.url for img in proto.imgs]
        elif kind in ("markdown", "text", "code") and "Traceback (most recent call last)" in getattr(proto, "body", ""):
            self.problems.append(("traceback", proto.body[:160]))
        wid = getattr(proto, "id", "")
        if wid:  # widgets (and a few other elements) carry their id
            self.widgets[wid] = Widget(kind, proto, delta.fragment_id)


class StreamlitClient:
    """One browser tab's Streamlit session over the wire: a websocket, the widget states, the message cache."""

    def __init__(self, port: int, page: str, timeout_s: float):
        self.port, self.page, self.timeout_s = port, page, timeout_s
        self.base = f"http://127.0.0.1:{port}"
        self.page_hash = ""
        self.session_id = ""
        self.xsrf = ""
        self.ws = None
        self.widgets: dict[str, Widget] = {}  # the widgets of the page as last drawn
        self.states: dict[str, object] = {}  # WidgetState protos the page holds (what the user set)
        self.cache: dict[str, object] = {}  # cacheable ForwardMsgs by hash
        self.refs = 0  # messages that came as a ref_hash (served from that cache)
        self.seen_runs: set[str] = set()
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.reader: asyncio.Task | None = None
        self.closed = ""

    # -- connection

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        status, headers, _ = await http(self.port, "GET", "/_stcore/health", timeout_s=self.timeout_s)
        cookies = [c.split(";")[0].split("=", 1) for c in headers.get("set-cookie", [])]
        self.xsrf = next((v for k, v in cookies if k == XSRF_COOKIE), "")
        if status != 200 or not self.xsrf:
            raise ProtocolError(f"/_stcore/health answered {status} without an XSRF cookie")
        await http(self.port, "GET", "/_stcore/host-config", headers=self.cookie_header(), timeout_s=self.timeout_s)
        self.ws = await connect(f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit", self.xsrf],
                                additional_headers={**self.cookie_header(), "Origin": self.base},
                                max_size=None, open_timeout=self.timeout_s)
        self.reader = asyncio.create_task(self._read())

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": f"{XSRF_COOKIE}={self.xsrf}"}

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            async for raw in self.ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                if msg.WhichOneof("type") == "ref_hash":  # "you have this one": the cached message, with new metadata
                    cached = self.cache.get(msg.ref_hash)
                    if cached is None:
                        self.inbox.put_nowait(("cache miss", f"ref_hash {msg.ref_hash} not held"))
                        continue
                    full = ForwardMsg()
                    full.CopyFrom(cached)
                    full.metadata.CopyFrom(msg.metadata)
                    msg = full
                    self.refs += 1
                elif msg.metadata.cacheable and msg.hash:
                    self.cache[msg.hash] = msg
                self.inbox.put_nowait(msg)
        except Exception as e:  # noqa: BLE001 - websockets' ConnectionClosed and the like: the session is over
            self.closed = f"{type(e).__name__}: {e}"
        finally:
            self.closed = self.closed or "the socket closed"
            self.inbox.put_nowait(None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 10)

    async def _next(self, deadline: float):
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        msg = await asyncio.wait_for(self.inbox.get(), left)
        if msg is None:
            self.inbox.put_nowait(None)  # stays closed for whoever asks next
            raise ProtocolError(f"connection closed ({self.closed})")
        return msg

    async def send(self, **fields) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if self.closed:
            raise ProtocolError(f"connection closed ({self.closed})")
        await self.ws.send(BackMsg(**fields).SerializeToString())

    # -- script runs

    async def rerun(self, fragment_id: str = "") -> Run:
        """Send a rerun with the page's widget states and read up to its script_finished.

        Raises TimeoutError when no script_finished comes within the timeout, ProtocolError when the socket closes.
        """
        from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        cs = ClientState(query_string="", page_script_hash=self.page_hash, page_name="" if self.page_hash else self.page,
                         fragment_id=fragment_id, cached_message_hashes=sorted(self.cache),
                         context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US", url=f"{self.base}/{self.page}",
                                                  is_embedded=False, color_scheme="light"))
        cs.widget_states.widgets.extend(self.states.values())
        t0 = time.perf_counter()
        await self.send(rerun_script=cs)
        run, deadline = Run(), t0 + self.timeout_s
        while True:
            msg = await self._next(deadline)
            if isinstance(msg, tuple):
                run.problems.append(msg)
                continue
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                rid = msg.metadata.run.script_run_id
                if rid in self.seen_runs:
                    continue
                self.seen_runs.add(rid)
                run.id = rid
                self.session_id = msg.new_session.initialize.session_id or self.session_id
            elif not run.id:
                continue  # the tail of an earlier run (e.g. one that timed out)
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "delta":
                run.add(msg.delta)
            elif kind == "page_not_found":
                run.problems.append(("page not found", msg.page_not_found.page_name))
            elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
                run.problems.append(("compile error", msg.session_event.script_compilation_exception.message))
            elif kind == "script_finished" and msg.metadata.run.script_run_id == run.id:
                run.ms, run.status = (time.perf_counter() - t0) * 1e3, msg.script_finished
                if run.status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run.problems.append(("run cut short", "finished early for a rerun nobody asked for"))
                break
        if fragment_id:
            self.widgets.update(run.widgets)
        else:  # the page forgets the states of widgets that are gone (e.g. the canvas after Clear)
            self.widgets = run.widgets
            self.states = {k: v for k, v in self.states.items() if k in self.widgets}
        return run

    def find(self, kind: str, key_prefix: str) -> tuple[str, Widget] | None:
        """The first widget of ``kind`` whose user key starts with ``key_prefix``, in page order."""
        for wid, w in self.widgets.items():
            m = WIDGET_KEY.match(wid)
            if w.kind == kind and m and m.group(1).startswith(key_prefix):
                return wid, w
        return None

    def set_state(self, wid: str, **value) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        self.states[wid] = WidgetState(id=wid, **value)

    async def fetch_media(self, urls: list[str]) -> tuple[int, list[str]]:
        """GET a run's images as the page does: (how many were fetched, the failures). ``data:`` URLs came inline."""
        paths = [u for u in dict.fromkeys(urls) if u.startswith("/")]

        async def one(path):
            status, _, _ = await http(self.port, "GET", path, headers=self.cookie_header(), timeout_s=self.timeout_s)
            return None if status == 200 else f"{status} {path}"
        return len(paths), [f for f in await asyncio.gather(*[one(p) for p in paths]) if f]

    # -- uploads

    async def upload(self, name: str, data: bytes, mime: str = "image/png"):
        """Ask for an upload URL over the socket, PUT the file there; returns its UploadedFileInfo."""
        from streamlit.proto.Common_pb2 import FileURLsRequest, UploadedFileInfo

        rid = uuid.uuid4().hex
        await self.send(file_urls_request=FileURLsRequest(request_id=rid, file_names=[name], session_id=self.session_id))
        deadline = time.perf_counter() + self.timeout_s
        while True:  # between runs the socket carries only this answer (and status messages)
            msg = await self._next(deadline)
            if not isinstance(msg, tuple) and msg.WhichOneof("type") == "file_urls_response" and msg.file_urls_response.response_id == rid:
                break
        resp = msg.file_urls_response
        if resp.error_msg or not resp.file_urls:
            raise ProtocolError(f"file_urls_request refused: {resp.error_msg}")
        urls = resp.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        status, _, text = await http(self.port, "PUT", urls.upload_url, body=body, timeout_s=self.timeout_s, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": self.xsrf, "Origin": self.base,
            **self.cookie_header()})
        if status not in (200, 204):
            raise ProtocolError(f"upload PUT answered {status}: {text[:120]!r}")
        return UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls)

    async def delete_upload(self, info) -> None:
        status, _, _ = await http(self.port, "DELETE", info.file_urls.delete_url, timeout_s=self.timeout_s,
                                  headers={"X-Xsrftoken": self.xsrf, "Origin": self.base, **self.cookie_header()})
        if status not in (200, 204):
            raise ProtocolError(f"upload DELETE answered {status}")


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


async def drive(args, proc, session_fn) -> dict:
    """Warm up (one session per scenario, in turn), then all sessions at once while sampling the server's RSS.

    ``session_fn(session, start_at, seconds)`` runs one session of the chosen client kind."""
    t = time.monotonic()
    warm = [await session_fn(Session(-1, scen), 0, 1.0) for scen in args.scenarios]
    warm_s = time.monotonic() - t
    warm_notes = [f"warm-up {w.scenario}: " + ("; ".join(x for x in (w.note, str(w.errors) if w.errors else "") if x) or "ok")
                  for w in warm]
    await asyncio.sleep(2)
    rss_warm = rss_mb(proc.pid)
    samples: list[tuple[float, float]] = []
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
    done = await asyncio.gather(*[session_fn(s, now + ramp * i / max(1, args.sessions), args.seconds) for i, s in enumerate(sessions)])
    rss_loaded = rss_mb(proc.pid)
    await asyncio.sleep(args.settle)
    stop_sampling.set()
    await sampler
    return {"done": done, "warm_s": warm_s, "warm_notes": warm_notes, "warm_errors": sum(sum(w.errors.values()) for w in warm),
            "rss_warm": rss_warm, "rss_loaded": rss_loaded,
            "rss_after": rss_mb(proc.pid), "samples": samples}


async def run(args) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    think = tuple(args.think) if args.think else THINK_S[args.clients]
    try:
        proc = start_app(port, log_path=Path(args.server_log), timeout_s=90)
    except RuntimeError as e:
        raise SystemExit(str(e)) from None
    try:
        rss_start = rss_mb(proc.pid)
        if args.clients == "browser":
            from playwright.async_api import async_playwright

            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    m = await drive(args, proc, lambda s, start_at, seconds: run_session(
                        browser, base, s, start_at, seconds, args.timeout, think))
                finally:
                    await browser.close()
        else:
            await visit_home(port, max(args.timeout, 120.0))  # the first run also imports torch & co.
            m = await drive(args, proc, lambda s, start_at, seconds: run_protocol_session(
                port, s, start_at, seconds, args.timeout, think))
        server_alive = proc.poll() is None
    finally:
        stop_app(proc)
    return summarize(args, think, m, rss_start, server_alive)


def summarize(args, think, m: dict, rss_start: float, server_alive: bool) -> dict:
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


def fmt(v) -> str:
    return "n/a" if v is None else f"{v:.0f}"


# --------------------------------------------------------------------------------------------- the report


def report(r: dict) -> str:
    """The markdown section of one run (its client kind in the title)."""
    per = r["rss_growth_per_session_mb"]
    ok = r["error_total"] == 0 and r["server_alive"] and per <= RSS_BOUND_MB_PER_SESSION
    protocol = r.get("clients", "browser") == "protocol"
    if protocol:
        who = (f"- {r['sessions']} concurrent **protocol clients** for {r['seconds']} s each, on loopback: asyncio clients that "
               "speak Streamlit's own websocket protocol as the page does (`BackMsg.rerun_script` with the widget states, "
               "`ForwardMsg`s up to `script_finished`; uploads through `/_stcore/upload_file`; images sent as URLs fetched from "
               f"`/media`), think time {r['think_s'][0]:g}–{r['think_s'][1]:g} s. They **exclude browser rendering** "
               "(no DOM, no JavaScript, no image decoding): each student has their own device for that. "
               f"Warm-up {r['warmup_s']} s first.")
        what = "from sending the rerun to its `script_finished`, at the client"
    else:
        who = (f"- {r['sessions']} concurrent **headless Chromium** sessions for {r['seconds']} s each, on loopback "
               f"(server and browsers on the same machine); warm-up {r['warmup_s']} s first.")
        what = "input event to end of the rerun, in the page"
    lines = [common.header(f"{TITLE} ({'protocol' if protocol else 'browser'} clients)"), "", who,
             f"- Result: **{common.passfail(ok)}** ({r['interactions']} interactions, {r['error_total']} errors"
             + (f": {r['errors']}" if r["errors"] else "") + f"; server {'alive' if r['server_alive'] else 'DEAD'} at the end).",
             f"- Interaction latency ({what}): p50 {fmt(r['latency_ms']['p50'])} ms, "
             f"**p95 {fmt(r['latency_ms']['p95'])} ms**, max {fmt(r['latency_ms']['max'])} ms over {r['latency_ms']['n']} interactions.",
             f"- Server memory (VmRSS): {r['rss_mb']['start']:.0f} MB at start, {r['rss_mb']['warm']:.0f} MB with the models loaded, "
             f"peak {r['rss_mb']['peak']:.0f} MB under load, {r['rss_mb']['after_close']:.0f} MB after the sessions closed: "
             f"**{per:.1f} MB per session** (bound: {RSS_BOUND_MB_PER_SESSION:.0f} MB per session).", ""]
    rows = [{"scenario": k, **v} for k, v in r["by_scenario"].items()]
    cols = ["scenario", "sessions", "interactions", "p50_ms", "p95_ms", "max_ms"]
    cols += [c for c in ("upload_p95_ms", "media_p95_ms") if any(c in row for row in rows)]
    lines.append(common.table(rows, cols))
    explain = {"upload_p95_ms": "asking for the upload URL, the PUT (and the DELETE of the file replaced), before the rerun",
               "media_p95_ms": "fetching the run's images (`/media`) after it finished"}
    if any(c in explain for c in cols):
        lines += ["; ".join(f"{c}: {explain[c]}" for c in cols if c in explain) + ". Not in the latency.", ""]
    if r["notes"]:
        lines += ["Notes: " + "; ".join(r["notes"]), ""]
    if r.get("error_details"):
        lines += ["First errors: " + "; ".join(r["error_details"]), ""]
    if r.get("warnings"):
        lines += ["Warnings the pages showed (not counted as errors): " + "; ".join(r["warnings"]), ""]
    lines += ["Warm-up: " + "; ".join(r["warmup"]), ""]
    return "\n".join(lines)


def write_results(r: dict, md: str) -> str:
    """Keep the latest run of each client kind: load_test.json maps kind -> run (with its markdown); the sections go to
    bench/results/load_test.md (so bench/RESULTS.md), protocol first."""
    path = common.RESULTS_DIR / "load_test.json"
    runs: dict[str, dict] = {}
    if path.is_file():
        old = json.loads(path.read_text())
        if "sessions" in old:  # one run, from before there were two kinds: the browser one, with its section as written
            legacy = common.RESULTS_DIR / "load_test.md"
            text = legacy.read_text() if legacy.is_file() else ""
            old["markdown"] = text.replace(f"## {TITLE}\n", f"## {TITLE} (browser clients)\n", 1)
            runs = {"browser": {"clients": "browser", **old}}
        else:
            runs = {k: v for k, v in old.items() if k in CLIENTS}
    runs[r["clients"]] = {**r, "markdown": md}
    combined = "\n".join(runs[k]["markdown"].rstrip() + "\n" for k in CLIENTS if k in runs and runs[k].get("markdown"))
    common.write_section("load_test", combined, runs)
    return combined


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", choices=CLIENTS, default="protocol",
                   help="protocol: asyncio clients speaking Streamlit's websocket protocol (default); browser: headless Chromium")
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--seconds", type=float, default=60.0, help="how long each session interacts")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds an interaction may wait for its rerun")
    p.add_argument("--settle", type=float, default=10.0, help="seconds after the sessions close before the last RSS reading")
    p.add_argument("--think", type=lambda v: [float(x) for x in v.split(",")], default=None,
                   help="MIN,MAX seconds between interactions (default 0.5,2 for protocol, 0.2,0.8 for browser)")
    p.add_argument("--scenarios", type=lambda v: v.split(","), default=SCENARIOS, help=f"comma-separated subset of {','.join(SCENARIOS)}")
    p.add_argument("--server-log", default=str(ROOT / "artifacts" / "load_test_server.log"))
    p.add_argument("--no-write", action="store_true", help="print only; do not write the results")
    args = p.parse_args(argv)
    if not args.scenarios or set(args.scenarios) - set(SCENARIOS):
        p.error(f"--scenarios must be a subset of {','.join(SCENARIOS)}, got {args.scenarios}")
    if args.think is not None and (len(args.think) != 2 or not 0 <= args.think[0] <= args.think[1]):
        p.error("--think takes MIN,MAX with 0 <= MIN <= MAX")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.clients == "browser" and not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found (apt-get install chromium)")
    Path(args.server_log).parent.mkdir(parents=True, exist_ok=True)
    r = asyncio.run(run(args))
    md = report(r)
    print(md)
    print(json.dumps({k: v for k, v in r.items() if k != "rss_samples"}, indent=1))
    if not args.no_write:
        write_results(r, md)
    if r["error_total"] or not r["server_alive"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
