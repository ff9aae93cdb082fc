"""Redis stopped for 5 s in the middle of a run: no viewer loses or repeats an event, and the stack works
again afterwards (the worker and Daphne reconnect by themselves)."""
import asyncio
from tests.server.conftest import fetch_events, start_run, wait_finished

from .conftest import Follower, run_async

OUTAGE_S = 5


def test_redis_outage_mid_run_every_viewer_ends_with_every_event_once(faults):
    s = faults.session()
    worker_pid = faults.stack.procs["worker"].pid
    run = start_run(s, faults, scenario="deployment-reconcile", speed="2", seed=6)
    followers = [Follower(faults, run["id"]) for _ in range(3)]

    async def scenario():
        watching = [asyncio.create_task(f.follow(timeout=150)) for f in followers]
        # Mid-run: well after the start, well before the end (about 900 events at 2x take ~15 s).
        while min(f.seq for f in followers) < 150:
            await asyncio.sleep(0.05)
        outage_at = max(f.seq for f in followers)
        await asyncio.to_thread(faults.stop_redis)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(faults.start_redis)
        await asyncio.gather(*watching)
        return outage_at

    outage_at = run_async(scenario())
    final = wait_finished(s, faults, run["id"], timeout=60)
    # Error first: pytest cuts a long message, and the reason is what matters.
    assert final["status"] == "succeeded", (final.get("error"), final, faults.logs())
    assert final["last_seq"] > outage_at + 100, "the outage was not mid-run"
    archive = fetch_events(s, faults, run["id"])
    assert [e["seq"] for e in archive] == list(range(1, final["last_seq"] + 1))
    for f in followers:
        f.assert_exactly_once(archive)
        assert f.connections >= 2, "the viewer never noticed the outage"
    # The same worker process rode it out (its run either kept its lease through the outage, or lost it and
    # was resumed by the reaper: both are right, the events above say so) (a broker outage must not end the worker).
    assert faults.stack.procs["worker"].pid == worker_pid and faults.stack.check() is None, faults.logs()

    # A run started after Redis came back: the worker's broker connection and Daphne's channel layer
    # have reconnected, so it runs and streams as usual.
    after = start_run(s, faults, speed="max", seed=7)
    viewer = Follower(faults, after["id"])
    run_async(viewer.follow(timeout=60))
    assert wait_finished(s, faults, after["id"], timeout=30)["status"] == "succeeded"
    viewer.assert_exactly_once(fetch_events(s, faults, after["id"]))
