"""The tracer's summary level: the first N Pods in full detail, every other event counted, one
summary.interval per interval, a bounded stream, and the same stream for the same seed."""
from collections import Counter

import pytest

from simulator.events import TYPES
from simulator.kernel import Environment
from simulator.trace import Tracer, ref


def pod(name, ns="default"):
    return {"kind": "Pod", "namespace": ns, "name": name, "uid": f"uid-{name}"}


def event_obj(involved, ns="default", suffix="17f1a2b3c4d5e6f7"):
    return {"kind": "Event", "namespace": ns, "name": f"{involved}.{suffix}", "uid": "e"}


def drain(tr):
    out = list(tr.buffer)
    tr.buffer.clear()
    return out


def summaries(evs):
    return [e for e in evs if e["type"] == "summary.interval"]


def test_first_n_pods_are_detailed_the_rest_counted_in_one_summary_per_interval():
    env = Environment()
    tr = Tracer(env, "r")
    tr.summarize(detail_pods=2, interval=1.0)
    for i in range(5):  # pods p0..p4, three events each, within the first second
        env.schedule(0.1 * i, lambda i=i: [tr.emit("kubelet", f"w{i}", t, "s", {}, obj=pod(f"p{i}"))
                                           for t in ("kubelet.pod.sync", "container-runtime.sandbox", "kubelet.status")])
    env.schedule(1.5, lambda: tr.emit("kubelet", "w4", "kubelet.status", "late", {}, obj=pod("p4")))
    env.run()
    evs = drain(tr)
    detailed = [e for e in evs if e["type"] != "summary.interval"]
    assert {e["object"]["name"] for e in detailed} == {"p0", "p1"} and len(detailed) == 6
    s1, s2 = summaries(evs)
    assert s1["t"] == 1.0 and s1["data"]["from"] == 0.0 and s1["data"]["to"] == 1.0
    assert s1["data"]["counted"] == 9 and s1["data"]["emitted"] == 6
    assert s1["data"]["by_type"] == {"container-runtime.sandbox": 3, "kubelet.pod.sync": 3, "kubelet.status": 3}
    assert s1["data"]["by_component"] == {"kubelet": 9}
    assert s1["data"]["pods"] == {"seen": 5, "detailed": 2}
    assert [(s["type"], s["object"]) for s in s1["data"]["samples"]] == [
        ("kubelet.pod.sync", "default/p2"), ("container-runtime.sandbox", "default/p2"), ("kubelet.status", "default/p2")]
    # The late event is summarized by the timer at the end of its own interval; then nothing is left queued.
    assert s2["t"] == 2.0 and s2["data"]["counted"] == 1 and s2["data"]["samples"][0]["summary"] == "late"
    assert env.pending() == 0 and tr.counted == 10
    assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
    assert [e["t"] for e in evs] == sorted(e["t"] for e in evs)
    assert set(s1["data"]) == set(TYPES["summary.interval"].data)


def test_events_about_a_pod_follow_it_including_event_objects_and_bindings():
    env = Environment()
    tr = Tracer(env, "r")
    tr.summarize(detail_pods=1, max_per_interval=100)
    tr.emit("apiserver", "a", "apiserver.response", "", {}, obj=pod("web-1"))
    tr.emit("apiserver", "a", "apiserver.response", "", {}, obj=pod("web-2"))
    # A Kubernetes Event about a Pod is named "<pod>.<hex>": it counts as that Pod.
    tr.emit("etcd", "etcd-1", "etcd.put", "", {}, obj=event_obj("web-1"))
    tr.emit("etcd", "etcd-1", "etcd.put", "", {}, obj=event_obj("web-2"))
    tr.emit("etcd", "etcd-1", "etcd.put", "", {}, obj=event_obj("web-1", ns="other"))  # no such Pod there
    tr.emit("etcd", "etcd-1", "etcd.put", "", {}, obj=event_obj("web-rs"))  # about a ReplicaSet: not a Pod
    tr.emit("apiserver", "a", "apiserver.response", "", {}, obj={"kind": "Binding", "namespace": "default", "name": "web-2"})
    tr.emit("etcd", "etcd-1", "etcd.put", "", {}, obj={"kind": "Node", "name": "worker-1"})
    tr.emit("etcd", "etcd-1", "etcd.put", "", {})
    tr.flush()
    evs = drain(tr)
    names = [e.get("object", {}).get("name") for e in evs if e["type"] != "summary.interval"]
    assert names == ["web-1", "web-1.17f1a2b3c4d5e6f7", "web-1.17f1a2b3c4d5e6f7", "web-rs.17f1a2b3c4d5e6f7",
                     "worker-1", None]
    (s,) = summaries(evs)
    assert s["data"]["counted"] == 3 and s["data"]["emitted"] == 6


def test_wants_lets_components_skip_payloads_and_agrees_with_emit():
    env = Environment()
    tr = Tracer(env, "r")
    assert tr.wants(pod("a")) is True  # full level: everything
    tr.enabled = False
    assert tr.wants(pod("a")) is False
    tr.enabled = True
    tr.summarize(detail_pods=1, max_per_interval=2, max_per_type=1)
    assert tr.wants(pod("a")) and tr.wants("default/a") and tr.wants("a") and tr.wants(("default", "a"))
    assert not tr.wants(pod("b")) and not tr.wants("kube-system/a")
    assert tr.wants("etcd.put", pod("a")) and tr.detailed(pod("a"))  # the contract's (type, obj) order too
    assert not tr.wants(pod("b"), "etcd.put")
    assert tr.wants(None, "etcd.put") and tr.wants("etcd.put", None) and tr.wants("etcd.put")
    tr.emit("etcd", "e", "etcd.put", "", {})
    assert not tr.wants(None, "etcd.put") and not tr.wants("etcd.put") and tr.wants(None, "etcd.delete") and tr.wants()
    assert tr._n_pods == 3  # a, b and kube-system/a: asking about a type registers no Pod
    tr.emit("etcd", "e", "etcd.delete", "", {})
    assert not tr.wants() and not tr.wants(None, "apiserver.watch")
    assert tr.wants(None, "scenario.completed")
    # The cheap path: count() without building the event.
    tr.count("etcd", "etcd.put", pod("b"), instance="etcd-1")
    with pytest.raises(KeyError):
        tr.count("etcd", "etcd.nope", pod("b"))
    tr.emit("scenario", "scenario", "scenario.completed", "done", {})  # flushes first
    evs = drain(tr)
    assert [e["type"] for e in evs] == ["etcd.put", "etcd.delete", "summary.interval", "scenario.completed"]
    assert evs[2]["data"]["by_type"] == {"etcd.put": 1} and evs[2]["t"] == 0.0
    # Over the budget a later interval starts afresh.
    env.schedule(1.2, lambda: None)
    env.run()
    assert tr.wants()


def test_the_stream_per_interval_is_bounded_whatever_the_load():
    env = Environment()
    tr = Tracer(env, "r")
    tr.summarize(detail_pods=5, max_per_interval=50, max_per_type=20)
    types = ["apiserver.watch", "etcd.put", "apiserver.response", "kubelet.status"]
    for i in range(20000):  # 2,000 Pods and their events, plus Pod-less events, over 10 s
        t = i * 0.0005
        env.schedule(t, lambda i=i: tr.emit("apiserver", "a", types[i % 4], "", {}, obj=pod(f"p{i // 10}")))
        env.schedule(t, lambda i=i: tr.emit("etcd", "e", types[i % 3], "", {}))
    env.run()
    evs = drain(tr)
    per_second = Counter(int(e["t"]) for e in evs if e["type"] != "summary.interval")
    assert max(per_second.values()) <= 50 + 5 * 10 and len(summaries(evs)) == 10
    emitted = len(evs) - len(summaries(evs))
    assert emitted + sum(s["data"]["counted"] for s in summaries(evs)) == 40000 == emitted + tr.counted
    assert sum(s["data"]["emitted"] for s in summaries(evs)) == emitted
    for s in summaries(evs):
        assert all(n <= 20 for n in Counter(e["type"] for e in evs if e["type"] != "summary.interval"
                                            and "object" not in e and s["data"]["from"] <= e["t"] < s["data"]["to"]).values())


def test_priority_types_bypass_the_budget():
    env = Environment()
    tr = Tracer(env, "r")
    tr.summarize(max_per_interval=1, priority=("kubelet.image.",))
    for _ in range(3):
        tr.emit("etcd", "e", "etcd.put", "", {})
        tr.emit("kubelet", "w", "kubelet.image.pulled", "", {})
    tr.flush()
    assert Counter(e["type"] for e in drain(tr)) == {"kubelet.image.pulled": 3, "etcd.put": 1, "summary.interval": 1}


# ---- a whole cluster: summary = full detail, counted ------------------------------------------------
def _run_cluster(detail_pods=None, pods=4):
    from simulator.cluster import Cluster
    from tests.sim.helpers import create_pod, pod_manifest
    c = Cluster(seed=5, run_id="sum")
    if detail_pods is not None:
        c.tracer.summarize(detail_pods=detail_pods, max_per_interval=10_000, max_per_type=10_000)
    for i in range(pods):
        create_pod(c, pod_manifest(f"app-{i}"))
    c.run(until=c.env.now + 30)
    c.tracer.flush()
    return drain(c.tracer)


@pytest.fixture(scope="module")
def full_run():
    return _run_cluster()


def test_a_summarized_cluster_run_counts_exactly_what_full_detail_emits(full_run):
    summ = _run_cluster(detail_pods=2)
    assert not summaries(full_run)
    full = Counter(e["type"] for e in full_run)
    got = Counter(e["type"] for e in summ if e["type"] != "summary.interval")
    for s in summaries(summ):
        got.update(s["data"]["by_type"])
    assert got == full
    about = {e["object"]["name"] for e in summ if e.get("object", {}).get("kind") == "Pod"}
    assert about == {"app-0", "app-1"}
    # The detailed Pods' events are exactly those of the full run (same data, same order).
    def strip(evs, names):
        return [(e["t"], e["type"], e["summary"], e["data"]) for e in evs
                if e.get("object", {}).get("kind") == "Pod" and e["object"]["name"] in names]
    assert strip(summ, {"app-0", "app-1"}) == strip(full_run, {"app-0", "app-1"})
    assert summ == _run_cluster(detail_pods=2)  # same seed, same summarized stream


def test_detail_for_every_pod_changes_nothing(full_run):
    summ = _run_cluster(detail_pods=10)
    assert [{k: v for k, v in e.items() if k != "seq"} for e in summ] == \
           [{k: v for k, v in e.items() if k != "seq"} for e in full_run]


def test_a_flush_mid_interval_does_not_renew_the_budget():
    env = Environment()
    tr = Tracer(env, "r")
    tr.summarize(max_per_interval=1)
    for _ in range(2):
        tr.emit("etcd", "e", "etcd.put", "", {})
    tr.flush()
    tr.emit("etcd", "e", "etcd.put", "", {})
    env.run()  # the timer closes the interval at t=1
    evs = drain(tr)
    assert [(e["type"], e["t"]) for e in evs] == [("etcd.put", 0.0), ("summary.interval", 0.0), ("summary.interval", 1.0)]
    assert [e["data"]["counted"] for e in evs[1:]] == [1, 1]
    assert env.pending() == 0


def test_pod_phase_counter_feeds_the_summaries():
    import json
    from simulator.etcd.mvcc import MVCCStore
    from simulator.trace import PodPhaseCounter
    store = MVCCStore()
    counter = PodPhaseCounter(store)
    put = lambda k, phase: store.put(k, json.dumps({"kind": "Pod", "status": {"phase": phase} if phase else {}},
                                                   separators=(",", ":")))
    put("/registry/pods/default/a", None)
    put("/registry/pods/default/b", "Pending")
    put("/registry/pods/default/a", "Running")
    put("/registry/pods/default/c", "Running")
    store.delete("/registry/pods/default/c")
    store.put("/registry/configmaps/default/x", '{"status":{"phase":"Running"}}')
    assert counter() == {"Running": 1, "Pending": 1}
    env = Environment()
    tr = Tracer(env, "r")
    tr.summarize(detail_pods=0)
    tr.pod_phases = counter
    tr.emit("kubelet", "w", "kubelet.status", "", {}, obj=pod("a"))
    tr.flush()
    (s,) = drain(tr)
    assert s["data"]["pods"] == {"seen": 1, "detailed": 0, "phases": {"Pending": 1, "Running": 1}}
