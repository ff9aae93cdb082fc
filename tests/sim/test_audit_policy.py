"""The audit policy's rule matching (k8s.io/apiserver/pkg/audit/policy/checker.go) and the log backend's event
shape (simulator/apiserver/audit.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.apiserver.audit import AuditLog, Policy, PolicyError
from simulator.apiserver.authn import UserInfo
from simulator.apiserver.authz import Attributes

KIND_POLICY = Path(__file__).resolve().parents[2] / "dashboard" / "realcluster" / "kind" / "audit-policy.yaml"


def attrs(verb="get", resource="pods", sub="", ns="default", name="", group="", user="alice",
          groups=("system:authenticated",), path="") -> Attributes:
    return Attributes(UserInfo(user, tuple(groups), "token"), verb, resource, sub, ns, name, group, path,
                      resource_request=not path)


def test_the_kind_policy_levels():
    p = Policy.from_file(KIND_POLICY)
    assert p.evaluate(attrs("create"))[0] == "RequestResponse"
    assert p.evaluate(attrs("create", sub="binding"))[0] == "RequestResponse"
    assert p.evaluate(attrs("patch", sub="status"))[0] == "RequestResponse"
    assert p.evaluate(attrs("get", sub="log"))[0] == "Metadata"          # pods/log is not pods
    assert p.evaluate(attrs("update", "leases", ns="kube-system", group="coordination.k8s.io"))[0] == "None"
    assert p.evaluate(attrs("get", "secrets"))[0] == "Metadata"
    assert p.evaluate(attrs("create", "deployments", group="apps"))[0] == "RequestResponse"
    assert p.evaluate(attrs("patch", "deployments", sub="scale", group="apps"))[0] == "RequestResponse"
    assert p.evaluate(attrs("list", "nodes", ns=""))[0] == "Metadata"
    assert p.evaluate(attrs(path="/healthz"))[0] == "None"
    assert p.evaluate(attrs(path="/livez/etcd"))[0] == "None"
    assert p.evaluate(attrs(path="/apis"))[0] == "Metadata"
    level, omit = p.evaluate(attrs("create"))
    assert omit == frozenset({"RequestReceived"})


def test_rule_matching_follows_the_checker():
    p = Policy({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [
        {"level": "None", "users": ["system:kube-proxy"]},
        {"level": "Request", "userGroups": ["students"], "verbs": ["create"]},
        {"level": "Metadata", "resources": [{"group": "", "resources": ["*/status"]}]},
        {"level": "RequestResponse", "resources": [{"group": "apps", "resources": ["deployments/*"]}]},
        {"level": "Request", "resources": [{"group": "", "resources": ["configmaps"], "resourceNames": ["cfg"]}]},
        {"level": "Metadata", "namespaces": [""], "verbs": ["list"]},
        {"level": "Request", "nonResourceURLs": ["/api*"]},
    ], "omitStages": ["RequestReceived"]})
    assert p.evaluate(attrs(user="system:kube-proxy"))[0] == "None"
    assert p.evaluate(attrs("create", groups=("students",)))[0] == "Request"
    assert p.evaluate(attrs("get", groups=("students",)))[0] == "None"            # no rule left matches
    assert p.evaluate(attrs("update", "nodes", sub="status", ns=""))[0] == "Metadata"
    assert p.evaluate(attrs("patch", "deployments", sub="scale", group="apps"))[0] == "RequestResponse"
    assert p.evaluate(attrs("get", "deployments", group="apps"))[0] == "RequestResponse"   # with or without one
    assert p.evaluate(attrs("get", "replicasets", group="apps"))[0] == "None"
    assert p.evaluate(attrs("get", "configmaps", name="cfg"))[0] == "Request"
    assert p.evaluate(attrs("get", "configmaps", name="other"))[0] == "None"
    assert p.evaluate(attrs("list", "nodes", ns=""))[0] == "Metadata"              # "" is cluster scope
    assert p.evaluate(attrs("list", "pods", ns="default"))[0] == "None"
    assert p.evaluate(attrs(path="/apis/apps/v1"))[0] == "Request"
    assert p.evaluate(attrs(path="/version"))[0] == "None"


@pytest.mark.parametrize("doc, field", [
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Everything"}]}, "rules[0].level"),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["Never"]}, "omitStages"),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "None", "users": "bob"}]}, "rules[0].users"),
    ({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [
        {"level": "None", "nonResourceURLs": ["/x"], "resources": [{"group": ""}]}]}, "rules[0]"),
    ({"apiVersion": "v1", "kind": "Policy"}, "audit.k8s.io/v1"),
])
def test_a_bad_policy_is_refused_naming_the_field(doc, field):
    with pytest.raises(PolicyError, match=field.replace("[", r"\[").replace("]", r"\]")):
        Policy(doc)


def test_events_carry_what_their_level_allows(tmp_path):
    p = Policy({"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"], "rules": [
        {"level": "Metadata", "resources": [{"group": "", "resources": ["secrets"]}]},
        {"level": "Request", "resources": [{"group": "", "resources": ["configmaps"]}]},
        {"level": "RequestResponse", "omitStages": ["ResponseStarted"]}]})
    log = AuditLog(tmp_path / "kubernetes" / "audit.log", p)
    body = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "n1", "namespace": "default"}, "data": {"k": "v"}}
    stored = {**body, "metadata": {**body["metadata"], "uid": "u", "resourceVersion": "7"}}
    for resource in ("secrets", "configmaps", "pods"):
        e = log.begin(f"id-{resource}", attrs("create", resource), f"/api/v1/namespaces/default/{resource}",
                      ["10.0.0.1"], "kubectl/v1.31.0", "2026-12-03T10:00:00.000001Z")
        log.request_object(e, body)   # a create names its object from the body
        e.annotations.update({"z": "1", "a": "2"})
        log.write(e, "ResponseStarted", "2026-12-03T10:00:00.000002Z", 201)   # omitted by the last rule
        log.write(e, "ResponseComplete", "2026-12-03T10:00:00.000003Z", 201, response=stored, api_version="v1")
    nothing = log.begin("id-none", attrs("get", "pods"), "/x", [], "", "t")
    assert nothing is not None   # (the last rule matches everything)
    log.close()
    lines = [json.loads(x) for x in (tmp_path / "kubernetes" / "audit.log").read_text().splitlines()]
    secret, cm, pod = lines[1], lines[3], lines[4]
    assert [e["auditID"] for e in lines] == ["id-secrets", "id-secrets", "id-configmaps", "id-configmaps", "id-pods"]
    assert secret["level"] == "Metadata" and "requestObject" not in secret and "responseObject" not in secret
    assert secret["objectRef"] == {"resource": "secrets", "namespace": "default", "name": "n1", "apiVersion": "v1"}
    assert cm["requestObject"] == body and "responseObject" not in cm
    assert pod["requestObject"] == body and pod["responseObject"] == stored
    assert list(pod) == ["kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "sourceIPs",
                         "userAgent", "objectRef", "responseStatus", "requestObject", "responseObject",
                         "requestReceivedTimestamp", "stageTimestamp", "annotations"]
    assert list(pod["annotations"]) == ["a", "z"] and pod["responseStatus"] == {"metadata": {}, "code": 201}
    started = lines[0]
    assert started["stage"] == "ResponseStarted" and "responseObject" not in started
