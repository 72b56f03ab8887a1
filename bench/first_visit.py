"""First visits: what the first visitor after a server start waits for, page by page, against a later visitor.

    python -m bench.first_visit                  # start the server; Home, then the first visit to every page, then a second
    python -m bench.first_visit --first vae      # the very first request after the start is a deep link (/vae)
    python -m bench.first_visit --fresh-each     # also: a fresh server for every page, opened as its very first request
    python -m bench.first_visit --computations   # also: every first-use computation timed cold (3 new processes each)
    python -m bench.first_visit --no-write       # print only; do not write bench/results/first_visit.*

Starts ``streamlit run app.py`` headless on a free 127.0.0.1 port (``harness.server``; Chromium is launched before,
so its start is not counted) and measures in headless Chromium, every visit in a new browser context (an empty
HTTP cache, as a new visitor's browser):

1. Server start -> first page interactive: from starting the server process to the first page (Home, or
   ``--first URL_PATH``) interactive, on the wall clock (the page's ``performance.timeOrigin`` + its clock).
2. The first visit to each of the nine pages (Home and the eight in ``ui.nav.PAGES``) after that start, one
   after the other (the warm-up of ``ui/warmup.py`` may still be running in the background: "at" says when each
   visit began), then a second visit to each: what every later visitor gets.

"Interactive", from navigation start: the page's title and its own content are drawn (per page, :data:`READY`:
the canvas, images or charts its first screen shows, drawn), the script run is over, no running indicator or
spinner is shown, and it stays so for 0.5 s; the time is when that began. A visit also records error boxes and
whether the sidebar holds the app's own menu (page titles, not file names).

``--computations`` times, each in a fresh Python process (torch imported, the models and data already loaded,
as a page has them), what a page computes on its first use: computed as the pages did before, and as they do
now (the shipped file read: ``rep_models.precomputed``; or warmed after the start: ``ui.warmup``).

Writes ``bench/results/first_visit.{md,json}`` and rebuilds ``bench/RESULTS.md``; the server log goes to
``artifacts/bench_first_visit_server.log``. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench.common import ROOT, header, table, write_section
from harness.server import CHROMIUM, CHROMIUM_ARGS, base_url, free_port, start_app, stop_app

ARTIFACTS = ROOT / "artifacts"
VIEWPORT = {"width": 1400, "height": 1700}
HOLD_MS = 500  # interactive this long in a row
TIMEOUT_S = 180.0

# What each page's first screen shows once it is ready (see the module docstring).
READY: dict[str, dict] = {
    "home": {"title": "Latent Lab", "text": "The models"},
    "draw": {"title": "Draw & reconstruct", "canvas": "canvas[data-role='drawing-canvas']"},
    "denoise": {"title": "Denoise", "images": 4},
    "vae": {"title": "VAE latent explorer", "canvas": "canvas[data-role='decoded-digit']", "data": {"renders": 1}},
    "latent_map": {"title": "Latent map", "canvas": "canvas[data-role='latent-map']", "data": {"points": 10_000, "draws": 1}},
    "linear_pca": {"title": "Linear AE = PCA", "plots": 2, "images": 6},
    "gan": {"title": "GAN studio", "images": 1},
    "few_labels": {"title": "Few labels", "plots": 1},
    "train_live": {"title": "Train live", "button": "Start training"},
}

HOOK = r"""
(() => {
  if (window.__fv) return;
  const spec = __SPEC__;
  const F = window.__fv = {since: null, runStart: null, runEnd: null};
  const deep = (sel, root = document) => {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const h = deep(sel, el.shadowRoot); if (h) return h; }
    return null;
  };
  let canvas = null, lastLook = 0;
  const content = (main, now) => {
    if (spec.text && !main.innerText.includes(spec.text)) return false;
    if (spec.images) {
      const imgs = [...main.querySelectorAll('[data-testid="stImage"] img')];
      if (imgs.length < spec.images || imgs.some(i => !(i.complete && i.naturalWidth > 0))) return false;
    }
    if (spec.plots && [...main.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(p => p.querySelector('.main-svg')).length < spec.plots) return false;
    if (spec.button && ![...main.querySelectorAll('button')].some(b => b.innerText.includes(spec.button))) return false;
    if (spec.canvas) {
      if ((!canvas || !canvas.isConnected) && now - lastLook > 50) { lastLook = now; canvas = deep(spec.canvas); }
      if (!canvas || !canvas.isConnected) return false;
      for (const [k, v] of Object.entries(spec.data || {})) if (Number(canvas.dataset[k] || 0) < v) return false;
    }
    return true;
  };
  const tick = (now) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const main = document.querySelector('[data-testid="stMain"]');
    const state = app && app.getAttribute('data-test-script-state');
    if (state === 'running' && F.runStart === null) F.runStart = now;
    if (F.runStart !== null && state === 'notRunning') F.runEnd = now;
    const idle = state === 'notRunning' && !document.querySelector('[data-testid="stStatusWidget"]')
      && !document.querySelector('[data-testid="stSpinner"]');
    const titled = !!main && [...main.querySelectorAll('h1')].some(h => h.textContent.trim().startsWith(spec.title));
    const ok = idle && titled && content(main, now);
    if (ok && F.since === null) F.since = now;
    if (!ok) F.since = null;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""
ERRORS_JS = """() => {
  const n = s => document.querySelectorAll(s).length;
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebar"]');
  return {exception: n('[data-testid="stException"]'), error_box: n('[data-testid="stAlertContentError"]'),
          traceback: main && main.innerText.includes('Traceback') ? 1 : 0,
          menu: !!side && side.innerText.includes('Draw & reconstruct') && side.innerText.includes('VAE latent explorer')};
}"""


def url_paths() -> list[str]:
    from ui.nav import installed

    return ["home"] + [p.url_path for p in installed()]


def visit(browser, url: str, url_path: str, t0: float, shot: str | None = None) -> dict:
    """One visit of ``url_path`` in a new browser context: seconds from navigation start to interactive."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(HOOK.replace("__SPEC__", json.dumps(READY[url_path])))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)[:200]))
    at = time.time() - t0
    res: dict = {"page": url_path, "at_s": at}
    try:
        page.goto(f"{url}/{'' if url_path == 'home' else url_path}", wait_until="commit", timeout=TIMEOUT_S * 1000)
        page.wait_for_function(f"() => window.__fv && window.__fv.since !== null && performance.now() - window.__fv.since > {HOLD_MS}",
                               polling=100, timeout=TIMEOUT_S * 1000)
        f = page.evaluate("() => ({since: __fv.since, origin: performance.timeOrigin, runStart: __fv.runStart, runEnd: __fv.runEnd})")
        res.update(s=f["since"] / 1000, ready_after_start_s=(f["origin"] + f["since"]) / 1000 - t0,
                   run_over_s=f["runEnd"] / 1000 if f["runEnd"] is not None else None)
    except Exception as e:  # noqa: BLE001 - playwright's TimeoutError: recorded, the next page still runs
        res.update(s=None, error=f"{type(e).__name__}: {str(e).splitlines()[0][:160]}")
    found = page.evaluate(ERRORS_JS)
    res["menu"] = found.pop("menu")
    res["errors"] = {k: v for k, v in found.items() if v} | ({"page_errors": errors} if errors else {})
    if shot:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"bench_first_visit_{shot}.png"), full_page=True)
    ctx.close()
    return res


def tour(browser, first: str) -> dict:
    """One server start: ``first`` as the very first request, then the first visit to every other page, then a
    second visit to each."""
    port = free_port()
    url = base_url(port)
    t0 = time.time()
    proc = start_app(port, log_path=ARTIFACTS / "bench_first_visit_server.log")
    healthy_s = time.time() - t0
    try:
        order = [first] + [p for p in url_paths() if p != first]
        firsts = []
        for p in order:
            firsts.append(visit(browser, url, p, t0, shot=f"first_{p}"))
            print(f"  first visit  {p:12s} {fmt(firsts[-1].get('s'))} s (began {firsts[-1]['at_s']:.1f} s after the start)"
                  f"{'  ' + str(firsts[-1].get('error') or firsts[-1]['errors']) if firsts[-1].get('error') or firsts[-1]['errors'] else ''}",
                  flush=True)
        warm = wait_for_warmup(t0)
        print(f"  warm-up: {warm.get('line') or 'not seen'} ({fmt(warm.get('seen_after_start_s'), 1)} s after the start)", flush=True)
        seconds = []
        for p in order:
            seconds.append(visit(browser, url, p, t0))
            print(f"  second visit {p:12s} {fmt(seconds[-1].get('s'))} s", flush=True)
        alive = proc.poll() is None
    finally:
        stop_app(proc)
    return {"first": first, "healthy_s": healthy_s, "start_to_first_s": firsts[0].get("ready_after_start_s"),
            "first_visits": firsts, "warmup": warm, "second_visits": seconds, "server_alive": alive}


def wait_for_warmup(t0: float, timeout_s: float = 240.0) -> dict:
    """Wait until the server says its warm-up (ui/warmup.py) is done: that line, and when it was seen."""
    try:
        from ui.warmup import DONE_LINE, enabled_by_env
    except ImportError:  # an older tree without the warm-up
        return {"line": None, "seen_after_start_s": None}
    if not enabled_by_env():
        return {"line": None, "seen_after_start_s": None}
    log = ARTIFACTS / "bench_first_visit_server.log"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if DONE_LINE in ln] if log.is_file() else []
        if lines:
            return {"line": lines[-1], "seen_after_start_s": time.time() - t0}
        time.sleep(0.5)
    return {"line": None, "seen_after_start_s": None}


def fresh_each(browser) -> list[dict]:
    """A fresh server for every page, opened as its very first request: start -> that page interactive."""
    out = []
    for p in url_paths():
        port = free_port()
        t0 = time.time()
        proc = start_app(port, log_path=ARTIFACTS / "bench_first_visit_server.log")
        try:
            r = visit(browser, base_url(port), p, t0)
        finally:
            stop_app(proc)
        out.append(r)
        print(f"  fresh server, {p:12s} first: start -> interactive {fmt(r.get('ready_after_start_s'))} s", flush=True)
    return out


# ------------------------------------------------------------------------------------- cold computations

def _computations() -> list[tuple[str, str, str]]:
    """``(name, page, now)``: the shipped items, then what ui.warmup computes after a start."""
    from rep_models import precomputed
    from rep_models.catalogue import FEW_LABEL_ENCODERS

    pages = {"anomaly": "Draw: the first digit drawn", "train_pca": "Linear AE = PCA: first render",
             "test_codes": "VAE explorer: first render (sliders), β-VAE section, 2-D map overlay",
             "gan_histogram": "GAN studio: Mode collapse section", "linear_ae_test_mse": "Linear AE = PCA: first render"}
    warmed = "warmed after the start"
    out = [(f"precomputed:{n}", next(v for k, v in pages.items() if n.startswith(k)), "shipped file") for n in precomputed.ITEMS]
    out += [(f"few_label_codes:{r}", "Few labels: Run (per encoder chosen)", warmed) for r in FEW_LABEL_ENCODERS]
    out += [(f"manifold:{n}", "VAE explorer: 2-D map section", warmed) for n in (7, 11, 15, 21)]
    out += [("net_blob:vae", "VAE explorer: first render", warmed), ("models", "every page (every shipped model)", warmed),
            ("import:sklearn.linear_model", "Few labels: Run", warmed),
            ("placer:conv_ae:umap", "Latent map: a digit placed", "file read, kept (numpy placement: no numba to compile)")]
    return out


def one_computation(name: str) -> dict:
    """Run in a child process: time ``name`` cold (before and, for a shipped item, after)."""
    import importlib

    import torch

    from rep_models import checkpoint, precomputed
    from rep_models.device import flush_denormals

    torch.set_num_threads(1)
    flush_denormals()
    kind, _, arg = name.partition(":")
    out: dict = {}

    def cold(fn) -> float:
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    if kind == "precomputed":
        item = precomputed.ITEMS[arg]
        models = {m: precomputed.app_model(m) for m in item.models}  # loaded, as the page has them: not timed
        from rep_models.data import load_tensors

        if item.split:
            load_tensors("mnist", item.split, source="sample")  # the data read (cached): not timed
        out["before_ms"] = cold(lambda: precomputed.compute(arg, models.__getitem__))
        out["after_ms"] = cold(lambda: precomputed.load(arg))
    elif kind == "few_label_codes":
        from rep_models.codes import encode_all
        from rep_models.data import load_tensors

        x, _ = load_tensors("mnist", "full_train", source="sample")
        xt, _ = load_tensors("mnist", "test", source="sample")
        model = precomputed.app_model(arg)
        out["before_ms"] = cold(lambda: (encode_all(model, x[:5000]), encode_all(model, xt[:5000])))
    elif kind == "manifold":
        from rep_models.manifold import manifold_grid

        model = precomputed.app_model("vae_2d")
        out["before_ms"] = cold(lambda: manifold_grid(model, int(arg)))
    elif kind == "net_blob":  # ui.live.net_blob: the network exported to ONNX from its shipped weights
        from rep_models import onnx_export

        out["before_ms"] = cold(lambda: onnx_export.export_bytes(arg, checkpoint.load_pretrained(arg)))
    elif kind == "models":
        out["before_ms"] = cold(lambda: [precomputed.app_model(n) for n in checkpoint.available()])
    elif kind == "import":
        import streamlit  # noqa: F401 - the server has it

        out["before_ms"] = cold(lambda: importlib.import_module(arg))
    elif kind == "placer":
        import numpy as np

        from rep_models import projections as P

        rep, method = arg.split(":")
        out["before_ms"] = cold(lambda: P.placer(rep, method)(np.zeros(len(P.placer(rep, method).mean), np.float32)))
    return out


def computations(repeats: int) -> list[dict]:
    """Every computation of :func:`_computations`, cold in ``repeats`` fresh processes each: the medians."""
    rows = []
    for name, page, now in _computations():
        runs = []
        for _ in range(repeats):
            r = subprocess.run([sys.executable, "-m", "bench.first_visit", "--one", name], cwd=ROOT, capture_output=True,
                               text=True, env={**os.environ, "LATENT_LAB_WARMUP": "0"})
            try:
                runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
            except (IndexError, json.JSONDecodeError):
                runs.append({"error": (r.stderr.strip().splitlines() or ["?"])[-1][:160]})
        med = {k: statistics.median(x[k] for x in runs if k in x) for k in ("before_ms", "after_ms") if any(k in x for x in runs)}
        errors = [x["error"] for x in runs if "error" in x]
        rows.append({"computation": name, "page": page, "now": now, **med, "runs": runs, **({"error": errors[0]} if errors else {})})
        print(f"  {name:36s} before {fmt(med.get('before_ms'), 1)} ms  after {fmt(med.get('after_ms'), 1)} ms  ({now})"
              f"{'  ' + errors[0] if errors else ''}", flush=True)
    return rows


# ----------------------------------------------------------------------------------------------- report


def fmt(v, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def report(r: dict) -> str:
    la0, la1 = r["load_start"], os.getloadavg()
    md = [header("First visits: server start and the first visitor of each page"), ""]
    if max(la0[0], la1[0]) > 2.5:
        md += ["**WARNING: the load average was above 2.5 on 2 cores during this run (other jobs shared the CPU): "
               "these figures are distorted, not the app's.**", ""]
    t = r["tour"]
    md += [f"`streamlit run app.py` on 127.0.0.1 and headless Chromium ({VIEWPORT['width']}×{VIEWPORT['height']}) on the same machine; "
           "every visit in a new browser context (empty HTTP cache). Interactive: the page's title and first screen drawn "
           f"(`READY` in `bench/first_visit.py`), the script run over, no spinner, for {HOLD_MS} ms in a row.", "",
           f"**Server start → {'Home' if t['first'] == 'home' else '/' + t['first']} interactive: {fmt(t['start_to_first_s'])} s** "
           f"(the server answered its health check after {fmt(t['healthy_s'])} s; the first page, opened then, was interactive "
           f"{fmt(t['first_visits'][0].get('s'))} s after its navigation started).", ""]
    w = t.get("warmup") or {}
    md += ["Warm-up (`ui/warmup.py`, in the background after the first script run): "
           + (f"“{w['line']}”, seen in the server log {fmt(w['seen_after_start_s'], 1)} s after the start; the second visits "
              "began after that." if w.get("line") else "its end was not seen in the server log."), ""]
    seconds = {v["page"]: v for v in t["second_visits"]}
    rows = []
    for v in t["first_visits"]:
        s2 = seconds.get(v["page"], {})
        rows.append({"page": f"/{'' if v['page'] == 'home' else v['page']}", "first visit (s)": v.get("s"),
                     "began after the start (s)": v["at_s"], "second visit (s)": s2.get("s"),
                     "first − second (s)": v["s"] - s2["s"] if v.get("s") is not None and s2.get("s") is not None else None,
                     "app menu": "yes" if v["menu"] else "NO",
                     "errors": v.get("error") or (", ".join(f"{k} {x}" for k, x in v["errors"].items()) if v["errors"] else "none")})
    md += [table(rows), ""]
    diffs = [x["first − second (s)"] for x in rows[1:] if x["first − second (s)"] is not None]
    if diffs:
        md += [f"The first visit of a page (after Home) took {fmt(statistics.median(diffs))} s longer than the second, median "
               f"(max {fmt(max(diffs))} s). The warm-up (`ui/warmup.py`) starts when the first script run is over and runs at the "
               "lowest CPU priority; these visits start right after each other, so they overlap it.", ""]
    if r.get("fresh_each"):
        md += ["### A fresh server for every page, opened as its very first request", "",
               table([{"page": f"/{'' if v['page'] == 'home' else v['page']}", "server start → interactive (s)": v.get("ready_after_start_s"),
                       "navigation → interactive (s)": v.get("s"), "app menu": "yes" if v["menu"] else "NO",
                       "errors": v.get("error") or (", ".join(v["errors"]) if v["errors"] else "none")} for v in r["fresh_each"]]), ""]
    if r.get("computations"):
        md += [f"### First-use computations, cold (medians of {r['computations_repeats']} new processes each; models and data "
               "already loaded, one torch thread)", "",
               table([{"computation": c["computation"], "needed on": c["page"], "before: computed (ms)": c.get("before_ms"),
                       "after: file read (ms)": c.get("after_ms"), "now": c["now"]} for c in r["computations"]]),
               "before: computed on first use, as the pages did before; after: the shipped file read "
               "(`rep_models.precomputed`, checks included). The rows without a file are computed once per server by "
               "`ui/warmup.py` after the first script run (the Few labels codes are 10,000 per encoder: too big to ship).", ""]
    return "\n".join(md) + "\n"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.first_visit", description=__doc__.split("\n\n")[0])
    p.add_argument("--first", default="home", choices=list(READY), help="the page opened as the very first request (default home)")
    p.add_argument("--fresh-each", action="store_true", help="also start a fresh server for every page, opened first")
    p.add_argument("--computations", action="store_true", help="also time every first-use computation cold, each in a new process")
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per computation for --computations (median; default 3)")
    p.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/first_visit.*")
    p.add_argument("--quick", action="store_true", help="accepted for bench.all (one tour is already short)")
    p.add_argument("--one", help=argparse.SUPPRESS)  # the child of --computations
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(one_computation(args.one)))
        return
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    r: dict = {"load_start": os.getloadavg()}
    if args.computations:
        print("first-use computations, cold:", flush=True)
        r["computations"] = computations(args.repeats)
        r["computations_repeats"] = args.repeats
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        print(f"server start, then {args.first} first:", flush=True)
        try:
            r["tour"] = tour(browser, args.first)
        except RuntimeError as e:
            raise SystemExit(str(e)) from None
        print(f"server start -> {args.first} interactive: {fmt(r['tour']['start_to_first_s'])} s", flush=True)
        if args.fresh_each:
            r["fresh_each"] = fresh_each(browser)
        browser.close()
    md = report(r)
    print("\n" + md, flush=True)
    if not args.no_write:
        out = write_section("first_visit", md, r)
        print(f"wrote bench/results/first_visit.md and {out.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
