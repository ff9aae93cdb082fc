"""Manifests in: read ordinary Kubernetes YAML/JSON files and check every document before anything is sent.

What kubectl does before it sends a request (k8s.io/cli-runtime/pkg/resource: visitor.go reads files and
splits multi-document YAML with yaml.NewYAMLOrJSONDecoder; mapper.go maps apiVersion+kind to a resource
through discovery) plus, statically, what the API server would check at decode time
(defaults, then validation, k8s.io/apiserver/pkg/endpoints/handlers/create.go). All of it happens for every
document of every file before the first request, so an invalid manifest changes nothing.

Documents are numbered from 1 in the order the YAML stream holds them (the text between `---` lines);
an empty document (a stray `---`, comments only) is skipped, as kubectl skips it, but keeps its number, so
"document 3" is the third `---`-separated part of the file. A `kind: List` document is expanded into its
items (kubectl does the same); an item's fields are reported as `items[i].<field>`.

Errors read `error: FILE: document N: FIELD: MESSAGE`, MESSAGE in the API server's words
(k8s.io/apimachinery/pkg/util/validation/field/errors.go: "Required value", "Invalid value: ...").
"""
from __future__ import annotations

import copy
import os
import sys
from dataclasses import dataclass, field

import yaml

from .apiserver import registry

STDIN = "STDIN"  # how kubectl names `-f -` in its messages

# kubectl's default namespace (the admin kubeconfig's context has none, so "default").
DEFAULT_NAMESPACE = "default"

# Create-only kinds that are never stored (SelfSubjectAccessReview ...): nothing of them would be in the
# List, so apply refuses them as it refuses an unknown kind.
_NOT_STORED = set(getattr(registry, "VIRTUAL", ())) | {"bindings"}


@dataclass(frozen=True)
class Kind:
    resource: str      # plural resource name: "pods"
    group: str
    version: str
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def resources() -> dict[str, Kind]:
    """resource -> Kind, from apiserver.registry.RESOURCES (the API server's own table: what discovery
    would tell kubectl)."""
    return {res: Kind(res, i.group, i.version, i.kind, bool(i.namespaced)) for res, i in registry.RESOURCES.items()}


def kind_for(api_version: str, kind: str) -> Kind | None:
    for k in resources().values():
        if k.kind == kind and k.api_version == api_version and k.resource not in _NOT_STORED:
            return k
    return None


def kind_of_resource(resource: str) -> Kind | None:
    return resources().get(resource)


@dataclass
class Doc:
    """One object to create: where it came from and what it is."""
    file: str                 # the path as given on the command line ("STDIN" for -)
    index: int                # the document's number in its file, from 1
    obj: dict                 # the object as written (after JSON conversion), namespace filled in
    kind: Kind
    item: int | None = None   # index within a `kind: List` document
    line: int = 0             # first line of the document (1-based), for messages

    @property
    def name(self) -> str:
        return self.obj.get("metadata", {}).get("name", "")

    @property
    def namespace(self) -> str:
        return self.obj.get("metadata", {}).get("namespace", "") if self.kind.namespaced else ""

    @property
    def where(self) -> str:
        return f"{self.file}: document {self.index}"

    def field(self, path: str) -> str:
        return f"items[{self.item}].{path}" if self.item is not None else path


@dataclass
class ManifestError(Exception):
    file: str
    index: int | None          # None: about the file as a whole (unreadable)
    field: str                 # "" when no single field is concerned (a YAML syntax error)
    message: str
    extra: list = field(default_factory=list)

    def __str__(self) -> str:
        parts = [self.file]
        if self.index is not None:
            parts.append(f"document {self.index}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return "error: " + ": ".join(parts)


class ManifestErrors(Exception):
    def __init__(self, errors: list[ManifestError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


# ---- reading --------------------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """YAML as sigs.k8s.io/yaml reads it on its way to JSON: timestamps stay strings (JSON has no dates)."""

    def compose_node(self, parent, index):
        # Remember each anchor's name (for go-yaml's "anchor 'x' value contains itself").
        event = self.peek_event()
        node = super().compose_node(parent, index)
        anchor = None if isinstance(event, yaml.AliasEvent) else getattr(event, "anchor", None)
        if anchor is not None:
            self.anchor_names[id(node)] = anchor
        return node


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in rs if tag != "tag:yaml.org,2002:timestamp"]
    for ch, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _alias_budget_exceeded(decode_count: int, alias_count: int) -> bool:
    """go-yaml's guard against "billion laughs" documents (gopkg.in/yaml.v2 decode.go, allowedAliasRatio,
    vendored by sigs.k8s.io/yaml as goyaml.v2): once more than 100 of over 1000 decode operations came from
    alias expansion, the alias-driven share may be at most 99% up to 400,000 decodes, falling linearly to
    10% at 4,000,000."""
    if alias_count <= 100 or decode_count <= 1000:
        return False
    low, high = 400_000, 4_000_000
    if decode_count <= low:
        allowed = 0.99
    elif decode_count >= high:
        allowed = 0.10
    else:
        allowed = 0.99 - 0.89 * ((decode_count - low) / (high - low))
    return alias_count / decode_count > allowed


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _children(node) -> list:
    """The nodes go-yaml decodes under `node`, in text order: a sequence's items; a mapping's keys and
    values, except that a merge key `<<` is not decoded and a merged sequence of maps decodes each map."""
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        out = []
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.tag == _MERGE_TAG:
                out += list(v.value) if isinstance(v, yaml.SequenceNode) else [v]
            else:
                out += [k, v]
        return out
    return []


def check_aliasing(root, anchors: dict[int, str]) -> str | None:
    """go-yaml's answer for a composed document: None, or the error it would refuse the document with.

    PyYAML's composer hands back the anchored node itself for every `*alias`, so the document is a graph
    that shares nodes. A first walk, never entering a node twice, finds which (parent, child) slots are
    aliases: anchors precede their aliases in the text and the walk goes in text order, so the first slot
    to reach a node is the anchored node itself and every later one is an alias. A second walk then counts
    the decode operations go-yaml's decoder makes (gopkg.in/yaml.v2 decode.go: decoder.unmarshal,
    decoder.alias, decoder.mapping, decoder.merge): the document node once, every node where it stands,
    and at each alias the alias node plus the anchored node's whole subtree again, those counted as
    alias-driven. It stops as soon as go-yaml would (allowedAliasRatio), so its work is bounded by the
    document's size times a constant, never by the expansion. An alias whose expansion reaches itself is
    "anchor 'x' value contains itself". (go-yaml walks a merge sequence backwards; only the moment of
    refusal can differ, not whether.)"""
    if root is None:
        return None
    aliases: set[tuple[int, int]] = set()
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        fresh = []
        for i, child in enumerate(_children(node)):
            if id(child) in seen:
                aliases.add((id(node), i))
            else:
                seen.add(id(child))
                fresh.append(child)
        stack.extend(reversed(fresh))
    decode, alias = 1, 0   # 1: the document node
    expanding: set[int] = set()
    # (node, alias depth, reached through an alias) - or (None, id, False): leave that node's expansion.
    walk: list = [(root, 0, False)]
    while walk:
        node, depth, via_alias = walk.pop()
        if node is None:
            expanding.discard(depth)
            continue
        if via_alias:
            decode += 1            # the alias node itself ...
            alias += depth > 0
            if id(node) in expanding:
                return f"anchor '{anchors.get(id(node), '')}' value contains itself"
            expanding.add(id(node))
            walk.append((None, id(node), False))
            depth += 1             # ... then (d.aliasDepth++) the anchored node it stands for
        decode += 1
        alias += depth > 0
        if _alias_budget_exceeded(decode, alias):
            return "document contains excessive aliasing"
        kids = _children(node)
        for i in range(len(kids) - 1, -1, -1):
            walk.append((kids[i], depth, (id(node), i) in aliases))
    return None


def _jsonable(v):
    # YAMLToJSON turns non-string keys into strings (sigs.k8s.io/yaml convertToJSONableObject).
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else ("null" if k is None else str(k).lower() if isinstance(k, bool) else str(k))):
                _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, bytes):  # !!binary: JSON carries it base64-encoded, as a Secret's data is
        import base64
        return base64.b64encode(v).decode()
    return v


def expand_paths(paths: list[str]) -> list[str]:
    """`-f DIR` means the directory's .json/.yaml/.yml files in name order (kubectl, not recursive)."""
    out: list[str] = []
    for p in paths:
        if p != "-" and os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if n.endswith((".yaml", ".yml", ".json")))
            out += [os.path.join(p, n) for n in names]
        else:
            out.append(p)
    return out


def read(path: str, stdin=None) -> tuple[str, str]:
    """(display name, text). Raises ManifestError naming the path."""
    if path == "-":
        return STDIN, (stdin or sys.stdin).read()
    try:
        with open(path, encoding="utf-8") as f:
            return path, f.read()
    except FileNotFoundError:
        raise ManifestError(path, None, "", f'the path "{path}" does not exist') from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(path, None, "", f"cannot read the file: {getattr(e, 'strerror', None) or e}") from None


def parse(name: str, text: str) -> list[tuple[int, int, object]]:
    """Split a stream into (document number, first line, value); a YAML syntax error raises ManifestError
    with the line (and column) where the parser stopped."""
    docs: list[tuple[int, int, object]] = []
    loader = _Loader(text)
    loader.anchor_names = {}
    try:
        n = 0
        while loader.check_node():
            loader.anchor_names.clear()
            node = loader.get_node()
            n += 1
            line = node.start_mark.line + 1 if node is not None else 0
            # Before constructing: _jsonable (and every consumer after it) copies what an alias shares.
            refused = check_aliasing(node, loader.anchor_names)
            if refused is not None:
                # kubectl: `error converting YAML to JSON: yaml: document contains excessive aliasing`
                # (sigs.k8s.io/yaml YAMLToJSON wraps go-yaml's error, which failf prefixes with "yaml: ").
                raise ManifestError(name, n, "", f"error converting YAML to JSON: yaml: {refused}")
            docs.append((n, line, loader.construct_document(node) if node is not None else None))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        what = e.problem or e.context or "invalid YAML"
        raise ManifestError(name, len(docs) + 1, "", f"YAML syntax error at {where}: {what}") from None
    except yaml.YAMLError as e:  # a reader error (e.g. a control character)
        raise ManifestError(name, len(docs) + 1, "", f"YAML syntax error: {e}") from None
    finally:
        loader.dispose()
    return docs


# ---- checking -------------------------------------------------------------------------------------------------
def _required(f: str, detail: str = "") -> tuple[str, str]:
    return f, "Required value" + (f": {detail}" if detail else "")


def _shape(name: str, index: int, line: int, value, item: int | None = None) -> tuple[Doc | None, list[ManifestError]]:
    """Decode-level checks: an object, apiVersion and kind set and known, metadata a mapping."""
    pre = f"items[{item}]." if item is not None else ""

    def err(f: str, msg: str) -> tuple[None, list[ManifestError]]:
        return None, [ManifestError(name, index, f, msg)]

    if not isinstance(value, dict):
        return err(pre.rstrip("."), f"Invalid value: expected an object (a YAML mapping), got {type(value).__name__ if value is not None else 'null'}")
    value = _jsonable(value)
    api_version, kind = value.get("apiVersion"), value.get("kind")
    # kubectl: "error validating data: [apiVersion not set, kind not set]" - one error per missing field here.
    errors = []
    if not api_version:
        errors.append(ManifestError(name, index, *_required(pre + "apiVersion")))
    if not kind:
        errors.append(ManifestError(name, index, *_required(pre + "kind")))
    if errors:
        return None, errors
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return err(pre + ("apiVersion" if not isinstance(api_version, str) else "kind"), "Invalid value: must be a string")
    k = kind_for(api_version, kind)
    if k is None:
        # kubectl (cli-runtime mapper): `no matches for kind "X" in version "Y"`.
        known_elsewhere = [x for x in resources().values() if x.kind == kind and x.resource not in _NOT_STORED]
        hint = f'no matches for kind "{kind}" in version "{api_version}"'
        if known_elsewhere:
            return err(pre + "apiVersion", f'Unsupported value: "{api_version}": {hint} (use "{known_elsewhere[0].api_version}")')
        return err(pre + "kind", f'Unsupported value: "{kind}": {hint}')
    meta = value.get("metadata")
    if meta is None:
        meta = value["metadata"] = {}
    if not isinstance(meta, dict):
        return err(pre + "metadata", "Invalid value: must be an object")
    if k.namespaced:
        meta.setdefault("namespace", DEFAULT_NAMESPACE)
        if not meta["namespace"]:
            meta["namespace"] = DEFAULT_NAMESPACE
    else:
        # The API server ignores a namespace on a cluster-scoped object (rest.BeforeCreate clears it).
        meta.pop("namespace", None)
    return Doc(name, index, value, k, item, line), []


def _decode_checks(doc: Doc) -> list[ManifestError]:
    """What the API server would answer with 400 before anything else: a value of the wrong JSON type for
    its field, which the body cannot be decoded into the Go type with (simulator.apiserver.decode). The
    message is the server's; the field is named with its indexes and keys, as the other checks name it."""
    from .apiserver import decode

    err = decode.check(doc.kind.kind, doc.obj)
    if err is None:
        return []
    msg = decode.bad_request_message(doc.kind.kind, doc.kind.api_version, err)
    return [ManifestError(doc.file, doc.index, doc.field(err.path), msg)]


def _api_checks(doc: Doc) -> list[ManifestError]:
    """What the API server would answer with 422 (defaults first, then validation), run without a server."""
    from .apiserver import defaults, validation

    obj = copy.deepcopy(doc.obj)
    kind = doc.kind.kind
    causes: list[dict] = []
    meta = obj["metadata"]
    # ValidateObjectMeta (k8s.io/apimachinery/pkg/api/validation/objectmeta.go).
    if not meta.get("name") and not meta.get("generateName"):
        causes.append({"field": "metadata.name", "message": "Required value: name or generateName is required"})
    set_defaults = getattr(defaults, "set_defaults", None)
    validate = getattr(validation, "validate", None)
    if set_defaults is not None:
        set_defaults(kind, obj)
    elif kind == "Pod":
        defaults.set_defaults_pod(obj)
    if validate is not None:
        found = validate(kind, obj)
    elif kind == "Pod":
        found = validation.validate_pod(obj)
    else:
        found = []
    seen = {c["field"] for c in causes}
    causes += [c for c in found or [] if c.get("field") not in seen]
    return [ManifestError(doc.file, doc.index, doc.field(c.get("field", "")), c.get("message", "")) for c in causes]


def load(paths: list[str], stdin=None) -> list[Doc]:
    """Read and check every document of every file; return them in file order, or raise ManifestErrors
    with every problem found (nothing has been sent to any server at that point)."""
    docs: list[Doc] = []
    errors: list[ManifestError] = []
    for path in expand_paths(paths):
        try:
            name, text = read(path, stdin)
            parsed = parse(name, text)
        except ManifestError as e:
            errors.append(e)
            continue
        for index, line, value in parsed:
            if value is None:
                continue  # an empty document
            if isinstance(value, dict) and value.get("kind") == "List" and isinstance(value.get("items"), list):
                items = [(i, v) for i, v in enumerate(value["items"])]
            else:
                items = [(None, value)]
            for item, v in items:
                doc, errs = _shape(name, index, line, v, item)
                errors += errs
                if doc is not None:
                    # Decoding comes first: a body the server cannot decode is never defaulted nor validated.
                    errs = _decode_checks(doc) or _api_checks(doc)
                    errors += errs
                    if not errs:
                        docs.append(doc)
    errors += _duplicates(docs)
    if errors:
        raise ManifestErrors(errors)
    return docs


def _duplicates(docs: list[Doc]) -> list[ManifestError]:
    """Two documents for the same object: the second create would fail with AlreadyExists after the first
    had been created. Caught here, before anything is sent."""
    first: dict[tuple, Doc] = {}
    out = []
    for d in docs:
        if not d.name:
            continue  # generateName: every create gets a new name
        key = (d.kind.resource, d.namespace, d.name)
        if key in first:
            f = first[key]
            out.append(ManifestError(d.file, d.index, d.field("metadata.name"),
                                     f'Duplicate value: "{d.name}": {d.kind.resource} "{d.name}" is already defined in '
                                     f'{f.file} document {f.index}'))
        else:
            first[key] = d
    return out
