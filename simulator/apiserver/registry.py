"""Where objects live in etcd: Kubernetes' key layout (/registry/<resource>/<namespace>/<name>).

Most resources use their plural name; nodes are still stored under the historical name "minions", and
Services under "services/specs" (pkg/registry/core/*/storage; k8s.io/apiserver/pkg/registry/generic).
"""
from __future__ import annotations

_PREFIX = {
    "nodes": "minions",
    "services": "services/specs",
    "endpoints": "services/endpoints",
    "leases": "leases",
}
CLUSTER_SCOPED = {"nodes", "namespaces", "clusterroles", "clusterrolebindings", "priorityclasses", "persistentvolumes"}


def prefix(resource: str, namespace: str = "") -> str:
    base = "/registry/" + _PREFIX.get(resource, resource) + "/"
    return base + (namespace + "/" if namespace and resource not in CLUSTER_SCOPED else "")


def key(resource: str, namespace: str, name: str) -> str:
    return prefix(resource, namespace) + name


def resource_of(k: str) -> str:
    parts = k.split("/")
    if len(parts) < 3:
        return ""
    if parts[2] == "minions":
        return "nodes"
    if parts[2] == "services":
        return "services" if parts[3] == "specs" else "endpoints"
    return parts[2]


def objref(obj: dict) -> dict:
    m = obj.get("metadata", {})
    ref = {"kind": obj.get("kind", "")}
    if m.get("namespace"):
        ref["namespace"] = m["namespace"]
    ref["name"] = m.get("name", "")
    if m.get("uid"):
        ref["uid"] = m["uid"]
    return ref
