"""Node lifecycle: a node that stops heartbeating goes Unknown after the 40 s grace, is tainted
unreachable, its Pods are marked not ready, evicted once their 300 s toleration runs out, and replaced
elsewhere; a node that comes back loses its taints."""
from simulator.apiserver import registry
from tests.sim.fakeapi import harness
from simulator.controllers.nodelifecycle import matching_tolerations, min_toleration_time

# What the DefaultTolerationSeconds admission plugin adds to every Pod.
DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]


def rs(replicas=4):
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}], "tolerations": DEFAULT_TOLERATIONS}}}}


def cond(obj, t):
    return next(c for c in obj["status"]["conditions"] if c["type"] == t)


def test_node_failure_notready_taint_eviction_replacement_and_recovery():
    env, tracer, api, cm, agents = harness(nodes=("worker-1", "worker-2"))
    api.client().create("replicasets", rs(), namespace="default")
    env.run_until(15)
    on_w1 = [p["metadata"]["name"] for p in api.list("/registry/pods/default/") if p["spec"]["nodeName"] == "worker-1"]
    assert len(on_w1) == 2
    agents.down.add("worker-1")          # the kubelet stops: no more Lease renewals
    t_down = env.now
    env.run_until(t_down + 39)
    node = api.get(registry.key("nodes", "", "worker-1"))
    assert cond(node, "Ready")["status"] == "True"          # still within nodeMonitorGracePeriod
    env.run_until(t_down + 60)
    node = api.get(registry.key("nodes", "", "worker-1"))
    ready = cond(node, "Ready")
    assert ready["status"] == "Unknown" and ready["reason"] == "NodeStatusUnknown"
    assert ready["message"] == "Kubelet stopped posting node status."
    unknown_at = [e["t"] for e in tracer.buffer if e["type"] == "controller.reconcile"
                  and e["data"]["controller"] == "nodelifecycle" and e["data"]["action"] == "conditions -> Unknown"][0]
    assert t_down + 40 < unknown_at <= t_down + 40 + 10 + 5   # last renewal + grace, seen at a 5 s monitor pass
    taints = {(t["key"], t["effect"]) for t in node["spec"]["taints"]}
    assert taints == {("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")}
    evs = api.list("/registry/events/default/")
    assert any(e["reason"] == "NodeNotReady" and e["message"] == "Node worker-1 status is now: NodeNotReady" for e in evs)
    for name in on_w1:
        p = api.get(registry.key("pods", "default", name))
        assert cond(p, "Ready")["status"] == "False"
    # The Pods tolerate unreachable for 300 s: still there at +250 s after the taint.
    taint_t = [e["t"] for e in tracer.buffer if e["type"] == "controller.reconcile"
               and "taint node.kubernetes.io/unreachable:NoExecute" in e["data"]["action"]][0]
    env.run_until(taint_t + 299)
    assert all(not api.get(registry.key("pods", "default", n))["metadata"].get("deletionTimestamp") for n in on_w1)
    env.run_until(taint_t + 310)
    for name in on_w1:   # deleted (gracefully: Terminating forever, as its kubelet cannot confirm)
        p = api.get(registry.key("pods", "default", name))
        assert p["metadata"].get("deletionTimestamp")
        assert cond(p, "DisruptionTarget")["reason"] == "DeletionByTaintManager"
    msgs = {e["message"] for e in api.list("/registry/events/default/") if e["reason"] == "TaintManagerEviction"}
    assert msgs == {f"Marking for deletion Pod default/{n}" for n in on_w1}
    live = [p for p in api.list("/registry/pods/default/") if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 4 and {p["spec"]["nodeName"] for p in live} == {"worker-2"}   # replacements elsewhere
    # The kubelet comes back: Ready=True, taints removed.
    agents.node_ready_again("worker-1")
    env.run_until(env.now + 10)
    node = api.get(registry.key("nodes", "", "worker-1"))
    assert not [t for t in node["spec"].get("taints") or [] if t["key"].startswith("node.kubernetes.io/")]


def test_pod_without_toleration_is_evicted_at_once():
    env, tracer, api, cm, agents = harness(nodes=("worker-1", "worker-2"))
    body = rs(1)
    body["spec"]["template"]["spec"]["tolerations"] = []
    api.client().create("replicasets", body, namespace="default")
    env.run_until(10)
    [p] = api.list("/registry/pods/default/")
    agents.down.add(p["spec"]["nodeName"])
    env.run_until(70)
    assert api.get(registry.key("pods", "default", p["metadata"]["name"]))["metadata"].get("deletionTimestamp")


def test_toleration_helpers():
    taints = [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
    ok, used = matching_tolerations(taints, DEFAULT_TOLERATIONS)
    assert ok and min_toleration_time(used) == 300
    assert matching_tolerations(taints, [])[0] is False
    assert min_toleration_time([{"operator": "Exists"}]) == -1
