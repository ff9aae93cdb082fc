"""Scenario "rolling-update": `kubectl set image` rolls a Deployment to a second ReplicaSet within maxSurge
and maxUnavailable at every instant, revisions 1 and 2; `kubectl rollout undo` brings the first ReplicaSet
back as revision 3."""
from __future__ import annotations

import json
import re

import pytest

from simulator import scenarios
from simulator.errors import ParamError
from simulator.runner import Simulation
from simulator.scenarios import rolling_update as ru

REVISION = "deployment.kubernetes.io/revision"


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions") or [])


def observe(params: dict, seed: int = 1):
    """Run the scenario; after every event, fold the state the bounds are about: live Pods (not being
    deleted), available ones (Ready, minReadySeconds 0), the sum of the ReplicaSets' spec.replicas; and the
    ReplicaSets as they stand when each step begins."""
    sim = Simulation(ru.ID, params, seed=seed)
    evs, samples, at_step = [], [], {}
    for e in sim.events():
        evs.append(e)
        c = sim.cluster
        if e["type"] == "scenario.step":
            at_step[e["data"]["step"]] = {rs["metadata"]["name"]: (rs["spec"]["replicas"],
                                                                   rs["metadata"]["annotations"][REVISION])
                                          for rs in ru.replicasets(c)}
        if (e.get("step") or 0) >= 3:
            live = [p for p in ru.objects(c, "/registry/pods/default/web-") if not p["metadata"].get("deletionTimestamp")]
            samples.append((e["seq"], len(live), sum(1 for p in live if ready(p)),
                            sum(rs["spec"]["replicas"] for rs in ru.replicasets(c))))
    return sim, evs, samples, at_step


@pytest.fixture(scope="module")
def default_run():
    return observe({})


def k8s_events(sim, reason: str) -> list[dict]:
    evs = [json.loads(kv.value) for kv in sim.cluster.etcd.store.range("/registry/events/default/", prefix=True)]
    return sorted((e for e in evs if e["reason"] == reason), key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))


def test_steps_open_in_order_and_the_update_stays_within_surge_and_unavailable(default_run):
    sim, evs, samples, _ = default_run
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 8))
    assert ru.bounds(sim.params) == (1, 1)          # 25% of 4: surge rounds up, unavailable rounds down
    # At every event from `kubectl set image` to the end (the undo included): at most 4 + 1 Pods, at least
    # 4 - 1 available, and the ReplicaSets' replicas never sum above 5.
    assert samples and max(s[1] for s in samples) == 5 and min(s[2] for s in samples) == 3
    assert max(s[3] for s in samples) == 5
    assert all(live <= 5 and avail >= 3 and spec <= 5 for _, live, avail, spec in samples)


def test_two_replicasets_revisions_and_the_final_image(default_run):
    sim, evs, _, at_step = default_run
    step = {e["seq"]: e.get("step") for e in evs}
    # The Deployment controller POSTs a ReplicaSet twice: revision 1 in step 2, revision 2 in step 4.
    posts = [e for e in evs if e["type"] == "apiserver.request" and e["data"]["method"] == "POST"
             and e["data"]["path"] == "/apis/apps/v1/namespaces/default/replicasets"]
    assert [step[e["seq"]] for e in posts] == [2, 4]
    assert all(e["data"]["user"] == "system:serviceaccount:kube-system:deployment-controller" for e in posts)
    rss = {rs["metadata"]["name"]: rs for rs in ru.replicasets(sim.cluster)}
    assert len(rss) == 2
    by_image = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs for rs in rss.values()}
    old, new = by_image["nginx:1.25"], by_image["nginx:1.26"]
    for rs in (old, new):
        h = rs["metadata"]["labels"]["pod-template-hash"]
        assert rs["metadata"]["name"] == f"web-{h}" and rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == h
    assert old["metadata"]["labels"]["pod-template-hash"] != new["metadata"]["labels"]["pod-template-hash"]
    on, nn = old["metadata"]["name"], new["metadata"]["name"]
    # Before the update: one ReplicaSet, revision 1; before the undo: old at 0 (kept), new at 4, revision 2.
    assert at_step[3] == {on: (4, "1")}
    assert at_step[6] == {on: (0, "1"), nn: (4, "2")}
    # After the undo the old ReplicaSet is reused with the next revision; no third ReplicaSet.
    assert (old["spec"]["replicas"], old["metadata"]["annotations"][REVISION]) == (4, "3")
    assert (new["spec"]["replicas"], new["metadata"]["annotations"][REVISION]) == (0, "2")
    d = ru.deployment(sim.cluster)
    assert d["metadata"]["annotations"][REVISION] == "3"
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    st = d["status"]
    assert (st["replicas"], st["updatedReplicas"], st["availableReplicas"]) == (4, 4, 4)
    pods = ru.objects(sim.cluster, "/registry/pods/default/web-")
    assert len(pods) == 4 and {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.25"}
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in pods} == {old["metadata"]["labels"]["pod-template-hash"]}
    # The controller's write of revision 3 onto the old ReplicaSet opens step 7.
    puts = [e for e in evs if e["type"] == "apiserver.request" and e["data"]["method"] == "PUT"
            and e["data"]["path"] == f"/apis/apps/v1/namespaces/default/replicasets/{on}"]
    assert {step[e["seq"]] for e in puts} == {4, 5, 7}
    i = next(i for i, e in enumerate(evs) if e["type"] == "scenario.step" and e["data"]["step"] == 7)
    assert evs[i + 1] is next(e for e in puts if step[e["seq"]] == 7)
    assert evs[-1]["data"]["outcome"] == f"revision 3: 4/4 available, nginx:1.25, ReplicaSet {on}"


def test_kubectl_requests_are_create_set_image_and_rollout_undo(default_run):
    sim, evs, _, _ = default_run
    step = {e["seq"]: e.get("step") for e in evs}
    reqs = [(step[e["seq"]], e["summary"].split(":")[0], e["data"]["method"], e["data"]["path"])
            for e in evs if e["type"] == "kubectl.request"]
    dep = "/apis/apps/v1/namespaces/default/deployments"
    assert reqs == [
        (1, "kubectl create -f web.yaml", "POST", dep),
        (3, "kubectl set image deployment/web nginx=nginx", "GET", f"{dep}/web"),
        (3, "kubectl set image deployment/web nginx=nginx", "PATCH", f"{dep}/web"),
        (6, "kubectl rollout undo deployment/web", "GET", f"{dep}/web"),
        (6, "kubectl rollout undo deployment/web", "GET", "/apis/apps/v1/namespaces/default/replicasets"),
        (6, "kubectl rollout undo deployment/web", "PATCH", f"{dep}/web"),
    ]
    bodies = [e["data"]["body"] for e in evs if e["type"] == "kubectl.request" and e["data"]["method"] == "PATCH"]
    assert bodies[0] == {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "nginx"}],
                                                        "containers": [{"image": "nginx:1.26", "name": "nginx"}]}}}}
    # rollout undo: a JSON patch putting back revision 1's template (without its pod-template-hash label).
    undo = {op["path"]: op["value"] for op in bodies[1]}
    assert undo["/spec/template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert "pod-template-hash" not in undo["/spec/template"]["metadata"]["labels"]
    answers = [(step[e["seq"]], e["summary"].split()[0]) for e in evs
               if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]
    assert answers == [(1, "201"), (3, "200"), (3, "200"), (6, "200"), (6, "200"), (6, "200")]


def test_scaling_events_tell_the_story(default_run):
    """`kubectl describe deployment web` Events: 0->4, then new up / old down one at a time, then back."""
    sim, evs, _, _ = default_run
    msgs = [e["message"] for e in k8s_events(sim, "ScalingReplicaSet")]
    old, new = (rs["metadata"]["name"] for rs in sorted(ru.replicasets(sim.cluster),
                                                       key=lambda r: r["metadata"]["annotations"][REVISION] == "2"))
    assert msgs[0] == f"Scaled up replica set {old} from 0 to 4"
    assert msgs[1] == f"Scaled up replica set {new} from 0 to 1"
    assert msgs[-1] == f"Scaled down replica set {new} from 1 to 0"
    pat = re.compile(r"Scaled (up|down) replica set (\S+) from (\d+) to (\d+)")
    size = {old: 0, new: 0}
    for m in msgs:
        op, name, a, b = pat.fullmatch(m).groups()
        assert size[name] == int(a) and (int(b) > int(a)) == (op == "up") and abs(int(b) - int(a)) == (4 if m == msgs[0] else 1)
        size[name] = int(b)
        assert sum(size.values()) <= 5    # maxSurge, as the controller applies it: on spec.replicas
    assert size == {old: 4, new: 0}


def test_max_surge_zero_replaces_pods_without_ever_exceeding_the_count():
    sim, evs, samples, _ = observe({"max_surge": "0", "max_unavailable": "1"})
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 8))
    assert max(s[1] for s in samples) == 4 and min(s[2] for s in samples) == 3
    # The new ReplicaSet is created empty (no "Scaled up ... from 0 to 0" event): room for a new Pod
    # comes only from an old one leaving.
    msgs = [e["message"] for e in k8s_events(sim, "ScalingReplicaSet")]
    old = msgs[0].split()[4]
    assert msgs[1] == f"Scaled down replica set {old} from 4 to 3"
    assert re.fullmatch(r"Scaled up replica set \S+ from 0 to 1", msgs[2]) and old not in msgs[2]


def test_both_bounds_zero_is_refused_and_nothing_is_stored():
    sim = Simulation(ru.ID, {"max_surge": "0", "max_unavailable": "0"}, seed=1)
    evs = list(sim.events())
    (resp,) = [e for e in evs if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]
    assert resp["data"]["code"] == 422
    assert "may not be 0 when `maxSurge` is 0" in json.dumps(resp["data"]["status"])
    assert sim.cluster.get("/registry/deployments/default/web") is None
    assert evs[-1]["data"]["outcome"] == "Deployment refused"


def test_params_are_validated():
    with pytest.raises(ParamError, match="params.max_surge"):
        scenarios.validate(ru.ID, {"max_surge": "30%"})
    with pytest.raises(ParamError, match="params.replicas"):
        scenarios.validate(ru.ID, {"replicas": 1})


def test_same_seed_same_events():
    a = [(e["type"], e["t"], e["summary"]) for e in Simulation(ru.ID, {"replicas": 2}, seed=5).events()]
    b = [(e["type"], e["t"], e["summary"]) for e in Simulation(ru.ID, {"replicas": 2}, seed=5).events()]
    assert a == b
