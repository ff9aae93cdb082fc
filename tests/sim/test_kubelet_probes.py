"""Probes, end to end: the documentation's liveness example restarts the container with the kubelet's exact
events; readiness drives the Ready and ContainersReady conditions; HTTP and TCP probes."""
import pytest

from simulator.cluster import Cluster
from tests.sim.helpers import create_pod


@pytest.fixture
def cluster():
    return Cluster(seed=7, run_id="test")


def advance(c, t):
    c.env.run_until(t)
    c.env.now = max(c.env.now, t)


def pod(name, image, node="worker-1", **container):
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name},
            "spec": {"nodeSelector": {"kubernetes.io/hostname": node},
                     "containers": [{"name": container.pop("cname", name), "image": image, **container}]}}


def events(c, name):
    return [e for e in c.apiserver.list("/registry/events/default/")
            if e["involvedObject"]["name"] == name and e.get("source", {}).get("component") == "kubelet"]


def status(c, name):
    return c.get(f"/registry/pods/default/{name}")["status"]


def cond(c, name, typ):
    return next(x for x in status(c, name)["conditions"] if x["type"] == typ)


def test_docs_liveness_exec_example_restarts_the_container(cluster):
    # https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
    m = pod("liveness-exec", "registry.k8s.io/busybox:1.27.2", cname="liveness",
            args=["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
            livenessProbe={"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5, "periodSeconds": 5})
    assert create_pod(cluster, m).code == 201
    advance(cluster, 30)
    assert status(cluster, "liveness-exec")["containerStatuses"][0]["restartCount"] == 0
    assert not [e for e in events(cluster, "liveness-exec") if e["reason"] == "Unhealthy"]
    advance(cluster, 50)
    evs = events(cluster, "liveness-exec")
    unhealthy = [e for e in evs if e["reason"] == "Unhealthy"]
    assert len(unhealthy) == 1 and unhealthy[0]["count"] == 3 and unhealthy[0]["type"] == "Warning"
    assert unhealthy[0]["message"] == "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"
    assert unhealthy[0]["involvedObject"]["fieldPath"] == "spec.containers{liveness}"
    killing = [e for e in evs if e["reason"] == "Killing"]
    assert [e["message"] for e in killing] == ["Container liveness failed liveness probe, will be restarted"]
    # sh as PID 1 ignores SIGTERM: the container dies by SIGKILL when the 30 s grace period ends.
    advance(cluster, 74)
    assert status(cluster, "liveness-exec")["containerStatuses"][0]["restartCount"] == 0
    advance(cluster, 82)
    cs = status(cluster, "liveness-exec")["containerStatuses"][0]
    assert cs["restartCount"] == 1 and "running" in cs["state"]
    assert cs["lastState"]["terminated"]["exitCode"] == 137 and cs["lastState"]["terminated"]["reason"] == "Error"
    assert status(cluster, "liveness-exec")["phase"] == "Running"
    # The new container has a fresh filesystem: the script touches the file again, and the cycle repeats.
    advance(cluster, 160)
    assert status(cluster, "liveness-exec")["containerStatuses"][0]["restartCount"] == 2


def test_readiness_toggles_ready_and_containers_ready(cluster):
    m = pod("web", "busybox", command=["sh", "-c", "touch /tmp/ready; sleep 30; rm /tmp/ready; sleep 30; touch /tmp/ready; sleep 3600"],
            readinessProbe={"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 5})
    assert create_pod(cluster, m).code == 201
    advance(cluster, 12)
    assert cond(cluster, "web", "Ready")["status"] == "True"
    assert cond(cluster, "web", "ContainersReady")["status"] == "True"
    assert status(cluster, "web")["containerStatuses"][0]["ready"] is True
    ready_at, init_at = cond(cluster, "web", "Ready")["lastTransitionTime"], cond(cluster, "web", "Initialized")["lastTransitionTime"]
    advance(cluster, 52)  # file removed at ~33 s; three failures (period 5 s) make it unready
    r = cond(cluster, "web", "Ready")
    assert r["status"] == "False" and r["reason"] == "ContainersNotReady"
    assert r["message"] == "containers with unready status: [web]"
    # A condition's lastTransitionTime moves only when its status does.
    assert r["lastTransitionTime"] > ready_at and cond(cluster, "web", "Initialized")["lastTransitionTime"] == init_at
    unready_at = r["lastTransitionTime"]
    assert cond(cluster, "web", "ContainersReady")["status"] == "False"
    assert status(cluster, "web")["phase"] == "Running"   # not ready is not restarted
    unhealthy = [e for e in events(cluster, "web") if e["reason"] == "Unhealthy"]
    assert unhealthy[0]["message"] == "Readiness probe failed: cat: can't open '/tmp/ready': No such file or directory"
    advance(cluster, 75)
    assert cond(cluster, "web", "Ready")["status"] == "True"
    assert cond(cluster, "web", "Ready")["lastTransitionTime"] > unready_at
    assert status(cluster, "web")["containerStatuses"][0]["restartCount"] == 0


def test_http_and_tcp_probes_need_a_listening_port(cluster):
    m = pod("nginx", "nginx:1.27", readinessProbe={"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2},
            livenessProbe={"tcpSocket": {"port": 80}})
    assert create_pod(cluster, m).code == 201
    bad = pod("wrongport", "nginx:1.27", node="worker-2", readinessProbe={"httpGet": {"path": "/healthz", "port": 8080},
                                                                           "periodSeconds": 2})
    assert create_pod(cluster, bad).code == 201
    advance(cluster, 20)
    assert cond(cluster, "nginx", "Ready")["status"] == "True"
    assert cond(cluster, "wrongport", "Ready")["status"] == "False"
    ip = status(cluster, "wrongport")["podIP"]
    msg = next(e for e in events(cluster, "wrongport") if e["reason"] == "Unhealthy")["message"]
    assert msg == f'Readiness probe failed: Get "http://{ip}:8080/healthz": dial tcp {ip}:8080: connect: connection refused'


def test_docs_liveness_http_example_agnhost_returns_500_after_10s(cluster):
    m = pod("liveness-http", "registry.k8s.io/e2e-test-images/agnhost:2.40", cname="liveness", args=["liveness"],
            livenessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 3, "periodSeconds": 3})
    assert create_pod(cluster, m).code == 201
    advance(cluster, 30)
    evs = events(cluster, "liveness-http")
    assert next(e for e in evs if e["reason"] == "Unhealthy")["message"] == \
        "Liveness probe failed: HTTP probe failed with statuscode: 500"
    assert any(e["reason"] == "Killing" and e["message"] == "Container liveness failed liveness probe, will be restarted"
               for e in evs)
    # agnhost handles SIGTERM: it exits at once and is started again.
    assert status(cluster, "liveness-http")["containerStatuses"][0]["restartCount"] >= 1


def test_startup_probe_holds_back_liveness_and_kills_when_it_never_passes(cluster):
    slow = pod("slow", "busybox", command=["sh", "-c", "sleep 20; touch /tmp/started; sleep 3600"],
               startupProbe={"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 2, "failureThreshold": 30},
               livenessProbe={"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 2})
    never = pod("never", "busybox", node="worker-2", command=["sh", "-c", "sleep 3600"],
                startupProbe={"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 2, "failureThreshold": 3})
    assert create_pod(cluster, slow).code == 201 and create_pod(cluster, never).code == 201
    advance(cluster, 15)
    cs = status(cluster, "slow")["containerStatuses"][0]
    assert cs["started"] is False and cs["ready"] is False
    assert all(e["message"].startswith("Startup probe failed") for e in events(cluster, "slow") if e["reason"] == "Unhealthy")
    advance(cluster, 40)
    cs = status(cluster, "slow")["containerStatuses"][0]
    assert cs["started"] is True and cs["ready"] is True and cs["restartCount"] == 0
    assert not [e for e in events(cluster, "slow") if e["reason"] == "Killing"]
    assert "Container never failed startup probe, will be restarted" in \
        [e["message"] for e in events(cluster, "never") if e["reason"] == "Killing"]
