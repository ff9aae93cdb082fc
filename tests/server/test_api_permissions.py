"""Only instructors start or control runs; viewers and anonymous students get 403/401 and nothing happens."""
import pytest

from dashboard.models import Run

from .conftest import post_json, queued_tasks

pytestmark = pytest.mark.django_db

RUN_BODY = {"scenario": "pod-create", "backend": "sim", "params": {}, "speed": "max"}


def test_anonymous_cannot_start_a_run(client, redis_conn):
    r = post_json(client, "/api/runs", RUN_BODY)
    assert r.status_code == 401
    assert r.json()["error"]["message"]
    assert Run.objects.count() == 0
    assert queued_tasks(redis_conn) == 0


def test_viewer_cannot_start_a_run(viewer_client, redis_conn):
    r = post_json(viewer_client, "/api/runs", RUN_BODY)
    assert r.status_code == 403
    assert "error" in r.json()
    assert Run.objects.count() == 0
    assert queued_tasks(redis_conn) == 0


@pytest.mark.parametrize("action", ["pause", "resume", "step", "cancel"])
def test_viewer_cannot_control_a_run(viewer_client, redis_conn, action):
    run = Run.objects.create(scenario="pod-create", status=Run.RUNNING)
    r = post_json(viewer_client, f"/api/runs/{run.id.hex}/control", {"action": action})
    assert r.status_code == 403
    assert redis_conn.exists(f"run:{run.id.hex}:ctl") == 0
    run.refresh_from_db()
    assert run.status == Run.RUNNING


def test_anonymous_cannot_control_a_run(client, redis_conn):
    run = Run.objects.create(scenario="pod-create", status=Run.QUEUED)
    r = post_json(client, f"/api/runs/{run.id.hex}/control", {"action": "cancel"})
    assert r.status_code == 401
    run.refresh_from_db()
    assert run.status == Run.QUEUED


def test_staff_counts_as_instructor(client, django_user_model, redis_conn):
    staff = django_user_model.objects.create_user("staffer", password="x-pw-12345", is_staff=True)
    client.force_login(staff)
    run = Run.objects.create(scenario="pod-create", status=Run.RUNNING)
    r = post_json(client, f"/api/runs/{run.id.hex}/control", {"action": "pause"})
    assert r.status_code == 202


def test_instructor_post_without_csrf_token_is_refused(instructor, redis_conn):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(instructor)
    r = post_json(c, "/api/runs", RUN_BODY)
    assert r.status_code == 403
    assert r.json()["error"]["field"] == "csrf"
    assert Run.objects.count() == 0
    assert queued_tasks(redis_conn) == 0


def test_viewers_can_read(client, redis_conn):
    run = Run.objects.create(scenario="pod-create")
    assert client.get("/api/runs").status_code == 200
    assert client.get(f"/api/runs/{run.id.hex}").json()["id"] == run.id.hex
