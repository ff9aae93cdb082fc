"""events.k8s.io/v1 Events: the same objects as core v1 Events (kube-apiserver stores both as one resource,
registry.py's note on cohabiting resources), seen through the conversion in pkg/apis/events/v1/conversion.go:
involvedObject is `regarding`, message is `note`, reportingComponent is `reportingController`, and source,
firstTimestamp, lastTimestamp and count carry a `deprecated` prefix."""
from __future__ import annotations

GROUP, VERSION = "events.k8s.io", "v1"
API_VERSION = f"{GROUP}/{VERSION}"

# core v1 field -> events.k8s.io/v1 field (the rest keep their names: metadata, eventTime, series, action,
# reason, related, type, reportingInstance).
_RENAMED = {"involvedObject": "regarding", "message": "note", "reportingComponent": "reportingController",
            "source": "deprecatedSource", "firstTimestamp": "deprecatedFirstTimestamp",
            "lastTimestamp": "deprecatedLastTimestamp", "count": "deprecatedCount"}
_BACK = {v: k for k, v in _RENAMED.items()}


def to_v1(core: dict) -> dict:
    out = {"kind": "Event", "apiVersion": API_VERSION}
    for k, v in core.items():
        if k in ("kind", "apiVersion"):
            continue
        if k == "source" and not v:
            continue  # an empty EventSource is omitted (deprecatedSource,omitempty)
        out[_RENAMED.get(k, k)] = v
    return out


def to_core(v1: dict) -> dict:
    if not isinstance(v1, dict):
        return v1
    out = {"kind": "Event", "apiVersion": "v1"}
    for k, v in v1.items():
        if k in ("kind", "apiVersion"):
            continue
        out[_BACK.get(k, k)] = v
    return out


def patch_to_core(ops):
    """A JSON patch (RFC 6902) written against events.k8s.io/v1 fields, its paths' first segment renamed."""
    if not isinstance(ops, list):
        return ops
    out = []
    for op in ops:
        if isinstance(op, dict):
            op = dict(op)
            for k in ("path", "from"):
                if isinstance(op.get(k), str):
                    head, sep, rest = op[k][1:].partition("/")
                    op[k] = "/" + _BACK.get(head, head) + sep + rest
        out.append(op)
    return out


def convert_response(body: dict | None) -> dict | None:
    """A core Event or EventList as events.k8s.io/v1 (Status objects pass unchanged)."""
    if not isinstance(body, dict):
        return body
    if body.get("kind") == "EventList":
        return {**body, "apiVersion": API_VERSION, "items": [to_v1(i) for i in body.get("items") or []]}
    if body.get("kind") == "Event":
        return to_v1(body)
    return body
