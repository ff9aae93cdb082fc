"""kube-apiserver's audit log: a policy (audit.k8s.io/v1 Policy) says, per request, at which level it is
recorded, and the log backend writes one audit.k8s.io/v1 Event per stage as a line of JSON.

- The policy: the first rule that matches decides the level (None, Metadata, Request, RequestResponse); no
  rule matching means None (k8s.io/apiserver/pkg/audit/policy/checker.go: ruleMatches, ruleMatchesResource,
  ruleMatchesNonResource, pathMatches). Stages listed in the policy's or the rule's omitStages are not
  written.
- The event (k8s.io/apiserver/pkg/apis/audit/v1/types.go Event, fields in that order): auditID (the same
  value as the response's Audit-Id header), stage, requestURI, verb, user, sourceIPs, userAgent, objectRef,
  responseStatus (just the code on success; the Status's status, message, reason, details and code on
  failure: audit/request.go LogResponseObject), requestObject from level Request, responseObject at
  RequestResponse, the two timestamps with microseconds, and the annotations the authorizer and admission
  add (authorization.k8s.io/decision and /reason; pod-security.kubernetes.io/enforce-policy).
- A create's objectRef takes the name, namespace, uid and resourceVersion of the object sent when the URL
  names none (audit/request.go LogRequestObject).

Only the live simulated cluster writes one (the lessons' kind cluster is made with the audit log on; see
dashboard/realcluster/kind/). Nothing here reads the wall clock: timestamps come from the cluster's clock.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .. import codec
from .authz import Attributes   # what the policy looks at, as the authorizer does (authorizer.Attributes)

LEVELS = ("None", "Metadata", "Request", "RequestResponse")
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    level: str
    users: tuple = ()
    user_groups: tuple = ()
    verbs: tuple = ()
    namespaces: tuple = ()
    resources: tuple = ()          # ((group, (resource, ...), (resourceName, ...)), ...)
    non_resource_urls: tuple = ()
    omit_stages: tuple = ()


def _strings(value, where: str) -> tuple:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}: must be a list of strings")
    return tuple(value)


class Policy:
    def __init__(self, doc: dict):
        if not isinstance(doc, dict) or doc.get("kind") != "Policy" or doc.get("apiVersion") != "audit.k8s.io/v1":
            raise PolicyError("not an audit.k8s.io/v1 Policy")
        self.omit_stages = self._stages(doc.get("omitStages"), "omitStages")
        self.rules: list[Rule] = []
        for i, r in enumerate(doc.get("rules") or []):
            where = f"rules[{i}]"
            if not isinstance(r, dict) or r.get("level") not in LEVELS:
                raise PolicyError(f"{where}.level: must be one of {', '.join(LEVELS)}")
            resources = []
            for j, gr in enumerate(r.get("resources") or []):
                if not isinstance(gr, dict):
                    raise PolicyError(f"{where}.resources[{j}]: must be a mapping")
                resources.append((gr.get("group") or "", _strings(gr.get("resources"), f"{where}.resources[{j}].resources"),
                                  _strings(gr.get("resourceNames"), f"{where}.resources[{j}].resourceNames")))
            urls = _strings(r.get("nonResourceURLs"), f"{where}.nonResourceURLs")
            if urls and (resources or r.get("namespaces")):
                raise PolicyError(f"{where}: rules cannot apply to both regular resources and non-resource URLs")
            self.rules.append(Rule(r["level"], _strings(r.get("users"), f"{where}.users"),
                                   _strings(r.get("userGroups"), f"{where}.userGroups"),
                                   _strings(r.get("verbs"), f"{where}.verbs"),
                                   _strings(r.get("namespaces"), f"{where}.namespaces"), tuple(resources), urls,
                                   self._stages(r.get("omitStages"), f"{where}.omitStages")))

    @staticmethod
    def _stages(value, where: str) -> tuple:
        stages = _strings(value, where)
        bad = [s for s in stages if s not in STAGES]
        if bad:
            raise PolicyError(f"{where}: unknown stage {bad[0]!r}")
        return stages

    @classmethod
    def from_file(cls, path: Path) -> "Policy":
        import yaml

        return cls(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    def evaluate(self, a: Attributes) -> tuple[str, frozenset]:
        """(level, stages omitted) for a request: the first rule that matches, else None."""
        for rule in self.rules:
            if _matches(rule, a):
                return rule.level, frozenset(self.omit_stages + rule.omit_stages)
        return "None", frozenset(self.omit_stages)


def _matches(r: Rule, a: Attributes) -> bool:
    if r.users and a.user.name not in r.users:
        return False
    if r.user_groups and not any(g in r.user_groups for g in a.user.groups):
        return False
    if r.verbs and a.verb not in r.verbs:
        return False
    if r.namespaces or r.resources:
        return _matches_resource(r, a)
    if r.non_resource_urls:
        return not a.resource_request and any(_path_matches(a.path, spec) for spec in r.non_resource_urls)
    return True


def _path_matches(path: str, spec: str) -> bool:
    return spec == "*" or spec == path or (spec.endswith("*") and path.startswith(spec.rstrip("*")))


def _matches_resource(r: Rule, a: Attributes) -> bool:
    if not a.resource_request:
        return False
    if r.namespaces and a.namespace not in r.namespaces:   # cluster-scoped resources match ""
        return False
    if not r.resources:
        return True
    combined = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    for group, resources, names in r.resources:
        if group != a.api_group:
            continue
        if not resources:
            return True
        for res in resources:
            if names and a.name not in names:
                continue
            if res in (combined, "*"):
                return True
            if a.subresource and res.startswith("*/") and a.subresource == res[2:]:
                return True
            if res.endswith("/*") and a.resource == res[:-2]:
                return True
    return False


def note_decision(entry: "Entry | None", dec) -> None:
    """filters/authorization.go: the authorizer's decision and reason on the request's audit event, allowed
    or not (`dec`: an authz.Decision)."""
    if entry is not None:
        entry.annotations["authorization.k8s.io/decision"] = "allow" if dec.allowed else "forbid"
        entry.annotations["authorization.k8s.io/reason"] = dec.reason


def at_least(level: str, wanted: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(wanted)


@dataclass
class Entry:
    """One request's audit record, filled in as the request goes through the API server."""
    audit_id: str
    level: str
    omit: frozenset
    uri: str
    verb: str
    user: dict
    source_ips: list
    user_agent: str
    object_ref: dict | None
    received: str
    annotations: dict = field(default_factory=dict)
    request_object: object = None


class AuditLog:
    """The log backend (--audit-log-path): one JSON line per event, appended and flushed at once, so that
    whoever follows the file (the kubelet's /logs/ handler) sees each event as soon as it is written."""

    def __init__(self, path: Path, policy: Policy):
        self.path, self.policy = Path(path), policy
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", encoding="utf-8")   # a new cluster starts a new log
        self._lock = threading.Lock()

    def begin(self, audit_id: str, attrs: Attributes, uri: str, source_ips: list, user_agent: str,
              received: str) -> Entry | None:
        """The request's entry, or None when the policy does not record it."""
        level, omit = self.policy.evaluate(attrs)
        if level == "None":
            return None
        ref = None
        if attrs.resource_request:
            ref = {"resource": attrs.resource}
            if attrs.namespace:
                ref["namespace"] = attrs.namespace
            if attrs.name:
                ref["name"] = attrs.name
            if attrs.api_group:
                ref["apiGroup"] = attrs.api_group
            if attrs.subresource:
                ref["subresource"] = attrs.subresource
        # (no user at all for a request that failed authentication)
        user = {"username": attrs.user.name, "groups": list(attrs.user.groups)} if attrs.user.name else {}
        return Entry(audit_id, level, omit, uri, attrs.verb, user, source_ips, user_agent, ref, received)

    @staticmethod
    def request_object(entry: Entry, obj) -> None:
        """The decoded request body (LogRequestObject): names a create's object; kept from level Request."""
        if entry is None:
            return
        if entry.object_ref is not None and isinstance(obj, dict):
            meta = obj.get("metadata") or {}
            for k, f in (("namespace", "namespace"), ("name", "name"), ("uid", "uid"), ("resourceVersion", "resourceVersion")):
                if not entry.object_ref.get(k) and meta.get(f):
                    entry.object_ref[k] = meta[f]
        if at_least(entry.level, "Request"):
            entry.request_object = codec.clone(obj) if obj is not None else None

    def write(self, entry: Entry | None, stage: str, at: str, code: int, *, status: dict | None = None,
              response=None, api_version: str = "") -> None:
        if entry is None or stage in entry.omit:
            return
        ev = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": entry.level, "auditID": entry.audit_id,
              "stage": stage, "requestURI": entry.uri, "verb": entry.verb, "user": entry.user}
        if entry.source_ips:
            ev["sourceIPs"] = entry.source_ips
        if entry.user_agent:
            ev["userAgent"] = entry.user_agent
        if entry.object_ref is not None:
            ref = dict(entry.object_ref)
            if api_version:
                ref["apiVersion"] = api_version
            ev["objectRef"] = _ordered_ref(ref)
        if stage != "ResponseStarted" or code:
            rs = {"metadata": {}}
            if status is not None:
                for k in ("status", "message", "reason", "details"):
                    if status.get(k):
                        rs[k] = status[k]
            rs["code"] = code
            ev["responseStatus"] = rs
        if entry.request_object is not None:
            ev["requestObject"] = entry.request_object
        if stage == "ResponseComplete" and at_least(entry.level, "RequestResponse"):
            body = response if response is not None else status
            if body is not None:
                ev["responseObject"] = body
        ev["requestReceivedTimestamp"] = entry.received
        ev["stageTimestamp"] = at
        if entry.annotations:
            ev["annotations"] = dict(sorted(entry.annotations.items()))   # a Go map: keys in order
        line = json.dumps(ev, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


_REF_ORDER = ("resource", "namespace", "name", "uid", "apiGroup", "apiVersion", "resourceVersion", "subresource")


def _ordered_ref(ref: dict) -> dict:
    return {k: ref[k] for k in _REF_ORDER if ref.get(k)}
