"""InterPodAffinity (plugins/interpodaffinity/{plugin,filtering,scoring}.go, v1.31).

PreFilter counts, per topology pair (topologyKey, the node's value for it):
- existingAntiAffinityCounts: existing pods whose *required* anti-affinity terms match the incoming pod;
- affinityCounts: existing pods matching *all* the incoming pod's required affinity terms;
- antiAffinityCounts: existing pods matching each of the incoming pod's required anti-affinity terms.
It returns Skip when the pod has no required terms and no existing pod has required anti-affinity.
Filter, in this order:
- "node(s) didn't match pod affinity rules" (UnschedulableAndUnresolvable): the node lacks a term's
  topology key, or no matching pod is in its domain - unless no pod anywhere matches and the pod matches
  its own terms (the first pod of a group with affinity to itself);
- "node(s) didn't match pod anti-affinity rules" (Unschedulable);
- "node(s) didn't satisfy existing pods anti-affinity rules" (Unschedulable).
Score: for every existing pod, its node's domain gains (weights): the incoming pod's preferred affinity
terms it matches (+w) and anti-affinity terms (-w); the existing pod's required affinity terms the incoming
pod matches (+hardPodAffinityWeight, 1) and its preferred affinity (+w) / anti-affinity (-w) terms.
A node scores the sum over the domains it is in; NormalizeScore maps [min, max] to [0, 100].
PreScore returns Skip when no domain got a score.
"""
from ..framework import (MAX_NODE_SCORE, Code, FilterPlugin, PodInfo, ScorePlugin, Status, skip, success)

NAME = "InterPodAffinity"
ERR_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1  # InterPodAffinityArgs.hardPodAffinityWeight default


def _pod_info(state, pod) -> PodInfo:
    pi = state.get("pod_info")
    if pi is None or pi.pod is not pod:
        pi = state["pod_info"] = PodInfo(pod)
    return pi


def _ns_labels(state, ns: str) -> dict:
    fn = state.get("ns_labels")
    return fn(ns) if fn else {}


def _add(m: dict, labels: dict, key: str, v: int) -> None:
    if key in labels:
        pair = (key, labels[key])
        n = m.get(pair, 0) + v
        if n:
            m[pair] = n
        else:
            m.pop(pair, None)


def pre_filter_state(state, pod, all_nodes) -> dict:
    pi = _pod_info(state, pod)
    ns_labels = _ns_labels(state, pod["metadata"].get("namespace", ""))
    existing, aff, anti = {}, {}, {}
    for ni in all_nodes:
        labels = ni.labels
        if ni.pods_with_required_anti_affinity:
            for epi in ni.pods.values():
                for t in epi.required_anti_affinity:
                    if t.matches(pod, ns_labels):
                        _add(existing, labels, t.topology_key, 1)
        if pi.required_affinity or pi.required_anti_affinity:
            for epi in ni.pods.values():
                epod = epi.pod
                ens = _ns_labels(state, epod["metadata"].get("namespace", "")) if (
                    any(t.ns_selector for t in pi.required_affinity + pi.required_anti_affinity)) else None
                if pi.required_affinity and all(t.matches(epod, ens) for t in pi.required_affinity):
                    for t in pi.required_affinity:
                        _add(aff, labels, t.topology_key, 1)
                for t in pi.required_anti_affinity:
                    if t.matches(epod, ens):
                        _add(anti, labels, t.topology_key, 1)
    return {"existing": existing, "affinity": aff, "anti": anti, "pi": pi}


class InterPodAffinity(FilterPlugin, ScorePlugin):
    NAME = NAME

    # ---- filtering --------------------------------------------------------------------------------
    def pre_filter(self, state, pod) -> Status:
        all_nodes = state.get("all_nodes") or []
        pi = _pod_info(state, pod)
        if not pi.required_affinity and not pi.required_anti_affinity and not any(
                ni.pods_with_required_anti_affinity for ni in all_nodes):
            return skip()
        state["PreFilterInterPodAffinity"] = pre_filter_state(state, pod, all_nodes)
        return success()

    def filter(self, state, pod, node_info) -> Status:
        s = state.get("PreFilterInterPodAffinity")
        if s is None:
            s = state["PreFilterInterPodAffinity"] = pre_filter_state(state, pod, state.get("all_nodes") or [node_info])
        labels = node_info.labels
        pi = s["pi"]
        # satisfyPodAffinity
        if pi.required_affinity:
            exist = True
            for t in pi.required_affinity:
                if t.topology_key not in labels:
                    return Status(Code.UnschedulableAndUnresolvable, [ERR_AFFINITY], NAME)
                if s["affinity"].get((t.topology_key, labels[t.topology_key]), 0) <= 0:
                    exist = False
            if not exist:
                ns_labels = _ns_labels(state, pod["metadata"].get("namespace", ""))
                if not (not s["affinity"] and all(t.matches(pod, ns_labels) for t in pi.required_affinity)):
                    return Status(Code.UnschedulableAndUnresolvable, [ERR_AFFINITY], NAME)
        # satisfyPodAntiAffinity
        if s["anti"]:
            for t in pi.required_anti_affinity:
                if t.topology_key in labels and s["anti"].get((t.topology_key, labels[t.topology_key]), 0) > 0:
                    return Status(Code.Unschedulable, [ERR_ANTI_AFFINITY], NAME)
        # satisfyExistingPodsAntiAffinity
        if s["existing"]:
            for kv in labels.items():
                if s["existing"].get(kv, 0) > 0:
                    return Status(Code.Unschedulable, [ERR_EXISTING_ANTI_AFFINITY], NAME)
        return success()

    # ---- scoring ----------------------------------------------------------------------------------
    def pre_score(self, state, pod, nodes) -> Status:
        pi = _pod_info(state, pod)
        has_constraints = bool(pi.preferred_affinity or pi.preferred_anti_affinity)
        all_nodes = state.get("all_nodes") or nodes
        ns_labels = _ns_labels(state, pod["metadata"].get("namespace", ""))
        topo: dict[str, dict[str, int]] = {}

        def term(t, weight: int, target: dict, tlabels, labels: dict, mult: int) -> None:
            if t.matches(target, tlabels) and t.topology_key in labels:
                d = topo.setdefault(t.topology_key, {})
                v = labels[t.topology_key]
                d[v] = d.get(v, 0) + weight * mult

        for ni in all_nodes:
            if not has_constraints and not ni.pods_with_affinity:
                continue  # HavePodsWithAffinityList
            labels = ni.labels
            if not labels:
                continue
            for epi in ni.pods.values():
                if not has_constraints and not epi.has_affinity:
                    continue
                epod = epi.pod
                ens = _ns_labels(state, epod["metadata"].get("namespace", ""))
                for t in pi.preferred_affinity:
                    term(t, t.weight, epod, ens, labels, 1)
                for t in pi.preferred_anti_affinity:
                    term(t, t.weight, epod, ens, labels, -1)
                for t in epi.required_affinity:
                    term(t, HARD_POD_AFFINITY_WEIGHT, pod, ns_labels, labels, 1)
                for t in epi.preferred_affinity:
                    term(t, t.weight, pod, ns_labels, labels, 1)
                for t in epi.preferred_anti_affinity:
                    term(t, t.weight, pod, ns_labels, labels, -1)
        topo = {k: v for k, v in topo.items() if v}
        if not topo:
            return skip()
        state["PreScoreInterPodAffinity"] = topo
        return success()

    def score(self, state, pod, node_info) -> int:
        topo = state.get("PreScoreInterPodAffinity") or {}
        labels = node_info.labels
        return sum(vals.get(labels[k], 0) for k, vals in topo.items() if k in labels)

    def normalize_score(self, state, pod, scores) -> None:
        if not state.get("PreScoreInterPodAffinity") or not scores:
            return
        lo, hi = min(scores.values()), max(scores.values())
        diff = hi - lo
        for k, s in scores.items():
            scores[k] = int(float(MAX_NODE_SCORE) * ((s - lo) / diff)) if diff > 0 else 0
