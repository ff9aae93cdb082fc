"""`simulator apply`, the part before any cluster exists: reading and checking manifests, turning Node
manifests into nodes, and printing a List as kubectl prints it."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from simulator import apply, manifests

HERE = Path(__file__).resolve().parent / "manifests"


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def run_cli(paths, **kw):
    out, err = io.StringIO(), io.StringIO()
    code = apply.run(paths, stdout=out, stderr=err, **kw)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_cluster(monkeypatch):
    """Fail the test if anything gets as far as making a cluster (and so sending a request)."""
    def boom(*a, **k):
        raise AssertionError("a cluster was made although the manifests are invalid")
    monkeypatch.setattr(apply, "Cluster", boom)


# ---- invalid input: exit 2, file + document + field named, nothing created --------------------------------------
def test_a_pod_without_image_is_rejected_before_anything_is_created(no_cluster):
    path = str(HERE / "invalid-pod.yaml")
    code, out, err = run_cli([path])
    assert code == 2 and out == ""
    # The Namespace in document 1 is valid, but it is not created either.
    assert err == f"error: {path}: document 2: spec.containers[0].image: Required value\n"


def test_every_invalid_document_of_every_file_is_reported(tmp_path, no_cluster):
    a = write(tmp_path, "a.yaml", """
apiVersion: v1
kind: ConfigMap
metadata: {name: fine}
---
kind: Pod
metadata: {name: x}
---
apiVersion: v1
metadata: {name: y}
""")
    b = write(tmp_path, "b.yaml", """
apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Deployment
metadata: {name: d}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: v1
kind: ConfigMap
metadata: {}
""")
    code, out, err = run_cli([a, b])
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"error: {a}: document 2: apiVersion: Required value"
    assert lines[1] == f"error: {a}: document 3: kind: Required value"
    assert lines[2].startswith(f'error: {b}: document 1: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain')
    assert lines[3] == (f'error: {b}: document 2: apiVersion: Unsupported value: "v1": no matches for kind "Deployment" '
                        f'in version "v1" (use "apps/v1")')
    assert lines[4] == f'error: {b}: document 3: kind: Unsupported value: "Widget": no matches for kind "Widget" in version "example.com/v1"'
    assert lines[5] == f"error: {b}: document 4: metadata.name: Required value: name or generateName is required"
    assert len(lines) == 6


def test_a_yaml_syntax_error_names_the_document_and_the_line(no_cluster):
    path = str(HERE / "syntax-error.yaml")
    code, out, err = run_cli([path])
    assert code == 2 and out == ""
    assert err.startswith(f"error: {path}: document 2: YAML syntax error at line 13, column 5: ")


def test_the_same_object_twice_is_rejected(tmp_path, no_cluster):
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
    a = write(tmp_path, "a.yaml", doc)
    b = write(tmp_path, "b.yaml", "---\n---\n" + doc)
    code, _, err = run_cli([a, b])
    assert code == 2
    assert err == (f'error: {b}: document 2: metadata.name: Duplicate value: "cfg": configmaps "cfg" is already '
                   f'defined in {a} document 1\n')


def test_a_missing_file_and_an_empty_file(tmp_path, no_cluster):
    code, _, err = run_cli([str(tmp_path / "nope.yaml")])
    assert code == 2 and err == f'error: {tmp_path / "nope.yaml"}: the path "{tmp_path / "nope.yaml"}" does not exist\n'
    code, _, err = run_cli([write(tmp_path, "empty.yaml", "# nothing\n---\n")])
    assert code == 2 and err == "error: no objects passed to apply\n"


# ---- reading ---------------------------------------------------------------------------------------------------
def test_documents_keep_their_numbers_lists_expand_and_namespaces_default(tmp_path):
    p = write(tmp_path, "m.yaml", """
---
# only a comment
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: team-a, namespace: ignored}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: cfg}
  data: {day: 2025-01-01}
  immutable: yes
---
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team-a"}}
""")
    docs = manifests.load([p])
    assert [(d.index, d.item, d.kind.kind, d.namespace, d.name) for d in docs] == [
        (2, 0, "Namespace", "", "team-a"), (2, 1, "ConfigMap", "default", "cfg"), (3, None, "Secret", "team-a", "s")]
    # A cluster-scoped object's namespace is dropped, as the API server drops it.
    assert "namespace" not in docs[0].obj["metadata"]
    # YAML dates stay strings (JSON has no dates); YAML 1.1 booleans are booleans, as in kubectl (so
    # `yes` is fine for a bool field; as a ConfigMap data value it is refused: see test_wrong_json_types).
    assert docs[1].obj["data"] == {"day": "2025-01-01"} and docs[1].obj["immutable"] is True


def test_a_directory_means_its_manifest_files_in_name_order(tmp_path):
    write(tmp_path, "b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    write(tmp_path, "a.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    write(tmp_path, "notes.txt", "not a manifest")
    assert [d.name for d in manifests.load([str(tmp_path)])] == ["a", "b"]


def test_stdin_is_named_STDIN(no_cluster):
    code, _, err = run_cli(["-"], stdin=io.StringIO("kind: Pod\n"))
    assert code == 2 and err == "error: STDIN: document 1: apiVersion: Required value\n"


# ---- Node manifests ------------------------------------------------------------------------------------------
def _node_docs():
    return [d for d in manifests.load([str(HERE / "three-nodes.yaml")]) if d.kind.kind == "Node"]


def test_a_node_manifest_gives_allocatable_else_capacity_and_110_pods():
    ips: set[str] = set()
    cidrs: set[str] = set()
    a, b, gpu = (apply.node_spec(d, ips, cidrs) for d in _node_docs())
    assert (a.cpu, a.memory, a.pods) == ("2", "4Gi", "110")          # capacity only
    assert (b.cpu, b.memory, b.pods) == ("2", "4Gi", "20")           # allocatable wins over capacity
    assert (a.ip, b.ip, gpu.ip) == ("172.18.0.2", "172.18.0.3", "172.18.0.4")
    assert (a.pod_cidr, b.pod_cidr, gpu.pod_cidr) == ("10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24")
    assert a.zone == "zone-a" and b.labels == {"topology.kubernetes.io/zone": "zone-b", "disk": "ssd"}
    assert gpu.taints == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    assert a.taints == [] and not a.kind_defaults  # no implicit taints, no kind defaults
    assert {a.role, b.role, gpu.role} == {"worker"}


# ---- printing ---------------------------------------------------------------------------------------------------
ITEMS = [{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "resourceVersion": "12", "labels": {"a": "true"}},
          "spec": {"containers": [{"name": "c", "image": "nginx", "args": ["<b>&</b>"]}]},
          "status": {"conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                     "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes "
                                                "are available: 3 No preemption victims found for incoming pod."}],
                     "phase": "Pending"}},
         {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "cm", "resourceVersion": "13"},
          "data": {"script": "echo one\necho two\n", "n": "42", "empty": "", "ratio": 1.0}}]


def test_json_is_kubectls_list_with_sorted_keys_and_four_space_indent():
    text = apply.to_json(apply.k8s_list(ITEMS))
    assert text.startswith('{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "apiVersion": "v1",\n')
    assert text.endswith('    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')
    assert '"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"' in text   # Go's HTML-safe escaping
    assert '"ratio": 1,\n' in text
    back = json.loads(text)
    assert back["items"][0]["spec"]["containers"][0]["args"] == ["<b>&</b>"]


def test_yaml_is_kubectls_and_parses_back():
    text = apply.to_yaml(apply.k8s_list(ITEMS))
    assert text.startswith("apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n")
    assert text.endswith('kind: List\nmetadata:\n  resourceVersion: ""\n')
    assert '    empty: ""\n' in text and '    n: "42"\n' in text and '      a: "true"\n' in text
    assert "    script: |\n      echo one\n      echo two\n" in text
    back = yaml.safe_load(text)
    assert back == json.loads(apply.to_json(apply.k8s_list(ITEMS)))


def test_a_server_error_reads_as_kubectl_prints_it():
    doc = manifests.load([str(HERE / "deployment.yaml")])[1]
    nf = {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404,
          "message": 'namespaces "shop" not found', "details": {"name": "shop", "kind": "namespaces"}}
    assert apply.server_error(doc, nf, 404) == (
        f'Error from server (NotFound): error when creating "{doc.file}": namespaces "shop" not found')
    inv = {"reason": "Invalid", "code": 422, "message": "...", "details": {"name": "web", "kind": "Deployment", "causes": [
        {"field": "spec.replicas", "message": "Invalid value: -1: must be greater than or equal to 0"}]}}
    assert apply.server_error(doc, inv, 422) == (
        'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')
