"""The `api` backend (dashboard/realcluster) against the live simulated cluster's Kubernetes API: the official
client, a real Celery worker, the real kubeapi process. pod-create and deployment-reconcile tell the same
Kubernetes-level story as on the simulator; the preflight refuses a run when the cluster cannot be used; the
run's namespace is deleted afterwards; nothing from the kubeconfig reaches an event, a page or a log."""
from __future__ import annotations

import shutil

import pytest
import yaml

from tests.server.conftest import fetch_events, get_run, wait_finished

CONTEXT = "kind-challenge-cluster-sim"


@pytest.fixture(scope="module")
def api_kube(kube):
    """The worker's kubeconfig for the api backend: an instructor's, for the live cluster."""
    shutil.copy(kube.kubeconfig("instructor"), kube.root / "api-kubeconfig.yaml")
    return kube


def start_api(kube, session, scenario: str, params: dict | None = None, seed: int = 11, **extra):
    return session.post(kube.base_url + "/api/runs", json={"scenario": scenario, "backend": "api",
                                                           "params": params or {}, "seed": seed, **extra}, timeout=30)


def run_both(kube, scenario: str, params: dict | None = None, seed: int = 11, timeout: float = 150):
    s = kube.session()
    r = start_api(kube, s, scenario, params, seed)
    assert r.status_code == 201, r.text
    api_run = wait_finished(s, kube, r.json()["id"], timeout=timeout)
    assert api_run["status"] == "succeeded", (api_run, kube.logs())
    sim = s.post(kube.base_url + "/api/runs", json={"scenario": scenario, "backend": "sim", "params": params or {},
                                                    "seed": seed, "speed": "max"}, timeout=10)
    assert sim.status_code == 201, sim.text
    sim_run = wait_finished(s, kube, sim.json()["id"], timeout=60)
    assert sim_run["status"] == "succeeded"
    return (api_run, fetch_events(s, kube, api_run["id"])), (sim_run, fetch_events(s, kube, sim_run["id"]))


def pod_story(events: list[dict], name: str) -> tuple[list[str], list[str]]:
    """The Kubernetes-level story of one Pod: its phases as written (repeats folded) and its Events' reasons."""
    phases, reasons = [], []
    for ev in events:
        if ev["type"] != "etcd.put":
            continue
        key, value = ev["data"]["key"], ev["data"]["value"]
        if key.startswith("/registry/pods/") and key.endswith(f"/{name}"):
            phase = (value.get("status") or {}).get("phase") or "Pending"
            if not phases or phases[-1] != phase:
                phases.append(phase)
        elif key.startswith("/registry/events/") and (value.get("involvedObject") or {}).get("name") == name:
            reasons.append(value["reason"])
    return phases, reasons


def test_pod_create_on_the_api_backend_tells_the_simulators_story(api_kube):
    kube = api_kube
    (api_run, api), (_, sim) = run_both(kube, "pod-create", {"pod_name": "web", "image": "nginx"})
    assert api_run["backend"] == "api"
    # The same schema: contiguous seqs, the first event describes the cluster, the last one completes it.
    assert [e["seq"] for e in api] == list(range(1, len(api) + 1))
    started = api[0]
    assert started["type"] == "scenario.started" and started["data"]["backend"] == "api"
    ns = started["data"]["namespace"]
    assert ns.startswith("k8sdash-") and {n["name"] for n in started["data"]["nodes"]} >= {"control-plane", "worker-1", "worker-2"}
    assert api[-1]["type"] == "scenario.completed" and api[-1]["data"]["outcome"] == "Running"
    # The same Kubernetes-level story as the simulator with the same seed: phases and Event reasons. (The live
    # cluster is shared with other tests: when the chosen node has the image already, the kubelet reports
    # Pulled "already present" without Pulling, as a real one does; the fresh simulator always pulls.)
    def told(events):
        phases, reasons = pod_story(events, "web")
        return phases, [r for r in reasons if r != "Pulling"]

    assert told(api) == told(sim)
    phases, reasons = told(api)
    assert phases == ["Pending", "Running"]
    assert reasons == ["Scheduled", "Pulled", "Created", "Started"]
    # The lesson's ten steps, in order; those a real cluster cannot show are marked hidden.
    steps = [e for e in api if e["type"] == "scenario.step"]
    assert [e["data"]["step"] for e in steps] == list(range(1, 11))
    # (2 and 3, inside the API server, are told by its audit log: below)
    assert {e["data"]["step"] for e in steps if "hidden" in e["data"]} == {5, 6}
    # The API server's audit log (the live cluster keeps one, as `make kind-up` makes kind's), followed through
    # the control-plane node's kubelet: the run's create told stage by stage from it, before the answer...
    assert started["data"]["apiserver"] == {"audit": True, "audit_note": None}
    sent = next(i for i, e in enumerate(api) if e["type"] == "kubectl.request")
    answer = next(i for i, e in enumerate(api) if e["type"] == "apiserver.response" and e["data"]["source"] == "client")
    inside = [e for e in api[sent + 1:answer] if e["data"].get("source") == "audit"]
    assert [e["type"] for e in inside] == ["apiserver.authn", "apiserver.authz", "apiserver.admission",
                                           "apiserver.validation", "apiserver.admission", "apiserver.storage"], inside
    assert [e["step"] for e in inside] == [2, 2, 3, 3, 3, 4]
    authn, authz, mutating, _, podsecurity, storage = (e["data"] for e in inside)
    assert authn["decision"] == "allow" and "system:authenticated" in authn["groups"]
    assert authz["decision"] == "allow" and authz["authorizer"] == "RBAC"
    assert authz["reason"].startswith("RBAC: allowed by ClusterRoleBinding ")
    # what defaults and admission set: the ServiceAccount plugin's account and token volume, the default
    # tolerations for not-ready and unreachable nodes; not what the server stamps on every object
    assert {"spec.serviceAccountName", "spec.tolerations", "spec.volumes"} <= set(mutating["changes"]), mutating
    assert "metadata.uid" not in mutating["changes"] and "status" not in mutating["changes"]
    assert podsecurity["plugin"] == "PodSecurity" and podsecurity["notes"] == ["enforce=privileged:latest"]
    assert storage["key"] == f"/registry/pods/{ns}/web" and storage["op"] == "create"
    # ...and the requests the control plane and the kubelet make about the run's Pod, each with its answer.
    incluster = [e for e in api if e["type"] == "apiserver.request" and e["data"].get("source") == "audit"]
    made = {(e["component"], e["data"]["method"], e["data"]["path"].rsplit("/", 1)[-1]) for e in incluster}
    assert ("scheduler", "POST", "binding") in made and ("kubelet", "PATCH", "status") in made, made
    assert all(e["data"]["user"] != authn["user"] for e in incluster)
    answers = [e for e in api if e["type"] == "apiserver.response" and e["data"]["source"] == "audit"]
    assert len(answers) == len(incluster) and {e["data"]["code"] for e in answers} <= {200, 201}
    # Each told around the write it made: the scheduler's binding, then the Pod on its node, then the answer.
    at = next(i for i, e in enumerate(api) if e["type"] == "apiserver.request" and e["data"]["path"].endswith("/binding"))
    bound = next(i for i, e in enumerate(api) if e["type"] == "etcd.put" and e["data"]["key"] == f"/registry/pods/{ns}/web"
                 and e["data"]["value"]["spec"].get("nodeName"))
    done = next(i for i, e in enumerate(api) if e["type"] == "apiserver.response" and e["data"]["source"] == "audit")
    assert at < bound < done and api[at]["step"] == 7
    # Everything observed carries its source; component events derived from Kubernetes Events say so.
    sources = {e["type"]: e["data"].get("source") for e in api if not e["type"].startswith("scenario.")}
    assert sources["kubectl.request"] == "client" and sources["etcd.put"] == "etcdctl"
    # etcd read the lesson's way: etcdctl watch in the etcd Pod (kubectl exec), every write joined with it.
    assert started["data"]["etcd"]["source"] == "etcdctl"
    assert {e["data"]["source"] for e in api if e["type"] in ("etcd.put", "etcd.delete")} == {"etcdctl"}
    assert sources["scheduler.bind"] == "event" and sources["container-runtime.container.started"] == "event"
    bind = next(e for e in api if e["type"] == "scheduler.bind")
    assert bind["data"]["node"] in ("worker-1", "worker-2")
    # Every key is the API server's registry key in the run's own namespace, revisions increasing per key.
    puts = [e for e in api if e["type"] == "etcd.put" and e["data"]["key"].startswith("/registry/pods/")]
    assert {e["data"]["key"] for e in puts} == {f"/registry/pods/{ns}/web"}
    assert [e["data"]["version"] for e in puts] == list(range(1, len(puts) + 1))
    assert {e["data"]["create_revision"] for e in puts} == {puts[0]["data"]["revision"]}
    # The terminals' clock: the cluster's own, from the namespace's creationTimestamp, at or before the Pod's.
    epoch = started["data"]["epoch"]
    assert epoch.endswith("Z") and epoch <= puts[0]["data"]["value"]["metadata"]["creationTimestamp"]
    assert all(a["data"]["revision"] < b["data"]["revision"] for a, b in zip(puts, puts[1:]))
    # The run's namespace is gone afterwards (Terminating or deleted).
    out = kube.kubectl("get", "namespace", ns, "-o", "jsonpath={.status.phase}", check=False)
    assert out.returncode != 0 or out.stdout == "Terminating", out.stdout


def replica_counts(events: list[dict]) -> list[int]:
    """The Deployment's spec.replicas as written, repeats folded."""
    out = []
    for ev in events:
        if ev["type"] == "etcd.put" and ev["data"]["key"].startswith("/registry/deployments/"):
            n = ev["data"]["value"]["spec"]["replicas"]
            if not out or out[-1] != n:
                out.append(n)
    return out


def scaling_messages(events: list[dict]) -> list[str]:
    """ScalingReplicaSet Events, without the ReplicaSet's generated name."""
    out = []
    for ev in events:
        if ev["type"] == "etcd.put" and ev["data"]["key"].startswith("/registry/events/"):
            v = ev["data"]["value"]
            if v["reason"] == "ScalingReplicaSet":
                out.append(" ".join(w for w in v["message"].split() if not w.startswith("web-")))
    return out


def test_deployment_reconcile_on_the_api_backend_tells_the_simulators_story(api_kube):
    params = {"replicas": 3, "scale_down": 1, "scale_up": 2}
    (api_run, api), (_, sim) = run_both(api_kube, "deployment-reconcile", params)
    assert api[-1]["data"]["outcome"] == "2/2 Running"
    assert replica_counts(api) == replica_counts(sim) == [3, 1, 2]
    assert scaling_messages(api) == scaling_messages(sim)
    reasons = [e["data"]["value"]["reason"] for e in api if e["type"] == "etcd.put"
               and e["data"]["key"].startswith("/registry/events/")
               and e["data"]["value"]["involvedObject"]["kind"] == "ReplicaSet"]
    sim_reasons = [e["data"]["value"]["reason"] for e in sim if e["type"] == "etcd.put"
                   and e["data"]["key"].startswith("/registry/events/")
                   and e["data"]["value"]["involvedObject"]["kind"] == "ReplicaSet"]
    assert sorted(reasons) == sorted(sim_reasons)
    assert [e["data"]["step"] for e in api if e["type"] == "scenario.step"] == list(range(1, 8))
    # the deleted Pod's key was deleted, and replaced
    assert any(e["type"] == "etcd.delete" and e["data"]["key"].startswith("/registry/pods/") for e in api)
    # The audit log names each controller by its own service account (--use-service-account-credentials), the
    # same users as the simulator's requests: the Deployment controller makes the ReplicaSet, the ReplicaSet
    # controller the Pods.
    def makers(events, suffix):
        return {e["data"]["user"] for e in events if e["type"] == "apiserver.request" and e["data"]["method"] == "POST"
                and e["data"]["path"].endswith(suffix)}

    assert makers(api, "/replicasets") == makers(sim, "/replicasets") == {
        "system:serviceaccount:kube-system:deployment-controller"}
    assert makers(api, "/pods") == makers(sim, "/pods") == {"system:serviceaccount:kube-system:replicaset-controller"}
    assert {e["component"] for e in api if e["type"] == "apiserver.request"
            and e["data"]["user"].startswith("system:serviceaccount:kube-system:")} == {"controller-manager"}


def test_preflight_refuses_a_run_when_the_cluster_cannot_be_used(api_kube):
    kube = api_kube
    s = kube.session()
    path = kube.root / "api-kubeconfig.yaml"
    before = s.get(kube.base_url + "/api/runs?limit=200", timeout=10).json()["runs"]
    # A scenario that needs the simulator
    r = start_api(kube, s, "etcd-raft")
    assert r.status_code == 400 and r.json()["error"]["field"] == "backend"
    assert "only on the simulator" in r.json()["error"]["message"]
    # No kubeconfig at all
    saved = path.read_text()
    path.unlink()
    try:
        r = start_api(kube, s, "pod-create")
        assert r.status_code == 409, r.text
        assert r.json()["error"]["field"] == "backend" and "no kubeconfig" in r.json()["error"]["message"]
        # A context the kubeconfig does not have
        path.write_text(saved.replace(CONTEXT, "another-context"))
        r = start_api(kube, s, "pod-create")
        assert r.status_code == 409 and f"no context '{CONTEXT}'" in r.json()["error"]["message"], r.text
        # A server that does not answer: the address is not repeated
        cfg = yaml.safe_load(saved)
        cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"
        path.write_text(yaml.safe_dump(cfg))
        r = start_api(kube, s, "pod-create")
        msg = r.json()["error"]["message"]
        assert r.status_code == 409 and "could not be reached" in msg and "127.0.0.1" not in msg and ":9" not in msg
        # A revoked token: 401
        bad = yaml.safe_load(saved)
        bad["users"][0]["user"]["token"] = "not-a-token"
        path.write_text(yaml.safe_dump(bad))
        r = start_api(kube, s, "pod-create")
        assert r.status_code == 409 and "401" in r.json()["error"]["message"], r.text
    finally:
        path.write_text(saved)
    # Node failure pauses a kind node's container: the cluster answers and has two Ready workers, but this
    # machine has no Docker (or the nodes are not its containers): refused, saying why.
    r = start_api(kube, s, "node-failure", {"toleration_seconds": 10})
    msg = r.json()["error"]["message"]
    assert r.status_code == 409 and r.json()["error"]["field"] == "backend", r.text
    assert "node failure" in msg and "ocker" in msg and "two Ready worker" not in msg, msg
    after = s.get(kube.base_url + "/api/runs?limit=200", timeout=10).json()["runs"]
    assert len(after) == len(before), "a refused run was created"


def test_cancel_deletes_the_namespace_and_secrets_stay_in_the_worker(api_kube):
    kube = api_kube
    s = kube.session()
    r = start_api(kube, s, "deployment-reconcile", {"replicas": 2, "scale_down": 1, "scale_up": 2})
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    import time

    deadline = time.monotonic() + 60
    ns = None
    while time.monotonic() < deadline and ns is None:
        evs = fetch_events(s, kube, run_id)
        ns = next((e["data"]["namespace"] for e in evs if e["type"] == "scenario.started"), None)
        time.sleep(0.2)
    assert ns, get_run(s, kube, run_id)
    assert s.post(f"{kube.base_url}/api/runs/{run_id}/control", json={"action": "cancel"}, timeout=10).status_code == 202
    run = wait_finished(s, kube, run_id, timeout=60)
    assert run["status"] == "cancelled"
    out = kube.kubectl("get", "namespace", ns, "-o", "jsonpath={.status.phase}", check=False)
    assert out.returncode != 0 or out.stdout == "Terminating", out.stdout
    # Nothing derived from the kubeconfig: not the token, not the CA, not the address.
    cfg = yaml.safe_load((kube.root / "api-kubeconfig.yaml").read_text())
    token = cfg["users"][0]["user"]["token"]
    ca = cfg["clusters"][0]["cluster"]["certificate-authority-data"]
    server = cfg["clusters"][0]["cluster"]["server"]
    texts = {"events": "\n".join(str(e) for e in fetch_events(s, kube, run_id)),
             "page": s.get(kube.base_url + "/", timeout=10).text,
             "run": str(get_run(s, kube, run_id)),
             "logs": "\n".join(p.read_text(errors="replace") for p in (kube.root / "var" / "log").glob("*.log"))}
    for where, text in texts.items():
        assert token not in text and ca[20:80] not in text, where
        if where != "logs":   # the launcher logs the kubeapi's own address at start
            assert server not in text, where
