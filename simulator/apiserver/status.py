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


def not_found(resource: str, name: str, group: str = "") -> dict:
    details = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = resource
    return _status(404, "NotFound", f'{resource} "{name}" not found', details)


def already_exists(resource: str, name: str) -> dict:
    return _status(409, "AlreadyExists", f'{resource} "{name}" already exists', {"name": name, "kind": resource})


def conflict(resource: str, name: str, err: str) -> dict:
    return _status(409, "Conflict", f'Operation cannot be fulfilled on {resource} "{name}": {err}',
                   {"name": name, "kind": resource})


def invalid(kind: str, name: str, causes: list[dict]) -> dict:
    """errors.NewInvalid: 'Pod "x" is invalid: <field>: <detail>' with one cause per field error.
    With several errors the message lists them in brackets, comma separated."""
    texts = [f'{c["field"]}: {c["message"]}' for c in causes]
    body = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return _status(422, "Invalid", f'{kind} "{name}" is invalid: {body}',
                   {"name": name, "kind": kind, "causes": causes})

