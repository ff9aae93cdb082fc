"""The real kubectl against the live simulated cluster: the lesson's commands work, their requests reach the
modelled API server (and so the dashboard), and RBAC confines students."""
from __future__ import annotations

import json
import time

import pytest

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers: [{name: nginx, image: nginx}]
"""


def test_version_and_nodes_wide(kube):
    out = kube.kubectl("version", "-o", "json").stdout
    assert json.loads(out)["serverVersion"]["gitVersion"] == "v1.31.0"
    lines = kube.kubectl("get", "nodes", "-o", "wide").stdout.splitlines()
    assert lines[0].split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert "INTERNAL-IP" in lines[0] and "CONTAINER-RUNTIME" in lines[0]
    rows = {ln.split()[0]: ln.split() for ln in lines[1:]}
    assert set(rows) == {"control-plane", "worker-1", "worker-2"}
    assert rows["control-plane"][1:3] == ["Ready", "control-plane"] and rows["worker-1"][2] == "<none>"
    system = kube.kubectl("get", "pods", "-n", "kube-system").stdout
    assert "etcd-control-plane" in system and " 1/1 " in system and "0/1" not in system


def test_run_is_watched_from_pending_to_running_then_described_logged_and_deleted(kube):
    watch = kube.popen("get", "pods", "-w", "--namespace", "default")
    try:
        time.sleep(1.0)
        assert kube.kubectl("run", "web", "--image=nginx").stdout.strip() == "pod/web created"
        deadline = time.monotonic() + 60
        statuses = []
        for line in watch.stdout:
            parts = line.split()
            if parts and parts[0] == "web":
                statuses.append(parts[2])
                if parts[2] == "Running":
                    assert parts[1] == "1/1"
                    break
            assert time.monotonic() < deadline, statuses
    finally:
        watch.kill()
    # Pending (created, then scheduled), ContainerCreating (bound, image pulling), Running: as a kind cluster.
    assert statuses[0] == "Pending" and "ContainerCreating" in statuses and statuses[-1] == "Running", statuses
    described = kube.kubectl("describe", "pod", "web").stdout
    assert "Successfully assigned default/web to worker-" in described
    for reason in ("Scheduled", "Pulling", "Pulled", "Created", "Started"):
        assert f" {reason} " in described, (reason, described)
    logs = kube.kubectl("logs", "web").stdout
    assert "Configuration complete; ready for start up" in logs
    assert 'pod "web" deleted' in kube.kubectl("delete", "pod", "web", "--wait=false").stdout


def test_apply_rollout_set_image_and_undo(kube):
    path = kube.root / "hello.yaml"
    path.write_text(DEPLOYMENT.replace("REPLICAS", "2"))
    assert kube.kubectl("apply", "-f", str(path)).stdout.strip() == "deployment.apps/hello created"
    assert "successfully rolled out" in kube.kubectl("rollout", "status", "deployment/hello", timeout=90).stdout
    path.write_text(DEPLOYMENT.replace("REPLICAS", "3"))
    assert kube.kubectl("apply", "-f", str(path)).stdout.strip() == "deployment.apps/hello configured"
    kube.kubectl("set", "image", "deployment/hello", "nginx=nginx:1.27")
    assert "successfully rolled out" in kube.kubectl("rollout", "status", "deployment/hello", timeout=90).stdout
    rs = kube.kubectl("get", "rs", "-l", "app=hello", "-o", "json").stdout
    images = {r["spec"]["template"]["spec"]["containers"][0]["image"]: r["spec"]["replicas"]
              for r in json.loads(rs)["items"]}
    assert images == {"nginx": 0, "nginx:1.27": 3}
    history = kube.kubectl("rollout", "history", "deployment/hello").stdout.split()
    assert history[:2] == ["deployment.apps/hello", "REVISION"] and "1" in history and "2" in history
    kube.kubectl("rollout", "undo", "deployment/hello")
    assert "successfully rolled out" in kube.kubectl("rollout", "status", "deployment/hello", timeout=90).stdout
    dep = json.loads(kube.kubectl("get", "deployment", "hello", "-o", "json").stdout)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    wide = kube.kubectl("get", "deploy", "hello").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert wide[1].split()[:4] == ["hello", "3/3", "3", "3"]
    assert 'deployment.apps "hello" deleted' in kube.kubectl("delete", "deployment", "hello").stdout


def test_a_student_is_confined_to_their_namespace_and_cannot_read_secrets(kube):
    pods = kube.kubectl("get", "pods", role="student", name="alice")
    assert "No resources found in student-alice namespace." in pods.stderr
    other = kube.kubectl("get", "pods", "-n", "kube-system", role="student", name="alice", check=False)
    assert other.returncode == 1
    assert ('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace '
            '"kube-system"') in other.stderr
    secrets = kube.kubectl("get", "secrets", role="student", name="alice", check=False)
    assert secrets.returncode == 1 and 'cannot list resource "secrets"' in secrets.stderr
    assert "worker-1" in kube.kubectl("get", "nodes", role="student", name="alice").stdout
    ro = kube.kubectl("run", "x", "--image=nginx", "-n", "default", role="viewer", name="bob", check=False)
    assert ro.returncode == 1 and 'cannot create resource "pods"' in ro.stderr


def test_a_forged_token_is_401(kube):
    bad = kube.root / "forged.yaml"
    bad.write_text(kube.kubeconfig("instructor").read_text().replace("token: ", "token: x"))
    import subprocess

    from tests.kubestack import KUBECTL
    proc = subprocess.run([KUBECTL, "get", "pods"], capture_output=True, text=True, timeout=30,
                          env={"KUBECONFIG": str(bad), "HOME": str(kube.root)})
    assert proc.returncode == 1 and "Unauthorized" in proc.stderr


def test_kubectl_requests_stream_to_the_dashboard_as_the_live_run(kube):
    s = kube.session()
    runs = s.get(kube.base_url + "/api/runs", timeout=10).json()["runs"]
    live = [r for r in runs if r["scenario"] == "live-cluster"]
    assert len(live) == 1 and live[0]["status"] == "running"
    kube.kubectl("run", "traced", "--image=busybox", "--", "sleep", "3600")
    deadline = time.monotonic() + 20
    while True:
        events = [json.loads(line) for line in
                  s.get(f"{kube.base_url}/api/runs/{live[0]['id']}/events", timeout=10).text.splitlines() if line]
        posts = [e for e in events if e["type"] == "apiserver.authn" and e["data"].get("user") == "kubernetes-admin"]
        if posts or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert posts, "kubectl's request never reached the run's log"
    assert any(e["type"] == "apiserver.admission" for e in events)
    assert any(e["type"] == "scheduler.bind" or e["type"].startswith("scheduler.") for e in events)
    kube.kubectl("delete", "pod", "traced", "--wait=false")


def test_get_events_watch_streams_the_kubelet_and_scheduler_events(kube):
    watch = kube.popen("get", "events", "-w", "-n", "default")
    try:
        time.sleep(1.0)
        kube.kubectl("run", "evented", "--image=nginx")
        seen, deadline = [], time.monotonic() + 60
        for line in watch.stdout:
            if "pod/evented" in line:
                seen.append(line.split()[2])  # LAST SEEN, TYPE, REASON, OBJECT, MESSAGE
                if "Started" in seen:
                    break
            assert time.monotonic() < deadline, seen
    finally:
        watch.kill()
    assert seen[:2] == ["Scheduled", "Pulling"] and "Pulled" in seen and "Created" in seen, seen
    kube.kubectl("delete", "pod", "evented", "--wait=false")


def test_the_official_python_client_lists_and_watches_with_resource_versions(kube):
    """The `kubernetes` package (pinned in requirements.txt) with the same kubeconfig: list, then a watch from
    the list's resourceVersion sees the new object; a bad token is 401."""
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException

    api = client.CoreV1Api(config.new_client_from_config(str(kube.kubeconfig("instructor"))))
    listed = api.list_namespaced_config_map("default", _request_timeout=10)
    rv = listed.metadata.resource_version
    api.create_namespaced_config_map("default", {"metadata": {"name": "watched"}, "data": {"k": "v"}},
                                     _request_timeout=10)
    w = watch.Watch()
    names = []
    for ev in w.stream(api.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5,
                       _request_timeout=10):
        names.append((ev["type"], ev["object"].metadata.name))
        if ev["object"].metadata.name == "watched":
            w.stop()
    assert ("ADDED", "watched") in names
    with pytest.raises(ApiException) as forbidden:
        api.list_namespaced_secret("kube-system", _request_timeout=10, _headers={"Authorization": "Bearer nope"})
    assert forbidden.value.status == 401


def test_commands_that_send_protobuf(kube):
    """kubectl's typed clients send Kubernetes protobuf: create deployment, scale, auth can-i, create
    namespace / configmap / secret / service / role. Each is decoded and served like its JSON form."""
    assert kube.kubectl("create", "namespace", "team-a").stdout.strip() == "namespace/team-a created"
    out = kube.kubectl("create", "deployment", "pb", "--image=nginx", "--replicas=2", "-n", "team-a").stdout
    assert out.strip() == "deployment.apps/pb created"
    assert "successfully rolled out" in kube.kubectl("rollout", "status", "deployment/pb", "-n", "team-a",
                                                     timeout=90).stdout
    kube.kubectl("scale", "deployment", "pb", "--replicas=3", "-n", "team-a")
    kube.kubectl("create", "configmap", "cfg", "--from-literal=a=b", "-n", "team-a")
    kube.kubectl("create", "secret", "generic", "pw", "--from-literal=p=s3cret", "-n", "team-a")
    kube.kubectl("create", "service", "clusterip", "pb", "--tcp=80:80", "-n", "team-a")
    kube.kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods", "-n", "team-a")
    svc = json.loads(kube.kubectl("get", "svc", "pb", "-n", "team-a", "-o", "json").stdout)
    assert svc["spec"]["clusterIP"].startswith("10.96.") and svc["spec"]["ports"][0]["port"] == 80
    secret = json.loads(kube.kubectl("get", "secret", "pw", "-n", "team-a", "-o", "json").stdout)
    assert secret["data"] == {"p": "czNjcmV0"} and secret["type"] == "Opaque"
    # auth can-i: a SelfSubjectAccessReview answered by the modelled RBAC.
    assert kube.kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"
    assert kube.kubectl("auth", "can-i", "create", "pods", role="student", name="carol").stdout.strip() == "yes"
    no = kube.kubectl("auth", "can-i", "get", "secrets", role="student", name="carol", check=False)
    assert no.returncode == 1 and no.stdout.strip() == "no"
    other = kube.kubectl("auth", "can-i", "list", "pods", "-n", "team-a", role="student", name="carol", check=False)
    assert other.stdout.strip() == "no"
    kube.kubectl("delete", "namespace", "team-a", "--wait=false")


def test_a_whole_row_of_new_students_creates_at_once(kube):
    """Twelve students' very first request creates a Pod, all at the same moment: each namespace is made on
    that first request, and the Pod is not refused for want of the namespace's default ServiceAccount (which
    the serviceaccount controller creates a moment later; 403 "error looking up service account" before)."""
    from concurrent.futures import ThreadPoolExecutor

    import requests
    import yaml

    paths = kube.issue_kubeconfigs("student", [f"row{i}" for i in range(12)])
    configs = [yaml.safe_load(p.read_text()) for p in paths]
    ca = kube.root / "kubeapi" / "ca.crt"

    def first(cfg):
        server = cfg["clusters"][0]["cluster"]["server"]
        ns = cfg["contexts"][0]["context"]["namespace"]
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "first"},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        return requests.post(f"{server}/api/v1/namespaces/{ns}/pods", json=body, verify=str(ca), timeout=60,
                             headers={"Authorization": "Bearer " + cfg["users"][0]["user"]["token"]})

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(first, configs))
    assert [r.status_code for r in answers] == [201] * 12, [r.text for r in answers if r.status_code != 201][:2]


def test_events_k8s_io_serves_the_same_events_converted(kube):
    """events.k8s.io/v1 is the same storage as core Events, converted: regarding, note, reportingController."""
    kube.kubectl("run", "ev2", "--image=nginx")
    deadline = time.monotonic() + 30
    while True:
        v1 = json.loads(kube.kubectl("get", "events.events.k8s.io", "-n", "default", "-o", "json",
                                     "--field-selector=involvedObject.name=ev2").stdout)["items"]
        if any(e["reason"] == "Started" for e in v1) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    core = json.loads(kube.kubectl("get", "events", "-n", "default", "-o", "json",
                                   "--field-selector=involvedObject.name=ev2").stdout)["items"]
    assert {e["metadata"]["name"] for e in v1} == {e["metadata"]["name"] for e in core}
    scheduled = next(e for e in v1 if e["reason"] == "Scheduled")
    assert scheduled["apiVersion"] == "events.k8s.io/v1" and scheduled["regarding"]["name"] == "ev2"
    assert scheduled["note"].startswith("Successfully assigned default/ev2 to")
    assert scheduled["reportingController"] == "default-scheduler" and "message" not in scheduled
    assert "events.k8s.io/v1" in kube.kubectl("api-resources", "--api-group=events.k8s.io").stdout
    kube.kubectl("delete", "pod", "ev2", "--wait=false")
