"""Scenario "custom": the instructor's manifests, checked before anything runs (a ParamError naming the
document and the field), then sent by kubectl one by one and run by the control plane until it settles;
what the API server refuses is reported in the outcome, as kubectl prints it."""
from __future__ import annotations

import json

import pytest

from simulator import scenarios
from simulator.errors import ParamError
from simulator.runner import Simulation
from simulator.scenarios import custom

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def _objects(sim, prefix: str) -> dict[str, dict]:
    return {kv.key.rsplit("/", 1)[1]: json.loads(kv.value) for kv in sim.cluster.etcd.store.range(prefix, prefix=True)}


@pytest.fixture(scope="module")
def default_run():
    sim = Simulation("custom", {}, seed=1)
    return sim, list(sim.events())


def test_the_default_manifests_run_to_completion(default_run):
    sim, evs = default_run
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == [1, 2, 3, 4, 5]
    assert evs[-1]["type"] == "scenario.completed"
    assert evs[-1]["data"]["outcome"] == "2 of 2 objects created; Pods: 2 Running"
    step = {e["seq"]: e.get("step") for e in evs}
    # Step 1: one request per document, in order, as `kubectl create -f -` sends them; both 201.
    reqs = [e for e in evs if e["type"] == "kubectl.request"]
    assert [(e["data"]["method"], e["data"]["path"]) for e in reqs] == [
        ("POST", "/apis/apps/v1/namespaces/default/deployments"), ("POST", "/api/v1/namespaces/default/services"),
        ("GET", "/api/v1/pods")]
    assert reqs[0]["summary"].startswith("kubectl create -f -: ") and step[reqs[0]["seq"]] == 1
    assert reqs[2]["summary"].startswith("kubectl get pods -A: ") and step[reqs[2]["seq"]] == 5
    answers = [e for e in evs if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]
    assert [e["data"]["code"] for e in answers] == [201, 201, 200]
    # Step 2 opens with the Deployment controller's first write (its ReplicaSet), 3 with the scheduler, 4 with
    # a kubelet.
    first = {}
    for e in evs:
        first.setdefault(e["type"], e)
    assert step[first["scheduler.queue"]["seq"]] == 3 and step[first["kubelet.pod.sync"]["seq"]] == 4
    rs_post = next(e for e in evs if e["type"] == "apiserver.request"
                   and e["data"]["path"] == "/apis/apps/v1/namespaces/default/replicasets")
    assert step[rs_post["seq"]] == 2 and rs_post["component"] == "controller-manager"
    # Final state: the Deployment's two Pods Running on the workers, listed in the Service's Endpoints.
    pods = {n: p for n, p in _objects(sim, "/registry/pods/default/").items() if n.startswith("web-")}
    assert len(pods) == 2 and {p["status"]["phase"] for p in pods.values()} == {"Running"}
    assert {p["spec"]["nodeName"] for p in pods.values()} <= {"worker-1", "worker-2"}
    ep = _objects(sim, "/registry/services/endpoints/default/")["web"]
    assert sorted(a["ip"] for s in ep["subsets"] for a in s["addresses"]) == sorted(p["status"]["podIP"] for p in pods.values())


def test_the_same_seed_gives_the_same_events(default_run):
    _, evs = default_run
    again = list(Simulation("custom", {}, seed=1).events())
    assert [(e["type"], e["t"], e["summary"]) for e in again] == [(e["type"], e["t"], e["summary"]) for e in evs]


def test_what_the_api_server_refuses_is_reported_and_the_rest_still_runs():
    text = "\n---\n".join([
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n",                # exists: 409
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: lost\n  namespace: nowhere\n"     # no such namespace: 404
        "spec:\n  containers:\n  - name: c\n    image: nginx\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n  - name: c\n"
        "    image: nginx:no-such-tag\n",                                               # created, cannot pull
        CONFIGMAP.format(name="settings"),
    ])
    sim = Simulation("custom", {"manifests": text}, seed=1)
    evs = list(sim.events())
    assert evs[-1]["type"] == "scenario.completed"
    out = evs[-1]["data"]["outcome"]
    assert out.startswith("2 of 4 objects created; Pods: 1 Pending; typo: ")
    assert 'Error from server (AlreadyExists): error when creating "STDIN": namespaces "default" already exists' in out
    assert 'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found' in out
    answers = [e["data"]["code"] for e in evs
               if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]
    assert answers == [409, 404, 201, 201, 200]
    assert "settings" in _objects(sim, "/registry/configmaps/default/")
    assert "lost" not in str(list(_objects(sim, "/registry/pods/").keys()))


def test_a_node_document_joins_through_its_kubelet_and_takes_the_pod_that_selects_it():
    text = ("apiVersion: v1\nkind: Node\nmetadata:\n  name: gpu-1\n  labels:\n    accelerator: gpu\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: trainer\nspec:\n  nodeSelector:\n    accelerator: gpu\n"
            "  containers:\n  - name: c\n    image: busybox\n    command: [sleep, '3600']\n")
    sim = Simulation("custom", {"manifests": text}, seed=1)
    evs = list(sim.events())
    assert evs[-1]["data"]["outcome"] == "2 of 2 objects created; Pods: 1 Running"
    # The Node is registered by its kubelet (POST /api/v1/nodes), not by kubectl.
    assert [e["data"]["path"] for e in evs if e["type"] == "kubectl.request"] == [
        "/api/v1/namespaces/default/pods", "/api/v1/pods"]
    reg = next(e for e in evs if e["type"] == "apiserver.request" and e["data"]["path"] == "/api/v1/nodes")
    assert reg["component"] == "kubelet" and reg["instance"] == "gpu-1"
    assert _objects(sim, "/registry/pods/default/")["trainer"]["spec"]["nodeName"] == "gpu-1"


# "Billion laughs": ten aliases of ten aliases ... nine levels deep, 10^10 values once expanded.
ALIAS_BOMB = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\nextra:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + \
    "".join(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))

DEPLOYMENT_THEN_BAD = custom.DEFAULT.split("---\n")[1] + "---\n" + custom.DEFAULT.split("---\n")[0].replace(
    "replicas: 2", "replicas: -1")


@pytest.mark.parametrize("text, message", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n",
     "document 1: YAML syntax error at line 4, column 1: expected ',' or ']', but got '<stream end>'"),
    (CONFIGMAP.format(name="a") + "---\njust a string\n",
     "document 2: Invalid value: expected an object (a YAML mapping), got str"),
    ("apiVersion: v1\nkind: Widget\nmetadata: {name: x}\n",
     'document 1: kind: Unsupported value: "Widget": no matches for kind "Widget" in version "v1"'),
    ("apiVersion: v1\nkind: Deployment\nmetadata: {name: x}\n",
     'document 1: apiVersion: Unsupported value: "v1": no matches for kind "Deployment" in version "v1" (use "apps/v1")'),
    ("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec: {}\n",
     'document 1: kind: Unsupported value: "DaemonSet": the simulator does not run DaemonSet objects'),
    (DEPLOYMENT_THEN_BAD,
     "document 2: spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    (CONFIGMAP.format(name="a") + "---\n" + CONFIGMAP.format(name="a"),
     'document 2: metadata.name: Duplicate value: "a"'),
    ("".join("---\n" + CONFIGMAP.format(name=f"c{i}") for i in range(51)),
     "document 51: too many objects: at most 50 in all"),
    ("---\n# nothing here\n", "no objects passed to create"),
    (custom.DEFAULT.replace("replicas: 2", "replicas: 101"),
     "document 1: spec.replicas: Invalid value: 101: at most 100 Pods in all in this scenario"),
    (custom.DEFAULT.replace("replicas: 2", 'replicas: "2"'),
     'document 1: spec.replicas: Deployment in version "v1" cannot be handled as a Deployment: json: '
     'cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'),
    (CONFIGMAP.format(name="a") + "---\n" + ALIAS_BOMB,
         "document 2: error converting YAML to JSON: yaml: document contains excessive aliasing"),
    ("#" * (custom.MAX_LENGTH + 1), f"must be at most {custom.MAX_LENGTH} characters"),
], ids=["not-yaml", "not-an-object", "unknown-kind", "wrong-api-version", "kind-not-simulated", "invalid-field",
        "duplicate", "too-many-documents", "no-objects", "too-many-pods", "replicas-not-an-integer", "alias-bomb", "too-long"])
def test_invalid_manifests_are_refused_naming_document_and_field_and_nothing_runs(text, message):
    with pytest.raises(ParamError) as e:
        scenarios.validate("custom", {"manifests": text})
    assert e.value.field == "params.manifests" and e.value.message.startswith(message)
    with pytest.raises(ParamError):
        Simulation("custom", {"manifests": text})   # refused before any cluster exists


def test_the_catalog_offers_a_multiline_manifests_field_with_a_valid_default():
    (p,) = custom.CATALOG["params"]
    assert (p["name"], p["type"], p["multiline"], p["max_length"]) == ("manifests", "str", True, 200_000)
    assert custom.check_manifests(p["default"]) is None
    assert custom.check_manifests("apiVersion: v1\nkind: List\nitems:\n- " + "\n  ".join(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}".split("\n"))) is None
