"""What the scenarios share: kubectl as the lesson types it (traced requests, announced with the command
line), the step policy of a scenario whose script opens its steps as it acts, and waiting in virtual time
until the cluster reaches a state."""
from __future__ import annotations

import json
from typing import Callable, Iterator

from ..apiserver import Request, registry
from ..apiserver.lb import LoadBalancer
from ..client import Client
from ..cluster import ADMIN, Cluster
from ..kernel import Future
from ..trace import ref

KUBECTL = ref("kubectl", "kubectl")


class Kubectl(Client):
    """kubectl as the lesson types it: by default kubernetes-admin's requests, through the load balancer when
    there is one, each announced by a kubectl.request event that names the command line. Another terminal
    (curl with or without a token, kubectl with another user's context) passes its `credential` and the
    `user` it claims ("" when it claims nobody)."""

    def __init__(self, cluster: Cluster, command: str, credential=ADMIN, user: str = "kubernetes-admin"):
        super().__init__(cluster.lb, credential, KUBECTL, traced=True)
        self.tracer = cluster.tracer
        self.command = command
        self.user = user

    def send(self, req: Request) -> Future:
        lb = self.api
        to = ref("load-balancer" if isinstance(lb, LoadBalancer) else "apiserver", lb.instance)
        obj = {"kind": registry.RESOURCES[req.resource].kind, "namespace": req.namespace, "name": req.name}
        if not req.namespace:
            del obj["namespace"]
        self.tracer.emit("kubectl", "kubectl", "kubectl.request", f"{self.command}: {req.method} {req.path}",
                         {"method": req.method, "path": req.path, "user": self.user, "verb": req.verb,
                          "resource": req.resource, "body": req.body}, to=to, obj=obj)
        return super().send(req)


def kubectl(cluster: Cluster, command: str) -> Kubectl:
    """`kubectl(cluster, "kubectl delete pod web-x").delete("pods", "web-x", namespace="default")`."""
    return Kubectl(cluster, command)


class ScriptSteps:
    """The step policy of a scripted scenario: the script opens a step as it acts (`open`), and `reactions`
    - (phase, event type, data) -> step or None - open the steps that components' answers begin, knowing
    which act they answer (`phase`, the step the script opened last)."""

    def __init__(self, reactions: Callable[[int, str, dict], int | None] = lambda phase, type, data: None):
        self.phase = 0
        self.reactions = reactions

    def __call__(self, type: str, data: dict, to: dict | None) -> int | None:
        return self.reactions(self.phase, type, data)

    def open(self, tracer, step: int) -> None:
        self.phase = step
        tracer.open_step(step)


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
