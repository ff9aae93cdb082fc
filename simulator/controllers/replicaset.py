"""The ReplicaSet controller: pkg/controller/replicaset/replica_set.go (v1.31), with the pod helpers of
pkg/controller/controller_utils.go (ControllerExpectations, FilterActivePods, ActivePodsWithRanks,
RealPodControl.CreatePods / DeletePod and their SuccessfulCreate / SuccessfulDelete Events).

One sync: read the ReplicaSet and the Pods it owns from the informer caches; unless earlier creations or
deletions are still unobserved (expectations), create the missing Pods in slow-start batches (1, 2, 4 ...)
or delete the surplus ones, ranked so the least useful go first; then write status.
"""
from __future__ import annotations

from typing import Generator

from .. import ids
from .base import (Controller, RequeueError, condition, controller_ref, deep, key_of, ok, parse_time,
                   pod_ready, selector_matches, split_key)

BURST_REPLICAS = 500          # replicaset.BurstReplicas
SLOW_START_INITIAL_BATCH = 1  # controller.SlowStartInitialBatchSize
EXPECTATIONS_TIMEOUT = 300.0  # controller.ExpectationsTimeout (5 minutes)
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"

_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}

# controller.PodControllerUIDIndex (pkg/controller/controller_utils.go AddPodControllerUIDIndexer): the
# Pods informer indexed by the UID of each Pod's controller, orphans under a per-namespace key, so a sync
# reads the Pods of its ReplicaSet (and the orphans it may adopt) rather than every Pod of the namespace.
CONTROLLER_UID_INDEX = "controllerUID"


def pod_controller_index(key: str, pod: dict) -> tuple:
    """Index values of a Pod: ("owned", ns, controller uid) or ("orphan", ns); namespaced Pods only."""
    i = key.find("/")
    if i < 0:
        return ()
    ref = controller_ref(pod)
    return (("orphan", key[:i]),) if ref is None else (("owned", key[:i], ref.get("uid")),)


_INACTIVE_PHASES = ("Succeeded", "Failed")


def is_pod_active(pod: dict) -> bool:
    """controller.IsPodActive: not Succeeded/Failed and not being deleted."""
    return pod.get("status", {}).get("phase") not in _INACTIVE_PHASES and \
        not pod["metadata"].get("deletionTimestamp")


def pod_available(pod: dict, min_ready_seconds: int, now: float) -> bool:
    """podutil.IsPodAvailable: Ready for at least minReadySeconds."""
    if not pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = parse_time(condition(pod, "Ready").get("lastTransitionTime"))
    return since is not None and since + min_ready_seconds <= now


def _restarts(pod: dict) -> int:
    return max([c.get("restartCount", 0) for c in pod.get("status", {}).get("containerStatuses", []) or []] or [0])


def rank_key(pod: dict, rank: int):
    """controller.ActivePodsWithRanks.Less as a sort key (smaller = deleted first):
    unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower pod-deletion-cost first;
    more related pods on the same node first (doubled-up); ready for a shorter time first; more restarts
    first; newer first. (Upstream compares ready/creation times on a logarithmic scale - the
    LogarithmicScaleDown feature - so near-equal ages tie; here they are compared exactly.)"""
    m, st = pod["metadata"], pod.get("status", {})
    ready = pod_ready(pod)
    try:
        cost = int((m.get("annotations") or {}).get(DELETION_COST, "0"))
    except ValueError:
        cost = 0
    ready_since = parse_time(condition(pod, "Ready").get("lastTransitionTime")) if ready else None
    created = parse_time(m.get("creationTimestamp")) or 0.0
    return (1 if pod["spec"].get("nodeName") else 0,
            _PHASE_ORDINAL.get(st.get("phase", "Pending"), 0),
            1 if ready else 0,
            cost,
            -rank,
            -(ready_since or 0.0) if ready else 0.0,
            -_restarts(pod),
            -created,
            m["name"])


def pods_to_delete(filtered: list[dict], related: list[dict], diff: int) -> list[dict]:
    """getPodsToDelete + getPodsRankedByRelatedPodsOnSameNode."""
    if diff >= len(filtered):
        return list(filtered)
    on_node: dict[str, int] = {}
    for p in related:
        if is_pod_active(p) and p["spec"].get("nodeName"):
            on_node[p["spec"]["nodeName"]] = on_node.get(p["spec"]["nodeName"], 0) + 1
    ranked = sorted(filtered, key=lambda p: rank_key(p, on_node.get(p["spec"].get("nodeName", ""), 0)))
    return ranked[:diff]


class Expectations:
    """controller.ControllerExpectations: creations/deletions a controller has asked for and not yet seen
    in its informer. A sync acts only once they are satisfied (or after 5 minutes)."""

    def __init__(self, env):
        self.env = env
        self.items: dict[str, list] = {}   # key -> [add, del, timestamp]

    def satisfied(self, key: str) -> bool:
        e = self.items.get(key)
        if e is None:
            return True
        return (e[0] <= 0 and e[1] <= 0) or self.env.now - e[2] > EXPECTATIONS_TIMEOUT

    def expect(self, key: str, adds: int, dels: int) -> None:
        self.items[key] = [adds, dels, self.env.now]

    def lower(self, key: str, adds: int = 0, dels: int = 0) -> None:
        e = self.items.get(key)
        if e is not None:
            e[0] -= adds
            e[1] -= dels

    def delete(self, key: str) -> None:
        self.items.pop(key, None)

    def pending(self, key: str) -> tuple[int, int]:
        e = self.items.get(key)
        return (max(e[0], 0), max(e[1], 0)) if e else (0, 0)


def pod_from_template(rs: dict, rng, kind: str = "ReplicaSet", api_version: str = "apps/v1") -> dict:
    """controller.GetPodFromTemplate: the template's labels, annotations and spec, generateName
    "<owner>-", and a controller ownerReference (blockOwnerDeletion=true). The API server would fill the
    5-character suffix (names.SimpleNameGenerator: utilrand.String(5)); it is drawn here from the
    controller's seeded rng so the name is deterministic and known when the request is traced."""
    tpl = rs["spec"].get("template", {})
    tm = tpl.get("metadata", {}) or {}
    m = rs["metadata"]
    meta = {"name": f"{m['name']}-{ids.rand_string(rng, 5)}", "generateName": f"{m['name']}-",
            "namespace": m["namespace"], "labels": dict(tm.get("labels") or {})}
    if tm.get("annotations"):
        meta["annotations"] = dict(tm["annotations"])
    if tm.get("finalizers"):
        meta["finalizers"] = list(tm["finalizers"])
    meta["ownerReferences"] = [{"apiVersion": api_version, "kind": kind, "name": m["name"], "uid": m.get("uid", ""),
                                "controller": True, "blockOwnerDeletion": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": deep(tpl.get("spec", {}))}


class ReplicaSetController(Controller):
    NAME = "replicaset"
    SOURCE = "replicaset-controller"
    WORKERS = 5   # --concurrent-replicaset-syncs default
    RESOURCES = ("replicasets", "pods")

    def __init__(self, cm):
        super().__init__(cm)
        self.expectations = Expectations(self.env)

    def register(self) -> None:
        self.inf["replicasets"].add_handler(self._on_rs)
        self.inf["pods"].add_index(CONTROLLER_UID_INDEX, pod_controller_index)
        self.inf["pods"].add_handler(self._on_pod)

    # -- handlers --
    def _on_rs(self, kind: str, old: dict | None, rs: dict) -> None:
        if kind == "DELETED":
            self.expectations.delete(key_of(rs))
        self.enqueue(rs)

    def _owner_key(self, pod: dict) -> str | None:
        ref = controller_ref(pod)
        if not ref or ref.get("kind") != "ReplicaSet":
            return None
        k = f"{pod['metadata']['namespace']}/{ref['name']}"
        rs = self.inf["replicasets"].get(k)
        if rs is None or rs["metadata"].get("uid") != ref.get("uid"):
            return None  # resolveControllerRef: a stale reference resolves to nothing
        return k

    def _on_pod(self, kind: str, old: dict | None, pod: dict) -> None:
        owner = self._owner_key(pod)
        if owner is None:
            if kind != "DELETED" and not controller_ref(pod):
                # An orphan: wake the ReplicaSets that select it, so one can adopt it.
                for rs in self.inf["replicasets"].list(pod["metadata"]["namespace"]):
                    if selector_matches(rs["spec"].get("selector"), pod["metadata"].get("labels")):
                        self.enqueue(rs)
            return
        if kind == "ADDED":
            if pod["metadata"].get("deletionTimestamp"):
                self.expectations.lower(owner, dels=1)
            else:
                self.expectations.lower(owner, adds=1)
        elif kind == "DELETED":
            if not (old or pod)["metadata"].get("deletionTimestamp"):
                self.expectations.lower(owner, dels=1)
        elif kind == "MODIFIED" and pod["metadata"].get("deletionTimestamp") and old is not None \
                and not old["metadata"].get("deletionTimestamp"):
            self.expectations.lower(owner, dels=1)  # graceful deletion observed
        self.enqueue(owner)
        if kind == "MODIFIED" and old is not None and not pod_ready(old) and pod_ready(pod):
            rs = self.inf["replicasets"].get(owner)
            mrs = (rs or {}).get("spec", {}).get("minReadySeconds", 0)
            if mrs:
                self.queue.add_after(owner, mrs + 1)

    # -- the sync --
    def sync(self, key: str) -> Generator:
        rs = self.inf["replicasets"].get(key)
        if rs is None:
            self.expectations.delete(key)
            return ("none", None, None)
        ns, _ = split_key(key)
        want = rs["spec"].get("replicas", 1)
        uid = rs["metadata"].get("uid")
        # The same Pods, in the same (key) order, as filtering list(ns) by controller: read from the index.
        pod_inf = self.inf["pods"]
        owned = pod_inf.by_index(CONTROLLER_UID_INDEX, ("owned", ns, uid))
        orphans = [p for p in pod_inf.by_index(CONTROLLER_UID_INDEX, ("orphan", ns))
                   if selector_matches(rs["spec"].get("selector"), p["metadata"].get("labels")) and is_pod_active(p)
                   and not rs["metadata"].get("deletionTimestamp")]
        # Every Pod of the namespace is needed only to rank a scale-down (_related_pods). It is taken as of
        # the sync's start: now if adoption is about to yield, else when asked (nothing has yielded by then).
        snapshot = pod_inf.list(ns) if orphans else None

        def pods() -> list[dict]:
            return snapshot if snapshot is not None else pod_inf.list(ns)
        for p in orphans:  # ClaimPods: adopt matching orphans (a patch adding our controllerRef)
            patch = {"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                       "name": rs["metadata"]["name"], "uid": uid,
                                                       "controller": True, "blockOwnerDeletion": True}],
                                  "uid": p["metadata"]["uid"]}}
            resp = yield self.client.patch("pods", p["metadata"]["name"], patch, namespace=ns)
            if ok(resp):
                owned.append(resp.body)
        active = [p for p in owned if p.get("status", {}).get("phase") not in _INACTIVE_PHASES
                  and not p["metadata"].get("deletionTimestamp")]   # is_pod_active, inlined: a hot loop
        action = "none"
        if self.expectations.satisfied(key) and not rs["metadata"].get("deletionTimestamp"):
            action = yield from self._manage(rs, key, active, pods)
        yield from self._update_status(rs, active)
        if "failed" in action:
            # manageReplicas returned an error: syncReplicaSet returns it, the key is re-queued with back-off.
            return (action, want, len(active), action)
        return (action, want, len(active))

    def _manage(self, rs: dict, key: str, active: list[dict], all_pods) -> Generator:
        """all_pods(): every Pod of the namespace as of the sync's start."""
        want = rs["spec"].get("replicas", 1)
        diff = len(active) - want
        ns = rs["metadata"]["namespace"]
        if diff < 0:
            n = min(-diff, BURST_REPLICAS)
            self.expectations.expect(key, n, 0)
            created = yield from self._slow_start(rs, key, n)
            return f"created {created} pod(s)" + (f" ({n - created} failed)" if created < n else "")
        if diff > 0:
            n = min(diff, BURST_REPLICAS)
            related = self._related_pods(rs, all_pods())
            victims = pods_to_delete(active, related, n)
            self.expectations.expect(key, 0, len(victims))
            futs = [(p, self.client.delete("pods", p["metadata"]["name"], namespace=ns)) for p in victims]
            deleted, failed = 0, 0
            for p, fut in futs:
                resp = yield fut
                if ok(resp) or getattr(resp, "code", 0) == 404:
                    if ok(resp):
                        deleted += 1
                        self.record_event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}")
                    else:
                        self.expectations.lower(key, dels=1)
                else:
                    failed += 1
                    self.expectations.lower(key, dels=1)
                    self.record_event(rs, "Warning", "FailedDelete", f"Error deleting: {_err(resp)}")
            return f"deleted {deleted} pod(s): " + ", ".join(p["metadata"]["name"] for p in victims) + \
                (f" ({failed} failed)" if failed else "")
        return "none"

    def _related_pods(self, rs: dict, all_pods: list[dict]) -> list[dict]:
        """getIndirectlyRelatedPods: Pods of every ReplicaSet with the same controller (Deployment)."""
        owner = controller_ref(rs)
        rs_uids = {rs["metadata"].get("uid")}
        if owner:
            for other in self.inf["replicasets"].list(rs["metadata"]["namespace"]):
                if (controller_ref(other) or {}).get("uid") == owner.get("uid"):
                    rs_uids.add(other["metadata"].get("uid"))
        return [p for p in all_pods if (controller_ref(p) or {}).get("uid") in rs_uids]

    def _slow_start(self, rs: dict, key: str, count: int) -> Generator:
        """controller.slowStartBatch: batches of 1, 2, 4 ... issued in parallel; stop at the first error."""
        ns = rs["metadata"]["namespace"]
        remaining, batch, successes = count, min(count, SLOW_START_INITIAL_BATCH), 0
        while batch > 0:
            futs = [self.client.create("pods", pod_from_template(rs, self.rng), namespace=ns) for _ in range(batch)]
            failed = 0
            for fut in futs:
                resp = yield fut
                if ok(resp):
                    successes += 1
                    self.record_event(rs, "Normal", "SuccessfulCreate", f"Created pod: {resp.body['metadata']['name']}")
                else:
                    failed += 1
                    self.expectations.lower(key, adds=1)
                    self.record_event(rs, "Warning", "FailedCreate", f"Error creating: {_err(resp)}")
            if failed:
                skipped = remaining - batch
                self.expectations.lower(key, adds=skipped)  # the skipped creations will never be observed
                return successes
            remaining -= batch
            batch = min(2 * batch, remaining)
        return successes

    def _update_status(self, rs: dict, active: list[dict]) -> Generator:
        """calculateStatus + updateReplicaSetStatus (PUT .../replicasets/<name>/status)."""
        mrs = rs["spec"].get("minReadySeconds", 0) or 0
        labels = (rs["spec"].get("template", {}).get("metadata") or {}).get("labels") or {}
        st = dict(rs.get("status") or {})
        # One pass over the Pods per count, each Pod's Ready condition looked up once: a sync runs on most
        # changes of any of its (up to hundreds of) Pods, so this loop is the controller's hot path.
        ready = [p for p in active if pod_ready(p)]
        new = {"replicas": len(active),
               "fullyLabeledReplicas": _count_fully_labeled(active, labels),
               "readyReplicas": len(ready),
               # podutil.IsPodAvailable is IsPodReady when minReadySeconds is 0
               "availableReplicas": sum(1 for p in ready if pod_available(p, mrs, self.env.now)) if mrs else len(ready),
               "observedGeneration": rs["metadata"].get("generation", 1)}
        merged = {k: v for k, v in st.items() if k not in new}
        for k, v in new.items():
            if v or k in ("replicas", "observedGeneration"):
                merged[k] = v   # zero counts are omitted (omitempty), replicas is always written
        if merged == st:
            return
        body = deep(rs)
        body["status"] = merged
        ns = rs["metadata"]["namespace"]
        resp = yield self.client.update("replicasets", body, namespace=ns, subresource="status")
        if getattr(resp, "code", 0) == 409:
            # updateReplicaSetStatus: statusUpdateRetries = 1 - GET the latest and try once more.
            got = yield self.client.get("replicasets", rs["metadata"]["name"], namespace=ns)
            if ok(got):
                body = got.body
                body["status"] = {**{k: v for k, v in (body.get("status") or {}).items() if k not in new}, **{k: v for k, v in merged.items() if k in new}}
                body["status"]["observedGeneration"] = new["observedGeneration"]
                resp = yield self.client.update("replicasets", body, namespace=ns, subresource="status")
        if not ok(resp):
            raise RequeueError(f"status update: {_err(resp)}")
        if mrs and new["readyReplicas"] != new["availableReplicas"]:
            self.queue.add_after(key_of(rs), mrs)


def _count_fully_labeled(pods: list[dict], labels: dict) -> int:
    """Pods whose labels include every label of the template (calculateStatus' fullyLabeledReplicas)."""
    if not labels:
        return len(pods)
    if any(v is None for v in labels.values()):   # labels.get(k) == None also holds for a missing key
        return sum(1 for p in pods if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items()))
    want = labels.items()
    return sum(1 for p in pods if want <= (p["metadata"].get("labels") or {}).items())


def _err(resp) -> str:
    if resp is None:
        return "no response"
    return ((getattr(resp, "status", None) or {}).get("message")) or f"code {getattr(resp, 'code', '?')}"
