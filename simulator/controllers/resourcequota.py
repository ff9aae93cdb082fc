"""The resource quota controller of kube-controller-manager (v1.31): pkg/controller/resourcequota.

- resource_quota_controller.go: a quota is queued when it is added, when its spec.hard changes or its
  status is incomplete (addQuota / updateQuota), and again on every full resync - the
  `--resource-quota-sync-period` (default 5m0s, cmd/kube-controller-manager/app/options/
  resourcequotacontroller.go). syncResourceQuota recomputes status.used from the objects in the namespace
  (quota.CalculateUsage) and sets status.hard from spec.hard, writing the status only when it changed.
- resource_quota_monitor.go: the quota monitor watches the quota-tracked resources; when an object is
  removed (or a pod reaches a terminal phase: pod evaluator's "replenishment") the namespace's quotas are
  re-queued, which is how deleting a pod frees quota (the admission plugin only ever adds usage).

The usage itself is the admission module's (`admission.compute_quota_used`, Evaluator.Usage per object),
read from the API server's cache as the controller's informers would.
"""
from __future__ import annotations

from typing import Generator

from ..apiserver import admission
from .base import Controller, SharedInformer, deep, key_of, ok

# --resource-quota-sync-period (ResourceQuotaSyncPeriod: 5 * time.Minute)
RESYNC_PERIOD = 300.0
# The resources whose changes replenish quota (the monitor's informers that this controller-manager has).
TRACKED = ("pods", "services", "configmaps", "secrets", "serviceaccounts", "replicasets", "deployments")


def _terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class ResourceQuotaController(Controller):
    NAME = "resourcequota"
    SOURCE = "resourcequota-controller"
    RESOURCES = ("resourcequotas",) + TRACKED
    # --concurrent-resource-quota-syncs default 5; one worker keeps the trace easy to follow.
    WORKERS = 1

    def __init__(self, cm):
        super().__init__(cm)
        if "resourcequotas" not in self.inf:
            # the controller-manager's INFORMERS does not list quotas: this controller brings its own.
            self.inf["resourcequotas"] = SharedInformer(cm.api, "resourcequotas", cm.me,
                                                        lambda: cm.running and cm.leading)
        self._resync_gen = 0

    def register(self) -> None:
        self.inf["resourcequotas"].add_handler(self._on_quota)
        for r in TRACKED:
            if r in self.inf:
                self.inf[r].add_handler(lambda kind, old, new, r=r: self._on_tracked(r, kind, old, new))

    def on_start(self) -> None:
        inf = self.inf["resourcequotas"]
        if not inf.started:
            inf.start()
        self._resync_gen += 1
        self.env.schedule(RESYNC_PERIOD, lambda g=self._resync_gen: self._resync(g))

    # -- handlers --
    def _on_quota(self, kind: str, old: dict | None, new: dict) -> None:
        if kind == "DELETED":
            return
        if kind == "ADDED" or old is None:
            self.enqueue(new)
            return
        # updateQuota: only when spec.hard changed (or status.hard does not match it yet)
        hard = (new.get("spec") or {}).get("hard") or {}
        if hard != ((old.get("spec") or {}).get("hard") or {}) or hard != ((new.get("status") or {}).get("hard") or {}):
            self.enqueue(new)

    def _on_tracked(self, resource: str, kind: str, old: dict | None, new: dict) -> None:
        ns = (new.get("metadata") or {}).get("namespace")
        if not ns:
            return
        if kind == "DELETED" or (resource == "pods" and kind == "MODIFIED" and old is not None
                                 and _terminal(new) and not _terminal(old)):
            for q in self.inf["resourcequotas"].list(ns):
                self.enqueue(q)

    def _resync(self, gen: int) -> None:
        if not self.running or gen != self._resync_gen:
            return
        for q in self.inf["resourcequotas"].list():
            self.enqueue(q)
        self.env.schedule(RESYNC_PERIOD, lambda: self._resync(gen))

    def busy(self) -> bool:
        return self.running and len(self.queue) > 0

    # -- reconcile --
    def sync(self, key: str) -> Generator:
        q = self.inf["resourcequotas"].get(key)
        if q is None:
            return ("none", None, None)
        hard = dict((q.get("spec") or {}).get("hard") or {})
        probe = deep(q)
        probe.setdefault("status", {})["hard"] = hard
        used = admission.compute_quota_used(probe, self.cm.api)
        status = {"hard": {k: str(hard[k]) for k in sorted(hard)},
                  "used": {k: str(used[k]) for k in sorted(used) if k in hard}}
        cur = q.get("status") or {}
        if cur.get("hard") == status["hard"] and cur.get("used") == status["used"]:
            return ("none", status["used"], cur.get("used"))
        new = deep(q)
        new["status"] = status
        resp = yield self.client.update("resourcequotas", new, namespace=new["metadata"]["namespace"],
                                        subresource="status")
        if not ok(resp):
            msg = ((getattr(resp, "status", None) or {}).get("message", "")) if resp is not None else "no response"
            return ("error", status["used"], cur.get("used"), f"update status of resourcequota {key_of(q)}: {msg}")
        return ("updated status.used", status["used"], cur.get("used"))
