"""One student over Streamlit's websocket protocol (:mod:`harness.protocol`), for ``python -m bench.load_test``:
open the scenario's page, then send the canvas's strokes, uploads and slider moves at a person's pace, each rerun
timed and judged (an error box, a corrupt file not reported, no result shown); and the first visit of "/" a
fresh server needs.
"""
from __future__ import annotations

import asyncio
import base64
import io
import json
import random
import time

from PIL import Image, ImageDraw

from harness.protocol import WIDGET_KEY, ProtocolError, Run, StreamlitClient
from harness.scenarios import PAGE, Session, digit_png


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
        self.page = PAGE[s.scenario]
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
