"""Resync: a viewer further behind than the log keeps is reset with a snapshot and ends in the live state;
and, as a property over random disconnect points, snapshot + replayed events == the run's final state."""
import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import runlog
from simulator import state
from tests.server.conftest import FINISHED, fetch_events, fold, start_run, unbatch, wait_finished

from .conftest import Follower, run_async


def test_since_older_than_the_log_keeps_gets_a_snapshot_and_the_live_state(faults):
    s = faults.session()
    run = start_run(s, faults, scenario="deployment-reconcile", speed="4", seed=10)
    r = faults.redis()
    live = Follower(faults, run["id"])
    behind = Follower(faults, run["id"], since=5)  # a laptop that slept after its first five events
    trimmed = {}

    async def go():
        watching = asyncio.create_task(live.follow(timeout=120))
        while True:  # mid-run, once a snapshot well past seq 5 is stored
            raw = await asyncio.to_thread(r.get, runlog.snap_key(run["id"]))
            snap_seq = json.loads(raw)["seq"] if raw else 0
            if snap_seq > 50 and live.seq > snap_seq:
                break
            await asyncio.sleep(0.05)
        # What the log keeps at the least: the events after its latest snapshot. Older ones are gone.
        r.xtrim(runlog.log_key(run["id"]), minid=f"{snap_seq + 1}-0", approximate=False)
        trimmed["oldest"] = int(r.xrange(runlog.log_key(run["id"]), count=1)[0][0].split("-")[0])
        trimmed["live_at"] = live.seq
        await behind.follow(timeout=120)
        await watching

    run_async(go())
    final = wait_finished(s, faults, run["id"])
    assert final["status"] == "succeeded"
    assert trimmed["oldest"] > 6 and trimmed["live_at"] < final["last_seq"] - 50, trimmed
    archive = fetch_events(s, faults, run["id"])
    first = behind.received[0]
    assert first["type"] == "snapshot" and first["seq"] >= trimmed["oldest"] - 1, first.get("seq")
    behind.assert_exactly_once(archive)  # the snapshot equals the folded log; events after it, once each
    live.assert_exactly_once(archive)
    assert behind.state() == live.state() == fold(archive)


# -- property: random disconnect points -----------------------------------------------------------------

# One reconnect: the viewer reads until it holds `until` (a fraction of the run), drops, waits `pause`, and
# comes back either with its last seq or, having lost its state (a reloaded tab), with since 0.
segments = st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans(), st.floats(0.0, 0.5)), min_size=1, max_size=4)


async def watch_with_disconnects(stack, run_id: str, plan, total: int) -> list[dict]:
    from websockets.asyncio.client import connect

    received, seq, final = [], 0, None
    points = sorted(int(f * total) for f, _, _ in plan)
    for i in range(len(plan) + 1):
        until = points[i] if i < len(plan) else None
        if i and plan[i - 1][1]:
            seq = 0  # lost its state: subscribe from scratch
        async with connect(f"{stack.ws_url}/ws/runs/{run_id}/", origin=stack.base_url, proxy=None,
                           ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "subscribe", "since": seq}))
            while True:
                for m in unbatch(json.loads(await asyncio.wait_for(ws.recv(), 30))):
                    if m["type"] in ("event", "snapshot"):
                        received.append(m)
                        seq = m["event"]["seq"] if m["type"] == "event" else m["seq"]
                    elif m["type"] == "run" and m["run"]["status"] in FINISHED:
                        final = m["run"]["last_seq"]
                if until is not None and seq >= until:
                    break
                if until is None and final is not None and seq >= final:
                    return received
        await asyncio.sleep(plan[i][2])
    raise AssertionError("unreachable")


@settings(max_examples=5, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=segments)
def test_snapshot_plus_replayed_events_equals_the_final_state(faults, plan):
    s = faults.session()
    run = start_run(s, faults, scenario="pod-create", speed="4", seed=11)  # 81 events in about 2 s
    received = run_async(watch_with_disconnects(faults, run["id"], plan, total=81))
    final = wait_finished(s, faults, run["id"])
    archive = fetch_events(s, faults, run["id"])
    st_, cursor = None, None
    for m in received:
        if m["type"] == "snapshot":
            assert m["state"] == fold(archive, m["seq"]), f"snapshot at {m['seq']} differs from the log"
            st_, cursor = m["state"], m["seq"]
        else:
            assert st_ is not None, "an event before any snapshot or since"
            ev = m["event"]
            assert ev["seq"] == cursor + 1, f"after {cursor} came {ev['seq']}"
            assert ev == archive[ev["seq"] - 1]
            st_, cursor = state.apply(st_, ev), ev["seq"]
    assert cursor == final["last_seq"]
    assert st_ == fold(archive)
