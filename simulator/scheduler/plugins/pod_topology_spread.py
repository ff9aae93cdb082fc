"""PodTopologySpread (plugins/podtopologyspread/{plugin,common,filtering,scoring}.go, v1.31).

Constraints come from the pod's spec.topologySpreadConstraints; a pod without any gets the system
defaults (plugin.go systemDefaultConstraints: kubernetes.io/hostname maxSkew 3 and
topology.kubernetes.io/zone maxSkew 5, both ScheduleAnyway), with the selector
helper.DefaultSelector builds from the Services selecting the pod and its controller (ReplicaSet,
StatefulSet, ReplicationController) - and none at all when that selector is empty.

Filter (DoNotSchedule constraints only; PreFilter says Skip when there are none): a node lacking a
constraint's topology key is UnschedulableAndUnresolvable "node(s) didn't match pod topology spread
constraints (missing required label)"; otherwise the pod may go where
  matching pods in the node's domain + 1 (if the pod matches its own selector) - the global minimum <= maxSkew
(the minimum is 0 while fewer domains than minDomains exist), else Unschedulable "node(s) didn't match pod
topology spread constraints". Pods are counted on the nodes that pass the pod's nodeSelector/required node
affinity (nodeAffinityPolicy Honor; nodeTaintsPolicy Ignore), terminating pods excluded.

Score (ScheduleAnyway constraints): per constraint cnt * log(domains + 2) + (maxSkew - 1), hostname counted
on the node itself, other keys over their domain; rounded; NormalizeScore: 100 * (max + min - s) / max
(fewer matching pods is better), nodes lacking a required key get 0.
"""
from __future__ import annotations

import math

from ..framework import MAX_NODE_SCORE, Code, FilterPlugin, ScorePlugin, Status, match_label_selector, skip, success
from .node_affinity import fits as node_affinity_fits

NAME = "PodTopologySpread"
ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
SYSTEM_DEFAULT_CONSTRAINTS = ((HOSTNAME, 3), (ZONE, 5))


class Constraint:
    __slots__ = ("max_skew", "topology_key", "selector", "min_domains", "when")

    def __init__(self, max_skew, topology_key, selector, min_domains=1, when="DoNotSchedule"):
        self.max_skew, self.topology_key, self.selector = max_skew, topology_key, selector
        self.min_domains, self.when = min_domains, when


def default_selector(pod: dict, listers) -> dict:
    """helper.DefaultSelector, as a LabelSelector dict ({} when nothing selects the pod)."""
    labels = pod["metadata"].get("labels") or {}
    ns = pod["metadata"].get("namespace", "")
    match: dict = {}
    exprs: list = []
    if listers is None:
        return {}
    for svc in listers.services(ns):
        sel = (svc.get("spec") or {}).get("selector")
        if sel is not None and all(labels.get(k) == v for k, v in sel.items()):
            match.update(sel)
    owner = next((o for o in pod["metadata"].get("ownerReferences") or [] if o.get("controller")), None)
    if owner is not None:
        ctrl = listers.controller(ns, owner.get("kind", ""), owner.get("name", ""))
        if ctrl is not None:
            sel = (ctrl.get("spec") or {}).get("selector") or {}
            if owner.get("kind") == "ReplicationController":
                match.update(sel)
            else:
                for k, v in (sel.get("matchLabels") or {}).items():
                    exprs.append({"key": k, "operator": "In", "values": [v]})
                exprs.extend(sel.get("matchExpressions") or [])
    out = {}
    if match:
        out["matchLabels"] = match
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _pod_constraints(pod: dict, when: str) -> list[Constraint]:
    out = []
    labels = pod["metadata"].get("labels") or {}
    for c in pod["spec"].get("topologySpreadConstraints") or []:
        if (c.get("whenUnsatisfiable") or "DoNotSchedule") != when:
            continue
        sel = c.get("labelSelector")
        keys = c.get("matchLabelKeys") or []
        if keys and sel is not None:  # matchLabelKeys: AND the pod's own values for those keys
            sel = {**sel, "matchExpressions": list(sel.get("matchExpressions") or [])
                   + [{"key": k, "operator": "In", "values": [labels[k]]} for k in keys if k in labels]}
        out.append(Constraint(int(c.get("maxSkew", 1)), c.get("topologyKey", ""), sel, int(c.get("minDomains") or 1), when))
    return out


def constraints(pod: dict, when: str, listers) -> tuple[list[Constraint], bool]:
    """(constraints, require_all_topologies): the pod's own, or the system defaults (ScheduleAnyway only)."""
    if pod["spec"].get("topologySpreadConstraints"):
        return _pod_constraints(pod, when), True
    if when != "ScheduleAnyway":
        return [], False
    sel = default_selector(pod, listers)
    if not sel:
        return [], False
    return [Constraint(skew, key, sel, 1, "ScheduleAnyway") for key, skew in SYSTEM_DEFAULT_CONSTRAINTS], False


def count_matching(node_info, selector, namespace: str) -> int:
    """countPodsMatchSelector: pods of the namespace, not terminating, matching the selector."""
    if selector is None:
        return 0
    n = 0
    for pi in node_info.pods.values():
        if pi.terminating:
            continue
        meta = pi.pod["metadata"]
        if meta.get("namespace", "") == namespace and match_label_selector(selector, meta.get("labels") or {}):
            n += 1
    return n


def topology_normalizing_weight(size: int) -> float:
    return math.log(size + 2)


def round_half_away(x: float) -> int:
    """Go's math.Round for the non-negative scores here."""
    return int(math.floor(x + 0.5))


class PodTopologySpread(FilterPlugin, ScorePlugin):
    NAME = NAME

    # ---- filtering --------------------------------------------------------------------------------
    def pre_filter(self, state, pod) -> Status:
        cons, _ = constraints(pod, "DoNotSchedule", state.get("listers"))
        if not cons:
            return skip()
        ns = pod["metadata"].get("namespace", "")
        counts: dict = {}        # (key, value) -> matching pods
        domains: dict = {}       # key -> set of values
        for ni in state.get("all_nodes") or []:
            labels = ni.labels
            if not node_affinity_fits(pod, ni):
                continue
            if not all(c.topology_key in labels for c in cons):
                continue
            for c in cons:
                pair = (c.topology_key, labels[c.topology_key])
                counts[pair] = counts.get(pair, 0) + count_matching(ni, c.selector, ns)
                domains.setdefault(c.topology_key, set()).add(pair[1])
        mins = {}
        for c in cons:
            vals = [counts[(c.topology_key, v)] for v in domains.get(c.topology_key, ())]
            mins[c.topology_key] = min(vals) if vals else 0
        state["PreFilterPodTopologySpread"] = (cons, counts, domains, mins)
        return success()

    def filter(self, state, pod, node_info) -> Status:
        s = state.get("PreFilterPodTopologySpread")
        if s is None:
            return success()
        cons, counts, domains, mins = s
        labels = node_info.labels
        plabels = pod["metadata"].get("labels") or {}
        for c in cons:
            if c.topology_key not in labels:
                return Status(Code.UnschedulableAndUnresolvable, [ERR_MISSING_LABEL], NAME)
            self_match = 1 if match_label_selector(c.selector, plabels) else 0
            min_match = mins.get(c.topology_key, 0)
            if len(domains.get(c.topology_key, ())) < c.min_domains:
                min_match = 0
            match = counts.get((c.topology_key, labels[c.topology_key]), 0)
            if match + self_match - min_match > c.max_skew:
                return Status(Code.Unschedulable, [ERR_CONSTRAINTS], NAME)
        return success()

    # ---- scoring ----------------------------------------------------------------------------------
    def pre_score(self, state, pod, nodes) -> Status:
        all_nodes = state.get("all_nodes") or nodes
        if not nodes or not all_nodes:
            return skip()
        cons, require_all = constraints(pod, "ScheduleAnyway", state.get("listers"))
        if not cons:
            return skip()
        ns = pod["metadata"].get("namespace", "")
        ignored = set()
        pair_counts: dict = {}
        topo_size = [0] * len(cons)
        for ni in nodes:
            labels = ni.labels
            if require_all and not all(c.topology_key in labels for c in cons):
                ignored.add(ni.name)
                continue
            for i, c in enumerate(cons):
                if c.topology_key == HOSTNAME:
                    continue
                pair = (c.topology_key, labels.get(c.topology_key, ""))
                if pair not in pair_counts:
                    pair_counts[pair] = 0
                    topo_size[i] += 1
        weights = []
        for i, c in enumerate(cons):
            sz = len(nodes) - len(ignored) if c.topology_key == HOSTNAME else topo_size[i]
            weights.append(topology_normalizing_weight(sz))
        if any(c.topology_key != HOSTNAME for c in cons):
            for ni in all_nodes:
                labels = ni.labels
                if not node_affinity_fits(pod, ni):
                    continue
                if require_all and not all(c.topology_key in labels for c in cons):
                    continue
                for c in cons:
                    if c.topology_key == HOSTNAME:
                        continue
                    pair = (c.topology_key, labels.get(c.topology_key, ""))
                    if pair in pair_counts:
                        pair_counts[pair] += count_matching(ni, c.selector, ns)
        state["PreScorePodTopologySpread"] = (cons, ignored, pair_counts, weights)
        return success()

    def score(self, state, pod, node_info) -> int:
        cons, ignored, pair_counts, weights = state["PreScorePodTopologySpread"]
        if node_info.name in ignored:
            return 0
        labels = node_info.labels
        ns = pod["metadata"].get("namespace", "")
        score = 0.0
        for i, c in enumerate(cons):
            if c.topology_key in labels:
                if c.topology_key == HOSTNAME:
                    cnt = count_matching(node_info, c.selector, ns)
                else:
                    cnt = pair_counts[(c.topology_key, labels[c.topology_key])]
                score += float(cnt) * weights[i] + float(c.max_skew - 1)
        return round_half_away(score)

    def normalize_score(self, state, pod, scores) -> None:
        s = state.get("PreScorePodTopologySpread")
        if s is None:
            return
        ignored = s[1]
        valid = [v for k, v in scores.items() if k not in ignored]
        lo = min(valid) if valid else 0
        hi = max(valid) if valid else 0
        for k, v in scores.items():
            if k in ignored:
                scores[k] = 0
            elif hi == 0:
                scores[k] = MAX_NODE_SCORE
            else:
                scores[k] = MAX_NODE_SCORE * (hi + lo - v) // hi
