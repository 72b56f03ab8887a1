"""A classroom on one server: N concurrent sessions drawing, uploading and moving sliders.

    python -m bench.load_test                          # 30 protocol sessions x 60 s (run it when the CPU is otherwise idle)
    python -m bench.load_test --sessions 3 --seconds 10 --no-write   # a smoke test
    python -m bench.load_test --clients browser        # the same with 30 headless Chromium pages
    python -m bench.load_test --replicas 2 --sessions 100   # 2 replicas behind nginx (harness/proxy.py), 100 sessions

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

The run lives in ``harness/classroom.py``, the scenarios and a session's record in ``harness/scenarios.py``, the
sessions in ``harness/protocol_session.py`` (over the protocol client ``harness/protocol.py``) and
``harness/browser_session.py``; tests/test_load_protocol.py also drives them; this module is the command and its
report. Writes ``bench/results/load_test.{md,json}`` (through ``bench.common.write_section``, which rebuilds
``bench/RESULTS.md``): one section per client kind, the latest run of each, so a protocol run keeps the browser
figures and the other way round.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
from bench import common  # noqa: E402
from harness.classroom import CLIENTS, LoadOptions, run  # noqa: E402
from harness.scenarios import SCENARIOS  # noqa: E402
from harness.server import CHROMIUM  # noqa: E402

RSS_BOUND_MB_PER_SESSION = 25.0  # the stated bound: what one more student may cost the server
TITLE = "Load test: a classroom on one server"


def run_key(r: dict) -> str:
    """The run's place in the results: its client kind, and where there is a proxy, how many replicas and sessions
    (so 30 and 100 sessions on 1 and 2 replicas are kept side by side)."""
    kind = r.get("clients", "browser")
    return kind if not r.get("replicas") else f"{kind}, {r['replicas']} behind nginx, {r['sessions']} sessions"


def where(r: dict) -> str:
    n = r.get("replicas") or 0
    return "one server, direct" if not n else f"{n} replica{'s' if n > 1 else ''} behind nginx"


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
    title = f"{TITLE} ({'protocol' if protocol else 'browser'} clients)" if not r.get("replicas") else \
        f"Load test: {r['sessions']} {'protocol' if protocol else 'browser'} sessions, {where(r)}"
    lines = [common.header(title), "", who + (f" Through nginx (`deploy/latent_lab.conf.template`, sticky sessions) to "
                                            f"{r['replicas']} Streamlit replica(s); memory is the replicas' together."
                                            if r.get("replicas") else ""),
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


def side_by_side(runs: list[dict]) -> str:
    """One table of the kept runs, when some went through the proxy: one server against N replicas."""
    if not any(r.get("replicas") for r in runs):
        return ""
    rows = [{"clients": r.get("clients", "browser"), "server": where(r), "sessions": r["sessions"], "seconds": r["seconds"],
             "interactions": r["interactions"], "errors": r["error_total"], "p50 ms": fmt(r["latency_ms"]["p50"]),
             "p95 ms": fmt(r["latency_ms"]["p95"]), "MB per session": round(r["rss_growth_per_session_mb"], 1),
             "date": r.get("date", "")} for r in runs]
    return ("## Load test: one server and replicas behind nginx, side by side\n\n"
            "Each row is the latest run of its kind below (`python -m bench.load_test [--replicas N] [--sessions S]`).\n\n"
            + common.table(rows) + "\n")


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
            runs = {k: v for k, v in old.items() if isinstance(v, dict) and "markdown" in v}
    runs[run_key(r)] = {**r, "markdown": md}
    order = [k for k in CLIENTS if k in runs] + sorted(k for k in runs if k not in CLIENTS)
    combined = side_by_side([runs[k] for k in order]) + "\n".join(runs[k]["markdown"].rstrip() + "\n" for k in order)
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
    p.add_argument("--server-log", default=LoadOptions.server_log)
    p.add_argument("--replicas", type=int, default=0,
                   help="0: one server, direct (default); N: N replicas behind nginx (harness/proxy.py, needs nginx)")
    p.add_argument("--no-write", action="store_true", help="print only; do not write the results")
    args = p.parse_args(argv)
    if not args.scenarios or set(args.scenarios) - set(SCENARIOS):
        p.error(f"--scenarios must be a subset of {','.join(SCENARIOS)}, got {args.scenarios}")
    if args.replicas < 0:
        p.error(f"--replicas must be 0 or more, got {args.replicas}")
    if args.think is not None and (len(args.think) != 2 or not 0 <= args.think[0] <= args.think[1]):
        p.error("--think takes MIN,MAX with 0 <= MIN <= MAX")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.clients == "browser" and not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found (apt-get install chromium)")
    Path(args.server_log).parent.mkdir(parents=True, exist_ok=True)
    r = asyncio.run(run(LoadOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(LoadOptions)})))
    md = report(r)
    print(md)
    print(json.dumps({k: v for k, v in r.items() if k != "rss_samples"}, indent=1))
    if not args.no_write:
        write_results(r, md)
    if r["error_total"] or not r["server_alive"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
