"""Node failure on a real cluster (dashboard/realcluster): the parts that do not need a kind cluster - the
docker command missing, which workers qualify, and which of the cluster's answers open which step. The run
itself is tested against kind in test_kind.py (skipped where there is none)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from dashboard.realcluster import docker
from dashboard.realcluster.connect import ClusterUnavailable
from dashboard.realcluster.scenarios import NODE_FAILURE, _workers


def test_without_a_docker_command_node_failure_is_unavailable(settings):
    settings.DASHBOARD_API_DOCKER = "no-such-docker-command"
    with pytest.raises(ClusterUnavailable, match="no docker command .* unavailable here"):
        docker.check_nodes(["challenge-cluster-worker"])
    with pytest.raises(ClusterUnavailable, match="no docker command"):
        docker.pause("challenge-cluster-worker")
    assert docker.unpause("challenge-cluster-worker") is False   # best effort: never raises


def _node(name: str, ready: str = "True", cp: bool = False, unschedulable: bool = False, taints=None) -> dict:
    labels = {"kubernetes.io/hostname": name}
    if cp:
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"unschedulable": unschedulable, "taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}


def test_the_workers_that_can_fail_are_ready_schedulable_and_not_the_control_plane():
    nodes = [_node("w2"), _node("cp", cp=True), _node("w1"), _node("w3", ready="Unknown"),
             _node("w4", unschedulable=True)]
    assert _workers(nodes) == ["w1", "w2"]


def test_the_clusters_answers_open_the_lessons_steps():
    run = SimpleNamespace(driver_phase=2, victim="w1", ns="k8sdash-abc", step=2)

    def put(key, value):
        return NODE_FAILURE.step_of(run, "etcd.put", {"key": key, "value": value}, None)

    assert put("/registry/minions/w2", _node("w2", ready="Unknown")) is None          # another node
    assert put("/registry/minions/w1", _node("w1")) is None
    assert put("/registry/minions/w1", _node("w1", ready="Unknown")) == 3
    taint = [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}]
    assert put("/registry/minions/w1", _node("w1", ready="Unknown", taints=taint)) == 4
    evicting = {"controller": "taint-eviction-controller", "action": "Marking for deletion Pod k8sdash-abc/web-1"}
    assert NODE_FAILURE.step_of(run, "controller.reconcile", evicting, None) == 6
    assert put("/registry/pods/k8sdash-abc/web-1", {"metadata": {"deletionTimestamp": "2026-12-03T12:00:00Z"}}) == 6
    created = {"controller": "replicaset", "action": "Created pod: web-2"}
    assert NODE_FAILURE.step_of(run, "controller.reconcile", created, None) is None   # before the eviction
    run.step = 6
    assert NODE_FAILURE.step_of(run, "controller.reconcile", created, None) == 7
    run.driver_phase = 1   # before the node fails nothing opens these steps
    assert put("/registry/minions/w1", _node("w1", ready="Unknown")) is None
    assert NODE_FAILURE.HIDDEN == {5: "controller-manager"}
    assert NODE_FAILURE.extra_seconds({"toleration_seconds": 300}) == 360
