"""/healthz, the classroom socket, and what a viewer may (not) say on a run socket."""
import json
import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from .conftest import Viewer, start_run, wait_finished, ws_connect


def test_healthz_all_ok(stack):
    r = stack.session(login=False).get(stack.base_url + "/healthz", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"db": "ok", "redis": "ok", "worker": "ok"}


def test_read_endpoints(stack):
    s = stack.session(login=False)
    scenarios = s.get(stack.base_url + "/api/scenarios", timeout=10).json()["scenarios"]
    assert any(sc["id"] == "pod-create" for sc in scenarios)
    catalog = s.get(stack.base_url + "/api/events/catalog", timeout=10)
    assert catalog.status_code == 200 and catalog.json()


def test_anonymous_post_over_http_is_401(stack):
    s = stack.session(login=False)
    r = s.post(stack.base_url + "/api/runs", json={"scenario": "pod-create"}, timeout=10)
    assert r.status_code == 401


@pytest.mark.parametrize("message, field", [
    ({"type": "subscribe", "since": -1}, "since"),
    ({"type": "subscribe", "since": "3"}, "since"),
    ({"type": "subscribe", "since": True}, "since"),
    ({"type": "control", "action": "cancel"}, "type"),
    ({"type": "subscribe", "since": 0, "action": "cancel"}, "action"),
    ([1, 2], "body"),
])
def test_bad_socket_messages_get_an_error_and_change_nothing(stack, message, field):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=1)
    wait_finished(s, stack, run["id"])
    viewer = Viewer(stack, run["id"])
    try:
        viewer.send(message)
        reply = viewer.recv()
        assert reply["type"] == "error" and reply["error"]["field"] == field, reply
        viewer.ws.send("not json")
        assert viewer.recv()["error"]["field"] == "body"
        viewer.subscribe(0)  # the socket still works
        assert viewer.recv()["type"] == "run"
    finally:
        viewer.close()


def test_unknown_run_socket_gets_an_error_and_closes(stack):
    ws = ws_connect(stack, f"/ws/runs/{uuid.uuid4().hex}/")
    try:
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "error" and reply["error"]["field"] == "run"
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
    finally:
        ws.close()


def test_socket_from_a_foreign_origin_is_refused(stack):
    with pytest.raises(Exception):
        ws = ws_connect(stack, "/ws/classroom/default/", origin="http://evil.example")
        ws.recv(timeout=5)


def test_classroom_announces_new_runs_and_their_end(stack):
    s = stack.session()
    ws = ws_connect(stack, "/ws/classroom/default/")
    try:
        run = start_run(s, stack, speed="max", seed=31)
        statuses = []
        while "succeeded" not in statuses:
            m = json.loads(ws.recv(timeout=30))
            assert m["type"] in ("run", "focus")
            if m["type"] == "run" and m["run"]["id"] == run["id"]:
                statuses.append(m["run"]["status"])
        assert statuses[0] == "queued"
    finally:
        ws.close()
    # A newcomer is told about the latest run at once.
    ws = ws_connect(stack, "/ws/classroom/default/")
    try:
        m = json.loads(ws.recv(timeout=10))
        assert m["type"] == "run" and m["run"]["id"]
    finally:
        ws.close()


def test_an_idle_socket_stays_open(stack):
    # Regression: redis-py 8's default 5 s socket timeout equals channels_redis' 5 s BZPOPMIN, which used
    # to kill idle consumers with 1011 (see REDIS_SOCKET_TIMEOUT in dashboard/settings.py).
    ws = ws_connect(stack, "/ws/classroom/default/")
    try:
        try:
            while True:
                ws.recv(timeout=2)  # the latest run and the presenter's focus, if there are
        except TimeoutError:
            pass
        with pytest.raises(TimeoutError):
            ws.recv(timeout=8)
        run = start_run(stack.session(), stack, speed="max", seed=41)
        m = json.loads(ws.recv(timeout=10))
        assert m["type"] == "run" and m["run"]["id"] == run["id"]
    finally:
        ws.close()
