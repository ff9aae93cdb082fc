"""The Kubernetes REST API over HTTP, served by the live simulated cluster (simulator/live.py).

Every resource request becomes a simulator `Request` handed to the modelled kube-apiserver (authn, authz,
admission, validation, etcd), so a student's `kubectl run` takes the same path, and makes the same trace
events, as a scenario's request. This module only translates HTTP to and from it:

- paths: /api/v1/..., /apis/<group>/<version>/..., namespaced or not, with subresources
  (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go RequestInfoFactory);
- verbs from the method (GET get/list/watch, POST create, PUT update, PATCH patch, DELETE delete or
  deletecollection); patch types from Content-Type;
- `watch=true` as a stream of JSON watch events (one per line, chunked), BOOKMARK events when
  `allowWatchBookmarks=true`, an ERROR event carrying the 410 Status when the resourceVersion is too old,
  and the stream ended after `timeoutSeconds`;
- `Accept: ...;as=Table;...` answered with a Table (kubectl get), for list, get and watch;
- discovery (/version, /api, /apis, the resource lists) and /healthz, /livez, /readyz;
- `pods/<name>/log`: the container's simulated output, from its node's container runtime.

One asyncio loop owns the cluster: `drive()` advances it with the wall clock and hands its trace events to
`publish`; requests wake it.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from typing import Awaitable, Callable

import yaml
from aiohttp import web

from simulator import clock
from simulator.apiserver import registry
from simulator.apiserver import status as st
from simulator.apiserver.audit import note_decision
from simulator.apiserver.authn import Credential, UserInfo
from simulator.apiserver.authz import Attributes
from simulator.apiserver.server import Request, WatchExpired, binding_success
from simulator.live import LiveCluster
from simulator.trace import ref

from . import discovery, events_v1, podexec, protobuf, tables

log = logging.getLogger(__name__)

_PATH = re.compile(r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
                   r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?/?\Z")
# The API server's proxy to a node's kubelet (pkg/registry/core/node/rest/proxy.go): here only the kubelet's
# /logs/ handler, which serves the node's /var/log as a file server (http.FileServer: Range requests answered
# with 206, past the end with 416), so the control-plane node's audit log can be followed.
_NODE_PROXY = re.compile(r"^/api/v1/nodes/(?P<name>[^/]+)/proxy(?P<rest>/[\s\S]*)?\Z")
_PATCH_TYPES = {"application/merge-patch+json": "merge", "application/strategic-merge-patch+json": "strategic",
                "application/json-patch+json": "json"}
_BODY_TYPES = ("application/json", "application/yaml")
PROTOBUF = "application/vnd.kubernetes.protobuf"
_METHOD_VERB = {"POST": "create", "PUT": "update", "PATCH": "patch"}
# What kube-apiserver's watch sends as a bookmark interval is about a minute (cacher.go); kubectl and
# informers only need one now and then to remember where they are.
BOOKMARK_EVERY_S = 10.0
# A watch request without timeoutSeconds is ended by the server after a while (--min-request-timeout 1800 s,
# randomised up to twice that); clients watch again from their last resourceVersion.
MAX_WATCH_S = 1800.0
KUBECTL = ref("kubectl", "kubectl")


def _json(body: dict, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json", headers=headers)


def _status(status: dict) -> web.Response:
    return _json(status, status=status["code"])


def _wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first


def credential_of(request: web.Request) -> Credential | None:
    """A bearer token, or nothing (anonymous). Malformed Authorization headers present a token nobody has,
    so they fail with 401 as kube-apiserver's bearer authenticator does."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Credential.bearer("")
    return Credential.bearer(token.strip())


class KubeApi:
    def __init__(self, live: LiveCluster, publish: Callable[[list[dict]], Awaitable[None]] | None = None,
                 authenticate_hook: Callable[[Credential], Awaitable[None]] | None = None):
        self.live = live
        self.publish = publish
        # Called before a bearer token is checked: a chance to load it (dashboard/kubeapi/tokens.py).
        self.authenticate_hook = authenticate_hook
        self.wake = asyncio.Event()
        self.stopping = False

    # -- the clock --------------------------------------------------------------------------------------------

    async def drive(self) -> None:
        """Advance the cluster with the wall clock, forever; publish its trace events as they come."""
        while not self.stopping:
            self.wake.clear()
            self.live.advance()
            events = self.live.drain()
            if events and self.publish is not None:
                try:
                    await self.publish(events)
                except Exception:
                    log.exception("kubeapi: publishing %d events failed", len(events))
            try:
                await asyncio.wait_for(self.wake.wait(), self.live.until_next(0.5))
            except asyncio.TimeoutError:
                pass

    def _await(self, kfut) -> asyncio.Future:
        """An asyncio future for a kernel future (resolved while drive() runs the cluster)."""
        af = asyncio.get_running_loop().create_future()

        def done(value):
            if not af.done():
                af.set_result(value)

        kfut.add_waiter(done)
        self.wake.set()
        return af

    # -- the application --------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=3 * 1024 * 1024)  # kube-apiserver's MaxRequestBodyBytes (3 MiB)
        app.router.add_route("*", "/{tail:[\\s\\S]*}", self.handle)  # any path, newlines and all
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._handle(request)
        except web.HTTPException:
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug here must still answer as an API server would
            log.exception("kubeapi: %s %s failed", request.method, request.path)
            return _status(st.internal_error(f"{type(exc).__name__}: {exc}"))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        cred = credential_of(request)
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        user = await self._authenticate(cred)
        if user is None:
            return self._unauthorized(request, cred)
        if path in ("/version", "/version/"):
            return _json(discovery.version())
        m = _NODE_PROXY.match(path)
        if m is not None:
            return await self._node_proxy(request, user, m["name"], m["rest"] or "/")
        m = _PATH.match(path)
        if m is None:
            return await self._non_resource(request, user, path)
        return await self._resource(request, cred, user, m)

    async def _authenticate(self, cred: Credential | None):
        if cred is not None and self.authenticate_hook is not None:
            await self.authenticate_hook(cred)
        result = self.live.cluster.apiserver.authenticator.authenticate(cred)
        return result.user if result.ok else None

    def _authorized(self, user, verb: str, resource: str, subresource: str, namespace: str, name: str,
                    group: str, entry=None) -> dict | None:
        """None when allowed, else the 403 Status (for requests not served by the modelled pipeline). The
        decision and its reason go into the request's audit entry, as filters/authorization.go puts them."""
        dec = self.live.cluster.apiserver.authorizer.authorize(
            Attributes(user, verb, resource, subresource, namespace, name, group))
        note_decision(entry, dec)
        if dec.allowed:
            return None
        msg = st.forbidden_message(user.name, verb, resource, subresource, group, namespace)
        if dec.reason:
            msg += ": " + dec.reason
        return st.forbidden(resource, group, name, msg)

    # -- the audit log (written by the modelled API server for what it serves; here for the rest) ----------

    def _audit(self, request: web.Request, user, verb: str, resource: str = "", sub: str = "", ns: str = "",
               name: str = "", group: str = "", resource_request: bool = True):
        """(Audit-Id, the request's audit entry or None) for a request this layer answers itself."""
        audit_id = str(uuid.uuid4())
        log_ = self.live.cluster.apiserver.audit
        if log_ is None:
            return audit_id, None
        attrs = Attributes(user, verb, resource, sub, ns, name, group, request.path, resource_request)
        entry = log_.begin(audit_id, attrs, request.path_qs, _source_ips(request),
                           request.headers.get("User-Agent", ""), self._audit_now())
        return audit_id, entry

    def _unauthorized(self, request: web.Request, cred) -> web.Response:
        """401, and its audit event as filters.WithFailedAuthenticationAudit writes it: no user, the stage
        ResponseStarted, and a message naming what was tried (getAuthMethods)."""
        nobody = UserInfo("", (), "")
        m = _PATH.match(request.path)
        if m is None:
            audit_id, entry = self._audit(request, nobody, "get", resource_request=False)
        else:
            audit_id, entry = self._audit(request, nobody, _verb(request.method, bool(m["name"]), request.query) or "",
                                          m["resource"], m["sub"] or "", m["ns"] or "", m["name"] or "", m["group"] or "")
        tried = "bearer" if cred is not None else ""
        status = {"message": f"Authentication failed, attempted: {tried}" if tried
                  else "Authentication failed, no credentials provided"}
        self._audit_done(entry, 401, status, stage="ResponseStarted")
        resp = _status(st.unauthorized())
        resp.headers["Audit-Id"] = audit_id
        return resp

    def _audit_now(self) -> str:
        return clock.rfc3339_micro(self.live.env.now)

    def _audit_done(self, entry, code: int, status: dict | None = None, stage: str = "ResponseComplete",
                    api_version: str = "v1", response=None) -> None:
        if entry is None:
            return
        self.live.cluster.apiserver.audit.write(entry, stage, self._audit_now(), code, status=status, response=response,
                                                api_version=api_version if entry.object_ref is not None else "")

    # -- nodes/<name>/proxy: the kubelet's /logs/ ------------------------------------------------------------

    async def _node_proxy(self, request: web.Request, user, name: str, rest: str) -> web.StreamResponse:
        verb = _verb("GET" if request.method == "HEAD" else request.method, True, request.query) or "get"
        node = name.split(":")[1] if name.count(":") == 2 else name.split(":")[0]   # [scheme:]name[:port]
        audit_id, entry = self._audit(request, user, verb, "nodes", "proxy", "", node)
        resp = await self._node_proxy_answer(request, user, verb, node, rest, entry)
        resp.headers["Audit-Id"] = audit_id
        self._audit_done(entry, resp.status, _status_of(resp))
        return resp

    async def _node_proxy_answer(self, request: web.Request, user, verb: str, node: str, rest: str,
                                 entry) -> web.StreamResponse:
        denied = self._authorized(user, verb, "nodes", "proxy", "", node, "", entry)
        if denied:
            return _status(denied)
        if self.live.cluster.get(registry.key("nodes", "", node)) is None:
            return _status(st.not_found("nodes", node))
        not_found = web.Response(status=404, text="404 page not found\n", content_type="text/plain", charset="utf-8")
        if request.method not in ("GET", "HEAD") or not (rest == "/logs" or rest.startswith("/logs/")):
            return not_found
        root = self.node_logs(node)
        if root is None:
            return not_found
        if rest == "/logs":
            raise web.HTTPMovedPermanently(location="logs/")
        try:
            target = (root / rest[len("/logs/"):]).resolve()
            target.relative_to(root.resolve())
        except (ValueError, OSError):
            return not_found
        if target.is_dir():
            if not rest.endswith("/"):
                raise web.HTTPMovedPermanently(location=target.name + "/")
            # http.FileServer's listing of a directory
            names = sorted(p.name + ("/" if p.is_dir() else "") for p in target.iterdir())
            listing = "<pre>\n" + "".join(f'<a href="{n}">{n}</a>\n' for n in names) + "</pre>\n"
            return web.Response(text=listing, content_type="text/html", charset="utf-8")
        if not target.is_file():
            return not_found
        # aiohttp's FileResponse answers Range requests as Go's http.ServeContent does (206 with Content-Range;
        # 416 with "Content-Range: bytes */<size>" past the end).
        return web.FileResponse(target, headers={"Content-Type": "text/plain; charset=utf-8"})

    def node_logs(self, node: str):
        """A node's /var/log: the control-plane node's holds the API server's audit log (kubernetes/)."""
        log_ = self.live.cluster.apiserver.audit
        if log_ is None or node not in self.live.cluster.control_plane_hosts:
            return None
        return log_.path.parent.parent

    async def _non_resource(self, request: web.Request, user, path: str) -> web.StreamResponse:
        audit_id, entry = self._audit(request, user, "get", resource_request=False)
        note_decision(entry, self.live.cluster.apiserver.authorizer.authorize(
            Attributes(user, "get", "", path=path, resource_request=False)))
        resp = await self._non_resource_answer(request, user, path)
        resp.headers["Audit-Id"] = audit_id
        self._audit_done(entry, resp.status)
        return resp

    async def _non_resource_answer(self, request: web.Request, user, path: str) -> web.StreamResponse:
        if user.name == "system:anonymous":
            # system:discovery is bound to system:authenticated only (bootstrap policy).
            return _status(st._status(403, "Forbidden", f'forbidden: User "system:anonymous" cannot get path "{path}"', {}))
        parts = [p for p in path.split("/") if p]
        body = None
        if parts == ["api"]:
            body = discovery.api_versions(request.host)
        elif parts == ["api", "v1"]:
            body = discovery.resource_list("", "v1")
        elif parts == ["apis"]:
            body = discovery.api_groups()
        elif len(parts) == 2 and parts[0] == "apis":
            body = discovery.api_group(parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            body = discovery.resource_list(parts[1], parts[2])
        elif parts == ["openapi", "v3"]:
            body = discovery.openapi_index()
        elif len(parts) in (4, 5) and parts[:2] == ["openapi", "v3"]:
            rest = parts[2:]
            if rest[0] == "api" and len(rest) == 2:
                body = discovery.openapi_doc("", rest[1])
            elif rest[0] == "apis" and len(rest) == 3:
                body = discovery.openapi_doc(rest[1], rest[2])
        if body is None:
            return _status(st._status(404, "NotFound", "the server could not find the requested resource",
                                      {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}))
        return _json(body)

    # -- resources --------------------------------------------------------------------------------------------

    async def _resource(self, request: web.Request, cred, user, m: re.Match) -> web.StreamResponse:
        group = m["group"] or ""
        version = m["core"] or m["version"]
        ns, resource, name, sub = m["ns"] or "", m["resource"], m["name"] or "", m["sub"] or ""
        if ns and not name and resource in ("status", "finalize"):  # /api/v1/namespaces/<name>/status
            resource, name, sub, ns = "namespaces", ns, resource, ""
        # events.k8s.io/v1 events: the core Events, converted on the way in and out; authorized as their group.
        alias = discovery.ALIASES.get((group, version, resource))
        info = registry.RESOURCES.get(resource)
        if alias is not None:
            info = alias
        elif info is None or info.group != group or info.version != version:
            return _status(st.not_found_resource())
        if ns and not info.namespaced:
            return _status(st.not_found_resource())
        q = request.query
        method = request.method
        verb = _verb(method, bool(name), q)
        if verb is None:
            return _status(st.method_not_allowed())
        if sub == "exec" and resource == "pods" and method in ("GET", "POST"):
            audit_id, entry = self._audit(request, user, verb if method == "GET" else "create", "pods", "exec", ns, name)
            resp = await podexec.serve(self, request, user, ns, name, audit_id, entry)
            if not isinstance(resp, web.WebSocketResponse):
                resp.headers["Audit-Id"] = audit_id
                self._audit_done(entry, resp.status, _status_of(resp))
            return resp
        if sub == "log" and resource == "pods" and verb == "get":
            return await self._log(request, user, ns, name)
        if verb == "watch":
            return await self._watch(request, cred, user, resource, info, ns)
        body = None
        if method in ("POST", "PUT", "PATCH", "DELETE") and request.can_read_body:
            raw = await request.read()
            # No Content-Type: the first type the server speaks, JSON (NegotiateInputSerializerForMediaType).
            ctype = request.content_type if request.headers.get("Content-Type") else "application/json"
            if raw and method != "PATCH" and ctype == PROTOBUF:
                # kubectl's typed clients (create deployment, scale, auth can-i ...) send protobuf.
                try:
                    body = protobuf.decode(raw)
                except protobuf.ProtobufError as exc:
                    return _status(st.bad_request(f"the body of the request could not be decoded as "
                                                  f"{PROTOBUF}: {exc}"))
                raw = b""
            elif raw and method != "PATCH" and ctype not in _BODY_TYPES:
                # CBOR and anything else: what kube-apiserver answers a type it does not accept
                # (negotiation.NewUnsupportedMediaTypeError); client-go then falls back to JSON for CBOR.
                return _status(st._status(415, "UnsupportedMediaType",
                                          f"the body of the request was in an unknown format - accepted media "
                                          f"types include: {', '.join(_BODY_TYPES + (PROTOBUF,))}"))
            if raw:
                try:
                    body = yaml.safe_load(raw) if ctype == "application/yaml" else json.loads(raw)
                except (ValueError, yaml.YAMLError) as exc:  # YAMLError is not a ValueError (a NUL byte, say)
                    return _status(st.bad_request(f"the body of the request was in an unknown format - accepted "
                                                  f"media types include: application/json: {exc}"))
        patch_type = ""
        if verb == "patch":
            ctype = request.content_type
            if ctype == "application/apply-patch+yaml":
                return _status(st._status(415, "UnsupportedMediaType",
                                          "server-side apply is not modelled by this simulated cluster; "
                                          "use client-side apply (kubectl apply without --server-side)"))
            patch_type = _PATCH_TYPES.get(ctype)
            if patch_type is None:
                return _status(st._status(415, "UnsupportedMediaType", f"the body of the request was in an unknown "
                                                                       f"format - accepted media types include: "
                                                                       f"{', '.join(_PATCH_TYPES)}"))
        query = {k: v for k, v in q.items()
                 if k in ("labelSelector", "fieldSelector", "resourceVersion", "propagationPolicy", "dryRun")}
        if "gracePeriodSeconds" in q:
            try:
                query["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
            except ValueError:
                return _status(st.bad_request(f"invalid gracePeriodSeconds: {q['gracePeriodSeconds']}"))
        if alias is not None and body is not None:
            body = events_v1.patch_to_core(body) if patch_type == "json" else events_v1.to_core(body)
        if verb == "create" and not sub and isinstance(body, dict):
            name = (body.get("metadata") or {}).get("name", "") or name
        req = Request(method, request.path, verb, resource, ns, name, subresource=sub, api_group=group, body=body,
                      credential=cred, client=KUBECTL, traced=verb not in ("get", "list"), query=query,
                      patch_type=patch_type, audit_id=str(uuid.uuid4()), request_uri=request.path_qs,
                      user_agent=request.headers.get("User-Agent", ""), source_ip=(_source_ips(request) or [""])[-1],
                      audit_by_caller=True)
        resp = await self._await(self.live.request(req))
        headers = {"Audit-Id": req.audit_id}
        if resp.warnings:
            headers["Warning"] = ", ".join(f'299 - "{w}"' for w in resp.warnings)
        if not resp.ok:
            self._audit_done(req.audit, resp.code, resp.status, api_version=info.version)
            return _json(resp.status, status=resp.code, headers=headers)
        body = resp.body
        if sub == "binding":
            body = binding_success()   # (the modelled server hands its in-cluster caller the bound Pod)
        if body is not None and _wants_table(request) and verb in ("get", "list") and not sub:
            objects = body.get("items", []) if verb == "list" else [body]
            body = tables.table(resource, objects, self.live.now(), resp.resource_version or "",
                                q.get("includeObject", "Metadata"))
        elif alias is not None:
            body = events_v1.convert_response(body)
        # (what kubectl gets back is what the audit event's responseObject holds: a Table for `kubectl get`)
        self._audit_done(req.audit, resp.code, response=body, api_version=info.version)
        return _json(body if body is not None else {}, status=resp.code, headers=headers)

    async def _watch(self, request: web.Request, cred, user, resource: str, info, ns: str) -> web.StreamResponse:
        q = request.query
        audit_id, entry = self._audit(request, user, "watch", resource, "", ns, "", info.group)

        def answer(status: dict) -> web.Response:
            self._audit_done(entry, status["code"], status, api_version=info.version)
            return _json(status, status=status["code"], headers={"Audit-Id": audit_id})

        denied = self._authorized(user, "watch", resource, "", ns, "", info.group, entry)
        if denied:
            return answer(denied)
        try:
            timeout = min(float(q.get("timeoutSeconds", MAX_WATCH_S)), MAX_WATCH_S)
        except ValueError:
            return answer(st.bad_request(f"invalid timeoutSeconds: {q.get('timeoutSeconds')}"))
        table = _wants_table(request)
        include = q.get("includeObject", "Metadata")
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        events: asyncio.Queue = asyncio.Queue()
        # Unset resourceVersion: the current objects first, as synthetic ADDED events ("Get State and Start
        # at Most Recent"); "0" the same from any cache; "N": every change after N.
        rv = q.get("resourceVersion") or "0"
        initial: list[dict] | None = None
        if q.get("sendInitialEvents") == "true":
            # A watch-list (client-go's WatchListClient, what kubectl rollout status uses): the current objects
            # as ADDED, then a BOOKMARK annotated k8s.io/initial-events-end, then the changes after them.
            if not bookmarks:
                return answer(st.invalid("ListOptions", "", [{"reason": "FieldValueForbidden", "field": "allowWatchBookmarks",
                                                               "message": "Forbidden: sendInitialEvents requires setting "
                                                                          "allowWatchBookmarks to true"}]))
            listing = await self._await(self.live.request(Request(
                "GET", request.path, "list", resource, ns, api_group=info.group, credential=cred, client=KUBECTL,
                quiet=True, query={k: q[k] for k in ("labelSelector", "fieldSelector") if k in q})))
            if not listing.ok:
                return answer(listing.status)
            initial, rv = listing.body["items"], listing.resource_version
        if rv not in ("", "0"):
            try:
                int(rv)
            except ValueError:
                return answer(st.bad_request(f"invalid resource version: {rv}"))
        last_rv = [rv]

        def on_event(kind: str, obj: dict) -> None:
            events.put_nowait((kind, obj))

        # Registered before the response starts: a selector that does not parse is a 400; a resourceVersion
        # older than the watch cache is a 200 whose only event is an ERROR carrying 410 Gone (the cacher
        # answers inside the stream, which is what client-go's reflectors expect).
        expired = None
        try:
            watcher = self.live.watch(resource, KUBECTL, on_event, namespace=ns,
                                      label_selector=q.get("labelSelector", ""),
                                      field_selector=q.get("fieldSelector", ""), resource_version=rv, quiet=True)
        except WatchExpired as exc:
            watcher, expired = None, exc.status
        except ValueError as exc:  # a selector that does not parse
            return answer(st.bad_request(str(exc)))
        resp = web.StreamResponse(headers={"Content-Type": "application/json", "Audit-Id": audit_id})
        try:
            await resp.prepare(request)
            # A long-running request: its audit event at ResponseStarted, and again when the stream ends.
            self._audit_done(entry, 200, stage="ResponseStarted", api_version=info.version)
            if expired is not None:
                await resp.write(_line({"type": "ERROR", "object": expired}))
                return resp
            self.wake.set()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            first = True
            if initial is not None:
                for obj in initial:
                    if table:
                        obj = tables.table(resource, [obj], self.live.now(), rv, include, columns=first)
                        first = False
                    elif info.group == events_v1.GROUP:
                        obj = events_v1.to_v1(obj)
                    await resp.write(_line({"type": "ADDED", "object": obj}))
                await resp.write(_line({"type": "BOOKMARK", "object": {
                    "kind": info.kind, "apiVersion": info.api_version,
                    "metadata": {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}}}))
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    kind, obj = await asyncio.wait_for(events.get(), min(left, BOOKMARK_EVERY_S))
                except asyncio.TimeoutError:
                    if bookmarks and loop.time() < deadline:
                        await resp.write(_line({"type": "BOOKMARK", "object": {
                            "kind": info.kind, "apiVersion": info.api_version,
                            "metadata": {"resourceVersion": str(self.live.cluster.apiserver.revision)}}}))
                    continue
                if kind == "ERROR":
                    await resp.write(_line({"type": "ERROR", "object": obj}))
                    break
                last_rv[0] = (obj.get("metadata") or {}).get("resourceVersion", last_rv[0])
                if table:
                    obj = tables.table(resource, [obj], self.live.now(), last_rv[0], include, columns=first)
                    first = False
                elif info.group == events_v1.GROUP:
                    obj = events_v1.to_v1(obj)
                await resp.write(_line({"type": kind, "object": obj}))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if watcher is not None:
                watcher.stop()
            self._audit_done(entry, 200, api_version=info.version)
        return resp

    async def _log(self, request: web.Request, user, ns: str, name: str) -> web.StreamResponse:
        """GET pods/<name>/log: the API server asks the Pod's node's kubelet, which reads the runtime's log."""
        audit_id, entry = self._audit(request, user, "get", "pods", "log", ns, name)
        resp = await self._log_answer(request, user, ns, name, entry)
        resp.headers["Audit-Id"] = audit_id
        self._audit_done(entry, resp.status, _status_of(resp))
        return resp

    async def _log_answer(self, request: web.Request, user, ns: str, name: str, entry) -> web.StreamResponse:
        denied = self._authorized(user, "get", "pods", "log", ns, name, "", entry)
        if denied:
            return _status(denied)
        pod = self.live.cluster.get(registry.key("pods", ns, name))
        if pod is None:
            return _status(st.not_found("pods", name))
        want, statuses, refused = podexec.container_of(pod, name, request.query.get("container"))
        if refused:
            return _status(refused)
        cid = (statuses.get(want) or {}).get("containerID", "")
        node = pod["spec"].get("nodeName")
        runtime = self.live.cluster.runtimes.get(node) if node else None
        cid = cid.split("://", 1)[-1]
        if runtime is None or not cid or cid not in runtime.containers:
            return _status(st.bad_request(f'container "{want}" in pod "{name}" is waiting to start: '
                                          "ContainerCreating"))
        lines = runtime.logs(cid)
        tail = request.query.get("tailLines")
        if tail is not None:
            try:
                n = int(tail)
            except ValueError:
                return _status(st.bad_request(f"invalid tailLines: {tail}"))
            lines = lines[-n:] if n > 0 else []
        text = "".join(line + "\n" for line in lines)
        return web.Response(text=text, content_type="text/plain")


def _status_of(resp: web.StreamResponse) -> dict | None:
    """The Status a JSON error response carries (for its audit event)."""
    if resp.status < 400 or not isinstance(resp, web.Response) or resp.content_type != "application/json":
        return None
    try:
        return json.loads(resp.body)
    except (TypeError, ValueError):
        return None


def _verb(method: str, named: bool, query) -> str | None:
    """The request's verb, as RequestInfoFactory derives it from the method (None: a method not served)."""
    if method == "GET":
        return "get" if named else "watch" if query.get("watch") in ("true", "1") else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return _METHOD_VERB.get(method)


def _source_ips(request: web.Request) -> list:
    """The client's address (and X-Forwarded-For's, first, as utilnet.SourceIPs lists them)."""
    ips = [ip.strip() for ip in request.headers.get("X-Forwarded-For", "").split(",") if ip.strip()]
    if request.remote and request.remote not in ips:
        ips.append(request.remote)
    return ips


def _line(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"
