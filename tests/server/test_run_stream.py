"""A run started over HTTP streams over the WebSocket: every event once, in order, snapshot consistent."""


from .conftest import (FINISHED, Viewer, assert_stream_consistent, fetch_events, start_run, wait_finished)


def test_run_streams_every_event_once_in_order(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=11)
    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(0)
        messages = viewer.until_finished()
    finally:
        viewer.close()
    assert messages[0]["type"] == "run" and messages[0]["run"]["id"] == run["id"]
    final = wait_finished(s, stack, run["id"])
    assert final["status"] == "succeeded", final
    archive = fetch_events(s, stack, run["id"])
    assert [e["seq"] for e in archive] == list(range(1, final["last_seq"] + 1))
    events = assert_stream_consistent(messages, archive)
    snapshot = next((m for m in messages if m["type"] == "snapshot"), None)
    assert (snapshot["seq"] if snapshot else 0) + len(events) == final["last_seq"]
    assert archive[0]["type"] == "scenario.started" and archive[-1]["type"] == "scenario.completed"
    assert all(e["run"] == run["id"] for e in archive)


def test_a_paced_run_streams_live_from_the_start(stack):
    s = stack.session()
    run = start_run(s, stack, speed="4", seed=3)
    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(0)
        messages = viewer.until_finished(timeout=120)
    finally:
        viewer.close()
    archive = fetch_events(s, stack, run["id"])
    events = assert_stream_consistent(messages, archive)
    statuses = [m["run"]["status"] for m in messages if m["type"] == "run"]
    assert statuses[-1] == "succeeded"
    assert len(events) >= len(archive) - 5  # it subscribed early: nearly everything arrived live


def test_viewer_of_a_finished_run_gets_its_final_state(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=5)
    final = wait_finished(s, stack, run["id"])
    archive = fetch_events(s, stack, run["id"])
    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(0)
        messages = viewer.until_finished()
    finally:
        viewer.close()
    assert messages[0]["type"] == "run" and messages[0]["run"]["status"] in FINISHED
    assert_stream_consistent(messages, archive)
    snapshot = next(m for m in messages if m["type"] == "snapshot")
    assert snapshot["seq"] == final["last_seq"]
    assert snapshot["state"]["status"] == "succeeded"


def test_two_viewers_see_the_same_events(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=21)
    a, b = Viewer(stack, run["id"]), Viewer(stack, run["id"])
    try:
        a.subscribe(0)
        b.subscribe(0)
        ma, mb = a.until_finished(), b.until_finished()
    finally:
        a.close()
        b.close()
    archive = fetch_events(s, stack, run["id"])
    assert_stream_consistent(ma, archive)
    assert_stream_consistent(mb, archive)


def test_same_seed_gives_the_same_events(stack):
    s = stack.session()
    runs = [start_run(s, stack, speed="max", seed=99) for _ in range(2)]
    logs = []
    for run in runs:
        wait_finished(s, stack, run["id"])
        logs.append([{k: v for k, v in e.items() if k != "run"} for e in fetch_events(s, stack, run["id"])])
    assert logs[0] == logs[1]


def test_events_since_returns_the_tail(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=8)
    final = wait_finished(s, stack, run["id"])
    tail = fetch_events(s, stack, run["id"], since=final["last_seq"] - 3)
    assert [e["seq"] for e in tail] == list(range(final["last_seq"] - 2, final["last_seq"] + 1))


def test_catch_up_comes_in_a_few_frames(stack):
    """A viewer that is behind gets consecutive events together (`events` frames of up to 500), not one
    WebSocket message per event."""
    s = stack.session()
    run = start_run(s, stack, scenario="deployment-reconcile", speed="max", seed=4)
    final = wait_finished(s, stack, run["id"])
    assert final["last_seq"] > 200
    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(1)
        messages = viewer.until_finished()
    finally:
        viewer.close()
    archive = fetch_events(s, stack, run["id"])
    assert_stream_consistent(messages, archive, since=1)
    assert len([m for m in messages if m["type"] == "event"]) == final["last_seq"] - 1
    # the run message, then ceil((n - 1) / 500) frames of events
    assert viewer.frames <= 1 + -(-(final["last_seq"] - 1) // 500), viewer.frames


def redis_reads(conn) -> int:
    stats = conn.info("commandstats")
    return sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("xread", "xrange", "xrevrange"))


def watch_live(stack, viewers: int, seed: int) -> int:
    """`viewers` sockets watch one paced run from its start to its end; the Redis stream reads that cost."""
    import redis

    s = stack.session()
    conn = redis.Redis.from_url(stack.redis_url)
    try:
        before = redis_reads(conn)
        run = start_run(s, stack, speed="4", seed=seed)
        group = [Viewer(stack, run["id"]) for _ in range(viewers)]
        try:
            for v in group:
                v.subscribe(0)
            out = [v.until_finished(timeout=120) for v in group]
        finally:
            for v in group:
                v.close()
        reads = redis_reads(conn) - before
        archive = fetch_events(s, stack, run["id"])
        for messages in out:
            assert_stream_consistent(messages, archive)
        return reads
    finally:
        conn.close()


def test_viewers_of_a_run_share_one_reader_of_its_log(stack):
    """Daphne follows a run's log once for all its viewers of that run: ten viewers cost about the Redis
    reads of one, not ten times as many."""
    one = watch_live(stack, 1, seed=12)
    ten = watch_live(stack, 10, seed=12)
    assert ten < 4 * one + 30, (one, ten)  # one socket each reading the log would cost ~10x
