"""A viewer that drops out mid-run and resubscribes with `since` gets exactly the events it missed."""
import time

from .conftest import Viewer, assert_stream_consistent, fetch_events, start_run, summarize


def test_resubscribe_with_since_gets_exactly_the_missing_events(stack):
    s = stack.session()
    run = start_run(s, stack, speed="4", seed=4)
    first = Viewer(stack, run["id"])
    try:
        first.subscribe(0)
        before = first.messages_until(lambda m: m["type"] == "event" and m["event"]["seq"] >= 6, timeout=60)
    finally:
        first.close()
    archive_so_far = fetch_events(s, stack, run["id"])
    seen = assert_stream_consistent(before, archive_so_far)
    last = seen[-1]["seq"]
    time.sleep(1.5)  # the run goes on without us

    second = Viewer(stack, run["id"])
    try:
        second.subscribe(last)
        after = second.until_finished(timeout=120)
    finally:
        second.close()
    assert not any(m["type"] == "snapshot" for m in after), summarize(after)
    archive = fetch_events(s, stack, run["id"])
    resumed = assert_stream_consistent(after, archive, since=last)
    snapshot = next((m for m in before if m["type"] == "snapshot"), None)
    start = snapshot["seq"] if snapshot else 0
    assert [e["seq"] for e in seen + resumed] == [e["seq"] for e in archive[start:]]
    assert resumed[0]["seq"] == last + 1


def test_resubscribing_on_the_same_socket_restarts_from_since(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=12)
    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(0)
        viewer.until_finished()
        viewer.subscribe(3)
        again = viewer.until_finished()
    finally:
        viewer.close()
    archive = fetch_events(s, stack, run["id"])
    assert_stream_consistent(again, archive, since=3)
    assert [m["event"]["seq"] for m in again if m["type"] == "event"] == [e["seq"] for e in archive[3:]]
