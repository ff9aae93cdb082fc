"""The namespace controller: pkg/controller/namespace/namespace_controller.go and
deletion/namespaced_resources_deleter.go (v1.31).

A deleted Namespace stays, phase Terminating, while its spec.finalizers holds "kubernetes". The
controller deletes every namespaced object in it (deleteAllContent: a DeleteCollection per resource),
waits while something is left (Pods terminate gracefully; "estimate" = the longest grace period), then
removes its finalizer (PUT /api/v1/namespaces/<name>/finalize). With no finalizer left the API server
removes the Namespace (ShouldDeleteNamespaceDuringUpdate). The NamespaceDeletionContentFailure /
NamespaceContentRemaining conditions are not written.
"""
from __future__ import annotations

from typing import Generator

from ..apiserver import registry
from .base import Controller, deep, ok

FINALIZER = "kubernetes"
# The namespaced resources the deleter walks (discovery order does not matter to the outcome).
NAMESPACED = ("pods", "services", "endpoints", "endpointslices", "configmaps", "secrets", "serviceaccounts",
              "deployments", "replicasets", "leases", "limitranges", "resourcequotas", "roles", "rolebindings",
              "events")


def namespaced_resources() -> list[str]:
    res = getattr(registry, "RESOURCES", None)
    if res:
        names = [r for r, info in res.items() if getattr(info, "namespaced", False)]
        # Events last, as upstream's deleter leaves them to the end (they are written while deleting).
        return sorted(names, key=lambda r: (r == "events", r))
    return list(NAMESPACED)


class NamespaceController(Controller):
    NAME = "namespace"
    SOURCE = "namespace-controller"
    WORKERS = 10   # --concurrent-namespace-syncs
    RESOURCES = ("namespaces",)

    def register(self) -> None:
        self.inf["namespaces"].add_handler(
            lambda kind, old, ns: kind != "DELETED" and ns["metadata"].get("deletionTimestamp") and self.enqueue(ns))

    def sync(self, key: str) -> Generator:
        ns = self.inf["namespaces"].get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return ("none", None, None)
        if FINALIZER not in (ns.get("spec", {}).get("finalizers") or []):
            return ("none", "gone", "finalized")
        remaining, deleted, wait = 0, 0, 0.0
        for res in namespaced_resources():
            objs = self.cm.api.list(registry.prefix(res, key))
            for o in objs:
                if o is None:
                    continue
                remaining += 1
                m = o["metadata"]
                if m.get("deletionTimestamp"):
                    wait = max(wait, float(m.get("deletionGracePeriodSeconds") or 0))
                    continue
                resp = yield self.client.delete(res, m["name"], namespace=key)
                if ok(resp):
                    deleted += 1
                    if res == "pods":
                        wait = max(wait, float((o.get("spec") or {}).get("terminationGracePeriodSeconds", 30) or 0))
        if remaining:
            # ResourcesRemainingError{estimate}: look again after the estimate (at least a second).
            self.queue.add_after(key, max(1.0, wait / 2 if wait else 1.0))
            return (f"deleted {deleted} object(s), {remaining} remaining", "empty", f"{remaining} object(s)")
        body = deep(ns)
        body["spec"]["finalizers"] = [f for f in body["spec"].get("finalizers", []) if f != FINALIZER]
        resp = yield self.client.update("namespaces", body, subresource="finalize")
        if not ok(resp) and getattr(resp, "code", 0) in (404, 405):
            resp = yield self.client.update("namespaces", body)
        if not ok(resp):
            return ("error", "finalized", "content removed", f"finalize: {getattr(resp, 'code', '?')}")
        return ("removed finalizer kubernetes", "gone", "empty")
