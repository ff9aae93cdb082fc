"""Graceful deletion, node heartbeats (quiet Lease renewals every 10 s), a kubelet that stops and starts again,
and a node that registers itself."""
import json

import pytest

from simulator.cluster import Cluster, NodeSpec
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
                     "containers": [{"name": name, "image": image, **container}]}}


def kubelet_events(c, name, ns="default"):
    return [e for e in c.apiserver.list(f"/registry/events/{ns}/")
            if e["involvedObject"]["name"] == name and e.get("source", {}).get("component") == "kubelet"]


def watch_pods(c):
    seen = []
    c.apiserver.watch("pods", {"component": "kubectl", "instance": "test"},
                      lambda kind, obj: seen.append((c.env.now, kind, obj)), quiet=True)
    return seen


def test_graceful_delete_nginx_promptly_sleep_at_the_grace_deadline(cluster):
    assert create_pod(cluster, pod("web", "nginx")).code == 201
    assert create_pod(cluster, pod("sleeper", "busybox", command=["sh", "-c", "sleep 3600"])).code == 201
    advance(cluster, 15)
    ips = {n: cluster.get(f"/registry/pods/default/{n}")["status"]["podIP"] for n in ("web", "sleeper")}
    seen = watch_pods(cluster)
    cl = cluster.client()
    f1, f2 = cl.delete("pods", "web", "default"), cl.delete("pods", "sleeper", "default")
    advance(cluster, 16)
    assert f1.value.code == 200 and f2.value.code == 200
    advance(cluster, 20)
    assert cluster.get("/registry/pods/default/web") is None          # nginx quit on SIGQUIT at once
    sleeper = cluster.get("/registry/pods/default/sleeper")
    assert sleeper is not None and sleeper["metadata"]["deletionGracePeriodSeconds"] == 30
    advance(cluster, 44)
    assert cluster.get("/registry/pods/default/sleeper") is not None  # sh as PID 1 ignores SIGTERM
    advance(cluster, 50)
    assert cluster.get("/registry/pods/default/sleeper") is None      # SIGKILL at the deadline, then DELETE
    for name, phase, code in (("web", "Succeeded", 0), ("sleeper", "Failed", 137)):
        assert [e["message"] for e in kubelet_events(cluster, name) if e["reason"] == "Killing"] == [f"Stopping container {name}"]
        last = [o for _t, k, o in seen if k == "MODIFIED" and o["metadata"]["name"] == name][-1]
        assert last["status"]["phase"] == phase
        assert last["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == code
        assert any(k == "DELETED" and o["metadata"]["name"] == name for _t, k, o in seen)
    rt = cluster.runtimes["worker-1"]
    assert not set(ips.values()) & rt._used                              # CNI DEL gave the IPs back
    died = {o["metadata"]["name"]: t for t, k, o in seen if k == "DELETED"}
    assert died["web"] < 18 and 45 < died["sleeper"] < 47


def test_node_lease_renewed_every_10s_quietly(cluster):
    key = "/registry/leases/kube-node-lease/worker-1"
    writes = []
    cluster.etcd.store.watch(key, callback=lambda ev: writes.append(cluster.env.now))
    cluster.tracer.buffer.clear()
    advance(cluster, 61)
    gaps = [b - a for a, b in zip(writes, writes[1:])]
    assert len(writes) >= 5 and all(9.9 < g < 10.6 for g in gaps), writes
    renew = cluster.get(key)["spec"]
    assert renew["holderIdentity"] == "worker-1" and renew["leaseDurationSeconds"] == 40
    assert not [e for e in cluster.tracer.buffer if "leases/worker-1" in json.dumps(e)]
    # nodeStatusReportFrequency: the Node's status is written once (5 min since the last report), not every 10 s.
    node_writes = []
    cluster.etcd.store.watch("/registry/minions/worker-2", callback=lambda ev: node_writes.append(cluster.env.now))
    advance(cluster, 400)
    assert 1 <= len(node_writes) <= 2


def test_stopped_kubelet_stops_heartbeats_and_comes_back_ready(cluster):
    assert create_pod(cluster, pod("keep", "nginx")).code == 201
    assert create_pod(cluster, pod("gone", "nginx")).code == 201
    assert create_pod(cluster, pod("graceful", "nginx")).code == 201
    advance(cluster, 15)
    k = cluster.kubelets["worker-1"]
    k.stop()
    key = "/registry/leases/kube-node-lease/worker-1"
    before = cluster.get(key)["spec"]["renewTime"]
    # While it is down, the node lifecycle controller marks the node Unknown, an admin force-deletes one Pod
    # and gracefully deletes another (which stays Terminating: nobody is there to kill it).
    node = cluster.get("/registry/minions/worker-1")
    conds = [dict(c, status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.")
             for c in node["status"]["conditions"]]
    cl = cluster.client()
    cl.patch("nodes", "worker-1", {"status": {"conditions": conds}}, subresource="status")
    cl.delete("pods", "gone", "default", grace_period_seconds=0)
    cl.delete("pods", "graceful", "default")
    advance(cluster, 75)
    assert cluster.get(key)["spec"]["renewTime"] == before
    assert cluster.get("/registry/pods/default/graceful")["metadata"].get("deletionTimestamp")
    assert not kubelet_events(cluster, "gone") or all(e["reason"] != "Killing" for e in kubelet_events(cluster, "gone"))
    gone_uid = next(ps.uid for ps in k.pods.values() if ps.pod["metadata"]["name"] == "gone")
    assert cluster.runtimes["worker-1"].sandboxes.get(gone_uid)   # still there: nobody cleaned up
    cluster.tracer.buffer.clear()
    k.start()
    advance(cluster, 80)
    assert cluster.get(key)["spec"]["renewTime"] > before
    ready = next(c for c in cluster.get("/registry/minions/worker-1")["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
    node_events = [e["reason"] for e in kubelet_events(cluster, "worker-1")]
    assert {"Starting", "NodeReady", "NodeHasSufficientMemory"} <= set(node_events)
    nr = next(e for e in kubelet_events(cluster, "worker-1") if e["reason"] == "NodeReady")
    assert nr["message"] == "Node worker-1 status is now: NodeReady" and nr["involvedObject"]["kind"] == "Node"
    assert any(e["type"] == "kubelet.node.status" for e in cluster.tracer.buffer)
    # The force-deleted Pod's containers are killed and its sandbox removed; the Terminating one is finished.
    assert [e["message"] for e in kubelet_events(cluster, "gone") if e["reason"] == "Killing"] == ["Stopping container gone"]
    assert gone_uid not in cluster.runtimes["worker-1"].sandboxes
    assert cluster.get("/registry/pods/default/graceful") is None
    assert cluster.get("/registry/pods/default/keep")["status"]["phase"] == "Running"
    advance(cluster, 100)
    assert [e for e in kubelet_events(cluster, "keep") if e["reason"] == "Started"][0]["count"] == 1


def test_a_new_node_registers_itself_and_runs_pods(cluster):
    spec = NodeSpec("worker-3", "worker", "172.18.0.9", "10.244.9.0/24")
    cluster.add_node(spec)
    advance(cluster, 5)
    node = cluster.get("/registry/minions/worker-3")
    assert node is not None
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    lease = cluster.get("/registry/leases/kube-node-lease/worker-3")
    assert lease["spec"]["holderIdentity"] == "worker-3"
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert "Starting" in [e["reason"] for e in kubelet_events(cluster, "worker-3")]
    assert create_pod(cluster, pod("newbie", "nginx:alpine", node="worker-3")).code == 201
    advance(cluster, 20)
    p = cluster.get("/registry/pods/default/newbie")
    assert p["spec"]["nodeName"] == "worker-3" and p["status"]["phase"] == "Running"
    assert p["status"]["podIP"].startswith("10.244.9.")


def test_bootstrapped_system_pod_is_adopted_and_terminated_on_delete(cluster):
    dns = next(p for p in cluster.apiserver.list("/registry/pods/kube-system/") if p["metadata"]["name"].startswith("coredns-"))
    name, node = dns["metadata"]["name"], dns["spec"]["nodeName"]
    ip = dns["status"]["podIP"]
    f = cluster.client().delete("pods", name, "kube-system")
    advance(cluster, 5)
    assert f.value.code == 200
    assert cluster.get(f"/registry/pods/kube-system/{name}") is None   # coredns exits on SIGTERM at once
    assert [e["message"] for e in kubelet_events(cluster, name, "kube-system") if e["reason"] == "Killing"] == \
        ["Stopping container coredns"]
    assert ip not in cluster.runtimes[node]._used


def test_same_seed_same_kubelet_story():
    def story():
        c = Cluster(seed=11, run_id="det")
        create_pod(c, pod("crash", "busybox", command=["sh", "-c", "sleep 2; exit 1"]))
        create_pod(c, pod("ghost", "nginx:nope", node="worker-2"))
        advance(c, 90)
        return [(e["t"], e["type"], e["summary"]) for e in c.tracer.buffer]
    assert story() == story()


def test_event_aggregation_remembers_the_last_4096_events_like_client_go(cluster):
    """client-go's EventCorrelator keeps an LRU of 4,096 events (tools/record/events_cache.go): a repeat of
    one of them PATCHes its count; one that was pushed out is created anew."""
    from simulator.kubelet.kubelet import EVENT_CACHE_ENTRIES
    assert create_pod(cluster, pod("web", "nginx")).code == 201
    advance(cluster, 30.0)
    kl = cluster.kubelets["worker-1"]
    web = next(p.pod for p in kl.pods.values() if p.pod["metadata"]["name"] == "web")
    cluster.tracer.enabled = False
    kl._event(web, "Probe", "message first")
    kl._event(web, "Probe", "message kept")
    advance(cluster, cluster.env.now + 5.0)   # created before anything patches them
    for i in range(EVENT_CACHE_ENTRIES - 2):
        kl._event(web, "Probe", f"message {i}")
    advance(cluster, cluster.env.now + 30.0)
    kl._event(web, "Probe", "message kept")   # a hit: now the most recently used
    kl._event(web, "Probe", "message last")   # the 4,097th: the least recently used one is dropped
    kl._event(web, "Probe", "message first")  # forgotten: a new Event
    advance(cluster, cluster.env.now + 5.0)
    kl._event(web, "Probe", "message kept")   # remembered: its count goes up
    advance(cluster, cluster.env.now + 30.0)
    ours = [e for e in kubelet_events(cluster, "web") if e["reason"] == "Probe"]
    first = sorted(e["count"] for e in ours if e["message"] == "message first")
    kept = [e["count"] for e in ours if e["message"] == "message kept"]
    assert first == [1, 1] and kept == [3]
    assert len(kl._event_cache) == EVENT_CACHE_ENTRIES
