"""The Deployment controller: pkg/controller/deployment (v1.31) - deployment_controller.go, sync.go,
rolling.go, recreate.go, progress.go and util/deployment_util.go.

A Deployment owns one ReplicaSet per distinct Pod template (named "<deployment>-<pod-template-hash>").
A rollout scales the new ReplicaSet up and the old ones down within the bounds maxSurge (pods above the
desired count) and maxUnavailable (pods below it); Recreate first scales every old ReplicaSet to zero.
The revision of each ReplicaSet is in its deployment.kubernetes.io/revision annotation; old ReplicaSets
beyond revisionHistoryLimit are deleted. `rollback()` does what `kubectl rollout undo` does.
"""
from __future__ import annotations

import json
import math
from typing import Generator

from .. import clock
from .base import Controller, RequeueError, controller_ref, deep, key_of, ok, parse_time, selector_matches

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
HASH_LABEL = "pod-template-hash"   # apps.DefaultDeploymentUniqueLabelKey
# util.annotationsToSkip: never copied from a Deployment to its ReplicaSets.
ANNOTATIONS_TO_SKIP = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO}

# k8s.io/apimachinery/pkg/util/rand alphanums (SafeEncodeString maps each byte onto it).
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


# ---- hashing ----------------------------------------------------------------------------------------
def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode_string(s: str) -> str:
    """rand.SafeEncodeString: each byte b -> alphanums[b % 27] (no vowels, so no words)."""
    return "".join(_ALPHANUMS[b % len(_ALPHANUMS)] for b in s.encode())


def compute_hash(template: dict, collision_count: int | None = None) -> str:
    """controller.ComputeHash: fnv32a over the template, then the collision count (uint32 little-endian
    in 8 bytes), then SafeEncodeString(decimal of Sum32). APPROXIMATION: upstream hashes the spew dump
    of the Go struct (hashutil.DeepHashObject); we hash canonical JSON (sorted keys), so the value differs
    from a real cluster's for the same template, but is stable, 9-10 characters of the same alphabet,
    and changes exactly when the template changes."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\x00" * 4
    return safe_encode_string(str(fnv32a(data)))


def template_without_hash(template: dict) -> dict:
    t = deep(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels and HASH_LABEL in labels:
        del labels[HASH_LABEL]
        if not labels:
            del t["metadata"]["labels"]
    if "metadata" in t and not t["metadata"]:
        del t["metadata"]
    return t


def equal_ignore_hash(t1: dict, t2: dict) -> bool:
    """util.EqualIgnoreHash."""
    return template_without_hash(t1) == template_without_hash(t2)


# ---- int-or-percent arithmetic (k8s.io/apimachinery/pkg/util/intstr) -------------------------------
def scaled_value(v, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if v is None:
        return 0
    if isinstance(v, int):
        return v
    s = str(v)
    if s.endswith("%"):
        pct = int(s[:-1])
        x = pct * total / 100
        return int(math.ceil(x)) if round_up else int(math.floor(x))
    return int(s)


def strategy(d: dict) -> tuple[str, object, object]:
    """(type, maxSurge, maxUnavailable) with the apps/v1 defaults (RollingUpdate, 25%, 25%)."""
    s = d["spec"].get("strategy") or {}
    t = s.get("type", "RollingUpdate")
    ru = s.get("rollingUpdate") or {}
    return t, ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%")


def resolve_fenceposts(max_surge, max_unavailable, desired: int) -> tuple[int, int]:
    """util.ResolveFenceposts: surge rounds up, unavailable rounds down; never both zero."""
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def replicas(obj: dict | None) -> int:
    return 0 if obj is None else obj["spec"].get("replicas", 1)


def max_unavailable(d: dict) -> int:
    t, s, u = strategy(d)
    if t != "RollingUpdate" or replicas(d) == 0:
        return 0
    _, unavailable = resolve_fenceposts(s, u, replicas(d))
    return min(unavailable, replicas(d))


def max_surge(d: dict) -> int:
    t, s, u = strategy(d)
    if t != "RollingUpdate":
        return 0
    surge, _ = resolve_fenceposts(s, u, replicas(d))
    return surge


def revision(obj: dict) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _created(obj: dict):
    return (parse_time(obj["metadata"].get("creationTimestamp")) or 0.0, obj["metadata"]["name"])


def new_rs_new_replicas(d: dict, all_rss: list[dict], new_rs: dict | None) -> int:
    """util.NewRSNewReplicas."""
    t, s, u = strategy(d)
    if t == "Recreate":
        return replicas(d)
    surge = scaled_value(s, replicas(d), True)
    current = sum(replicas(rs) for rs in all_rss)
    max_total = replicas(d) + surge
    if current >= max_total:
        return replicas(new_rs)
    scale_up = min(max_total - current, replicas(d) - replicas(new_rs))
    return replicas(new_rs) + scale_up


def deployment_complete(d: dict, st: dict) -> bool:
    """util.DeploymentComplete."""
    want = replicas(d)
    return st.get("updatedReplicas", 0) == want and st.get("replicas", 0) == want and \
        st.get("availableReplicas", 0) == want and st.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)


def _cond(status: dict, ctype: str) -> dict | None:
    for c in status.get("conditions", []) or []:
        if c["type"] == ctype:
            return c
    return None


class _Deployment(dict):
    """The Deployment being synced, plus what this sync did (workers sync different keys concurrently,
    so per-sync state cannot live on the controller)."""

    def __init__(self, obj: dict):
        super().__init__(obj)
        self.ops: list[str] = []
        self.all: list[dict] = []


class DeploymentController(Controller):
    NAME = "deployment"
    SOURCE = "deployment-controller"
    WORKERS = 5   # --concurrent-deployment-syncs
    RESOURCES = ("deployments", "replicasets", "pods")

    def register(self) -> None:
        self.inf["deployments"].add_handler(lambda kind, old, d: self.enqueue(d))
        self.inf["replicasets"].add_handler(self._on_rs)
        self.inf["pods"].add_handler(self._on_pod)

    def _deployment_of(self, obj: dict) -> str | None:
        ref = controller_ref(obj)
        if not ref or ref.get("kind") != "Deployment":
            return None
        k = f"{obj['metadata']['namespace']}/{ref['name']}"
        d = self.inf["deployments"].get(k)
        return k if d is not None and d["metadata"].get("uid") == ref.get("uid") else None

    def _on_rs(self, kind: str, old: dict | None, rs: dict) -> None:
        k = self._deployment_of(rs)
        if k:
            self.enqueue(k)
        elif kind != "DELETED" and not controller_ref(rs):
            for d in self.inf["deployments"].list(rs["metadata"]["namespace"]):
                if selector_matches(d["spec"].get("selector"), rs["metadata"].get("labels")):
                    self.enqueue(d)

    def _on_pod(self, kind: str, old: dict | None, pod: dict) -> None:
        # deletePod: a Recreate rollout waits for the old Pods to be gone.
        if kind != "DELETED":
            return
        ref = controller_ref(pod)
        if not ref or ref.get("kind") != "ReplicaSet":
            return
        rs = self.inf["replicasets"].get(f"{pod['metadata']['namespace']}/{ref['name']}")
        if rs is not None:
            k = self._deployment_of(rs)
            if k and strategy(self.inf["deployments"].get(k))[0] == "Recreate":
                self.enqueue(k)

    # -- the sync (syncDeployment) --
    def sync(self, key: str) -> Generator:
        d = self.inf["deployments"].get(key)
        if d is None:
            return ("none", None, None)
        d = _Deployment(deep(d))
        rss = yield from self._claim_replicasets(d)
        if d["metadata"].get("deletionTimestamp"):
            yield from self._sync_status(d, rss, None)
            return ("none", replicas(d), None)
        if d["spec"].get("paused") or self._is_scaling_event(d, rss):
            yield from self._sync_scale(d, rss)
        elif strategy(d)[0] == "Recreate":
            yield from self._rollout_recreate(d, rss)
        else:
            yield from self._rollout_rolling(d, rss)
        cur = sum((rs.get("status") or {}).get("replicas", 0) for rs in d.all)
        return ("; ".join(d.ops) or "none", replicas(d), cur)

    def _claim_replicasets(self, d: dict) -> Generator:
        """getReplicaSetsForDeployment: owned ReplicaSets, plus adopted orphans the selector matches."""
        ns, uid = d["metadata"]["namespace"], d["metadata"]["uid"]
        out = []
        for rs in self.inf["replicasets"].list(ns):
            ref = controller_ref(rs)
            if ref is not None:
                if ref.get("uid") == uid:
                    out.append(deep(rs))
            elif selector_matches(d["spec"].get("selector"), rs["metadata"].get("labels")) and \
                    not d["metadata"].get("deletionTimestamp") and not rs["metadata"].get("deletionTimestamp"):
                patch = {"metadata": {"ownerReferences": [self._owner_ref(d)], "uid": rs["metadata"]["uid"]}}
                resp = yield self.client.patch("replicasets", rs["metadata"]["name"], patch, namespace=ns)
                if ok(resp):
                    out.append(resp.body)
        return out

    @staticmethod
    def _owner_ref(d: dict) -> dict:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "name": d["metadata"]["name"],
                "uid": d["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

    def _is_scaling_event(self, d: dict, rss: list[dict]) -> bool:
        for rs in rss:
            if replicas(rs) <= 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is not None and int(desired) != replicas(d):
                return True
        return False

    # -- new/old ReplicaSets and revisions (getAllReplicaSetsAndSyncRevision) --
    def _split(self, d: dict, rss: list[dict]) -> tuple[dict | None, list[dict]]:
        """FindNewReplicaSet (the oldest with an equal template) and FindOldReplicaSets."""
        new = None
        for rs in sorted(rss, key=_created):
            if equal_ignore_hash(rs["spec"].get("template", {}), d["spec"].get("template", {})):
                new = rs
                break
        return new, [rs for rs in rss if rs is not new]

    def _get_all(self, d: dict, rss: list[dict], create: bool) -> Generator:
        new, old = self._split(d, rss)
        max_old = max([revision(rs) for rs in old] or [0])
        new_revision = max_old + 1
        ns = d["metadata"]["namespace"]
        if new is not None:
            # Keep the new ReplicaSet's revision the highest; copy the Deployment's annotations.
            anns = dict(new["metadata"].get("annotations") or {})
            changed = self._set_new_rs_annotations(d, anns, new_revision, exists=True)
            if changed:
                body = deep(new)
                body["metadata"]["annotations"] = anns
                resp = yield self.client.update("replicasets", body, namespace=ns)
                new = self._check(resp, "update new ReplicaSet annotations")
            if revision(d) != revision(new) or _cond(d.get("status") or {}, "Progressing") is None:
                if _cond(d.get("status") or {}, "Progressing") is None:
                    self._set_cond(d, "Progressing", "True", "FoundNewReplicaSet",
                                   f'Found new replica set "{new["metadata"]["name"]}"')
                yield from self._set_deployment_revision(d, revision(new))
        elif create:
            new = yield from self._create_new_rs(d, old, new_revision)
        d.all = ([new] if new else []) + old
        return new, old

    def _set_new_rs_annotations(self, d: dict, anns: dict, new_revision: int, exists: bool) -> bool:
        """util.SetNewReplicaSetAnnotations (copy annotations, set the revision if it must grow)."""
        changed = False
        for k, v in (d["metadata"].get("annotations") or {}).items():
            if k not in ANNOTATIONS_TO_SKIP and anns.get(k) != v:
                anns[k] = v
                changed = True
        old_rev = anns.get(REVISION)
        try:
            old_int = int(old_rev) if old_rev is not None else 0
        except ValueError:
            old_int = 0
        if old_int < new_revision:
            anns[REVISION] = str(new_revision)
            changed = True
        if not exists:
            anns[DESIRED_REPLICAS] = str(replicas(d))
            anns[MAX_REPLICAS] = str(replicas(d) + max_surge(d))
        return changed

    def _set_deployment_revision(self, d: dict, rev: int) -> Generator:
        anns = d["metadata"].setdefault("annotations", {})
        if anns.get(REVISION) == str(rev):
            return
        anns[REVISION] = str(rev)
        resp = yield self.client.update("deployments", d, namespace=d["metadata"]["namespace"])
        body = self._check(resp, "update deployment revision")
        d["metadata"] = body["metadata"]

    def _create_new_rs(self, d: dict, old: list[dict], new_revision: int) -> Generator:
        m = d["metadata"]
        ns = m["namespace"]
        collision = (d.get("status") or {}).get("collisionCount")
        tpl = deep(d["spec"].get("template", {}))
        h = compute_hash(tpl, collision)
        tpl.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
        sel = deep(d["spec"].get("selector") or {})
        sel.setdefault("matchLabels", {})[HASH_LABEL] = h
        anns: dict = {}
        self._set_new_rs_annotations(d, anns, new_revision, exists=False)
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": f"{m['name']}-{h}", "namespace": ns,
                           "labels": dict(tpl["metadata"]["labels"]), "annotations": anns,
                           "ownerReferences": [self._owner_ref(d)]},
              "spec": {"replicas": 0, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                       "selector": sel, "template": tpl}}
        new_replicas = new_rs_new_replicas(d, old + [rs], rs)
        rs["spec"]["replicas"] = new_replicas
        resp = yield self.client.create("replicasets", rs, namespace=ns)
        if getattr(resp, "code", 0) == 409:
            # A hash collision with a ReplicaSet that is not ours: bump status.collisionCount and retry.
            existing = self.inf["replicasets"].get(f"{ns}/{rs['metadata']['name']}")
            if existing is not None and (controller_ref(existing) or {}).get("uid") == m["uid"] and \
                    equal_ignore_hash(existing["spec"].get("template", {}), d["spec"].get("template", {})):
                return deep(existing)
            st = dict(d.get("status") or {})
            st["collisionCount"] = (collision or 0) + 1
            body = deep(d)
            body["status"] = st
            yield self.client.update("deployments", body, namespace=ns, subresource="status")
            raise RequeueError("hash collision: collisionCount bumped")
        created = self._check(resp, "create ReplicaSet")
        if new_replicas > 0:
            self.record_event(d, "Normal", "ScalingReplicaSet",
                              f"Scaled up replica set {created['metadata']['name']} from 0 to {new_replicas}")
        d.ops.append(f"created ReplicaSet {created['metadata']['name']} ({new_replicas})")
        self._set_cond(d, "Progressing", "True", "NewReplicaSetCreated",
                       f'Created new replica set "{created["metadata"]["name"]}"')
        yield from self._set_deployment_revision(d, new_revision)
        return created

    def _check(self, resp, what: str) -> dict:
        if not ok(resp):
            msg = ((getattr(resp, "status", None) or {}).get("message")) if resp is not None else "no response"
            raise RequeueError(f"{what}: {msg}")
        return resp.body

    # -- scaling a ReplicaSet (scaleReplicaSetAndRecordEvent) --
    def _scale(self, rs: dict, new_scale: int, d: dict) -> Generator:
        old_scale = replicas(rs)
        anns = dict(rs["metadata"].get("annotations") or {})
        want_anns = dict(anns)
        want_anns[DESIRED_REPLICAS] = str(replicas(d))
        want_anns[MAX_REPLICAS] = str(replicas(d) + max_surge(d))
        if old_scale == new_scale and want_anns == anns:
            return False, rs
        body = deep(rs)
        body["spec"]["replicas"] = new_scale
        body["metadata"]["annotations"] = want_anns
        resp = yield self.client.update("replicasets", body, namespace=rs["metadata"]["namespace"])
        out = self._check(resp, "scale ReplicaSet")
        if old_scale != new_scale:
            op = "up" if old_scale < new_scale else "down"
            self.record_event(d, "Normal", "ScalingReplicaSet",
                              f"Scaled {op} replica set {rs['metadata']['name']} from {old_scale} to {new_scale}")
            d.ops.append(f"scaled {op} {rs['metadata']['name']} {old_scale}->{new_scale}")
        rs.clear()
        rs.update(out)
        return old_scale != new_scale, rs

    # -- RollingUpdate (rolling.go) --
    def _rollout_rolling(self, d: dict, rss: list[dict]) -> Generator:
        new, old = yield from self._get_all(d, rss, create=True)
        all_rss = ([new] if new else []) + old
        scaled_up = yield from self._reconcile_new(all_rss, new, d)
        if scaled_up:
            yield from self._sync_rollout_status(all_rss, new, d)
            return
        scaled_down = yield from self._reconcile_old(all_rss, [rs for rs in old if replicas(rs) > 0], new, d)
        if scaled_down:
            yield from self._sync_rollout_status(all_rss, new, d)
            return
        if deployment_complete(d, d.get("status") or {}):
            yield from self._cleanup(old, d)
        yield from self._sync_rollout_status(all_rss, new, d)

    def _reconcile_new(self, all_rss: list[dict], new: dict | None, d: dict) -> Generator:
        if new is None:
            return False
        if replicas(new) == replicas(d):
            return False
        if replicas(new) > replicas(d):
            scaled, _ = yield from self._scale(new, replicas(d), d)
            return scaled
        scaled, _ = yield from self._scale(new, new_rs_new_replicas(d, all_rss, new), d)
        return scaled

    def _reconcile_old(self, all_rss: list[dict], old: list[dict], new: dict | None, d: dict) -> Generator:
        old_count = sum(replicas(rs) for rs in old)
        if old_count == 0:
            return False
        all_count = sum(replicas(rs) for rs in all_rss)
        min_available = replicas(d) - max_unavailable(d)
        new_unavailable = replicas(new) - ((new or {}).get("status") or {}).get("availableReplicas", 0) if new else 0
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        # cleanupUnhealthyReplicas: first scale down old ReplicaSets' unavailable pods.
        cleaned = 0
        for rs in sorted(old, key=_created):
            if cleaned >= max_scaled_down:
                break
            if replicas(rs) == 0:
                continue
            avail = (rs.get("status") or {}).get("availableReplicas", 0)
            if replicas(rs) == avail:
                continue
            n = min(max_scaled_down - cleaned, replicas(rs) - avail)
            yield from self._scale(rs, replicas(rs) - n, d)
            cleaned += n
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in all_rss)
        scaled = 0
        if available > min_available:
            total = available - min_available
            for rs in sorted(old, key=_created):
                if scaled >= total:
                    break
                if replicas(rs) == 0:
                    continue
                n = min(replicas(rs), total - scaled)
                yield from self._scale(rs, replicas(rs) - n, d)
                scaled += n
        return cleaned + scaled > 0

    # -- Recreate (recreate.go) --
    def _rollout_recreate(self, d: dict, rss: list[dict]) -> Generator:
        new, old = yield from self._get_all(d, rss, create=False)
        all_rss = ([new] if new else []) + old
        scaled_down = False
        for rs in old:
            if replicas(rs) > 0:
                s, _ = yield from self._scale(rs, 0, d)
                scaled_down = scaled_down or s
        if scaled_down:
            yield from self._sync_rollout_status(all_rss, new, d)
            return
        old_uids = {rs["metadata"]["uid"] for rs in old}
        running = [p for p in self.inf["pods"].list(d["metadata"]["namespace"])
                   if (controller_ref(p) or {}).get("uid") in old_uids
                   and p.get("status", {}).get("phase") not in ("Failed", "Succeeded")]
        if running:  # oldPodsRunning: wait until the old Pods are gone
            d.ops.append(f"waiting for {len(running)} old pod(s) to terminate")
            yield from self._sync_rollout_status(all_rss, new, d)
            return
        if new is None:
            new, old = yield from self._get_all(d, rss, create=True)
            all_rss = [new] + old
        yield from self._scale(new, replicas(d), d)
        if deployment_complete(d, d.get("status") or {}):
            yield from self._cleanup(old, d)
        yield from self._sync_rollout_status(all_rss, new, d)

    # -- scaling events and paused Deployments (sync.go sync / scale) --
    def _sync_scale(self, d: dict, rss: list[dict]) -> Generator:
        new, old = yield from self._get_all(d, rss, create=False)
        all_rss = ([new] if new else []) + old
        active = [rs for rs in all_rss if replicas(rs) > 0]
        target = None
        if len(active) == 1:
            target = active[0]
        elif not active and all_rss:
            target = new or max(all_rss, key=lambda r: (revision(r), _created(r)))
        if target is not None:
            yield from self._scale(target, replicas(d), d)
        elif new is not None and replicas(new) == replicas(d) and (new.get("status") or {}).get("availableReplicas", 0) == replicas(d):
            for rs in old:  # IsSaturated: the old ReplicaSets go to zero
                yield from self._scale(rs, 0, d)
        elif active:
            # Proportional scaling (sync.go scale + util.GetProportion / getReplicaSetFraction).
            allowed = replicas(d) + max_surge(d)
            total = sum(replicas(rs) for rs in active)
            to_add = allowed - total
            if to_add != 0:
                if to_add > 0:
                    order = sorted(active, key=lambda r: (-replicas(r), tuple(-x if isinstance(x, float) else x for x in _created(r))))
                else:
                    order = sorted(active, key=lambda r: (-replicas(r), _created(r)))
                added = 0
                sizes = {}
                for rs in order:
                    prop = 0
                    if to_add != added:
                        ann = (rs["metadata"].get("annotations") or {}).get(MAX_REPLICAS)
                        annotated = int(ann) if ann else (d.get("status") or {}).get("replicas", 0)
                        frac = (round(replicas(rs) * allowed / annotated) - replicas(rs)) if annotated else 0
                        if replicas(d) == 0:
                            frac = -replicas(rs)
                        left = to_add - added
                        prop = min(frac, left) if to_add > 0 else max(frac, left)
                    sizes[rs["metadata"]["name"]] = replicas(rs) + prop
                    added += prop
                first = order[0]["metadata"]["name"]
                sizes[first] += to_add - added
                for rs in order:
                    yield from self._scale(rs, max(0, sizes[rs["metadata"]["name"]]), d)
        if deployment_complete(d, d.get("status") or {}) and not d["spec"].get("paused"):
            yield from self._cleanup(old, d)
        yield from self._sync_status(d, all_rss, new)

    # -- history (cleanupDeployment) --
    def _cleanup(self, old: list[dict], d: dict) -> Generator:
        limit = d["spec"].get("revisionHistoryLimit", 10)
        if limit is None:
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        diff = len(alive) - limit
        if diff <= 0:
            return
        for rs in sorted(alive, key=lambda r: (revision(r), _created(r)))[:diff]:
            st = rs.get("status") or {}
            if st.get("replicas", 0) != 0 or replicas(rs) != 0 or \
                    rs["metadata"].get("generation", 1) > st.get("observedGeneration", 0):
                continue
            resp = yield self.client.delete("replicasets", rs["metadata"]["name"], namespace=rs["metadata"]["namespace"])
            if ok(resp):
                d.ops.append(f"deleted old ReplicaSet {rs['metadata']['name']} (revisionHistoryLimit {limit})")

    # -- status (sync.go calculateStatus, progress.go syncRolloutStatus) --
    def _calculate_status(self, all_rss: list[dict], new: dict | None, d: dict) -> dict:
        avail = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in all_rss)
        total = sum((rs.get("status") or {}).get("replicas", 0) for rs in all_rss)
        st = {"observedGeneration": d["metadata"].get("generation", 1),
              "replicas": total,
              "updatedReplicas": ((new or {}).get("status") or {}).get("replicas", 0) if new else 0,
              "readyReplicas": sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in all_rss),
              "availableReplicas": avail,
              "unavailableReplicas": max(0, total - avail)}
        old = d.get("status") or {}
        if old.get("collisionCount") is not None:
            st["collisionCount"] = old["collisionCount"]
        st["conditions"] = deep(old.get("conditions") or [])
        if avail >= replicas(d) - max_unavailable(d):
            _set(st, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", self.env.now)
        else:
            _set(st, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", self.env.now)
        return st

    def _set_cond(self, d: dict, ctype: str, status: str, reason: str, message: str) -> None:
        _set(d.setdefault("status", {}), ctype, status, reason, message, self.env.now)

    def _sync_rollout_status(self, all_rss: list[dict], new: dict | None, d: dict) -> Generator:
        st = self._calculate_status(all_rss, new, d)
        old = d.get("status") or {}
        deadline = d["spec"].get("progressDeadlineSeconds", 600)
        if deadline is not None and not d["spec"].get("paused"):
            cur = _cond(st, "Progressing")
            name = new["metadata"]["name"] if new else ""
            if new is not None and deployment_complete(d, st):
                _set(st, "Progressing", "True", "NewReplicaSetAvailable", f'ReplicaSet "{name}" has successfully progressed.', self.env.now)
            elif new is not None and _progressing(d, st, old):
                msg = f'ReplicaSet "{name}" is progressing.'
                if cur is not None and cur["status"] == "True":
                    cur.update({"reason": "ReplicaSetUpdated", "message": msg, "lastUpdateTime": clock.rfc3339(self.env.now)})
                else:
                    _set(st, "Progressing", "True", "ReplicaSetUpdated", msg, self.env.now)
            elif new is not None and cur is not None and cur.get("reason") != "NewReplicaSetAvailable" and \
                    (parse_time(cur.get("lastUpdateTime")) or 0) + deadline < self.env.now:
                _set(st, "Progressing", "False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}" has timed out progressing.', self.env.now)
            if not deployment_complete(d, st):
                # requeueStuckDeployment: look again when the deadline would pass.
                self.queue.add_after(key_of(d), deadline + 1)
        yield from self._write_status(d, st)

    def _sync_status(self, d: dict, all_rss: list[dict], new: dict | None) -> Generator:
        yield from self._write_status(d, self._calculate_status(all_rss, new, d))

    def _write_status(self, d: dict, st: dict) -> Generator:
        cached = self.inf["deployments"].get(key_of(d)) or d
        if _same_status(st, cached.get("status")) and _same_status(st, d.get("status")):
            return
        body = deep(d)
        body["status"] = st
        resp = yield self.client.update("deployments", body, namespace=d["metadata"]["namespace"], subresource="status")
        self._check(resp, "update deployment status")


def _same_status(a: dict | None, b: dict | None) -> bool:
    """reflect.DeepEqual of two typed DeploymentStatus values: the counters are `omitempty` int32s
    (apps/v1 types.go), so a counter absent from the JSON equals 0 (a status written by kubeadm's
    bootstrap, or any client, that leaves out unavailableReplicas is the same as one that says 0)."""
    def typed(st: dict | None) -> dict:
        return {k: v for k, v in (st or {}).items() if not (isinstance(v, int) and not isinstance(v, bool) and v == 0)}
    return typed(a) == typed(b)


def _progressing(d: dict, new: dict, old: dict) -> bool:
    """util.DeploymentProgressing."""
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old or \
        new.get("readyReplicas", 0) > old.get("readyReplicas", 0) or \
        new.get("availableReplicas", 0) > old.get("availableReplicas", 0)


def _set(status: dict, ctype: str, st: str, reason: str, message: str, now: float) -> None:
    """util.SetDeploymentCondition: keep lastTransitionTime when the status does not change; a condition
    with the same status and reason is left as it is."""
    conds = status.setdefault("conditions", [])
    ts = clock.rfc3339(now)
    cur = next((c for c in conds if c["type"] == ctype), None)
    if cur is not None and cur["status"] == st and cur.get("reason") == reason:
        return
    c = {"type": ctype, "status": st, "lastUpdateTime": ts, "lastTransitionTime": ts, "reason": reason, "message": message}
    if cur is not None and cur["status"] == st:
        c["lastTransitionTime"] = cur.get("lastTransitionTime", ts)
    status["conditions"] = [x for x in conds if x["type"] != ctype] + [c]


# ---- kubectl rollout undo ---------------------------------------------------------------------------
def rollback(client, deployment, to_revision: int = 0, namespace: str = "") -> Generator:
    """What `kubectl rollout undo deployment/<name> [--to-revision=N]` does, client-side
    (k8s.io/kubectl/pkg/polymorphichelpers/rollback.go DeploymentRollbacker.Rollback): find the
    ReplicaSet of the wanted revision (0: the previous one), copy its Pod template (without the
    pod-template-hash label) and its annotations (minus the skipped ones) into the Deployment with a JSON
    patch. A generator for env.process(); returns kubectl's message ("deployment.apps/<name> rolled back",
    or the "skipped rollback ..." / "unable to find ..." text)."""
    if isinstance(deployment, str):
        resp = yield client.get("deployments", deployment, namespace=namespace or "default")
        if not ok(resp):
            return f'Error from server (NotFound): deployments.apps "{deployment}" not found'
        deployment = resp.body
    d = deployment
    name, ns = d["metadata"]["name"], d["metadata"].get("namespace") or namespace or "default"
    if d["spec"].get("paused"):
        return f"you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
    resp = yield client.list("replicasets", namespace=ns)
    items = (resp.body or {}).get("items", []) if ok(resp) else []
    owned = [rs for rs in items if (controller_ref(rs) or {}).get("uid") == d["metadata"].get("uid")]
    # rollback.go deploymentRevision / previous revision: the highest revision below the current one.
    by_rev = sorted(owned, key=revision)
    target = None
    if to_revision == 0:
        if len(by_rev) < 2:
            return "no rollout history found for deployment " + f'"{name}"'
        cur_rev = revision(by_rev[-1])
        prev = [rs for rs in by_rev if revision(rs) < cur_rev]
        target = prev[-1] if prev else None
    else:
        target = next((rs for rs in by_rev if revision(rs) == to_revision), None)
    if target is None:
        return f"unable to find specified revision {to_revision} in history"
    if equal_ignore_hash(target["spec"]["template"], d["spec"]["template"]):
        return f"skipped rollback (current template already matches revision {revision(target)})"
    anns = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k in ANNOTATIONS_TO_SKIP}
    for k, v in (target["metadata"].get("annotations") or {}).items():
        if k not in ANNOTATIONS_TO_SKIP:
            anns[k] = v
    patch = [{"op": "replace", "path": "/spec/template", "value": template_without_hash(target["spec"]["template"])},
             {"op": "replace", "path": "/metadata/annotations", "value": anns}]
    resp = yield client.patch("deployments", name, patch, namespace=ns, patch_type="json")
    if not ok(resp):
        return f"error: {((resp.status or {}).get('message')) if resp is not None else 'no response'}"
    return f"deployment.apps/{name} rolled back"
