"""Every scenario of the catalog: complete in both languages, and each runs on the simulator to the end
state it teaches."""
from __future__ import annotations

import json

import pytest

from simulator import scenarios
from simulator.runner import Simulation


@pytest.mark.parametrize("entry", scenarios.catalog(), ids=lambda e: e["id"])
def test_catalog_entry_is_complete_in_korean_and_english(entry):
    for lang in ("en", "ko"):
        assert entry["title"][lang] and entry["description"][lang]
        for p in entry["params"]:
            assert p["label"][lang]
    assert entry["backends"] and set(entry["backends"]) <= {"sim", "api"} and "sim" in entry["backends"]
    assert [s["n"] for s in entry["steps"]] == list(range(1, len(entry["steps"]) + 1))
    for s in entry["steps"]:
        for lang in ("en", "ko"):
            assert s["title"][lang] and s["narration"][lang]
    assert 2 <= len(entry["questions"]) <= 4
    for q in entry["questions"]:
        assert q["en"].endswith("?") and q["ko"].endswith("?")
    # Each default passes its own parameter's bounds and choices.
    defaults = {p["name"]: p["default"] for p in entry["params"]}
    assert scenarios.validate(entry["id"], defaults) == defaults
    json.dumps(entry)


@pytest.fixture(scope="module")
def reconcile():
    sim = Simulation("deployment-reconcile", {}, seed=1)
    return sim, list(sim.events())


def test_deployment_reconcile_replaces_a_deleted_pod_and_follows_the_scale(reconcile):
    sim, evs = reconcile
    assert evs[-1]["type"] == "scenario.completed" and evs[-1]["data"]["outcome"] == "5/5 Running"
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 8))
    step = {e["seq"]: e.get("step") for e in evs}
    rec = [e for e in evs if e["type"] == "controller.reconcile"]
    # Step 2: the Deployment controller makes the ReplicaSet; step 3: the ReplicaSet controller its 3 Pods.
    (rs,) = [e for e in rec if e["data"]["action"].startswith("created ReplicaSet")]
    assert step[rs["seq"]] == 2 and rs["data"]["action"].endswith("(3)")
    created = [e for e in rec if e["data"]["controller"] == "replicaset" and e["data"]["action"].startswith("created")]
    assert [(step[e["seq"]], e["data"]["action"]) for e in created] == [
        (3, "created 3 pod(s)"), (5, "created 1 pod(s)"), (7, "created 4 pod(s)")]
    # Step 4: kubectl deleted one Pod; the replacement has another name and the same owner.
    (delete,) = [e for e in evs if e["type"] == "kubectl.request" and e["data"]["verb"] == "delete"]
    victim = delete["object"]["name"]
    assert step[delete["seq"]] == 4 and delete["data"]["path"] == f"/api/v1/namespaces/default/pods/{victim}"
    pods = {json.loads(kv.value)["metadata"]["name"]: json.loads(kv.value)
            for kv in sim.cluster.etcd.store.range("/registry/pods/default/web-", prefix=True)}
    assert victim not in pods and len(pods) == 5
    owners = {p["metadata"]["ownerReferences"][0]["name"] for p in pods.values()}
    assert owners == {rs["data"]["action"].split()[2]}
    # Step 6: the scale-down is kubectl's PATCH of the scale subresource; the ReplicaSet controller deletes 2.
    scales = [e for e in evs if e["type"] == "kubectl.request" and e["data"]["verb"] == "patch"]
    assert [(step[e["seq"]], e["data"]["path"], e["data"]["body"]) for e in scales] == [
        (6, "/apis/apps/v1/namespaces/default/deployments/web/scale", {"spec": {"replicas": 1}}),
        (7, "/apis/apps/v1/namespaces/default/deployments/web/scale", {"spec": {"replicas": 5}})]
    deleted = [e for e in rec if e["data"]["controller"] == "replicaset" and e["data"]["action"].startswith("deleted")]
    assert [step[e["seq"]] for e in deleted] == [6] and deleted[0]["data"]["action"].startswith("deleted 2 pod(s)")
    # The Pods end spread over both workers, none on the tainted control-plane node.
    assert {p["spec"]["nodeName"] for p in pods.values()} == {"worker-1", "worker-2"}


def test_deployment_reconcile_is_deterministic_and_takes_its_params():
    a = [(e["type"], e["summary"]) for e in Simulation("deployment-reconcile", {"replicas": 2, "scale_down": 0, "scale_up": 2}, seed=3).events()]
    b = [(e["type"], e["summary"]) for e in Simulation("deployment-reconcile", {"replicas": 2, "scale_down": 0, "scale_up": 2}, seed=3).events()]
    assert a == b
    assert any("--replicas=0" in s for t, s in a if t == "kubectl.request")


def test_etcd_raft_elects_a_higher_term_and_refuses_writes_without_quorum():
    sim = Simulation("etcd-raft", {}, seed=1)
    evs = list(sim.events())
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 9))
    step = {e["seq"]: e.get("step") for e in evs}
    stopped = [e for e in evs if e["type"] == "etcd.member.stopped"]
    assert [step[e["seq"]] for e in stopped] == [2, 5] and stopped[0]["data"]["role"] == "leader"
    leaders = [e for e in evs if e["type"] == "etcd.raft.leader"]
    # A new leader in step 3, a term above the stopped leader's; another after the restart, higher still.
    assert [step[e["seq"]] for e in leaders] == [3, 7]
    assert leaders[0]["instance"] != stopped[0]["instance"]
    terms = [stopped[0]["data"]["term"]] + [int(e["summary"].rsplit(" ", 1)[1]) for e in leaders]
    assert terms == sorted(set(terms))
    assert [step[e["seq"]] for e in evs if e["type"] == "etcd.quorum.lost"] == [5]
    assert [step[e["seq"]] for e in evs if e["type"] == "etcd.quorum.regained"] == [7]
    answers = [(step[e["seq"]], e["summary"].split()[0]) for e in evs
               if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]
    assert answers == [(1, "201"), (4, "201"), (6, "500"), (8, "201")]
    # The refused write stored nothing; the others are there, with what was committed before the outage.
    puts = [step[e["seq"]] for e in evs if e["type"] == "etcd.put" and e["data"]["key"] == "/registry/configmaps/default/third"]
    assert puts == [8]
    store = sim.cluster.etcd.store
    assert [kv.key.rsplit("/", 1)[1] for kv in store.range("/registry/configmaps/default/", prefix=True)
            if kv.key.rsplit("/", 1)[1] in ("first", "second", "third")] == ["first", "second", "third"]
    assert evs[-1]["data"]["outcome"].endswith("2 of 3 members running")


def test_constraints_between_parameters_are_checked_after_each_alone():
    from simulator.errors import ParamError

    assert scenarios.validate("scale", {"nodes": 3, "pods": 330})["pods"] == 330
    with pytest.raises(ParamError) as exc:
        scenarios.validate("scale", {"nodes": 3, "pods": 331})
    assert exc.value.field == "params.pods" and "110" in exc.value.message
