"""The three patch types kube-apiserver accepts on PATCH (k8s.io/apiserver/pkg/endpoints/handlers/patch.go):

- JSON merge patch, RFC 7386 (application/merge-patch+json): maps merge recursively, null deletes, lists
  are replaced whole.
- JSON patch, RFC 6902 (application/json-patch+json): a list of add/remove/replace/move/copy/test operations
  addressed by JSON pointers (RFC 6901).
- Strategic merge patch (application/strategic-merge-patch+json, kubectl's default for built-in types;
  k8s.io/apimachinery/pkg/util/strategicpatch/patch.go): like a merge patch, but a list field whose Go type
  carries `patchStrategy:"merge"` is merged element by element using its `patchMergeKey`, as tagged in
  k8s.io/api/core/v1/types.go and apps/v1/types.go; lists without a strategy (tolerations, taints,
  containerStatuses, args, command) are replaced whole (the Kubernetes docs' "Update API Objects in Place
  Using kubectl patch" shows the tolerations case). The directives `$patch` (replace/delete/merge),
  `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>` and `$retainKeys` are understood.

Each function returns a new object and never changes its arguments.
"""
from __future__ import annotations

import copy
from typing import Any


class PatchError(Exception):
    """The patch cannot be applied (the server answers 422, or 400 for a malformed patch)."""

    def __init__(self, message: str, code: int = 422):
        super().__init__(message)
        self.code = code


# ---- RFC 7386 -------------------------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ---- RFC 6902 -------------------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer must start with '/': {path!r}", 400)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list, tok: str, path: str, allow_end: bool) -> int:
    if tok == "-" and allow_end:
        return len(container)
    if not tok.isdigit() or (len(tok) > 1 and tok[0] == "0"):
        raise PatchError(f"invalid index referenced: {path}")
    i = int(tok)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError(f"Unable to access invalid index: {i}: {path}")
    return i


def _parent(doc: Any, toks: list[str], op: str, path: str) -> Any:
    cur = doc
    for tok in toks[:-1]:
        if isinstance(cur, dict) and tok in cur:
            cur = cur[tok]
        elif isinstance(cur, list):
            cur = cur[_index(cur, tok, path, False)]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return cur


def _get(doc: Any, path: str, op: str) -> Any:
    toks = _pointer(path)
    if not toks:
        return doc
    parent = _parent(doc, toks, op, path)
    tok = toks[-1]
    if isinstance(parent, dict) and tok in parent:
        return parent[tok]
    if isinstance(parent, list):
        return parent[_index(parent, tok, path, False)]
    raise PatchError(f"{op} operation does not apply: doc is missing key: {path}: missing value")


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    toks = _pointer(path)
    if not toks:
        return value
    parent = _parent(doc, toks, op, path)
    tok = toks[-1]
    if isinstance(parent, dict):
        parent[tok] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tok, path, True), value)
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    toks = _pointer(path)
    parent = _parent(doc, toks, op, path)
    tok = toks[-1]
    if isinstance(parent, dict) and tok in parent:
        return parent.pop(tok)
    if isinstance(parent, list):
        return parent.pop(_index(parent, tok, path, False))
    raise PatchError(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
    doc = copy.deepcopy(target)
    for o in ops:
        if not isinstance(o, dict) or "op" not in o:
            raise PatchError("Unexpected kind: missing op", 400)
        kind, path = o["op"], o.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(o.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path, "replace")
            toks = _pointer(path)
            if not toks:
                doc = copy.deepcopy(o.get("value"))
            else:
                parent = _parent(doc, toks, "replace", path)
                if isinstance(parent, list):
                    parent[_index(parent, toks[-1], path, False)] = copy.deepcopy(o.get("value"))
                else:
                    parent[toks[-1]] = copy.deepcopy(o.get("value"))
        elif kind == "move":
            value = _remove(doc, o["from"], "move")
            doc = _add(doc, path, value, "move")
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, o["from"], "copy")), "copy")
        elif kind == "test":
            try:
                actual = _get(doc, path, "test")
            except PatchError:
                actual = None
            if actual != o.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}", 400)
    return doc


# ---- strategic merge patch ------------------------------------------------------------------------------
# patchMergeKey of list fields tagged patchStrategy:"merge" (k8s.io/api core/v1, apps/v1, meta/v1 types.go),
# by field name; "ports" depends on where it is (a container's ports vs a Service's).
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
    "env": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "hostAliases": "ip", "conditions": "type", "addresses": "type", "ownerReferences": "uid",
    "podIPs": "ip", "hostIPs": "ip", "resourceClaims": "name", "schedulingGates": "name",
}
# Lists of scalars with patchStrategy:"merge" (union on patch): ObjectMeta.finalizers, NodeSpec.podCIDRs.
_PRIMITIVE_MERGE = {"finalizers", "podCIDRs"}


def _merge_key(path: tuple[str, ...]) -> str | None:
    field = path[-1]
    if field == "ports":
        parent = path[-2] if len(path) > 1 else ""
        return "containerPort" if parent in ("containers", "initContainers", "ephemeralContainers") else "port"
    return _MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        raise PatchError("json: cannot unmarshal into a strategic merge patch: not an object", 400)
    return _smp_map(target if isinstance(target, dict) else {}, patch, ())


def _smp_map(orig: dict, patch: dict, path: tuple[str, ...]) -> dict:
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    out = dict(orig)
    orders = {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            f = k.split("/", 1)[1]
            out[f] = [x for x in out.get(f) or [] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            cur = out.get(k)
            out[k] = _smp_map(cur if isinstance(cur, dict) else {}, v, path + (k,))
        elif isinstance(v, list):
            out[k] = _smp_list(out.get(k) if isinstance(out.get(k), list) else [], v, path + (k,))
        else:
            out[k] = v
    for f, order in orders.items():
        if isinstance(out.get(f), list):
            out[f] = _apply_order(out[f], order, _merge_key(path + (f,)))
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _smp_list(orig: list, patch: list, path: tuple[str, ...]) -> list:
    field = path[-1]
    if field in _PRIMITIVE_MERGE:
        out = list(orig)
        for x in patch:
            if x not in out:
                out.append(copy.deepcopy(x))
        return out
    key = _merge_key(path)
    if key is None:
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and x.get("$patch"))]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    out = list(orig)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"unable to find api field in struct for the patch of list {field!r}")
        if item.get("$patch") == "delete":
            out = [x for x in out if not (isinstance(x, dict) and x.get(key) == item.get(key))]
            continue
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        for i, x in enumerate(out):
            if isinstance(x, dict) and x.get(key) == item[key]:
                out[i] = _smp_map(x, item, path)
                break
        else:
            out.append(_smp_map({}, item, path))
    return out


def _apply_order(items: list, order: list, key: str | None) -> list:
    """$setElementOrder: the patch's order for the elements it names, the others after, in their order."""
    def ident(x):
        return x.get(key) if (key and isinstance(x, dict)) else x
    wanted = [ident(o) if isinstance(o, dict) else o for o in order]
    pos = {w: i for i, w in enumerate(wanted)}
    named = sorted((x for x in items if ident(x) in pos), key=lambda x: pos[ident(x)])
    return named + [x for x in items if ident(x) not in pos]


def apply(patch_type: str, target: dict, patch: Any) -> dict:
    """patch_type: "merge", "json" or "strategic" ("" means strategic, kubectl's default)."""
    if patch_type == "merge":
        if not isinstance(patch, dict):
            raise PatchError("json: cannot unmarshal into a merge patch: not an object", 400)
        return merge_patch(target, patch)
    if patch_type == "json":
        return json_patch(target, patch)
    if patch_type in ("strategic", ""):
        return strategic_merge_patch(target, patch)
    raise PatchError(f"unsupported patch type {patch_type!r}", 415)
