"""Label and field selectors, as list and watch requests carry them.

Label selectors follow k8s.io/apimachinery/pkg/labels/selector.go (Parse): comma-separated requirements
`k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>n`, `k<n`. `k!=v` and `k notin (...)`
also match objects without the label.
Field selectors follow k8s.io/apimachinery/pkg/fields/selector.go (ParseSelector): `f=v`, `f==v`, `f!=v`,
and each resource supports only the fields its registry declares (the field label conversion funcs in
pkg/apis/<group>/v1/conversion.go and the registries' GetAttrs); any other field is a 400
"field label not supported: <f>".
"""
from __future__ import annotations

import re
from typing import Callable

_OPS = ("==", "!=", "=", ">", "<")


class SelectorError(ValueError):
    pass


def _split_top(s: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_SET_RE = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")


def parse_labels(selector: str) -> Callable[[dict], bool]:
    """Compile a label selector into a predicate over a labels dict."""
    reqs: list[Callable[[dict], bool]] = []
    for part in _split_top(selector or ""):
        m = _SET_RE.match(part)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                reqs.append(lambda l, k=key, vs=vals: k in l and l[k] in vs)
            else:
                reqs.append(lambda l, k=key, vs=vals: k not in l or l[k] not in vs)
            continue
        if part.startswith("!"):
            key = part[1:].strip()
            reqs.append(lambda l, k=key: k not in l)
            continue
        for op in _OPS:
            if op in part:
                key, val = (x.strip() for x in part.split(op, 1))
                if not key:
                    raise SelectorError(f"unable to parse requirement: found '{op}', expected: identifier")
                if op in ("=", "=="):
                    reqs.append(lambda l, k=key, v=val: l.get(k) == v)
                elif op == "!=":
                    reqs.append(lambda l, k=key, v=val: l.get(k) != v)
                else:
                    try:
                        n = int(val)
                    except ValueError:
                        raise SelectorError("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer") from None

                    def cmp(l, k=key, n=n, gt=(op == ">")):
                        try:
                            x = int(l[k])
                        except (KeyError, ValueError):
                            return False
                        return x > n if gt else x < n
                    reqs.append(cmp)
                break
        else:
            key = part
            reqs.append(lambda l, k=key: k in l)
    return lambda labels: all(r(labels) for r in reqs)


def label_match(selector: str) -> Callable[[dict], bool]:
    """A predicate over objects."""
    pred = parse_labels(selector)
    return lambda obj: pred(obj.get("metadata", {}).get("labels") or {})


def selector_from_label_selector(sel: dict | None) -> Callable[[dict], bool]:
    """metav1.LabelSelector (matchLabels + matchExpressions) as a predicate over a labels dict. An empty
    selector matches everything; None matches nothing (metav1.LabelSelectorAsSelector)."""
    if sel is None:
        return lambda labels: False
    ml = sel.get("matchLabels") or {}
    exprs = sel.get("matchExpressions") or []

    def pred(labels: dict) -> bool:
        if any(labels.get(k) != v for k, v in ml.items()):
            return False
        for e in exprs:
            k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
            if op == "In" and not (k in labels and labels[k] in vals):
                return False
            if op == "NotIn" and k in labels and labels[k] in vals:
                return False
            if op == "Exists" and k not in labels:
                return False
            if op == "DoesNotExist" and k in labels:
                return False
        return True
    return pred


def _s(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _meta(o, f):
    return _s(o.get("metadata", {}).get(f))


_COMMON = {"metadata.name": lambda o: _meta(o, "name"), "metadata.namespace": lambda o: _meta(o, "namespace")}
FIELDS: dict[str, dict[str, Callable[[dict], str]]] = {
    # pkg/registry/core/pod/strategy.go ToSelectableFields / pkg/apis/core/v1/conversion.go
    "pods": {**_COMMON,
             "spec.nodeName": lambda o: _s(o.get("spec", {}).get("nodeName")),
             "spec.restartPolicy": lambda o: _s(o.get("spec", {}).get("restartPolicy")),
             "spec.schedulerName": lambda o: _s(o.get("spec", {}).get("schedulerName")),
             "spec.serviceAccountName": lambda o: _s(o.get("spec", {}).get("serviceAccountName")),
             "spec.hostNetwork": lambda o: _s(bool(o.get("spec", {}).get("hostNetwork", False))),
             "status.phase": lambda o: _s(o.get("status", {}).get("phase")),
             "status.podIP": lambda o: _s(o.get("status", {}).get("podIP")),
             "status.nominatedNodeName": lambda o: _s(o.get("status", {}).get("nominatedNodeName"))},
    "nodes": {"metadata.name": lambda o: _meta(o, "name"),
              "spec.unschedulable": lambda o: _s(bool(o.get("spec", {}).get("unschedulable", False)))},
    "namespaces": {"metadata.name": lambda o: _meta(o, "name"),
                   "status.phase": lambda o: _s(o.get("status", {}).get("phase"))},
    "events": {**_COMMON,
               **{f"involvedObject.{k}": (lambda o, k=k: _s(o.get("involvedObject", {}).get(k)))
                  for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
               "reason": lambda o: _s(o.get("reason")), "reportingComponent": lambda o: _s(o.get("reportingComponent")),
               "source": lambda o: _s(o.get("source", {}).get("component")), "type": lambda o: _s(o.get("type"))},
    "secrets": {**_COMMON, "type": lambda o: _s(o.get("type"))},
    "replicasets": {**_COMMON, "status.replicas": lambda o: _s(o.get("status", {}).get("replicas", 0))},
    "replicationcontrollers": {**_COMMON, "status.replicas": lambda o: _s(o.get("status", {}).get("replicas", 0))},
    "services": {**_COMMON, "spec.clusterIP": lambda o: _s(o.get("spec", {}).get("clusterIP")),
                 "spec.type": lambda o: _s(o.get("spec", {}).get("type"))},
}


def field_match(resource: str, selector: str) -> Callable[[dict], bool]:
    fields = FIELDS.get(resource, _COMMON)
    reqs = []
    for part in _split_top(selector or ""):
        for op in ("!=", "==", "="):
            if op in part:
                f, v = (x.strip() for x in part.split(op, 1))
                break
        else:
            raise SelectorError(f"invalid selector: '{selector}'; can't understand '{part}'")
        get = fields.get(f)
        if get is None:
            raise SelectorError(f"field label not supported: {f}")
        reqs.append((get, v, op == "!="))
    return lambda obj: all((g(obj) != v) if neg else (g(obj) == v) for g, v, neg in reqs)


def single_value(selector: str, field: str) -> str | None:
    """The value a field selector pins a field to (`spec.nodeName=x` -> "x"), for index lookups."""
    for part in _split_top(selector or ""):
        if "!=" in part:
            continue
        op = "==" if "==" in part else "="
        if op in part:
            f, v = (x.strip() for x in part.split(op, 1))
            if f == field:
                return v
    return None
