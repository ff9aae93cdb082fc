"""The scheduling cycle as array operations (numpy), for clusters of thousands of nodes.

The per-node plugins (plugins/*) are the reference: they explain every decision node by node, and the
scheduler uses them for detailed (traced) pods, for failures (the FailedScheduling message needs every
node's status) and for whatever this module does not cover. For the common case - a pod without
inter-pod affinity, host ports, its own topology spread constraints or a nodeName, in a cluster where no
pod has inter-pod affinity and nothing is nominated - this module computes the same filter mask, the same
nextStartNodeIndex rotation and the same scores with numpy over node arrays that the scheduler cache keeps
up to date incrementally (assume, bind, delete). tests/sim/test_scheduler_vector.py checks that both
paths give the same feasible nodes, totals and choice.

Arrays are indexed by the node's position in node-tree order (the order the cycle walks the nodes in),
so the window of nodes a cycle examines - starting at nextStartNodeIndex - is a slice, not a gather.
"""
from __future__ import annotations

import math

import numpy as np

from .. import codec
from .framework import MAX_NODE_SCORE, NodeInfo, PodInfo, match_label_selector
from .plugins.image_locality import MAX_CONTAINER_THRESHOLD, MIN_THRESHOLD, normalized_image_name
from .plugins.pod_topology_spread import HOSTNAME, ZONE, constraints as spread_constraints
from .plugins.taint_toleration import tolerates

_UNSCHED_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def _taint_signature(node: dict) -> tuple:
    return tuple((t.get("key", ""), t.get("value", "") or "", t.get("effect", ""))
                 for t in (node.get("spec") or {}).get("taints") or [])


class NodeArrays:
    """Per-node columns in node-tree order, rebuilt when the node set changes and updated in place when
    a pod is added to or removed from a node."""

    def __init__(self):
        self.n = 0
        self.pos: dict[str, int] = {}
        self.infos: list[NodeInfo] = []
        self.value_ids: dict[str, dict[str, int]] = {}
        self.label_codes: dict[str, np.ndarray] = {}
        self.taint_sets: list[tuple] = []
        self._taint_ids: dict[tuple, int] = {}
        self._image_masks: dict[str, np.ndarray] = {}
        self.counters: dict[tuple, np.ndarray] = {}     # (namespace, selector key) -> matching pods per node
        self.zone_totals: dict[tuple, np.ndarray] = {}  # same key -> matching pods per zone value code
        self.classes: dict = {}                         # pod class -> what a cycle needs that depends only on it
        self._counter_selectors: dict[tuple, dict] = {}
        # (request cpu, request memory, non-zero cpu, non-zero memory) -> NodeResourcesFit (LeastAllocated)
        # plus NodeResourcesBalancedAllocation raw scores of a pod with those requests on every node. Both
        # depend only on the pod's requests and the node's, so pods of one template share them, and an
        # entry changes only when a pod lands on (or leaves) that node: updated there, not per cycle.
        self.resource_scores: dict[tuple, np.ndarray] = {}
        # (request cpu, request memory) -> NodeResourcesFit's Filter for a pod with those requests on every
        # node (room for one more pod, enough free cpu and memory): like resource_scores, kept per request
        # shape and updated only where a pod lands or leaves.
        self.fit_masks: dict[tuple, np.ndarray] = {}

    # ---- building -----------------------------------------------------------------------------------
    def rebuild(self, infos: list[NodeInfo], all_pods) -> None:
        n = self.n = len(infos)
        self.infos = infos
        self.pos = {ni.name: i for i, ni in enumerate(infos)}
        self.alloc_cpu = np.fromiter((ni.allocatable.milli_cpu for ni in infos), np.int64, n)
        self.alloc_mem = np.fromiter((ni.allocatable.memory for ni in infos), np.int64, n)
        self.alloc_pods = np.fromiter((ni.allocatable.allowed_pod_number for ni in infos), np.int64, n)
        self.req_cpu = np.fromiter((ni.requested.milli_cpu for ni in infos), np.int64, n)
        self.req_mem = np.fromiter((ni.requested.memory for ni in infos), np.int64, n)
        self.nz_cpu = np.fromiter((ni.non_zero_requested.milli_cpu for ni in infos), np.int64, n)
        self.nz_mem = np.fromiter((ni.non_zero_requested.memory for ni in infos), np.int64, n)
        self.npods = np.fromiter((len(ni.pods) for ni in infos), np.int64, n)
        self.free_pods = self.alloc_pods - self.npods
        self.free_cpu = self.alloc_cpu - self.req_cpu
        self.free_mem = self.alloc_mem - self.req_mem
        self.alloc_pos = bool((self.alloc_cpu > 0).all() and (self.alloc_mem > 0).all())
        self.classes = {}
        self.resource_scores = {}
        self.fit_masks = {}
        self.unsched = np.fromiter((bool((ni.node.get("spec") or {}).get("unschedulable")) for ni in infos), bool, n)
        self.taint_sets, self._taint_ids = [], {}
        self.taint_id = np.fromiter((self._taint_set_id(ni.node) for ni in infos), np.int32, n)
        self.value_ids, self.label_codes = {}, {}
        keys = sorted({k for ni in infos for k in ni.labels})
        for k in keys:
            ids = self.value_ids[k] = {}
            codes = np.full(n, -1, np.int32)
            for i, ni in enumerate(infos):
                v = ni.labels.get(k)
                if v is not None:
                    codes[i] = ids.setdefault(v, len(ids))
            self.label_codes[k] = codes
        self._image_masks = {}
        for key in list(self.counters):
            self._recount(key, all_pods)

    def _taint_set_id(self, node: dict) -> int:
        sig = _taint_signature(node)
        tid = self._taint_ids.get(sig)
        if tid is None:
            tid = self._taint_ids[sig] = len(self.taint_sets)
            self.taint_sets.append(sig)
        return tid

    def images_changed(self) -> None:
        self._image_masks = {}

    def image_mask(self, name: str) -> np.ndarray:
        m = self._image_masks.get(name)
        if m is None:
            m = self._image_masks[name] = np.fromiter((ni.image_states.get(name) is not None for ni in self.infos), bool, self.n)
        return m

    # ---- incremental updates --------------------------------------------------------------------------
    def add_pod(self, node: str, pi: PodInfo, sign: int = 1) -> None:
        i = self.pos.get(node)
        if i is None:
            return
        self.req_cpu[i] += sign * pi.req.milli_cpu
        self.req_mem[i] += sign * pi.req.memory
        self.free_cpu[i] -= sign * pi.req.milli_cpu
        self.free_mem[i] -= sign * pi.req.memory
        self.free_pods[i] -= sign
        self.nz_cpu[i] += sign * pi.nz.milli_cpu
        self.nz_mem[i] += sign * pi.nz.memory
        self.npods[i] += sign
        if self.resource_scores:
            for key, arr in self.resource_scores.items():
                arr[i] = self._resource_score(i, key)
        if self.fit_masks:
            room, fc, fm = self.free_pods[i] > 0, self.free_cpu[i], self.free_mem[i]
            for (cpu, mem), arr in self.fit_masks.items():
                arr[i] = room and (not cpu or fc >= cpu) and (not mem or fm >= mem)
        if self.counters and not pi.terminating:
            ns = pi.pod["metadata"].get("namespace", "")
            labels = pi.pod["metadata"].get("labels") or {}
            for key, arr in self.counters.items():
                if key[0] == ns and match_label_selector(self._counter_selectors[key], labels):
                    arr[i] += sign
                    z = self.label_codes.get(ZONE)
                    if z is not None and z[i] >= 0:
                        self.zone_totals[key][z[i]] += sign

    def _resource_score(self, i: int, key: tuple) -> int:
        """One node's entry of resource_scores: the scalar twin of resource_score_array (same integer and
        float64 operations in the same order, so the same value)."""
        rc, rm, zc, zm = key
        ac, am = int(self.alloc_cpu[i]), int(self.alloc_mem[i])
        fit = (max((ac - (int(self.nz_cpu[i]) + zc)) * MAX_NODE_SCORE // ac, 0)
               + max((am - (int(self.nz_mem[i]) + zm)) * MAX_NODE_SCORE // am, 0)) // 2
        f1 = min((int(self.req_cpu[i]) + rc) / ac, 1.0)
        f2 = min((int(self.req_mem[i]) + rm) / am, 1.0)
        return fit + int((1 - abs(f1 - f2) / 2) * MAX_NODE_SCORE)

    def resource_score_array(self, key: tuple) -> np.ndarray:
        """resource_scores[key], computed for every node on first use (requires alloc_pos)."""
        arr = self.resource_scores.get(key)
        if arr is None:
            if len(self.resource_scores) >= 16:   # many request shapes: keep the memory and upkeep bounded
                self.resource_scores.clear()
            rc, rm, zc, zm = key
            ac, am = self.alloc_cpu, self.alloc_mem
            fit = (np.maximum((ac - (self.nz_cpu + zc)) * MAX_NODE_SCORE // ac, 0)
                   + np.maximum((am - (self.nz_mem + zm)) * MAX_NODE_SCORE // am, 0)) // 2
            f1 = np.minimum((self.req_cpu + rc) / ac, 1.0)
            f2 = np.minimum((self.req_mem + rm) / am, 1.0)
            arr = self.resource_scores[key] = fit + ((1 - np.abs(f1 - f2) / 2) * MAX_NODE_SCORE).astype(np.int64)
        return arr

    def fit_mask(self, cpu: int, mem: int) -> np.ndarray:
        """fit_masks[(cpu, mem)], computed for every node on first use."""
        arr = self.fit_masks.get((cpu, mem))
        if arr is None:
            if len(self.fit_masks) >= 16:   # many request shapes: keep the memory and upkeep bounded
                self.fit_masks.clear()
            arr = self.free_pods > 0
            if cpu:
                arr &= self.free_cpu >= cpu
            if mem:
                arr &= self.free_mem >= mem
            self.fit_masks[(cpu, mem)] = arr
        return arr

    def counter(self, namespace: str, selector: dict, all_pods, key: tuple | None = None) -> np.ndarray:
        """Matching (non-terminating) pods per node for a spreading selector, kept up to date from now on.
        ``key``: (namespace, repr(selector)) when the caller has it already."""
        if key is None:
            key = (namespace, repr(selector))
        arr = self.counters.get(key)
        if arr is None:
            self._counter_selectors[key] = selector
            arr = self._recount(key, all_pods)
        return arr

    def _recount(self, key: tuple, all_pods) -> np.ndarray:
        sel = self._counter_selectors[key]
        arr = np.zeros(self.n, np.int64)
        for node, pi in all_pods():
            i = self.pos.get(node)
            if i is None or pi.terminating:
                continue
            meta = pi.pod["metadata"]
            if meta.get("namespace", "") == key[0] and match_label_selector(sel, meta.get("labels") or {}):
                arr[i] += 1
        self.counters[key] = arr
        z = self.label_codes.get(ZONE)
        nz = len(self.value_ids.get(ZONE, {}))
        self.zone_totals[key] = (np.bincount(z[z >= 0], weights=arr[z >= 0], minlength=nz).astype(np.int64)
                                 if z is not None else np.zeros(0, np.int64))
        return arr

    # ---- label predicates -------------------------------------------------------------------------------
    def _codes(self, key: str) -> np.ndarray:
        c = self.label_codes.get(key)
        return c if c is not None else np.full(self.n, -1, np.int32)

    def expr_mask(self, e: dict) -> np.ndarray | None:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        codes = self._codes(key)
        ids = self.value_ids.get(key, {})
        if op == "In":
            want = [ids[v] for v in values if v in ids]
            return np.isin(codes, want) if want else np.zeros(self.n, bool)
        if op == "NotIn":
            want = [ids[v] for v in values if v in ids]
            return ~np.isin(codes, want) if want else np.ones(self.n, bool)
        if op == "Exists":
            return codes >= 0
        if op == "DoesNotExist":
            return codes < 0
        return None  # Gt/Lt: not covered

    def required_affinity_mask(self, pod: dict) -> np.ndarray | None:
        """NodeAffinity's Filter (nodeSelector AND any required term) for every node; None: not covered."""
        m = np.ones(self.n, bool)
        for k, v in (pod["spec"].get("nodeSelector") or {}).items():
            ids = self.value_ids.get(k, {})
            m &= (self._codes(k) == ids[v]) if v in ids else False
        req = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
               .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
        terms = req.get("nodeSelectorTerms")
        if terms:
            any_m = np.zeros(self.n, bool)
            for t in terms:
                exprs = t.get("matchExpressions") or []
                if t.get("matchFields"):
                    return None
                if not exprs:
                    continue
                tm = np.ones(self.n, bool)
                for e in exprs:
                    em = self.expr_mask(e)
                    if em is None:
                        return None
                    tm &= em
                any_m |= tm
            m &= any_m
        return m



def covered(pi: PodInfo, sched) -> bool:
    """Whether the vector path computes exactly what the plugins would for this pod."""
    spec = pi.pod["spec"]
    if pi.has_affinity or pi.ports or spec.get("topologySpreadConstraints") or spec.get("nodeName"):
        return False
    if sched.cluster_pods_with_affinity or sched.nominated:
        return False
    return True


def _class_key(pod: dict) -> bytes:
    """The scheduling-relevant spec, serialized (orjson: several times faster than repr, and equal
    values in equal key order give equal bytes, which is all a cache key needs)."""
    spec, meta = pod["spec"], pod["metadata"]
    return codec.dumps_bytes((meta.get("namespace", ""), spec.get("tolerations"), spec.get("nodeSelector"),
                              spec.get("affinity"), meta.get("labels"), meta.get("ownerReferences"),
                              [c.get("image", "") for c in spec.get("containers") or []]))


class PodClass:
    """What a cycle needs that depends only on the pod's scheduling-relevant spec and the nodes (not on
    the pods placed so far): pods of one ReplicaSet share it."""

    def __init__(self, A: NodeArrays, sched, pod: dict):
        self.covered = True
        spec = pod["spec"]
        tols = spec.get("tolerations") or []
        n = A.n
        ok = None
        if A.unsched.any() and not any(tolerates(t, _UNSCHED_TAINT) for t in tols):
            ok = ~A.unsched
        if len(A.taint_sets) > 1 or (A.taint_sets and A.taint_sets[0]):
            set_ok = np.fromiter((not any(eff in ("NoSchedule", "NoExecute") and not any(
                tolerates(t, {"key": k, "value": v, "effect": eff}) for t in tols) for (k, v, eff) in sig)
                for sig in A.taint_sets), bool, len(A.taint_sets))
            m = set_ok[A.taint_id]
            ok = m if ok is None else ok & m
        self.aff_mask = None
        if spec.get("nodeSelector") or ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
                "requiredDuringSchedulingIgnoredDuringExecution") is not None:
            self.aff_mask = A.required_affinity_mask(pod)
            if self.aff_mask is None:
                self.covered = False
                return
            ok = self.aff_mask if ok is None else ok & self.aff_mask
        self.static_ok = ok
        # TaintToleration score: intolerable PreferNoSchedule taints per node (None: none anywhere).
        ptols = [t for t in tols if not t.get("effect") or t["effect"] == "PreferNoSchedule"]
        cnt_by_set = np.fromiter((sum(1 for (k, v, eff) in sig if eff == "PreferNoSchedule" and not any(
            tolerates(t, {"key": k, "value": v, "effect": eff}) for t in ptols)) for sig in A.taint_sets),
            np.int64, len(A.taint_sets))
        self.tt_raw = cnt_by_set[A.taint_id] if cnt_by_set.any() else None
        # NodeAffinity score: summed weights of the matching preferred terms (None: PreScore Skip).
        self.na_raw = None
        pref = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("preferredDuringSchedulingIgnoredDuringExecution") or [])
        if pref:
            raw = np.zeros(n, np.int64)
            for p in pref:
                t = p.get("preference") or {}
                exprs = t.get("matchExpressions") or []
                if t.get("matchFields"):
                    self.covered = False
                    return
                if not exprs:
                    continue
                tm = np.ones(n, bool)
                for e in exprs:
                    em = A.expr_mask(e)
                    if em is None:
                        self.covered = False
                        return
                    tm &= em
                raw += np.where(tm, int(p["weight"]), 0)
            self.na_raw = raw
        # PodTopologySpread: the system default constraints and their selector (None: PreScore Skip).
        cons, _ = spread_constraints(pod, "ScheduleAnyway", sched.listers)
        self.cons = cons or None
        self.counter_key = (pod["metadata"].get("namespace", ""), repr(cons[0].selector)) if cons else None
        self.selector = cons[0].selector if cons else None
        self.keys_present = {c.topology_key: bool((A._codes(c.topology_key) >= 0).all()) for c in cons}
        # ImageLocality: the images' scaled sizes (empty: every node scores 0).
        self.images = [normalized_image_name(c["image"]) for c in spec.get("containers") or []]
        self.num_containers = len(self.images)


def schedule(sched, pi: PodInfo, want: int) -> dict | None | bool:
    """One cycle for `pi` over sched.arrays: returns {'positions' (feasible nodes, in the order found),
    'total', 'selected', 'processed'}; None when no node is feasible (the caller then runs the plugins for
    the per-node statuses the failure message needs); False when this pod is not covered after all.
    Advances nothing: the caller moves nextStartNodeIndex by 'processed'."""
    A: NodeArrays = sched.arrays
    n = A.n
    if n == 0:
        return None
    pod = pi.pod
    key = _class_key(pod)
    pc = A.classes.get(key)
    if pc is None:
        pc = A.classes[key] = PodClass(A, sched, pod)
    if not pc.covered:
        return False
    # ---- Filter: the first `want` feasible nodes from nextStartNodeIndex on, wrapping around. Only a
    # window a little larger than `want` is examined first; the whole ring when that is not enough. ----
    start = sched.next_start_node_index % n
    r = pi.req
    fit, static = A.fit_mask(r.milli_cpu, r.memory), pc.static_ok

    def feasible(lo: int, hi: int) -> np.ndarray:
        ok = fit[lo:hi] if static is None else fit[lo:hi] & static[lo:hi]
        idx = ok.nonzero()[0]   # (flatnonzero of a 1-D array, without its ravel)
        return idx + lo if lo else idx

    chunk = min(n, want + (want >> 2) + 32)
    while True:
        end = start + chunk
        if end <= n:
            idx = feasible(start, end)
        else:
            idx = np.concatenate((feasible(start, n), feasible(0, end - n)))
        if idx.size >= want or chunk == n:
            break
        chunk = n
    if idx.size == 0:
        return None
    if idx.size >= want:
        F = idx[:want]
        processed = (int(F[-1]) - start) % n + 1
    else:
        F = idx
        processed = n
    if F.size == 1:
        return {"positions": F, "total": None, "selected": A.infos[int(F[0])].name, "processed": processed}
    # Every node of an unwrapped window feasible (the usual case): the columns are read through a view of
    # the window instead of gathered by position - the same values.
    win = slice(start, start + processed) if F.size == processed and start + processed <= n else F
    # ---- Score (weights: TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1, PodTopologySpread 2,
    # InterPodAffinity 2 - Skip here -, NodeResourcesBalancedAllocation 1, ImageLocality 1) ----
    const = 0
    if pc.tt_raw is None:
        const += 3 * MAX_NODE_SCORE
        total = None
    else:
        raw = pc.tt_raw[win]
        mx = int(raw.max())
        total = 3 * (MAX_NODE_SCORE if mx == 0 else MAX_NODE_SCORE - MAX_NODE_SCORE * raw // mx)
    if pc.na_raw is not None:
        raw = pc.na_raw[win]
        mx = int(raw.max())
        part = 2 * (raw if mx == 0 else MAX_NODE_SCORE * raw // mx)
        total = part if total is None else total + part
    # NodeResourcesFit, LeastAllocated over cpu and memory with non-zero requests; with every node's
    # allocatable positive, together with NodeResourcesBalancedAllocation from the per-request cache.
    if A.alloc_pos:
        fs = A.resource_score_array((r.milli_cpu, r.memory, pi.nz.milli_cpu, pi.nz.memory))[win]
        if total is None and type(win) is slice:
            fs = fs.copy()   # a view of the cache: `total +=` below must not write into it
    else:
        ac, am = A.alloc_cpu[win], A.alloc_mem[win]
        fs = np.zeros(F.size, np.int64)
        w = np.zeros(F.size, np.int64)
        for alloc, req in ((ac, A.nz_cpu[win] + pi.nz.milli_cpu), (am, A.nz_mem[win] + pi.nz.memory)):
            has = alloc > 0
            safe = np.where(has, alloc, 1)
            fs += np.where(has, np.where(req > alloc, 0, (alloc - req) * MAX_NODE_SCORE // safe), 0)
            w += has
        fs = np.where(w > 0, fs // np.maximum(w, 1), 0)
    total = fs if total is None else total + fs
    # PodTopologySpread with the system defaults.
    if pc.cons is not None:
        counter = A.counter(pc.counter_key[0], pc.selector, sched.all_assigned_pods, pc.counter_key)
        score = None
        for c in pc.cons:
            codes = A._codes(c.topology_key)
            if c.topology_key == HOSTNAME:
                size = F.size
                cnt = counter[win]
                fc = codes[win] if not pc.keys_present[c.topology_key] else None
            else:
                fc = codes[win]
                nvals = len(A.value_ids.get(c.topology_key, {}))
                if pc.keys_present[c.topology_key]:   # every code >= 0: the distinct values, counted
                    size = int(np.count_nonzero(np.bincount(fc, minlength=nvals)))
                else:   # -1 (no value) counted in a bucket of its own
                    size = int(np.count_nonzero(np.bincount(fc + 1, minlength=nvals + 1)))
                if c.topology_key == ZONE and pc.aff_mask is None:
                    zt = A.zone_totals[pc.counter_key]
                else:
                    sel = (codes >= 0) if pc.aff_mask is None else (pc.aff_mask & (codes >= 0))
                    zt = np.bincount(codes[sel], weights=counter[sel], minlength=nvals).astype(np.int64)
                if nvals and pc.keys_present[c.topology_key]:
                    # Every node has the key (fc >= 0): the term per value, then gathered - per element the
                    # same float operations on the same numbers as computing it node by node.
                    term = (zt * math.log(size + 2) + float(c.max_skew - 1))[fc]
                    if score is None:
                        score = term
                    else:
                        score += term   # (in place: every array here is a fresh one)
                    continue
                cnt = zt[np.maximum(fc, 0)] if nvals else np.zeros(F.size, np.int64)
            term = cnt * math.log(size + 2) + float(c.max_skew - 1)
            if fc is not None and not pc.keys_present[c.topology_key]:
                term = np.where(fc >= 0, term, 0.0)
            if score is None:
                score = term
            else:
                score += term
        raw = np.floor(score + 0.5).astype(np.int64)
        lo, hi = int(raw.min()), int(raw.max())
        if hi == 0:
            const += 2 * MAX_NODE_SCORE
        else:
            total += 2 * (MAX_NODE_SCORE * (hi + lo - raw) // hi)
    # NodeResourcesBalancedAllocation: actual requests (already in `fs` when alloc_pos).
    if not A.alloc_pos:
        fr = []
        for alloc, req in ((ac, A.req_cpu[win] + r.milli_cpu), (am, A.req_mem[win] + r.memory)):
            has = alloc > 0
            fr.append((has, np.minimum(req / np.where(has, alloc, 1), 1.0)))
        both = fr[0][0] & fr[1][0]
        std = np.where(both, np.abs(fr[0][1] - fr[1][1]) / 2, 0.0)
        total += ((1 - std) * MAX_NODE_SCORE).astype(np.int64)
    # ImageLocality
    s = None
    for name in pc.images:
        st = sched.image_summary(name)
        if st is not None:
            part = np.where(A.image_mask(name)[win], int(st.size * (st.num_nodes / n)), 0)
            s = part if s is None else s + part
    max_t = MAX_CONTAINER_THRESHOLD * pc.num_containers
    if s is not None and max_t > MIN_THRESHOLD:
        s = np.minimum(np.maximum(s, MIN_THRESHOLD), max_t)
        total += MAX_NODE_SCORE * (s - MIN_THRESHOLD) // (max_t - MIN_THRESHOLD)
    if const:
        total += const
    # ---- selectHost ----
    best = total.max()
    ties = (total == best).nonzero()[0]
    k = int(ties[sched.rng.randrange(ties.size)]) if ties.size > 1 else int(ties[0])
    return {"positions": F, "total": total, "selected": A.infos[int(F[k])].name, "processed": processed}


def names_and_totals(A: NodeArrays, res: dict) -> tuple[list[str], dict[str, int]]:
    """The feasible node names and their totals, for explanations and tests (not on the hot path)."""
    names = [A.infos[i].name for i in res["positions"].tolist()]
    if res["total"] is None:
        return names, {}
    return names, dict(zip(names, res["total"].tolist()))
