"""What the scenarios share: kubectl as the lesson types it (one traced request, announced with its command
line), and waiting in virtual time until the cluster reaches a state."""
from __future__ import annotations

import json
from typing import Callable, Iterator

from ..apiserver import registry
from ..apiserver.lb import LoadBalancer
from ..client import Client
from ..cluster import ADMIN, Cluster
from ..kernel import Future
from ..trace import ref

KUBECTL = ref("kubectl", "kubectl")


def kubectl(cluster: Cluster, command: str, verb: str, resource: str, *, name: str = "", namespace: str = "default",
            body: dict | None = None, subresource: str = "", patch_type: str = "merge") -> Future:
    """Send what `command` sends (verb on resource[/subresource]) as kubernetes-admin, through the load
    balancer when there is one; a kubectl.request event names the command first."""
    info = registry.RESOURCES[resource]
    ns = namespace if info.namespaced else ""
    path = registry.path(resource, ns, "" if verb == "create" else name, subresource)
    method = {"create": "POST", "delete": "DELETE", "patch": "PATCH", "get": "GET", "update": "PUT"}[verb]
    lb = cluster.lb
    to = ref("load-balancer" if isinstance(lb, LoadBalancer) else "apiserver", lb.instance)
    obj = {"kind": info.kind, "namespace": ns, "name": name or (body or {}).get("metadata", {}).get("name", "")}
    if not ns:
        del obj["namespace"]
    cluster.tracer.emit("kubectl", "kubectl", "kubectl.request", f"{command}: {method} {path}",
                        {"method": method, "path": path, "user": "kubernetes-admin", "verb": verb, "resource": resource,
                         "body": body}, to=to, obj=obj)
    client = Client(lb, ADMIN, KUBECTL, traced=True)
    if verb == "create":
        return client.create(resource, body, namespace=ns)
    if verb == "delete":
        return client.delete(resource, name, namespace=ns)
    if verb == "patch":
        return client.patch(resource, name, body, namespace=ns, subresource=subresource, patch_type=patch_type)
    if verb == "update":
        return client.update(resource, body, namespace=ns, subresource=subresource)
    return client.get(resource, name, namespace=ns, subresource=subresource)


def objects(cluster: Cluster, prefix: str) -> list[dict]:
    """The objects stored under an etcd key prefix (what the API server would list), in key order."""
    return [json.loads(kv.value) for kv in cluster.etcd.store.range(prefix, prefix=True)]


def running_pods(cluster: Cluster, namespace: str, name_prefix: str) -> list[dict]:
    """Pods named `name_prefix`... that are Running, Ready and not being deleted."""
    out = []
    for p in objects(cluster, f"/registry/pods/{namespace}/{name_prefix}"):
        st = p.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
        if st.get("phase") == "Running" and ready and not p["metadata"].get("deletionTimestamp"):
            out.append(p)
    return out


def until(cluster: Cluster, done: Callable[[], bool], every: float = 0.1, limit: float = 600.0) -> Iterator:
    """A process step (`yield from until(...)`): wait, in virtual time, until done() holds."""
    end = cluster.env.now + limit
    while not done():
        if cluster.env.now >= end:
            raise TimeoutError(f"the cluster did not reach the scenario's expected state within {limit:.0f} s")
        yield every
