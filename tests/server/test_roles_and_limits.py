"""Roles and limits as settings: viewers may be required to log in; one instructor has a bounded number of
runs in progress; scenario sizes are capped by the installation."""
import pytest
from django.test import Client

from dashboard.models import Run
from dashboard.runs import catalog

from .conftest import post_json, queued_tasks

pytestmark = pytest.mark.django_db


def test_viewers_watch_without_an_account_by_default(redis_conn):
    c = Client()
    assert c.get("/").status_code == 200
    assert c.get("/api/runs").status_code == 200


def test_viewers_must_log_in_when_the_setting_says_so(settings, viewer, redis_conn):
    settings.DASHBOARD_VIEWERS_MUST_LOG_IN = True
    c = Client()
    r = c.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/?next=/")
    r = c.get("/api/runs")
    assert r.status_code == 401 and "log in" in r.json()["error"]["message"]
    assert c.get("/api/classroom/focus").status_code == 401
    # The login page, its translations and the health check stay open.
    assert c.get("/accounts/login/").status_code == 200
    assert c.get("/jsi18n/").status_code == 200
    c.force_login(viewer)
    assert c.get("/").status_code == 200
    assert c.get("/api/runs").status_code == 200


def test_an_instructor_has_a_bounded_number_of_runs_in_progress(settings, instructor_client, instructor, redis_conn):
    settings.DASHBOARD_MAX_ACTIVE_RUNS = 2
    Run.objects.create(scenario="pod-create", status=Run.RUNNING, created_by=instructor)
    Run.objects.create(scenario="pod-create", status=Run.PAUSED, created_by=instructor)
    Run.objects.create(scenario="pod-create", status=Run.SUCCEEDED, created_by=instructor)
    r = post_json(instructor_client, "/api/runs", {"scenario": "pod-create", "speed": "max"})
    assert r.status_code == 429 and "DASHBOARD_MAX_ACTIVE_RUNS" in r.json()["error"]["message"]
    assert Run.objects.count() == 3 and queued_tasks(redis_conn) == 0
    Run.objects.filter(status=Run.PAUSED).update(status=Run.CANCELLED)
    r = post_json(instructor_client, "/api/runs", {"scenario": "pod-create", "speed": "max"})
    assert r.status_code == 201, r.content


def test_scenario_sizes_are_capped_by_the_settings(settings, instructor_client, redis_conn):
    sized = [(e, p) for e in catalog() for p in e["params"] if p["name"] in ("nodes", "pods") and p["type"] == "int"]
    assert sized, "the scale scenario takes a node and a Pod count"
    settings.DASHBOARD_MAX_NODES = 10
    settings.DASHBOARD_MAX_PODS = 20
    capped = {(e["id"], p["name"]): p for e in catalog() for p in e["params"]}
    for entry, p in sized:
        cap = 10 if p["name"] == "nodes" else 20
        assert capped[(entry["id"], p["name"])]["max"] == cap
        # The other sizes at their smallest, this one just over the cap.
        params = {q["name"]: q.get("min", 1) for q in entry["params"] if q["name"] in ("nodes", "pods")}
        params[p["name"]] = cap + 1
        r = post_json(instructor_client, "/api/runs", {"scenario": entry["id"], "params": params})
        assert r.status_code == 400 and r.json()["error"]["field"] == f"params.{p['name']}", r.content
    assert Run.objects.count() == 0 and queued_tasks(redis_conn) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/classroom/default/", "/ws/runs/{run}/"])
def test_sockets_refuse_anonymous_viewers_when_login_is_required(settings, redis_conn, viewer, path):
    from asgiref.sync import async_to_sync
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from dashboard.routing import websocket_urlpatterns

    run = Run.objects.create(scenario="pod-create", status=Run.SUCCEEDED)
    url = path.format(run=run.id.hex)

    async def talk(user, refused):
        comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), url)
        comm.scope["user"] = user
        connected, _ = await comm.connect()
        assert connected
        if url.startswith("/ws/runs/") and not refused:
            await comm.send_json_to({"type": "subscribe", "since": 0})
        first = await comm.receive_json_from(timeout=10)
        closed = await comm.receive_output(timeout=10) if refused else None
        await comm.disconnect()
        return first, closed

    from django.contrib.auth.models import AnonymousUser

    settings.DASHBOARD_VIEWERS_MUST_LOG_IN = True
    first, closed = async_to_sync(talk)(AnonymousUser(), True)
    assert first["type"] == "error" and "log in" in first["error"]["message"]
    assert closed == {"type": "websocket.close", "code": 4401}
    # A logged-in viewer is served as usual.
    first, _ = async_to_sync(talk)(viewer, False)
    assert first["type"] == "run"


def test_create_viewers_makes_watch_only_accounts():
    from io import StringIO

    from django.contrib.auth import authenticate, get_user_model
    from django.core.management import CommandError, call_command

    from dashboard.api import is_instructor

    out = StringIO()
    call_command("create_viewers", "--count", "3", stdout=out)
    lines = [line.split() for line in out.getvalue().splitlines()]
    assert [name for name, _ in lines] == ["student01", "student02", "student03"]
    for name, password in lines:
        user = authenticate(username=name, password=password)
        assert user is not None and not is_instructor(user)
    out = StringIO()
    call_command("create_viewers", "student01", "kim", stdout=out)
    assert out.getvalue().splitlines()[0] == "student01 exists (unchanged)"
    assert get_user_model().objects.count() == 4
    for bad in (["--count", "501"], ["bad name!"], ["kim", "--count", "2"], []):
        with pytest.raises(CommandError):
            call_command("create_viewers", *bad)
    assert get_user_model().objects.count() == 4
