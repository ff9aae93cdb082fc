"""The garbage collector: pkg/controller/garbagecollector (v1.31) - graph_builder.go (the dependency
graph from every object's metadata.ownerReferences), garbagecollector.go (attemptToDeleteItem,
processDeletingDependentsItem, orphanDependents).

- Background (the default for `kubectl delete`): once an owner is gone, each dependent whose owners are
  all gone is deleted (with propagationPolicy Background, so its own dependents follow).
- Foreground: an owner deleted with propagationPolicy=Foreground carries the `foregroundDeletion`
  finalizer; its dependents are deleted first, and the finalizer is removed when no dependent with
  blockOwnerDeletion=true is left (the API server then removes the owner).
- Orphan: an owner with the `orphan` finalizer has its ownerReference removed from every dependent,
  then the finalizer removed.
An owner is judged absent only after a live GET confirms it (404, or another uid), as isDangling does.
Owner references with an empty uid (the bootstrap's static and DaemonSet Pods) are never judged.
"""
from __future__ import annotations

from typing import Generator

from .base import Controller, deep, key_of, ok

# kind -> resource, for the kinds whose objects can own others here.
KIND_RESOURCE = {"Deployment": "deployments", "ReplicaSet": "replicasets", "Pod": "pods", "Service": "services",
                 "Node": "nodes", "Namespace": "namespaces", "ConfigMap": "configmaps", "Secret": "secrets",
                 "EndpointSlice": "endpointslices", "Endpoints": "endpoints", "Lease": "leases"}
MONITORED = ("deployments", "replicasets", "pods", "endpointslices", "services", "nodes")
FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


class GarbageCollector(Controller):
    NAME = "garbagecollector"
    SOURCE = "garbage-collector-controller"
    WORKERS = 20   # --concurrent-gc-syncs
    RESOURCES = MONITORED

    def __init__(self, cm):
        super().__init__(cm)
        self.uids: dict[str, tuple[str, str]] = {}            # uid -> (resource, key)
        self.dependents: dict[str, set[tuple[str, str]]] = {}  # owner uid -> {(resource, key)}

    def register(self) -> None:
        for res in MONITORED:
            if res in self.inf:
                self.inf[res].add_handler(lambda kind, old, obj, res=res: self._on(res, kind, old, obj))

    def _on(self, res: str, kind: str, old: dict | None, obj: dict) -> None:
        m = obj["metadata"]
        k = key_of(obj)
        if kind == "DELETED":
            self.uids.pop(m.get("uid", ""), None)
            for dep in sorted(self.dependents.pop(m.get("uid", ""), set())):
                self.enqueue(f"{dep[0]}|{dep[1]}")   # attemptToDelete each dependent of the vanished owner
            for o in m.get("ownerReferences") or []:
                s = self.dependents.get(o.get("uid", ""))
                if s:
                    s.discard((res, k))
                    if not s:
                        self.dependents.pop(o.get("uid", ""), None)
                    else:
                        self._maybe_owner(o.get("uid", ""))
                elif o.get("uid") in self.uids:
                    self._maybe_owner(o.get("uid", ""))
            return
        self.uids[m.get("uid", "")] = (res, k)
        if old is not None:
            for o in old["metadata"].get("ownerReferences") or []:
                s = self.dependents.get(o.get("uid", ""))
                if s:
                    s.discard((res, k))
        refs = [o for o in (m.get("ownerReferences") or []) if o.get("uid")]
        for o in refs:
            self.dependents.setdefault(o["uid"], set()).add((res, k))
        if any(o["uid"] not in self.uids for o in refs):
            self.enqueue(f"{res}|{k}")   # an owner we have not seen: check it
        fins = m.get("finalizers") or []
        if m.get("deletionTimestamp") and (FOREGROUND in fins or ORPHAN in fins):
            self.enqueue(f"{res}|{k}")

    def _maybe_owner(self, uid: str) -> None:
        hit = self.uids.get(uid)
        if hit:
            self.enqueue(f"{hit[0]}|{hit[1]}")

    def sync(self, item: str) -> Generator:
        res, key = item.split("|", 1)
        obj = self.inf[res].get(key) if res in self.inf else None
        if obj is None:
            return ("none", None, None)
        m = obj["metadata"]
        fins = m.get("finalizers") or []
        if m.get("deletionTimestamp") and ORPHAN in fins:
            return (yield from self._orphan(res, obj))
        if m.get("deletionTimestamp") and FOREGROUND in fins:
            return (yield from self._foreground(res, obj))
        refs = [o for o in (m.get("ownerReferences") or []) if o.get("uid")]
        if not refs:
            return ("none", None, None)
        dangling, waiting = [], []
        for o in refs:
            owner_res = KIND_RESOURCE.get(o.get("kind", ""))
            if owner_res is None:
                return ("none", None, None)  # an owner kind we do not know: never judge it
            ns = m.get("namespace", "") if owner_res not in ("nodes", "namespaces") else ""
            resp = yield self.client.get(owner_res, o["name"], namespace=ns)
            if getattr(resp, "code", 0) == 404 or (ok(resp) and resp.body["metadata"].get("uid") != o["uid"]):
                dangling.append(o)
            elif ok(resp):
                ofins = resp.body["metadata"].get("finalizers") or []
                if resp.body["metadata"].get("deletionTimestamp") and FOREGROUND in ofins:
                    waiting.append(o)
            else:
                return ("error", None, None, f"get owner {o['kind']}/{o['name']}: {getattr(resp, 'code', '?')}")
        if len(dangling) == len(refs) or (dangling and len(dangling) + len(waiting) == len(refs) and not waiting):
            resp = yield self.client.delete(res, m["name"], namespace=m.get("namespace", ""), propagation="Background")
            owners = ", ".join(f"{o['kind']}/{o['name']}" for o in dangling)
            if ok(resp) or getattr(resp, "code", 0) == 404:
                return (f"deleted (owner {owners} is gone)", "absent", "present")
            return ("error", "absent", "present", f"delete: {getattr(resp, 'code', '?')}")
        if waiting and len(dangling) + len(waiting) == len(refs):
            # The owner is being deleted in the foreground: this dependent goes first.
            resp = yield self.client.delete(res, m["name"], namespace=m.get("namespace", ""), propagation="Foreground")
            return ("deleted (foreground deletion of its owner)", "absent", "present")
        if dangling:
            # Some owners remain: remove only the dangling references (a patch).
            keep = [o for o in m.get("ownerReferences") or [] if o not in dangling]
            yield self.client.patch(res, m["name"], {"metadata": {"ownerReferences": keep, "uid": m.get("uid")}},
                                    namespace=m.get("namespace", ""))
            return ("removed dangling ownerReferences", None, None)
        return ("none", None, None)

    def _deps(self, obj: dict) -> list[dict]:
        out = []
        for res, k in sorted(self.dependents.get(obj["metadata"].get("uid", ""), set())):
            d = self.inf[res].get(k) if res in self.inf else None
            if d is not None:
                out.append((res, d))
        return out

    def _remove_finalizer(self, res: str, obj: dict, fin: str) -> Generator:
        body = deep(obj)
        body["metadata"]["finalizers"] = [f for f in body["metadata"].get("finalizers", []) if f != fin]
        resp = yield self.client.update(res, body, namespace=obj["metadata"].get("namespace", ""))
        return ok(resp)

    def _foreground(self, res: str, owner: dict) -> Generator:
        deps = self._deps(owner)
        blocking = [(r, d) for r, d in deps if any(o.get("uid") == owner["metadata"]["uid"] and o.get("blockOwnerDeletion")
                                                   for o in d["metadata"].get("ownerReferences") or [])]
        for r, d in deps:
            if not d["metadata"].get("deletionTimestamp"):
                yield self.client.delete(r, d["metadata"]["name"], namespace=d["metadata"].get("namespace", ""),
                                         propagation="Foreground")
        if blocking:
            return (f"waiting for {len(blocking)} dependent(s)", "dependents gone", f"{len(blocking)} blocking")
        yield from self._remove_finalizer(res, owner, FOREGROUND)
        return ("removed finalizer foregroundDeletion", "dependents gone", "0 blocking")

    def _orphan(self, res: str, owner: dict) -> Generator:
        uid = owner["metadata"]["uid"]
        for r, d in self._deps(owner):
            keep = [o for o in d["metadata"].get("ownerReferences") or [] if o.get("uid") != uid]
            yield self.client.patch(r, d["metadata"]["name"],
                                    {"metadata": {"ownerReferences": keep or None, "uid": d["metadata"].get("uid")}},
                                    namespace=d["metadata"].get("namespace", ""))
        yield from self._remove_finalizer(res, owner, ORPHAN)
        return ("orphaned dependents, removed finalizer orphan", None, None)
