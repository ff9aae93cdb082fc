"""Endpoints and EndpointSlices follow Pod readiness; named target ports resolve; a terminating
namespace is emptied then removed; the garbage collector deletes dependents of a deleted owner."""
from simulator.apiserver import registry
from tests.sim.fakeapi import harness

SVC = {"metadata": {"name": "web", "namespace": "default", "labels": {"team": "a"}},
       "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.50", "type": "ClusterIP",
                "ports": [{"name": "http", "port": 80, "targetPort": "http-port", "protocol": "TCP"}]}}


def rs(replicas=2, ns="default"):
    return {"metadata": {"name": "web", "namespace": ns}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "c", "image": "nginx", "ports": [{"name": "http-port", "containerPort": 8080, "protocol": "TCP"}]}]}}}}


def slices(api):
    return [s for s in api.list("/registry/endpointslices/default/")
            if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"]


def test_endpoints_and_slices_follow_readiness():
    env, tracer, api, cm, agents = harness()
    api.client().create("services", SVC, namespace="default")
    env.run_until(1)
    [sl] = slices(api)
    assert sl["endpoints"] == [] and sl["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert sl["metadata"]["ownerReferences"][0]["kind"] == "Service"
    ep = api.get("/registry/services/endpoints/default/web")
    assert ep is not None and "subsets" not in ep
    api.client().create("replicasets", rs(), namespace="default")
    env.run_until(10)
    pods = api.list("/registry/pods/default/")
    ips = sorted(p["status"]["podIP"] for p in pods)
    ep = api.get("/registry/services/endpoints/default/web")
    [sub] = ep["subsets"]
    assert [a["ip"] for a in sub["addresses"]] == ips and "notReadyAddresses" not in sub
    assert sub["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]   # named targetPort resolved
    assert sub["addresses"][0]["targetRef"]["kind"] == "Pod"
    [sl] = slices(api)
    assert [e["addresses"][0] for e in sl["endpoints"]] == ips
    assert sl["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert all(e["conditions"] == {"ready": True, "serving": True, "terminating": False} for e in sl["endpoints"])
    # One Pod's readiness probe fails.
    p0 = sorted(pods, key=lambda p: p["status"]["podIP"])[0]
    agents.set_ready("default", p0["metadata"]["name"], False)
    env.run_until(12)
    [sub] = api.get("/registry/services/endpoints/default/web")["subsets"]
    assert [a["ip"] for a in sub["addresses"]] == ips[1:]
    assert [a["ip"] for a in sub["notReadyAddresses"]] == ips[:1]
    [sl] = slices(api)
    assert sl["endpoints"][0]["conditions"] == {"ready": False, "serving": False, "terminating": False}
    # A terminating Pod leaves Endpoints but stays in the slice with terminating=true.
    api.client().delete("pods", ips and sorted(pods, key=lambda p: p["status"]["podIP"])[1]["metadata"]["name"], namespace="default")
    env.run_until(12.5)
    [sl] = slices(api)
    term = [e for e in sl["endpoints"] if e["conditions"]["terminating"]]
    assert len(term) == 1 and term[0]["conditions"] == {"ready": False, "serving": True, "terminating": True}
    sub = api.get("/registry/services/endpoints/default/web")["subsets"][0]
    assert ips[1] not in [a["ip"] for a in sub.get("addresses", [])]


def test_namespace_deletion_empties_then_removes_it():
    env, tracer, api, cm, agents = harness()
    api.put_now("namespaces", {"metadata": {"name": "team"}})
    api.client().create("replicasets", rs(2, "team"), namespace="team")
    api.client().create("configmaps", {"metadata": {"name": "cfg", "namespace": "team"}, "data": {}}, namespace="team")
    env.run_until(10)
    assert len(api.list("/registry/pods/team/")) == 2
    api.client().delete("namespaces", "team")
    env.run_until(10.1)
    ns = api.get("/registry/namespaces/team")
    assert ns["status"]["phase"] == "Terminating"
    env.run_until(30)
    assert api.get("/registry/namespaces/team") is None
    assert api.list("/registry/pods/team/") == [] and api.list("/registry/configmaps/team/") == []
    assert api.list("/registry/replicasets/team/") == []


def test_garbage_collector_deletes_dependents_of_a_deleted_owner():
    env, tracer, api, cm, agents = harness()
    api.client().create("deployments", {"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
        namespace="default")
    env.run_until(10)
    assert len(api.list("/registry/replicasets/default/")) == 1 and len(api.list("/registry/pods/default/")) == 2
    api.client().delete("deployments", "web", namespace="default")
    env.run_until(20)
    assert api.list("/registry/replicasets/default/") == []
    assert api.list("/registry/pods/default/") == []
    gc = [e for e in tracer.buffer if e["type"] == "controller.reconcile" and e["data"]["controller"] == "garbagecollector"]
    assert any("owner Deployment/web is gone" in e["data"]["action"] for e in gc)


def test_a_new_namespace_gets_its_default_serviceaccount_and_root_ca():
    env, tracer, api, cm, agents = harness()
    api.client().create("namespaces", {"metadata": {"name": "shop"}})
    env.run_until(1)
    assert api.get("/registry/serviceaccounts/shop/default") is not None
    ca = api.get("/registry/configmaps/shop/kube-root-ca.crt")
    assert "ca.crt" in ca["data"] and "kubernetes.io/description" in ca["metadata"]["annotations"]


def test_failed_pod_creation_is_retried_with_backoff():
    env, tracer, api, cm, agents = harness()
    from simulator.apiserver import Response
    calls = {"n": 0}

    def fail(verb, resource, body):
        if verb == "create" and resource == "pods" and calls["n"] < 2:
            calls["n"] += 1
            return Response(403, None, {"code": 403, "reason": "Forbidden",
                                        "message": 'pods "x" is forbidden: error looking up service account default/default'})
        return None
    api.fail = fail
    api.client().create("replicasets", rs(1), namespace="default")
    env.run_until(5)
    assert len(api.list("/registry/pods/default/")) == 1
    failed = [e for e in api.list("/registry/events/default/") if e["reason"] == "FailedCreate"]
    assert len(failed) == 2 and failed[0]["message"].startswith("Error creating: pods \"x\" is forbidden")


def test_a_new_service_gets_one_endpointslice_even_while_the_informer_lags():
    """The endpointSliceTracker: a sync that runs before the informer has seen the slice this controller
    just created is refused ("informer cache is out of date") and retried, instead of creating a second
    slice and then deleting the first."""
    from pathlib import Path

    from simulator import apply, manifests
    from simulator.cluster import Cluster

    docs = manifests.load([str(Path(__file__).parent / "manifests" / "deployment.yaml")])
    cluster = Cluster(1, "slices")
    for d in docs:
        assert apply._wait(cluster, cluster.request(apply.create_request(d))).ok
    cluster.run(until=cluster.env.now + 20)
    writes = [ev["summary"] for ev in cluster.tracer.buffer if ev["type"] == "apiserver.storage"
              and "/registry/endpointslices/shop/" in ev["summary"]]
    created = [w for w in writes if w.startswith("create ")]
    assert len(created) == 1 and not [w for w in writes if w.startswith("delete ")]
    [sl] = [s for s in cluster.apiserver.list("/registry/endpointslices/shop/")]
    assert created[0].endswith(sl["metadata"]["name"]) and len(sl["endpoints"]) == 2
    reconciles = [ev["summary"] for ev in cluster.tracer.buffer if ev["type"] == "controller.reconcile"
                  and ev["summary"].startswith("endpointslice: sync shop/web")]
    assert "endpointslice: sync shop/web: error: EndpointSlice informer cache is out of date" in reconciles
    # The Endpoints object: created once (a second create racing the informer may still get 409
    # AlreadyExists, as upstream's, whose staleEndpointsTracker only guards updates) and kept up to date.
    ep_creates = [ev for ev in cluster.tracer.buffer if ev["type"] == "apiserver.response"
                  and ev["summary"] == "201 POST /api/v1/namespaces/shop/endpoints"]
    assert len(ep_creates) == 1
    ep = cluster.apiserver.get("/registry/services/endpoints/shop/web")
    assert len(ep["subsets"][0]["addresses"]) == 2
