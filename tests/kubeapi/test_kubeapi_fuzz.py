"""Hostile input to the Kubernetes API endpoint, in process (no kubectl, no Django): whatever the method,
path, query, headers and body, the answer is never a 500 and every error is a Kubernetes `Status` with the
code it is sent with."""
from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kubeapi.inprocess import kubeapi_in_process

TOKEN = "fuzz-admin-token"
RESOURCES = ["pods", "nodes", "namespaces", "deployments", "services", "configmaps", "secrets", "events", "leases",
             "roles", "selfsubjectaccessreviews", "nope", "status", "log", "scale", "binding", ""]
GROUPS = ["/api/v1", "/apis/apps/v1", "/apis/rbac.authorization.k8s.io/v1", "/apis/coordination.k8s.io/v1",
          "/apis/authorization.k8s.io/v1", "/apis/nope/v1", "/api/v2", "/apis", "/api", "/openapi/v3", ""]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
SEGMENT = st.one_of(st.sampled_from(RESOURCES), st.sampled_from(["default", "kube-system", "web", "..", "%00"]), TEXT)


@pytest.fixture(scope="module")
def server():
    with kubeapi_in_process(3, "fuzz", TOKEN) as box:
        yield f"http://127.0.0.1:{box['port']}"


def check(r: requests.Response) -> None:
    assert r.status_code != 500 and r.status_code < 600, (r.status_code, r.text[:500])
    if r.status_code >= 400 and r.status_code != 413 and r.request.method != "HEAD":
        body = r.json()
        assert body["kind"] == "Status" and body["code"] == r.status_code and body["message"], body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
       group=st.sampled_from(GROUPS), ns=st.one_of(st.none(), SEGMENT), segments=st.lists(SEGMENT, max_size=3),
       query=st.dictionaries(st.sampled_from(["watch", "labelSelector", "fieldSelector", "resourceVersion",
                                              "timeoutSeconds", "gracePeriodSeconds", "propagationPolicy",
                                              "sendInitialEvents", "allowWatchBookmarks", "tailLines", "container",
                                              "dryRun", "includeObject"]), TEXT, max_size=4),
       ctype=st.sampled_from(["application/json", "application/yaml", "application/merge-patch+json",
                              "application/strategic-merge-patch+json", "application/json-patch+json",
                              "application/vnd.kubernetes.protobuf", "application/apply-patch+yaml", "text/plain",
                              None]),
       body=st.one_of(st.none(), st.binary(max_size=200),
                      st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                                   lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3),
                                   max_leaves=10).map(lambda v: json.dumps(v).encode())),
       auth=st.sampled_from([f"Bearer {TOKEN}", "Bearer wrong", "Basic x", "", None]),
       table=st.booleans())
def test_never_a_500(server, method, group, ns, segments, query, ctype, body, auth, table):
    path = group + (f"/namespaces/{ns}" if ns is not None else "") + "".join("/" + s for s in segments)
    headers = {}
    if ctype:
        headers["Content-Type"] = ctype
    if auth is not None:
        headers["Authorization"] = auth
    if table:
        headers["Accept"] = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    if query.get("watch") in ("true", "1"):
        query["timeoutSeconds"] = "1"
    try:
        r = requests.request(method, server + path, params=query, data=body, headers=headers, timeout=20)
    except requests.exceptions.InvalidURL:
        return
    check(r)


def test_watch_errors_are_statuses(server):
    h = {"Authorization": f"Bearer {TOKEN}"}
    bad = requests.get(server + "/api/v1/pods", params={"watch": "true", "labelSelector": "=x", "timeoutSeconds": "1"}, headers=h,
                       timeout=10)
    assert bad.status_code == 400 and bad.json()["kind"] == "Status"
    rv = requests.get(server + "/api/v1/pods", params={"watch": "true", "resourceVersion": "x", "timeoutSeconds": "1"}, headers=h, timeout=10)
    assert rv.status_code == 400 and rv.json()["message"] == "invalid resource version: x"
    ok = requests.get(server + "/api/v1/namespaces", params={"watch": "true", "timeoutSeconds": "1"}, headers=h,
                      timeout=10)
    assert ok.status_code == 200
    names = [json.loads(line)["object"]["metadata"]["name"] for line in ok.text.splitlines()]
    assert {"default", "kube-system"} <= set(names)


def test_bodies_that_do_not_decode_are_400(server):
    """Found by the fuzzer above: a YAML body with a NUL byte raised a YAMLError (not a ValueError) and got a 500."""
    h = {"Authorization": f"Bearer {TOKEN}"}
    for ctype, body in (("application/yaml", b"\x00"), ("application/yaml", b"a: [b"), ("application/json", b"{"),
                        ("application/vnd.kubernetes.protobuf", b"k8s\x00\xff")):
        r = requests.post(server + "/api/v1/namespaces/default/configmaps", data=body, timeout=10,
                          headers={**h, "Content-Type": ctype})
        assert r.status_code == 400 and r.json()["kind"] == "Status", (ctype, body, r.status_code, r.text[:200])
