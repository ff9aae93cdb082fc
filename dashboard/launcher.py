"""Start and stop the whole stack: redis-server, one Celery worker, Daphne and the live cluster's API (kubeapi).

`python -m dashboard.launcher` is what `make run` calls; `tests/stack.py` uses the same `Stack` class on
free ports with a temporary database, so the tests exercise exactly the processes a user runs.

This module must not import Django settings at import time: it configures the children's environment and
runs `manage.py` commands as subprocesses.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6390/0"


class LaunchError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LaunchError(f"process exited with code {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise LaunchError(f"nothing listening on {host}:{port} after {timeout:.0f} s")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Stack:
    """The dashboard's processes. `env` overrides are passed to every child."""

    def __init__(self, var_dir: Path, http_port: int, bind: str = "127.0.0.1", env: dict | None = None,
                 redis_persist: bool = True, worker_concurrency: int = 2, quiet: bool = False,
                 kubeapi_port: int | None = None):
        self.var_dir = Path(var_dir)
        # The live cluster's Kubernetes API (manage.py kubeapi) on this port; None: not started.
        self.kubeapi_port = kubeapi_port
        self.http_port = http_port
        self.bind = bind
        self.quiet = quiet
        self.redis_persist = redis_persist
        self.worker_concurrency = worker_concurrency
        self.env = dict(os.environ)
        self.env.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
        self.env.update(env or {})
        self.env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
        self.env["PYTHONUNBUFFERED"] = "1"
        url = urlparse(self.env["REDIS_URL"])
        self.redis_host = url.hostname or "127.0.0.1"
        self.redis_port = url.port or 6379
        self.procs: dict[str, subprocess.Popen] = {}
        self.log_dir = self.var_dir / "log"

    # -- helpers ------------------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = None
        if self.quiet:
            out = open(self.log_dir / f"{name}.log", "ab")
        # Each child in its own process group, so Ctrl-C in the terminal reaches only the launcher,
        # which then stops the children in order.
        proc = subprocess.Popen(argv, cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def manage(self, *args: str, capture: bool = False) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=self.env,
                                capture_output=capture, text=True)
        if result.returncode != 0:
            detail = (result.stderr or "") if capture else ""
            raise LaunchError(f"manage.py {' '.join(args)} failed with code {result.returncode}\n{detail}")
        return result.stdout if capture else ""

    # -- the processes ------------------------------------------------------------------------------

    def start_redis(self) -> None:
        if port_open(self.redis_host, self.redis_port):
            # Someone (an earlier `make run`, or an operator's own Redis) already serves REDIS_URL.
            return
        if self.redis_host not in ("127.0.0.1", "localhost", "::1"):
            raise LaunchError(f"Redis at {self.env['REDIS_URL']} is not reachable, and it is not local, "
                              "so the launcher cannot start it.")
        server = shutil.which("redis-server")
        if not server:
            raise LaunchError("redis-server is not installed. On Debian: apt-get install redis-server "
                              "(`make run` does this when run as root).")
        data = self.var_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        argv = [server, "--bind", "127.0.0.1", "--port", str(self.redis_port), "--dir", str(data),
                "--daemonize", "no", "--protected-mode", "yes", "--save", ""]
        argv += ["--appendonly", "yes" if self.redis_persist else "no"]
        if self.quiet:
            argv += ["--loglevel", "warning"]
        proc = self._spawn("redis", argv)
        wait_for_port(self.redis_host, self.redis_port, 15, proc)

    def start_worker(self) -> None:
        self._spawn("worker", [sys.executable, "-m", "celery", "-A", "dashboard", "worker",
                               "--loglevel", "INFO", "--concurrency", str(self.worker_concurrency),
                               "--without-gossip", "--without-mingle", "-n", f"worker-{self.http_port}@%h"])

    def start_daphne(self) -> None:
        proc = self._spawn("daphne", [sys.executable, "-m", "daphne", "-b", self.bind, "-p", str(self.http_port),
                                      "dashboard.asgi:application"])
        host = "127.0.0.1" if self.bind in ("0.0.0.0", "::") else self.bind
        wait_for_port(host, self.http_port, 30, proc)

    def start_kubeapi(self) -> None:
        proc = self._spawn("kubeapi", [sys.executable, "manage.py", "kubeapi", "--port", str(self.kubeapi_port)])
        bind = self.env.get("KUBEAPI_BIND", self.env.get("DASHBOARD_BIND", "127.0.0.1"))
        wait_for_port("127.0.0.1" if bind in ("0.0.0.0", "::") else bind, self.kubeapi_port, 60, proc)

    def wait_for_worker(self, timeout: float = 30) -> None:
        """Block until the Celery worker answers a ping (it is ready to take runs)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker = self.procs.get("worker")
            if worker is not None and worker.poll() is not None:
                raise LaunchError(f"the Celery worker exited with code {worker.returncode}")
            out = subprocess.run([sys.executable, "-m", "celery", "-A", "dashboard", "inspect", "ping",
                                  "--timeout", "1"], cwd=BASE_DIR, env=self.env, capture_output=True, text=True)
            if out.returncode == 0 and "pong" in out.stdout:
                return
            time.sleep(0.5)
        raise LaunchError("the Celery worker did not answer within %.0f s" % timeout)

    def start(self, ensure_instructor: bool = True) -> str:
        """Start everything; returns what ensure_instructor printed (the password, on first creation)."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        printed = ""
        try:
            self.start_redis()
            self.manage("migrate", "--noinput", *(["-v", "0"] if self.quiet else []))
            if ensure_instructor:
                printed = self.manage("ensure_instructor", capture=True)
            self.start_worker()
            self.start_daphne()
            if self.kubeapi_port:
                self.start_kubeapi()
            self.wait_for_worker()
        except BaseException:
            self.stop()
            raise
        return printed

    def check(self) -> str | None:
        """The name of a child that has exited, if any."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return name
        return None

    def stop(self, timeout: float = 10) -> None:
        # Web first (no new runs), then the worker (it finishes its current event), Redis last.
        for name in ("kubeapi", "daphne", "worker", "redis"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()


def main() -> int:
    port = int(os.environ.get("DASHBOARD_HTTP_PORT", "8000"))
    bind = os.environ.get("DASHBOARD_BIND", "127.0.0.1")
    kubeapi = os.environ.get("KUBEAPI_ENABLED", "1").strip().lower() in ("1", "true", "yes", "on")
    kubeapi_port = int(os.environ.get("KUBEAPI_PORT", "6443")) if kubeapi else None
    stack = Stack(BASE_DIR / "var", port, bind=bind, kubeapi_port=kubeapi_port)
    if port_open("127.0.0.1", port):
        print(f"Port {port} is already in use. Stop the other server or set DASHBOARD_HTTP_PORT.", file=sys.stderr)
        return 1
    if kubeapi_port and port_open("127.0.0.1", kubeapi_port):
        print(f"Port {kubeapi_port} (the live cluster's Kubernetes API) is already in use. Stop the other server, "
              "set KUBEAPI_PORT, or KUBEAPI_ENABLED=0.", file=sys.stderr)
        return 1

    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        printed = stack.start()
    except LaunchError as exc:
        print(f"Could not start the dashboard: {exc}", file=sys.stderr)
        return 1

    shown = "localhost" if bind in ("127.0.0.1", "0.0.0.0", "::") else bind
    user = stack.env.get("DASHBOARD_INSTRUCTOR_USER", "instructor")
    print()
    print("=" * 72)
    print(f"  K8s Internals Dashboard is running:  http://{shown}:{port}/")
    if bind in ("0.0.0.0", "::"):
        print(f"  Students on the network use this machine's address, port {port}.")
    print(f"  Instructor login: {user}")
    if printed.strip():
        print("  " + printed.strip().replace("\n", "\n  "))
    else:
        print("  (password: the one printed on the first `make run`, or DASHBOARD_INSTRUCTOR_PASSWORD;")
        print("   reset it with: .venv/bin/python manage.py changepassword " + user + ")")
    if kubeapi_port:
        print(f"  Live cluster for kubectl: https://{shown}:{kubeapi_port}/  (a kubeconfig: "
              ".venv/bin/python manage.py kubeconfig instructor > kubeconfig.yaml)")
    print("  Press Ctrl-C to stop redis-server, the Celery worker, Daphne and the live cluster.")
    print("=" * 72, flush=True)

    exit_code = 0
    while not stopping:
        dead = stack.check()
        if dead:
            print(f"{dead} exited unexpectedly; stopping everything.", file=sys.stderr)
            exit_code = 1
            break
        time.sleep(0.5)
    print("Stopping…", flush=True)
    stack.stop()
    print("Stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
