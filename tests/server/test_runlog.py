"""The run log in a real Redis: idempotent appends, reading since a seq, trimming, the DB fallback."""
import uuid

import pytest

from dashboard import runlog
from dashboard.models import Run

pytestmark = pytest.mark.django_db


def ev(run_id, seq):
    return {"v": 1, "run": run_id.hex, "seq": seq, "t": seq / 10, "component": "scenario", "instance": "scenario",
            "type": "scenario.step", "summary": f"step {seq}", "data": {"step": seq}}


@pytest.fixture
def run(redis_conn):
    return Run.objects.create(scenario="pod-create")


def test_append_is_idempotent(run):
    assert runlog.append(run.id, ev(run.id, 1)) is True
    assert runlog.append(run.id, ev(run.id, 2)) is True
    # A retried task re-appending seq 2 (or an older one) changes nothing.
    assert runlog.append(run.id, ev(run.id, 2)) is False
    assert runlog.append(run.id, ev(run.id, 1)) is False
    assert [e["seq"] for e in runlog.read_since(run.id, 0)] == [1, 2]


def test_read_since_returns_only_newer_events_in_order(run):
    for seq in range(1, 11):
        runlog.append(run.id, ev(run.id, seq))
    assert [e["seq"] for e in runlog.read_since(run.id, 6)] == [7, 8, 9, 10]
    assert [e["seq"] for e in runlog.read_since(run.id, 0, count=3)] == [1, 2, 3]
    assert runlog.read_since(run.id, 10) == []
    assert runlog.read_since(run.id, 99) == []


def test_since_older_than_the_trimmed_log_is_too_old(run, settings, redis_conn):
    settings.DASHBOARD_LOG_MAXLEN = 10
    for seq in range(1, 501):
        runlog.append(run.id, ev(run.id, seq))
    oldest = int(redis_conn.xrange(runlog.log_key(run.id), count=1)[0][0].split("-")[0])
    assert oldest > 1  # trimmed (approximately: Redis trims whole macro-nodes)
    with pytest.raises(runlog.TooOld):
        runlog.read_since(run.id, 0)
    assert runlog.read_since(run.id, oldest - 1)[0]["seq"] == oldest


def test_gone_stream_falls_back_to_the_db_archive(run, redis_conn):
    events = [ev(run.id, seq) for seq in range(1, 6)]
    for e in events:
        runlog.append(run.id, e)
    runlog.archive_events(run.id, events)
    runlog.archive_events(run.id, events)  # archiving twice is harmless
    runlog.archive_snapshot(run.id, 5, {"seq": 5})
    redis_conn.delete(runlog.log_key(run.id))
    assert runlog.read_since(run.id, 2) == events[2:]
    assert list(runlog.iter_all_since(run.id, 0)) == events
    assert runlog.latest_snapshot(run.id) == (5, {"seq": 5})


def test_no_events_and_no_snapshot_gives_the_initial_state(run):
    from simulator import state

    assert runlog.read_since(run.id, 0) == []
    assert runlog.latest_snapshot(run.id) == (0, state.initial())


def test_controls_are_popped_in_order_once(run):
    runlog.push_control(run.id, {"action": "pause"})
    runlog.push_control(run.id, {"action": "resume"})
    assert [m["action"] for m in runlog.pop_controls(run.id)] == ["pause", "resume"]
    assert runlog.pop_controls(run.id) == []
    assert runlog.wait_control(run.id, 0.05) is None


def test_run_keys_accept_any_uuid_spelling():
    rid = uuid.uuid4()
    assert runlog.log_key(rid) == runlog.log_key(str(rid)) == runlog.log_key(rid.hex) == f"run:{rid.hex}:log"
