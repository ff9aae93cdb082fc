"""A REST client for in-cluster components (the contract's `Client` interface), used when
simulator/client.py is not there: each call builds the `Request` client-go would send
(method, path from registry.path, verb, query) and returns the API server's Future[Response]."""
from __future__ import annotations

from ..apiserver import Request, registry

_METHOD = {"create": "POST", "get": "GET", "list": "GET", "update": "PUT", "patch": "PATCH", "delete": "DELETE"}


class ApiClient:
    def __init__(self, api, credential, who: dict):
        self.api = api
        self.credential = credential
        self.who = who

    def _req(self, verb: str, resource: str, namespace: str = "", name: str = "", subresource: str = "",
             body=None, query: dict | None = None, patch_type: str = "", quiet: bool = False):
        info = registry.RESOURCES[resource]
        ns = namespace if info.namespaced else ""
        path = registry.path(resource, ns, name if verb not in ("create", "list") or subresource else "", subresource)
        req = Request(_METHOD[verb], path, verb, resource, ns, name, subresource, info.group, body=body,
                      credential=self.credential, client=self.who, query=query or {}, patch_type=patch_type,
                      quiet=quiet)
        return self.api.handle(req)

    def create(self, resource: str, body: dict, namespace: str = "", quiet: bool = False):
        ns = namespace or body.get("metadata", {}).get("namespace", "")
        return self._req("create", resource, ns, body.get("metadata", {}).get("name", ""), body=body, quiet=quiet)

    def get(self, resource: str, name: str, namespace: str = "", quiet: bool = False):
        return self._req("get", resource, namespace, name, quiet=quiet)

    def list(self, resource: str, namespace: str = "", label_selector: str = "", field_selector: str = ""):
        q = {}
        if label_selector:
            q["labelSelector"] = label_selector
        if field_selector:
            q["fieldSelector"] = field_selector
        return self._req("list", resource, namespace, query=q)

    def update(self, resource: str, body: dict, namespace: str = "", subresource: str = "", quiet: bool = False):
        m = body.get("metadata", {})
        return self._req("update", resource, namespace or m.get("namespace", ""), m.get("name", ""), subresource,
                         body=body, quiet=quiet)

    def patch(self, resource: str, name: str, patch, namespace: str = "", subresource: str = "",
              patch_type: str = "merge", quiet: bool = False):
        return self._req("patch", resource, namespace, name, subresource, body=patch, patch_type=patch_type, quiet=quiet)

    def delete(self, resource: str, name: str, namespace: str = "", propagation: str | None = None,
               grace_period_seconds: int | None = None):
        q = {}
        if propagation:
            q["propagationPolicy"] = propagation
        if grace_period_seconds is not None:
            q["gracePeriodSeconds"] = grace_period_seconds
        return self._req("delete", resource, namespace, name, query=q)
