"""kube-controller-manager: one process hosting many controllers (cmd/kube-controller-manager/app,
v1.31), behind a leader-elected Lease (kube-system/kube-controller-manager).

In HA several instances run; each is a candidate (simulator/leaderelection.py). Only the leader starts
its shared informers and controllers (OnStartedLeading -> run); the standbys do nothing but retry the
Lease every 2 s. The controllers are in simulator/controllers: replicaset, deployment, garbagecollector,
nodelifecycle, taint-eviction-controller, endpoints, endpointslice, namespace, serviceaccount,
root-ca-cert-publisher.

Its shared informers receive every Pod change. Several controllers register Pod event handlers, but each
only acts on Pods that concern it: the workload controllers (ReplicaSet, ReplicationController,
StatefulSet, DaemonSet, Job) on Pods they own (ownerReferences with controller=true) - or, for an
orphan, only when one of them selects its labels and could adopt it; the endpoints/EndpointSlice
controllers on Pods a Service selects; the disruption controller on Pods a PodDisruptionBudget selects.
A bare Pod from `kubectl run` matches none of these, so nothing happens here (the
`controller-manager.informer` event narrates that). Choosing its node is the scheduler's job.
"""
from __future__ import annotations

import random

from .apiserver import Credential
from .apiserver.registry import objref
from .component import Component
from .controllers.base import SharedInformer
from .controllers.deployment import DeploymentController
from .controllers.endpoints import EndpointsController, EndpointSliceController
from .controllers.garbagecollector import GarbageCollector
from .controllers.namespace import NamespaceController
from .controllers.nodelifecycle import NodeLifecycleController, TaintEvictionController
from .controllers.replicaset import ReplicaSetController
from .controllers.resourcequota import ResourceQuotaController
from .controllers.serviceaccount import RootCACertPublisher, ServiceAccountsController
from .kernel import Environment
from .leaderelection import LeaderElector
from .trace import Tracer

COMPONENT = "controller-manager"
LEASE_NAME = "kube-controller-manager"

# Controllers whose informers have Pod event handlers (pkg/controller/*: replicaset, replication,
# statefulset, daemon, job, endpoint, endpointslice, disruption, garbagecollector).
POD_CONTROLLERS = ["replicaset", "replicationcontroller", "statefulset", "daemonset", "job", "endpoints",
                   "endpointslice", "disruption", "garbagecollector"]

_WORKLOADS = {"replicasets": "replicaset", "replicationcontrollers": "replicationcontroller",
              "statefulsets": "statefulset", "daemonsets": "daemonset", "jobs": "job"}

# The informers, started in this order (owners before dependents, so the garbage collector's graph
# sees an owner before the objects that point at it).
INFORMERS = ("namespaces", "serviceaccounts", "configmaps", "nodes", "leases", "services", "endpoints",
             "endpointslices", "deployments", "replicasets", "pods")

# The service account each controller acts as: kubeadm runs kube-controller-manager with
# --use-service-account-credentials, so every controller gets a client of its own
# (controllerContext.ClientBuilder.ClientOrDie("<name>") in cmd/kube-controller-manager/app/*.go), a token of
# the service account kube-system/<name>, bound to ClusterRole system:controller:<name> (bootstrappolicy
# controller_policy.go). The taint-eviction controller uses the node controller's account ("taint-manager
# uses existing cluster role from node-controller", startTaintEvictionController). The shared informers and
# leader election use the controller-manager's own identity (system:kube-controller-manager).
SERVICE_ACCOUNTS = {"deployment": "deployment-controller", "replicaset": "replicaset-controller",
                    "endpoints": "endpoint-controller", "endpointslice": "endpointslice-controller",
                    "garbagecollector": "generic-garbage-collector", "namespace": "namespace-controller",
                    "nodelifecycle": "node-controller", "taint-eviction-controller": "node-controller",
                    "resourcequota": "resourcequota-controller", "serviceaccount": "service-account-controller",
                    "root-ca-cert-publisher": "root-ca-cert-publisher"}
CONTROLLER_USERS = frozenset(f"system:serviceaccount:kube-system:{sa}" for sa in SERVICE_ACCOUNTS.values()) \
    | {"system:kube-controller-manager"}


def is_controller_user(name: str) -> bool:
    """A request made by kube-controller-manager (one of its controllers' accounts, or its own identity)."""
    return name in CONTROLLER_USERS


CONTROLLERS = (ReplicaSetController, DeploymentController, GarbageCollector, NodeLifecycleController,
               TaintEvictionController, EndpointsController, EndpointSliceController, NamespaceController,
               ServiceAccountsController, RootCACertPublisher, ResourceQuotaController)


def _selects(selector: dict | None, labels: dict) -> bool:
    if not selector:
        return False
    match = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def _default_client(api, credential, who):
    try:
        from .client import Client  # the generic client (api-core)
    except ImportError:
        from .controllers.apiclient import ApiClient as Client
    return Client(api, credential, who)


class ControllerManager(Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, apiserver,
                 instance: str = "controller-manager-1", node: str = "control-plane", *,
                 client=None, credential: Credential | None = None, identity: str | None = None,
                 leader_elect: bool = False, controllers: tuple | None = None, trace_noops: bool = False):
        super().__init__(env, rng, tracer, instance, node)
        self.api = apiserver
        # kubeadm's controller-manager.conf: client certificate CN=system:kube-controller-manager.
        self.credential = credential or Credential.x509("system:kube-controller-manager")
        self.client = client if client is not None else _default_client(apiserver, self.credential, self.me)
        # --use-service-account-credentials: a client per controller (not with an injected client, in tests)
        self._sa_clients: dict[str, object] = {}
        self._sa_credentials = client is None and credential is None and hasattr(apiserver, "authenticator")
        self.trace_noops = trace_noops
        self.running = False
        self.leading = False
        self.informers: dict[str, SharedInformer] = {
            r: SharedInformer(apiserver, r, self.me, lambda: self.running and self.leading) for r in INFORMERS}
        self._listing = False
        self.controllers = [c(self) for c in (controllers or CONTROLLERS)]
        self.informers["pods"].add_handler(self._narrate_pod)
        # Normally the cluster runs a LeaderElector that calls on_started_leading / on_stopped_leading;
        # with leader_elect=True the controller-manager runs its own.
        self.elector = None
        if leader_elect:
            # identity: "<hostname>_<uuid>"; the hostname is the control-plane node's.
            self.elector = LeaderElector(env, rng, tracer, self.client, LEASE_NAME, identity, self,
                                         event_source="kube-controller-manager")

    def client_for(self, controller: str):
        """The client a controller sends its requests with: its service account's token (registered with
        the API server's authenticator, as the TokenRequest the real client builder makes would be), else
        the controller-manager's own."""
        sa = SERVICE_ACCOUNTS.get(controller)
        if not self._sa_credentials or sa is None:
            return self.client
        if sa not in self._sa_clients:
            token = f"kube-system/{sa}/{self.instance}"   # (not a secret in a simulation; never shown)
            self.api.authenticator.add_service_account_token(token, "kube-system", sa)
            self._sa_clients[sa] = _default_client(self.api, Credential.bearer(token), self.me)
        return self._sa_clients[sa]

    @property
    def identity(self) -> str | None:
        return self.elector.identity if self.elector else None

    def controller(self, name: str):
        return next((c for c in self.controllers if c.NAME == name), None)

    # ---- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            return
        self.running = True
        if self.elector is not None:
            self.elector.start()

    def stop(self) -> None:
        if self.elector is not None:
            self.elector.stop()
        self.on_stopped_leading()
        self.running = False

    def on_started_leading(self) -> None:
        """run(): every controller adds its event handlers, then the shared informers start (LIST + WATCH),
        then the controllers' workers. Handlers come first, as in kube-controller-manager's Run
        (cmd/kube-controller-manager/app/controllermanager.go: StartControllers constructs each controller,
        whose constructor adds the handlers, then InformerFactory.Start): the initial LIST delivers an
        ADDED for every existing object to every controller, so a Service and Pods that existed before
        this instance led (kube-dns and the CoreDNS Pods) get their Endpoints and EndpointSlices."""
        if not self.running or self.leading:
            return
        self.leading = True
        for c in self.controllers:
            c.running = True   # handlers enqueue during the initial LIST
            c.register_handlers()
        self._listing = True
        for r in INFORMERS:
            self.informers[r].start()
        self._listing = False
        for c in self.controllers:
            c.start()

    def on_stopped_leading(self) -> None:
        if not self.leading:
            return
        self.leading = False
        for c in self.controllers:
            c.stop()

    def status(self) -> dict:
        """For the dashboard: per controller, queue depth and the last reconcile."""
        return {"leader": self.leading, "identity": self.identity,
                "controllers": {c.NAME: {"queue": len(c.queue), "syncs": c.syncs, "last": c.last}
                                for c in self.controllers}}

    # ---- the informer narration of a new Pod (the pod-create lesson, step 5) ---------------------------
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

    def _narrate_pod(self, kind: str, old: dict | None, pod: dict) -> None:
        if kind != "ADDED" or self._listing:
            return  # only new Pods are narrated (not the informer's initial LIST, not updates)
        self._schedule_narration(kind, pod)

    def _schedule_narration(self, kind: str, pod: dict) -> None:
        """Narrated as the shared informer hands the change to the controllers' handlers (at delivery)."""
        if not (self.running and self.leading):
            return
        action, reason, _acting = self.interested(pod)
        self.tracer.emit(COMPONENT, self.instance, "controller-manager.informer",
                         f"informer: Pod {kind} {pod['metadata']['namespace']}/{pod['metadata']['name']} - action {action}",
                         {"resource": "pods", "event": kind, "controllers": list(POD_CONTROLLERS),
                          "action": action, "reason": reason}, obj=objref(pod))

