"""The presenter's focus: instructors point the class at a panel; everybody may read it; the classroom
socket relays it, and a page that connects later is told at once."""
import json

import pytest
from django.test import Client

from dashboard.models import Run
from dashboard.runs import PANELS, focus_key

from .conftest import post_json, ws_connect

URL = "/api/classroom/focus"


@pytest.mark.django_db
def test_only_instructors_set_the_focus_and_anyone_reads_it(viewer_client, redis_conn):
    anonymous = Client()
    assert anonymous.get(URL).json() == {"focus": None}
    assert post_json(anonymous, URL, {"panel": "etcd-panel"}).status_code == 401
    assert post_json(viewer_client, URL, {"panel": "etcd-panel"}).status_code == 403
    assert redis_conn.exists(focus_key()) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("body, field", [
    ({}, "panel"),
    ({"panel": "nowhere"}, "panel"),
    ({"panel": ["etcd-panel"]}, "panel"),
    ({"panel": "etcd-panel", "run": "not-a-run"}, "run"),
    ({"panel": "etcd-panel", "run": 7}, "run"),
    ({"panel": "etcd-panel", "colour": "red"}, "colour"),
    ({"panel": "etcd-panel", "pos": 3}, "pos"),
    ({"panel": "etcd-panel", "replay": "not-a-run", "pos": 1}, "replay"),
])
def test_bad_focus_names_the_field_and_changes_nothing(instructor_client, redis_conn, body, field):
    r = post_json(instructor_client, URL, body)
    assert r.status_code == 400 and r.json()["error"]["field"] == field, r.content
    assert redis_conn.exists(focus_key()) == 0


@pytest.mark.django_db
def test_an_instructor_sets_the_focus_with_the_run(instructor_client, redis_conn):
    run = Run.objects.create(scenario="pod-create", status=Run.RUNNING)
    for panel in PANELS:
        r = post_json(instructor_client, URL, {"panel": panel, "run": run.id.hex})
        assert r.status_code == 202, r.content
    want = {"panel": PANELS[-1], "by": "teacher", "run": run.id.hex}
    assert r.json() == {"focus": want}
    assert instructor_client.get(URL).json() == {"focus": want}
    assert json.loads(redis_conn.get(focus_key())) == want and redis_conn.ttl(focus_key()) > 0


def test_the_classroom_socket_relays_the_focus_and_tells_newcomers(stack):
    s = stack.session()
    ws = ws_connect(stack, "/ws/classroom/default/")
    try:
        r = s.post(stack.base_url + URL, json={"panel": "scheduler-panel"}, timeout=10)
        assert r.status_code == 202, r.text
        while True:   # the latest run (and an earlier focus) may come first
            m = json.loads(ws.recv(timeout=10))
            if m["type"] == "focus" and m["focus"]["panel"] == "scheduler-panel":
                break
        assert m["focus"]["by"] == stack.instructor_user
    finally:
        ws.close()
    ws = ws_connect(stack, "/ws/classroom/default/")
    try:
        seen = []
        while not seen or seen[-1]["type"] != "focus":
            seen.append(json.loads(ws.recv(timeout=10)))
        assert seen[-1]["focus"]["panel"] == "scheduler-panel"
    finally:
        ws.close()


@pytest.mark.django_db
def test_a_replay_focus_names_a_finished_run_and_a_position_in_it(instructor_client, redis_conn):
    running = Run.objects.create(scenario="pod-create", status=Run.RUNNING, last_seq=40)
    done = Run.objects.create(scenario="pod-create", status=Run.SUCCEEDED, last_seq=81)
    for body, field in (({"replay": running.id.hex, "pos": 3}, "replay"), ({"replay": done.id.hex}, "pos"),
                        ({"replay": done.id.hex, "pos": 82}, "pos"), ({"replay": done.id.hex, "pos": True}, "pos")):
        r = post_json(instructor_client, URL, {"panel": "arch-card", **body})
        assert r.status_code == 400 and r.json()["error"]["field"] == field, (body, r.content)
    assert redis_conn.exists(focus_key()) == 0
    r = post_json(instructor_client, URL, {"panel": "arch-card", "replay": done.id.hex, "pos": 81})
    assert r.status_code == 202 and r.json()["focus"] == {"panel": "arch-card", "by": "teacher",
                                                          "replay": done.id.hex, "pos": 81}
