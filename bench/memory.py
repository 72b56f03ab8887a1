"""Memory: peak RSS of a process with every shipped model loaded, and of the Streamlit app's server as
browser sessions are added.

    python -m bench.memory               # both parts (the app part needs app.py and /usr/bin/chromium)
    python -m bench.memory --models-only
    python -m bench.memory --sessions 8

Part 1 runs in a fresh child process: RSS after importing torch and the package, after loading every
model in ``pretrained/``, after building each model's fast path (``rep_models.fast``) and running it
once, and the peak (``VmHWM``).

Part 2 starts ``streamlit run app.py`` headless on a free 127.0.0.1 port (holding the server's own PID),
opens one headless-Chromium session that visits every page (so the app loads what its pages need), then
opens further sessions one at a time, each kept open on a page, and reads the server's RSS from
``/proc/PID/status`` after each. Growth per extra session is the least-squares slope of RSS against the
number of open sessions.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, header, passfail, table, write_section
from harness.server import CHROMIUM, CHROMIUM_ARGS, free_port, start_app, stop_app


def status_mb(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process in MB, from /proc."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(val.split()[0]) / 1024
    return out


CHILD = r"""
import json, sys, time
from bench.memory import status_mb
stages = {}
t = time.perf_counter()
import torch
import rep_models
from rep_models import checkpoint
from bench import variants
stages["import torch + rep_models"] = status_mb()
names = checkpoint.available()
models = {n: checkpoint.load(checkpoint.PRETRAINED_DIR / n) for n in names}
stages[f"+ {len(models)} shipped models loaded"] = status_mb()
with torch.inference_mode():
    for n, m in models.items():
        if m.family == "gan":
            variants.decoder(m)(torch.randn(1, m.config.z_dim), torch.zeros(1, dtype=torch.long) if m.conditional else None)
        elif m.family == "classifier":
            variants.classifier(m)(torch.rand(1, 1, 28, 28))
        elif m.family == "encoder":
            variants.encoder(m)(torch.rand(1, 1, 28, 28))
        elif m.family == "vae" and m.config.n_classes:
            variants.reconstructor(m)(torch.rand(1, 1, 28, 28), torch.zeros(1, dtype=torch.long))
        else:
            variants.reconstructor(m)(torch.rand(1, 1, 28, 28))
stages["+ each model's fast path built and run once"] = status_mb()
from rep_models import data
x, y = data.load_tensors("mnist", "test", source="sample")
stages["+ MNIST test set as tensors"] = status_mb()
print(json.dumps({"models": names, "stages": stages, "peak": status_mb()["VmHWM"], "seconds": time.perf_counter() - t}))
"""


def models_part() -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_idle(page, timeout_s: float = 90) -> float:
    """Wait until the script run finished (no running status widget for 1.5 s); returns the seconds waited."""
    t0 = time.time()
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    quiet_since = None
    while time.time() - t0 < timeout_s:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > 1.5:
            break
        time.sleep(0.25)
    return time.time() - t0


def sessions_part(n_sessions: int, page_path: str) -> dict:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from ui.common import PAGES

    urls = [""] + [p.url_path for p in PAGES if (ROOT / p.path).is_file()]
    port = free_port()
    server = start_app(port, timeout_s=120)
    base = f"http://127.0.0.1:{port}/"
    res: dict = {"pages": urls, "page_for_sessions": page_path}
    try:
        res["server_started"] = status_mb(server.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            tour = browser.new_page()
            visits = []
            for u in urls:  # one session walks every page: the app loads what every page needs
                tour.goto(base + u)
                visits.append({"page": "/" + u, "seconds": wait_idle(tour), **status_mb(server.pid)})
                print(visits[-1], flush=True)
            tour.close()
            time.sleep(2)
            res["tour"] = visits
            res["after_tour"] = status_mb(server.pid)
            open_pages, series = [], []
            for i in range(1, n_sessions + 1):
                ctx = browser.new_context()
                pg = ctx.new_page()
                pg.goto(base + page_path)
                wait_idle(pg)
                time.sleep(1)
                open_pages.append(pg)
                series.append({"open_sessions": i, **status_mb(server.pid)})
                print(series[-1], flush=True)
            res["series"] = series
            browser.close()
    finally:
        res["peak_MB"] = status_mb(server.pid)["VmHWM"]
        stop_app(server)
    xs = [s["open_sessions"] for s in res["series"]]
    ys = [s["VmRSS"] for s in res["series"]]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    res["per_session_MB"] = sum((a - mx) * (b - my) for a, b in zip(xs, ys, strict=True)) / max(1e-9, sum((a - mx) ** 2 for a in xs))
    return res


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models-only", action="store_true")
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--page", default="", help="URL path the extra sessions open (default: the home page)")
    args = p.parse_args(argv)
    data: dict = {}
    md = [header("Memory"), ""]
    m = models_part()
    data["models"] = m
    rows = [{"stage": k, "VmRSS_MB": v["VmRSS"], "VmHWM_MB": v["VmHWM"]} for k, v in m["stages"].items()]
    md += [f"### One process with every shipped model ({len(m['models'])}: {', '.join(m['models'])})", "", table(rows),
           f"Peak RSS {m['peak']:.0f} MB (bar ≤ 1,536 MB: **{passfail(m['peak'] <= 1536)}**).", ""]
    if not args.models_only:
        if not (ROOT / "app.py").is_file() or not Path(CHROMIUM).exists():
            md += ["### The app server", "", "Skipped: app.py or /usr/bin/chromium missing.", ""]
        else:
            s = sessions_part(args.sessions, args.page)
            data["sessions"] = s
            peak_ok = s["peak_MB"] <= 1536
            sess_ok = s["per_session_MB"] <= 30
            md += ["### The app server (`streamlit run app.py`), one session touring every page, then extra sessions", "",
                   f"Server RSS at start: {s['server_started']['VmRSS']:.0f} MB.", "", "Tour (one session, pages in turn):", "", table(s["tour"]),
                   f"Extra sessions, each a new browser context left open on `/{s['page_for_sessions']}`:", "", table(s["series"]),
                   f"- Peak server RSS: **{s['peak_MB']:.0f} MB** (bar ≤ 1,536 MB: **{passfail(peak_ok)}**)",
                   f"- Growth per extra session (least-squares slope): **{s['per_session_MB']:.1f} MB** (bar ≤ 30 MB: **{passfail(sess_ok)}**)", ""]
    write_section("memory", "\n".join(md), data)


if __name__ == "__main__":
    main()
