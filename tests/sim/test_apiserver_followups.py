"""API server follow-ups: admission warnings reach the client, an invalid SelfSubjectAccessReview is a 422,
quota-charging creates that race on one ResourceQuota are retried as the quota evaluator does
(plugin/pkg/admission/resourcequota/controller.go checkQuotas, 3 retries), and the HA load balancer's
health check fails an instance whose own etcd member is down."""
from __future__ import annotations

import random

from simulator.apiserver.lb import LoadBalancer
from simulator.client import Client
from simulator.cluster import Cluster, NodeSpec
from tests.sim.test_apiserver_core import ADMIN, Harness


def _pod(name: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def _quota(h, c, hard: dict) -> None:
    assert h.call(c.create("resourcequotas", {"metadata": {"name": "compute"}, "spec": {"hard": hard}})).code == 201


def _race(h, c, n: int) -> list:
    futs = [c.create("pods", _pod(f"p{i}"), namespace="default") for i in range(n)]
    for f in futs:
        h.env.run(until=f)
    return [f.value for f in futs]


def _used(h) -> dict:
    return h.api.get("/registry/resourcequotas/default/compute")["status"]["used"]


# ---- 1. warnings -----------------------------------------------------------------------------------------
def test_podsecurity_warn_label_reaches_the_client_as_warnings():
    h = Harness()
    c = h.client
    ns = {"metadata": {"name": "team", "labels": {"pod-security.kubernetes.io/warn": "restricted"}}}
    assert h.call(c.create("namespaces", ns)).code == 201
    h.api.etcd.put_now("/registry/serviceaccounts/team/default", {
        "kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "default", "namespace": "team"}})
    h.settle()
    resp = h.call(c.create("pods", _pod("web"), namespace="team"))
    assert resp.code == 201, resp.status
    assert resp.warnings and all(w.startswith("would violate PodSecurity \"restricted:latest\"") for w in resp.warnings)
    # a namespace without the label: no warning
    assert h.call(c.create("pods", _pod("plain"), namespace="default")).warnings == []


# ---- 2. SelfSubjectAccessReview validation ------------------------------------------------------------------
def test_invalid_selfsubjectaccessreview_is_a_422_status():
    h = Harness()
    resp = h.call(h.client.create("selfsubjectaccessreviews", {"apiVersion": "authorization.k8s.io/v1",
                                                                 "kind": "SelfSubjectAccessReview", "spec": {}}))
    assert resp.code == 422
    st = resp.status
    assert st["reason"] == "Invalid"
    assert st["message"] == ('SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: '
                             'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified')
    assert st["details"]["group"] == "authorization.k8s.io" and st["details"]["kind"] == "SelfSubjectAccessReview"
    assert st["details"]["causes"][0]["field"] == "spec.resourceAttributes"
    ok = h.call(h.client.create("selfsubjectaccessreviews", {"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}))
    assert ok.code == 201 and ok.body["status"]["allowed"] is True


# ---- 3. quota write conflicts ------------------------------------------------------------------------------
def test_racing_pod_creates_all_fit_and_all_succeed():
    h = Harness()
    _quota(h, h.client, {"pods": "10"})
    resps = _race(h, h.client, 4)
    assert [r.code for r in resps] == [201] * 4, [r.status for r in resps]
    assert _used(h) == {"pods": "4"}


def test_racing_pod_creates_past_the_quota_get_the_exceeded_quota_403():
    h = Harness()
    _quota(h, h.client, {"pods": "2"})
    resps = _race(h, h.client, 4)
    assert sorted(r.code for r in resps) == [201, 201, 403, 403]
    for r in resps:
        if r.code == 403:
            assert r.status["message"].endswith(
                'is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2')
    assert _used(h) == {"pods": "2"}
    assert len(h.api.list("/registry/pods/default/")) == 2


def test_racing_creates_through_three_apiservers_are_retried_not_409():
    h = Harness(apiservers=3)
    lb = LoadBalancer(h.env, random.Random("lb"), h.tracer, h.apis)
    c = Client(lb, ADMIN)
    _quota(h, c, {"pods": "20"})
    # a 4-replica Deployment's burst, spread round-robin over the three instances
    resps = _race(h, c, 4)
    assert [r.code for r in resps] == [201] * 4, [r.status for r in resps]
    assert _used(h) == {"pods": "4"}


# ---- 5. HA health: an instance whose etcd member is down --------------------------------------------------
def test_lb_stops_routing_to_an_apiserver_whose_etcd_member_is_stopped():
    topo = [NodeSpec(f"control-plane{s}", "control-plane", f"172.18.0.{2 + i}", f"10.244.{i}.0/24")
            for i, s in enumerate(("", "2", "3"))]
    cl = Cluster(1, "followups", topo)
    cl.run(until=cl.env.now + 5)
    lb = cl.lb
    assert [a.instance for a in lb.healthy()] == ["apiserver-1", "apiserver-2", "apiserver-3"]
    member = cl.apiservers[1].etcd_member
    cl.etcd.stop_member(member)
    assert cl.apiservers[1].running and cl.apiservers[1] not in lb.healthy()
    picked = {lb.pick().instance for _ in range(6)}
    assert picked == {"apiserver-1", "apiserver-3"}
    c = cl.client()
    fut = c.create("configmaps", {"metadata": {"name": "after"}}, namespace="default")
    cl.env.run(until=fut)
    assert fut.value.code == 201
    cl.etcd.start_member(member)
    assert cl.apiservers[1] in lb.healthy()
