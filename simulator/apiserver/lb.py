"""The load balancer in front of several kube-apiserver instances (an HA control plane).

kind puts an HAProxy container (kindest/haproxy) in front of the control-plane nodes when there is more
than one; kubeadm's HA guide does the same with HAProxy or kube-vip. It balances TCP connections
round-robin over the backends that pass their health check (GET /healthz); a stopped instance fails it
and gets no new requests. So does an instance whose own etcd member is stopped: kubeadm's stacked control
plane points each kube-apiserver at the member on its node (--etcd-servers=https://127.0.0.1:2379), and its
`etcd` health check (k8s.io/apiserver/pkg/storage/storagebackend/factory/etcd3.go newETCD3Check, part of
/healthz and /readyz) fails when that member does not answer. Watches are long-lived connections: when their instance stops, the stream
breaks and the client (a reflector) re-establishes it through the load balancer on a healthy instance,
from the last resourceVersion it saw (or relists when that is too old).
"""
from __future__ import annotations

import random

from ..kernel import Environment, Future
from ..trace import Tracer, ref
from . import status as st
from .server import ApiServer, Request, Response, WatchExpired

COMPONENT = "load-balancer"


class LoadBalancer:
    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, apiservers: list[ApiServer],
                 instance: str = "load-balancer"):
        self.env = env
        self.rng = rng
        self.tracer = tracer
        self.apiservers = list(apiservers)
        self.instance = instance
        self.me = ref(COMPONENT, instance)
        self._next = 0
        for a in self.apiservers:
            a.on_lifecycle(lambda event, broken, a=a: self._on_lifecycle(a, event, broken))

    # ---- routing ------------------------------------------------------------------------------------
    @staticmethod
    def is_healthy(a: ApiServer) -> bool:
        """The backend's health check: the instance runs and so does the etcd member it talks to (when it
        is pinned to one and the etcd cluster reports its members' state)."""
        return a.running and (a.etcd_member is None or a.etcd.nodes[a.etcd_member].running)

    def healthy(self) -> list[ApiServer]:
        return [a for a in self.apiservers if self.is_healthy(a)]

    def pick(self) -> ApiServer | None:
        """Round-robin over the healthy backends."""
        n = len(self.apiservers)
        for i in range(n):
            a = self.apiservers[(self._next + i) % n]
            if self.is_healthy(a):
                self._next = (self._next + i + 1) % n
                return a
        return None

    def handle(self, req: Request) -> Future:
        backend = self.pick()
        if backend is None:
            fut = self.env.future()
            # No backend: the client's connection is refused (kubectl: "The connection to the server ... was refused").
            fut.resolve(Response(503, None, st.service_unavailable("no healthy apiserver behind the load balancer"), None))
            return fut
        if req.traced and not req.quiet:
            self.tracer.emit(COMPONENT, self.instance, "load-balancer.route", f"{req.method} {req.path} -> {backend.instance}",
                             {"backend": backend.instance, "healthy": len(self.healthy())}, to=backend.me)
        return backend.handle(req)

    # ---- the informer-facing API (reads go to a healthy instance's cache) ---------------------------
    @property
    def primary(self) -> ApiServer | None:
        h = self.healthy()
        return h[0] if h else None

    def get(self, key: str):
        p = self.primary
        return p.get(key) if p else None

    def list(self, prefix: str):
        p = self.primary
        return p.list(prefix) if p else []

    def list_shared(self, prefix: str):
        p = self.primary
        return p.list_shared(prefix) if p else []

    def keys(self, prefix: str):
        p = self.primary
        return p.keys(prefix) if p else []

    def watch(self, resource, who, on_event, selector=None, node_name=None, **kw):
        backend = self.pick()
        if backend is None:
            raise WatchExpired(st.service_unavailable("no healthy apiserver behind the load balancer"))
        return backend.watch(resource, who, on_event, selector, node_name, **kw)

    def _on_lifecycle(self, api: ApiServer, event: str, broken: list) -> None:
        if event != "stopped":
            return
        for w in broken:
            spec = dict(w.spec or {})
            target = self.pick()
            if target is None:
                return
            rv = str(w.last_rv) if w.last_rv else None
            try:
                nw = target.watch(spec.pop("resource"), spec.pop("who"), spec.pop("on_event"), spec.pop("selector"),
                                  spec.pop("node_name"), resource_version=rv, **spec)
            except WatchExpired:
                nw = target.watch(w.resource, w.who, w.on_event, w.selector, w.node_name, namespace=w.namespace,
                                  quiet=w.quiet, on_error=w.on_error)
                if w.on_error is not None:
                    w.on_error("expired")
            # The caller's handle keeps working: stopping it stops the re-established watch.
            w.moved_to = nw
