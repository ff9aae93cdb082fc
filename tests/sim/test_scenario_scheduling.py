"""Scenario "scheduling": each Pod lands where its rule says, and the scheduler's filter and score tables say
why; the big Pod waits Pending with kube-scheduler's FitError message until a bigger node joins."""
from __future__ import annotations

import pytest

from simulator.runner import Simulation

HUGE_MSG = ("0/5 nodes are available: 1 node(s) had untolerated taint {dedicated: batch}, "
            "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. "
            "preemption: 0/5 nodes are available: 2 Preemption is not helpful for scheduling, "
            "3 No preemption victims found for incoming pod..")
ZONE = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def run():
    sim = Simulation("scheduling", {}, seed=1)
    evs = list(sim.events())
    return sim, evs


def of(evs, type, name=None):
    return [e for e in evs if e["type"] == type and (name is None or (e.get("object") or {}).get("name") == name)]


def binds(evs) -> dict[str, tuple[int, str]]:
    """pod name -> (step, node) of its binding."""
    return {e["object"]["name"]: (e["step"], e["data"]["node"]) for e in of(evs, "scheduler.bind")}


def pods(sim) -> dict[str, dict]:
    return {p["metadata"]["name"]: p for p in sim.cluster.apiserver.list("/registry/pods/default/")}


def test_steps_and_kubectl_requests(run):
    sim, evs = run
    assert [e["data"]["step"] for e in of(evs, "scenario.step")] == list(range(1, 10))
    reqs = [(e["step"], e["data"]["method"], e["data"]["path"], e["object"]["name"]) for e in of(evs, "kubectl.request")]
    assert reqs == [
        (1, "POST", "/api/v1/namespaces/default/pods", "ssd-pod"),
        (2, "POST", "/api/v1/namespaces/default/pods", "zone-b-pod"),
        (3, "POST", "/api/v1/namespaces/default/pods", "prefers-ssd"),
        (4, "GET", "/api/v1/nodes/worker-3", "worker-3"),
        (4, "PATCH", "/api/v1/nodes/worker-3", "worker-3"),
        (4, "POST", "/api/v1/namespaces/default/pods", "plain-pod"),
        (5, "POST", "/api/v1/namespaces/default/pods", "batch-pod"),
        (6, "POST", "/api/v1/namespaces/default/pods", "huge-pod"),
        (8, "POST", "/apis/apps/v1/namespaces/default/deployments", "cache"),
        (9, "POST", "/apis/apps/v1/namespaces/default/deployments", "web"),
    ]
    patch = of(evs, "kubectl.request")[4]
    assert patch["summary"].startswith("kubectl taint nodes worker-3 dedicated=batch:NoSchedule")
    assert patch["data"]["body"] == {"spec": {"taints": [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]}}
    assert evs[-1]["type"] == "scenario.completed"
    assert evs[-1]["data"]["outcome"] == "huge-pod on worker-5; cache 4/4 on 4 nodes; web 6/6 Running, 2/2/2 per zone"


def test_node_selector_and_node_affinity(run):
    sim, evs = run
    b = binds(evs)
    # Step 1: nodeSelector disktype=ssd - NodeAffinity filters out every worker but worker-1.
    assert b["ssd-pod"] == (1, "worker-1")
    f = of(evs, "scheduler.filter", "ssd-pod")[0]["data"]
    assert f["feasible"] == ["worker-1"]
    for w in ("worker-2", "worker-3", "worker-4"):
        assert f["nodes"][w]["NodeAffinity"] == {"code": "UnschedulableAndUnresolvable",
                                                 "reason": "node(s) didn't match Pod's node affinity/selector"}
    # Step 2: required node affinity on the zone: only region-1b's workers pass.
    f = of(evs, "scheduler.filter", "zone-b-pod")[0]["data"]
    assert sorted(f["feasible"]) == ["worker-3", "worker-4"]
    assert b["zone-b-pod"][0] == 2 and b["zone-b-pod"][1] in ("worker-3", "worker-4")
    # Step 3: preferred node affinity decides by score: 100 (x2) for worker-1, 0 for the others.
    f = of(evs, "scheduler.filter", "prefers-ssd")[0]["data"]
    assert sorted(f["feasible"]) == ["worker-1", "worker-2", "worker-3", "worker-4"]
    s = of(evs, "scheduler.score", "prefers-ssd")[0]["data"]
    na = {n: v["NodeAffinity"] for n, v in s["scores"].items()}
    assert na["worker-1"] == {"raw": 80, "normalized": 100, "weight": 2}
    assert all(v["normalized"] == 0 for n, v in na.items() if n != "worker-1")
    assert s["selected"] == "worker-1" == max(s["totals"], key=s["totals"].get)
    assert b["prefers-ssd"] == (3, "worker-1")


def test_taint_repels_and_toleration_admits(run):
    sim, evs = run
    b = binds(evs)
    # Step 4: the taint is stored on the Node; the Pod without a toleration is filtered off worker-3.
    node = sim.cluster.get("/registry/minions/worker-3")
    assert {"key": "dedicated", "value": "batch", "effect": "NoSchedule"} in node["spec"]["taints"]
    f = of(evs, "scheduler.filter", "plain-pod")[0]["data"]
    assert f["nodes"]["worker-3"]["TaintToleration"] == {"code": "UnschedulableAndUnresolvable",
                                                         "reason": "node(s) had untolerated taint {dedicated: batch}"}
    assert "worker-3" not in f["feasible"]
    assert b["plain-pod"][0] == 4 and b["plain-pod"][1] in ("worker-1", "worker-2", "worker-4")
    # Step 5: the toleration plus a nodeSelector for worker-3's label puts the Pod there.
    f = of(evs, "scheduler.filter", "batch-pod")[0]["data"]
    assert f["feasible"] == ["worker-3"] and f["nodes"]["worker-3"]["TaintToleration"]["code"] == "Success"
    assert b["batch-pod"] == (5, "worker-3")
    # NoSchedule evicts nothing: the zone-b Pod keeps running where it was bound before the taint.
    p = pods(sim)
    assert p["zone-b-pod"]["spec"]["nodeName"] == b["zone-b-pod"][1] and p["zone-b-pod"]["status"]["phase"] == "Running"


def test_too_big_pod_waits_pending_until_a_bigger_node_joins(run):
    sim, evs = run
    step = {e["seq"]: e.get("step") for e in evs}
    filters = of(evs, "scheduler.filter", "huge-pod")
    assert filters[0]["step"] == 6 and filters[0]["data"]["feasible"] == []
    assert filters[0]["data"]["message"] == HUGE_MSG
    post = of(evs, "scheduler.postfilter", "huge-pod")[0]
    assert post["data"]["nominatedNodeName"] is None and post["data"]["victims"] == []
    # The Event and the Pod's condition, as `kubectl describe pod huge-pod` shows them.
    events = sim.cluster.apiserver.list("/registry/events/default/")
    failed = [e for e in events if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "huge-pod"]
    assert failed and all(e["message"] == HUGE_MSG and e["type"] == "Warning" for e in failed)
    conds = [e["data"]["value"]["status"].get("conditions") for e in of(evs, "etcd.put")
             if e["data"]["key"] == "/registry/pods/default/huge-pod" and step[e["seq"]] == 6]
    scheduled = [c for cs in conds if cs for c in cs if c["type"] == "PodScheduled"]
    assert scheduled[-1]["status"] == "False" and scheduled[-1]["reason"] == "Unschedulable"
    assert scheduled[-1]["message"] == HUGE_MSG
    # Step 7: worker-5 registers (its kubelet POSTs the Node) and the waiting Pod is bound to it.
    reg = [e for e in of(evs, "etcd.put") if e["data"]["key"] == "/registry/minions/worker-5"]
    assert reg and reg[0]["step"] == 7
    assert binds(evs)["huge-pod"] == (7, "worker-5")
    assert [f["step"] for f in filters] == [6, 7] and filters[1]["data"]["feasible"] == ["worker-5"]
    p = pods(sim)["huge-pod"]
    assert p["spec"]["nodeName"] == "worker-5" and p["status"]["phase"] == "Running"


def test_anti_affinity_one_per_node_and_spread_across_zones(run):
    sim, evs = run
    p = pods(sim)
    cache = [x for n, x in p.items() if n.startswith("cache-")]
    nodes = [x["spec"]["nodeName"] for x in cache]
    assert len(nodes) == 4 and sorted(nodes) == ["worker-1", "worker-2", "worker-4", "worker-5"]
    assert {binds(evs)[x["metadata"]["name"]][0] for x in cache} == {8}
    reasons = {r["reason"] for e in of(evs, "scheduler.filter") if e["object"]["name"].startswith("cache-")
               for n in e["data"]["nodes"].values() for r in n.values() if r["code"] != "Success"}
    assert "node(s) didn't match pod anti-affinity rules" in reasons
    zone = {n["metadata"]["name"]: n["metadata"]["labels"].get(ZONE) for n in sim.cluster.apiserver.list("/registry/minions/")}
    web = [x for n, x in p.items() if n.startswith("web-")]
    per_zone: dict[str, int] = {}
    for x in web:
        per_zone[zone[x["spec"]["nodeName"]]] = per_zone.get(zone[x["spec"]["nodeName"]], 0) + 1
    assert per_zone == {"region-1a": 2, "region-1b": 2, "region-1c": 2}
    assert {binds(evs)[x["metadata"]["name"]][0] for x in web} == {9}
    assert all(x["status"]["phase"] == "Running" for x in cache + web)


def test_more_anti_affinity_replicas_than_nodes_stay_pending():
    sim = Simulation("scheduling", {"anti_replicas": 5, "spread_replicas": 3, "big_cpu": 7}, seed=2)
    evs = list(sim.events())
    assert evs[-1]["data"]["outcome"].startswith("huge-pod on worker-5; cache 4/5 on 4 nodes; web 3/3 Running, 1/1/1")
    msg = ("0/6 nodes are available: 1 node(s) had untolerated taint {dedicated: batch}, "
           "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "4 node(s) didn't match pod anti-affinity rules. preemption: 0/6 nodes are available: "
           "2 Preemption is not helpful for scheduling, 4 No preemption victims found for incoming pod..")
    failed = [e for e in sim.cluster.apiserver.list("/registry/events/default/")
              if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"].startswith("cache-")]
    assert failed and {e["message"] for e in failed} == {msg}
    assert any(e["data"].get("message") == msg and e["step"] == 8 for e in of(evs, "scheduler.filter"))


def test_deterministic():
    a = [(e["type"], e["t"], e["summary"]) for e in Simulation("scheduling", {}, seed=3).events()]
    b = [(e["type"], e["t"], e["summary"]) for e in Simulation("scheduling", {}, seed=3).events()]
    assert a == b
