"""A typed-client-like helper over the API server (client-go's clientset, reduced to what components need).

`Client(api, credential, who)`: `api` is an ApiServer or the LoadBalancer in front of several; `who` is the
component's ref (the arrow's origin in traces). Every call builds the REST request (method, path, verb,
group) from `registry.RESOURCES` and returns the Future[Response] of `api.handle(...)`.
"""
from __future__ import annotations

from typing import Callable

from .apiserver import registry
from .apiserver.server import Request, WatchExpired
from .kernel import Future
from .trace import ref

_METHOD = {"get": "GET", "list": "GET", "create": "POST", "update": "PUT", "patch": "PATCH", "delete": "DELETE",
           "deletecollection": "DELETE"}


class Client:
    def __init__(self, api, credential=None, who: dict | None = None, traced: bool = False):
        self.api = api
        self.credential = credential
        self.who = who or ref("kubectl", "kubectl")
        self.traced = traced

    def request(self, verb: str, resource: str, namespace: str = "", name: str = "", subresource: str = "",
                body=None, query: dict | None = None, patch_type: str = "", quiet: bool = False,
                traced: bool | None = None) -> Future:
        info = registry.RESOURCES[resource]
        ns = namespace if info.namespaced else ""
        path = registry.path(resource, ns, "" if verb in ("create", "list", "deletecollection") and not subresource else name,
                             subresource)
        if verb == "create" and subresource:
            path = registry.path(resource, ns, name, subresource)
        return self.send(Request(_METHOD[verb], path, verb, resource, ns, name, subresource=subresource,
                                 api_group=info.group, body=body, credential=self.credential, client=self.who,
                                 traced=self.traced if traced is None else traced, query=dict(query or {}),
                                 patch_type=patch_type, quiet=quiet))

    def send(self, req: Request) -> Future:
        """Where every request goes out (a subclass may announce it first)."""
        return self.api.handle(req)

    # -- verbs --
    def get(self, resource: str, name: str, namespace: str = "", subresource: str = "", **kw) -> Future:
        return self.request("get", resource, namespace, name, subresource, **kw)

    def list(self, resource: str, namespace: str = "", label_selector: str = "", field_selector: str = "",
             resource_version: str | None = None, **kw) -> Future:
        q = {}
        if label_selector:
            q["labelSelector"] = label_selector
        if field_selector:
            q["fieldSelector"] = field_selector
        if resource_version is not None:
            q["resourceVersion"] = resource_version
        return self.request("list", resource, namespace, query=q, **kw)

    def create(self, resource: str, body: dict, namespace: str = "", **kw) -> Future:
        ns = namespace or (body.get("metadata") or {}).get("namespace", "")
        if registry.RESOURCES[resource].namespaced and not ns:
            ns = "default"
        name = (body.get("metadata") or {}).get("name", "")
        return self.request("create", resource, ns, name, body=body, **kw)

    def update(self, resource: str, body: dict, namespace: str = "", subresource: str = "", **kw) -> Future:
        meta = body.get("metadata") or {}
        ns = namespace or meta.get("namespace", "")
        return self.request("update", resource, ns, meta.get("name", ""), subresource, body=body, **kw)

    def update_status(self, resource: str, body: dict, namespace: str = "", **kw) -> Future:
        return self.update(resource, body, namespace, "status", **kw)

    def patch(self, resource: str, name: str, patch, namespace: str = "", subresource: str = "",
              patch_type: str = "merge", **kw) -> Future:
        return self.request("patch", resource, namespace, name, subresource, body=patch, patch_type=patch_type, **kw)

    def delete(self, resource: str, name: str, namespace: str = "", propagation: str | None = None,
               grace_period_seconds: int | None = None, preconditions: dict | None = None, **kw) -> Future:
        q = {}
        if propagation is not None:
            q["propagationPolicy"] = propagation
        if grace_period_seconds is not None:
            q["gracePeriodSeconds"] = grace_period_seconds
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": preconditions} if preconditions else None
        return self.request("delete", resource, namespace, name, body=body, query=q, **kw)

    def delete_collection(self, resource: str, namespace: str = "", label_selector: str = "", field_selector: str = "",
                          propagation: str | None = None, grace_period_seconds: int | None = None, **kw) -> Future:
        q = {}
        if label_selector:
            q["labelSelector"] = label_selector
        if field_selector:
            q["fieldSelector"] = field_selector
        if propagation is not None:
            q["propagationPolicy"] = propagation
        if grace_period_seconds is not None:
            q["gracePeriodSeconds"] = grace_period_seconds
        return self.request("deletecollection", resource, namespace, query=q, **kw)

    def bind(self, pod: dict, node: str, **kw) -> Future:
        m = pod["metadata"]
        body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m.get("uid", "")},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        return self.request("create", "pods", m["namespace"], m["name"], "binding", body=body, **kw)

    def evict(self, namespace: str, name: str, **kw) -> Future:
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
        return self.request("create", "pods", namespace, name, "eviction", body=body, **kw)

    def can_i(self, verb: str, resource: str, namespace: str = "", name: str = "", group: str = "",
              subresource: str = "", **kw) -> Future:
        """kubectl auth can-i: POST a SelfSubjectAccessReview."""
        ra = {"verb": verb, "resource": resource}
        for k, v in (("namespace", namespace), ("name", name), ("group", group), ("subresource", subresource)):
            if v:
                ra[k] = v
        body = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {},
                "spec": {"resourceAttributes": ra}}
        return self.request("create", "selfsubjectaccessreviews", body=body, **kw)

    def watch(self, resource: str, on_event: Callable[[str, dict], None], namespace: str = "",
              label_selector: str = "", field_selector: str = "", resource_version: str | None = None, **kw):
        """A watch stream: on_event(ADDED|MODIFIED|DELETED, obj). When the resourceVersion is too old the
        stream yields one ERROR event carrying the 410 Status (reason Expired), as a real watch does,
        and ends (the caller relists); returns None then, else the watcher."""
        try:
            return self.api.watch(resource, self.who, on_event, namespace=namespace, label_selector=label_selector,
                                  field_selector=field_selector, resource_version=resource_version, **kw)
        except WatchExpired as e:
            on_event("ERROR", e.status)
            return None
