"""N replicas of the app behind nginx on this machine, until Ctrl-C.

    python -m deploy.local                      # 2 replicas, the proxy on http://127.0.0.1:8080
    python -m deploy.local --replicas 3 --port 9000 --logs artifacts/proxy

Loopback only: for a machine's own classroom server behind a real proxy, or to measure (bench/load_test.py
--replicas N starts the same thing). Needs Debian's nginx (``apt-get install -y nginx-light``). For a real
deployment use deploy/compose.yaml.
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.proxy import Cluster  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=2, help="Streamlit servers behind the proxy (default 2)")
    ap.add_argument("--port", type=int, default=8080, help="the proxy's port on 127.0.0.1 (default 8080)")
    ap.add_argument("--logs", default=None, help="directory for the replicas' logs and nginx's files (default: a temporary one)")
    args = ap.parse_args(argv)
    if args.replicas < 1:
        ap.error(f"--replicas must be at least 1, got {args.replicas}")
    try:
        cluster = Cluster(args.replicas, args.port, args.logs).start()
    except RuntimeError as e:
        print(f"could not start: {e}", file=sys.stderr)
        return 1
    print(f"{args.replicas} replicas on ports {', '.join(map(str, cluster.ports))}; open {cluster.url}", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
