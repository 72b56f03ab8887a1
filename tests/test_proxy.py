"""Scale-out behind nginx (deploy/latent_lab.conf.template, harness/proxy.py) and the server's inbound limits.

- The template renders for loopback replicas and nginx accepts it (``nginx -t``).
- Through the proxy, with two replicas: sessions land on both replicas, each browser stays on its own (uploads
  and the images a run serves live in one replica's memory), and a short classroom load run finishes without an
  error.
- A client that sends a websocket message over ``server.maxMessageSize`` (a 50 MB "drawing") has its connection
  closed, and the server's memory does not take the message in.

Needs Debian's nginx (``apt-get install -y nginx-light``): skips without it, fails under CI (``.ci/run`` installs it).
"""
from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from pathlib import Path

import pytest
import tomllib

from harness import classroom, protocol, proxy
from harness.protocol_session import run_protocol_session, visit_home
from harness.scenarios import SCENARIOS
from harness.server import ROOT, free_port, start_app, stop_app
from tests.test_load_protocol import run_async

pytestmark = pytest.mark.slow


def require_nginx() -> str:
    exe = proxy.nginx_path()
    if exe is None:
        msg = "nginx is not installed (apt-get install -y nginx-light)"
        if os.environ.get("CI"):
            pytest.fail(f"{msg}; under CI the proxy checks must run", pytrace=False)
        pytest.skip(msg)
    return exe


def established(port: int) -> int:
    """Open TCP connections to 127.0.0.1:``port`` right now (Linux /proc/net/tcp, state 01)."""
    n = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        n += state == "01" and int(local.split(":")[1], 16) == port
    return n


async def settled_rss(pid: int, timeout_s: float = 30.0) -> float:
    """The server's VmRSS once it has stopped moving (two readings a second apart within 2 MB): on a busy machine the
    first run's imports and a freed buffer take a while to show."""
    last = classroom.rss_mb(pid)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await asyncio.sleep(1)
        now = classroom.rss_mb(pid)
        if abs(now - last) < 2:
            return now
        last = now
    return last


def test_template_renders_and_nginx_accepts_it(tmp_path):
    exe = require_nginx()
    text = proxy.render(["127.0.0.1:9001", "127.0.0.1:9002"], "127.0.0.1:9000")
    # max_fails=0: a replica slow under load stays in the hash, so its sessions' uploads still reach it
    assert "${" not in text and "server 127.0.0.1:9001 max_fails=0; server 127.0.0.1:9002 max_fails=0;" in text
    assert "$cookie_latent_lab_replica" in text and "hash $latent_lab_key consistent" in text  # nginx's own, untouched
    with pytest.raises(ValueError, match="at least one upstream"):
        proxy.render([], "127.0.0.1:9000")
    (tmp_path / "latent_lab.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(proxy.Template(proxy.MAIN_CONF).substitute(dir=tmp_path))
    r = subprocess.run([exe, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_two_replicas_share_the_sessions_and_keep_each_on_its_own(tmp_path):
    require_nginx()
    with proxy.Cluster(2, log_dir=tmp_path / "cluster", timeout_s=120) as c:
        async def scenario():
            for p in c.ports:  # each replica's first run, straight to it (the legacy-pages quirk is per server)
                await visit_home(p, 120)
            clients = [protocol.StreamlitClient(c.port, "", 60) for _ in range(8)]
            for cl in clients:
                await cl.connect()
                run = await cl.rerun()
                assert run.problems == [], run.problems
            on = [established(p) for p in c.ports]
            # A browser keeps its replica: the same cookie again, twice, reaches a live session (media fetched there).
            for cl in clients[:2]:
                again = await cl.rerun()
                status, bad = await cl.fetch_media(again.images)
                assert again.problems == [] and not bad, (again.problems, bad)
            replica_cookies = {cl.cookies.get(proxy.STICKY_COOKIE) for cl in clients}
            for cl in clients:
                await cl.close()
            return on, replica_cookies

        on, cookies = run_async(scenario())
        assert len(cookies) == 8 and None not in cookies, cookies  # every browser got a key of its own
        assert all(n >= 1 for n in on), f"connections per replica {on}: the proxy sent every session to one replica"

        args = classroom.LoadOptions(sessions=2 * len(SCENARIOS), seconds=4, settle=0, think=[0.2, 0.8], timeout=60)

        async def load():
            return await classroom.drive(args, [p.pid for p in c.procs], lambda s, start_at, seconds: run_protocol_session(
                c.port, s, start_at, seconds, args.timeout, tuple(args.think)))

        m = run_async(load())
    errors = sum(sum(s.errors.values()) for s in m["done"])
    assert m["warm_errors"] == 0, m["warm_notes"]
    assert errors == 0, [(s.scenario, dict(s.errors), s.details[:2]) for s in m["done"] if s.errors]
    assert sum(len(s.latencies_ms) for s in m["done"]) >= len(SCENARIOS)


def test_oversized_websocket_message_is_refused_without_taking_memory(tmp_path):
    """A 50 MB message (say a drawing sent by a hostile client) to a server: the connection is closed before the
    message is read (websocket close 1009, "message too big"), the server's memory does not grow by the message,
    and the server still serves the next session."""
    from websockets.exceptions import ConnectionClosed

    limit_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxMessageSize"]
    assert limit_mb < 50
    port = free_port()
    # No background warm-up: its model loading would be counted as the message's memory.
    proc = start_app(port, log_path=tmp_path / "server.log", timeout_s=120, env={"LATENT_LAB_WARMUP": "0"})
    try:
        async def scenario():
            await visit_home(port, 120)
            before = await settled_rss(proc.pid)
            c = protocol.StreamlitClient(port, "", 60)
            await c.connect()
            code = None
            try:
                await c.ws.send(random.randbytes(50_000_000))
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and c.ws.close_code is None:
                    await asyncio.sleep(0.1)
                code = c.ws.close_code
            except ConnectionClosed as e:
                code = e.rcvd.code if e.rcvd else None
            finally:
                await c.close()
            after = await settled_rss(proc.pid)
            fresh = protocol.StreamlitClient(port, "", 60)
            await fresh.connect()
            run = await fresh.rerun()
            await fresh.close()
            return code, before, after, run

        code, before, after, run = run_async(scenario())
    finally:
        stop_app(proc)
    assert code == 1009, f"expected the server to close with 1009 (message too big), got {code}"
    assert after - before < 25, f"server memory grew {after - before:.0f} MB on a refused 50 MB message"
    assert run.problems == [], run.problems
