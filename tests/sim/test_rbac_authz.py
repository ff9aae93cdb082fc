"""RBAC as kube-apiserver evaluates it (plugin/pkg/auth/authorizer/rbac): which binding allows, the reason
it gives, the Forbidden message when nothing allows, and SelfSubjectAccessReview (`kubectl auth can-i`)."""
import pytest

from simulator.apiserver import status as st
from simulator.apiserver.authn import Authenticator, Credential, UserInfo
from simulator.apiserver.authz import (Attributes, InvalidReview, NodeAuthorizer, RBACAuthorizer, UnionAuthorizer,
                                       bootstrap_cluster_role_bindings, bootstrap_cluster_roles,
                                       self_subject_access_review)

RBAC = "rbac.authorization.k8s.io"


def _role(kind, name, rules, ns=None, labels=None):
    meta = {"name": name}
    if ns:
        meta["namespace"] = ns
    if labels:
        meta["labels"] = labels
    return {"kind": kind, "apiVersion": f"{RBAC}/v1", "metadata": meta, "rules": rules}


def _binding(kind, name, role_kind, role, subjects, ns=None):
    meta = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"kind": kind, "metadata": meta, "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": subjects}


class Store:
    def __init__(self, *objs, bootstrap=True):
        self.objs = {"clusterroles": [], "clusterrolebindings": [], "roles": [], "rolebindings": []}
        if bootstrap:
            self.objs["clusterroles"] += bootstrap_cluster_roles()
            self.objs["clusterrolebindings"] += bootstrap_cluster_role_bindings()
        res = {"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "Role": "roles",
               "RoleBinding": "rolebindings"}
        for o in objs:
            self.objs[res[o["kind"]]].append(o)
        for v in self.objs.values():  # the cache lists in key order
            v.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))

    def list(self, resource):
        return self.objs[resource]


def _authz(store, pods=None):
    pods = pods or {}
    return UnionAuthorizer(NodeAuthorizer(lambda ns, n: pods.get((ns, n))), RBACAuthorizer(store.list))


JANE = UserInfo("jane", ("developers", "system:authenticated"), "token")
ADMIN = UserInfo("kubernetes-admin", ("kubeadm:cluster-admins", "system:authenticated"), "x509")
ANON = UserInfo("system:anonymous", ("system:unauthenticated",), "anonymous")


def _forbidden_message(user, a, decision):
    msg = st.forbidden_message(user.name, a.verb, a.resource, a.subresource, a.api_group, a.namespace)
    return msg + (": " + decision.reason if decision.reason else "")


def test_role_binding_allows_in_its_namespace_only_with_the_real_reason():
    store = Store(_role("Role", "pod-reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}], "dev"),
                  _binding("RoleBinding", "read-pods", "Role", "pod-reader", [{"kind": "User", "apiGroup": RBAC, "name": "jane"}], "dev"))
    az = _authz(store)
    d = az.authorize(Attributes(JANE, "list", "pods", namespace="dev"))
    assert d.allowed and d.authorizer == "RBAC"
    assert d.reason == 'RBAC: allowed by RoleBinding "read-pods/dev" of Role "pod-reader" to User "jane"'
    a = Attributes(JANE, "list", "pods", namespace="prod")
    d = az.authorize(a)
    assert not d.allowed and d.reason == ""
    assert _forbidden_message(JANE, a, d) == 'User "jane" cannot list resource "pods" in API group "" in the namespace "prod"'
    a = Attributes(JANE, "delete", "pods", namespace="dev", name="web")
    assert not az.authorize(a).allowed


def test_cluster_scope_forbidden_message_and_group_subject():
    store = Store(_role("ClusterRole", "node-reader", [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]),
                  _binding("ClusterRoleBinding", "devs-read-nodes", "ClusterRole", "node-reader",
                           [{"kind": "Group", "apiGroup": RBAC, "name": "developers"}]))
    az = _authz(store)
    d = az.authorize(Attributes(JANE, "list", "nodes"))
    assert d.reason == 'RBAC: allowed by ClusterRoleBinding "devs-read-nodes" of ClusterRole "node-reader" to Group "developers"'
    a = Attributes(JANE, "delete", "nodes", name="worker-1")
    d = az.authorize(a)
    assert not d.allowed
    assert _forbidden_message(JANE, a, d) == 'User "jane" cannot delete resource "nodes" in API group "" at the cluster scope'
    a = Attributes(JANE, "list", "deployments", namespace="dev", api_group="apps")
    assert _forbidden_message(JANE, a, az.authorize(a)) == \
        'User "jane" cannot list resource "deployments" in API group "apps" in the namespace "dev"'


def test_resource_names_subresources_and_star_subresource():
    store = Store(_role("Role", "one-cm", [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app-config"], "verbs": ["get", "update"]},
                                           {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
                                           {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["update"]}], "dev"),
                  _binding("RoleBinding", "b", "Role", "one-cm", [{"kind": "User", "apiGroup": RBAC, "name": "jane"}], "dev"))
    az = _authz(store)
    assert az.authorize(Attributes(JANE, "get", "configmaps", namespace="dev", name="app-config")).allowed
    assert not az.authorize(Attributes(JANE, "get", "configmaps", namespace="dev", name="other")).allowed
    # a list has no name: resourceNames never allow it
    assert not az.authorize(Attributes(JANE, "list", "configmaps", namespace="dev")).allowed
    assert az.authorize(Attributes(JANE, "get", "pods", "log", "dev", "web")).allowed
    assert not az.authorize(Attributes(JANE, "get", "pods", "", "dev", "web")).allowed
    a = Attributes(JANE, "get", "pods", "exec", "dev", "web")
    d = az.authorize(a)
    assert _forbidden_message(JANE, a, d) == 'User "jane" cannot get resource "pods/exec" in API group "" in the namespace "dev"'
    assert az.authorize(Attributes(JANE, "update", "deployments", "scale", "dev", "web", "apps")).allowed
    assert not az.authorize(Attributes(JANE, "update", "deployments", "", "dev", "web", "apps")).allowed


def test_service_account_subject_is_described_name_slash_namespace():
    store = Store(_role("Role", "r", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}], "dev"),
                  _binding("RoleBinding", "sa-b", "Role", "r", [{"kind": "ServiceAccount", "name": "builder"}], "dev"))
    sa = UserInfo("system:serviceaccount:dev:builder", ("system:serviceaccounts", "system:serviceaccounts:dev", "system:authenticated"), "token")
    d = _authz(store).authorize(Attributes(sa, "list", "pods", namespace="dev"))
    assert d.reason == 'RBAC: allowed by RoleBinding "sa-b/dev" of Role "r" to ServiceAccount "builder/dev"'
    other = UserInfo("system:serviceaccount:prod:builder", ("system:authenticated",), "token")
    assert not _authz(store).authorize(Attributes(other, "list", "pods", namespace="dev")).allowed


def test_non_resource_urls():
    az = _authz(Store())
    assert az.authorize(Attributes(JANE, "get", "", path="/healthz", resource_request=False)).allowed
    assert az.authorize(Attributes(ANON, "get", "", path="/version", resource_request=False)).allowed
    assert az.authorize(Attributes(JANE, "get", "", path="/apis/apps/v1", resource_request=False)).allowed  # /apis/*
    assert not az.authorize(Attributes(ANON, "get", "", path="/apis/apps/v1", resource_request=False)).allowed
    assert not az.authorize(Attributes(JANE, "get", "", path="/metrics", resource_request=False)).allowed
    assert az.authorize(Attributes(ADMIN, "get", "", path="/metrics", resource_request=False)).allowed


def test_missing_role_gives_the_rbac_error_as_reason():
    store = Store(_binding("RoleBinding", "dangling", "Role", "gone", [{"kind": "User", "apiGroup": RBAC, "name": "jane"}], "dev"),
                  bootstrap=False)
    a = Attributes(JANE, "list", "pods", namespace="dev")
    d = _authz(store).authorize(a)
    assert not d.allowed
    assert d.reason == 'RBAC: role.rbac.authorization.k8s.io "gone" not found'
    assert _forbidden_message(JANE, a, d) == ('User "jane" cannot list resource "pods" in API group "" in the namespace '
                                              '"dev": RBAC: role.rbac.authorization.k8s.io "gone" not found')


def test_default_view_edit_admin_roles_via_rolebinding():
    store = Store(_binding("RoleBinding", "jane-edit", "ClusterRole", "edit", [{"kind": "User", "apiGroup": RBAC, "name": "jane"}], "dev"),
                  _binding("RoleBinding", "bob-view", "ClusterRole", "view", [{"kind": "User", "apiGroup": RBAC, "name": "bob"}], "dev"))
    az = _authz(store)
    bob = UserInfo("bob", ("system:authenticated",), "token")
    assert az.authorize(Attributes(bob, "list", "pods", namespace="dev")).allowed
    assert az.authorize(Attributes(bob, "get", "pods", "log", "dev", "web")).allowed
    assert az.authorize(Attributes(bob, "watch", "deployments", namespace="dev", api_group="apps")).allowed
    assert not az.authorize(Attributes(bob, "get", "secrets", namespace="dev", name="s")).allowed  # view excludes secrets
    assert not az.authorize(Attributes(bob, "create", "pods", namespace="dev")).allowed
    d = az.authorize(Attributes(JANE, "create", "deployments", namespace="dev", api_group="apps"))
    assert d.reason == 'RBAC: allowed by RoleBinding "jane-edit/dev" of ClusterRole "edit" to User "jane"'
    assert az.authorize(Attributes(JANE, "get", "secrets", namespace="dev", name="s")).allowed
    assert not az.authorize(Attributes(JANE, "create", "roles", namespace="dev", api_group=RBAC)).allowed  # admin only
    roles = {r["metadata"]["name"]: r for r in bootstrap_cluster_roles()}
    assert roles["admin"]["aggregationRule"] == {"clusterRoleSelectors": [{"matchLabels": {f"{RBAC}/aggregate-to-admin": "true"}}]}
    admin_rules = roles["admin"]["rules"]
    assert all(r in admin_rules for r in roles["edit"]["rules"]) and all(r in roles["edit"]["rules"] for r in roles["view"]["rules"])
    assert roles["cluster-admin"]["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults"}


def test_admin_allowed_by_kubeadm_binding_and_system_node_has_no_subjects():
    az = _authz(Store())
    d = az.authorize(Attributes(ADMIN, "create", "pods", namespace="default"))
    assert d.reason == ('RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" '
                        'to Group "kubeadm:cluster-admins"')
    crbs = {b["metadata"]["name"]: b for b in bootstrap_cluster_role_bindings()}
    assert "subjects" not in crbs["system:node"]
    assert crbs["system:public-info-viewer"]["subjects"][1]["name"] == "system:unauthenticated"
    sched = UserInfo("system:kube-scheduler", ("system:authenticated",), "x509")
    assert az.authorize(Attributes(sched, "create", "pods", "binding", "default", "web")).allowed
    assert az.authorize(Attributes(sched, "update", "leases", "", "kube-system", "kube-scheduler", "coordination.k8s.io")).allowed
    assert not az.authorize(Attributes(sched, "update", "leases", "", "kube-system", "other", "coordination.k8s.io")).allowed
    # --use-service-account-credentials (kubeadm): each controller acts as its own service account; the
    # controller-manager's own identity may only list and watch (its shared informers), not create.
    kcm = UserInfo("system:kube-controller-manager", ("system:authenticated",), "x509")
    assert not az.authorize(Attributes(kcm, "create", "replicasets", "", "default", "", "apps")).allowed
    assert az.authorize(Attributes(kcm, "watch", "replicasets", "", "", "", "apps")).allowed
    dc = UserInfo("system:serviceaccount:kube-system:deployment-controller",
                  ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"), "token")
    d = az.authorize(Attributes(dc, "create", "replicasets", "", "default", "", "apps"))
    assert d.reason == ('RBAC: allowed by ClusterRoleBinding "system:controller:deployment-controller" of ClusterRole '
                        '"system:controller:deployment-controller" to ServiceAccount "deployment-controller/kube-system"')


def test_node_authorizer_only_for_pods_bound_to_the_node():
    az = _authz(Store(), pods={("default", "web"): "worker-1"})
    kubelet = UserInfo("system:node:worker-1", ("system:nodes", "system:authenticated"), "x509")
    d = az.authorize(Attributes(kubelet, "patch", "pods", "status", "default", "web"))
    assert d.allowed and d.authorizer == "Node"
    other = UserInfo("system:node:worker-2", ("system:nodes", "system:authenticated"), "x509")
    assert not az.authorize(Attributes(other, "patch", "pods", "status", "default", "web")).allowed


def test_ssar_allowed_and_denied():
    store = Store(_role("Role", "pod-reader", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}], "dev"),
                  _binding("RoleBinding", "read-pods", "Role", "pod-reader", [{"kind": "User", "apiGroup": RBAC, "name": "jane"}], "dev"))
    az = _authz(store)
    body = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "spec": {"resourceAttributes": {"namespace": "dev", "verb": "list", "resource": "pods"}}}
    out = self_subject_access_review(az, JANE, body)
    assert out["status"] == {"allowed": True,
                             "reason": 'RBAC: allowed by RoleBinding "read-pods/dev" of Role "pod-reader" to User "jane"'}
    assert out["spec"] == body["spec"] and out["kind"] == "SelfSubjectAccessReview"
    body["spec"]["resourceAttributes"]["verb"] = "delete"
    assert self_subject_access_review(az, JANE, body)["status"] == {"allowed": False}
    out = self_subject_access_review(az, ADMIN, {"spec": {"resourceAttributes": {"verb": "*", "resource": "*", "group": "*"}}})
    assert out["status"]["allowed"] is True
    out = self_subject_access_review(az, JANE, {"spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}})
    assert out["status"] == {"allowed": True, "reason": 'RBAC: allowed by ClusterRoleBinding "system:discovery" of '
                                                        'ClusterRole "system:discovery" to Group "system:authenticated"'}
    with pytest.raises(InvalidReview) as e:
        self_subject_access_review(az, JANE, {"spec": {}})
    assert e.value.causes[0]["field"] == "spec.resourceAttributes"
    assert "exactly one of nonResourceAttributes or resourceAttributes must be specified" in e.value.causes[0]["message"]


def test_tokens_added_to_the_authenticator():
    authn = Authenticator()
    authn.add_token("s3cret", "jane", ["developers"])
    r = authn.authenticate(Credential.bearer("s3cret"))
    assert r.ok and r.user.name == "jane" and r.user.groups == ("developers", "system:authenticated")
    assert not authn.authenticate(Credential.bearer("nope")).ok
    authn.add_service_account_token("sa-tok", "dev", "builder")
    r = authn.authenticate(Credential.bearer("sa-tok"))
    assert r.user.name == "system:serviceaccount:dev:builder"
    assert r.user.groups == ("system:serviceaccounts", "system:serviceaccounts:dev", "system:authenticated")
    r = authn.authenticate(None)
    assert r.ok and r.user.name == "system:anonymous" and r.user.groups == ("system:unauthenticated",)
