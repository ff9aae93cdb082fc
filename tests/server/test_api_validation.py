"""Bad input gets a 400 naming the field, and nothing is created or enqueued; unknown runs are 404 JSON."""
import uuid

import pytest

from dashboard.models import Run

from .conftest import post_json, queued_tasks

pytestmark = pytest.mark.django_db

GOOD = {"scenario": "pod-create", "backend": "sim", "params": {}, "speed": "max"}


def with_(**changes):
    body = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize("body, field", [
    (with_(scenario="no-such-scenario"), "scenario"),
    (with_(scenario=...), "scenario"),
    (with_(scenario=42), "scenario"),
    (with_(backend="api", scenario="etcd-raft"), "backend"),   # a scenario that runs only on the simulator
    (with_(backend="docker"), "backend"),
    (with_(params=[1, 2]), "params"),
    (with_(params={"image": "not-an-allowed-image"}), "params.image"),
    (with_(params={"pod_name": "Not_A_DNS_Label!"}), "params.pod_name"),
    (with_(params={"no_such_param": 1}), "params.no_such_param"),
    (with_(speed="3"), "speed"),
    (with_(speed="fast"), "speed"),
    (with_(speed=True), "speed"),
    (with_(speed=None), "speed"),
    (with_(seed=-1), "seed"),
    (with_(seed=2**31), "seed"),
    (with_(seed="7"), "seed"),
    (with_(seed=1.5), "seed"),
    (with_(step_mode="yes"), "step_mode"),
    (with_(extra_field=1), "extra_field"),
])
def test_bad_run_request_names_the_field(instructor_client, redis_conn, body, field):
    r = post_json(instructor_client, "/api/runs", body)
    assert r.status_code == 400, r.content
    err = r.json()["error"]
    assert err["field"] == field
    assert err["message"]
    assert Run.objects.count() == 0
    assert queued_tasks(redis_conn) == 0


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "\"a string\"", "", "null", b"\xff\xfe"])
def test_malformed_body_is_400_body(instructor_client, redis_conn, raw):
    r = post_json(instructor_client, "/api/runs", raw)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "body"
    assert Run.objects.count() == 0
    assert queued_tasks(redis_conn) == 0


def test_good_request_creates_and_enqueues_once(instructor_client, redis_conn, django_capture_on_commit_callbacks):
    # The positive control for the "nothing enqueued" checks above: the same probe sees a real enqueue.
    with django_capture_on_commit_callbacks(execute=True):
        r = post_json(instructor_client, "/api/runs", with_(seed=7, speed=0.5, params={"image": "redis"}))
    assert r.status_code == 201, r.content
    run = r.json()
    assert run["status"] == "queued"
    assert run["seed"] == 7 and run["speed"] == "0.5"
    assert run["params"]["image"] == "redis"
    assert run["params"]["pod_name"] == "nginx"  # defaults filled by simulator.scenarios.validate
    assert run["created_by"] == "teacher"
    assert run["paused"] is False
    assert Run.objects.count() == 1
    assert queued_tasks(redis_conn) == 1


@pytest.mark.parametrize("body, field", [
    ({"action": "explode"}, "action"),
    ({}, "action"),
    ({"action": "speed"}, "speed"),
    ({"action": "speed", "speed": "10"}, "speed"),
    ({"action": "pause", "speed": "2"}, "speed"),
    ({"action": "pause", "force": True}, "force"),
])
def test_bad_control_names_the_field(instructor_client, redis_conn, body, field):
    run = Run.objects.create(scenario="pod-create", status=Run.RUNNING)
    r = post_json(instructor_client, f"/api/runs/{run.id.hex}/control", body)
    assert r.status_code == 400
    assert r.json()["error"]["field"] == field
    assert redis_conn.exists(f"run:{run.id.hex}:ctl") == 0


def test_control_goes_to_the_runs_queue(instructor_client, redis_conn):
    run = Run.objects.create(scenario="pod-create", status=Run.RUNNING)
    r = post_json(instructor_client, f"/api/runs/{run.id}/control", {"action": "speed", "speed": "2"})
    assert r.status_code == 202 and r.json() == {"ok": True}
    assert redis_conn.lrange(f"run:{run.id.hex}:ctl", 0, -1) == ['{"action":"speed","by":"teacher","speed":"2"}']


def test_control_of_a_finished_run_is_409(instructor_client, redis_conn):
    run = Run.objects.create(scenario="pod-create", status=Run.SUCCEEDED)
    r = post_json(instructor_client, f"/api/runs/{run.id.hex}/control", {"action": "pause"})
    assert r.status_code == 409
    assert "error" in r.json()


def test_cancelling_a_queued_run_ends_it_at_once(instructor_client, redis_conn, client):
    run = Run.objects.create(scenario="pod-create", status=Run.QUEUED)
    r = post_json(instructor_client, f"/api/runs/{run.id.hex}/control", {"action": "cancel"})
    assert r.status_code == 202
    run.refresh_from_db()
    assert run.status == Run.CANCELLED and run.last_seq == 1
    lines = client.get(f"/api/runs/{run.id.hex}/events").content.decode().splitlines()
    assert len(lines) == 1 and '"type":"run.cancelled"' in lines[0]


@pytest.mark.parametrize("path", [
    "/api/runs/{}", "/api/runs/{}/events", "/api/runs/{}/control",
])
@pytest.mark.parametrize("run_id", [uuid.uuid4().hex, "not-a-uuid", "1234", str(uuid.uuid4())])
def test_unknown_run_is_404_json(instructor_client, redis_conn, path, run_id):
    url = path.format(run_id)
    r = post_json(instructor_client, url, {"action": "pause"}) if url.endswith("control") else instructor_client.get(url)
    assert r.status_code == 404
    assert r.json()["error"]["field"] == "run"


def test_unknown_api_path_is_404_json(client, redis_conn):
    r = client.get("/api/nothing/here")
    assert r.status_code == 404 and "error" in r.json()


@pytest.mark.parametrize("query, field", [("since=-1", "since"), ("since=abc", "since")])
def test_bad_since_is_400(client, redis_conn, query, field):
    run = Run.objects.create(scenario="pod-create")
    r = client.get(f"/api/runs/{run.id.hex}/events?{query}")
    assert r.status_code == 400 and r.json()["error"]["field"] == field


@pytest.mark.parametrize("query", ["limit=0", "limit=1000", "limit=x"])
def test_bad_limit_is_400(client, redis_conn, query):
    r = client.get(f"/api/runs?{query}")
    assert r.status_code == 400 and r.json()["error"]["field"] == "limit"


def test_wrong_method_is_405_json(instructor_client, redis_conn):
    r = instructor_client.delete("/api/runs")
    assert r.status_code == 405 and "error" in r.json()


def test_runs_are_listed_newest_first(client, redis_conn):
    older = Run.objects.create(scenario="pod-create")
    newer = Run.objects.create(scenario="pod-create")
    ids = [r["id"] for r in client.get("/api/runs?limit=5").json()["runs"]]
    assert ids[:2] == [newer.id.hex, older.id.hex]


def test_a_real_cluster_run_with_no_worker_to_check_it_is_refused(instructor_client, redis_conn):
    """backend "api": a worker checks the cluster before the run exists (the kubeconfig stays in the worker);
    with no worker running, the run is refused at once, naming the backend, and nothing is created."""
    r = post_json(instructor_client, "/api/runs", with_(backend="api"))
    assert r.status_code == 409, r.content
    err = r.json()["error"]
    assert err["field"] == "backend" and "no Celery worker is running" in err["message"]
    assert Run.objects.count() == 0 and queued_tasks(redis_conn) == 0
