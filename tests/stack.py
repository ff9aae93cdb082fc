"""The real stack for integration tests: redis-server, a Celery worker and Daphne on free ports.

Nothing here is mocked: the tests talk HTTP and WebSocket to the same processes `make run` starts
(dashboard.launcher.Stack), against a temporary SQLite file and a Redis of their own.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from dashboard.launcher import Stack, free_port


class RunningStack:
    def __init__(self, root: Path):
        self.root = root
        self.http_port = free_port()
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.ws_url = f"ws://127.0.0.1:{self.http_port}"
        self.instructor_user = "instructor"
        self.instructor_password = secrets.token_urlsafe(12)
        self.env = {
            "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
            "REDIS_URL": self.redis_url,
            "DASHBOARD_INSTRUCTOR_USER": self.instructor_user,
            "DASHBOARD_INSTRUCTOR_PASSWORD": self.instructor_password,
            "DJANGO_DEBUG": "1",
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            # Tests start many runs as one instructor, some of them left paused; the limits have their own tests.
            "DASHBOARD_MAX_ACTIVE_RUNS": "1000",
            "DASHBOARD_RUNS_PER_MINUTE": "1000",
        }
        self.stack = Stack(root / "var", self.http_port, env=self.env, redis_persist=False, quiet=True)

    def start(self) -> None:
        self.stack.start()

    def stop(self) -> None:
        self.stack.stop()

    def logs(self) -> str:
        """The children's logs, for failure messages."""
        out = []
        for log in sorted((self.root / "var" / "log").glob("*.log")):
            out.append(f"----- {log.name} -----\n" + log.read_text(errors="replace")[-4000:])
        return "\n".join(out)

    def manage(self, *args: str) -> str:
        return self.stack.manage(*args, capture=True)

    def session(self, login: bool = True, username: str | None = None, password: str | None = None) -> requests.Session:
        """A requests session; logged in as the instructor (or the given user) unless login=False.

        The CSRF token is read from the cookie Django sets and sent as X-CSRFToken, as the page does.
        """
        s = requests.Session()
        s.headers["Referer"] = self.base_url + "/"
        r = s.get(self.base_url + "/accounts/login/", timeout=10)
        r.raise_for_status()
        token = s.cookies.get("csrftoken")
        if login:
            r = s.post(self.base_url + "/accounts/login/", timeout=10, data={
                "username": username or self.instructor_user,
                "password": password or self.instructor_password,
                "csrfmiddlewaretoken": token,
            }, allow_redirects=False)
            if r.status_code != 302:
                raise AssertionError(f"login failed: {r.status_code} {r.text[:500]}")
            token = s.cookies.get("csrftoken")
        s.headers["X-CSRFToken"] = token or ""
        return s


@contextlib.contextmanager
def started(running: RunningStack, what: str = "the test stack"):
    """Start it (its logs in the error when it cannot); afterwards stop it and remove its files, unless
    KEEP_TEST_STACK=1."""
    try:
        running.start()
    except Exception:
        logs = running.logs()
        running.stop()
        raise RuntimeError(f"could not start {what}\n" + logs)
    try:
        yield running
    finally:
        running.stop()
        if os.environ.get("KEEP_TEST_STACK") != "1":
            shutil.rmtree(running.root, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    with started(RunningStack(Path(tempfile.mkdtemp(prefix="k8sdash-test-")))) as running:
        yield running
