"""One decoded object per watch event, shared by every watcher (simulator.apiserver.server.SharedObject),
and the other memory and speed measures of issue 3 that must not change what a run does: the read-only
audit mode, the strict-decoding fast path, the garbage collector's scoped tuning."""
from __future__ import annotations

import copy
import gc
import json
import random

import pytest

from simulator import codec
from simulator.apiserver import decode, server
from simulator.kernel import gc_tuned_for_scale
from simulator.trace import ref
from tests.sim.test_apiserver_core import ADMIN, Harness, _pod


# ---- shared watch objects ---------------------------------------------------------------------------------
def test_every_watcher_gets_the_same_read_only_object_per_event():
    h = Harness()
    seen: dict[str, list] = {"a": [], "b": [], "sel": []}
    h.api.watch("pods", ref("test", "a"), lambda k, o: seen["a"].append((k, o)))
    h.api.watch("pods", ref("test", "b"), lambda k, o: seen["b"].append((k, o)))
    h.api.watch("pods", ref("test", "sel"), lambda k, o: seen["sel"].append((k, o)), label_selector="app=web")
    h.call(h.client.create("pods", _pod("p")))
    h.call(h.client.patch("pods", "p", {"metadata": {"labels": {"x": "1"}}}, "default"))
    h.call(h.client.delete("pods", "p", "default"))
    h.settle()
    kinds = [k for k, _ in seen["a"]]
    assert kinds == [k for k, _ in seen["b"]] == [k for k, _ in seen["sel"]] and kinds[0] == "ADDED"
    assert kinds[-1] == "DELETED"
    for (_, a), (_, b), (_, s) in zip(seen["a"], seen["b"], seen["sel"]):
        assert a is b is s                       # one decode per event, not one per watcher
    for _, o in seen["a"]:
        assert isinstance(o, codec.ReadOnlyDict)  # tests/sim/conftest.py turns the audit mode on
    # A deletion carries the last state at the deletion's revision, as before.
    last = seen["a"][-1][1]
    assert int(last["metadata"]["resourceVersion"]) == h.rev


def test_a_consumer_that_changes_a_shared_object_fails_loudly():
    h = Harness()
    got = []
    h.api.watch("configmaps", ref("test", "w"), lambda k, o: got.append(o))
    h.call(h.client.create("configmaps", {"metadata": {"name": "c"}, "data": {"n": "0"}}))
    h.settle()
    obj = got[0]
    for change in (lambda: obj.__setitem__("x", 1), lambda: obj["data"].update(n="1"),
                   lambda: obj["metadata"].setdefault("labels", {}), lambda: obj["metadata"].pop("name")):
        with pytest.raises(codec.ReadOnlyError):
            change()
    assert obj["metadata"].setdefault("name") == "c" and obj.get("nope") is None   # reads still work
    mine = copy.deepcopy(obj)                      # the way to change one: a private copy
    mine["data"]["n"] = "1"
    assert type(mine) is dict and type(mine["data"]) is dict and obj["data"]["n"] == "0"
    assert codec.clone(obj) == obj and json.loads(codec.dumps(obj)) == obj


def test_informers_share_their_initial_list_until_the_object_changes():
    h = Harness()
    h.call(h.client.create("configmaps", {"metadata": {"name": "c"}, "data": {"n": "0"}}))
    first = h.api.list_shared("/registry/configmaps/")
    again = h.api.list_shared("/registry/configmaps/")
    assert [o["metadata"]["name"] for o in first] == ["c"] and first[0] is again[0]
    assert h.api.list("/registry/configmaps/")[0] is not first[0]   # a plain list is the caller's own
    h.call(h.client.patch("configmaps", "c", {"data": {"n": "1"}}, "default"))
    h.settle()
    after = h.api.list_shared("/registry/configmaps/")
    assert after[0] is not first[0] and after[0]["data"]["n"] == "1"


def test_a_bound_pod_reaches_the_watch_as_written_and_as_its_stored_text_decodes():
    """The binding hands its Pod to the watch cache instead of decoding the text it just wrote: the object
    a watcher gets is the stored text decoded (same keys, same order, resourceVersion set), read-only."""
    h = Harness()
    seen = []
    h.api.watch("pods", ref("test", "sel"), lambda k, o: seen.append((k, o)), label_selector="app=web")
    h.call(h.client.create("pods", _pod("p")))
    pod = h.api.get_shared("/registry/pods/default/p")
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p", "uid": pod["metadata"]["uid"]},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "worker-1"}}
    resp = h.call(h.api.handle(server.Request("POST", "/api/v1/namespaces/default/pods/p/binding", "create", "pods",
                                              "default", "p", "binding", body=binding,
                                              credential=ADMIN)))
    assert resp.code == 201, resp.status
    h.settle()
    kind, got = seen[-1]
    kv = h.etcd.store.get("/registry/pods/default/p")
    stored = codec.loads(kv.value)
    stored["metadata"]["resourceVersion"] = str(kv.mod_revision)
    assert kind == "MODIFIED" and got["spec"]["nodeName"] == "worker-1"
    assert got == stored and codec.dumps(got) == codec.dumps(stored)   # equal, keys in the same order
    assert isinstance(got, codec.ReadOnlyDict) and isinstance(got["spec"], codec.ReadOnlyDict)
    assert [c["type"] for c in got["status"]["conditions"]] == ["PodScheduled"]
    assert h.api.get_shared("/registry/pods/default/p") is got   # later lookups share it too


# ---- strict decoding's fast path --------------------------------------------------------------------------
def _mutations(obj, rng: random.Random, n: int):
    """Copies of obj with one value somewhere replaced by a value of another JSON type."""
    paths = []

    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                paths.append(path + (k,))
                walk(v, path + (k,))
        elif isinstance(o, list):
            for i, v in enumerate(o):
                paths.append(path + (i,))
                walk(v, path + (i,))
    walk(obj, ())
    values = [None, True, 0, -1, 3.0, 1.5, 2 ** 40, 2 ** 70, "x", "12", "100m", [], ["a"], {}, {"a": 1}]
    for _ in range(n):
        o = copy.deepcopy(obj)
        path = rng.choice(paths)
        cur = o
        for p in path[:-1]:
            cur = cur[p]
        cur[path[-1]] = rng.choice(values)
        yield o


def _slow_check(kind, obj):
    d = decode._Decoder()
    try:
        d.value(obj, decode.KINDS[kind], (None, ()), "")
    except decode.DecodeError as e:
        return e
    return d.saved


@pytest.mark.parametrize("kind,body", [
    ("Pod", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
             "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}],
                                      "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "1Gi"}}}],
                      "tolerations": [{"key": "k", "operator": "Exists", "tolerationSeconds": 30}],
                      "terminationGracePeriodSeconds": 30, "hostNetwork": False}}),
    ("Deployment", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
                             "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                             "template": {"metadata": {"labels": {"app": "d"}},
                                          "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
    ("Event", {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
               "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "Scheduled", "message": "m", "count": 1,
               "firstTimestamp": "2025-01-01T00:00:00Z", "eventTime": None}),
])
def test_the_decoding_fast_path_reports_exactly_what_the_full_decoder_does(kind, body):
    if kind not in decode.KINDS:
        pytest.skip(f"no typed schema for {kind}")
    rng = random.Random(3)
    for obj in [body, *_mutations(body, rng, 300)]:
        fast, slow = decode.check(kind, obj), _slow_check(kind, obj)
        assert (fast is None) == (slow is None)
        if slow is not None:
            assert (fast.message, fast.path) == (slow.message, slow.path)
        if decode._fits(obj, decode.KINDS[kind]):
            assert slow is None


# ---- the collector, tuned for a large run and restored after it --------------------------------------------
def test_gc_tuning_is_undone_when_the_large_run_ends():
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with gc_tuned_for_scale(40_000):
        assert gc.get_threshold()[0] == 40_000 and gc.get_freeze_count() >= frozen_before
        with gc_tuned_for_scale(40_000):          # a second run in the same process overlaps
            assert gc.get_threshold()[0] == 40_000
        assert gc.get_threshold()[0] == 40_000    # still tuned: the first run goes on
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_gc_tuning_is_undone_when_the_run_fails():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        with gc_tuned_for_scale():
            raise RuntimeError("scenario failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_read_only_mode_is_on_for_these_tests():
    assert server.READ_ONLY_SHARED is True


# ---- memory of a large run: shared Pod parts, uncached Events, the watch window -------------------------------
def test_decoded_pods_share_their_common_parts_and_still_decode_exactly(monkeypatch):
    """Bound Pods from one template are handed to watchers with their common parts (the token volume, the
    default tolerations, the requests, the labels, recurring strings) as one object, and each still equals
    its stored text."""
    monkeypatch.setattr(server, "READ_ONLY_SHARED", False)   # read-only copies would hide the sharing
    h = Harness()
    seen = []
    h.api.watch("pods", ref("test", "w"), lambda k, o: seen.append(o))
    for n in ("a", "b"):
        pod = _pod(n, node="worker-1", tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule"}])
        pod["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m"}}
        assert h.call(h.client.create("pods", pod)).ok
    h.settle()
    a, b = seen
    assert a["metadata"]["name"] == "a" and b["metadata"]["name"] == "b"
    assert a["spec"]["tolerations"] is b["spec"]["tolerations"]
    assert a["metadata"]["labels"] is b["metadata"]["labels"]
    assert a["spec"]["containers"][0]["resources"] is b["spec"]["containers"][0]["resources"]
    assert a["spec"]["containers"][0]["image"] is b["spec"]["containers"][0]["image"]
    assert a["spec"]["containers"][0] is not b["spec"]["containers"][0]     # a Pod's own parts stay its own
    for o in (a, b):
        kv = h.etcd.store.get(f"/registry/pods/default/{o['metadata']['name']}")
        assert codec.dumps(o) == codec.dumps(server._decode(kv.value, kv.mod_revision))


def test_events_are_not_in_the_watch_cache_and_are_still_served_from_etcd(monkeypatch):
    """kube-apiserver runs without a watch cache for Events (DefaultWatchCacheSizes): gets and lists read
    etcd, whatever form it keeps the value in (these tests' etcd deflates every value at once)."""
    h = Harness()
    watched = []
    h.api.watch("events", ref("test", "w"), lambda k, o: watched.append((k, o["metadata"]["name"])))
    names = [f"e{i}" for i in range(5)]
    for n in names:
        ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": n, "namespace": "default"},
              "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"}, "reason": "Scheduled",
              "message": "Successfully assigned default/p to worker-1 " + "x" * 300, "type": "Normal", "count": 1}
        assert h.call(h.client.create("events", ev)).ok
    h.settle()
    assert watched == [("ADDED", n) for n in names]
    assert not [k for k in h.api._cache if k.startswith("/registry/events/")]
    first = h.etcd.store.get("/registry/events/default/e0")
    assert type(first._value) is bytes                    # deflated in etcd, read back whole
    got = h.call(h.client.get("events", "e0", "default"))
    assert got.ok and got.body["message"].endswith("x" * 300)
    assert got.body["metadata"]["resourceVersion"] == str(first.mod_revision)
    listed = h.call(h.client.list("events", "default"))
    assert [o["metadata"]["name"] for o in listed.body["items"]] == names
    # The event recorder's PATCH of the count reads the stored Event the same way.
    assert h.call(h.client.patch("events", "e0", {"count": 2}, "default")).body["count"] == 2
    assert h.api.keys("/registry/events/default/") == [f"/registry/events/default/{n}" for n in names]


def test_the_watch_cache_refers_to_etcds_values_instead_of_copying_them():
    h = Harness()
    assert h.call(h.client.create("configmaps", {"metadata": {"name": "c"}, "data": {"n": "0"}})).ok
    h.settle()
    key = "/registry/configmaps/default/c"
    kv = h.etcd.store.get(key)
    assert h.api._cache[key] is kv and type(kv._value) is bytes   # one value, kept deflated by etcd
    assert h.api.get(key)["data"] == {"n": "0"}


def test_a_watch_resumed_from_the_window_reads_values_etcd_has_deflated_since(monkeypatch):
    from simulator.etcd import mvcc
    monkeypatch.setattr(mvcc, "_DEFLATE_LAG", 1)
    monkeypatch.setattr(mvcc, "_DEFLATE_MIN", 16)
    h = Harness()
    big = "v" * 2000
    assert h.call(h.client.create("configmaps", {"metadata": {"name": "c"}, "data": {"n": "0", "big": big}})).ok
    start = h.rev
    for i in (1, 2, 3):
        assert h.call(h.client.patch("configmaps", "c", {"data": {"n": str(i)}}, "default")).ok
    h.settle()
    old = h.etcd.store.get("/registry/configmaps/default/c", start + 1)
    assert type(old._value) is bytes                       # replaced twice since: deflated
    got = []
    h.api.watch("configmaps", ref("test", "late"), lambda k, o: got.append((k, o["data"]["n"], o["data"]["big"])),
                resource_version=str(start))
    h.settle()
    assert got == [("MODIFIED", str(i), big) for i in (1, 2, 3)]
