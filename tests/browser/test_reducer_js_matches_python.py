"""static/js/state.js folds events exactly as simulator/state.py does (contract section 4).

Both reducers run over the same recorded simulator runs; after every event the two states must be equal
as JSON, and starting the JavaScript reducer from a Python snapshot must reach the same end state
(snapshot(t0) + events(t0..t1) == snapshot(t1), the invariant the live protocol relies on).
No server needed: Playwright serves static/js from the work tree to a blank page.
"""
from __future__ import annotations

import copy
import json

import pytest

from simulator import runner, scenarios
from simulator import state as sim_state



def recorded(scenario_id: str, seed: int, **params) -> list[dict]:
    cleaned = scenarios.validate(scenario_id, params)
    sim = runner.Simulation(scenario_id, params=cleaned, seed=seed, run_id=f"sim-{scenario_id}-{seed}")
    # Through JSON, as the browser receives them.
    return [json.loads(json.dumps(ev)) for ev in sim.events()]


def python_states(events: list[dict], every: int = 1) -> list[dict]:
    """The Python state after each event (after every `every`-th and the last one; None for the others)."""
    st = sim_state.initial()
    out = []
    for i, ev in enumerate(events):
        sim_state.apply(st, copy.deepcopy(ev))
        keep = i % every == every - 1 or i == len(events) - 1
        out.append(json.loads(json.dumps(st)) if keep else None)
    return out


FOLD_EVERY = """async ([events, every]) => {
  const { initial, apply } = await import("/static/js/state.js");
  const st = initial();
  const out = [];
  events.forEach((ev, i) => { apply(st, ev); if (i % every === every - 1 || i === events.length - 1) out.push(JSON.stringify(st)); });
  return out;
}"""


FOLD_ALL = """async ([start, events]) => {
  const { initial, apply } = await import("/static/js/state.js");
  let st = start === null ? initial() : start;
  const out = [];
  for (const ev of events) { apply(st, ev); out.push(JSON.stringify(st)); }
  return out;
}"""


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_js_reducer_equals_python_after_every_event(js, seed):
    events = recorded("pod-create", seed)
    assert events, "the simulator produced no events"
    expected = python_states(events)
    got = [json.loads(s) for s in js.evaluate(FOLD_ALL, [None, events])]
    for ev, want, have in zip(events, expected, got):
        assert have == want, f"states differ after seq {ev['seq']} ({ev['type']})"
    assert got[-1]["status"] == "succeeded"
    assert got[-1]["steps_done"] == list(range(1, 11))


def test_js_reducer_resumes_from_a_python_snapshot(js):
    events = recorded("pod-create", 3, image="redis", pod_name="cache")
    expected = python_states(events)
    for cut in (1, len(events) // 3, len(events) // 2, len(events) - 1):
        snapshot = expected[cut - 1]
        got = js.evaluate(FOLD_ALL, [snapshot, events[cut:]])
        assert json.loads(got[-1]) == expected[-1], f"resuming from the snapshot at seq {cut} diverged"


def test_js_initial_state_equals_python(js):
    got = js.evaluate("async () => (await import('/static/js/state.js')).initial()")
    assert got == json.loads(json.dumps(sim_state.initial()))


@pytest.mark.parametrize("recording", ["raft", "api", "controllers", "large"])
def test_js_reducer_equals_python_over_elections_and_refused_requests(js, recording):
    """Raft elections and quorum loss; requests stopped at each stage of the API server's pipeline;
    controllers reconciling a Deployment and Leases moving to a standby."""
    from tests.sim.helpers import run_api, run_controllers, run_large, run_raft
    run = {"raft": run_raft, "api": run_api, "controllers": run_controllers, "large": run_large}[recording]
    events = [json.loads(json.dumps(ev)) for ev in run(1)]
    must = {"raft": ("etcd.raft.leader", "etcd.quorum.lost"), "api": ("apiserver.authz", "apiserver.validation"),
            "controllers": ("controller.reconcile", "leaderelection"), "large": ("summary.interval",)}[recording]
    assert all(any(e["type"] == t for e in events) for t in must)
    # Every event for the small recordings; for the large one (a 200-node state) every 25th and the last.
    every = 25 if recording == "large" else 1
    expected = python_states(events, every)
    got = [json.loads(s) for s in js.evaluate(FOLD_EVERY, [events, every])]
    picked = [i for i in range(len(events)) if i % every == every - 1 or i == len(events) - 1]
    assert len(got) == len(picked)
    for i, have in zip(picked, got):
        assert have == expected[i], f"states differ after seq {events[i]['seq']} ({events[i]['type']})"


@pytest.mark.parametrize("scenario", ["pod-create", "deployment-reconcile"])
def test_js_reducer_equals_python_over_a_real_cluster_run(js, scenario):
    """Runs recorded from the api backend (dashboard/realcluster against the live cluster's API): the run's
    namespace on the terminals, steps marked hidden, etcd's term unknown (null)."""
    from pathlib import Path

    path = Path(__file__).with_name(f"recorded-api-{scenario}.jsonl")
    events = [json.loads(line) for line in path.read_text().splitlines() if line]
    expected = python_states(events)
    got = [json.loads(s) for s in js.evaluate(FOLD_ALL, [None, events])]
    for ev, want, have in zip(events, expected, got):
        assert have == want, f"states differ after seq {ev['seq']} ({ev['type']})"
    end = got[-1]
    assert end["backend"] == "api" and end["namespace"].startswith("k8sdash-") and end["etcd"]["term"] is None
    assert end["status"] == "succeeded" and end["terminals"]["pods"]
    if scenario == "pod-create":
        assert end["hidden"] == {"2": "apiserver", "3": "apiserver", "5": "controller-manager", "6": "scheduler"}
