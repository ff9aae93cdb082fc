"""The Celery worker killed mid-run: the run is picked up again after its lease lapses and continues after
its last logged event, with no duplicate and no gap; after MAX_RESUMES restarts it fails with the reason
instead; and a second execution of a running run is refused (the per-run lock)."""
import asyncio
import os
import signal
import time

import pytest
from celery import Celery

from dashboard import runlog, tasks
from tests.server.conftest import fetch_events, get_run, start_run, wait_finished

from .conftest import Follower, run_async

SEED = 6


def without_run_id(events):
    return [{k: v for k, v in e.items() if k != "run"} for e in events]


@pytest.fixture(scope="module")
def reference(fault_stack):
    """The events of an undisturbed run of the same scenario and seed (the simulation is deterministic)."""
    s = fault_stack.session()
    run = start_run(s, fault_stack, scenario="deployment-reconcile", speed="max", seed=SEED)
    assert wait_finished(s, fault_stack, run["id"])["status"] == "succeeded"
    return without_run_id(fetch_events(s, fault_stack, run["id"]))


def watch_and(faults, run_id, action, at_seq=150):
    """Two viewers follow the run; when they have seen `at_seq`, call action() (in a thread)."""
    followers = [Follower(faults, run_id) for _ in range(2)]

    async def go():
        watching = [asyncio.create_task(f.follow(timeout=150)) for f in followers]
        while min(f.seq for f in followers) < at_seq:
            await asyncio.sleep(0.02)
        await asyncio.to_thread(action)
        await asyncio.gather(*watching)

    run_async(go())
    return followers


@pytest.mark.parametrize("victim", ["whole worker", "pool child"])
def test_killed_worker_run_resumes_after_its_last_logged_event(faults, reference, victim):
    s = faults.session()
    run = start_run(s, faults, scenario="deployment-reconcile", speed="4", seed=SEED)
    r = faults.redis()
    killed_at = {}

    def kill():
        if victim == "whole worker":   # main process and pool children at once; a new worker takes over
            faults.kill_worker()
            killed_at["seq"] = runlog_last(r, run["id"])
            faults.start_worker()
        else:                          # the pool children (one runs the task; the OOM killer's pick); main survives
            _, children = faults.worker_pids()
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            killed_at["seq"] = runlog_last(r, run["id"])

    followers = watch_and(faults, run["id"], kill)
    final = wait_finished(s, faults, run["id"], timeout=60)
    assert final["status"] == "succeeded", (final, faults.logs())
    assert 0 < killed_at["seq"] < final["last_seq"] - 100, "the kill was not mid-run"
    archive = fetch_events(s, faults, run["id"])
    # Continued, not re-run: exactly the undisturbed run's events, each once.
    assert without_run_id(archive) == reference
    for f in followers:
        f.assert_exactly_once(archive)
    assert r.hget(runlog.meta_key(run["id"]), "resumes") == "1"
    assert f"run {run['id']}: its worker died; resuming (restart 1 of at most" in faults.worker_log()


def runlog_last(r, run_id) -> int:
    entries = r.xrevrange(runlog.log_key(run_id), count=1)
    return int(entries[0][0].split("-")[0]) if entries else 0


def test_run_whose_worker_keeps_dying_fails_with_the_reason_and_is_not_rerun(faults):
    s = faults.session()
    run = start_run(s, faults, scenario="deployment-reconcile", speed="4", seed=SEED)
    r = faults.redis()

    def kill_once_more():
        # As if this run had already been restarted MAX_RESUMES times (each killing its worker).
        r.hset(runlog.meta_key(run["id"]), "resumes", tasks.MAX_RESUMES)
        faults.kill_worker()
        faults.start_worker()

    followers = watch_and(faults, run["id"], kill_once_more, at_seq=100)
    final = wait_finished(s, faults, run["id"], timeout=60)
    assert final["status"] == "failed", final
    assert "stopped 4 times" in final["error"] and "giving up" in final["error"], final["error"]
    archive = fetch_events(s, faults, run["id"])
    assert [e["seq"] for e in archive] == list(range(1, final["last_seq"] + 1))
    assert archive[-1]["type"] == "run.failed" and "giving up" in archive[-1]["data"]["error"]
    for f in followers:
        f.assert_exactly_once(archive)
    # Never re-run: a few reaper passes later it is still failed, its log unchanged.
    time.sleep(faults.lease)
    assert get_run(s, faults, run["id"])["status"] == "failed"
    assert runlog_last(r, run["id"]) == final["last_seq"]


def test_a_second_execution_of_a_running_run_is_refused(faults, reference):
    s = faults.session()
    run = start_run(s, faults, scenario="deployment-reconcile", speed="4", seed=SEED)
    broker = Celery(broker=faults.redis_url)

    def duplicate():
        # What a redelivered or duplicated message does: ask a worker to execute the same run again.
        broker.send_task("dashboard.tasks.execute_run", args=[run["id"]])

    followers = watch_and(faults, run["id"], duplicate)
    final = wait_finished(s, faults, run["id"], timeout=60)
    assert final["status"] == "succeeded", (final, faults.logs())
    archive = fetch_events(s, faults, run["id"])
    assert without_run_id(archive) == reference
    for f in followers:
        f.assert_exactly_once(archive)
        assert set(f.statuses) <= {"queued", "running", "succeeded"}, f.statuses
    # The duplicate did reach a worker, and was turned away there.
    assert f"run {run['id']} is being executed elsewhere" in faults.worker_log()
