"""TaintToleration (plugins/tainttoleration/taint_toleration.go).

Filter: the first NoSchedule/NoExecute taint the pod does not tolerate makes the node
UnschedulableAndUnresolvable, with the reason "node(s) had untolerated taint {<key>: <value>}".
Score: count the PreferNoSchedule taints the pod does not tolerate; NormalizeScore reverses it
(fewer is better), so with none anywhere every node gets 100.
"""
from ..framework import (MAX_NODE_SCORE, Code, FilterPlugin, ScorePlugin, Status, default_normalize_score,
                         success)

NAME = "TaintToleration"


def tolerates(toleration: dict, taint: dict) -> bool:
    """v1.Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    return op == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated(pod: dict, node_info, effects=("NoSchedule", "NoExecute")) -> dict | None:
    tols = pod["spec"].get("tolerations", [])
    for taint in node_info.node.get("spec", {}).get("taints", []) or []:
        if taint.get("effect") in effects and not any(tolerates(t, taint) for t in tols):
            return taint
    return None


def fits(pod: dict, node_info) -> bool:
    return untolerated(pod, node_info) is None


class TaintToleration(FilterPlugin, ScorePlugin):
    NAME = NAME

    def filter(self, state, pod, node_info) -> Status:
        taint = untolerated(pod, node_info)
        if taint is None:
            return success()
        return Status(Code.UnschedulableAndUnresolvable,
                      [f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"], NAME)

    def score(self, state, pod, node_info) -> int:
        tols = [t for t in pod["spec"].get("tolerations", []) if not t.get("effect") or t["effect"] == "PreferNoSchedule"]
        return sum(1 for taint in node_info.node.get("spec", {}).get("taints", []) or []
                   if taint.get("effect") == "PreferNoSchedule" and not any(tolerates(t, taint) for t in tols))

    def normalize_score(self, state, pod, scores) -> None:
        default_normalize_score(MAX_NODE_SCORE, True, scores)
