"""Scenario "scale": nodes join, Deployments of many replicas, the ReplicaSet controller's slow start, the
scheduler's percentageOfNodesToScore, every Pod Running, no node above 110 - at the tracer's summary level."""
from __future__ import annotations

import collections
import json

import pytest

from simulator.runner import Simulation
from simulator.scenarios import scale
from simulator.scheduler.scheduler import num_feasible_nodes_to_find


@pytest.fixture(scope="module")
def run():
    sim = Simulation("scale", {"nodes": 20, "pods": 200}, seed=1)
    return sim, list(sim.events())


def _step(evs):
    return {e["seq"]: e.get("step") for e in evs}


def _pods(sim) -> list[dict]:
    return [json.loads(kv.value) for kv in sim.cluster.etcd.store.range("/registry/pods/", prefix=True)]


def test_nodes_join_with_their_leases_in_step_1_then_the_deployment_is_created(run):
    sim, evs = run
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 8))
    step = _step(evs)
    assert evs[0]["data"]["nodes"] == []   # the control plane is hosted off the nodes: every node joins
    created = [e for e in evs if e["type"] == "etcd.put" and e["data"]["version"] == 1]
    nodes = [e for e in created if e["data"]["key"].startswith("/registry/minions/")]
    leases = [e for e in created if e["data"]["key"].startswith("/registry/leases/kube-node-lease/")]
    # Every Node object reaches the viewers (the cluster map is drawn from them), with its zone.
    assert sorted(e["data"]["key"].rsplit("/", 1)[1] for e in nodes) == sorted(f"worker-{i}" for i in range(1, 21))
    assert {step[e["seq"]] for e in nodes + leases} == {1} and len(leases) == 20
    zones = collections.Counter(e["data"]["value"]["metadata"]["labels"]["topology.kubernetes.io/zone"]
                                for e in nodes)
    assert zones == {"region-1a": 7, "region-1b": 7, "region-1c": 6}
    (req,) = [e for e in evs if e["type"] == "kubectl.request"]
    assert step[req["seq"]] == 2 and req["data"]["path"] == "/apis/apps/v1/namespaces/default/deployments"
    assert req["summary"].startswith("kubectl create deployment scale-1 --image=registry.k8s.io/pause:3.10 --replicas=200:")
    assert req["data"]["body"]["spec"]["replicas"] == 200
    answers = [e for e in evs if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]
    assert [(step[e["seq"]], e["data"]["code"]) for e in answers] == [(2, 201)]


def test_the_replicaset_controller_creates_the_pods_in_slow_start_batches(run):
    sim, evs = run
    step = _step(evs)
    rs = [e for e in evs if e["type"] == "etcd.put" and e["data"]["key"].startswith("/registry/replicasets/default/scale-1-")
          and e["data"]["version"] == 1]
    assert step[rs[0]["seq"]] == 3
    # The detailed Pods (the first 50 seen) show when each was created. A batch is sent at once and the
    # next only after every answer: creations come in bursts of 1, 2, 4, 8, 16 separated by a round trip.
    made = sorted(e["t"] for e in evs if e["type"] == "etcd.put" and e["data"]["version"] == 1
                  and e["data"]["key"].startswith("/registry/pods/default/scale-1-"))
    assert step[min((e["seq"] for e in evs if e["type"] == "etcd.put" and e["t"] == made[0]
                     and e["data"]["key"].startswith("/registry/pods/")))] == 4
    assert len(made) == scale.DETAIL_PODS
    batches = [1]
    for a, b in zip(made, made[1:]):
        if b - a > 0.05:
            batches.append(1)
        else:
            batches[-1] += 1
    assert batches[:5] == [1, 2, 4, 8, 16]
    # One sync created all 200 (fewer than BurstReplicas, 500).
    rec = [e for e in evs if e["type"] == "controller.reconcile" and e["data"]["controller"] == "replicaset"
           and str(e["data"]["action"]).startswith("created")]
    assert rec and rec[0]["data"]["action"] == "created 200 pod(s)"


def test_the_scheduler_checks_every_node_below_100_and_the_pods_spread_to_at_most_110_a_node(run):
    sim, evs = run
    step = _step(evs)
    filters = [e for e in evs if e["type"] == "scheduler.filter"]
    assert step[filters[0]["seq"]] == 5
    # numFeasibleNodesToFind: under 100 nodes, all of them.
    assert {e["data"]["evaluated"] for e in filters} == {20}
    pods = _pods(sim)
    assert len(pods) == 200 and {p["status"]["phase"] for p in pods} == {"Running"}
    per_node = collections.Counter(p["spec"]["nodeName"] for p in pods)
    assert set(per_node) == {f"worker-{i}" for i in range(1, 21)}
    assert max(per_node.values()) <= scale.MAX_PODS_PER_NODE and max(per_node.values()) - min(per_node.values()) <= 3
    assert evs[-1]["type"] == "scenario.completed"
    assert evs[-1]["data"]["outcome"].startswith(
        "200/200 Pods Running on 20 of 20 nodes (at most 11 per node); the scheduler searched 20 of 20 nodes per Pod; ")


def test_a_large_run_is_summarized_not_told_pod_by_pod(run):
    sim, evs = run
    step = _step(evs)
    assert sim.cluster.tracer.level == "summary"
    summaries = [e for e in evs if e["type"] == "summary.interval"]
    assert summaries and sum(s["data"]["counted"] for s in summaries) > len(evs)
    assert summaries[-1]["data"]["pods"]["phases"] == {"Running": 200}
    # Only the detailed Pods are followed through their kubelets; the first one opens step 6.
    syncs = [e for e in evs if e["type"] == "kubelet.pod.sync"]
    assert len({e["object"]["name"] for e in syncs}) == scale.DETAIL_PODS and step[syncs[0]["seq"]] == 6
    # Step 7: the heartbeat - one Lease renewal per node in 10 s, quiet in the trace, counted in the outcome.
    writes = int(evs[-1]["data"]["outcome"].rsplit("; ", 1)[1].split()[0])
    assert writes >= 20


def test_above_100_nodes_the_scheduler_stops_searching_early():
    sim = Simulation("scale", {"nodes": 150, "pods": 60, "zones": 2}, seed=2)
    evs = list(sim.events())
    filters = [e for e in evs if e["type"] == "scheduler.filter"]
    # 150 nodes: 50 - 150/125 = 49 % is 73 nodes, below the minimum of 100.
    assert filters and {e["data"]["evaluated"] for e in filters} == {100}
    assert "the scheduler searched 100 of 150 nodes per Pod" in evs[-1]["data"]["outcome"]
    assert evs[-1]["data"]["outcome"].startswith("60/60 Pods Running")


def test_the_narrated_numbers_are_kube_schedulers():
    assert [num_feasible_nodes_to_find(n) for n in (20, 99, 100, 1000, 2000, 5000)] == [20, 99, 100, 420, 680, 500]


def test_pods_are_split_over_deployments_of_at_most_burst_replicas():
    assert scale.deployments(300) == [("scale-1", 300)]
    assert scale.deployments(1201) == [("scale-1", 500), ("scale-2", 500), ("scale-3", 201)]
    assert len(scale.deployments(150000)) == 300


def test_more_pods_than_110_per_node_is_refused():
    assert scale.check_params({"nodes": 3, "pods": 330, "zones": 1}) is None
    field, message = scale.check_params({"nodes": 3, "pods": 331, "zones": 1})
    assert field == "params.pods" and "at most 110 x nodes (330 for 3 nodes)" in message


def test_same_seed_same_events():
    def trace():
        return [(e["type"], e.get("step"), e["t"], e["summary"])
                for e in Simulation("scale", {"nodes": 6, "pods": 40, "zones": 2}, seed=5).events()]
    a, b = trace(), trace()
    assert a == b and a[-1][0] == "scenario.completed"
