"""The resource quota controller (pkg/controller/resourcequota): status.hard from spec.hard, status.used
recomputed from the namespace's objects when a quota appears, when a tracked object is deleted (deleting a
pod frees quota) and on every --resource-quota-sync-period (5 m) resync."""
from __future__ import annotations

import random

from simulator.controller_manager import ControllerManager
from simulator.controllers.resourcequota import RESYNC_PERIOD, ResourceQuotaController
from tests.sim.test_apiserver_core import Harness

QKEY = "/registry/resourcequotas/default/compute"


def _setup():
    h = Harness()
    cm = ControllerManager(h.env, random.Random("cm"), h.tracer, h.api, client=h.client,
                           controllers=(ResourceQuotaController,))
    cm.start()
    cm.on_started_leading()
    return h, cm


def _pod(name: str, cpu: str = "100m") -> dict:
    res = {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx", "resources": res}]}}


def _status(h) -> dict:
    return h.api.get(QKEY).get("status") or {}


def test_new_quota_gets_status_hard_and_used_from_existing_objects():
    h, cm = _setup()
    c = h.client
    for i in range(2):
        assert h.call(c.create("pods", _pod(f"p{i}"), namespace="default")).code == 201
    assert h.call(c.create("configmaps", {"metadata": {"name": "cfg"}}, namespace="default")).code == 201
    hard = {"pods": "10", "requests.cpu": "2", "count/configmaps": "5"}
    assert h.call(c.create("resourcequotas", {"metadata": {"name": "compute"}, "spec": {"hard": hard}},
                           namespace="default")).code == 201
    h.settle(2.0)
    st = _status(h)
    assert st["hard"] == hard
    assert st["used"] == {"count/configmaps": "1", "pods": "2", "requests.cpu": "200m"}
    rec = [e for e in h.tracer.buffer if e["type"] == "controller.reconcile" and e["data"]["controller"] == "resourcequota"]
    assert rec and rec[-1]["data"]["key"] == "default/compute"


def test_deleting_a_pod_frees_quota_and_the_freed_slot_admits_a_new_pod():
    h, cm = _setup()
    c = h.client
    assert h.call(c.create("resourcequotas", {"metadata": {"name": "compute"}, "spec": {"hard": {"pods": "2"}}},
                           namespace="default")).code == 201
    h.settle(1.0)
    for i in range(2):
        assert h.call(c.create("pods", _pod(f"p{i}"), namespace="default")).code == 201
    assert _status(h)["used"] == {"pods": "2"}
    denied = h.call(c.create("pods", _pod("p2"), namespace="default"))
    assert denied.code == 403 and "exceeded quota: compute" in denied.status["message"]
    assert h.call(c.delete("pods", "p0", namespace="default")).code == 200  # unbound: removed at once
    h.settle(2.0)
    assert _status(h)["used"] == {"pods": "1"}
    assert h.call(c.create("pods", _pod("p2"), namespace="default")).code == 201


def test_periodic_resync_corrects_a_drifted_status():
    h, cm = _setup()
    c = h.client
    assert h.call(c.create("resourcequotas", {"metadata": {"name": "compute"}, "spec": {"hard": {"pods": "5"}}},
                           namespace="default")).code == 201
    h.settle(1.0)
    assert h.call(c.create("pods", _pod("p0"), namespace="default")).code == 201
    q = h.api.get(QKEY)
    q["status"]["used"] = {"pods": "4"}   # drift (e.g. a charge for a create that then failed)
    assert h.call(c.update("resourcequotas", q, namespace="default", subresource="status")).code == 200
    h.settle(RESYNC_PERIOD / 2)
    assert _status(h)["used"] == {"pods": "4"}   # a status change alone does not queue the quota
    h.settle(RESYNC_PERIOD / 2 + 1.0)
    assert _status(h)["used"] == {"pods": "1"}


def test_stopped_controller_writes_nothing():
    h, cm = _setup()
    cm.on_stopped_leading()
    assert h.call(h.client.create("resourcequotas", {"metadata": {"name": "compute"}, "spec": {"hard": {"pods": "5"}}},
                                  namespace="default")).code == 201
    h.settle(RESYNC_PERIOD + 1)
    assert "hard" not in _status(h)
