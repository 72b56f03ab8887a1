"""A classroom on one server: concurrent Streamlit sessions drawing, uploading and moving sliders, timed, with
the server's memory sampled (``python -m bench.load_test`` runs and reports it; tests/test_load_protocol.py runs a
short one). Two kinds of client: ``protocol`` sessions (:mod:`harness.protocol_session`), ``browser`` sessions in
headless Chromium (:mod:`harness.browser_session`); the scenarios and the record of a session are in
:mod:`harness.scenarios`. bench/load_test.py's docstring says what each scenario does and what counts as an error.

Here: the run's options, the run (a server or replicas, a warm-up, all sessions at once, the memory sampled) and
its summary.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.browser_session import run_session
from harness.protocol_session import run_protocol_session, visit_home
from harness.scenarios import SCENARIOS, THINK_S, Session
from harness.server import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, start_app, stop_app

CLIENTS = ["protocol", "browser"]


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
