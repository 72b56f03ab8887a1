"""N Streamlit replicas behind nginx on loopback: what ``python -m deploy.local``, ``bench/load_test.py
--replicas N`` and tests/test_proxy.py start.

    with Cluster(replicas=2) as c:      # c.url: the proxy; c.procs: the replicas' own processes
        ...

The nginx side is ``deploy/latent_lab.conf.template`` (the same file a real deployment uses, see
``deploy/compose.yaml``), rendered with the replicas' ports and wrapped in a minimal main configuration that keeps
every file nginx writes (pid, logs, temporary bodies) in a directory of its own, so it runs without root and
beside a system nginx. Needs Debian's ``nginx`` (or ``nginx-light``) package.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from string import Template

from harness.server import ROOT, base_url, free_port, healthy, start_app, stop_app

TEMPLATE = ROOT / "deploy" / "latent_lab.conf.template"
NGINX = "/usr/sbin/nginx"
STICKY_COOKIE = "latent_lab_replica"

MAIN_CONF = """\
# Written by harness/proxy.py for one run; deploy/latent_lab.conf.template is the part that matters.
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 2048; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/latent_lab.conf;
}
"""


def nginx_path() -> str | None:
    """The nginx binary, or None if the package is not installed."""
    return shutil.which("nginx") or (NGINX if Path(NGINX).is_file() else None)


def render(upstreams: list[str], listen: str) -> str:
    """deploy/latent_lab.conf.template with its two variables set: ``upstreams`` as ``host:port`` strings and
    ``listen`` as nginx's ``listen`` argument (e.g. ``127.0.0.1:8080``). The nginx variables stay as they are."""
    if not upstreams:
        raise ValueError("expected at least one upstream replica (host:port), got none")
    # max_fails=0: a replica slow to answer under load is never taken out of the hash (nginx's default after one
    # failed attempt, for 10 s), which would send its sessions' requests to a replica that does not know them.
    servers = " ".join(f"server {u} max_fails=0;" for u in upstreams)
    return Template(TEMPLATE.read_text()).safe_substitute(LATENT_LAB_UPSTREAMS=servers, LATENT_LAB_LISTEN=listen)


class Cluster:
    """``replicas`` Streamlit servers (``harness.server.start_app``) and nginx in front of them, on 127.0.0.1.

    ``port``: the proxy's (default: a free one); ``log_dir``: where the replicas' logs and nginx's files go (default:
    a temporary directory, removed on exit). ``env`` reaches every replica."""

    def __init__(self, replicas: int = 2, port: int | None = None, log_dir: str | Path | None = None,
                 env: dict[str, str] | None = None, timeout_s: float = 120.0):
        if replicas < 1:
            raise ValueError(f"replicas must be at least 1, got {replicas}")
        self.replicas, self.port, self.env, self.timeout_s = replicas, port or free_port(), env, timeout_s
        self._tmp = None if log_dir is not None else tempfile.TemporaryDirectory(prefix="latent_lab_proxy_")
        self.dir = Path(log_dir if log_dir is not None else self._tmp.name)
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []
        self.nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return base_url(self.port)

    def start(self) -> Cluster:
        exe = nginx_path()
        if exe is None:
            raise RuntimeError("nginx is not installed (Debian: apt-get install -y nginx-light)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)  # run as root, nginx's workers are "nobody": they must reach the temporary-body paths
        try:
            for i in range(self.replicas):
                port = free_port()
                self.procs.append(start_app(port, log_path=self.dir / f"replica_{i}.log", env=self.env, timeout_s=self.timeout_s))
                self.ports.append(port)
            (self.dir / "latent_lab.conf").write_text(render([f"127.0.0.1:{p}" for p in self.ports], f"127.0.0.1:{self.port}"))
            (self.dir / "nginx.conf").write_text(Template(MAIN_CONF).substitute(dir=self.dir))
            self.nginx = subprocess.Popen([exe, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-e", str(self.dir / "error.log")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 20
            while not healthy(self.url):
                if self.nginx.poll() is not None or time.monotonic() > deadline:
                    log = (self.dir / "error.log").read_text() if (self.dir / "error.log").is_file() else ""
                    raise RuntimeError(f"nginx did not start on {self.url}: {log.strip()[-500:] or 'no log'}")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        for p in self.procs:
            stop_app(p)
        self.procs, self.nginx = [], None
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
