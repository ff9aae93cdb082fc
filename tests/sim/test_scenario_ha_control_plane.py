"""Scenario ha-control-plane: the node where the scheduler and controller-manager leaders run stops; the
load balancer routes around its API server, etcd keeps a quorum of two, standbys take over the Leases
once they expire (new holder, leaseTransitions 1), the Pod that waited and a later one are scheduled; the
node returns as a standby."""
from __future__ import annotations

import json

import pytest

from simulator import leaderelection, scenarios
from simulator.errors import ParamError
from simulator.runner import Simulation

LEASES = ("kube-scheduler", "kube-controller-manager")
LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"


def stored_lease(sim, name):
    return json.loads(sim.cluster.etcd.store.get(f"/registry/leases/kube-system/{name}").value)


def run(params: dict, seed: int = 1):
    """The events, and the two Leases as etcd held them when step 2 began (before the failure)."""
    sim = Simulation("ha-control-plane", params, seed=seed)
    evs, before = [], {}
    for e in sim.events():
        evs.append(e)
        if e["type"] == "scenario.step" and e["data"]["step"] == 2:
            before = {name: stored_lease(sim, name) for name in LEASES}
    return sim, evs, before


@pytest.fixture(scope="module")
def default_run():
    return run({})


def kubectl_answers(evs, step):
    return [(step[e["seq"]], e["summary"].split()[0], e["instance"]) for e in evs
            if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]


def test_leases_change_hands_after_they_expire(default_run):
    sim, evs, before = default_run
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 8))
    step = {e["seq"]: e.get("step") for e in evs}
    # The real defaults: lease 15 s, renew deadline 10 s, retry 2 s.
    assert (leaderelection.LEASE_DURATION, leaderelection.RENEW_DEADLINE, leaderelection.RETRY_PERIOD) == (15, 10, 2)
    # Step 1: kubectl GETs each Lease; the leaders of both run on the first control-plane node.
    gets = [(step[e["seq"]], e["data"]["method"], e["data"]["path"]) for e in evs if e["type"] == "kubectl.request"
            and e["data"]["verb"] == "get"]
    assert gets[:2] == [(1, "GET", LEASE_PATH + "kube-scheduler"), (1, "GET", LEASE_PATH + "kube-controller-manager")]
    for name in LEASES:
        spec = before[name]["spec"]
        assert spec["holderIdentity"].split("_")[0] == "control-plane"
        assert spec["leaseDurationSeconds"] == 15 and spec["leaseTransitions"] == 0
    # Step 2: that node stops.
    (stopped,) = [e for e in evs if e["type"] == "kubelet.lifecycle" and e["data"]["state"] == "stopped"]
    assert stopped["instance"] == "control-plane" and step[stopped["seq"]] == 2
    t_stop = stopped["t"]
    # ...and its control-plane components with it (the diagram draws them stopped), back at step 7.
    def lifecycle(state):
        return [(e["component"], e["instance"], e["data"]["node"], step[e["seq"]]) for e in evs
                if e["type"] == "component.lifecycle" and e["data"]["state"] == state]

    assert lifecycle("stopped") == [("scheduler", "scheduler-1", "control-plane", 2),
                                    ("controller-manager", "controller-manager-1", "control-plane", 2),
                                    ("apiserver", "apiserver-1", "control-plane", 2)]
    assert lifecycle("started") == [("apiserver", "apiserver-1", "control-plane", 7),
                                    ("scheduler", "scheduler-1", "control-plane", 7),
                                    ("controller-manager", "controller-manager-1", "control-plane", 7)]
    # Step 4: a standby's takeover write opens it; each Lease is taken by an instance on another node,
    # once the 15 s lease has expired as the standby observed it (its last renewal <= 2 s before the stop,
    # seen up to one jittered retry period late, acted on at the next retry).
    takeovers = [e for e in evs if e["type"] == "apiserver.request" and e["data"]["method"] == "PUT"
                 and e["data"]["path"].startswith(LEASE_PATH)]
    assert step[takeovers[0]["seq"]] == 4 and t_stop + 13 <= takeovers[0]["t"]
    acquired = {e["data"]["lease"]: e for e in evs if e["type"] == "leaderelection" and e["data"]["action"] == "acquired"}
    assert set(acquired) == {f"kube-system/{n}" for n in LEASES}
    for name in LEASES:
        e = acquired[f"kube-system/{name}"]
        assert step[e["seq"]] in (4, 5)
        assert 13 <= e["t"] - t_stop <= 15 + 2 + 2 * 2.2 + 0.5
        assert e["instance"] not in ("scheduler-1", "controller-manager-1")
        after = stored_lease(sim, name)["spec"]
        assert after["holderIdentity"] == e["data"]["holder"] != before[name]["spec"]["holderIdentity"]
        assert after["holderIdentity"].split("_")[0] in ("control-plane2", "control-plane3")
        assert after["leaseTransitions"] == before[name]["spec"]["leaseTransitions"] + 1 == 1
    # The LeaderElection Events on the Leases, as client-go records them.
    msgs = sorted(json.loads(kv.value)["message"] for kv in sim.cluster.etcd.store.range("/registry/events/kube-system/", prefix=True)
                  if json.loads(kv.value)["reason"] == "LeaderElection")
    assert msgs == sorted(f"{e['data']['holder']} became leader" for e in acquired.values())
    # Step 7: the node is back; its instances stay standbys (no acquisition, the holders unchanged).
    (started,) = [e for e in evs if e["type"] == "kubelet.lifecycle" and e["data"]["state"] == "started"]
    assert step[started["seq"]] == 7
    assert not [e for e in evs if e["type"] == "leaderelection" and step[e["seq"]] == 7]
    for name in LEASES:
        assert stored_lease(sim, name)["spec"]["holderIdentity"] == acquired[f"kube-system/{name}"]["data"]["holder"]
    assert [s.leading for s in sim.cluster.schedulers].count(True) == 1
    assert [c.leading for c in sim.cluster.controller_managers].count(True) == 1


def test_the_api_stays_up_and_etcd_keeps_its_quorum(default_run):
    sim, evs, before = default_run
    step = {e["seq"]: e.get("step") for e in evs}
    # etcd: the stopped node's member goes, the other two elect a leader (if it was the leader) and never
    # fall below a quorum.
    (member,) = [e for e in evs if e["type"] == "etcd.member.stopped"]
    assert member["instance"] == "etcd-1" and step[member["seq"]] == 2
    assert not [e for e in evs if e["type"] == "etcd.quorum.lost"]
    leaders = [e for e in evs if e["type"] == "etcd.raft.leader"]
    if member["data"]["role"] == "leader":
        assert leaders and step[leaders[0]["seq"]] == 2 and leaders[0]["instance"] != "etcd-1"
    assert all(e["instance"] != "etcd-1" for e in leaders)
    (back,) = [e for e in evs if e["type"] == "etcd.member.started"]
    assert back["instance"] == "etcd-1" and step[back["seq"]] == 7
    # The load balancer: between the failure and the node's return it routes to the two healthy API
    # servers only; every kubectl request is answered (200 for the Leases, 201 for the Pods).
    routes = [(step[e["seq"]], e["data"]["backend"], e["data"]["healthy"]) for e in evs if e["type"] == "load-balancer.route"]
    outage = [r for r in routes if 3 <= r[0] <= 6]
    assert outage and all(b != "apiserver-1" and h == 2 for _, b, h in outage)
    assert all(h == 3 for s, _, h in routes if s in (1, 7))
    answers = kubectl_answers(evs, step)
    assert [(s, code) for s, code, _ in answers] == [
        (1, "200"), (1, "200"), (3, "201"), (6, "200"), (6, "200"), (6, "201"), (7, "200"), (7, "200")]
    assert all(inst != "apiserver-1" for s, _, inst in answers if 3 <= s <= 6)


def test_the_waiting_pod_and_a_later_one_are_scheduled_by_the_new_leader(default_run):
    sim, evs, before = default_run
    step = {e["seq"]: e.get("step") for e in evs}
    new = next(e["instance"] for e in evs if e["type"] == "leaderelection" and e["data"]["lease"] == "kube-system/kube-scheduler")
    created = {e["object"]["name"]: e for e in evs if e["type"] == "kubectl.request" and e["data"]["verb"] == "create"}
    assert [(n, step[e["seq"]], e["data"]["path"]) for n, e in created.items()] == [
        ("waiting-1", 3, "/api/v1/namespaces/default/pods"), ("later", 6, "/api/v1/namespaces/default/pods")]
    # Stored at once (two of three etcd members), but nothing schedules it until the takeover.
    (stored,) = [e for e in evs if e["type"] == "etcd.put" and e["data"]["key"] == "/registry/pods/default/waiting-1"
                 and e["data"]["version"] == 1]
    assert step[stored["seq"]] == 3
    sched = [e for e in evs if e["type"].startswith("scheduler.")]
    assert not [e for e in sched if step[e["seq"]] in (2, 3)]
    binds = {e["object"]["name"]: e for e in evs if e["type"] == "scheduler.bind"}
    assert set(binds) == {"waiting-1", "later"}
    assert step[binds["waiting-1"]["seq"]] == 5 and binds["waiting-1"]["instance"] == new
    assert step[binds["later"]["seq"]] == 6 and binds["later"]["instance"] == new
    assert binds["later"]["t"] - created["later"]["t"] < 1.0     # no wait once a scheduler leads
    for name in ("waiting-1", "later"):
        pod = json.loads(sim.cluster.etcd.store.get(f"/registry/pods/default/{name}").value)
        assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"] == "worker-1"
    holders = {n: stored_lease(sim, n)["spec"]["holderIdentity"].split("_")[0] for n in LEASES}
    assert evs[-1]["data"]["outcome"] == (f"kube-scheduler held by {holders['kube-scheduler']}, "
                                          f"kube-controller-manager held by {holders['kube-controller-manager']}; "
                                          "2/2 Pods Running")


def test_more_waiting_pods_all_wait_for_the_new_leader():
    sim, evs, _ = run({"waiting_pods": 3}, seed=5)
    step = {e["seq"]: e.get("step") for e in evs}
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 8))
    binds = {e["object"]["name"]: step[e["seq"]] for e in evs if e["type"] == "scheduler.bind"}
    assert binds == {"waiting-1": 5, "waiting-2": 5, "waiting-3": 5, "later": 6}
    assert not [e for e in evs if e["type"] == "etcd.quorum.lost"]
    assert evs[-1]["data"]["outcome"].endswith("4/4 Pods Running")


def test_deterministic_and_bounded_params():
    def trace():
        return [(e["type"], e["t"], e["summary"]) for e in Simulation("ha-control-plane", {"waiting_pods": 2}, seed=2).events()]
    assert trace() == trace()
    assert scenarios.validate("ha-control-plane", {}) == {"waiting_pods": 1}
    for bad in ({"waiting_pods": 0}, {"waiting_pods": 4}, {"waiting_pods": "2"}):
        with pytest.raises(ParamError):
            scenarios.validate("ha-control-plane", bad)
