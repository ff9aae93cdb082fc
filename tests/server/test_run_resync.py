"""A viewer further behind than the Redis stream keeps is brought back with a snapshot, then the rest.

In-process consumer (channels' WebsocketCommunicator) over the test Redis, with the real simulator's
events written through runlog and a deliberately tiny stream, so trimming really happens.
"""
import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from dashboard import runlog
from dashboard.models import Run
from dashboard.routing import websocket_urlpatterns
from simulator import scenarios, state
from simulator.runner import Simulation

from .conftest import fold, unbatch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def trimmed_run(redis_conn, settings):
    settings.DASHBOARD_LOG_MAXLEN = 10
    old = redis_conn.config_get("stream-node-max-entries")["stream-node-max-entries"]
    redis_conn.config_set("stream-node-max-entries", 4)  # trimming works by whole nodes
    try:
        run = Run.objects.create(scenario="pod-create", seed=1, status=Run.SUCCEEDED)
        events = list(Simulation("pod-create", params=scenarios.validate("pod-create", {}), seed=1,
                                 run_id=run.id.hex).events())
        for ev in events:
            runlog.append(run.id, ev)
        snap_seq = len(events) - 3
        runlog.store_snapshot(run.id, snap_seq, fold(events, snap_seq))
        Run.objects.filter(id=run.id).update(last_seq=len(events))
        yield run, events
    finally:
        redis_conn.config_set("stream-node-max-entries", old)


def converse(run, since, count):
    async def talk():
        comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/runs/{run.id.hex}/")
        connected, _ = await comm.connect()
        assert connected
        await comm.send_json_to({"type": "subscribe", "since": since})
        out = []
        while len(out) < count:
            out += unbatch(await comm.receive_json_from(timeout=10))
        await comm.disconnect()
        return out

    return async_to_sync(talk)()


def test_since_older_than_the_log_gets_the_snapshot_then_the_rest(trimmed_run, redis_conn):
    run, events = trimmed_run
    oldest = int(redis_conn.xrange(runlog.log_key(run.id), count=1)[0][0].split("-")[0])
    assert oldest > 2, "the stream was not trimmed"
    messages = converse(run, since=1, count=5)
    assert messages[0]["type"] == "run"
    assert messages[1]["type"] == "snapshot" and messages[1]["seq"] == len(events) - 3
    assert messages[1]["state"] == fold(events, len(events) - 3)
    assert [m["event"]["seq"] for m in messages[2:]] == [len(events) - 2, len(events) - 1, len(events)]
    st = messages[1]["state"]
    for m in messages[2:]:
        st = state.apply(st, m["event"])
    assert st == fold(events)  # snapshot(t0) + events(t0..t1) == snapshot(t1)


def test_since_within_the_log_gets_only_the_missing_events(trimmed_run):
    run, events = trimmed_run
    since = len(events) - 4
    messages = converse(run, since=since, count=5)
    assert [m["type"] for m in messages] == ["run", "event", "event", "event", "event"]
    assert [m["event"] for m in messages[1:]] == events[since:]
