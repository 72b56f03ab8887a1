"""Run every benchmark in turn and rebuild bench/RESULTS.md.

    python -m bench.all            # the full figures (about 25 minutes on 2 cores)
    python -m bench.all --quick    # smoke run of each script (a few minutes)

Run it on an otherwise idle machine: the figures are wall-clock times.
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from bench.common import ROOT

SCRIPTS = ["inference", "training", "memory", "projections", "browser", "first_visit", "denoise_upload"]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", nargs="*", choices=SCRIPTS)
    args = p.parse_args(argv)
    failed = []
    for name in args.only or SCRIPTS:
        cmd = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if args.quick and name != "memory" else [])
        if args.quick and name == "memory":
            cmd.append("--models-only")
        print("$", " ".join(cmd[1:]), flush=True)
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:  # each in its own process: no shared caches or threads
            failed.append(name)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
