"""NodeAffinity (plugins/nodeaffinity/node_affinity.go): spec.nodeSelector and required node affinity
filter (UnschedulableAndUnresolvable "node(s) didn't match Pod's node affinity/selector"); preferred
terms score the sum of matching weights, normalised 0-100. PreScore returns Skip when the pod has no
preferred terms, so the plugin then takes no part in scoring."""
from ..framework import MAX_NODE_SCORE, Code, FilterPlugin, ScorePlugin, Status, default_normalize_score, success

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"


def _match_expr(expr: dict, labels: dict) -> bool:
    key, op, values = expr["key"], expr["operator"], expr.get("values", [])
    v = labels.get(key)
    if op == "In":
        return v is not None and v in values
    if op == "NotIn":
        return v is None or v not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            return v is not None and (int(v) > int(values[0]) if op == "Gt" else int(v) < int(values[0]))
        except ValueError:
            return False
    return False


def _term_matches(term: dict, labels: dict, name: str | None = None) -> bool:
    """A NodeSelectorTerm: its matchExpressions on the labels and matchFields (metadata.name only) ANDed;
    a term with neither matches nothing (nodeaffinity.nodeSelectorTerms.Match)."""
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    if fields and name is None:
        return False
    return (all(_match_expr(e, labels) for e in exprs)
            and all(f.get("key") == "metadata.name" and _match_expr({**f, "key": "n"}, {"n": name}) for f in fields))


def fits(pod: dict, node_info) -> bool:
    labels = node_info.node["metadata"].get("labels") or {}
    for k, v in (pod["spec"].get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    req = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
           .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = req.get("nodeSelectorTerms")
    if terms:
        return any(_term_matches(t, labels, node_info.name) for t in terms)
    return True


def required_node_affinity(pod: dict):
    """nodeaffinity.GetRequiredNodeAffinity(pod).Match as a predicate over a node's labels and name."""
    return lambda labels, name: fits(pod, _Node(labels, name))


class _Node:
    __slots__ = ("node", "name")

    def __init__(self, labels, name):
        self.node = {"metadata": {"labels": labels, "name": name}}
        self.name = name


def _preferred(pod: dict) -> list:
    return (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
            .get("preferredDuringSchedulingIgnoredDuringExecution") or [])


class NodeAffinity(FilterPlugin, ScorePlugin):
    NAME = NAME

    def pre_filter(self, state, pod) -> Status:
        # node_affinity.go PreFilter: with no nodeSelector and no required node affinity there is nothing to
        # filter, so it returns Skip and Filter never runs for this Pod.
        required = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                    .get("requiredDuringSchedulingIgnoredDuringExecution"))
        if not pod["spec"].get("nodeSelector") and required is None:
            return Status(Code.Skip, [], NAME)
        return success()

    def filter(self, state, pod, node_info) -> Status:
        return success() if fits(pod, node_info) else Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_POD], NAME)

    def pre_score(self, state, pod, nodes) -> Status:
        return success() if _preferred(pod) else Status(Code.Skip, [], NAME)

    def score(self, state, pod, node_info) -> int:
        labels = node_info.node["metadata"].get("labels") or {}
        return sum(p["weight"] for p in _preferred(pod) if _term_matches(p.get("preference", {}), labels))

    def normalize_score(self, state, pod, scores) -> None:
        default_normalize_score(MAX_NODE_SCORE, False, scores)
