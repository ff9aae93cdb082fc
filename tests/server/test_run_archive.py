"""Finished runs live on in the DB: replay works after the Redis keys are gone."""
import redis

from .conftest import Viewer, assert_stream_consistent, fetch_events, fold, start_run, wait_finished


def test_finished_run_replays_from_the_db_archive(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=17)
    final = wait_finished(s, stack, run["id"])
    before = fetch_events(s, stack, run["id"])
    conn = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    try:
        assert conn.exists(f"run:{run['id']}:log")
        conn.delete(f"run:{run['id']}:log", f"run:{run['id']}:snap", f"run:{run['id']}:meta")
    finally:
        conn.close()
    after = fetch_events(s, stack, run["id"])
    assert after == before
    assert [e["seq"] for e in after] == list(range(1, final["last_seq"] + 1))
    assert fetch_events(s, stack, run["id"], since=10) == before[10:]

    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(0)
        from_snapshot = viewer.until_finished()
        viewer.subscribe(5)
        from_five = viewer.until_finished()
    finally:
        viewer.close()
    snapshot = next(m for m in from_snapshot if m["type"] == "snapshot")
    assert snapshot["seq"] == final["last_seq"]
    assert snapshot["state"] == fold(after)
    assert_stream_consistent(from_five, after, since=5)
    assert len([m for m in from_five if m["type"] == "event"]) == final["last_seq"] - 5
