"""A scenario on a real cluster: its actions sent through the official client, what the cluster does in answer
watched, and both mapped to the dashboard's event schema (v1), so every view folds them as it folds the
simulator's.

What a real cluster shows, and how it is mapped (data.source says which; the page marks these events):
- source "client": the dashboard's own requests (kubectl.request) and the API server's answers
  (apiserver.response, with the real code and Status).
- source "watch": a watch delivery from the API server (Pods, Events, ReplicaSets, Deployments in the run's
  namespace; Nodes; leader-election Leases). Each becomes the etcd write behind it: etcd.put / etcd.delete
  under the registry key the API server uses (/registry/pods/<ns>/<name> ...), the revision being the
  object's resourceVersion, which is etcd's mod_revision of that key (k8s.io/apiserver/pkg/storage/etcd3/
  store.go sets it with versioner.UpdateObject(obj, uint64(kv.ModRevision))). create_revision and version
  are known only for keys created during the run (counted from the deliveries); etcd itself is not read.
- source "event": a component's step that the cluster reports only as a Kubernetes Event: Scheduled ->
  scheduler.bind, Pulling / Pulled -> the image pull, Created / Started -> the container runtime,
  SuccessfulCreate / ScalingReplicaSet -> the controllers' reconcile, FailedScheduling -> the filter's verdict.
What happens inside the components (authentication, admission, the scheduler's filter and score per node,
Raft) is not visible from outside a real cluster: the steps made only of that are marked hidden.

The generator yields events, and None while it waits (so the worker's loop can honour pause and cancel);
the namespace of the run is deleted when it ends, however it ends.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import queue
import re
import time
from collections import deque

from django.conf import settings

from simulator.events import make_event

from .audittap import AUDIT, WRITES, AuditTap
from .connect import ClusterUnavailable, Connection, describe
from .etcdtap import PROGRESS, TAP, EtcdTap
from .watcher import Watcher, object_key, wait_all

log = logging.getLogger(__name__)

MANAGED_BY = "k8s-internals-dashboard"
RUN_LABEL = "k8s-internals-dashboard/run"
PAUSED_NODE = "k8s-internals-dashboard/paused-node"   # annotation on the run's namespace
TICK_S = 0.25
LIST_TIMEOUT_S = 20.0
TAP_WAIT_S = 1.5      # how long a delivery waits for etcdctl's report of the same write before it goes on alone
AUDIT_WAIT_S = 1.5    # how long the answer to one of the run's requests waits for its audit event
AUDIT_LAG_S = 0.05    # kube-apiserver writes a request's audit event just after its answer (and watch event)
# Server-set fields: not changes made by defaults or admission (a create's answer against what was sent).
_SERVER_SET = {"metadata.uid", "metadata.resourceVersion", "metadata.creationTimestamp", "metadata.generation",
               "metadata.managedFields", "status"}

# resource -> (registry prefix, kind, apiVersion); the prefixes are the API server's etcd key layout
# (k8s.io/kubernetes pkg/registry/*/etcd: pods, events, minions for Nodes, deployments, replicasets, leases).
REGISTRY = {
    "pods": ("/registry/pods/", "Pod", "v1"),
    "events": ("/registry/events/", "Event", "v1"),
    "nodes": ("/registry/minions/", "Node", "v1"),
    "deployments": ("/registry/deployments/", "Deployment", "apps/v1"),
    "replicasets": ("/registry/replicasets/", "ReplicaSet", "apps/v1"),
    "leases": ("/registry/leases/", "Lease", "coordination.k8s.io/v1"),
}
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"   # kubeadm's label of a control-plane node
# Leader-election Leases in kube-system and the component that holds each.
ELECTIONS = {"kube-scheduler": "scheduler", "kube-controller-manager": "controller-manager"}


def namespace_for(run_hex: str) -> str:
    return f"k8sdash-{run_hex[:12]}"


def _rv(obj: dict) -> int | None:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion"))
    except (TypeError, ValueError):
        return None


def _node_shape(node: dict) -> str:
    """What of a Node the run tells: its Ready status and taints (heartbeats rewrite the rest every few s)."""
    return json.dumps([[c.get("status") for c in (node.get("status") or {}).get("conditions") or []
                        if c.get("type") == "Ready"], (node.get("spec") or {}).get("taints")])


def _ready(obj: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


class ApiRun:
    def __init__(self, run_hex: str, scenario: str, params: dict, seed: int, conn: Connection):
        from . import scenarios as api_scenarios

        self.hex, self.scenario, self.params, self.seed, self.conn = run_hex, scenario, params, seed, conn
        self.driver = api_scenarios.get(scenario)
        self.ns = namespace_for(run_hex)
        self.queue: queue.Queue = queue.Queue()
        self.watchers: list[Watcher] = []
        self.outbox: list[dict] = []
        self.seq = 0
        self.t0 = time.monotonic()
        self.step = 0
        self.hidden = self.driver.HIDDEN
        # The picture the scenario's conditions look at, from the deliveries.
        self.objects: dict[str, dict[str, dict]] = {r: {} for r in REGISTRY}
        self.created_rev: dict[str, int] = {}
        self.versions: dict[str, int] = {}
        self.phases: dict[str, str] = {}
        self.nodes_seen: dict[str, str] = {}
        self.holders: dict[str, str] = {}
        self.instances = {"apiserver": "apiserver-1", "etcd": "etcd-1", "scheduler": "scheduler-1",
                          "controller-manager": "controller-manager-1"}
        self.namespace_made = False
        self.ns_created: str | None = None   # the namespace's creationTimestamp: the cluster's clock at the start
        self.driver_phase = 0   # the scenario's act in progress (deployment-reconcile's steps 1, 4, 6, 7)
        self.deadline: float | None = None
        self.paused: str | None = None   # a kind node's container this run paused (node failure)
        self.victim: str | None = None   # the node that node failure makes fail
        # etcdctl in the etcd Pod (etcdtap.py): what etcd reports per (key, mod_revision), and the deliveries
        # waiting, in arrival order, for their write's report.
        self.tap: EtcdTap | None = None
        self.etcd_pod: str | None = None
        self.control_plane: str | None = None   # the control-plane node's name (the one the audit log is on)
        self.etcd_source = "watch"
        self.etcd_note = ""
        self.tap_meta: dict[tuple[str, int], tuple[int, int]] = {}   # -> (create_revision, version)
        self.waiting: deque = deque()
        self.tap_seen = 0
        # The API server's audit log on the control-plane node (audittap.py), when the cluster keeps one.
        self.audit: AuditTap | None = None
        self.audit_note = ""
        conn.client.user_agent = f"k8s-internals-dashboard/run-{run_hex[:12]}"

    # -- events -------------------------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic() - self.t0

    def emit(self, component: str, instance: str, type_: str, summary: str, data: dict, *, to: tuple | None = None,
             obj: dict | None = None, step: int | None = None) -> None:
        opens = self.driver.step_of(self, type_, data, obj) if step is None else step
        if opens:
            self.open_step(opens)
        self.seq += 1
        ev = make_event(self.hex, self.seq, self.now(), component, instance, type_, summary[:300], data,
                        to={"component": to[0], "instance": to[1]} if to else None,
                        object=self._ref(obj) if obj else None, step=self.step or None)
        self.outbox.append(ev)

    def open_step(self, n: int) -> None:
        """Step n begins; a step skipped on the way (nothing of it can be seen on a real cluster) is opened
        first, marked hidden, so the presenter still walks through it."""
        while self.step < n:
            self.step += 1
            data = {"step": self.step}
            if self.step < n or self.step in self.hidden:
                data["hidden"] = self.hidden.get(self.step, "internal")
            self.seq += 1
            self.outbox.append(make_event(self.hex, self.seq, self.now(), "scenario", "scenario", "scenario.step",
                                          f"step {self.step} begins" + (" (not visible on a real cluster)"
                                                                         if "hidden" in data else ""),
                                          data, step=self.step))

    @staticmethod
    def _ref(obj: dict) -> dict:
        meta = obj.get("metadata") or {}
        ref = {"kind": obj.get("kind")}
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        ref["name"] = meta.get("name")
        if meta.get("uid"):
            ref["uid"] = meta["uid"]
        return ref

    # -- requests (the scenario's actions) ----------------------------------------------------------

    def request(self, command: str, method: str, path: str, verb: str, resource: str, call, body=None,
                ok=(200, 201, 202)) -> dict | None:
        """Send one request through `call` (a client method bound with its arguments), logged as kubectl's
        request and the API server's answer. Returns the object answered (None on an error status)."""
        from kubernetes.client.exceptions import ApiException

        api = self.instances["apiserver"]
        # The object concerned: the body's (a create), else the one the path names (.../<name>[/<subresource>]).
        meta = (body.get("metadata") or {}) if isinstance(body, dict) else {}
        if isinstance(body, dict) and body.get("kind") and meta.get("name"):
            ref = {"kind": body["kind"], "metadata": {"namespace": self.ns, "name": meta["name"]}}
        else:
            parts = path.split("/")
            name = parts[parts.index(resource) + 1] if resource in parts[:-1] else None
            ref = {"kind": REGISTRY[resource][1] if resource in REGISTRY else None,
                   "metadata": {"namespace": self.ns, "name": name}}
        self.emit("kubectl", "kubectl", "kubectl.request", f"{command}: {method} {path}",
                  {"method": method, "path": path, "user": None, "verb": verb, "resource": resource,
                   "body": body, "source": "client"}, to=("apiserver", api), obj=ref)
        headers = {}
        try:
            resp = call(_preload_content=False, _request_timeout=self.conn.timeout)
            code, answer, headers = resp.status, json.loads(resp.data or b"null"), resp.headers or {}
        except ApiException as exc:
            if not exc.status:
                raise ClusterUnavailable(describe(exc, self.conn.context)) from None
            code, headers = exc.status, exc.headers or {}
            try:
                answer = json.loads(exc.body or b"null")
            except ValueError:
                answer = None
        except Exception as exc:
            raise ClusterUnavailable(describe(exc, self.conn.context)) from None
        status = answer if isinstance(answer, dict) and answer.get("kind") == "Status" and code >= 400 else None
        rv = (answer.get("metadata") or {}).get("resourceVersion") if isinstance(answer, dict) else None
        audit_id = headers.get("Audit-Id")
        if self.audit is not None and audit_id:
            record = self.audit.claim(audit_id, AUDIT_WAIT_S)
            if record is not None:
                self._pipeline(record, ref, answer if status is None else None)
        self.emit("apiserver", api, "apiserver.response",
                  f"{code} {(status or {}).get('reason') or ''} {method} {path}".replace("  ", " "),
                  {"code": code, "status": status, "resourceVersion": rv, "source": "client"},
                  to=("kubectl", "kubectl"), obj=answer if isinstance(answer, dict) and status is None else ref)
        if code not in ok:
            raise ClusterUnavailable(f"the cluster refused the scenario's request {method} {path}: {code} "
                                     f"{(status or {}).get('message') or ''}".strip())
        return answer if status is None else None

    # -- the audit log -> what happened inside the API server -----------------------------------------

    def _pipeline(self, ev: dict, ref: dict, answer) -> None:
        """One of the run's requests as the audit log tells it: who the API server took the user to be,
        the authorizer's decision and reason, what defaults and admission changed (the object sent against
        the object stored), PodSecurity's verdict, and the write to etcd; then the answer follows."""
        api = self.instances["apiserver"]
        notes = ev.get("annotations") or {}
        user = ev.get("user") or {}
        oref = ev.get("objectRef") or {}
        code = (ev.get("responseStatus") or {}).get("code") or 0
        message = (ev.get("responseStatus") or {}).get("message") or ""
        resource = (oref.get("resource") or "") + (f"/{oref['subresource']}" if oref.get("subresource") else "")
        self.emit("apiserver", api, "apiserver.authn", f"authenticated {user.get('username')!r} (audit log)",
                  {"authenticator": None, "user": user.get("username"), "groups": list(user.get("groups") or []),
                   "decision": "allow", "source": "audit"}, obj=ref)
        allowed = notes.get("authorization.k8s.io/decision") == "allow"
        reason = notes.get("authorization.k8s.io/reason") or ""
        self.emit("apiserver", api, "apiserver.authz",
                  f"{'allowed' if allowed else 'forbidden'} {user.get('username')} {ev.get('verb')} {resource} (audit log)",
                  {"authorizer": reason.split(":", 1)[0] if ":" in reason else None, "user": user.get("username"),
                   "verb": ev.get("verb"), "resource": resource, "namespace": oref.get("namespace"),
                   "decision": "allow" if allowed else "deny", "reason": reason, "source": "audit"}, obj=ref)
        if not allowed:
            return
        sent, stored = ev.get("requestObject"), ev.get("responseObject")
        if ev.get("verb") == "create" and isinstance(sent, dict) and isinstance(stored, dict) \
                and stored.get("kind") not in (None, "Status"):
            changes = [p for p in _diff(sent, stored) if p not in _SERVER_SET and not p.startswith("status.")]
            self.emit("apiserver", api, "apiserver.admission",
                      f"mutating admission: {len(changes)} field(s) set by the API server (audit log)",
                      {"phase": "mutating", "plugin": None, "decision": "admit", "changes": changes, "notes": changes[:30],
                       "source": "audit"}, obj=ref)
        invalid = code == 422
        if code < 400 or invalid:
            self.emit("apiserver", api, "apiserver.validation", "object is valid" if not invalid else "invalid (audit log)",
                      {"decision": "deny" if invalid else "allow",
                       "errors": ((ev.get("responseStatus") or {}).get("details") or {}).get("causes") or [],
                       "source": "audit"}, obj=ref)
        psa = notes.get("pod-security.kubernetes.io/enforce-policy")
        refused = code == 403 and "PodSecurity" in message
        if psa or refused:
            self.emit("apiserver", api, "apiserver.admission", f"validating admission PodSecurity: "
                      f"{'deny' if refused else 'admit'} (audit log)",
                      {"phase": "validating", "plugin": "PodSecurity", "decision": "deny" if refused else "admit",
                       "changes": [], "notes": [f"enforce={psa}"] if psa else [message], "source": "audit"}, obj=ref)
        if code < 400 and ev.get("verb") in WRITES and oref.get("resource") in REGISTRY:
            name = (stored or {}).get("metadata", {}).get("name") if isinstance(stored, dict) else None
            name = oref.get("name") or name
            key = REGISTRY[oref["resource"]][0] + (f"{oref['namespace']}/" if oref.get("namespace") else "") + (name or "")
            op = {"create": "create", "delete": "delete"}.get(ev.get("verb"), "update")
            self.emit("apiserver", api, "apiserver.storage", f"{op} {key} (audit log)",
                      {"op": op, "key": key, "path": ev.get("requestURI", "").split("?", 1)[0], "source": "audit"},
                      to=("etcd", self.instances["etcd"]), obj=answer if isinstance(answer, dict) else ref)

    def _in_cluster(self, ev: dict) -> tuple[tuple, tuple] | None:
        """A request of the control plane or a kubelet about the run's objects, from the audit log."""
        user = (ev.get("user") or {}).get("username") or ""
        if user == "system:kube-scheduler":
            client = ("scheduler", self.instances["scheduler"])
        elif user == "system:kube-controller-manager" or user.startswith("system:serviceaccount:kube-system:"):
            client = ("controller-manager", self.instances["controller-manager"])
        elif user.startswith("system:node:"):
            client = ("kubelet", user[len("system:node:"):])
        else:
            return None
        api = self.instances["apiserver"]
        path = ev.get("requestURI", "").split("?", 1)[0]
        method = {"create": "POST", "update": "PUT", "patch": "PATCH", "delete": "DELETE",
                  "deletecollection": "DELETE"}.get(ev.get("verb"), "GET")
        rs = ev.get("responseStatus") or {}
        code = rs.get("code")
        sent = ((client[0], client[1], "apiserver.request", f"{method} {path} (audit log)",
                 {"method": method, "path": path, "user": user, "source": "audit"}), {"to": ("apiserver", api)})
        status = {k: rs[k] for k in ("status", "message", "reason", "details", "code") if k in rs} if code and code >= 400 else None
        stored = ev.get("responseObject")
        rv = (stored.get("metadata") or {}).get("resourceVersion") if isinstance(stored, dict) else None
        # (emit's arguments, for the request and its answer: _place_request puts them around the write)
        return sent, (("apiserver", api, "apiserver.response", f"{code} {method} {path} (audit log)",
                       {"code": code, "status": status, "resourceVersion": rv, "source": "audit"}), {"to": client})

    def _audit_wanted(self, ev: dict) -> bool:
        return (ev.get("objectRef") or {}).get("namespace") == self.ns and ev.get("verb") in WRITES

    def _open_audit(self) -> None:
        """The audit log on the control-plane node (_components found it), when it can be read."""
        cp = self.control_plane
        if cp is None:
            self.audit_note = "no control-plane node in the cluster's node list (a managed control plane?)"
            return
        tap = AuditTap(self.conn, cp, self.queue, self._audit_wanted, self.conn.client.user_agent)
        try:
            tap.open()
        except ClusterUnavailable as exc:
            self.audit_note = str(exc)
            log.info("run %s: no audit log: %s", self.hex, exc)
            return
        self.audit = tap
        # What the hidden steps were made of (authentication, authorization, admission) is in the log now.
        self.hidden = {k: v for k, v in self.hidden.items() if v != "apiserver"}

    # -- watch deliveries -> events -----------------------------------------------------------------

    def deliver(self, resource: str, typ: str, obj: dict, relist: bool = False) -> None:
        prefix, kind, api_version = REGISTRY[resource]
        obj.setdefault("kind", kind)
        obj.setdefault("apiVersion", api_version)
        key_name = object_key(obj)
        key = prefix + key_name
        rv = _rv(obj)
        etcd, api = self.instances["etcd"], self.instances["apiserver"]
        store = self.objects[resource]
        if resource == "leases":
            self._lease(obj, typ)
            store[key_name] = obj
            return
        if resource == "nodes" and typ != "DELETED":
            # A node's status is rewritten by every heartbeat; only a change of readiness or taints is told.
            shape = _node_shape(obj)
            if self.nodes_seen.get(key_name) == shape:
                store[key_name] = obj
                return
            self.nodes_seen[key_name] = shape
        told = self.tap_meta.pop((key, rv), None) if rv is not None else None   # etcdctl's report of this write
        if typ == "DELETED":
            store.pop(key_name, None)
            self.emit("etcd", etcd, "etcd.delete", f"DELETE {key} (revision {rv})" + (" [after a relist]" if relist else ""),
                      {"key": key, "revision": rv, "source": "etcdctl" if told else "watch"}, to=("apiserver", api), obj=obj)
            self.created_rev.pop(key, None)
            self.versions.pop(key, None)
            return
        if told is not None:
            self.created_rev[key], self.versions[key] = told
        else:
            if typ == "ADDED" and key not in self.versions:
                self.created_rev[key], self.versions[key] = rv, 0
            if key in self.versions:
                self.versions[key] += 1
        store[key_name] = obj
        self.emit("etcd", etcd, "etcd.put", f"PUT {key} (revision {rv})",
                  {"key": key, "revision": rv, "create_revision": self.created_rev.get(key), "mod_revision": rv,
                   "version": self.versions.get(key), "value": obj, "source": "etcdctl" if told else "watch"},
                  to=("apiserver", api), obj=obj)
        if resource == "pods":
            self._pod(obj)
        elif resource == "events":
            self._event(obj)

    def _lease(self, obj: dict, typ: str) -> None:
        name = (obj.get("metadata") or {}).get("name")
        component = ELECTIONS.get(name)
        if component is None:
            return
        holder = (obj.get("spec") or {}).get("holderIdentity") or ""
        old = self.holders.get(name)
        if typ == "DELETED" or holder == old:
            return
        self.holders[name] = holder
        if old:
            self.emit(component, self.instances[component], "leaderelection", f"{name}: {old} lost the lease",
                      {"lease": f"kube-system/{name}", "holder": old, "action": "lost", "source": "watch"})
        if holder:
            self.emit(component, self.instances[component], "leaderelection", f"{name}: {holder} holds the lease",
                      {"lease": f"kube-system/{name}", "holder": holder, "action": "acquired", "source": "watch"})

    def _pod(self, obj: dict) -> None:
        meta, status = obj.get("metadata") or {}, obj.get("status") or {}
        name = meta.get("name")
        phase = status.get("phase") or "Pending"
        node = (obj.get("spec") or {}).get("nodeName")
        if phase != self.phases.get(name) and node and phase != "Pending":
            self.emit("kubelet", node, "kubelet.status", f"status {phase}, podIP {status.get('podIP')}",
                      {"phase": phase, "pod_ip": status.get("podIP"),
                       "conditions": [{"type": c.get("type"), "status": c.get("status")}
                                      for c in status.get("conditions") or []], "source": "watch"},
                      to=("apiserver", self.instances["apiserver"]), obj=obj)
        self.phases[name] = phase

    def _event(self, ev: dict) -> None:
        """A component's step that the cluster tells only through an Event."""
        reason, message = ev.get("reason") or "", ev.get("message") or ""
        inv = ev.get("involvedObject") or {}
        ref = {"kind": inv.get("kind"), "metadata": {"namespace": inv.get("namespace"), "name": inv.get("name"),
                                                     "uid": inv.get("uid")}}
        source = ev.get("source") or {}
        node = ev.get("reportingInstance") or source.get("host") or ""
        container = ""
        m = re.search(r"spec\.containers\{([^}]*)\}", inv.get("fieldPath") or "")
        if m:
            container = m.group(1)
        api = self.instances["apiserver"]
        image = (re.search(r'image "([^"]+)"', message) or [None, ""])[1]
        if reason == "Scheduled":
            m = re.search(r" to (\S+)$", message)
            self.emit("scheduler", self.instances["scheduler"], "scheduler.bind", message,
                      {"node": m.group(1) if m else None, "source": "event"}, to=("apiserver", api), obj=ref)
        elif reason == "FailedScheduling":
            self.emit("scheduler", self.instances["scheduler"], "scheduler.filter", message,
                      {"feasible": [], "message": message, "source": "event"}, obj=ref)
        elif reason == "Pulling" and node:
            self.emit("kubelet", node, "kubelet.image.pulling", message, {"image": image, "source": "event"},
                      to=("container-runtime", node), obj=ref)
        elif reason == "Pulled" and node:
            cached = "already present" in message
            size = re.search(r"Image size: (\d+) bytes", message)
            took = re.search(r" in ([0-9.]+)(ms|s)\b", message)
            duration = None
            if took:
                duration = float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)
            self.emit("container-runtime", node, "kubelet.image.pulled", message,
                      {"image": image, "size_bytes": int(size.group(1)) if size else None, "duration": duration,
                       "cached": cached, "source": "event"}, to=("kubelet", node), obj=ref)
        elif reason in ("Created", "Started") and node:
            typ = "container-runtime.container.created" if reason == "Created" else "container-runtime.container.started"
            self.emit("container-runtime", node, typ, message,
                      {"container": container, "container_id": None, "source": "event"}, obj=ref)
        elif reason == "Killing" and node:
            self.emit("kubelet", node, "kubelet.container.kill", message,
                      {"container": container, "reason": reason, "source": "event"}, to=("container-runtime", node), obj=ref)
        elif reason == "BackOff" and node:
            self.emit("kubelet", node, "kubelet.container.backoff", message,
                      {"container": container, "reason": "ImagePullBackOff" if "pulling image" in message
                       else "CrashLoopBackOff", "source": "event"}, obj=ref)
        elif reason in ("TaintManagerEviction", "NodeNotReady"):
            # The taint-eviction controller marking a Pod for deletion (or cancelling that), and the node
            # lifecycle controller marking a Pod not ready because its node is (pkg/controller/tainteviction,
            # pkg/controller/util/node MarkPodsNotReady).
            controller = "taint-eviction-controller" if reason == "TaintManagerEviction" else "nodelifecycle"
            key = f"{inv.get('namespace')}/{inv.get('name')}"
            self.emit("controller-manager", self.instances["controller-manager"], "controller.reconcile", message,
                      {"controller": controller, "key": key, "desired": None, "current": None,
                       "action": message, "source": "event"}, obj=ref)
        elif reason in ("SuccessfulCreate", "SuccessfulDelete", "ScalingReplicaSet"):
            controller = "deployment" if reason == "ScalingReplicaSet" else "replicaset"
            key = f"{inv.get('namespace')}/{inv.get('name')}"
            self.emit("controller-manager", self.instances["controller-manager"], "controller.reconcile", message,
                      {"controller": controller, "key": key, "desired": None, "current": None,
                       "action": message, "source": "event"}, obj=ref)

    # -- the run --------------------------------------------------------------------------------------

    def _start_watches(self) -> None:
        from kubernetes import client

        core, apps = client.CoreV1Api(self.conn.client), client.AppsV1Api(self.conn.client)
        coord = client.CoordinationV1Api(self.conn.client)
        specs = [("pods", core.list_namespaced_pod, (self.ns,)), ("events", core.list_namespaced_event, (self.ns,)),
                 ("replicasets", apps.list_namespaced_replica_set, (self.ns,)),
                 ("deployments", apps.list_namespaced_deployment, (self.ns,)),
                 ("nodes", core.list_node, ()), ("leases", coord.list_namespaced_lease, ("kube-system",))]
        for resource, fn, args in specs:
            _, kind, api_version = REGISTRY[resource]
            w = Watcher(resource, fn, args, self.queue, kind=kind, api_version=api_version,
                        timeout=self.conn.timeout, context=self.conn.context)
            self.watchers.append(w)
            w.start()

    def _make_namespace(self) -> None:
        from kubernetes import client

        core = client.CoreV1Api(self.conn.client)
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": self.ns, "labels": {"app.kubernetes.io/managed-by": MANAGED_BY,
                                                         RUN_LABEL: self.hex}}}
        try:
            made = core.create_namespace(body, _request_timeout=self.conn.timeout, _preload_content=False)
            self.ns_created = (json.loads(made.data).get("metadata") or {}).get("creationTimestamp")
        except Exception as exc:
            raise ClusterUnavailable(describe(exc, self.conn.context)) from None
        self.namespace_made = True
        # The ServiceAccount admission plugin refuses Pods until the namespace's default ServiceAccount exists
        # (the controller-manager's serviceaccount controller makes it a moment after the namespace).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                core.read_namespaced_service_account("default", self.ns, _request_timeout=self.conn.timeout)
                return
            except Exception:
                time.sleep(0.2)
        raise ClusterUnavailable(f"namespace {self.ns}: its default ServiceAccount did not appear within 15 s")

    def _components(self, nodes: list[dict]) -> list[dict]:
        """The control plane's instances from kube-system's static Pods (kubeadm labels them `component`);
        kubelet, kube-proxy and container runtime per node."""
        from kubernetes import client

        out = [{"component": "kubectl", "instance": "kubectl", "node": None}]
        names = {"kube-apiserver": "apiserver", "etcd": "etcd", "kube-scheduler": "scheduler",
                 "kube-controller-manager": "controller-manager"}
        try:
            resp = client.CoreV1Api(self.conn.client).list_namespaced_pod(
                "kube-system", label_selector="tier=control-plane", _preload_content=False,
                _request_timeout=self.conn.timeout)
            pods = json.loads(resp.data).get("items") or []
        except Exception:
            pods = []
        found: dict[str, list[tuple[str, str]]] = {}
        for p in pods:
            comp = names.get(((p.get("metadata") or {}).get("labels") or {}).get("component"))
            if comp:
                found.setdefault(comp, []).append(((p.get("metadata") or {}).get("name"), (p.get("spec") or {}).get("nodeName")))
        cp = self.control_plane = next((n["metadata"]["name"] for n in nodes
                                         if CONTROL_PLANE in (n["metadata"].get("labels") or {})), None)
        for comp in ("apiserver", "etcd", "scheduler", "controller-manager"):
            members = sorted(found.get(comp) or [(self.instances[comp], cp)])
            self.instances[comp] = members[0][0]
            if comp == "etcd" and found.get("etcd"):
                self.etcd_pod = members[0][0]
            for name, node in members:
                out.append({"component": comp, "instance": name, "node": node})
        for n in nodes:
            name = n["metadata"]["name"]
            for comp in ("kubelet", "kube-proxy", "container-runtime"):
                out.append({"component": comp, "instance": name, "node": name})
        return out

    def _started(self, first: dict[str, list[dict]]) -> None:
        nodes = sorted(first["nodes"], key=lambda n: n["metadata"]["name"])
        for resource, items in first.items():
            for obj in items:
                self.objects[resource][object_key(obj)] = obj
        for obj in first["leases"]:
            name = obj["metadata"]["name"]
            if name in ELECTIONS:
                self.holders[name] = (obj.get("spec") or {}).get("holderIdentity") or ""
        summary = []
        for n in nodes:
            labels = n["metadata"].get("labels") or {}
            alloc = (n.get("status") or {}).get("allocatable") or {}
            summary.append({"name": n["metadata"]["name"],
                            "role": "control-plane" if CONTROL_PLANE in labels else "worker",
                            "labels": labels, "taints": (n.get("spec") or {}).get("taints") or [],
                            "allocatable": {k: alloc[k] for k in ("cpu", "memory", "pods") if k in alloc},
                            "ready": _ready(n)})
            self.nodes_seen[n["metadata"]["name"]] = _node_shape(n)
        components = self._components(nodes)
        revs = [r for w in self.watchers if (r := _rv({"metadata": {"resourceVersion": w.rv}})) is not None]
        self._open_tap(min(revs) + 1 if revs else 0)
        self._open_audit()
        self.t0 = time.monotonic()   # the run's clock starts with the picture of the cluster, as in the simulator
        # The cluster stamps objects with its own clock: the terminals age them from the run's start on that
        # clock, which the namespace's creationTimestamp tells (a worker's clock may differ from the cluster's).
        epoch = self.ns_created or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        members = [c["instance"] for c in components if c["component"] == "etcd"]
        self.seq += 1
        self.outbox.append(make_event(self.hex, self.seq, self.now(), "scenario", "scenario", "scenario.started",
                                      f"scenario {self.scenario} on a real cluster (namespace {self.ns})", {
            "scenario": self.scenario, "seed": self.seed, "params": dict(self.params), "nodes": summary,
            "components": components,
            # Raft is not visible through the Kubernetes API: one member is shown leading when there is one.
            "etcd": {"members": members, "leader": members[0] if len(members) == 1 else None, "term": None,
                     "source": self.etcd_source, "source_note": self.etcd_note or None,
                     "revision": max(revs) if revs else 0,
                     "status": [{"name": m, "role": "leader" if len(members) == 1 else "unknown", "term": None,
                                 "commit": None, "applied": None, "last_index": None, "running": True} for m in members]},
            "keys": [],
            "leases": [{"lease": f"kube-system/{n}", "holder": h} for n, h in sorted(self.holders.items()) if h],
            "apiserver": {"audit": self.audit is not None, "audit_note": self.audit_note or None},
            "backend": "api", "namespace": self.ns, "epoch": epoch}))

    def _wanted(self, key: str) -> bool:
        """An etcd key the run tells: its namespace's watched objects, Nodes, the leader-election Leases."""
        if key.startswith("/registry/minions/"):
            return True
        if any(key.startswith(f"{REGISTRY[r][0]}{self.ns}/") for r in ("pods", "events", "replicasets", "deployments")):
            return True
        return key.startswith("/registry/leases/kube-system/") and key.rsplit("/", 1)[-1] in ELECTIONS

    def _open_tap(self, start_revision: int) -> None:
        """etcdctl watch in the etcd Pod, when there is one and the user may exec into it."""
        if self.etcd_pod is None:
            self.etcd_note = "no etcd Pod in kube-system (a managed control plane?)"
            return
        tap = EtcdTap(self.conn, self.etcd_pod, self.queue, self._wanted, start_revision)
        try:
            tap.open()
        except ClusterUnavailable as exc:
            self.etcd_note = str(exc)
            log.info("run %s: etcd read through the API server's watch: %s", self.hex, exc)
            return
        self.tap, self.etcd_source, self.tap_seen = tap, "etcdctl", start_revision - 1

    def events(self):
        """The run's events in order; None while waiting. Cleans up (namespace, watches) however it ends."""
        try:
            self._make_namespace()
            self._start_watches()
            try:
                first = wait_all(self.watchers, LIST_TIMEOUT_S)
            except RuntimeError as exc:
                raise ClusterUnavailable(str(exc)) from None
            self._started(first)
            yield from self._flush()
            self.deadline = time.monotonic() + self.time_limit()
            script = self.driver.script(self)
            wait_for = next(script)
            while True:
                yield from self._flush()
                if wait_for(self):
                    try:
                        wait_for = next(script)
                    except StopIteration as done:
                        outcome = done.value
                        break
                    continue
                if time.monotonic() > self.deadline:
                    raise ClusterUnavailable(f"the scenario did not finish within {self.time_limit():.0f} s "
                                             "(DASHBOARD_API_RUN_TIMEOUT, plus the waits the scenario itself "
                                             "sets) on the real cluster")
                try:
                    item = self.queue.get(timeout=TICK_S)
                except queue.Empty:
                    self._drain()
                    yield from self._flush()
                    yield from self._out(None)
                    continue
                self._take(item)
                self._drain()
            # Deliveries already here, and whatever a watch that is reconnecting has not brought yet, belong to
            # the story (the last status write, an Event): each watch lists once more and delivers the rest.
            for w in self.watchers:
                try:
                    w.catch_up()
                except Exception as exc:
                    raise ClusterUnavailable(f"the last changes could not be read: "
                                             f"{describe(exc, self.conn.context)}") from None
            self._drain()
            self._wait_for_tap(TAP_WAIT_S)
            self.seq += 1
            self.outbox.append(make_event(self.hex, self.seq, self.now(), "scenario", "scenario", "scenario.completed",
                                          "scenario completed", {"outcome": outcome, "duration": round(self.now(), 3)}))
            yield from self._flush()
        finally:
            self.close()

    def _drain(self) -> None:
        """Map every delivery waiting in the queue. (How far the audit log has been read is noted first: what
        that read found is then in the queue, taken before any delivery is let go on its account.)"""
        read_from = self.audit.read_from if self.audit is not None else 0.0
        while True:
            try:
                self._take(self.queue.get_nowait())
            except queue.Empty:
                break
        self._release(read_from=read_from)

    def _take(self, item: tuple) -> None:
        """A watch delivery, etcdctl's report of a write, or an audit event. With etcdctl watching, deliveries
        wait in arrival order until etcd's own report of their write is here (or etcdctl has passed its
        revision, or TAP_WAIT_S went by): the etcd event then carries etcd's create_revision and version.
        With the audit log followed, they also wait until it has been read from a moment after they came
        (AUDIT_LAG_S), so that the request that made a write is told before it; its answer is queued behind
        the deliveries already waiting."""
        if item[0] == AUDIT:
            told = self._in_cluster(item[1])
            if told is not None:
                self._place_request(item[1], *told)
            return
        if item[0] == TAP:
            _, typ, key, created, mod, version = item
            if typ == PROGRESS:
                self.tap_seen = max(self.tap_seen, mod)
            else:
                self.tap_meta[(key, mod)] = (created, version)
                while len(self.tap_meta) > 10000:   # reports no delivery claimed (a write of a key not watched)
                    del self.tap_meta[next(iter(self.tap_meta))]
            return
        if self.tap is None and self.audit is None:
            self.deliver(*item)
        else:
            self.waiting.append((time.monotonic(), item))

    def _place_request(self, ev: dict, request: tuple, answer: tuple) -> None:
        """An in-cluster request and its answer go right before and behind the delivery of the write it made,
        when that is still waiting: the same key and resourceVersion (for a binding, the first version on
        the node it names; when the log kept no object, the key's next delivery). Else the request is told
        now and its answer behind everything waiting."""
        oref = ev.get("objectRef") or {}
        prefix = REGISTRY.get(oref.get("resource"), ("",))[0]
        key = f"{prefix}{oref.get('namespace')}/{oref.get('name')}" if prefix and oref.get("name") else None
        stored = ev.get("responseObject")
        rv = _rv(stored) if isinstance(stored, dict) and stored.get("kind") != "Status" else None
        node = ((ev.get("requestObject") or {}).get("target") or {}).get("name") if oref.get("subresource") == "binding" else None
        if key is not None:
            for i, (since, item) in enumerate(self.waiting):
                if item[0] == AUDIT or REGISTRY[item[0]][0] + object_key(item[2]) != key:
                    continue
                if (rv is not None and _rv(item[2]) == rv) or (node and (item[2].get("spec") or {}).get("nodeName") == node) \
                        or (rv is None and not node):
                    self.waiting.insert(i + 1, (since, (AUDIT, answer)))
                    self.waiting.insert(i, (since, (AUDIT, request)))
                    return
        args, kw = request
        self.emit(*args, **kw)
        self.waiting.append((time.monotonic(), (AUDIT, answer)))

    def _release(self, force: bool = False, read_from: float = 0.0) -> None:
        tap, audit, now = self.tap, self.audit, time.monotonic()
        while self.waiting:
            since, item = self.waiting[0]
            if item[0] == AUDIT:
                self.waiting.popleft()
                args, kw = item[1]
                self.emit(*args, **kw)
                continue
            rv = _rv(item[2])
            told = tap is None or tap.failed or rv is None or rv <= self.tap_seen
            logged = audit is None or audit.failed is not None or read_from >= since + AUDIT_LAG_S
            if not (force or (told and logged) or now - since > TAP_WAIT_S):
                return
            self.waiting.popleft()
            self.deliver(*item)

    def _wait_for_tap(self, seconds: float) -> None:
        """At the end: give etcdctl (and the audit log) a moment to report the last writes, then let every
        delivery go."""
        until = time.monotonic() + seconds
        while self.waiting and time.monotonic() < until and ((self.tap is not None and not self.tap.failed)
                                                             or (self.audit is not None and not self.audit.failed)):
            try:
                self._take(self.queue.get(timeout=0.1))
            except queue.Empty:
                pass
            self._drain()
        self._drain()
        self._release(force=True)

    def _flush(self):
        out, self.outbox = self.outbox, []
        for ev in out:
            yield from self._out(ev)

    def _out(self, ev):
        """Hand one event (or a tick) to the worker. Time the worker holds us there - a pause, step mode
        waiting for the presenter - does not count against DASHBOARD_API_RUN_TIMEOUT."""
        held = time.monotonic()
        yield ev
        if self.deadline is not None:
            self.deadline += time.monotonic() - held

    def time_limit(self) -> float:
        """DASHBOARD_API_RUN_TIMEOUT, plus the waits the scenario sets on purpose (node failure's toleration)."""
        extra = getattr(self.driver, "extra_seconds", None)
        return settings.DASHBOARD_API_RUN_TIMEOUT + (extra(self.params) if extra else 0)

    def pause_node(self, node: str) -> None:
        """docker pause of a kind node's container, noted on the run's namespace first, so that whoever
        cleans up after this run (close(), or clean_up_after when the worker died) unpauses it."""
        from kubernetes import client

        from . import docker

        try:
            client.CoreV1Api(self.conn.client).patch_namespace(
                self.ns, {"metadata": {"annotations": {PAUSED_NODE: node}}}, _request_timeout=self.conn.timeout)
        except Exception as exc:
            raise ClusterUnavailable(describe(exc, self.conn.context)) from None
        self.paused = node
        docker.pause(node)

    def unpause_node(self) -> None:
        from . import docker

        if self.paused and docker.unpause(self.paused):
            self.paused = None

    def close(self) -> None:
        for w in self.watchers:
            w.stop()
        if self.tap is not None:
            self.tap.stop()
        if self.audit is not None:
            self.audit.stop()
        if self.paused:
            self.unpause_node()
            if self.paused:
                log.warning("run %s: node %s could not be unpaused: run `docker unpause %s`",
                            self.hex, self.paused, self.paused)
        if self.namespace_made:
            delete_namespace(self.conn, self.ns)
            self.namespace_made = False
        self.conn.close()


def _diff(a, b, path: str = "") -> list[str]:
    """The paths (dotted, list items by index) at which b differs from a: set, changed or removed."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            p = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                out.append(p)
            else:
                out += _diff(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [q for i, (x, y) in enumerate(zip(a, b)) for q in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def delete_namespace(conn: Connection, ns: str) -> bool:
    from kubernetes import client

    try:
        client.CoreV1Api(conn.client).delete_namespace(ns, propagation_policy="Background",
                                                       _request_timeout=conn.timeout)
        return True
    except Exception as exc:
        from kubernetes.client.exceptions import ApiException

        if isinstance(exc, ApiException) and exc.status == 404:
            return True
        log.warning("namespace %s could not be deleted: %s", ns, describe(exc, conn.context))
        return False


def clean_up_after(run_hex: str) -> None:
    """A run given up after its worker died: delete its namespace (best effort)."""
    from .connect import connect

    try:
        conn = connect()
    except ClusterUnavailable as exc:
        log.warning("run %s: its namespace could not be deleted: %s", run_hex, exc)
        return
    ns = namespace_for(run_hex)
    try:
        _unpause_noted(conn, ns)
        delete_namespace(conn, ns)
    finally:
        conn.close()


def _unpause_noted(conn: Connection, ns: str) -> None:
    """The node a run paused, as noted on its namespace, running again (best effort)."""
    from kubernetes import client

    from . import docker

    try:
        got = client.CoreV1Api(conn.client).read_namespace(ns, _request_timeout=conn.timeout)
    except Exception:
        return
    node = ((got.metadata.annotations or {}) if got.metadata else {}).get(PAUSED_NODE)
    if node and not docker.unpause(node):
        log.warning("namespace %s: node %s could not be unpaused: run `docker unpause %s`", ns, node, node)
