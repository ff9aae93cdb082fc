"""The MVCC store behaves as etcd v3 does."""
import pytest

from simulator.etcd import CompactedError, Compare, MVCCStore, Op


def test_fresh_store_is_at_revision_1():
    s = MVCCStore()
    assert s.revision == 1
    assert s.range("/registry/", prefix=True) == []


def test_create_mod_revision_and_version_after_put_put_delete_put():
    s = MVCCStore()
    a = s.put("/k", "1")
    assert (a.create_revision, a.mod_revision, a.version, s.revision) == (2, 2, 1, 2)
    b = s.put("/k", "2")
    assert (b.create_revision, b.mod_revision, b.version) == (2, 3, 2)
    assert s.delete("/k") is True and s.revision == 4
    assert s.get("/k") is None
    c = s.put("/k", "3")
    assert (c.create_revision, c.mod_revision, c.version) == (5, 5, 1)  # a new generation
    assert s.delete("/missing") is False and s.revision == 5             # deleting nothing writes nothing


def test_range_by_prefix_is_in_key_order_and_excludes_neighbours():
    s = MVCCStore()
    for k in ("/registry/pods/default/b", "/registry/pods/default/a", "/registry/pods/kube-system/c",
              "/registry/podsx/z", "/registry/services/specs/default/kubernetes"):
        s.put(k, "{}")
    keys = [kv.key for kv in s.range("/registry/pods/", prefix=True)]
    assert keys == ["/registry/pods/default/a", "/registry/pods/default/b", "/registry/pods/kube-system/c"]
    assert [kv.key for kv in s.range("/registry/pods/default/", prefix=True, limit=1)] == ["/registry/pods/default/a"]


def test_range_at_an_old_revision_sees_the_past():
    s = MVCCStore()
    s.put("/a", "v1")          # rev 2
    s.put("/a", "v2")          # rev 3
    s.put("/b", "x")           # rev 4
    s.delete("/a")             # rev 5
    assert s.get("/a", revision=2).value == "v1"
    assert s.get("/a", revision=3).value == "v2"
    assert s.get("/a", revision=5) is None
    assert [kv.key for kv in s.range("/", prefix=True, revision=3)] == ["/a"]
    assert [kv.key for kv in s.range("/", prefix=True, revision=4)] == ["/a", "/b"]
    assert [kv.key for kv in s.range("/", prefix=True)] == ["/b"]


def test_compaction_forgets_old_revisions():
    s = MVCCStore()
    s.put("/a", "v1")
    s.put("/a", "v2")
    s.put("/a", "v3")          # rev 4
    s.compact(3)
    assert s.get("/a", revision=3).value == "v2"
    with pytest.raises(CompactedError):
        s.get("/a", revision=2)
    with pytest.raises(CompactedError):
        s.watch("/a", start_revision=2)


def test_watch_from_a_revision_replays_then_streams():
    s = MVCCStore()
    s.put("/registry/pods/default/a", "1")   # 2
    s.put("/registry/pods/default/a", "2")   # 3
    s.put("/registry/nodes/n", "x")          # 4
    s.delete("/registry/pods/default/a")     # 5
    live = []
    past = s.watch("/registry/pods/", prefix=True, start_revision=3, callback=live.append)
    assert [(e.type, e.kv.mod_revision) for e in past] == [("PUT", 3), ("DELETE", 5)]
    assert past[1].prev_kv.value == "2"
    s.put("/registry/pods/default/b", "1")   # 6
    s.put("/registry/other", "1")            # 7: not under the prefix
    assert [(e.type, e.kv.key, e.kv.mod_revision) for e in live] == [("PUT", "/registry/pods/default/b", 6)]


def test_txn_create_only_if_absent_and_update_only_if_unchanged():
    s = MVCCStore()
    key = "/registry/pods/default/nginx"
    ok = s.txn([Compare(key, "mod_revision", "==", 0)], [Op.put(key, "v1")], [Op.get(key)])
    assert ok.succeeded and ok.revision == 2
    again = s.txn([Compare(key, "mod_revision", "==", 0)], [Op.put(key, "v1b")], [Op.get(key)])
    assert not again.succeeded and again.revision == 2 and again.responses[0].value == "v1"  # AlreadyExists
    stale = s.txn([Compare(key, "mod_revision", "==", 1)], [Op.put(key, "v2")], [Op.get(key)])
    assert not stale.succeeded and s.get(key).value == "v1" and s.revision == 2           # Conflict: nothing written
    fresh = s.txn([Compare(key, "mod_revision", "==", 2)], [Op.put(key, "v2")])
    assert fresh.succeeded and s.get(key).version == 2 and s.revision == 3


def test_one_txn_is_one_revision():
    s = MVCCStore()
    r = s.txn([], [Op.put("/a", "1"), Op.put("/b", "1")])
    assert r.revision == 2 and s.get("/a").mod_revision == s.get("/b").mod_revision == 2
