"""kube-apiserver: the request pipeline, the watch cache and the watch fan-out.

The pipeline for a request is the real one, in order (k8s.io/apiserver/pkg/server/config.go
DefaultBuildHandlerChain, then endpoints/handlers/create.go and registry/generic/registry/store.go):
authentication -> authorization -> decode (+ API defaults) -> mutating admission -> validation ->
validating admission -> etcd (optimistic concurrency through a Txn) -> response.
Writes reach watchers through the watch cache: etcd's watch feeds the cache, the cache feeds every
watcher whose selector the object matches (kubelets watch with fieldSelector spec.nodeName=<node>).

Requests from kubectl are traced stage by stage (authn, authz, each admission plugin ...). Requests
from in-cluster clients (scheduler, kubelet) go through the same checks but are summarised in one
`apiserver.request` event, to keep the story readable.
"""
from __future__ import annotations

import bisect
import copy
import json
import random
from dataclasses import dataclass, field
from typing import Callable, Generator

from .. import clock, ids
from ..etcd import Compare, EtcdCluster, Op, WatchEvent
from ..component import Component
from ..kernel import Environment, Future
from ..trace import Tracer, ref
from . import admission as adm
from . import registry
from . import status as st
from .authn import Authenticator, Credential, UserInfo
from .authz import Attributes, NodeAuthorizer, RBACAuthorizer, UnionAuthorizer
from .defaults import set_defaults_pod
from .validation import validate_pod

COMPONENT = "apiserver"

_KIND = {"pods": "Pod", "events": "Event", "nodes": "Node", "namespaces": "Namespace", "bindings": "Binding"}


@dataclass
class Request:
    method: str
    path: str
    verb: str
    resource: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    api_group: str = ""
    body: dict | None = None
    credential: Credential | None = None
    client: dict = field(default_factory=lambda: ref("kubectl", "kubectl"))
    traced: bool = False
    # An untraced (compact) request has had its `apiserver.request` arrow emitted.
    announced: bool = False


@dataclass
class Response:
    code: int
    body: dict | None = None
    status: dict | None = None
    resource_version: str | None = None

    @property
    def ok(self) -> bool:
        return self.code < 400


@dataclass
class Watcher:
    resource: str
    who: dict                                      # {"component", "instance"}
    selector: Callable[[dict], bool]               # which objects this watch sees (field/label selectors)
    on_event: Callable[[str, dict], None]          # (ADDED|MODIFIED|DELETED, object)
    node_name: str | None = None                   # set for a watch with fieldSelector spec.nodeName=<node>
    order: int = 0                                 # registration order: the order watchers are woken in


def _node_of(obj: dict | None) -> str | None:
    return obj.get("spec", {}).get("nodeName") if obj else None


class ApiServer(Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, etcd: EtcdCluster,
                 authenticator: Authenticator, instance: str = "apiserver-1", node: str = "control-plane"):
        super().__init__(env, rng, tracer, instance, node)
        self.etcd = etcd
        self.authenticator = authenticator
        self.authorizer = UnionAuthorizer(NodeAuthorizer(self._pod_node), RBACAuthorizer(self._list_resource))
        self.admission = adm.CHAIN
        # The watch cache: what etcd holds (key -> (mod_revision, serialized object)), with its keys kept
        # sorted so that a list by prefix is a bisect, not a scan.
        self._cache: dict[str, tuple[int, str]] = {}
        self._keys: list[str] = []
        self._generation: dict[str, int] = {}        # resource -> bumped on every change (for memos)
        self._memo: dict[str, tuple[int, list]] = {}
        self.watchers: list[Watcher] = []
        # The cacher indexes pod watchers by spec.nodeName (pkg/registry/core/pod NodeNameTriggerFunc), so a
        # write wakes only the kubelet of the node(s) involved, not every kubelet in the cluster.
        self._by_node: dict[str, list[Watcher]] = {}
        etcd.store.watch("/registry/", prefix=True, callback=self._on_etcd_event)

    # ---- the watch cache ----------------------------------------------------------------------------
    def get(self, key: str) -> dict | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        obj = json.loads(hit[1])
        obj.setdefault("metadata", {})["resourceVersion"] = str(hit[0])
        return obj

    def list(self, prefix: str) -> list[dict]:
        out = []
        for k in self._keys[bisect.bisect_left(self._keys, prefix):]:
            if not k.startswith(prefix):
                break
            out.append(self.get(k))
        return out

    def _list_resource(self, resource: str) -> list[dict]:
        """For the authorizers (RBAC reads its informers' caches): decoded once per change."""
        gen = self._generation.get(resource, 0)
        hit = self._memo.get(resource)
        if hit is None or hit[0] != gen:
            hit = self._memo[resource] = (gen, self.list(registry.prefix(resource)))
        return hit[1]

    def _pod_node(self, namespace: str, name: str) -> str | None:
        pod = self.get(registry.key("pods", namespace, name))
        return pod["spec"].get("nodeName") if pod else None

    def watch(self, resource: str, who: dict, on_event: Callable[[str, dict], None],
              selector: Callable[[dict], bool] = lambda o: True, node_name: str | None = None) -> None:
        """Register a watch. With node_name, the watch is for Pods with spec.nodeName=<node_name> (the
        selector is then implied)."""
        if node_name is not None:
            w = Watcher(resource, who, lambda o: _node_of(o) == node_name, on_event, node_name, len(self.watchers))
            self._by_node.setdefault(node_name, []).append(w)
        else:
            w = Watcher(resource, who, selector, on_event, None, len(self.watchers))
        self.watchers.append(w)

    def _on_etcd_event(self, ev: WatchEvent) -> None:
        key = ev.kv.key
        resource = registry.resource_of(key)
        self._generation[resource] = self._generation.get(resource, 0) + 1
        watched = any(w.resource == resource for w in self.watchers)
        old = self.get(key) if watched else None
        if ev.type == "PUT":
            if key not in self._cache:
                bisect.insort(self._keys, key)
            self._cache[key] = (ev.kv.mod_revision, ev.kv.value)
        elif self._cache.pop(key, None) is not None:
            del self._keys[bisect.bisect_left(self._keys, key)]
        if not watched:
            return
        new = self.get(key) if ev.type == "PUT" else None
        candidates = [w for w in self.watchers if w.node_name is None]
        if resource == "pods":
            for n in dict.fromkeys((_node_of(old), _node_of(new))):
                if n:
                    candidates += self._by_node.get(n, ())
            candidates.sort(key=lambda w: w.order)
        for w in candidates:
            if w.resource != resource:
                continue
            was = old is not None and w.selector(old)
            now = new is not None and w.selector(new)
            # A watch with a selector sees an object entering the selection as ADDED and leaving it as
            # DELETED (k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go convertToWatchEvent).
            if now and not was:
                kind, obj = "ADDED", new
            elif now and was:
                kind, obj = "MODIFIED", new
            elif was and not now:
                kind, obj = "DELETED", old if new is None else new
            else:
                continue
            self._deliver(w, kind, obj, ev.kv.key, ev.kv.mod_revision)

    def _deliver(self, w: Watcher, kind: str, obj: dict, key: str, rev: int) -> None:
        raw = json.dumps(obj)  # each watcher decodes its own copy, as each informer does

        def push() -> None:
            self.tracer.emit(COMPONENT, self.instance, "apiserver.watch",
                             f"watch {kind} {key} -> {w.who['instance']}",
                             {"resource": w.resource, "event": kind, "key": key, "resourceVersion": str(rev)},
                             to=w.who, obj=registry.objref(obj))
            w.on_event(kind, json.loads(raw))

        self.env.schedule(self.rng.uniform(0.004, 0.015), push)

    # ---- requests -----------------------------------------------------------------------------------
    def handle(self, req: Request) -> Future:
        """Serve a request; the future resolves with a Response."""
        return self.env.process(self._serve(req))

    def _serve(self, req: Request) -> Generator:
        traced = req.traced
        # Network + TLS. In-cluster clients keep an HTTP/2 connection open; kubectl opens a new one.
        yield self.rng.uniform(0.008, 0.02) if traced else self.rng.uniform(0.002, 0.006)
        # 1. authentication
        an = self.authenticator.authenticate(req.credential)
        if traced:
            u = an.user
            self.tracer.emit(COMPONENT, self.instance, "apiserver.authn",
                             f"authenticated {u.name!r} via {u.authenticator}" if an.ok else "authentication failed: 401",
                             {"authenticator": u.authenticator if u else (req.credential.kind if req.credential else "anonymous"),
                              "user": u.name if (u and an.ok) else "", "groups": list(u.groups) if (u and an.ok) else [],
                              "decision": "allow" if an.ok else "deny"})
        if not an.ok:
            return self._fail(req, st.unauthorized(), None)
        user: UserInfo = an.user
        if traced:  # (the checks take microseconds; the pause is there so a class can follow them)
            yield self.rng.uniform(0.005, 0.012)
        # 2. authorization
        # A create is a POST to the collection: the name is in the body, not in the URL, so authorization
        # (and the Forbidden message) sees no name (RequestInfoFactory in k8s.io/apiserver/pkg/endpoints/request).
        url_name = "" if (req.verb == "create" and not req.subresource) else req.name
        attrs = Attributes(user, req.verb, req.resource, req.subresource, req.namespace, url_name, req.api_group)
        dec = self.authorizer.authorize(attrs)
        if traced:
            self.tracer.emit(COMPONENT, self.instance, "apiserver.authz",
                             f"{dec.authorizer or 'RBAC'}: {'allowed' if dec.allowed else 'forbidden'} {user.name} {req.verb} {req.resource}",
                             {"authorizer": dec.authorizer or "RBAC", "user": user.name, "verb": req.verb,
                              "resource": req.resource + (f"/{req.subresource}" if req.subresource else ""),
                              "namespace": req.namespace, "decision": "allow" if dec.allowed else "deny",
                              "reason": dec.reason or "no RBAC rule allows this (and the Node authorizer has no opinion)"})
        if not dec.allowed:
            msg = st.forbidden_message(user.name, req.verb, req.resource, req.subresource, req.api_group, req.namespace)
            if dec.reason:
                msg += ": " + dec.reason
            return self._fail(req, st.forbidden(req.resource, req.api_group, url_name, msg), user)
        # 3. the handler
        if req.resource == "pods" and req.verb == "create" and not req.subresource:
            return (yield from self._create_pod(req, user))
        if req.resource == "pods" and req.subresource == "binding":
            return (yield from self._bind_pod(req, user))
        if req.resource == "pods" and req.subresource == "status":
            return (yield from self._update_pod_status(req, user))
        if req.resource == "events" and req.verb == "create":
            return (yield from self._create_event(req, user))
        if req.verb == "get":
            obj = self.get(registry.key(req.resource, req.namespace, req.name))
            if obj is None:
                return self._fail(req, st.not_found(req.resource, req.name), user)
            return Response(200, obj, None, obj["metadata"]["resourceVersion"])
        return self._fail(req, st._status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"), user)

    def _fail(self, req: Request, status: dict, user: UserInfo | None) -> Response:
        code = status["code"]
        if req.traced:
            self.tracer.emit(COMPONENT, self.instance, "apiserver.response", f"{code} {status['reason']}: {status['message']}",
                             {"code": code, "status": status, "resourceVersion": None}, to=req.client)
        else:
            self._announce(req, user)
            self._answer(req, code, status, None)
        return Response(code, None, status, None)

    # -- create pod (kubectl run) --
    def _create_pod(self, req: Request, user: UserInfo) -> Generator:
        pod = copy.deepcopy(req.body or {})
        meta = pod.setdefault("metadata", {})
        meta.setdefault("namespace", req.namespace)
        name = meta.get("name", "")
        a = adm.Attrs("CREATE", "pods", "", req.namespace, name, user.name)
        set_defaults_pod(pod)  # decoding applies defaults before admission sees the object
        for plugin in self.admission:
            if not (plugin.MUTATING and plugin.handles(a)):
                continue
            yield self.rng.uniform(0.012, 0.03)
            try:
                changes = plugin.admit(a, pod, self, self.rng)
            except adm.AdmissionError as e:
                self._emit_admission("mutating", plugin.NAME, "deny", [], [e.status["message"]])
                return self._fail(req, e.status, user)
            self._emit_admission("mutating", plugin.NAME, "admit", changes, [])
        # Registry strategy: PrepareForCreate (status Pending, QoS class), then uid/creationTimestamp.
        yield self.rng.uniform(0.01, 0.02)
        meta["uid"] = ids.uid(self.rng)
        meta["creationTimestamp"] = clock.rfc3339(self.env.now)
        pod["status"] = {"phase": "Pending", "qosClass": qos_class(pod)}
        errs = validate_pod(pod)
        self.tracer.emit(COMPONENT, self.instance, "apiserver.validation",
                         "object is valid" if not errs else f"invalid: {len(errs)} error(s)",
                         {"decision": "allow" if not errs else "deny", "errors": errs}, obj=registry.objref(pod))
        if errs:
            return self._fail(req, st.invalid("Pod", name, errs), user)
        for plugin in self.admission:
            if not (plugin.VALIDATING and plugin.handles(a)):
                continue
            yield self.rng.uniform(0.008, 0.02)
            try:
                notes = plugin.validate(a, pod, self)
            except adm.AdmissionError as e:
                self._emit_admission("validating", plugin.NAME, "deny", [], [e.status["message"]])
                return self._fail(req, e.status, user)
            # A validating plugin cannot change the object: what it reports are notes.
            self._emit_admission("validating", plugin.NAME, "admit", [], notes)
        key = registry.key("pods", req.namespace, name)
        pod = _ordered_pod(pod)
        # GenericStore.Create -> etcd3 store.Create: Txn(If(mod_revision(key) == 0)).Then(Put(key)).
        self.tracer.emit(COMPONENT, self.instance, "apiserver.storage", f"create {key}", {"op": "create", "key": key},
                         to=ref("etcd", self.etcd.leader), obj=registry.objref(pod))
        resp = yield self.etcd.txn([Compare(key, "mod_revision", "==", 0)], [Op.put(key, _encode(pod))], [Op.get(key)],
                                   client=self.me, obj=registry.objref(pod))
        if not resp.succeeded:
            return self._fail(req, st.already_exists("pods", name), user)
        rv = str(resp.revision)
        pod["metadata"]["resourceVersion"] = rv
        yield self.rng.uniform(0.003, 0.008)
        self.tracer.emit(COMPONENT, self.instance, "apiserver.response", f"201 Created pod/{name}",
                         {"code": 201, "status": None, "resourceVersion": rv}, to=req.client, obj=registry.objref(pod))
        return Response(201, pod, None, rv)

    def _emit_admission(self, phase: str, plugin: str, decision: str, changes: list[str], notes: list[str]) -> None:
        summary = f"{phase} admission {plugin}: {decision}" + (f" ({len(changes)} change(s))" if phase == "mutating" and changes else "")
        self.tracer.emit(COMPONENT, self.instance, "apiserver.admission", summary,
                         {"phase": phase, "plugin": plugin, "decision": decision, "changes": changes, "notes": notes})

    # -- compact in-cluster writes --
    # The request arrow goes out when the request arrives; the response, with its real code, only after etcd
    # has answered (the API server replies once the write is committed, never before).
    def _announce(self, req: Request, user: UserInfo | None) -> None:
        if req.announced:
            return
        req.announced = True
        self.tracer.emit(req.client["component"], req.client["instance"], "apiserver.request",
                         f"{req.method} {req.path}",
                         {"method": req.method, "path": req.path, "user": user.name if user else ""}, to=self.me)

    def _answer(self, req: Request, code: int, status: dict | None, rv: str | None, obj: dict | None = None) -> None:
        summary = f"{code} {status['reason']}: {status['message']}" if status else f"{code} {req.method} {req.path}"
        self.tracer.emit(COMPONENT, self.instance, "apiserver.response", summary,
                         {"code": code, "status": status, "resourceVersion": rv}, to=req.client, obj=obj)

    def _guaranteed_update(self, req: Request, user: UserInfo, key: str, mutate: Callable[[dict], dict | None],
                           code: int) -> Generator:
        """GuaranteedUpdate: read, mutate, Txn(If(mod_revision == read revision)).Then(Put); retry on conflict."""
        for _attempt in range(5):
            cur = self.get(key)
            if cur is None:
                return self._fail(req, st.not_found(req.resource, req.name), user)
            read_rev = int(cur["metadata"]["resourceVersion"])
            err = mutate(cur)
            if err is not None:
                return self._fail(req, err, user)
            self._announce(req, user)
            self.tracer.emit(COMPONENT, self.instance, "apiserver.storage", f"update {key}", {"op": "update", "key": key},
                             to=ref("etcd", self.etcd.leader), obj=registry.objref(cur))
            resp = yield self.etcd.txn([Compare(key, "mod_revision", "==", read_rev)], [Op.put(key, _encode(cur))], [Op.get(key)],
                                       client=self.me, obj=registry.objref(cur))
            if resp.succeeded:
                cur["metadata"]["resourceVersion"] = str(resp.revision)
                self._answer(req, code, None, str(resp.revision), registry.objref(cur))
                return Response(code, cur, None, str(resp.revision))
        return self._fail(req, st.conflict(req.resource, req.name, "the object has been modified; please apply your changes to the latest version and try again"), user)

    def _bind_pod(self, req: Request, user: UserInfo) -> Generator:
        # pkg/registry/core/pod/storage/storage.go BindingREST.Create -> assignPod -> setPodNodeAndMetadata:
        # sets spec.nodeName and the PodScheduled=True condition, failing if already bound.
        node = (req.body or {}).get("target", {}).get("name", "")
        now = clock.rfc3339(self.env.now)

        def mutate(pod: dict) -> dict | None:
            if pod["spec"].get("nodeName"):
                return st.conflict("pods", req.name, f"pod {req.name} is already assigned to node \"{pod['spec']['nodeName']}\"")
            pod["spec"]["nodeName"] = node
            set_condition(pod, {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
            return None

        return (yield from self._guaranteed_update(req, user, registry.key("pods", req.namespace, req.name), mutate, 201))

    def _update_pod_status(self, req: Request, user: UserInfo) -> Generator:
        new_status = (req.body or {}).get("status", {})

        def mutate(pod: dict) -> dict | None:
            pod["status"] = merge_status(pod.get("status", {}), new_status)
            return None

        return (yield from self._guaranteed_update(req, user, registry.key("pods", req.namespace, req.name), mutate, 200))

    def _create_event(self, req: Request, user: UserInfo) -> Generator:
        ev = copy.deepcopy(req.body or {})
        meta = ev.setdefault("metadata", {})
        meta["uid"] = ids.uid(self.rng)
        meta["creationTimestamp"] = clock.rfc3339(self.env.now)
        key = registry.key("events", req.namespace, meta["name"])
        self._announce(req, user)
        # Events carry a TTL lease in etcd (--event-ttl, 1h) - not modelled here.
        resp = yield self.etcd.txn([Compare(key, "mod_revision", "==", 0)], [Op.put(key, _encode(ev))], [],
                                   client=self.me, obj=registry.objref(ev))
        if not resp.succeeded:
            return self._fail(req, st.already_exists("events", meta["name"]), user)
        self._answer(req, 201, None, str(resp.revision), registry.objref(ev))
        return Response(201, ev, None, str(resp.revision))


def qos_class(pod: dict) -> str:
    """pkg/apis/core/helper/qos: BestEffort with no requests/limits, Guaranteed when requests == limits for
    cpu and memory in every container, else Burstable."""
    containers = pod["spec"].get("containers", [])
    if all(not c.get("resources", {}).get("requests") and not c.get("resources", {}).get("limits") for c in containers):
        return "BestEffort"
    for c in containers:
        r = c.get("resources", {})
        lim, req = r.get("limits", {}), r.get("requests", {}) or r.get("limits", {})
        if not all(k in lim and str(lim[k]) == str(req.get(k, lim[k])) for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"


def set_condition(pod: dict, cond: dict) -> None:
    conds = pod.setdefault("status", {}).setdefault("conditions", [])
    for i, c in enumerate(conds):
        if c["type"] == cond["type"]:
            if c.get("status") == cond.get("status"):
                cond = {**cond, "lastTransitionTime": c.get("lastTransitionTime")}
            conds[i] = cond
            return
    conds.append(cond)


def merge_status(old: dict, new: dict) -> dict:
    out = dict(old)
    out.update(new)
    return out


def _encode(obj: dict) -> str:
    from ..etcd.member import encode
    return encode(obj)


_POD_ORDER = ("kind", "apiVersion", "metadata", "spec", "status")


def _ordered_pod(pod: dict) -> dict:
    pod.setdefault("kind", "Pod")
    pod.setdefault("apiVersion", "v1")
    return {k: pod[k] for k in _POD_ORDER if k in pod} | {k: v for k, v in pod.items() if k not in _POD_ORDER}
