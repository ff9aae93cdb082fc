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
