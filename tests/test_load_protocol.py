"""The load test's protocol clients (harness/classroom.py, harness/protocol_session.py and harness/protocol.py,
which ``python -m bench.load_test --clients protocol`` runs): Streamlit's websocket protocol spoken without a browser.

- A short load run against the real app: two sessions per scenario (draw, upload, denoise, vae) for a few
  seconds must finish with zero errors and at least one timed interaction in every scenario.
- A throw-away app checks that the client sees what a student would: an exception, an ``st.error``, a message
  sent as a ``ref_hash`` (the client's message cache), and a rerun that never finishes.
- The judging of a run (what counts as an error, the corrupt-file message) on hand-made deltas.

Loopback only; each server is our own child process, stopped at the end. About 30-40 s on two cores.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import random
import time

import pytest

from harness import classroom, protocol
from harness.protocol_session import ProtocolSession
from harness.scenarios import SCENARIOS, Session
from harness.server import free_port, start_app, stop_app

pytestmark = pytest.mark.slow


def run_async(coro):
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright (sync API) keeps an event loop
    running in the main thread of this pytest process, where ``asyncio.run`` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()

TINY_APP = '''
import streamlit as st

st.markdown("x" * 20_000)  # >= 10 kB: cacheable, so the next run sends it as a ref_hash
mode = st.slider("mode", 0, 3, 0, key="mode")
if mode == 1:
    st.error("something broke")
elif mode == 2:
    raise ValueError("boom")
elif mode == 3:
    import time
    time.sleep(5)
st.image("data:image/png;base64,iVBORw0KGgo=")
'''


def test_protocol_sessions_run_every_scenario_without_errors(tmp_path):
    args = classroom.LoadOptions(sessions=2 * len(SCENARIOS), seconds=4, settle=0, think=[0.2, 0.8], timeout=30,
                          server_log=str(tmp_path / "server.log"))
    t = time.monotonic()
    r = run_async(classroom.run(args))
    elapsed = time.monotonic() - t
    assert r["clients"] == "protocol" and r["server_alive"]
    assert r["error_total"] == 0, (r["errors"], r["error_details"], r["notes"])
    assert r["warmup_error_total"] == 0, r["warmup"]
    for scen in SCENARIOS:
        assert r["by_scenario"].get(scen, {}).get("interactions", 0) >= 1, (scen, r["by_scenario"], r["notes"])
    assert r["latency_ms"]["p95"] < 30_000
    assert r["rss_mb"]["warm"] > r["rss_mb"]["start"]  # the sampling saw the models load
    assert elapsed < 120, elapsed  # bounded: a hang would show here, not as a stuck suite


def test_client_sees_exceptions_errors_cached_messages_and_timeouts(tmp_path):
    script = tmp_path / "tiny_app.py"
    script.write_text(TINY_APP)
    port = free_port()
    proc = start_app(port, log_path=tmp_path / "tiny.log", timeout_s=60, script=str(script))

    async def scenario():
        c = protocol.StreamlitClient(port, "", timeout_s=30)
        await c.connect()
        try:
            first = await c.rerun()
            assert first.problems == [] and first.images and len(c.cache) == 1  # the big markdown, kept by hash
            again = await c.rerun()  # lists the hash: the server answers with a ref_hash, resolved from the cache
            assert again.problems == [] and again.images and c.refs == 1
            wid, slider = c.find("slider", "mode")
            assert slider.fragment_id == ""

            def judged(run):
                s = Session(0, "denoise")
                ProtocolSession(port, s, random.Random(0), 30).judge(run, "image")
                return s.errors

            c.set_state(wid, double_array_value=lt_double([1]))
            assert judged(await c.rerun()) == {"error box": 1}
            c.set_state(wid, double_array_value=lt_double([2]))
            errors = judged(await c.rerun())
            assert errors.get("exception") == 1 and errors.get("no result") == 1, errors
            c.set_state(wid, double_array_value=lt_double([3]))
            c.timeout_s = 1.0
            with pytest.raises(TimeoutError):
                await c.rerun()
        finally:
            await c.close()

    try:
        run_async(scenario())
    finally:
        stop_app(proc)


def lt_double(values):
    from streamlit.proto.Common_pb2 import DoubleArray

    return DoubleArray(data=values)


def _run(*elements, fragment_id: str = "") -> protocol.Run:
    """A Run built from hand-made deltas: ``("alert", format, body)``, ``("metric", label)``, ``("exception", msg)``."""
    from streamlit.proto.Delta_pb2 import Delta

    run = protocol.Run()
    for kind, *rest in elements:
        d = Delta(fragment_id=fragment_id)
        if kind == "alert":
            d.new_element.alert.format, d.new_element.alert.body = rest
        elif kind == "metric":
            d.new_element.metric.label = rest[0]
        elif kind == "exception":
            d.new_element.exception.type, d.new_element.exception.message = "ValueError", rest[0]
        run.add(d)
    return run


def _judge(run: protocol.Run, expect: str = "", corrupt: bool = False) -> dict[str, int]:
    s = Session(0, "upload")
    ProtocolSession(0, s, random.Random(0), 1).judge(run, expect, corrupt)
    return s.errors


def test_judging_a_run():
    from streamlit.proto.Alert_pb2 import Alert

    damaged = "The image file is damaged or incomplete (it may have been cut off during upload). Please try another file."
    assert _judge(_run(("metric", "The classifier says")), "metric") == {}
    assert _judge(_run(("alert", Alert.INFO, "Draw a digit")), "metric") == {"no result": 1}
    assert _judge(_run(("alert", Alert.ERROR, "Sorry, something went wrong")), "") == {"error box": 1}
    assert _judge(_run(("exception", "boom")), "") == {"exception": 1}
    # A corrupt file: the page's message is the right answer, as a warning or an error; its absence is an error.
    assert _judge(_run(("alert", Alert.WARNING, damaged)), corrupt=True) == {}
    assert _judge(_run(("alert", Alert.ERROR, damaged)), corrupt=True) == {}
    assert _judge(_run(("metric", "The classifier says")), corrupt=True) == {"corrupt file not reported": 1}
    # Warnings are reported, not counted.
    s = Session(0, "draw")
    ProtocolSession(0, s, random.Random(0), 1).judge(_run(("alert", Alert.WARNING, "model not installed"), ("metric", "x")), "metric")
    assert s.errors == {} and s.warnings == {"model not installed"}
