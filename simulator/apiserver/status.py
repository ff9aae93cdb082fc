"""metav1.Status objects as kube-apiserver returns them (k8s.io/apimachinery/pkg/api/errors/errors.go)."""
from __future__ import annotations


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
          "reason": reason}
    if details is not None:
        st["details"] = details
    st["code"] = code
    return st


def unauthorized() -> dict:
    # What an invalid credential gets back: k8s.io/apiserver/pkg/endpoints/handlers/responsewriters
    # (authentication failed -> errors.NewUnauthorized("Unauthorized")); no details.
    return _status(401, "Unauthorized", "Unauthorized")


def forbidden(resource: str, group: str, name: str, message: str) -> dict:
    """errors.NewForbidden(qualifiedResource, name, err): '<resource> "<name>" is forbidden: <err>'."""
    qualified = f"{resource}.{group}" if group else resource
    prefix = f'{qualified} "{name}"' if name else qualified
    details: dict = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = resource
    return _status(403, "Forbidden", f"{prefix} is forbidden: {message}", details)


def forbidden_message(user: str, verb: str, resource: str, subresource: str, group: str, namespace: str) -> str:
    """responsewriters.forbiddenMessage (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go)."""
    res = f"{resource}/{subresource}" if subresource else resource
    if namespace:
        return f'User "{user}" cannot {verb} resource "{res}" in API group "{group}" in the namespace "{namespace}"'
    return f'User "{user}" cannot {verb} resource "{res}" in API group "{group}" at the cluster scope'


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str) -> dict:
    d = {"name": name} if name else {}
    if group:
        d["group"] = group
    d["kind"] = kind
    return d


def not_found(resource: str, name: str, group: str = "") -> dict:
    """errors.NewNotFound(qualifiedResource, name): 'deployments.apps "web" not found'."""
    return _status(404, "NotFound", f'{_qualified(resource, group)} "{name}" not found', _details(name, group, resource))


def already_exists(resource: str, name: str, group: str = "") -> dict:
    """errors.NewAlreadyExists: 'pods "nginx" already exists'."""
    return _status(409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
                   _details(name, group, resource))


# storage.OptimisticLockErrorMsg (k8s.io/apiserver/pkg/storage/errors.go)
OPTIMISTIC_LOCK = "the object has been modified; please apply your changes to the latest version and try again"


def conflict(resource: str, name: str, err: str = OPTIMISTIC_LOCK, group: str = "") -> dict:
    """errors.NewConflict: 'Operation cannot be fulfilled on pods "x": <err>'."""
    return _status(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {err}',
                   _details(name, group, resource))


def expired(message: str) -> dict:
    """errors.NewResourceExpired: 410 Gone, reason Expired (the watch cache's 'too old resource version')."""
    return _status(410, "Expired", message)


def bad_request(message: str) -> dict:
    return _status(400, "BadRequest", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> dict:
    return _status(405, "MethodNotAllowed", message)


def not_found_resource() -> dict:
    """An unknown resource path: the mux's 404 (errors.NewNotFound with an empty resource)."""
    return _status(404, "NotFound", "the server could not find the requested resource", {})


def internal_error(message: str) -> dict:
    """responsewriters.ErrorToAPIStatus for an error that is not a Status (an etcd client error such as
    "etcdserver: request timed out"): 500, reason StatusReasonUnknown (""), which JSON omits - hence
    kubectl's bare "Error from server: etcdserver: request timed out"."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "code": 500}


def service_unavailable(message: str) -> dict:
    return _status(503, "ServiceUnavailable", message)


def success(name: str, group: str, resource: str, uid: str = "", code: int | None = None) -> dict:
    """What DELETE answers for a resource whose store does not return the deleted object
    (Store.finalizeDelete, k8s.io/apiserver/pkg/registry/generic/registry/store.go): a Status Success whose
    details name the object (kind = the resource's plural, as qualifiedResource.Resource); code is omitted."""
    d = {"name": name}
    if group:
        d["group"] = group
    d["kind"] = resource
    if uid:
        d["uid"] = uid
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d}
    if code is not None:
        st["code"] = code
    return st


def invalid(kind: str, name: str, causes: list[dict], group: str = "") -> dict:
    """errors.NewInvalid(qualifiedKind, name, errs): 'Pod "x" is invalid: <field>: <detail>' with one cause
    per field error; several errors are listed in brackets, comma separated. For a kind outside the core
    group the message names the qualified kind (GroupKind.String(): "SelfSubjectAccessReview.authorization.k8s.io")
    and the details carry the group."""
    texts = [f'{c["field"]}: {c["message"]}' for c in causes]
    body = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    qualified = f"{kind}.{group}" if group else kind
    details = {"name": name, "group": group, "kind": kind, "causes": causes} if group else \
        {"name": name, "kind": kind, "causes": causes}
    return _status(422, "Invalid", f'{qualified} "{name}" is invalid: {body}', details)

