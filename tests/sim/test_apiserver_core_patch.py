"""The three patch types, against the RFCs' own examples and the strategic-merge rules of k8s.io/api."""
import pytest

from simulator.apiserver.patch import PatchError, apply, json_patch, merge_patch, strategic_merge_patch


def test_rfc7386_examples():
    cases = [({"a": "b"}, {"a": "c"}, {"a": "c"}), ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
             ({"a": "b"}, {"a": None}, {}), ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
             ({"a": ["b"]}, {"a": "c"}, {"a": "c"}), ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
             ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
             ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}), ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
             ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}})]
    for target, patch, want in cases:
        assert merge_patch(target, patch) == want


def test_rfc6902_operations():
    doc = {"foo": ["bar", "baz"], "x": {"y": 1}}
    out = json_patch(doc, [{"op": "add", "path": "/foo/1", "value": "qux"},
                           {"op": "add", "path": "/foo/-", "value": "end"},
                           {"op": "remove", "path": "/x/y"},
                           {"op": "replace", "path": "/foo/0", "value": "BAR"},
                           {"op": "copy", "from": "/foo/0", "path": "/first"},
                           {"op": "move", "from": "/first", "path": "/x/moved"},
                           {"op": "add", "path": "/a~1b", "value": 1},
                           {"op": "test", "path": "/foo/1", "value": "qux"}])
    assert out == {"foo": ["BAR", "qux", "baz", "end"], "x": {"moved": "BAR"}, "a/b": 1}
    assert doc == {"foo": ["bar", "baz"], "x": {"y": 1}}  # untouched
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "test", "path": "/foo/0", "value": "nope"}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "remove", "path": "/missing"}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "replace", "path": "/missing", "value": 1}])


def _pod():
    return {"spec": {"containers": [{"name": "a", "image": "a:1", "ports": [{"containerPort": 80, "name": "http"}],
                                     "env": [{"name": "X", "value": "1"}]},
                                    {"name": "b", "image": "b:1"}],
                     "tolerations": [{"key": "k1", "operator": "Exists"}]},
            "metadata": {"finalizers": ["f1"]},
            "status": {"conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "False"}]}}


def test_strategic_merge_by_patch_merge_key():
    out = strategic_merge_patch(_pod(), {"spec": {"containers": [{"name": "a", "image": "a:2",
                                                                  "ports": [{"containerPort": 443}],
                                                                  "env": [{"name": "Y", "value": "2"}]}]}})
    a, b = out["spec"]["containers"]
    assert a["image"] == "a:2" and b == {"name": "b", "image": "b:1"}
    assert [p["containerPort"] for p in a["ports"]] == [80, 443]
    assert [e["name"] for e in a["env"]] == ["X", "Y"]
    # Lists without a patch strategy (tolerations) are replaced.
    out = strategic_merge_patch(_pod(), {"spec": {"tolerations": [{"key": "k2", "operator": "Exists"}]}})
    assert out["spec"]["tolerations"] == [{"key": "k2", "operator": "Exists"}]
    # Conditions merge by type; finalizers (a merge list of strings) are unioned.
    out = strategic_merge_patch(_pod(), {"status": {"conditions": [{"type": "Ready", "status": "True"}]},
                                         "metadata": {"finalizers": ["f2"]}})
    assert out["status"]["conditions"] == [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}]
    assert out["metadata"]["finalizers"] == ["f1", "f2"]


def test_strategic_merge_directives():
    out = strategic_merge_patch(_pod(), {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["a"]
    out = strategic_merge_patch(_pod(), {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                                                  "containers": [{"name": "b", "image": "b:2"}]}})
    assert [(c["name"], c["image"]) for c in out["spec"]["containers"]] == [("b", "b:2"), ("a", "a:1")]
    out = strategic_merge_patch(_pod(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}})
    assert out["metadata"]["finalizers"] == []
    out = strategic_merge_patch(_pod(), {"status": {"$patch": "replace", "phase": "Running"}})
    assert out["status"] == {"phase": "Running"}
    # A Service's ports merge by port.
    svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
    out = strategic_merge_patch(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}})
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_apply_dispatch_and_errors():
    assert apply("merge", {"a": 1}, {"b": 2}) == {"a": 1, "b": 2}
    assert apply("", {"a": [1]}, {"a": [2]}) == {"a": [2]}
    with pytest.raises(PatchError) as e:
        apply("json", {}, {"op": "add"})
    assert e.value.code == 400
    with pytest.raises(PatchError) as e:
        apply("apply", {}, {})
    assert e.value.code == 415
