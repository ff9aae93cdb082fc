"""Scenario "preemption": the high-priority Pod fits nowhere, DefaultPreemption nominates a node and deletes
the low-priority victim there (event "Preempted"), the preemptor is bound there once the victim is gone, and
the victim's replacement stays Pending."""
from __future__ import annotations

import pytest

from simulator.runner import Simulation

VIP_MSG = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "2 Insufficient cpu.")
REPLACEMENT_MSG = VIP_MSG + (" preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
                             "2 No preemption victims found for incoming pod..")


@pytest.fixture(scope="module")
def run():
    sim = Simulation("preemption", {}, seed=1)
    return sim, list(sim.events())


def of(evs, type, name=None):
    return [e for e in evs if e["type"] == type and (name is None or (e.get("object") or {}).get("name") == name)]


def puts(evs, key):
    return [e for e in of(evs, "etcd.put") if e["data"]["key"] == key]


def test_steps_and_kubectl_requests(run):
    sim, evs = run
    assert [e["data"]["step"] for e in of(evs, "scenario.step")] == list(range(1, 7))
    reqs = [(e["step"], e["data"]["method"], e["data"]["path"]) for e in of(evs, "kubectl.request")]
    assert reqs == [(1, "POST", "/apis/scheduling.k8s.io/v1/priorityclasses"),
                    (1, "POST", "/apis/scheduling.k8s.io/v1/priorityclasses"),
                    (2, "POST", "/apis/apps/v1/namespaces/default/deployments"),
                    (3, "POST", "/api/v1/namespaces/default/pods"),
                    (6, "GET", "/api/v1/namespaces/default/pods")]
    assert [e["data"]["body"]["value"] for e in of(evs, "kubectl.request")[:2]] == [1000, 1000000]
    assert [e["summary"].split(":")[0] for e in of(evs, "kubectl.request")[:2]] == [
        'kubectl create priorityclass low --value=1000 --description="batch work that may be preempted"',
        'kubectl create priorityclass high --value=1000000 --description="work that must run"']
    answers = [e["summary"].split()[0] for e in of(evs, "apiserver.response") if (e.get("to") or {}).get("component") == "kubectl"]
    assert answers == ["201", "201", "201", "201", "200"]


def test_preemption_nominates_deletes_the_victim_and_binds(run):
    sim, evs = run
    pods = {p["metadata"]["name"]: p for p in sim.cluster.apiserver.list("/registry/pods/default/")}
    vip = pods["vip"]
    # The Priority admission plugin resolved the class names.
    assert vip["spec"]["priority"] == 1000000
    assert {p["spec"]["priority"] for n, p in pods.items() if n.startswith("batch-")} == {1000}
    # Step 3: no node fits; step 4 opens with the PostFilter's nomination and its victim.
    (filt,) = [e for e in of(evs, "scheduler.filter", "vip") if e["data"].get("message")]
    assert filt["step"] == 3 and filt["data"]["message"] == VIP_MSG
    (post,) = [e for e in of(evs, "scheduler.postfilter", "vip")]
    assert post["step"] == 4 and post["data"]["plugin"] == "DefaultPreemption" and post["data"]["message"] == ""
    node = post["data"]["nominatedNodeName"]
    (victim,) = post["data"]["victims"]
    # The victim was one of the batch Pods, running on the nominated node.
    first = {e["object"]["name"]: e["data"]["node"] for e in of(evs, "scheduler.bind") if e["step"] == 2}
    assert victim in first and first[victim] == node and set(first.values()) == {"worker-1", "worker-2"}
    # Before deleting it, the scheduler marks it DisruptionTarget (PreemptionByScheduler) - in step 4.
    vput = puts(evs, f"/registry/pods/default/{victim}")
    marked = [e for e in vput if any(c["type"] == "DisruptionTarget" for c in e["data"]["value"]["status"].get("conditions") or [])]
    cond = next(c for c in marked[0]["data"]["value"]["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert marked[0]["step"] == 4 and cond["reason"] == "PreemptionByScheduler"
    assert cond["message"] == "default-scheduler: preempting to accommodate a higher priority pod"
    # The Preempted event, with v1.31's message naming the preemptor's uid.
    events = sim.cluster.apiserver.list("/registry/events/default/")
    (pre,) = [e for e in events if e["reason"] == "Preempted"]
    assert pre["involvedObject"]["name"] == victim and pre["type"] == "Normal"
    assert pre["message"] == f"Preempted by pod {vip['metadata']['uid']} on node {node}"
    assert [e["step"] for e in puts(evs, f"/registry/events/default/{pre['metadata']['name']}")] == [4]
    # vip: FailedScheduling without a preemption suffix (preemption succeeded), and nominatedNodeName in step 4.
    vip_failed = [e for e in events if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "vip"]
    assert [e["message"] for e in vip_failed] == [VIP_MSG]
    nominated = [e for e in puts(evs, "/registry/pods/default/vip") if e["data"]["value"]["status"].get("nominatedNodeName")]
    assert nominated[0]["step"] == 4 and nominated[0]["data"]["value"]["status"]["nominatedNodeName"] == node
    assert not nominated[0]["data"]["value"]["spec"].get("nodeName")
    # Step 5 opens when the victim leaves etcd; only then is vip bound, to the nominated node.
    (gone,) = [e for e in of(evs, "etcd.delete") if e["data"]["key"] == f"/registry/pods/default/{victim}"]
    (bind,) = of(evs, "scheduler.bind", "vip")
    assert gone["step"] == 5 and bind["step"] == 5 and gone["seq"] < bind["seq"] and bind["data"]["node"] == node
    assert victim not in pods
    assert vip["spec"]["nodeName"] == node and vip["status"]["phase"] == "Running"
    assert vip["status"]["nominatedNodeName"] == node


def test_replacement_stays_pending(run):
    sim, evs = run
    pods = {p["metadata"]["name"]: p for p in sim.cluster.apiserver.list("/registry/pods/default/")}
    batch = [p for n, p in pods.items() if n.startswith("batch-")]
    (survivor,) = [p for p in batch if p["spec"].get("nodeName")]
    (replacement,) = [p for p in batch if not p["spec"].get("nodeName")]
    assert survivor["status"]["phase"] == "Running" and survivor["spec"]["nodeName"] != pods["vip"]["spec"]["nodeName"]
    # The ReplicaSet controller made it in step 4, as soon as the victim was terminating.
    created = [e for e in of(evs, "controller.reconcile")
               if e["data"]["controller"] == "replicaset" and e["data"]["action"].startswith("created")]
    assert [(e["step"], e["data"]["action"]) for e in created] == [(2, "created 2 pod(s)"), (4, "created 1 pod(s)")]
    name = replacement["metadata"]["name"]
    assert not of(evs, "scheduler.bind", name)
    assert all(e["data"]["nominatedNodeName"] is None for e in of(evs, "scheduler.postfilter", name))
    cond = next(c for c in replacement["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", REPLACEMENT_MSG)
    assert replacement["status"]["phase"] == "Pending"
    assert evs[-1]["data"]["outcome"] == (f"vip on {pods['vip']['spec']['nodeName']} (nominated "
                                          f"{pods['vip']['spec']['nodeName']}); batch 1 Running, 1 Pending")


@pytest.mark.parametrize("cpu", [1, 3])
def test_any_request_that_does_not_fit_preempts(cpu):
    sim = Simulation("preemption", {"high_cpu": cpu}, seed=4)
    evs = list(sim.events())
    (post,) = of(evs, "scheduler.postfilter", "vip")
    assert post["data"]["nominatedNodeName"] in ("worker-1", "worker-2") and len(post["data"]["victims"]) == 1
    vip = sim.cluster.get("/registry/pods/default/vip")
    assert vip["spec"]["nodeName"] == post["data"]["nominatedNodeName"]
    assert vip["spec"]["containers"][0]["resources"]["requests"]["cpu"] == str(cpu)


def test_deterministic():
    a = [(e["type"], e["t"], e["summary"]) for e in Simulation("preemption", {}, seed=5).events()]
    b = [(e["type"], e["t"], e["summary"]) for e in Simulation("preemption", {}, seed=5).events()]
    assert a == b
