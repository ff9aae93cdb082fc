"""The api backend's list-then-watch (dashboard/realcluster/watcher.py) with the official client against the
Kubernetes API endpoint (in process, on a live simulated cluster), through a TCP proxy that can cut every
connection and refuse new ones for a while. After a cut it resumes from its resourceVersion; when it comes
back after the API server's watch cache has moved past that resourceVersion, it gets 410 Gone, lists again
and delivers the differences. Either way the picture it delivers ends equal to the server's."""
from __future__ import annotations

import queue
import time
from collections import deque

import pytest

from tests.kubeapi.inprocess import kubeapi_in_process
from tests.tcpproxy import TcpProxy

TOKEN = "watch-admin-token"


class CuttingProxy(TcpProxy):
    """cut() closes every connection open now; while blocked, new connections are closed at once (the API
    server is unreachable)."""

    def __init__(self, upstream_port: int):
        self.blocked = False
        super().__init__(("127.0.0.1", upstream_port))

    def refuse(self) -> bool:
        return self.blocked


@pytest.fixture(scope="module")
def server():
    """The kubeapi app on a live cluster, plain HTTP, one admin token; server["call"](fn) runs fn on its loop."""
    with kubeapi_in_process(5, "watch", TOKEN, speed=10) as box:
        yield box


def api_client(port: int):
    from kubernetes import client

    conf = client.Configuration(host=f"http://127.0.0.1:{port}", api_key={"authorization": TOKEN},
                                api_key_prefix={"authorization": "Bearer"})
    conf.retries = False
    return client.ApiClient(conf)


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@pytest.fixture
def watched(server):
    from kubernetes import client

    from dashboard.realcluster.watcher import Watcher

    proxy = CuttingProxy(server["port"])
    watch_client = api_client(proxy.port)     # the watcher goes through the proxy
    direct = client.CoreV1Api(api_client(server["port"]))   # the test's own changes do not
    direct.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "watchtest"}})
    out: queue.Queue = queue.Queue()
    w = Watcher("pods", client.CoreV1Api(watch_client).list_namespaced_pod, ("watchtest",), out, kind="Pod",
                api_version="v1", timeout=(5.0, 10.0), context="test", window=30)
    w.start()
    assert w.initial(20) == []
    yield server, proxy, w, out, direct
    w.stop()
    proxy.close()
    watch_client.close()
def drain_until(out: queue.Queue, seen: dict, want, timeout: float = 30) -> list[tuple[str, str]]:
    """Apply deliveries to `seen` (name -> resourceVersion) until want(seen) holds; the (type, name) log."""
    got = []
    deadline = time.monotonic() + timeout
    while not want(seen):
        left = deadline - time.monotonic()
        assert left > 0, f"deliveries so far {got}, picture {seen}"
        try:
            resource, typ, obj, _ = out.get(timeout=left)
        except queue.Empty:
            continue
        name = obj["metadata"]["name"]
        got.append((typ, name))
        if typ == "DELETED":
            seen.pop(name, None)
        else:
            seen[name] = obj["metadata"]["resourceVersion"]
    return got


def truth(direct) -> dict:
    items = direct.list_namespaced_pod("watchtest").items
    return {p.metadata.name: p.metadata.resource_version for p in items}


def expire_watch_cache(live) -> None:
    """The API server's watch cache moves on: only its newest Pod event is kept, as after a busy minute
    (watch_cache.go evicts by capacity and age), so older resourceVersions are 410 Gone."""
    for api in live.cluster.apiservers:
        win = api._window.get("pods")
        if win:
            api._window["pods"] = deque([win[-1]])
            api._evicted.add("pods")


def test_a_cut_watch_resumes_and_a_410_relists_and_nothing_is_lost(watched):
    server, proxy, w, out, direct = watched
    seen: dict = {}
    direct.create_namespaced_pod("watchtest", pod("a"))
    drain_until(out, seen, lambda s: "a" in s)

    # Cut the connection; while the watcher reconnects, Pods come and go.
    proxy.blocked = True
    assert proxy.cut() >= 1
    direct.create_namespaced_pod("watchtest", pod("b"))
    direct.delete_namespaced_pod("a", "watchtest", grace_period_seconds=0)
    time.sleep(0.5)
    proxy.blocked = False
    log = drain_until(out, seen, lambda s: "b" in s and "a" not in s)
    assert ("ADDED", "b") in log and ("DELETED", "a") in log
    assert w.reconnects >= 1 and w.relisted == 0

    # Now the watch comes back too late: 410 Gone, a relist, and the differences delivered.
    proxy.blocked = True
    proxy.cut()
    direct.create_namespaced_pod("watchtest", pod("c"))
    direct.delete_namespaced_pod("b", "watchtest", grace_period_seconds=0)
    direct.create_namespaced_pod("watchtest", pod("d"))
    server["call"](lambda: expire_watch_cache(server["live"]))
    time.sleep(0.5)
    proxy.blocked = False
    log = drain_until(out, seen, lambda s: "c" in s and "d" in s and "b" not in s)
    assert ("DELETED", "b") in log and ("ADDED", "c") in log
    assert w.relisted == 1

    # And it watches on: the picture follows the server's to the last resourceVersion.
    direct.create_namespaced_pod("watchtest", pod("e"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            while True:
                _, typ, obj, _ = out.get(timeout=0.5)
                name = obj["metadata"]["name"]
                if typ == "DELETED":
                    seen.pop(name, None)
                else:
                    seen[name] = obj["metadata"]["resourceVersion"]
        except queue.Empty:
            pass
        if seen == truth(direct):
            break
    assert seen == truth(direct) and "e" in seen


def test_a_run_held_by_the_presenter_longer_than_its_timeout_still_finishes(server, settings):
    """The run's time limit counts the cluster's time, not the presenter's: a run held at a step (step mode,
    pause) for longer than DASHBOARD_API_RUN_TIMEOUT goes on afterwards and completes."""
    from dashboard.realcluster.connect import Connection
    from dashboard.realcluster.run import ApiRun

    settings.DASHBOARD_API_RUN_TIMEOUT = 2
    conn = Connection(api_client(server["port"]), "test", (5.0, 10.0))
    run = ApiRun("ab" * 16, "pod-create", {"pod_name": "held", "image": "nginx"}, 1, conn)
    events, held = [], False
    for ev in run.events():
        if ev is None:
            continue
        events.append(ev)
        if ev["type"] == "scenario.step" and not held:
            held = True
            time.sleep(3)     # the presenter talks about step 1
    assert events[-1]["type"] == "scenario.completed" and events[-1]["data"]["outcome"] == "Running"
    assert [e["data"]["step"] for e in events if e["type"] == "scenario.step"] == list(range(1, 11))


def test_a_run_whose_watches_are_cut_and_expired_mid_run_loses_nothing(server):
    """pod-create on the api backend through the proxy: right after the Pod is stored, every connection is cut
    and refused for a moment, and the Pods watch comes back to a 410 (the watch cache moved on); the run still
    tells the whole story - the same Pod phases and Event reasons as an undisturbed run - each change once."""
    from dashboard.realcluster.connect import Connection
    from dashboard.realcluster.run import ApiRun

    def story(events):
        phases, reasons, keys_rv = [], [], []
        for e in events:
            if e["type"] != "etcd.put":
                continue
            key, value = e["data"]["key"], e["data"]["value"]
            keys_rv.append((key, e["data"]["revision"]))
            if "/pods/" in key:
                phase = (value.get("status") or {}).get("phase") or "Pending"
                if not phases or phases[-1] != phase:
                    phases.append(phase)
            elif "/events/" in key:
                reasons.append(value["reason"])
        assert len(keys_rv) == len(set(keys_rv)), "a change was delivered twice"
        return phases, sorted(reasons)

    def run_once(name, hex_id, fault, image):
        proxy = CuttingProxy(server["port"])
        conn = Connection(api_client(proxy.port), "test", (5.0, 10.0))
        run = ApiRun(hex_id, "pod-create", {"pod_name": name, "image": image}, 1, conn)
        events, done = [], False
        try:
            for ev in run.events():
                if ev is None:
                    continue
                events.append(ev)
                if fault and not done and ev["type"] == "etcd.put" and "/pods/" in ev["data"]["key"]:
                    done = True
                    proxy.blocked = True
                    assert proxy.cut() >= 1
                    next(w for w in run.watchers if w.resource == "pods").expire_next()
                    server["call"](lambda: expire_watch_cache(server["live"]))
                    time.sleep(1.0)
                    proxy.blocked = False
        finally:
            proxy.close()
        return events, run

    # Two images no node has yet (a cached image has no Pulling Event), with the same story.
    calm, _ = run_once("calm", "cd" * 16, fault=False, image="busybox")
    cut, run = run_once("cut", "ef" * 16, fault=True, image="redis")
    assert cut[-1]["type"] == "scenario.completed" and cut[-1]["data"]["outcome"] == "Running"
    pods = next(w for w in run.watchers if w.resource == "pods")
    assert pods.relisted == 1 and sum(w.reconnects for w in run.watchers) >= 1
    assert story(cut) == story(calm)
    assert story(cut)[0] == ["Pending", "Running"]
    # etcdctl's exec through the proxy was cut too: the run went on with the API server's revisions.
    assert run.tap is not None and run.tap.failed
    sources = [e["data"]["source"] for e in cut if e["type"] == "etcd.put"]
    assert sources[0] == "etcdctl" and sources[-1] == "watch", sources
    assert {e["data"]["source"] for e in calm if e["type"] == "etcd.put"} == {"etcdctl"}


def test_without_etcdctl_the_run_reads_revisions_from_the_api_servers_watch(server, monkeypatch):
    """etcdctl cannot reach etcd (here: no client certificate, so it gives up after its dial timeout): the run
    says where its revisions come from and tells the same story from the API server's watch."""
    from dashboard.realcluster import etcdtap
    from dashboard.realcluster.connect import Connection
    from dashboard.realcluster.run import ApiRun

    monkeypatch.setattr(etcdtap, "FLAGS", ["--dial-timeout=100ms"])
    conn = Connection(api_client(server["port"]), "test", (5.0, 10.0))
    run = ApiRun("0a" * 16, "pod-create", {"pod_name": "untapped", "image": "nginx"}, 1, conn)
    events = [ev for ev in run.events() if ev is not None]
    assert events[-1]["type"] == "scenario.completed" and run.tap is None
    assert "context deadline exceeded" in run.etcd_note
    assert events[0]["data"]["etcd"]["source"] == "watch"
    assert "context deadline exceeded" in events[0]["data"]["etcd"]["source_note"]
    puts = [e for e in events if e["type"] == "etcd.put" and "/pods/" in e["data"]["key"]]
    assert puts and {e["data"]["source"] for e in puts} == {"watch"}
    assert [e["data"]["version"] for e in puts] == list(range(1, len(puts) + 1))
    # This cluster keeps no audit log either: the run says so, and what happens inside the API server stays hidden.
    assert run.audit is None and "kube-apiserver-audit.log" in run.audit_note
    assert events[0]["data"]["apiserver"] == {"audit": False, "audit_note": run.audit_note}
    assert {e["data"]["step"] for e in events if e["type"] == "scenario.step" and "hidden" in e["data"]} >= {2, 3}
    assert not [e for e in events if e["data"].get("source") == "audit"]
