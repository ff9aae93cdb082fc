"""kube-controller-manager, as far as a new Pod is concerned.

Its shared informers receive every Pod change. Several controllers register Pod event handlers, but each
only acts on Pods that concern it: the workload controllers (ReplicaSet, ReplicationController,
StatefulSet, DaemonSet, Job) on Pods they own (ownerReferences with controller=true) - or, for an
orphan, only when one of them selects its labels and could adopt it; the endpoints/EndpointSlice
controllers on Pods a Service selects; the disruption controller on Pods a PodDisruptionBudget selects.
A bare Pod from `kubectl run` matches none of these, so nothing happens here. Choosing its node is the
scheduler's job, not a controller's.
"""
from __future__ import annotations

import random

from .apiserver import ApiServer
from .apiserver.registry import objref
from .kernel import Environment
from .component import Component
from .trace import Tracer

COMPONENT = "controller-manager"

# Controllers whose informers have Pod event handlers (pkg/controller/*: replicaset, replication,
# statefulset, daemon, job, endpoint, endpointslice, disruption, garbagecollector).
POD_CONTROLLERS = ["replicaset", "replicationcontroller", "statefulset", "daemonset", "job", "endpoints",
                   "endpointslice", "disruption", "garbagecollector"]

_WORKLOADS = {"replicasets": "replicaset", "replicationcontrollers": "replicationcontroller",
              "statefulsets": "statefulset", "daemonsets": "daemonset", "jobs": "job"}


def _selects(selector: dict | None, labels: dict) -> bool:
    if not selector:
        return False
    match = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


class ControllerManager(Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, apiserver: ApiServer,
                 instance: str = "controller-manager-1", node: str = "control-plane"):
        super().__init__(env, rng, tracer, instance, node)
        self.api = apiserver

    def start(self) -> None:
        self.api.watch("pods", self.me, self._on_pod)

    def interested(self, pod: dict) -> tuple[str, str, list[str]]:
        """(action, reason, controllers that will act)."""
        meta = pod["metadata"]
        labels = meta.get("labels", {})
        owner = next((o for o in meta.get("ownerReferences", []) if o.get("controller")), None)
        if owner:
            return "enqueue", f'owned by {owner["kind"]} "{owner["name"]}": its controller syncs it', [owner["kind"].lower()]
        acting = []
        ns = meta["namespace"]
        for res, ctrl in _WORKLOADS.items():
            if any(_selects(o.get("spec", {}).get("selector"), labels) for o in self.api.list(f"/registry/{res}/{ns}/")):
                acting.append(ctrl)
        if any(_selects(s.get("spec", {}).get("selector") and {"matchLabels": s["spec"]["selector"]}, labels)
               for s in self.api.list(f"/registry/services/specs/{ns}/")):
            acting += ["endpoints", "endpointslice"]
        if any(_selects(p.get("spec", {}).get("selector"), labels) for p in self.api.list(f"/registry/poddisruptionbudgets/{ns}/")):
            acting.append("disruption")
        if acting:
            return "enqueue", "selected by " + ", ".join(acting), acting
        return "none", ("bare Pod: no ownerReferences, no ReplicaSet/StatefulSet/DaemonSet/Job selects it for adoption, "
                        "no Service or PodDisruptionBudget selects it - no controller acts; assigning a node is the "
                        "scheduler's job"), []

    def _on_pod(self, kind: str, pod: dict) -> None:
        if kind != "ADDED":
            return  # updates of a bare Pod concern no controller either; not narrated

        def handle() -> None:
            action, reason, _acting = self.interested(pod)
            self.tracer.emit(COMPONENT, self.instance, "controller-manager.informer",
                             f"informer: Pod {kind} {pod['metadata']['namespace']}/{pod['metadata']['name']} - action {action}",
                             {"resource": "pods", "event": kind, "controllers": list(POD_CONTROLLERS),
                              "action": action, "reason": reason}, obj=objref(pod))

        self.env.schedule(self.rng.uniform(0.002, 0.008), handle)
