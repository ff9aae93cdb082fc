"""Pause, resume, step, speed and cancel, as an instructor uses them, through the real worker."""
import time

import pytest

from .conftest import (Viewer, assert_stream_consistent, fetch_events, get_run, start_run, summarize,
                       wait_finished)


def control(s, stack, run_id, **body):
    r = s.post(f"{stack.base_url}/api/runs/{run_id}/control", json=body, timeout=10)
    assert r.status_code == 202, r.text
    return r


def is_status(status):
    return lambda m: m["type"] == "run" and m["run"]["status"] == status


def no_events_for(viewer, seconds):
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            m = viewer.recv(timeout=left)
        except TimeoutError:
            return
        assert m["type"] != "event", f"event while paused: {m}"


def test_pause_resume_cancel(stack):
    s = stack.session()
    run = start_run(s, stack, speed="1", seed=2)
    viewer = Viewer(stack, run["id"])
    messages = []
    try:
        viewer.subscribe(0)
        messages += viewer.messages_until(lambda m: m["type"] == "event" and m["event"]["seq"] >= 3)
        control(s, stack, run["id"], action="pause")
        messages += viewer.messages_until(is_status("paused"))
        assert get_run(s, stack, run["id"])["paused"] is True
        no_events_for(viewer, 1.5)
        control(s, stack, run["id"], action="resume")
        messages += viewer.messages_until(is_status("running"))
        messages += viewer.messages_until(lambda m: m["type"] == "event")
        control(s, stack, run["id"], action="cancel")
        messages += viewer.until_finished()
    finally:
        viewer.close()
    final = wait_finished(s, stack, run["id"])
    assert final["status"] == "cancelled", final
    archive = fetch_events(s, stack, run["id"])
    assert archive[-1]["type"] == "run.cancelled"
    assert archive[-1]["component"] == "scenario" and archive[-1]["instance"] == "scenario"
    assert archive[-1]["data"]["by"] == stack.instructor_user
    assert archive[-1]["seq"] == final["last_seq"]
    assert not any(e["type"] == "scenario.completed" for e in archive)
    events = assert_stream_consistent(messages, archive)
    assert events[-1]["type"] == "run.cancelled", summarize(messages)
    r = s.post(f"{stack.base_url}/api/runs/{run['id']}/control", json={"action": "resume"}, timeout=10)
    assert r.status_code == 409


def test_cancel_while_paused(stack):
    s = stack.session()
    run = start_run(s, stack, speed="1", seed=6)
    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(0)
        viewer.messages_until(lambda m: m["type"] == "event")
        control(s, stack, run["id"], action="pause")
        viewer.messages_until(is_status("paused"))
        control(s, stack, run["id"], action="cancel")
        viewer.until_finished()
    finally:
        viewer.close()
    archive = fetch_events(s, stack, run["id"])
    assert archive[-1]["type"] == "run.cancelled"
    assert wait_finished(s, stack, run["id"])["status"] == "cancelled"


def test_speed_change_to_max_finishes_quickly(stack):
    s = stack.session()
    run = start_run(s, stack, speed="0.25", seed=9)
    viewer = Viewer(stack, run["id"])
    try:
        viewer.subscribe(0)
        viewer.messages_until(lambda m: m["type"] == "event")
        control(s, stack, run["id"], action="speed", speed="max")
        viewer.messages_until(lambda m: m["type"] == "run" and m["run"]["speed"] == "max")
    finally:
        viewer.close()
    final = wait_finished(s, stack, run["id"], timeout=20)
    assert final["status"] == "succeeded" and final["speed"] == "max"


def steps_seen(messages):
    """The checkpoints a viewer knows were begun: those folded into its snapshot, then the live ones."""
    steps = []
    for m in messages:
        if m["type"] == "snapshot":
            steps = list(range(1, m["state"]["step"] + 1))
        elif m["type"] == "event" and m["event"]["type"] == "scenario.step":
            steps.append(m["event"]["data"]["step"])
    return steps


def test_step_mode_holds_before_each_checkpoint(stack):
    s = stack.session()
    run = start_run(s, stack, speed="max", seed=1, step_mode=True)
    viewer = Viewer(stack, run["id"])
    messages = []
    try:
        viewer.subscribe(0)
        messages += viewer.until_status(("paused",), timeout=30)
        assert steps_seen(messages) == [1], summarize(messages)
        no_events_for(viewer, 1.0)
        control(s, stack, run["id"], action="step")
        messages += viewer.messages_until(is_status("running"))
        messages += viewer.until_status(("paused",), timeout=30)
        assert steps_seen(messages) == [1, 2], summarize(messages)
        held = [m["event"] for m in messages if m["type"] == "event"][-1]
        assert held["type"] != "scenario.step"  # it holds before the checkpoint, not after
        # resume continues in step mode: to the next checkpoint, then holds again
        control(s, stack, run["id"], action="resume")
        messages += viewer.messages_until(is_status("running"))
        messages += viewer.until_status(("paused",), timeout=30)
        assert steps_seen(messages) == [1, 2, 3], summarize(messages)
        control(s, stack, run["id"], action="cancel")
        messages += viewer.until_finished()
    finally:
        viewer.close()
    archive = fetch_events(s, stack, run["id"])
    assert_stream_consistent(messages, archive)
    assert archive[-1]["type"] == "run.cancelled"


@pytest.mark.parametrize("speed", ["0.25", "0.5", "1", "2", "4", "max"])
def test_every_speed_is_accepted(stack, speed):
    s = stack.session()
    run = start_run(s, stack, speed=speed, seed=1)
    assert run["speed"] == speed
    if speed != "max":
        control(s, stack, run["id"], action="cancel")
    assert wait_finished(s, stack, run["id"], timeout=30)["status"] in ("succeeded", "cancelled")


def test_long_quiet_stretches_are_compressed_but_keep_their_virtual_times(stack):
    # node-failure waits 40 s for the node to go Unknown and 300 s for the eviction: at 4x that would be
    # 90 s of wall time; each quiet stretch passes in QUIET_WALL_S / 4 instead, and the times stay real.
    from dashboard.tasks import QUIET_GAP_S, QUIET_WALL_S

    s = stack.session()
    t0 = time.monotonic()
    run = start_run(s, stack, scenario="node-failure", speed="4", seed=1)
    final = wait_finished(s, stack, run["id"], timeout=120)
    took = time.monotonic() - t0
    assert final["status"] == "succeeded", final
    events = fetch_events(s, stack, run["id"])
    gaps = [b["t"] - a["t"] for a, b in zip(events, events[1:])]
    quiet = [g for g in gaps if g > QUIET_GAP_S]
    assert len(quiet) >= 2 and max(quiet) >= 300   # the eviction wait is still 300 virtual seconds
    paced = (events[-1]["t"] - sum(quiet)) / 4 + len(quiet) * QUIET_WALL_S / 4
    assert took < paced + 20, (took, paced)
    assert took > paced * 0.8, (took, paced)
