"""Restart policy, CrashLoopBackOff and its back-off (10 s doubling to 300 s), run-to-completion phases, and
ErrImagePull -> ImagePullBackOff for images that do not exist."""
import re

import pytest

from simulator.cluster import Cluster
from tests.sim.helpers import create_pod


@pytest.fixture
def cluster():
    return Cluster(seed=7, run_id="test")


def advance(c, t):
    c.env.run_until(t)
    c.env.now = max(c.env.now, t)


def pod(name, image, node="worker-1", restart=None, **container):
    spec = {"nodeSelector": {"kubernetes.io/hostname": node}, "containers": [{"name": name, "image": image, **container}]}
    if restart:
        spec["restartPolicy"] = restart
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name}, "spec": spec}


def events(c, name, reason=None):
    return [e for e in c.apiserver.list("/registry/events/default/")
            if e["involvedObject"]["name"] == name and e.get("source", {}).get("component") == "kubelet"
            and (reason is None or e["reason"] == reason)]


def status(c, name):
    return c.get(f"/registry/pods/default/{name}")["status"]


def test_crash_loop_back_off_doubles_to_five_minutes(cluster):
    assert create_pod(cluster, pod("crash", "busybox:1.36", command=["sh", "-c", "echo starting; exit 1"])).code == 201
    uid = cluster.get("/registry/pods/default/crash")["metadata"]["uid"]
    seen = []
    t = 0.0
    while t < 1300:
        t += 0.5
        advance(cluster, t)
        cs = status(cluster, "crash").get("containerStatuses", [{}])[0]
        w = cs.get("state", {}).get("waiting", {})
        if w.get("reason") == "CrashLoopBackOff" and (not seen or seen[-1] != w["message"]):
            seen.append(w["message"])
    backoffs = [re.match(r"back-off (\S+) restarting failed container=crash pod=crash_default\((.+)\)$", m) for m in seen]
    assert all(backoffs) and {b.group(2) for b in backoffs} == {uid}
    assert [b.group(1) for b in backoffs] == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s"]
    # The first restart is immediate; then each restart waits at least the back-off (and the pod worker's
    # 10-15 s requeue granularity at most on top of it).
    k = cluster.kubelets["worker-1"]
    cids = next(ps for ps in k.pods.values() if ps.uid == uid).containers["crash"]
    runs = [k.runtime.containers[c] for c in cids]
    gaps = [b.started_at - a.finished_at for a, b in zip(runs, runs[1:])]
    assert gaps[0] < 5
    assert len(gaps) >= 8
    for gap, want in zip(gaps[1:], (10, 20, 40, 80, 160, 300, 300)):
        assert want <= gap <= want + 17, (gaps, want)
    st = status(cluster, "crash")
    assert st["phase"] == "Running"
    assert st["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 1
    assert st["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "Error"
    backoff_ev = events(cluster, "crash", "BackOff")
    assert len(backoff_ev) == 1 and backoff_ev[0]["type"] == "Warning" and backoff_ev[0]["count"] > 5
    assert backoff_ev[0]["message"] == f"Back-off restarting failed container crash in pod crash_default({uid})"
    assert cluster.kubelets["worker-1"].logs("default", "crash") == ["starting"]


def test_run_to_completion_phases(cluster):
    assert create_pod(cluster, pod("ok", "busybox", restart="Never", command=["sh", "-c", "echo done"])).code == 201
    assert create_pod(cluster, pod("bad", "busybox", restart="Never", command=["sh", "-c", "exit 2"])).code == 201
    assert create_pod(cluster, pod("retry", "busybox", node="worker-2", restart="OnFailure",
                                   command=["sh", "-c", "sleep 1; exit 0"])).code == 201
    advance(cluster, 20)
    ok, bad, retry = status(cluster, "ok"), status(cluster, "bad"), status(cluster, "retry")
    assert ok["phase"] == "Succeeded" and ok["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert bad["phase"] == "Failed" and bad["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 2
    assert retry["phase"] == "Succeeded" and retry["containerStatuses"][0]["restartCount"] == 0
    ready = next(c for c in ok["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "PodCompleted"
    assert next(c for c in ok["conditions"] if c["type"] == "PodReadyToStartContainers")["status"] == "False"


def test_bare_busybox_completes_and_crash_loops_under_restart_policy_always(cluster):
    assert create_pod(cluster, pod("bb", "busybox")).code == 201
    advance(cluster, 30)
    cs = status(cluster, "bb")["containerStatuses"][0]
    assert cs["restartCount"] >= 1
    assert cs["lastState"]["terminated"]["reason"] == "Completed" and cs["lastState"]["terminated"]["exitCode"] == 0


def test_image_that_does_not_exist_err_image_pull_then_image_pull_back_off(cluster):
    assert create_pod(cluster, pod("ghost", "nginx:nonexistent")).code == 201
    assert create_pod(cluster, pod("agentx", "agentx", node="worker-2")).code == 201
    advance(cluster, 4)
    cs = status(cluster, "ghost")["containerStatuses"][0]
    assert cs["state"]["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff")
    advance(cluster, 120)
    failed = [e["message"] for e in events(cluster, "ghost", "Failed")]
    assert ('Failed to pull image "nginx:nonexistent": rpc error: code = NotFound desc = failed to pull and unpack image '
            '"docker.io/library/nginx:nonexistent": failed to resolve reference "docker.io/library/nginx:nonexistent": '
            'docker.io/library/nginx:nonexistent: not found') in failed
    assert "Error: ErrImagePull" in failed and "Error: ImagePullBackOff" in failed
    back = events(cluster, "ghost", "BackOff")
    assert [e["message"] for e in back] == ['Back-off pulling image "nginx:nonexistent"'] and back[0]["type"] == "Normal"
    pulls = events(cluster, "ghost", "Pulling")[0]["count"]
    assert 3 <= pulls <= 5   # retries at 10, 20, 40 s back-off (plus 10-15 s requeues)
    denied = next(e["message"] for e in events(cluster, "agentx", "Failed") if e["message"].startswith("Failed to pull"))
    assert denied.endswith('failed to resolve reference "docker.io/library/agentx:latest": pull access denied, repository '
                           'does not exist or may require authorization: server message: insufficient_scope: authorization failed')
    assert "code = Unknown" in denied
    st = status(cluster, "ghost")
    assert st["phase"] == "Pending"
    w = st["containerStatuses"][0]["state"]["waiting"]
    if w["reason"] == "ImagePullBackOff":
        assert w["message"] == 'Back-off pulling image "nginx:nonexistent"'
    else:
        assert w["reason"] == "ErrImagePull" and "not found" in w["message"]
    reasons = set()
    for _ in range(40):
        advance(cluster, cluster.env.now + 2)
        reasons.add(status(cluster, "ghost")["containerStatuses"][0]["state"]["waiting"]["reason"])
    assert reasons == {"ErrImagePull", "ImagePullBackOff"}
