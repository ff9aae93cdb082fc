"""The API server's generic REST storage: CRUD for every resource, optimistic concurrency (409), errors as
kube-apiserver's Status objects (404, 409, 410, 422) that write nothing, graceful deletion, finalizers,
propagation policies, patches, selectors, watches from a resourceVersion, quiet requests, etcd failures."""
from __future__ import annotations

import random

import pytest

from simulator import clock
from simulator.apiserver import registry
from simulator.apiserver.authn import Authenticator, Credential
from simulator.apiserver.server import ApiServer, Request, WatchExpired
from simulator.client import Client
from simulator.etcd import EtcdCluster
from simulator.kernel import Environment
from simulator.trace import Tracer, ref

ADMIN = Credential.x509("kubernetes-admin", "kubeadm:cluster-admins")


class Harness:
    """etcd + one API server with the objects a fresh cluster has (namespaces, default service accounts,
    the cluster-admin binding)."""

    def __init__(self, seed: int = 1, apiservers: int = 1):
        self.env = Environment()
        self.tracer = Tracer(self.env, "test")
        self.etcd = EtcdCluster(self.env, random.Random(f"{seed}/etcd"), self.tracer)
        self.authn = Authenticator()
        self.tracer.enabled = False
        for ns in ("default", "kube-system", "kube-node-lease"):
            self.etcd.put_now(f"/registry/namespaces/{ns}", {
                "kind": "Namespace", "apiVersion": "v1", "metadata": {"name": ns, "uid": f"uid-{ns}"},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
            self.etcd.put_now(f"/registry/serviceaccounts/{ns}/default", {
                "kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "default", "namespace": ns}})
        self.etcd.put_now("/registry/clusterroles/cluster-admin", {
            "kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": {"name": "cluster-admin"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})
        self.etcd.put_now("/registry/clusterrolebindings/kubeadm:cluster-admins", {
            "kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "kubeadm:cluster-admins"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "kubeadm:cluster-admins"}]})
        self.apis = [ApiServer(self.env, random.Random(f"{seed}/apiserver-{i}"), self.tracer, self.etcd, self.authn,
                               instance=f"apiserver-{i}", node=f"control-plane-{i}") for i in range(1, apiservers + 1)]
        self.api = self.apis[0]
        self.tracer.enabled = True
        self.client = Client(self.api, ADMIN)

    def call(self, fut):
        self.env.run(until=fut)
        return fut.value

    def settle(self, dt: float = 1.0):
        """Let `dt` seconds of virtual time pass."""
        end = self.env.now + dt
        self.env.schedule(dt, lambda: None)
        while self.env.pending() and self.env.peek() <= end:
            self.env.step()

    @property
    def rev(self) -> int:
        return self.etcd.store.revision


@pytest.fixture
def h() -> Harness:
    return Harness()


def _deploy(name="web", replicas=2):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}


def _pod(name="p", node=None, **spec):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
         "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}], **spec}}
    if node:
        p["spec"]["nodeName"] = node
    return p


# ---- keys and resources ---------------------------------------------------------------------------------
def test_etcd_key_layout_follows_upstream_prefixes():
    assert registry.key("nodes", "", "n1") == "/registry/minions/n1"
    assert registry.key("services", "default", "s") == "/registry/services/specs/default/s"
    assert registry.key("endpoints", "default", "s") == "/registry/services/endpoints/default/s"
    assert registry.key("deployments", "default", "d") == "/registry/deployments/default/d"
    assert registry.key("leases", "kube-node-lease", "n1") == "/registry/leases/kube-node-lease/n1"
    assert registry.key("endpointslices", "default", "s-abc") == "/registry/endpointslices/default/s-abc"
    assert registry.key("clusterroles", "ignored", "admin") == "/registry/clusterroles/admin"
    assert registry.resource_of("/registry/services/endpoints/default/s") == "endpoints"
    assert registry.resource_of("/registry/minions/n1") == "nodes"
    assert registry.path("deployments", "default", "web", "scale") == "/apis/apps/v1/namespaces/default/deployments/web/scale"
    assert registry.path("nodes", "", "n1", "status") == "/api/v1/nodes/n1/status"


# ---- CRUD ---------------------------------------------------------------------------------------------
def test_create_get_list_update_delete_for_several_resources(h):
    c = h.client
    cm = h.call(c.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"a": "1"}}))
    assert cm.code == 201
    m = cm.body["metadata"]
    assert m["namespace"] == "default" and m["resourceVersion"] == str(h.rev) and len(m["uid"]) == 36
    assert m["creationTimestamp"] == "2025-01-01T00:00:00Z" and "generation" not in m
    assert cm.body["kind"] == "ConfigMap" and cm.body["apiVersion"] == "v1"
    got = h.call(c.get("configmaps", "cfg", "default"))
    assert got.code == 200 and got.body == cm.body

    d = h.call(c.create("deployments", _deploy()))
    assert d.code == 201 and d.body["metadata"]["generation"] == 1 and d.body["apiVersion"] == "apps/v1"
    assert h.api.get("/registry/deployments/default/web")["spec"]["replicas"] == 2

    node = h.call(c.create("nodes", {"metadata": {"name": "n1", "namespace": "oops"}, "status": {"capacity": {"pods": "110"}}}))
    assert node.code == 201 and "namespace" not in node.body["metadata"]
    assert node.body["status"]["capacity"] == {"pods": "110"}  # nodes keep the status they register with
    assert h.api.get("/registry/minions/n1") is not None

    lease = h.call(c.create("leases", {"metadata": {"name": "n1", "namespace": "kube-node-lease"},
                                       "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40}}))
    assert lease.code == 201 and lease.body["apiVersion"] == "coordination.k8s.io/v1"

    lst = h.call(c.list("configmaps", "default"))
    assert lst.code == 200 and lst.body["kind"] == "ConfigMapList" and [o["metadata"]["name"] for o in lst.body["items"]] == ["cfg"]
    assert lst.body["metadata"]["resourceVersion"] == str(h.rev)

    upd = dict(got.body, data={"a": "2"})
    u = h.call(c.update("configmaps", upd))
    assert u.code == 200 and u.body["data"] == {"a": "2"} and int(u.body["metadata"]["resourceVersion"]) > int(m["resourceVersion"])

    gone = h.call(c.delete("configmaps", "cfg", "default"))
    assert gone.code == 200
    # Store.finalizeDelete: a Status Success naming the object (kind = the resource), code omitted.
    assert gone.body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": {"name": "cfg", "kind": "configmaps", "uid": m["uid"]}}
    assert h.api.get("/registry/configmaps/default/cfg") is None
    dd = h.call(c.delete("deployments", "web", "default"))
    assert dd.body["details"] == {"name": "web", "group": "apps", "kind": "deployments", "uid": d.body["metadata"]["uid"]}


def test_generate_name_appends_five_characters_of_the_upstream_alphabet(h):
    r = h.call(h.client.create("configmaps", {"metadata": {"generateName": "web-"}, "data": {}}))
    name = r.body["metadata"]["name"]
    assert r.code == 201 and name.startswith("web-") and len(name) == 9
    assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_stale_resource_version_is_409_conflict_with_the_real_message_and_writes_nothing(h):
    c = h.client
    first = h.call(c.create("deployments", _deploy())).body
    h.call(c.patch("deployments", "web", {"spec": {"replicas": 3}}, "default"))
    before = h.rev
    stale = dict(first, spec=dict(first["spec"], replicas=5))
    r = h.call(c.update("deployments", stale))
    assert r.code == 409
    assert r.status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": 'Operation cannot be fulfilled on deployments.apps "web": the object has been '
                                   'modified; please apply your changes to the latest version and try again',
                        "reason": "Conflict", "details": {"name": "web", "group": "apps", "kind": "deployments"},
                        "code": 409}
    h.settle()
    assert h.rev == before and h.api.get("/registry/deployments/default/web")["spec"]["replicas"] == 3


def test_a_patch_that_loses_a_race_is_applied_again_to_the_fresh_object(h):
    """Two writers read the same revision; the patch's etcd Txn fails its compare and the handler applies the
    patch again to the new object (what `kubectl set image` right after `kubectl apply` needs), unless the
    patch itself names a resourceVersion: then 409."""
    c = h.client
    first = h.call(c.create("deployments", _deploy())).body
    before = h.rev
    one = c.patch("deployments", "web", {"spec": {"replicas": 4}}, "default")
    two = c.patch("deployments", "web", {"metadata": {"labels": {"tier": "web"}}}, "default")
    assert h.call(one).code == 200, one.value.status
    assert h.call(two).code == 200, two.value.status
    got = h.api.get("/registry/deployments/default/web")
    assert got["spec"]["replicas"] == 4 and got["metadata"]["labels"]["tier"] == "web"
    assert h.rev == before + 2
    stale = c.patch("deployments", "web", {"metadata": {"resourceVersion": first["metadata"]["resourceVersion"],
                                                        "labels": {"tier": "x"}}}, "default")
    assert h.call(stale).code == 409


def test_pod_conflict_message_names_pods(h):
    p = h.call(h.client.create("pods", _pod("x"))).body
    h.call(h.client.patch("pods", "x", {"metadata": {"labels": {"v": "2"}}}, "default"))
    r = h.call(h.client.update("pods", p))
    assert r.status["message"] == ('Operation cannot be fulfilled on pods "x": the object has been modified; please '
                                   'apply your changes to the latest version and try again')


def test_create_of_an_existing_name_is_409_already_exists_and_writes_nothing(h):
    h.call(h.client.create("configmaps", {"metadata": {"name": "cfg"}}))
    before = h.rev
    r = h.call(h.client.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"x": "y"}}))
    assert r.code == 409 and r.status["reason"] == "AlreadyExists"
    assert r.status["message"] == 'configmaps "cfg" already exists'
    assert r.status["details"] == {"name": "cfg", "kind": "configmaps"}
    r = h.call(h.client.create("deployments", _deploy("cfg")))
    assert r.code == 201
    r = h.call(h.client.create("deployments", _deploy("cfg")))
    assert r.status["message"] == 'deployments.apps "cfg" already exists'
    h.settle()
    assert h.rev == before + 1


def test_missing_objects_are_404(h):
    before = h.rev
    for fut in (h.client.get("pods", "nope", "default"), h.client.delete("pods", "nope", "default"),
                h.client.patch("deployments", "nope", {"spec": {"replicas": 1}}, "default"),
                h.client.update("configmaps", {"metadata": {"name": "nope", "namespace": "default"}})):
        r = h.call(fut)
        assert r.code == 404 and r.status["reason"] == "NotFound"
    r = h.call(h.client.get("deployments", "nope", "default"))
    assert r.status["message"] == 'deployments.apps "nope" not found'
    assert r.status["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}
    h.settle()
    assert h.rev == before


def test_put_creates_a_missing_lease_allow_create_on_update(h):
    r = h.call(h.client.update("leases", {"metadata": {"name": "n9", "namespace": "kube-node-lease"},
                                          "spec": {"holderIdentity": "n9"}}))
    assert r.code == 201


def test_invalid_object_is_422_and_writes_nothing(h):
    before = h.rev
    r = h.call(h.client.create("pods", _pod("Bad_Name")))
    assert r.code == 422 and r.status["reason"] == "Invalid"
    assert r.status["message"].startswith('Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"')
    h.settle()
    assert h.rev == before and h.api.list("/registry/pods/") == []


def test_create_with_a_resource_version_is_refused(h):
    r = h.call(h.client.create("configmaps", {"metadata": {"name": "c", "resourceVersion": "5"}}))
    assert r.code == 500 and r.status["message"] == "resourceVersion should not be set on objects to be created"


# ---- generation, status and scale subresources --------------------------------------------------------
def test_generation_bumps_on_spec_changes_only_and_status_goes_through_its_subresource(h):
    c = h.client
    d = h.call(c.create("deployments", _deploy())).body
    assert d["metadata"]["generation"] == 1 and d["status"] == {}
    # Metadata-only change: no bump.
    r = h.call(c.patch("deployments", "web", {"metadata": {"labels": {"tier": "front"}}}, "default"))
    assert r.body["metadata"]["generation"] == 1
    # A status written through the main resource is ignored; a spec change bumps the generation.
    r = h.call(c.patch("deployments", "web", {"spec": {"replicas": 4}, "status": {"replicas": 99}}, "default"))
    assert r.body["metadata"]["generation"] == 2 and r.body["status"] == {}
    # The status subresource changes only status and never the generation.
    cur = r.body
    sent = dict(cur, spec=dict(cur["spec"], replicas=1), status={"replicas": 4, "observedGeneration": 2})
    s = h.call(c.update_status("deployments", sent))
    assert s.code == 200 and s.body["status"] == {"replicas": 4, "observedGeneration": 2}
    assert s.body["spec"]["replicas"] == 4 and s.body["metadata"]["generation"] == 2


def test_no_op_update_writes_nothing(h):
    d = h.call(h.client.create("deployments", _deploy())).body
    before = h.rev
    r = h.call(h.client.update("deployments", d))
    assert r.code == 200 and r.body["metadata"]["resourceVersion"] == d["metadata"]["resourceVersion"]
    assert h.rev == before


def test_scale_subresource(h):
    c = h.client
    h.call(c.create("deployments", _deploy()))
    s = h.call(c.get("deployments", "web", "default", subresource="scale"))
    assert s.code == 200 and s.body["kind"] == "Scale" and s.body["apiVersion"] == "autoscaling/v1"
    assert s.body["spec"] == {"replicas": 2} and s.body["status"] == {"replicas": 0, "selector": "app=web"}
    r = h.call(c.patch("deployments", "web", {"spec": {"replicas": 5}}, "default", subresource="scale"))
    assert r.code == 200 and r.body["kind"] == "Scale" and r.body["spec"]["replicas"] == 5
    d = h.api.get("/registry/deployments/default/web")
    assert d["spec"]["replicas"] == 5 and d["metadata"]["generation"] == 2


def test_binding_sets_node_and_refuses_a_second_one(h):
    p = h.call(h.client.create("pods", _pod("p"))).body
    r = h.call(h.client.bind(p, "n1"))
    assert r.code == 201
    pod = h.api.get("/registry/pods/default/p")
    assert pod["spec"]["nodeName"] == "n1"
    assert [c["type"] for c in pod["status"]["conditions"]] == ["PodScheduled"]
    r = h.call(h.client.bind(p, "n2"))
    assert r.code == 409 and r.status["message"] == 'Operation cannot be fulfilled on pods "p": pod p is already assigned to node "n1"'


# ---- delete -------------------------------------------------------------------------------------------
def test_graceful_pod_delete_keeps_the_pod_until_the_kubelet_deletes_it_with_grace_0(h):
    c = h.client
    h.call(c.create("pods", _pod("p", node="n1", terminationGracePeriodSeconds=20)))
    h.settle(100.0)
    t0 = h.env.now
    r = h.call(c.delete("pods", "p", "default"))
    assert r.code == 200 and r.body["kind"] == "Pod"
    m = r.body["metadata"]
    # rest.BeforeDelete: deletionTimestamp is when the grace period ends (now + grace).
    assert m["deletionGracePeriodSeconds"] == 20
    assert m["deletionTimestamp"] == clock.rfc3339(t0 + 20) or m["deletionTimestamp"] == clock.rfc3339(t0 + 21)
    assert h.api.get("/registry/pods/default/p") is not None
    # A second delete with a longer grace changes nothing (already being deleted) and answers the pod.
    before = h.rev
    again = h.call(c.delete("pods", "p", "default", grace_period_seconds=60))
    assert again.code == 200 and again.body["metadata"]["deletionGracePeriodSeconds"] == 20 and h.rev == before
    # The kubelet, once the containers are stopped: grace 0 with the UID as precondition -> two writes.
    uid = r.body["metadata"]["uid"]
    r = h.call(c.delete("pods", "p", "default", grace_period_seconds=0, preconditions={"uid": uid}))
    assert r.code == 200 and r.body["metadata"]["deletionGracePeriodSeconds"] == 0
    assert h.api.get("/registry/pods/default/p") is None
    assert h.rev == before + 2


def test_unscheduled_pod_is_removed_at_once(h):
    h.call(h.client.create("pods", _pod("p")))
    r = h.call(h.client.delete("pods", "p", "default"))
    assert r.code == 200 and r.body["metadata"]["deletionGracePeriodSeconds"] == 0
    assert h.api.get("/registry/pods/default/p") is None


def test_delete_precondition_uid_mismatch_is_409(h):
    h.call(h.client.create("configmaps", {"metadata": {"name": "c"}}))
    r = h.call(h.client.delete("configmaps", "c", "default", preconditions={"uid": "other"}))
    assert r.code == 409 and "does not match the UID in record" in r.status["message"]
    assert h.api.get("/registry/configmaps/default/c") is not None


def test_finalizers_keep_the_object_until_the_last_one_is_removed(h):
    c = h.client
    h.call(c.create("configmaps", {"metadata": {"name": "c", "finalizers": ["example.com/hold"]}}))
    r = h.call(c.delete("configmaps", "c", "default"))
    assert r.code == 200 and r.body["kind"] == "ConfigMap"
    m = r.body["metadata"]
    assert m["deletionTimestamp"] and m["deletionGracePeriodSeconds"] == 0 and m["finalizers"] == ["example.com/hold"]
    assert h.api.get("/registry/configmaps/default/c") is not None
    # An update cannot remove the deletionTimestamp.
    cur = h.api.get("/registry/configmaps/default/c")
    cur["metadata"].pop("deletionTimestamp")
    cur["data"] = {"k": "v"}
    u = h.call(c.update("configmaps", cur))
    assert u.code == 200 and u.body["metadata"]["deletionTimestamp"] == m["deletionTimestamp"]
    # Removing the last finalizer deletes it.
    r = h.call(c.patch("configmaps", "c", {"metadata": {"finalizers": None}}, "default"))
    assert r.code == 200
    assert h.api.get("/registry/configmaps/default/c") is None


@pytest.mark.parametrize("policy,finalizer", [("Foreground", "foregroundDeletion"), ("Orphan", "orphan")])
def test_propagation_policies_add_the_garbage_collector_finalizers(h, policy, finalizer):
    h.call(h.client.create("deployments", _deploy()))
    r = h.call(h.client.delete("deployments", "web", "default", propagation=policy))
    assert r.code == 200 and r.body["kind"] == "Deployment"
    assert r.body["metadata"]["finalizers"] == [finalizer] and r.body["metadata"]["deletionTimestamp"]
    assert h.api.get("/registry/deployments/default/web") is not None


def test_background_is_the_default_and_deletes_at_once(h):
    h.call(h.client.create("replicasets", {"metadata": {"name": "rs"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                                                                                "template": {"metadata": {"labels": {"a": "b"}},
                                                                                             "spec": {"containers": [{"name": "c", "image": "i"}]}}}}))
    r = h.call(h.client.delete("replicasets", "rs", "default"))
    assert r.code == 200 and r.body["status"] == "Success"
    assert h.api.get("/registry/replicasets/default/rs") is None


def test_namespace_delete_goes_terminating(h):
    c = h.client
    h.call(c.create("namespaces", {"metadata": {"name": "team"}}))
    ns = h.api.get("/registry/namespaces/team")
    assert ns["spec"]["finalizers"] == ["kubernetes"] and ns["status"] == {"phase": "Active"}
    r = h.call(c.delete("namespaces", "team"))
    assert r.code == 200 and r.body["status"]["phase"] == "Terminating" and r.body["metadata"]["deletionTimestamp"]
    assert h.api.get("/registry/namespaces/team") is not None
    # The namespace controller empties spec.finalizers (finalize subresource), then deletes.
    cur = h.api.get("/registry/namespaces/team")
    cur["spec"]["finalizers"] = []
    f = h.call(c.update("namespaces", cur, subresource="finalize"))
    assert f.code == 200 and f.body["spec"]["finalizers"] == []
    r = h.call(c.delete("namespaces", "team"))
    assert r.code == 200 and h.api.get("/registry/namespaces/team") is None


# ---- patches ------------------------------------------------------------------------------------------
def test_merge_json_and_strategic_patches(h):
    c = h.client
    h.call(c.create("deployments", _deploy()))
    sp = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"},
                                                         {"name": "nginx", "image": "nginx:1.28"}]}}}}
    r = h.call(c.patch("deployments", "web", sp, "default", patch_type="strategic"))
    cs = r.body["spec"]["template"]["spec"]["containers"]
    assert [(x["name"], x["image"]) for x in cs] == [("nginx", "nginx:1.28"), ("sidecar", "busybox")]
    r = h.call(c.patch("deployments", "web", sp, "default", patch_type="merge"))
    cs = r.body["spec"]["template"]["spec"]["containers"]
    assert [x["name"] for x in cs] == ["sidecar", "nginx"]  # merge patch replaces lists
    r = h.call(c.patch("deployments", "web", [{"op": "replace", "path": "/spec/replicas", "value": 7},
                                              {"op": "add", "path": "/metadata/labels/x", "value": "y"}],
                       "default", patch_type="json"))
    assert r.code == 200 and r.body["spec"]["replicas"] == 7 and r.body["metadata"]["labels"]["x"] == "y"
    before = h.rev
    r = h.call(c.patch("deployments", "web", [{"op": "test", "path": "/spec/replicas", "value": 1}], "default", patch_type="json"))
    assert r.code == 422 and h.rev == before
    # A resourceVersion in a patch is a precondition.
    r = h.call(c.patch("deployments", "web", {"metadata": {"resourceVersion": "2"}, "spec": {"replicas": 1}}, "default"))
    assert r.code == 409 and r.status["reason"] == "Conflict"


def test_status_patch_merges_conditions_by_type(h):
    h.call(h.client.create("pods", _pod("p", node="n1")))
    h.call(h.client.patch("pods", "p", {"status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}},
                          "default", subresource="status", patch_type="strategic"))
    r = h.call(h.client.patch("pods", "p", {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
                              "default", subresource="status", patch_type="strategic"))
    assert r.code == 200 and r.body["status"]["phase"] == "Running"
    assert [c["type"] for c in r.body["status"]["conditions"]] == ["PodScheduled", "Ready"]
    # A status patch cannot change the spec.
    r = h.call(h.client.patch("pods", "p", {"spec": {"nodeName": "n2"}, "status": {"phase": "Running"}},
                              "default", subresource="status", patch_type="merge"))
    assert r.body["spec"]["nodeName"] == "n1"


# ---- selectors ---------------------------------------------------------------------------------------
def test_label_and_field_selectors_on_list(h):
    c = h.client
    for name, labels, node in (("a", {"app": "web", "tier": "front"}, "n1"), ("b", {"app": "web"}, "n2"),
                               ("d", {"app": "db"}, None)):
        p = _pod(name, node=node)
        p["metadata"]["labels"] = labels
        h.call(c.create("pods", p))

    def names(**kw):
        r = h.call(c.list("pods", "default", **kw))
        assert r.code == 200, r.status
        return [o["metadata"]["name"] for o in r.body["items"]]
    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app!=web") == ["d"]
    assert names(label_selector="app in (db, cache)") == ["d"]
    assert names(label_selector="app notin (db),tier") == ["a"]
    assert names(label_selector="!tier") == ["b", "d"]
    assert names(field_selector="spec.nodeName=n2") == ["b"]
    assert names(field_selector="spec.nodeName=") == ["d"]
    assert names(field_selector="metadata.name!=a,status.phase=Pending") == ["b", "d"]
    r = h.call(c.list("pods", "default", field_selector="spec.bogus=x"))
    assert r.code == 400 and r.status["message"] == "field label not supported: spec.bogus"


# ---- watches -----------------------------------------------------------------------------------------
def test_watch_with_a_selector_sees_objects_enter_and_leave(h):
    seen = []
    h.api.watch("pods", ref("test", "w"), lambda k, o: seen.append((k, o["metadata"]["name"])), label_selector="app=web")
    h.call(h.client.create("pods", _pod("p")))
    h.call(h.client.patch("pods", "p", {"metadata": {"labels": {"app": "other"}}}, "default"))
    h.call(h.client.patch("pods", "p", {"metadata": {"labels": {"app": "web"}}}, "default"))
    h.call(h.client.delete("pods", "p", "default"))
    h.settle()
    assert seen == [("ADDED", "p"), ("DELETED", "p"), ("ADDED", "p"), ("MODIFIED", "p"), ("DELETED", "p")]


def test_watch_from_a_resource_version_replays_and_410_when_too_old(h):
    c = h.client
    r = h.call(c.create("configmaps", {"metadata": {"name": "c"}, "data": {"n": "0"}}))
    rv0 = int(r.resource_version)
    for i in range(1, 4):
        h.call(c.patch("configmaps", "c", {"data": {"n": str(i)}}, "default"))
    seen = []
    h.api.watch("configmaps", ref("test", "w"), lambda k, o: seen.append((k, o["data"]["n"], o["metadata"]["resourceVersion"])),
                resource_version=str(rv0))
    h.settle()
    assert [s[:2] for s in seen] == [("MODIFIED", "1"), ("MODIFIED", "2"), ("MODIFIED", "3")]
    assert all(int(s[2]) > rv0 for s in seen)
    # "0": the current state as ADDED, then live events.
    seen0 = []
    h.api.watch("configmaps", ref("test", "w0"), lambda k, o: seen0.append((k, o["data"]["n"])), resource_version="0")
    h.settle()
    assert seen0 == [("ADDED", "3")]
    # Churn for longer than the watch cache keeps events (75 s, beyond 100 events): the old RV expires.
    for i in range(150):
        h.call(c.patch("configmaps", "c", {"data": {"n": f"x{i}"}}, "default"))
        h.settle(1.0)
    with pytest.raises(WatchExpired) as ei:
        h.api.watch("configmaps", ref("test", "late"), lambda k, o: None, resource_version=str(rv0))
    st = ei.value.status
    assert st["code"] == 410 and st["reason"] == "Expired"
    oldest = h.api._window["configmaps"][0][0]
    assert st["message"] == f"too old resource version: {rv0} ({oldest - 1})"
    # Through the client, the stream yields one ERROR event with that Status.
    errs = []
    assert h.client.watch("configmaps", lambda k, o: errs.append((k, o)), resource_version=str(rv0)) is None
    assert errs == [("ERROR", st)]


def test_watch_events_arrive_in_order(h):
    seen = []
    h.api.watch("configmaps", ref("test", "w"),
                lambda k, o: seen.append((int(o["metadata"]["resourceVersion"]), o["data"]["n"])))
    h.call(h.client.create("configmaps", {"metadata": {"name": "c"}, "data": {"n": "0"}}))
    # 19 concurrent patches: those that lose the race are applied again, so every one commits.
    futs = [h.client.patch("configmaps", "c", {"data": {"n": str(i)}}, "default") for i in range(1, 20)]
    for f in futs:
        assert h.call(f).code == 200
    h.settle()
    assert [rv for rv, _ in seen] == sorted(rv for rv, _ in seen) and len(seen) == 20
    assert sorted(int(n) for _, n in seen) == list(range(20))
    assert seen[-1][1] == h.api.get("/registry/configmaps/default/c")["data"]["n"]


# ---- quiet requests, etcd errors, SSAR ------------------------------------------------------------------
def test_quiet_requests_emit_no_events_but_commit(h):
    h.call(h.client.create("leases", {"metadata": {"name": "n1", "namespace": "kube-node-lease"}, "spec": {"holderIdentity": "n1"}}))
    seen = []
    h.api.watch("leases", ref("node-lifecycle", "nlc"), lambda k, o: seen.append(k))
    h.settle()
    h.tracer.buffer.clear()
    before = h.rev
    r = h.call(h.client.patch("leases", "n1", {"spec": {"renewTime": "2025-01-01T00:00:10.000000Z"}},
                              "kube-node-lease", quiet=True))
    h.settle()
    assert r.code == 200 and h.rev == before + 1 and seen == ["MODIFIED"]
    assert list(h.tracer.buffer) == []


def test_untraced_write_is_a_compact_request_storage_response(h):
    h.tracer.buffer.clear()
    h.call(h.client.create("configmaps", {"metadata": {"name": "c"}}))
    assert [e["type"] for e in h.tracer.buffer] == ["apiserver.request", "apiserver.storage", "etcd.put", "apiserver.response"]


def test_etcd_error_is_a_500_with_etcds_message_and_writes_nothing(h):
    from simulator.etcd.member import EtcdError

    def failing_txn(*a, **kw):
        f = h.env.future()
        h.env.schedule(7.0, lambda: f.resolve(EtcdError("etcdserver: request timed out")))
        return f
    h.api.etcd = type("E", (), {"txn": staticmethod(failing_txn), "store": h.etcd.store, "leader": "etcd-1"})()
    before = h.rev
    r = h.call(h.client.create("configmaps", {"metadata": {"name": "c"}}))
    assert r.code == 500
    assert r.status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "etcdserver: request timed out", "code": 500}
    assert h.rev == before and h.api.get("/registry/configmaps/default/c") is None


def test_self_subject_access_review(h):
    r = h.call(h.client.can_i("create", "deployments", "default", group="apps"))
    assert r.code == 201 and r.body["status"]["allowed"] is True


def test_services_get_cluster_ips_and_node_ports(h):
    c = h.client
    a = h.call(c.create("services", {"metadata": {"name": "a"}, "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}})).body
    ip = a["spec"]["clusterIP"]
    import ipaddress
    assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/16")
    assert a["spec"]["clusterIPs"] == [ip] and int(ip.split(".")[2]) >= 1  # dynamic block: above the first 256
    b = h.call(c.create("services", {"metadata": {"name": "b"}, "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}})).body
    ports = [p["nodePort"] for p in b["spec"]["ports"]]
    assert all(30000 <= p <= 32767 for p in ports) and len(set(ports)) == 2 and b["spec"]["clusterIP"] != ip
    r = h.call(c.create("services", {"metadata": {"name": "c"}, "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}))
    assert r.code == 422 and "provided IP is already allocated" in r.status["message"]
    r = h.call(c.create("services", {"metadata": {"name": "d"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": ports[0]}]}}))
    assert r.code == 422 and "provided port is already allocated" in r.status["message"]
    # Same seed, same allocations.
    h2 = Harness()
    a2 = h2.call(h2.client.create("services", {"metadata": {"name": "a"}, "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}})).body
    assert a2["spec"]["clusterIP"] == ip


def test_unknown_resource_and_verb(h):
    r = h.call(h.api.handle(Request("GET", "/api/v1/namespaces/default/widgets/x", "get", "widgets", "default", "x",
                                    credential=ADMIN)))
    assert r.code == 404 and r.status["message"] == "the server could not find the requested resource"


def test_the_compactor_compacts_etcd_to_the_revision_of_the_previous_interval(h):
    for a in (h.api,):
        a.start_compaction(300.0)
    h.call(h.client.create("configmaps", {"metadata": {"name": "c"}, "data": {"n": "0"}}))
    h.settle(301)
    first = h.etcd.store.get("compact_rev_key")
    assert first is not None and first.version == 1 and h.etcd.store.compact_revision == 0  # no compaction at bootstrap
    recorded = first.mod_revision  # the revision the first compactor txn saw
    h.call(h.client.patch("configmaps", "c", {"data": {"n": "1"}}, "default"))
    h.settle(300)
    assert h.etcd.store.compact_revision == recorded
    assert h.etcd.store.get("compact_rev_key").version == 2


def test_invalid_self_subject_access_review_is_422(h):
    r = h.call(h.client.request("create", "selfsubjectaccessreviews", body={"spec": {}}))
    assert r.code == 422


def test_quiet_status_heartbeat_through_a_node_client_is_silent(h):
    h.call(h.client.create("nodes", {"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}))
    h.settle()
    h.tracer.buffer.clear()
    r = h.call(h.client.patch("nodes", "n1", {"status": {"conditions": [{"type": "Ready", "status": "True",
                                                                         "lastHeartbeatTime": "2025-01-01T00:00:10Z"}]}},
                              subresource="status", patch_type="strategic", quiet=True))
    assert r.code == 200 and list(h.tracer.buffer) == []


def test_delete_collection_deletes_what_the_selector_matches(h):
    for n, app in (("a", "web"), ("b", "web"), ("c", "db")):
        h.call(h.client.create("configmaps", {"metadata": {"name": n, "labels": {"app": app}}}))
    r = h.call(h.client.delete_collection("configmaps", "default", label_selector="app=web"))
    assert r.code == 200 and r.body["kind"] == "ConfigMapList"
    assert sorted(o["metadata"]["name"] for o in r.body["items"]) == ["a", "b"]
    assert [o["metadata"]["name"] for o in h.api.list("/registry/configmaps/default/")] == ["c"]


def test_recreating_an_object_that_is_being_deleted_says_so(h):
    h.call(h.client.create("configmaps", {"metadata": {"name": "c", "finalizers": ["example.com/hold"]}}))
    h.call(h.client.delete("configmaps", "c", "default"))
    r = h.call(h.client.create("configmaps", {"metadata": {"name": "c"}}))
    assert r.code == 409 and r.status["message"] == 'object is being deleted: configmaps "c" already exists'
