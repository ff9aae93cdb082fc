"""A small in-memory stand-in for the API server + client, for unit-testing controllers in isolation.

It follows the shared contract's interface (`get`, `list`, `watch` on the API; `create/get/list/update/
patch/delete` on the client, each returning a Future[Response]) and the semantics the controllers rely
on: resourceVersion compare-and-swap on update (409), metadata.generation bumped on spec changes,
finalizers (deletionTimestamp, object kept until they are gone), graceful deletion of bound Pods
(kept with deletionTimestamp until deleted with grace 0), namespaces going Terminating. It writes no
trace events and has no authentication: the real pipeline is the API server's business.
"""
from __future__ import annotations

import copy
import json
from typing import Callable

from simulator import clock, ids
from simulator.apiserver import registry
from simulator.apiserver.patch import merge_patch
from simulator.apiserver.server import Response

KINDS = {"pods": ("v1", "Pod"), "nodes": ("v1", "Node"), "namespaces": ("v1", "Namespace"),
         "services": ("v1", "Service"), "endpoints": ("v1", "Endpoints"), "events": ("v1", "Event"),
         "configmaps": ("v1", "ConfigMap"), "secrets": ("v1", "Secret"), "serviceaccounts": ("v1", "ServiceAccount"),
         "endpointslices": ("discovery.k8s.io/v1", "EndpointSlice"),
         "deployments": ("apps/v1", "Deployment"), "replicasets": ("apps/v1", "ReplicaSet"),
         "leases": ("coordination.k8s.io/v1", "Lease")}


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}




class FakeApi:
    def __init__(self, env, rng, latency: float = 0.003):
        self.env = env
        self.rng = rng
        self.latency = latency
        self.rev = 1
        self.data: dict[str, tuple[int, str]] = {}
        self.watchers: list[tuple[str, Callable, Callable]] = []
        self.requests: list[tuple[str, str, str, float]] = []   # (verb, resource, name, time) log
        self.fail: Callable[[str, str, dict | None], Response | None] | None = None  # fault injection

    # -- cache --
    def get(self, key: str) -> dict | None:
        hit = self.data.get(key)
        if hit is None:
            return None
        obj = json.loads(hit[1])
        obj["metadata"]["resourceVersion"] = str(hit[0])
        return obj

    def list(self, prefix: str) -> list[dict]:
        return [self.get(k) for k in sorted(self.data) if k.startswith(prefix)]

    def watch(self, resource, who, on_event, selector=lambda o: True, node_name=None) -> None:
        if node_name is not None:
            selector = lambda o, n=node_name: o.get("spec", {}).get("nodeName") == n  # noqa: E731
        self.watchers.append((resource, selector, on_event))

    def _write(self, key: str, obj: dict | None) -> None:
        old = self.get(key)
        self.rev += 1
        if obj is None:
            self.data.pop(key, None)
        else:
            obj["metadata"].pop("resourceVersion", None)
            self.data[key] = (self.rev, json.dumps(obj))
        new = self.get(key) if obj is not None else None
        res = registry.resource_of(key)
        for r, sel, fn in self.watchers:
            if r != res:
                continue
            was, now = old is not None and sel(old), new is not None and sel(new)
            if now:
                kind, o = ("MODIFIED" if was else "ADDED"), new
            elif was:
                kind, o = "DELETED", (old if new is None else new)
            else:
                continue
            raw = json.dumps(o)
            self.env.schedule(0.005, lambda fn=fn, kind=kind, raw=raw: fn(kind, json.loads(raw)))

    def put_now(self, resource: str, obj: dict) -> dict:
        """Bootstrap an object directly (tests)."""
        obj = copy.deepcopy(obj)
        self._fill(resource, obj, obj["metadata"].get("namespace", ""))
        self._write(registry.key(resource, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]), obj)
        return self.get(registry.key(resource, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))

    def _fill(self, resource: str, obj: dict, namespace: str) -> None:
        api_version, kind = KINDS.get(resource, ("v1", resource.capitalize()))
        obj.setdefault("apiVersion", api_version)
        obj.setdefault("kind", kind)
        m = obj.setdefault("metadata", {})
        if resource not in registry.CLUSTER_SCOPED:
            m.setdefault("namespace", namespace or "default")
        if not m.get("name") and m.get("generateName"):
            m["name"] = m["generateName"] + ids.rand_string(self.rng, 5)
        m.setdefault("uid", ids.uid(self.rng))
        m.setdefault("creationTimestamp", clock.rfc3339(self.env.now))
        if "spec" in obj and resource not in ("pods", "nodes", "namespaces", "services"):
            m.setdefault("generation", 1)
        if resource == "namespaces":
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})

    def client(self, who: dict | None = None) -> "FakeClient":
        return FakeClient(self)

    # -- the handlers --
    def serve(self, verb: str, resource: str, namespace: str, name: str, body: dict | None,
              subresource: str = "", **kw) -> Response:
        self.requests.append((verb, resource + (f"/{subresource}" if subresource else ""), name, round(self.env.now, 6)))
        if self.fail is not None:
            r = self.fail(verb, resource, body)
            if r is not None:
                return r
        ns = "" if resource in registry.CLUSTER_SCOPED else (namespace or "default")
        if verb == "create":
            obj = copy.deepcopy(body)
            self._fill(resource, obj, ns)
            key = registry.key(resource, ns, obj["metadata"]["name"])
            if key in self.data:
                return Response(409, None, _status(409, "AlreadyExists", f'{resource} "{obj["metadata"]["name"]}" already exists'))
            nsobj = self.get(registry.key("namespaces", "", ns)) if ns else None
            if ns and nsobj is not None and nsobj["metadata"].get("deletionTimestamp"):
                return Response(403, None, _status(403, "Forbidden", f'{resource} "{obj["metadata"]["name"]}" is forbidden: unable to create new content in namespace {ns} because it is being terminated'))
            self._write(key, obj)
            o = self.get(key)
            return Response(201, o, None, o["metadata"]["resourceVersion"])
        key = registry.key(resource, ns, name)
        cur = self.get(key)
        if verb == "get":
            return Response(200, cur, None, cur["metadata"]["resourceVersion"]) if cur else \
                Response(404, None, _status(404, "NotFound", f'{resource} "{name}" not found'))
        if verb == "list":
            items = self.list(registry.prefix(resource, ns))
            return Response(200, {"kind": "List", "items": items}, None, str(self.rev))
        if cur is None:
            return Response(404, None, _status(404, "NotFound", f'{resource} "{name}" not found'))
        if verb in ("update", "patch"):
            if verb == "update":
                rv = (body.get("metadata") or {}).get("resourceVersion")
                if rv and rv != cur["metadata"]["resourceVersion"]:
                    return Response(409, None, _status(409, "Conflict", f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; please apply your changes to the latest version and try again'))
                new = copy.deepcopy(body)
            elif kw.get("patch_type") == "json":
                new = copy.deepcopy(cur)
                for op in body:
                    parts = [x for x in op["path"].split("/") if x]
                    tgt = new
                    for x in parts[:-1]:
                        tgt = tgt.setdefault(x, {})
                    if op["op"] in ("replace", "add"):
                        tgt[parts[-1]] = copy.deepcopy(op["value"])
                    elif op["op"] == "remove":
                        tgt.pop(parts[-1], None)
            else:
                new = merge_patch(cur, body)
            if subresource == "status":
                out = copy.deepcopy(cur)
                out["status"] = new.get("status", {})
                new = out
            elif subresource == "finalize":
                out = copy.deepcopy(cur)
                out["spec"] = new.get("spec", {})
                new = out
            else:
                if resource not in ("pods",) and "status" in cur:
                    new["status"] = cur["status"]  # status is ignored on the main resource
                for k in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp"):
                    if k in cur["metadata"]:
                        new["metadata"][k] = cur["metadata"][k]
                if "generation" in cur["metadata"]:
                    new["metadata"]["generation"] = cur["metadata"]["generation"] + (1 if new.get("spec") != cur.get("spec") else 0)
            new["metadata"].pop("resourceVersion", None)
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers") and \
                    not (resource == "namespaces" and new.get("spec", {}).get("finalizers")) and resource != "pods":
                self._write(key, None)
                return Response(200, new, None, str(self.rev))
            self._write(key, new)
            o = self.get(key)
            return Response(200, o, None, o["metadata"]["resourceVersion"])
        if verb == "delete":
            grace = kw.get("grace_period_seconds")
            m = cur["metadata"]
            if resource == "pods" and cur["spec"].get("nodeName") and grace != 0:
                if not m.get("deletionTimestamp"):
                    g = cur["spec"].get("terminationGracePeriodSeconds", 30) if grace is None else grace
                    m["deletionTimestamp"] = clock.rfc3339(self.env.now + g)
                    m["deletionGracePeriodSeconds"] = g
                    self._write(key, cur)
                return Response(200, self.get(key), None, None)
            if m.get("finalizers") or (resource == "namespaces" and cur.get("spec", {}).get("finalizers")):
                if not m.get("deletionTimestamp"):
                    m["deletionTimestamp"] = clock.rfc3339(self.env.now)
                    if resource == "namespaces":
                        cur["status"] = {"phase": "Terminating"}
                    self._write(key, cur)
                return Response(200, self.get(key), None, None)
            self._write(key, None)
            return Response(200, cur, None, None)
        return Response(405, None, _status(405, "MethodNotAllowed", "not supported"))


class FakeClient:
    def __init__(self, api: FakeApi):
        self.api = api

    def _later(self, fn):
        fut = self.api.env.future()
        self.api.env.schedule(self.api.latency, lambda: fut.resolve(fn()))
        return fut

    def create(self, resource, body, namespace=""):
        return self._later(lambda: self.api.serve("create", resource, namespace, "", body))

    def get(self, resource, name, namespace=""):
        return self._later(lambda: self.api.serve("get", resource, namespace, name, None))

    def list(self, resource, namespace="", label_selector="", field_selector=""):
        return self._later(lambda: self.api.serve("list", resource, namespace, "", None))

    def update(self, resource, body, namespace="", subresource="", quiet=False):
        ns = namespace or body.get("metadata", {}).get("namespace", "")
        return self._later(lambda: self.api.serve("update", resource, ns, body["metadata"]["name"], body,
                                                  subresource=subresource))

    def patch(self, resource, name, patch, namespace="", subresource="", patch_type="merge"):
        return self._later(lambda: self.api.serve("patch", resource, namespace, name, patch, subresource=subresource,
                                                  patch_type=patch_type))

    def delete(self, resource, name, namespace="", propagation=None, grace_period_seconds=None):
        return self._later(lambda: self.api.serve("delete", resource, namespace, name, None,
                                                  grace_period_seconds=grace_period_seconds))


class FakeNodeAgents:
    """Stands in for the scheduler and the kubelets in controller unit tests: a new Pod is placed on the
    node with the fewest Pods among the schedulable, untainted ready nodes, gets an IP and turns Running
    and Ready after `start_delay`; a Pod with a deletionTimestamp on a live node is removed after
    `stop_delay` (the kubelet's confirmation). Nodes listed in `down` do nothing (a dead kubelet)."""

    def __init__(self, api: FakeApi, nodes: list[str], start_delay: float = 2.0, stop_delay: float = 1.0):
        self.api, self.env = api, api.env
        self.nodes = list(nodes)
        self.start_delay, self.stop_delay = start_delay, stop_delay
        self.down: set[str] = set()
        self.not_ready: set[str] = set()   # pods (ns/name) whose readiness probe fails
        self._ip = 10
        api.watch("pods", {"component": "fake", "instance": "agents"}, self._on_pod)
        for n in self.nodes:
            if api.get(registry.key("nodes", "", n)) is None:
                api.put_now("nodes", {"metadata": {"name": n, "labels": {"kubernetes.io/hostname": n}},
                                      "spec": {}, "status": {"conditions": [
                                          {"type": "Ready", "status": "True", "reason": "KubeletReady",
                                           "lastHeartbeatTime": clock.rfc3339(self.env.now),
                                           "lastTransitionTime": clock.rfc3339(self.env.now)}]}})

    def _eligible(self) -> list[str]:
        out = []
        for n in self.nodes:
            node = self.api.get(registry.key("nodes", "", n))
            if node is None or node["spec"].get("unschedulable"):
                continue
            if any(t.get("effect") in ("NoSchedule", "NoExecute") for t in node["spec"].get("taints") or []):
                continue
            out.append(n)
        return out

    def _on_pod(self, kind: str, pod: dict) -> None:
        key = registry.key("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
        if kind == "DELETED":
            return
        if pod["metadata"].get("deletionTimestamp"):
            node = pod["spec"].get("nodeName")
            if node and node not in self.down:
                self.env.schedule(self.stop_delay, lambda: self.api.get(key) is not None and self.api._write(key, None))
            return
        if kind == "ADDED" and not pod["spec"].get("nodeName"):
            self.env.schedule(0.01, lambda: self._bind(key))

    def _bind(self, key: str) -> None:
        pod = self.api.get(key)
        nodes = self._eligible()
        if pod is None or pod["spec"].get("nodeName") or not nodes:
            if pod is not None and not pod["spec"].get("nodeName"):
                self.env.schedule(1.0, lambda: self._bind(key))  # unschedulable for now: retry
            return
        counts = {n: 0 for n in nodes}
        for p in self.api.list("/registry/pods/"):
            if p["spec"].get("nodeName") in counts and not p["metadata"].get("deletionTimestamp"):
                counts[p["spec"]["nodeName"]] += 1
        node = min(nodes, key=lambda n: (counts[n], n))
        pod["spec"]["nodeName"] = node
        pod["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}
        self.api._write(key, pod)
        self.env.schedule(self.start_delay, lambda: self._run(key, node))

    def _run(self, key: str, node: str) -> None:
        pod = self.api.get(key)
        if pod is None or node in self.down or pod["metadata"].get("deletionTimestamp"):
            return
        self._ip += 1
        ready = "False" if f"{pod['metadata']['namespace']}/{pod['metadata']['name']}" in self.not_ready else "True"
        now = clock.rfc3339(self.env.now)
        pod["status"] = {"phase": "Running", "podIP": f"10.244.1.{self._ip}", "podIPs": [{"ip": f"10.244.1.{self._ip}"}],
                         "conditions": [{"type": "PodScheduled", "status": "True"},
                                        {"type": "Ready", "status": ready, "lastTransitionTime": now}]}
        self.api._write(key, pod)

    def set_ready(self, ns: str, name: str, ready: bool) -> None:
        """A readiness probe result changes (the kubelet updates the Ready condition)."""
        key = registry.key("pods", ns, name)
        pod = self.api.get(key)
        for c in pod["status"]["conditions"]:
            if c["type"] == "Ready":
                c["status"] = "True" if ready else "False"
                c["lastTransitionTime"] = clock.rfc3339(self.env.now)
        self.api._write(key, pod)

    def heartbeat(self, period: float = 10.0) -> None:
        """Node Lease renewals every `period` s for the nodes that are up (the kubelets' heartbeat)."""
        def beat() -> None:
            for n in self.nodes:
                if n in self.down:
                    continue
                key = registry.key("leases", "kube-node-lease", n)
                lease = self.api.get(key) or {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                              "metadata": {"name": n, "namespace": "kube-node-lease"},
                                              "spec": {"holderIdentity": n, "leaseDurationSeconds": 40}}
                lease["spec"]["renewTime"] = clock.rfc3339_micro(self.env.now)
                if "uid" not in lease["metadata"]:
                    self.api._fill("leases", lease, "kube-node-lease")
                self.api._write(key, lease)
            self.env.schedule(period, beat)
        beat()

    def node_ready_again(self, name: str) -> None:
        """The kubelet is back: it posts Ready=True (and the Lease renewals resume)."""
        self.down.discard(name)
        key = registry.key("nodes", "", name)
        node = self.api.get(key)
        now = clock.rfc3339(self.env.now)
        for c in node["status"]["conditions"]:
            c.update({"status": "True" if c["type"] == "Ready" else "False", "reason": "KubeletReady" if c["type"] == "Ready" else c.get("reason"),
                      "lastHeartbeatTime": now, "lastTransitionTime": now})
        self.api._write(key, node)


def harness(nodes=("worker-1", "worker-2", "worker-3"), seed: int = 1, heartbeat: bool = True, **agent_kw):
    """(env, tracer, api, controller-manager, agents): a leading controller-manager over a FakeApi."""
    import random

    from simulator.controller_manager import ControllerManager
    from simulator.kernel import Environment
    from simulator.trace import Tracer

    env = Environment()
    tracer = Tracer(env, "test")
    api = FakeApi(env, random.Random(f"{seed}/api"))
    for ns in ("default", "kube-system", "kube-node-lease"):
        api.put_now("namespaces", {"metadata": {"name": ns}})
    agents = FakeNodeAgents(api, list(nodes), **agent_kw)
    if heartbeat:
        agents.heartbeat()
    cm = ControllerManager(env, random.Random(f"{seed}/cm"), tracer, api, client=api.client())
    cm.start()
    cm.on_started_leading()
    return env, tracer, api, cm, agents
