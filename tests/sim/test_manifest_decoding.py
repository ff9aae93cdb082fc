"""What a manifest must survive before any object exists: go-yaml's alias guard (a "billion laughs"
document is refused, quickly), and decoding into the Go types (a value of the wrong JSON type is a 400
from the API server, and `apply` reports it before sending anything)."""
from __future__ import annotations

import time

import pytest

from simulator import apply, manifests
from simulator.apiserver import Request, registry
from simulator.cluster import ADMIN, Cluster
from simulator.trace import ref
from tests.sim.test_apply_manifests import no_cluster, run_cli, write  # noqa: F401 (fixture)

LAUGHS = """apiVersion: v1
kind: ConfigMap
metadata: {name: lol}
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_billion_laughs_document_is_refused_as_go_yaml_refuses_it(tmp_path, no_cluster):  # noqa: F811
    p = write(tmp_path, "bomb.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n" + LAUGHS)
    start = time.monotonic()
    code, out, err = run_cli([p])
    assert time.monotonic() - start < 5   # 9^9 values if expanded: counted, never built
    assert code == 2 and out == ""
    assert err == (f"error: {p}: document 2: error converting YAML to JSON: yaml: document contains "
                   "excessive aliasing\n")


def test_an_alias_inside_its_own_anchor_is_refused():
    with pytest.raises(manifests.ManifestError) as e:
        manifests.parse("f.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: &d {k: *d}\n")
    assert (e.value.index, e.value.message) == (1, "error converting YAML to JSON: yaml: anchor 'd' value contains itself")


def test_ordinary_anchors_and_merge_keys_still_load():
    [(_, _, doc)] = manifests.parse("f.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                                              "  labels: &l {app: web}\n  annotations: {<<: *l, team: a}\n"
                                              + "data:\n" + "".join(f"  k{i}: &v{i} v\n  c{i}: *v{i}\n" for i in range(600)))
    assert doc["metadata"]["annotations"] == {"app": "web", "team": "a"} and len(doc["data"]) == 1200


WRONG_TYPES = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: "3"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {k: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: true}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: 5}], hostNetwork: "yes"}
"""


def test_wrong_json_types_are_refused_before_anything_is_sent(tmp_path, no_cluster):  # noqa: F811
    p = write(tmp_path, "types.yaml", WRONG_TYPES)
    code, out, err = run_cli([p])
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f'error: {p}: document 1: spec.replicas: Deployment in version "v1" cannot be handled as a Deployment: '
        'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
        f'error: {p}: document 2: data.k: ConfigMap in version "v1" cannot be handled as a ConfigMap: '
        'json: cannot unmarshal number into Go struct field ConfigMap.data of type string',
        # IntOrString's own UnmarshalJSON fails: its json.Unmarshal into the int32, with the field context.
        f'error: {p}: document 3: spec.ports[0].targetPort: Service in version "v1" cannot be handled as a '
        'Service: json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32',
        # Only the first error is reported, in key order (containers before hostNetwork).
        f'error: {p}: document 4: spec.containers[0].image: Pod in version "v1" cannot be handled as a Pod: '
        'json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string',
    ]


def _post(cluster: Cluster, resource: str, body: dict):
    info = registry.RESOURCES[resource]
    req = Request("POST", registry.path(resource, "default"), "create", resource, "default", body["metadata"]["name"],
                  api_group=info.group, body=body, credential=ADMIN, client=ref("kubectl", "kubectl"), traced=True)
    return apply._wait(cluster, cluster.request(req))


def test_the_api_server_answers_a_wrong_json_type_with_400_bad_request():
    cluster = Cluster(1, "decode")
    resp = _post(cluster, "deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": "3", "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    assert resp.code == 400 and resp.status["reason"] == "BadRequest"
    assert resp.status["message"] == ('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
                                      'string into Go struct field DeploymentSpec.spec.replicas of type int32')
    resp = _post(cluster, "configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                         "metadata": {"name": "cfg", "namespace": "default"}, "data": {"k": 1, "on": True}})
    assert resp.code == 400 and resp.status["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct '
        'field ConfigMap.data of type string')
    # Nothing was stored; the same objects with the right types are.
    assert cluster.apiserver.get(registry.key("configmaps", "default", "cfg")) is None
    ok = _post(cluster, "configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": "cfg", "namespace": "default"}, "data": {"k": "1"}})
    assert ok.code == 201
