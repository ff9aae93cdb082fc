"""Who may do what, beyond tests/server/test_api_permissions.py (which covers starting and controlling runs
over HTTP): CSRF on the forms and the rest of the JSON API, no control over any socket whoever holds it,
cross-origin socket handshakes refused, and the per-instructor rate limit on starting runs."""
import json
import secrets
import time

import pytest
import redis
from django.test import Client
from websockets.exceptions import InvalidStatus

from dashboard import runlog
from dashboard.models import Run
from dashboard.runs import focus_key
from tests.server.conftest import get_run, post_json, queued_tasks, start_run, wait_finished, ws_connect

RUN_BODY = {"scenario": "pod-create", "speed": "max"}


# -- CSRF --------------------------------------------------------------------------------------------------

def csrf_client() -> tuple[Client, str]:
    """A browser-like client that enforces CSRF, holding the token the login page set."""
    c = Client(enforce_csrf_checks=True)
    assert c.get("/accounts/login/").status_code == 200
    return c, c.cookies["csrftoken"].value


@pytest.mark.django_db
def test_login_form_needs_the_csrf_token(instructor, redis_conn):
    c, token = csrf_client()
    form = {"username": "teacher", "password": "pw-teacher-123"}
    assert c.post("/accounts/login/", form).status_code == 403
    assert "_auth_user_id" not in c.session
    assert c.post("/accounts/login/", {**form, "csrfmiddlewaretoken": token}).status_code == 302
    assert c.session["_auth_user_id"] == str(instructor.pk)


@pytest.mark.django_db
def test_logout_form_needs_the_csrf_token(instructor, redis_conn):
    c, _ = csrf_client()
    c.force_login(instructor)
    assert c.post("/accounts/logout/").status_code == 403
    assert c.session["_auth_user_id"] == str(instructor.pk)  # a foreign page cannot log the instructor out
    c.get("/")  # the page sets the (rotated) token
    assert c.post("/accounts/logout/", {"csrfmiddlewaretoken": c.cookies["csrftoken"].value}).status_code == 302
    assert "_auth_user_id" not in c.session


@pytest.mark.django_db
def test_language_form_needs_the_csrf_token(redis_conn):
    c, token = csrf_client()
    assert c.post("/i18n/setlang/", {"language": "ko", "next": "/"}).status_code == 403
    assert "django_language" not in c.cookies
    assert c.post("/i18n/setlang/", {"language": "ko", "next": "/", "csrfmiddlewaretoken": token}).status_code == 302
    assert c.cookies["django_language"].value == "ko"


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["no token", "wrong token", "foreign origin"])
@pytest.mark.parametrize("target", ["control", "focus"])
def test_json_api_posts_need_csrf_from_the_same_origin(instructor, redis_conn, how, target):
    # POST /api/runs without a token: tests/server/test_api_permissions.py.
    run = Run.objects.create(scenario="pod-create", status=Run.QUEUED)
    url, body = {"control": (f"/api/runs/{run.id.hex}/control", {"action": "cancel"}),
                 "focus": ("/api/classroom/focus", {"panel": "etcd-panel"})}[target]
    c, token = csrf_client()
    c.force_login(instructor)
    c.get("/")
    token = c.cookies["csrftoken"].value
    headers = {"no token": {}, "wrong token": {"HTTP_X_CSRFTOKEN": "x" * 32},
               "foreign origin": {"HTTP_X_CSRFTOKEN": token, "HTTP_ORIGIN": "http://evil.example"}}[how]
    r = post_json(c, url, body, **headers)
    assert r.status_code == 403 and r.json()["error"]["field"] == "csrf", r.content
    run.refresh_from_db()
    assert run.status == Run.QUEUED and redis_conn.exists(runlog.ctl_key(run.id), focus_key()) == 0
    # The positive control: the page's own request, same origin and token, is accepted.
    r = post_json(c, url, body, HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="http://testserver")
    assert r.status_code == 202, r.content


# -- sockets: nobody controls a run over a socket; foreign origins are refused -------------------------------

CONTROL_ATTEMPTS = [
    {"type": "control", "action": "cancel"},
    {"type": "cancel"},
    {"action": "pause"},
    {"type": "run.status", "run": {"status": "cancelled"}},
    {"type": "subscribe", "since": 0, "action": "cancel"},
    {"type": "classroom.focus", "focus": {"panel": "etcd-panel"}},
]


def cookie_header(session) -> dict:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items())}


def held_at_a_step(session, stack, run_id: str) -> dict:
    """The run once step mode holds it (paused before its second step) and its last_seq stays put."""
    last = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = get_run(session, stack, run_id)
        if run["status"] == "paused" and run["last_seq"] == last:
            return run
        last = run["last_seq"] if run["status"] == "paused" else None
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} was not held at a step: {run}")


def test_no_persona_controls_a_run_over_its_socket(stack):
    """Anonymous, a viewer and even the instructor: the sockets take no control, and a run waiting at a step
    stays exactly where it is; then the instructor's HTTP cancel (the positive control) ends it."""
    from websockets.sync.client import connect

    instructor = stack.session()
    name = "secviewer" + secrets.token_hex(4)
    password = stack.manage("create_viewers", name).split()[1]
    viewer = stack.session(username=name, password=password)
    run = start_run(instructor, stack, speed="max", seed=3, step_mode=True)
    before = held_at_a_step(instructor, stack, run["id"])
    for session in (None, viewer, instructor):
        headers = cookie_header(session) if session else None
        with connect(f"{stack.ws_url}/ws/runs/{run['id']}/", origin=stack.base_url, proxy=None,
                     additional_headers=headers) as ws:
            for message in CONTROL_ATTEMPTS:
                ws.send(json.dumps(message))
                reply = json.loads(ws.recv(timeout=10))
                assert reply["type"] == "error", (message, reply)
        with connect(f"{stack.ws_url}/ws/classroom/default/", origin=stack.base_url, proxy=None,
                     additional_headers=headers) as classroom:
            classroom.send(json.dumps({"type": "control", "run": run["id"], "action": "cancel"}))
            while json.loads(classroom.recv(timeout=10))["type"] != "error":
                pass
    time.sleep(1)
    after = get_run(instructor, stack, run["id"])
    assert (after["status"], after["last_seq"]) == (before["status"], before["last_seq"])
    assert redis.Redis.from_url(stack.redis_url).llen(runlog.ctl_key(run["id"])) == 0
    cancel = instructor.post(f"{stack.base_url}/api/runs/{run['id']}/control", json={"action": "cancel"}, timeout=10)
    assert cancel.status_code == 202, cancel.text
    assert wait_finished(instructor, stack, run["id"])["status"] == "cancelled"


@pytest.mark.parametrize("path", ["/ws/classroom/default/", "/ws/runs/{run}/"])
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example",
                                    "https://localhost.evil.example", None])
def test_cross_origin_socket_handshakes_are_refused(stack, path, origin):
    from websockets.sync.client import connect

    url = stack.ws_url + path.format(run="0" * 32)
    headers = {} if origin is None else {"Origin": origin}
    with pytest.raises(InvalidStatus) as refused:
        connect(url, proxy=None, open_timeout=10, additional_headers=headers, origin=None)
    assert refused.value.response.status_code == 403
    ws_connect(stack, path.format(run="0" * 32)).close()  # the page's own origin is let in


# -- rate limit ---------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_starting_runs_is_rate_limited_per_instructor(settings, instructor_client, instructor, redis_conn,
                                                      django_user_model, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    settings.DASHBOARD_RUNS_PER_MINUTE = 3

    def start(client):
        with django_capture_on_commit_callbacks(execute=True):
            return post_json(client, "/api/runs", RUN_BODY)

    for _ in range(3):
        assert start(instructor_client).status_code == 201
    for _ in range(3):  # refused starts do not count, and nothing is created or enqueued
        r = start(instructor_client)
        assert r.status_code == 429, r.content
        message = r.json()["error"]["message"]
        assert "DASHBOARD_RUNS_PER_MINUTE" in message and "at most 3 a minute" in message, message
        assert 1 <= int(r["Retry-After"]) <= 60
    assert Run.objects.count() == 3 and queued_tasks(redis_conn) == 3
    # Invalid requests are refused for what they are (400), not for the rate.
    r = post_json(instructor_client, "/api/runs", {**RUN_BODY, "speed": "11"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "speed"

    # Per instructor: a colleague still may.
    other = django_user_model.objects.create_user("colleague", password="pw-colleague-123")
    other.user_permissions.add(Permission.objects.get(content_type__app_label="dashboard", codename="instructor"))
    colleague = Client()
    colleague.force_login(other)
    assert start(colleague).status_code == 201

    # The count is kept in Redis (shared by every Daphne): a minute later it has room again.
    key = f"ratelimit:runs:{instructor.pk}"
    assert redis_conn.zcard(key) == 3
    for member, score in redis_conn.zrange(key, 0, -1, withscores=True):
        redis_conn.zadd(key, {member: score - 61})
    assert start(instructor_client).status_code == 201
    assert redis_conn.zcard(key) == 1
