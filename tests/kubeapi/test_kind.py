"""The api backend against a real kind cluster (`make kind-up`: context kind-challenge-cluster in
~/.kube/config, or DASHBOARD_API_KUBECONFIG / DASHBOARD_API_CONTEXT), in process. Skipped, with the reason, when
no such cluster answers - as on the CI machine, which has no Docker daemon."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def kind_connection():
    from dashboard.realcluster.connect import ClusterUnavailable, connect, probe

    try:
        conn = connect()
        probe(conn)
    except ClusterUnavailable as exc:
        pytest.skip(f"no reachable kind cluster for the api backend: {exc}")
    yield conn
    conn.close()


def test_pod_create_on_kind(kind_connection, settings):
    from dashboard.realcluster.run import ApiRun

    run = ApiRun("0" * 20 + "kindtest", "pod-create", {"pod_name": "kind-check", "image": "nginx"}, 1, kind_connection)
    events = [ev for ev in run.events() if ev is not None]
    assert events[0]["type"] == "scenario.started" and events[0]["data"]["backend"] == "api"
    # etcd read with etcdctl in kubeadm's etcd Pod (its values are protobuf there; only keys and revisions are used).
    assert events[0]["data"]["etcd"]["source"] == "etcdctl", run.etcd_note
    assert "etcdctl" in {e["data"]["source"] for e in events if e["type"] == "etcd.put"}
    # The audit log `make kind-up` turns on, read through the control-plane node's kubelet: the create told from it.
    assert events[0]["data"]["apiserver"]["audit"], run.audit_note
    told = [e["type"] for e in events if e["data"].get("source") == "audit"]
    assert {"apiserver.authn", "apiserver.authz", "apiserver.admission", "apiserver.request"} <= set(told)
    assert events[-1]["type"] == "scenario.completed" and events[-1]["data"]["outcome"] == "Running"
    reasons = [e["data"]["value"]["reason"] for e in events if e["type"] == "etcd.put"
               and e["data"]["key"].startswith("/registry/events/")]
    assert reasons[0] == "Scheduled" and {"Created", "Started"} <= set(reasons)
    assert [e["data"]["step"] for e in events if e["type"] == "scenario.step"] == list(range(1, 11))


def test_node_failure_on_kind(kind_connection, settings):
    """A worker's container paused with docker pause: NotReady, the unreachable taint, eviction after the Pods'
    10 s toleration, replacements on the other worker; the node unpaused and its taint gone at the end."""
    from dashboard.realcluster import docker
    from dashboard.realcluster.connect import ClusterUnavailable
    from dashboard.realcluster.run import ApiRun
    from dashboard.realcluster.scenarios import NODE_FAILURE

    try:
        NODE_FAILURE.preflight(kind_connection)
    except ClusterUnavailable as exc:
        pytest.skip(f"node failure cannot run on this cluster: {exc}")
    run = ApiRun("1" * 20 + "kindtest", "node-failure", {"replicas": 3, "toleration_seconds": 10}, 1, kind_connection)
    events = [ev for ev in run.events() if ev is not None]
    assert events[-1]["type"] == "scenario.completed", events[-3:]
    assert [e["data"]["step"] for e in events if e["type"] == "scenario.step"] == list(range(1, 9))
    assert run.victim and run.paused is None and docker.state(run.victim) == "running"
    actions = [e["data"]["action"] for e in events if e["type"] == "controller.reconcile"
               and e["data"]["controller"] == "taint-eviction-controller"]
    assert any(a.startswith("Marking for deletion Pod") for a in actions)
