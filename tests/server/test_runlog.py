"""The run log in a real Redis: idempotent appends, reading since a seq, trimming, the DB fallback."""
import uuid

import pytest

from dashboard import runlog
from dashboard.models import Run
from tests.tcpproxy import TcpProxy

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
    # The same event again (a command retried after its reply was lost) is already done: True, no copy.
    assert runlog.append(run.id, ev(run.id, 2)) is True
    assert runlog.append(run.id, ev(run.id, 1)) is True
    # Another event under a seq the log holds is refused, and changes nothing.
    other = dict(ev(run.id, 2), summary="not the logged one")
    assert runlog.append(run.id, other) is False
    assert runlog.append(run.id, dict(ev(run.id, 1), t=9.9)) is False
    assert runlog.read_since(run.id, 0) == [ev(run.id, 1), ev(run.id, 2)]


def test_fenced_append_is_idempotent_and_lock_acquire_survives_a_lost_reply(run, redis_conn):
    lock = runlog.RunLock(run.id, 5, redis_conn)
    assert lock.acquire() is True
    # The worker's client retries a command whose reply never came: the retry finds its own work done.
    assert lock.acquire() is True
    assert runlog.append(run.id, ev(run.id, 1), r=redis_conn, lock=lock) is True
    assert runlog.append(run.id, ev(run.id, 1), r=redis_conn, lock=lock) is True
    assert [e["seq"] for e in runlog.read_since(run.id, 0)] == [1]
    # Another execution's token does not get it.
    assert runlog.RunLock(run.id, 5, redis_conn).acquire() is False
    with pytest.raises(runlog.LockLost):
        runlog.append(run.id, ev(run.id, 2), r=redis_conn, lock=runlog.RunLock(run.id, 5, redis_conn))


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


class ReplyDropper(TcpProxy):
    """A TCP proxy in front of the test Redis that, when armed, lets Redis run the next command but cuts the
    connection instead of passing its reply back: what a client sees when Redis stops (SIGTERM) right after
    executing a command it has read."""

    def __init__(self, upstream: str):
        import threading
        from urllib.parse import urlsplit

        u = urlsplit(upstream)
        self.armed = threading.Event()
        self.dropped = 0
        super().__init__((u.hostname, u.port))
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def forward(self, data: bytes, reply: bool) -> bool:
        if reply and self.armed.is_set():
            self.armed.clear()
            self.dropped += 1
            return False  # the command ran; its reply goes nowhere
        return True


def test_a_retried_append_after_a_lost_reply_is_not_taken_for_a_conflict(run, test_redis, redis_conn):
    """The worker's client retries a command whose connection broke. If Redis had run it, the retry must count
    it done: before, the retried XADD was refused and the run failed with "event N was already in the log"
    (seen once in tests/faults/test_redis_outage)."""
    import redis

    proxy = ReplyDropper(test_redis)
    r = redis.Redis.from_url(proxy.url, decode_responses=True, retry=runlog.WORKER_RETRY)
    lock = runlog.RunLock(run.id, 5, r)
    proxy.armed.set()
    assert lock.acquire() is True  # ran, reply lost, retried on a new connection
    assert runlog.append(run.id, ev(run.id, 1), r=r, lock=lock) is True
    proxy.armed.set()
    assert runlog.append(run.id, ev(run.id, 2), r=r, lock=lock) is True
    assert proxy.dropped == 2
    assert runlog.read_since(run.id, 0) == [ev(run.id, 1), ev(run.id, 2)]
    assert redis_conn.get(lock.key) == lock.token
    proxy.listener.close()
