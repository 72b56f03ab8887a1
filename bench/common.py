"""Shared by the bench scripts: timing, the machine's description, the shipped models, and RESULTS.md.

Each script writes its section to ``bench/results/NAME.md`` (plus the raw figures as ``NAME.json``);
``RESULTS.md`` is rebuilt from all sections after every run, so the scripts can be run one at a time.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS_DIR = BENCH / "results"
LOAD_AT_START = os.getloadavg()
SECTIONS = ["inference", "projections", "training", "memory", "load_test", "browser", "first_visit"]

os.environ.setdefault("LATENT_LAB_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))


def machine() -> str:
    """One line: CPU model, cores, RAM, Python, torch, threads."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")).split()[1])
        mem = f"{mem_kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        mem = "RAM unknown"
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    return (f"{cpu}, {os.cpu_count()} cores, {mem}{gpu}; Python {platform.python_version()}, torch {torch.__version__}, "
            f"torch threads {torch.get_num_threads()}")


def busy_note() -> str:
    """Warn in the results when a training run (``python -m rep_models.train``) shares the CPU."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"rep_models.train" in cmd and proc.name != str(os.getpid()):
            return "**WARNING: a model was training on this CPU during this run; these figures are distorted.**"
    return ""


def command() -> str:
    """The command line that ran this script, as ``python -m bench.NAME ...`` (as is when not run from the tree)."""
    args = "" if len(sys.argv) == 1 else " " + " ".join(sys.argv[1:])
    try:
        return "python -m " + Path(sys.argv[0]).with_suffix("").relative_to(ROOT).as_posix().replace("/", ".") + args
    except ValueError:  # e.g. under pytest
        return " ".join(sys.argv)


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 3, budget_s: float | None = None) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` calls (fewer if ``budget_s`` runs out)."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if budget_s is not None and time.perf_counter() - start > budget_s and len(times) >= 5:
            break
    return statistics.median(times) * 1e3


def interleaved_ms(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 3, budget_s: float = 20.0) -> dict[str, float]:
    """Medians (ms) of several variants timed round-robin, so drifting load hits them all alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    start = time.perf_counter()
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
        if time.perf_counter() - start > budget_s and len(next(iter(times.values()))) >= 5:
            break
    return {k: statistics.median(v) * 1e3 for k, v in times.items()}


def load_models(names: list[str] | None = None) -> tuple[dict[str, torch.nn.Module], list[str]]:
    """The shipped models (``pretrained/``); a recipe not shipped yet is built untrained so the script
    still runs (speed does not depend on the weights). Returns (models, names built untrained)."""
    from rep_models import checkpoint
    from rep_models.models import build
    from rep_models.zoo import ZOO

    shipped = set(checkpoint.available())
    models, untrained = {}, []
    for name in names or list(ZOO):
        if name in shipped:
            models[name] = checkpoint.load(checkpoint.PRETRAINED_DIR / name)
        else:
            recipe = ZOO[name]
            models[name] = build(recipe["model"], **recipe.get("config", {})).eval()
            untrained.append(name)
    return models, untrained


def header(title: str, extra: str = "") -> str:
    lines = [f"## {title}", "", f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
             f"- Machine: {machine()}", f"- Command: `{command()}`"]
    fmt = lambda la: " / ".join(f"{v:.1f}" for v in la)
    lines.append(f"- Load average (1/5/15 min) at the start: {fmt(LOAD_AT_START)}; at the end: {fmt(os.getloadavg())} (2 cores: above ~2 means other work shared the CPU)")
    note = busy_note()
    if note:
        lines.append(f"- {note}")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A markdown table of ``rows`` (dicts); floats get 3 significant digits."""
    if not rows:
        return "(no rows)\n"
    columns = columns or list(rows[0])

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return "" if v is None else str(v)

    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(out) + "\n"


def write_section(name: str, markdown: str, data: dict | None = None) -> Path:
    """Save one script's section and rebuild ``bench/RESULTS.md`` from every saved section."""
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.md").write_text(markdown.rstrip() + "\n")
    if data is not None:
        (RESULTS_DIR / f"{name}.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    parts = ["# Latent Lab benchmarks", "",
             "Figures from the scripts in `bench/`, each section written by the command it names. Medians over "
             "repeats; wall-clock times on the machine named in each section (a 2-core CPU VM unless it says otherwise).",
             "Regenerate everything with `python -m bench.all` (or one script at a time). Each section gives its date, "
             "its command and the load average before and after it ran (on 2 cores, above ~2 means other work shared the CPU).", ""]
    order = SECTIONS + sorted(p.stem for p in RESULTS_DIR.glob("*.md") if p.stem not in SECTIONS)
    for sec in order:
        p = RESULTS_DIR / f"{sec}.md"
        if p.is_file():
            parts += [p.read_text().rstrip(), ""]
    out = BENCH / "RESULTS.md"
    out.write_text("\n".join(parts))
    return out


def passfail(ok: bool, fail: str = "FAIL") -> str:
    """Return "PASS" if ``ok``, else ``fail`` ("FAIL"; the browser figures say "MISS" for a bar not met)."""
    return "PASS" if ok else fail
