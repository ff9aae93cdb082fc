"""The scheduler: filters and scores as kube-scheduler does, never picks the tainted control-plane node,
and explains failures with kube-scheduler's FailedScheduling message."""
from tests.sim.helpers import create_pod, pod_manifest, run_pod_create

from simulator.scheduler import fit_error_message
from simulator.scheduler.framework import Code, Status


def test_control_plane_is_filtered_out_by_its_taint(pod_create_events):
    f = next(e for e in pod_create_events if e["type"] == "scheduler.filter")["data"]
    assert f["feasible"] == ["worker-1", "worker-2"]
    cp = f["nodes"]["control-plane"]
    assert cp["TaintToleration"] == {"code": "UnschedulableAndUnresolvable",
                                     "reason": "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"}
    assert "NodeResourcesFit" not in cp  # filtering stops at the first failing plugin
    assert all(v["code"] == "Success" for v in f["nodes"]["worker-1"].values())


def test_scheduler_never_picks_the_control_plane_and_ties_are_seeded():
    chosen = set()
    for seed in range(1, 13):
        evs = run_pod_create(seed)
        sel = next(e for e in evs if e["type"] == "scheduler.score")["data"]["selected"]
        assert sel != "control-plane"
        chosen.add(sel)
    assert chosen == {"worker-1", "worker-2"}


def test_scores_use_upstream_weights_and_non_zero_defaults(pod_create_events):
    s = next(e for e in pod_create_events if e["type"] == "scheduler.score")["data"]
    w1 = s["scores"]["worker-1"]
    assert {p: v["weight"] for p, v in w1.items()} == {
        "TaintToleration": 3, "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1}
    # NodeAffinity (no preferred terms) returns Skip at PreScore; in v1.31 BalancedAllocation still scores a
    # best-effort pod (the skip came with kubernetes/kubernetes#130260, v1.33).
    assert w1["TaintToleration"]["normalized"] == 100
    # worker: kindnet 100m/50Mi + kube-proxy (no requests: 100m/200Mi) + this pod (100m/200Mi) of 4 CPUs / 8131616Ki
    mem = 8131616 * 1024
    used_mem = (50 + 200 + 200) * 1024 * 1024
    expected = ((4000 - 300) * 100 // 4000 + (mem - used_mem) * 100 // mem) // 2
    assert w1["NodeResourcesFit"]["raw"] == expected
    assert s["totals"]["worker-1"] == sum(v["normalized"] * v["weight"] for v in w1.values())


def test_pod_too_big_for_every_node_gets_failed_scheduling(cluster):
    resp = create_pod(cluster, pod_manifest("huge", requests={"cpu": "16"}))
    assert resp.code == 201
    cluster.tracer.buffer.clear()
    cluster.run(until=cluster.env.now + 30)
    msg = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
           "2 No preemption victims found for incoming pod..")
    filt = next(e for e in cluster.tracer.buffer if e["type"] == "scheduler.filter")
    assert filt["data"]["feasible"] == [] and filt["data"]["message"] == msg
    assert not any(e["type"] == "scheduler.bind" for e in cluster.tracer.buffer)
    events = [o for o in cluster.apiserver.list("/registry/events/default/")]
    failed = [o for o in events if o["reason"] == "FailedScheduling"]
    assert len(failed) == 1 and failed[0]["message"] == msg and failed[0]["type"] == "Warning"
    pod = cluster.get("/registry/pods/default/huge")
    assert pod["status"]["phase"] == "Pending" and "nodeName" not in pod["spec"]
    cond = pod["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("PodScheduled", "False", "Unschedulable")


def test_node_selector_is_honoured(cluster):
    assert create_pod(cluster, pod_manifest("pinned", nodeSelector={"kubernetes.io/hostname": "worker-2"})).code == 201
    cluster.run(until=cluster.env.now + 30)
    assert cluster.get("/registry/pods/default/pinned")["spec"]["nodeName"] == "worker-2"


def test_fit_error_format_sorts_reasons_as_strings():
    st = {"a": Status(Code.Unschedulable, ["Insufficient memory"]), "b": Status(Code.Unschedulable, ["Insufficient cpu"]),
          "c": Status(Code.Unschedulable, ["Insufficient cpu"])}
    assert fit_error_message(3, st) == "0/3 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."
