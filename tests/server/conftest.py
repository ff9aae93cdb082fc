"""Fixtures for the server tests.

Personas: an instructor (has dashboard.instructor), a viewer (logged in, no permission) and an anonymous
student. View tests use Django's test client against a real redis-server of their own (`test_redis`);
pipeline tests use the session-wide `stack` (tests/stack.py: redis-server, a Celery worker, Daphne).
Nothing is mocked.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time

import pytest
import redis

from dashboard.launcher import free_port, wait_for_port

FINISHED = ("succeeded", "failed", "cancelled")


# -- a Redis of our own for test-client tests -----------------------------------------------------------

@pytest.fixture(scope="session")
def test_redis():
    """A real redis-server on a free port, for tests that do not need the whole stack."""
    server = shutil.which("redis-server")
    if not server:
        pytest.fail("redis-server is not installed")
    port = free_port()
    data = tempfile.mkdtemp(prefix="k8sdash-redis-")
    proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(port), "--dir", data, "--save", "",
                             "--appendonly", "no", "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, 15, proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(autouse=True)
def many_active_runs(settings):
    """Tests create many runs as one instructor; the per-instructor limit is tested on its own."""
    settings.DASHBOARD_MAX_ACTIVE_RUNS = 1000


@pytest.fixture
def redis_conn(test_redis, settings):
    """Point the app (run logs, channel layer, Celery broker) at test_redis, empty, and return a client."""
    from dashboard.celery import app

    settings.REDIS_URL = test_redis
    settings.CELERY_BROKER_URL = test_redis
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [{"address": test_redis, "socket_timeout": 30}]}}}
    app.conf.broker_url = test_redis
    conn = redis.Redis.from_url(test_redis, decode_responses=True)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def queued_tasks(conn) -> int:
    """Messages waiting in Celery's default queue (a Redis list named "celery")."""
    return conn.llen("celery")


# -- personas -----------------------------------------------------------------------------------------------

@pytest.fixture
def instructor(django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("teacher", password="pw-teacher-123")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="dashboard", codename="instructor"))
    return user


@pytest.fixture
def viewer(django_user_model):
    return django_user_model.objects.create_user("student", password="pw-student-123")


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


def post_json(client, url, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


# -- the live stack -------------------------------------------------------------------------------------------

def ws_connect(stack, path: str, origin: str | None = None):
    """A synchronous WebSocket client connection (websockets' sync client), from the page's origin."""
    from websockets.sync.client import connect

    return connect(stack.ws_url + path, origin=origin or stack.base_url, proxy=None, open_timeout=10,
                   legacy=True)


def unbatch(message: dict) -> list[dict]:
    """A server message as the messages of the design's protocol: an `events` frame (consecutive events sent
    together) becomes one `event` message per event, in order; anything else stays as it is."""
    if message.get("type") == "events":
        assert isinstance(message["events"], list) and message["events"], f"empty events frame: {message}"
        return [{"type": "event", "event": ev} for ev in message["events"]]
    return [message]


class Viewer:
    """A WebSocket viewer of one run, speaking the live protocol (subscribe / snapshot / event / run).

    `events` frames are split into `event` messages (unbatch), and `frames` counts what came on the wire."""

    def __init__(self, stack, run_id: str):
        self.ws = ws_connect(stack, f"/ws/runs/{run_id}/")
        self.seq: int | None = None  # the last seq this viewer has (from a snapshot or an event)
        self.backlog: list[dict] = []
        self.frames = 0

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def subscribe(self, since: int = 0) -> None:
        self.seq = since or None
        self.send({"type": "subscribe", "since": since})

    def recv(self, timeout: float = 10) -> dict:
        if not self.backlog:
            self.backlog = unbatch(json.loads(self.ws.recv(timeout=timeout)))
            self.frames += 1
        message = self.backlog.pop(0)
        if message.get("type") == "event":
            self.seq = message["event"]["seq"]
        elif message.get("type") == "snapshot":
            self.seq = message["seq"]
        return message

    def close(self) -> None:
        self.ws.close()

    def messages_until(self, done, timeout: float = 60) -> list[dict]:
        """Receive until done(message) is true (inclusive)."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; got {summarize(out)}")
            try:
                message = self.recv(timeout=remaining)
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout} s; got {summarize(out)}") from None
            out.append(message)
            if done(message):
                return out

    def until_status(self, statuses, timeout: float = 60) -> list[dict]:
        """Receive until the run is in one of `statuses` and every event up to its last_seq has arrived.

        Events may come before the status message that announces them (the consumer's safety poll can send
        them first), so progress is judged by self.seq, across calls.
        """
        target = {"seq": None}

        def done(message):
            if message["type"] == "run":
                target["seq"] = message["run"]["last_seq"] if message["run"]["status"] in statuses else None
            return target["seq"] is not None and self.seq is not None and self.seq >= target["seq"]

        return self.messages_until(done, timeout)

    def until_finished(self, timeout: float = 60) -> list[dict]:
        """Receive until the run has finished and its last event (or a snapshot at it) has arrived."""
        return self.until_status(FINISHED, timeout)


def summarize(messages: list[dict]) -> str:
    parts = []
    for m in messages[-30:]:
        if m["type"] == "event":
            parts.append(f"event {m['event']['seq']} {m['event']['type']}")
        elif m["type"] == "snapshot":
            parts.append(f"snapshot {m['seq']}")
        elif m["type"] == "run":
            parts.append(f"run {m['run']['status']} last_seq={m['run']['last_seq']}")
        else:
            parts.append(json.dumps(m)[:200])
    return "; ".join(parts)


def start_run(session, stack, **body) -> dict:
    body.setdefault("scenario", "pod-create")
    body.setdefault("backend", "sim")
    body.setdefault("speed", "max")
    r = session.post(stack.base_url + "/api/runs", json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def get_run(session, stack, run_id: str) -> dict:
    r = session.get(f"{stack.base_url}/api/runs/{run_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def wait_finished(session, stack, run_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = get_run(session, stack, run_id)
        if run["status"] in FINISHED:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {run}\n{stack.logs()}")


def fetch_events(session, stack, run_id: str, since: int = 0) -> list[dict]:
    r = session.get(f"{stack.base_url}/api/runs/{run_id}/events", params={"since": since}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/jsonl")
    return [json.loads(line) for line in r.text.splitlines() if line]


def fold(events: list[dict], upto: int | None = None) -> dict:
    from simulator import state

    st = state.initial()
    for ev in events:
        if upto is not None and ev["seq"] > upto:
            break
        st = state.apply(st, ev)
    return st


def assert_stream_consistent(messages: list[dict], archive: list[dict], since: int = 0) -> list[dict]:
    """Events arrive once, in order, contiguous after `since` or after a snapshot; the snapshot matches the
    reducer folded over the archived events up to its seq. Returns the events received."""
    snapshot = next((m for m in messages if m["type"] == "snapshot"), None)
    events = [m["event"] for m in messages if m["type"] == "event"]
    start = since
    if snapshot is not None:
        start = snapshot["seq"]
        assert snapshot["state"] == fold(archive, snapshot["seq"]), "snapshot differs from the folded events"
        first_event = next((i for i, m in enumerate(messages) if m["type"] == "event"), len(messages))
        assert messages.index(snapshot) < first_event, "the snapshot must come before the events"
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(start + 1, start + 1 + len(seqs))), f"not contiguous/once: {seqs}"
    by_seq = {e["seq"]: e for e in archive}
    for e in events:
        assert e == by_seq[e["seq"]], f"event {e['seq']} differs from the archive"
    return events
