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
    if not sized:
        pytest.skip("no scenario takes a cluster size")
    settings.DASHBOARD_MAX_NODES = 10
    settings.DASHBOARD_MAX_PODS = 20
    capped = {(e["id"], p["name"]): p for e in catalog() for p in e["params"]}
    for entry, p in sized:
        cap = 10 if p["name"] == "nodes" else 20
        assert capped[(entry["id"], p["name"])]["max"] == cap
        r = post_json(instructor_client, "/api/runs", {"scenario": entry["id"], "params": {p["name"]: cap + 1}})
        assert r.status_code == 400 and r.json()["error"]["field"] == f"params.{p['name']}", r.content
    assert Run.objects.count() == 0 and queued_tasks(redis_conn) == 0
