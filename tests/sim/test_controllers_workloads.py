"""ReplicaSet and Deployment controllers: replicas converge, pods are replaced, rollouts stay within
maxSurge/maxUnavailable at every instant, revisions, history cleanup and rollback."""
import json

from simulator.apiserver import registry
from simulator.controllers.deployment import (HASH_LABEL, REVISION, compute_hash, resolve_fenceposts, rollback,
                                              safe_encode_string)
from tests.sim.fakeapi import harness
from simulator.controllers.replicaset import pods_to_delete


def deployment(name="web", replicas=3, image="nginx:1.27", **spec):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}, **spec}}


def pods(api, live_only=True):
    out = api.list("/registry/pods/default/")
    return [p for p in out if not (live_only and p["metadata"].get("deletionTimestamp"))]


def rss(api):
    return api.list("/registry/replicasets/default/")


def k8s_events(api, reason=None):
    evs = api.list("/registry/events/")
    return [e for e in evs if reason is None or e["reason"] == reason]


def create(env, api, resource, body):
    fut = api.client().create(resource, body, namespace="default")
    env.run_until(env.now + 0.01)
    return fut.value


def test_deployment_of_three_makes_a_replicaset_and_three_ready_pods():
    env, tracer, api, cm, agents = harness()
    create(env, api, "deployments", deployment())
    env.run_until(20)
    [rs] = rss(api)
    h = rs["metadata"]["labels"][HASH_LABEL]
    assert rs["metadata"]["name"] == f"web-{h}" and rs["spec"]["replicas"] == 3
    assert rs["metadata"]["annotations"][REVISION] == "1"
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    ps = pods(api)
    assert len(ps) == 3
    for p in ps:
        assert p["metadata"]["name"].startswith(f"web-{h}-") and len(p["metadata"]["name"]) == len(f"web-{h}-") + 5
        ref = p["metadata"]["ownerReferences"][0]
        assert ref["kind"] == "ReplicaSet" and ref["controller"] is True and ref["uid"] == rs["metadata"]["uid"]
        assert p["metadata"]["labels"] == {"app": "web", HASH_LABEL: h}
    assert rs["status"]["replicas"] == 3 and rs["status"]["readyReplicas"] == 3 and rs["status"]["availableReplicas"] == 3
    d = api.get(registry.key("deployments", "default", "web"))
    st = d["status"]
    assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"], st["availableReplicas"]) == (3, 3, 3, 3)
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert conds["Progressing"]["message"] == f'ReplicaSet "web-{h}" has successfully progressed.'
    assert d["metadata"]["annotations"][REVISION] == "1"
    msgs = [e["message"] for e in k8s_events(api, "ScalingReplicaSet")]
    assert msgs == [f"Scaled up replica set web-{h} from 0 to 3"]
    created = k8s_events(api, "SuccessfulCreate")
    assert sorted(e["message"] for e in created) == sorted(f"Created pod: {p['metadata']['name']}" for p in ps)
    assert {e["source"]["component"] for e in created} == {"replicaset-controller"}
    recon = [e for e in tracer.buffer if e["type"] == "controller.reconcile"]
    assert any(e["data"]["controller"] == "replicaset" and e["data"]["action"].startswith("created") for e in recon)


def test_slow_start_batches_are_1_2_4():
    env, tracer, api, cm, agents = harness()
    create(env, api, "replicasets", {"metadata": {"name": "rs"}, "spec": {
        "replicas": 7, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    env.run_until(10)
    posts = [r for r in api.requests if r[:2] == ("create", "pods")]
    assert len(posts) == 7 and len(pods(api)) == 7
    batches = {}
    for r in posts:
        batches[r[3]] = batches.get(r[3], 0) + 1
    assert [batches[t] for t in sorted(batches)] == [1, 2, 4]


def test_deleted_pod_is_recreated():
    env, tracer, api, cm, agents = harness()
    create(env, api, "deployments", deployment())
    env.run_until(20)
    victim = sorted(p["metadata"]["name"] for p in pods(api))[0]
    api.client().delete("pods", victim, namespace="default", grace_period_seconds=0)
    env.run_until(30)
    names = {p["metadata"]["name"] for p in pods(api)}
    assert len(names) == 3 and victim not in names
    assert len(k8s_events(api, "SuccessfulCreate")) == 4


def test_scale_3_to_1_to_5():
    env, tracer, api, cm, agents = harness()
    create(env, api, "deployments", deployment())
    env.run_until(20)
    [rs] = rss(api)
    name = rs["metadata"]["name"]
    api.client().patch("deployments", "web", {"spec": {"replicas": 1}}, namespace="default")
    env.run_until(40)
    assert len(pods(api)) == 1
    assert api.get(registry.key("replicasets", "default", name))["spec"]["replicas"] == 1
    assert len(k8s_events(api, "SuccessfulDelete")) == 2
    api.client().patch("deployments", "web", {"spec": {"replicas": 5}}, namespace="default")
    env.run_until(60)
    assert len(pods(api)) == 5
    msgs = [e["message"] for e in sorted(k8s_events(api, "ScalingReplicaSet"), key=lambda e: e["metadata"]["name"])]
    assert msgs == [f"Scaled up replica set {name} from 0 to 3", f"Scaled down replica set {name} from 3 to 1",
                    f"Scaled up replica set {name} from 1 to 5"]
    d = api.get(registry.key("deployments", "default", "web"))
    assert d["status"]["availableReplicas"] == 5


def test_rolling_update_respects_max_surge_and_max_unavailable_at_every_instant():
    env, tracer, api, cm, agents = harness(start_delay=3.0)
    create(env, api, "deployments", deployment(replicas=4, strategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}))
    env.run_until(30)
    old_rs = rss(api)[0]["metadata"]["name"]
    api.client().patch("deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}}}},
                       namespace="default")
    worst_total, worst_ready = 0, 99
    t = env.now
    while t < 120:
        t += 0.05
        env.run_until(t)
        live = pods(api)
        worst_total = max(worst_total, len(live))
        ready = sum(1 for p in live if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", [])))
        worst_ready = min(worst_ready, ready)
    assert worst_total <= 4 + 1          # maxSurge
    assert worst_ready >= 4 - 1          # maxUnavailable
    new = [rs for rs in rss(api) if rs["metadata"]["name"] != old_rs]
    assert len(new) == 1 and new[0]["spec"]["replicas"] == 4
    assert new[0]["metadata"]["annotations"][REVISION] == "2"
    assert api.get(registry.key("replicasets", "default", old_rs))["spec"]["replicas"] == 0
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.28" for p in pods(api))
    d = api.get(registry.key("deployments", "default", "web"))
    assert d["metadata"]["annotations"][REVISION] == "2"
    assert d["status"]["updatedReplicas"] == 4 and d["status"]["availableReplicas"] == 4


def test_recreate_scales_old_to_zero_before_creating_new():
    env, tracer, api, cm, agents = harness()
    create(env, api, "deployments", deployment(replicas=2, strategy={"type": "Recreate"}))
    env.run_until(20)
    api.client().patch("deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "v2"}]}}}},
                       namespace="default")
    overlap = False
    t = env.now
    while t < 60:
        t += 0.05
        env.run_until(t)
        images = {p["spec"]["containers"][0]["image"] for p in api.list("/registry/pods/default/")}
        overlap = overlap or len(images) > 1
    assert not overlap
    assert {p["spec"]["containers"][0]["image"] for p in pods(api)} == {"v2"} and len(pods(api)) == 2


def test_rollback_to_previous_revision_and_history_limit():
    env, tracer, api, cm, agents = harness()
    create(env, api, "deployments", deployment(replicas=2, revisionHistoryLimit=1))
    env.run_until(20)
    for img in ("v2", "v3"):
        api.client().patch("deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": img}]}}}},
                           namespace="default")
        env.run_until(env.now + 40)
    # revisionHistoryLimit 1: of the two old ReplicaSets only the newest (revision 2) is kept.
    assert sorted(int(rs["metadata"]["annotations"][REVISION]) for rs in rss(api)) == [2, 3]
    out = env.process(rollback(api.client(), "web", namespace="default"))
    env.run_until(env.now + 40)
    assert out.value == "deployment.apps/web rolled back"
    assert {p["spec"]["containers"][0]["image"] for p in pods(api)} == {"v2"}
    revs = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"][REVISION] for rs in rss(api)}
    assert revs == {"v2": "4", "v3": "3"}   # the rolled-back-to ReplicaSet gets the next revision
    out = env.process(rollback(api.client(), "web", to_revision=4, namespace="default"))
    env.run_until(env.now + 1)
    assert out.value == "skipped rollback (current template already matches revision 4)"


def test_pods_to_delete_prefers_unscheduled_pending_notready():
    def pod(name, node="", phase="Running", ready=True, created="2025-01-01T00:00:00Z"):
        conds = [{"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": created}]
        return {"metadata": {"name": name, "namespace": "d", "creationTimestamp": created},
                "spec": {"nodeName": node}, "status": {"phase": phase, "conditions": conds}}
    ps = [pod("ready", "n1"), pod("unscheduled", "", "Pending", False), pod("pending", "n1", "Pending", False),
          pod("notready", "n2", "Running", False)]
    order = [p["metadata"]["name"] for p in pods_to_delete(ps, ps, 4)]
    assert [p["metadata"]["name"] for p in pods_to_delete(ps, ps, 3)] == ["unscheduled", "pending", "notready"]
    assert set(order) == {"ready", "unscheduled", "pending", "notready"}


def test_hash_and_fenceposts():
    assert safe_encode_string("0123") == "".join("bcdfghjklmnpqrstvwxz2456789"[b % 27] for b in b"0123")
    tpl = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    h = compute_hash(tpl)
    assert h == compute_hash(json.loads(json.dumps(tpl))) and h != compute_hash(tpl, 1)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10
    assert resolve_fenceposts("25%", "25%", 10) == (3, 2)     # surge rounds up, unavailable down
    assert resolve_fenceposts("0%", "0%", 10) == (0, 1)
    assert resolve_fenceposts(1, 0, 3) == (1, 0)


def test_same_seed_same_names_and_events():
    def run(seed):
        env, tracer, api, cm, agents = harness(seed=seed)
        create(env, api, "deployments", deployment())
        env.run_until(15)
        return ([p["metadata"]["name"] for p in pods(api)],
                [(e["t"], e["summary"]) for e in tracer.buffer])
    assert run(5) == run(5)
    assert run(5)[0] != run(6)[0]


def test_two_deployments_sync_concurrently_without_mixing_state():
    env, tracer, api, cm, agents = harness()
    create(env, api, "deployments", deployment("a", 2))
    create(env, api, "deployments", deployment("b", 3))
    env.run_until(20)
    by_owner = {}
    for p in pods(api):
        by_owner.setdefault(p["metadata"]["labels"]["app"], []).append(p)
    assert {k: len(v) for k, v in by_owner.items()} == {"a": 2, "b": 3}
    acts = [e["data"]["action"] for e in tracer.buffer if e["type"] == "controller.reconcile"
            and e["data"]["controller"] == "deployment" and e["data"]["action"].startswith("created")]
    assert len(acts) == 2 and acts[0] != acts[1]
