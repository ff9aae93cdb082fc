"""Scenario node-failure: a worker's kubelet stops; v1.31's node lifecycle timings (Unknown 40 s after the
last heartbeat, the unreachable taints, eviction when the 300 s toleration runs out) and the ReplicaSet's
replacements on the healthy workers, step by step; the node back, untainted, the replacements unmoved."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from simulator import clock, scenarios
from simulator.controllers import nodelifecycle
from simulator.errors import ParamError
from simulator.runner import Simulation
from simulator.scenarios import node_failure

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"


def seconds(ts: str) -> float:
    """Virtual seconds of an RFC 3339 timestamp written by the simulator."""
    return (dt.datetime.fromisoformat(ts.replace("Z", "+00:00")) - clock.EPOCH).total_seconds()


def stored(sim, prefix: str) -> list[dict]:
    return [json.loads(kv.value) for kv in sim.cluster.etcd.store.range(prefix, prefix=True)]


def run(params: dict, seed: int = 1):
    """The run's events, plus what etcd held as steps 3 and 7 began (the node's Lease as its kubelet last
    renewed it; the evicted Pods while their node is still away)."""
    sim = Simulation("node-failure", params, seed=seed)
    evs, at = [], {}
    for e in sim.events():
        evs.append(e)
        if e["type"] == "scenario.step" and e["data"]["step"] in (3, 7):
            at[e["data"]["step"]] = {
                "leases": {x["metadata"]["name"]: x for x in stored(sim, "/registry/leases/kube-node-lease/")},
                "pods": {p["metadata"]["name"]: p for p in stored(sim, "/registry/pods/default/web-")}}
    return sim, evs, at


@pytest.fixture(scope="module")
def default_run():
    return run({})


def puts(evs, key):
    return [e for e in evs if e["type"] == "etcd.put" and e["data"]["key"] == key]


def cond(obj, t):
    return next((c for c in obj["status"].get("conditions", []) if c["type"] == t), None)


def test_the_steps_follow_the_node_lifecycle_in_order(default_run):
    sim, evs, at = default_run
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 9))
    assert evs[-1]["type"] == "scenario.completed"
    step = {e["seq"]: e.get("step") for e in evs}
    # Step 1: kubectl create -f web.yaml, one POST, 201; three Pods Running on three different workers.
    (create,) = [e for e in evs if e["type"] == "kubectl.request"]
    assert step[create["seq"]] == 1 and create["data"]["method"] == "POST"
    assert create["data"]["path"] == "/apis/apps/v1/namespaces/default/deployments"
    assert [e["summary"].split()[0] for e in evs if e["type"] == "apiserver.response"
            and (e.get("to") or {}).get("component") == "kubectl"] == ["201"]
    first = {e["object"]["name"]: e["data"]["node"] for e in evs if e["type"] == "scheduler.bind" and step[e["seq"]] == 1}
    assert len(first) == 3 and set(first.values()) == {"worker-1", "worker-2", "worker-3"}
    # DefaultTolerationSeconds gave every Pod both NoExecute tolerations for 300 s.
    for p in at[3]["pods"].values():
        tols = {(t["key"], t["effect"], t.get("tolerationSeconds")) for t in p["spec"]["tolerations"]}
        assert tols == {(NOT_READY, "NoExecute", 300), (UNREACHABLE, "NoExecute", 300)}
    # Step 2: the kubelet of a worker running one of them stops.
    (stopped,) = [e for e in evs if e["type"] == "kubelet.lifecycle" and e["data"]["state"] == "stopped"]
    victim = stopped["instance"]
    assert step[stopped["seq"]] == 2 and victim in first.values()
    doomed = {name for name, node in first.items() if node == victim}
    assert len(doomed) == 1
    # Nothing about the node is written between the stop and step 3.
    node_key = f"/registry/minions/{victim}"
    assert all(step[e["seq"]] >= 3 for e in puts(evs, node_key))


def test_unknown_after_the_40s_grace_then_unreachable_taints(default_run):
    sim, evs, at = default_run
    step = {e["seq"]: e.get("step") for e in evs}
    (stopped,) = [e for e in evs if e["type"] == "kubelet.lifecycle" and e["data"]["state"] == "stopped"]
    victim, t_stop = stopped["instance"], stopped["t"]
    assert nodelifecycle.NODE_MONITOR_GRACE_PERIOD == 40 and nodelifecycle.NODE_MONITOR_PERIOD == 5
    # The last renewal of the node's Lease came before the stop; Unknown more than 40 s after it, seen at
    # one of the controller's 5 s passes (which may itself have seen the renewal up to 5 s late).
    last_renew = seconds(at[3]["leases"][victim]["spec"]["renewTime"])
    assert t_stop - 10.5 < last_renew <= t_stop
    (unknown,) = [e for e in evs if e["type"] == "controller.reconcile" and e["data"]["controller"] == "nodelifecycle"
                  and e["data"]["action"] == "conditions -> Unknown"]
    assert unknown["data"]["key"] == victim and step[unknown["seq"]] == 3
    assert 40 < unknown["t"] - last_renew <= 40 + 5 + 5
    nodes = [(step[e["seq"]], e["t"], e["data"]["value"]) for e in puts(evs, f"/registry/minions/{victim}")]
    s, _, node = nodes[0]
    ready = cond(node, "Ready")
    assert s == 3 and ready["status"] == "Unknown" and ready["reason"] == "NodeStatusUnknown"
    assert ready["message"] == "Kubelet stopped posting node status."
    assert {c["status"] for c in node["status"]["conditions"]} == {"Unknown"}
    # NodeNotReady on the Node and on its Pod, whose Ready turns False, with the Unknown conditions (the
    # controller's requests go out in step 3; they are stored a moment later, as the taint patch opens 4).
    events = {(e["data"]["value"]["involvedObject"]["kind"], e["data"]["value"]["reason"], e["data"]["value"]["message"]): e["t"]
              for e in evs if e["type"] == "etcd.put" and e["data"]["key"].startswith("/registry/events/default/")}
    assert 0 < events[("Node", "NodeNotReady", f"Node {victim} status is now: NodeNotReady")] - unknown["t"] < 0.5
    assert 0 < events[("Pod", "NodeNotReady", "Node is not ready")] - unknown["t"] < 0.5
    doomed = [n for n, p in at[7]["pods"].items() if p["spec"]["nodeName"] == victim]
    marked = [e for e in evs if e["type"] == "etcd.put" and e["data"]["key"] == f"/registry/pods/default/{doomed[0]}"
              and unknown["t"] <= e["t"] < unknown["t"] + 0.5]
    assert cond(marked[0]["data"]["value"], "Ready")["status"] == "False"   # MarkPodsNotReady
    # Step 4: unreachable:NoSchedule at once, unreachable:NoExecute at the next 5 s pass.
    tainted = [(s, t, {(x["key"], x["effect"]) for x in n["spec"].get("taints") or []}) for s, t, n in nodes]
    assert [(s, taints) for s, _, taints in tainted[1:3]] == [
        (4, {(UNREACHABLE, "NoSchedule")}), (4, {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")})]
    assert tainted[1][1] - unknown["t"] < 0.5
    assert 4.5 < tainted[2][1] - unknown["t"] <= 5.5
    no_execute = next(x for x in nodes[2][2]["spec"]["taints"] if x["effect"] == "NoExecute")
    assert no_execute["timeAdded"] == clock.rfc3339(tainted[2][1])


def test_evicted_when_the_300s_toleration_runs_out_and_replaced_elsewhere(default_run):
    sim, evs, at = default_run
    step = {e["seq"]: e.get("step") for e in evs}
    (stopped,) = [e for e in evs if e["type"] == "kubelet.lifecycle" and e["data"]["state"] == "stopped"]
    victim = stopped["instance"]
    t_taint = [e["t"] for e in evs if e["type"] == "controller.reconcile"
               and e["data"]["action"] == f"taint {UNREACHABLE}:NoExecute"][0]
    # Step 5: the taint-eviction controller sets a 300 s timer and nothing happens until it runs out.
    (timer,) = [e for e in evs if e["type"] == "controller.reconcile" and e["data"]["controller"] == "taint-eviction-controller"
                and e["data"]["action"].startswith("eviction scheduled")]
    assert step[timer["seq"]] == 5 and timer["data"]["action"] == "eviction scheduled in 300s"
    doomed = timer["data"]["key"].split("/")[1]
    # (Only the taint's own watch fan-out may land just after the timer: the scheduler learning of it.)
    quiet = [e for e in evs if timer["t"] < e["t"] < t_taint + 299
             and not (e["type"] == "apiserver.watch" and e["data"]["key"] == f"/registry/minions/{victim}"
                      and e["t"] - t_taint < 0.1)]
    assert quiet == []
    # Step 6: at taint + 300 s the Pod is marked DisruptionTarget, an Event says so, and it is deleted.
    (deleted,) = [e for e in evs if e["type"] == "controller.reconcile" and e["data"]["action"] == "deleted"]
    assert step[deleted["seq"]] == 6 and 300 <= deleted["t"] - t_taint < 301
    msgs = [(step[e["seq"]], e["data"]["value"]["message"]) for e in evs if e["type"] == "etcd.put"
            and e["data"]["key"].startswith("/registry/events/") and e["data"]["value"]["reason"] == "TaintManagerEviction"]
    assert msgs == [(6, f"Marking for deletion Pod default/{doomed}")]
    old = at[7]["pods"][doomed]           # as step 7 began: Terminating, its kubelet cannot confirm
    assert old["metadata"]["deletionTimestamp"]
    assert cond(old, "DisruptionTarget")["reason"] == "DeletionByTaintManager"
    # Step 7: one replacement, filtered off the failed node by its taint, Running on another worker.
    created = [e for e in evs if e["type"] == "controller.reconcile" and e["data"]["controller"] == "replicaset"
               and e["data"]["action"].startswith("created")]
    assert [(step[e["seq"]], e["data"]["action"]) for e in created] == [(1, "created 3 pod(s)"), (7, "created 1 pod(s)")]
    filters = [e for e in evs if e["type"] == "scheduler.filter" and step[e["seq"]] == 7]
    (f,) = filters
    assert f["data"]["nodes"][victim]["TaintToleration"] == {
        "code": "UnschedulableAndUnresolvable", "reason": f"node(s) had untolerated taint {{{UNREACHABLE}: }}"}
    assert victim not in f["data"]["feasible"] and "control-plane" not in f["data"]["feasible"]
    (bind,) = [e for e in evs if e["type"] == "scheduler.bind" and step[e["seq"]] == 7]
    assert bind["object"]["name"] == f["object"]["name"] and bind["data"]["node"] != victim
    running = [e for e in evs if e["type"] == "kubelet.status" and e.get("object", {}).get("name") == bind["object"]["name"]
               and e["data"]["phase"] == "Running"]
    assert running and step[running[0]["seq"]] == 7


def test_the_node_comes_back_untainted_and_nothing_moves_back(default_run):
    sim, evs, at = default_run
    step = {e["seq"]: e.get("step") for e in evs}
    (started,) = [e for e in evs if e["type"] == "kubelet.lifecycle" and e["data"]["state"] == "started"]
    victim = started["instance"]
    assert step[started["seq"]] == 8
    # The Terminating Pod leaves etcd only now, confirmed by its returning kubelet.
    doomed = [e["data"]["key"] for e in evs if e["type"] == "etcd.delete" and e["data"]["key"].startswith("/registry/pods/default/web-")]
    assert [step[e["seq"]] for e in evs if e["type"] == "etcd.delete" and e["data"]["key"] in doomed] == [8]
    node = sim.cluster.etcd.store.get(f"/registry/minions/{victim}")
    node = json.loads(node.value)
    assert cond(node, "Ready")["status"] == "True"
    assert not [t for t in node["spec"].get("taints") or [] if t["key"] == UNREACHABLE]
    pods = stored(sim, "/registry/pods/default/web-")
    assert len(pods) == 3 and all(p["spec"]["nodeName"] != victim for p in pods)
    assert evs[-1]["data"]["outcome"] == "3/3 Running on " + ", ".join(sorted({p["spec"]["nodeName"] for p in pods}))


def test_a_shorter_toleration_evicts_sooner():
    sim, evs, at = run({"toleration_seconds": 30, "replicas": 2})
    step = {e["seq"]: e.get("step") for e in evs}
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 9))
    # The template's own unreachable toleration wins; admission adds only not-ready, for 300 s.
    for p in at[3]["pods"].values():
        tols = {(t["key"], t.get("tolerationSeconds")) for t in p["spec"]["tolerations"]}
        assert tols == {(UNREACHABLE, 30), (NOT_READY, 300)}
    t_taint = [e["t"] for e in evs if e["type"] == "controller.reconcile"
               and e["data"]["action"] == f"taint {UNREACHABLE}:NoExecute"][0]
    (deleted,) = [e for e in evs if e["type"] == "controller.reconcile" and e["data"]["action"] == "deleted"]
    assert step[deleted["seq"]] == 6 and 30 <= deleted["t"] - t_taint < 31
    assert evs[-1]["data"]["outcome"].startswith("2/2 Running")


def test_no_toleration_time_evicts_at_the_taint_and_more_pods_move():
    sim, evs, at = run({"toleration_seconds": 0, "replicas": 6})
    (stopped,) = [e for e in evs if e["type"] == "kubelet.lifecycle" and e["data"]["state"] == "stopped"]
    t_taint = [e["t"] for e in evs if e["type"] == "controller.reconcile"
               and e["data"]["action"] == f"taint {UNREACHABLE}:NoExecute"][0]
    deleted = [e for e in evs if e["type"] == "controller.reconcile" and e["data"]["action"] == "deleted"]
    assert len(deleted) == 2 and all(e["t"] - t_taint < 1 for e in deleted)
    pods = stored(sim, "/registry/pods/default/web-")
    assert len(pods) == 6 and all(p["spec"]["nodeName"] != stopped["instance"] for p in pods)


def test_deterministic_and_bounded_params():
    def trace():
        return [(e["type"], e["t"], e["summary"]) for e in Simulation("node-failure", {"toleration_seconds": 10}, seed=4).events()]
    assert trace() == trace()
    assert scenarios.validate("node-failure", {}) == {"replicas": 3, "toleration_seconds": 300}
    for bad in ({"replicas": 1}, {"replicas": 7}, {"toleration_seconds": -1}, {"toleration_seconds": 601}):
        with pytest.raises(ParamError):
            scenarios.validate("node-failure", bad)
    assert node_failure.CATALOG["id"] == node_failure.ID == "node-failure"
