"""`simulator apply` end to end: manifests in, a cluster runs them, a List of objects out."""
from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
from pathlib import Path

import yaml

from simulator import apply, manifests

HERE = Path(__file__).resolve().parent / "manifests"
ROOT = HERE.parents[2]
THREE_NODES = str(HERE / "three-nodes.yaml")

# kube-scheduler v1.31's words for too-big on the three nodes (framework.FitError.Error(): reasons sorted as
# strings; then the preemption PostFilter's own "0/N nodes are available" diagnosis: the tainted node is
# UnschedulableAndUnresolvable, the two others have no lower-priority victims). The message really ends in
# "pod..": the inner FitError.Error() ends with "." and the outer one appends the PostFilter message with
# SeparatorFormat " %v." (pkg/scheduler/framework/types.go), as real FailedScheduling events show.
TOO_BIG = ("0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. "
           "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
           "2 No preemption victims found for incoming pod..")


@functools.lru_cache(maxsize=None)
def _applied(path: str, seed: int = 1, for_seconds: float | None = None, output: str = "json") -> tuple:
    out, err = io.StringIO(), io.StringIO()
    code = apply.run([path], seed=seed, for_seconds=for_seconds, output=output, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def applied(path: str = THREE_NODES, **kw) -> dict:
    code, out, err = _applied(path, **kw)
    assert code == 0, err
    return json.loads(out)


def by(items: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in items if o["kind"] == kind}


def events_for(items: list[dict], name: str) -> list[dict]:
    return [o for o in items if o["kind"] == "Event" and o["involvedObject"]["name"] == name]


def test_the_list_is_kubectls_and_holds_the_files_objects_and_events():
    lst = applied()
    assert (lst["apiVersion"], lst["kind"], lst["metadata"]) == ("v1", "List", {"resourceVersion": ""})
    items = lst["items"]
    assert set(by(items, "Node")) == {"node-a", "node-b", "node-gpu"}   # exactly the files' nodes
    assert list(by(items, "Pod")) == ["web-1", "web-2", "trainer", "too-big"]  # creation order
    assert any(o["kind"] == "Event" for o in items)
    # Only what this command created: no bootstrapped kube-system Pod, ClusterRole or Namespace.
    assert not any(o["metadata"].get("namespace") == "kube-system" and o["kind"] == "Pod" for o in items)
    assert "ClusterRole" not in {o["kind"] for o in items}
    for o in items:
        assert o["metadata"]["resourceVersion"].isdigit() and o["metadata"].get("uid")
    revs = [int(o["metadata"]["resourceVersion"]) for o in items]
    assert revs  # every object read at its latest resourceVersion


def test_nodes_are_ready_with_their_resources_labels_and_taints_and_nothing_else():
    nodes = by(applied()["items"], "Node")
    a, b, gpu = nodes["node-a"], nodes["node-b"], nodes["node-gpu"]
    for n in (a, b, gpu):
        ready = next(c for c in n["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True"
    assert {k: a["status"]["allocatable"][k] for k in ("cpu", "memory", "pods")} == {"cpu": "2", "memory": "4Gi", "pods": "110"}
    assert {k: b["status"]["allocatable"][k] for k in ("cpu", "memory", "pods")} == {"cpu": "2", "memory": "4Gi", "pods": "20"}
    assert b["status"]["capacity"]["cpu"] == "4"
    assert b["metadata"]["labels"]["disk"] == "ssd" and b["metadata"]["labels"]["kubernetes.io/hostname"] == "node-b"
    assert gpu["spec"]["taints"] == [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    assert "taints" not in a["spec"] and "taints" not in b["spec"]  # no implicit taints


def test_pods_run_bound_in_creation_order_and_taints_are_honoured():
    items = applied()["items"]
    pods = by(items, "Pod")
    for name in ("web-1", "web-2", "trainer"):
        assert pods[name]["status"]["phase"] == "Running", name
    assert pods["trainer"]["spec"]["nodeName"] == "node-gpu"            # tolerates the taint, selects the label
    assert {pods["web-1"]["spec"]["nodeName"], pods["web-2"]["spec"]["nodeName"]} <= {"node-a", "node-b"}
    scheduled = [o["involvedObject"]["name"] for o in items if o["kind"] == "Event" and o["reason"] == "Scheduled"]
    assert scheduled == ["web-1", "web-2", "trainer"]


def test_a_pod_too_big_for_every_node_stays_pending_with_kube_schedulers_message():
    items = applied()["items"]
    pod = by(items, "Pod")["too-big"]
    assert pod["status"]["phase"] == "Pending" and "nodeName" not in pod["spec"]
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", TOO_BIG)
    failed = [e for e in events_for(items, "too-big") if e["reason"] == "FailedScheduling"]
    assert failed and failed[0]["type"] == "Warning" and failed[0]["message"] == TOO_BIG


def test_same_files_and_seed_give_the_same_bytes_and_yaml_parses_back():
    code, out1, _ = _applied(THREE_NODES)
    out2 = io.StringIO()
    assert apply.run([THREE_NODES], seed=1, stdout=out2, stderr=io.StringIO()) == 0
    assert out2.getvalue() == out1
    code, text, err = _applied(THREE_NODES, output="yaml")
    assert code == 0, err
    assert yaml.safe_load(text) == json.loads(out1)


def test_for_seconds_stops_the_clock_where_until_idle_would_not():
    # After 0 more seconds nothing has been scheduled yet; until idle every schedulable Pod runs.
    early = by(applied(for_seconds=0.0)["items"], "Pod")
    assert all(p["status"].get("phase") == "Pending" for p in early.values())
    later = by(applied(for_seconds=60.0)["items"], "Pod")
    assert later["web-1"]["status"]["phase"] == "Running"


def test_without_nodes_the_default_kind_cluster_runs_the_pods():
    items = applied(str(HERE / "pods-only.yaml"))["items"]
    pod = by(items, "Pod")["hello"]
    assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"] in ("worker-1", "worker-2")
    assert "Node" not in {o["kind"] for o in items}  # kind's nodes were there before: not printed


def test_a_request_the_server_refuses_is_reported_like_kubectl_and_nothing_is_printed():
    path = str(HERE / "namespace-too-late.yaml")
    code, out, err = _applied(path)
    assert code == 1 and out == ""
    assert err.splitlines()[0].startswith(
        f'Error from server (NotFound): error when creating "{path}": namespaces "later" not found')
    assert "document 2" in err  # the hint: the Namespace comes later in the file


def test_the_cli_applies_a_file():
    r = subprocess.run([sys.executable, "-m", "simulator", "apply", "-f", str(HERE / "deployment.yaml"),
                        "--seed", "3", "-o", "yaml"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    items = yaml.safe_load(r.stdout)["items"]
    assert by(items, "Deployment")["web"]["status"].get("readyReplicas") == 2
    pods = by(items, "Pod")
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods.values())
    r = subprocess.run([sys.executable, "-m", "simulator", "apply", "-f", str(HERE / "invalid-pod.yaml")],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert "invalid-pod.yaml: document 2: spec.containers[0].image: Required value" in r.stderr
    r = subprocess.run([sys.executable, "-m", "simulator", "apply", "-f", "x.yaml", "--for", "soon"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--for" in r.stderr


def test_manifests_map_every_kind_the_issue_names():
    for api_version, kind in (("v1", "Node"), ("v1", "Namespace"), ("scheduling.k8s.io/v1", "PriorityClass"),
                              ("v1", "Pod"), ("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("v1", "Service"),
                              ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                              ("rbac.authorization.k8s.io/v1", "ClusterRole"),
                              ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ("v1", "ResourceQuota"),
                              ("v1", "LimitRange"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount")):
        assert manifests.kind_for(api_version, kind) is not None, kind


def test_all_adds_what_the_bootstrapped_cluster_held():
    docs = manifests.load([str(HERE / "pods-only.yaml")])
    mine = apply.apply(docs, seed=1).items
    everything = apply.apply(docs, seed=1, include_all=True).items
    kinds = {o["kind"] for o in everything}
    assert {"ClusterRole", "Namespace", "Node"} <= kinds
    assert [o["metadata"]["name"] for o in everything[-len(mine):]] == [o["metadata"]["name"] for o in mine]
