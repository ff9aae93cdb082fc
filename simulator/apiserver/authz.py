"""Authorization: the Node authorizer, then RBAC (kubeadm runs kube-apiserver with
--authorization-mode=Node,RBAC). The first authorizer with an opinion decides; when none allows, the
request is forbidden (k8s.io/apiserver/pkg/authorization/union).

RBAC (plugin/pkg/auth/authorizer/rbac/rbac.go) visits ClusterRoleBindings, then the RoleBindings of the
request's namespace; the first rule that allows wins and the reason names it, e.g.
  RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"

Kubelets (user system:node:<name>, group system:nodes) are authorized by the Node authorizer
(plugin/pkg/auth/authorizer/node/node_authorizer.go), which allows a node to read what its pods need and
to write the status of pods bound to it - not by RBAC: since v1.8 the `system:node` ClusterRoleBinding has
no subjects. Ours keeps that division; its graph of node -> pod -> secrets/configmaps is reduced to
"pods whose spec.nodeName is this node".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from .authn import UserInfo

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"


@dataclass(frozen=True)
class Attributes:
    user: UserInfo
    verb: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    api_group: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    authorizer: str  # which one decided ("Node", "RBAC"), or "" when nobody allowed
    reason: str


class NodeAuthorizer:
    NAME = "Node"
    _READ = {"get", "list", "watch"}

    def __init__(self, pod_node: Callable[[str, str], str | None]):
        self._pod_node = pod_node  # (namespace, name) -> spec.nodeName, from the API server's cache

    def authorize(self, a: Attributes) -> Decision | None:
        u = a.user
        if NODES_GROUP not in u.groups or not u.name.startswith(NODE_USER_PREFIX):
            return None  # no opinion
        node = u.name[len(NODE_USER_PREFIX):]
        if a.resource in ("pods", "services", "endpoints", "nodes", "namespaces") and a.verb in self._READ and not a.subresource:
            return Decision(True, self.NAME, "")
        if a.resource == "pods" and a.subresource == "status" and a.verb in ("get", "update", "patch"):
            if self._pod_node(a.namespace, a.name) == node:
                return Decision(True, self.NAME, "")
            return None
        if a.resource == "events" and a.verb in ("create", "update", "patch"):
            return Decision(True, self.NAME, "")
        if a.resource == "nodes" and a.name == node and a.verb in ("create", "update", "patch"):
            return Decision(True, self.NAME, "")
        if a.resource == "leases" and a.api_group == "coordination.k8s.io" and a.name == node:
            return Decision(True, self.NAME, "")
        return None


def _rule_allows(rule: dict, a: Attributes) -> bool:
    def has(values: Iterable[str], v: str) -> bool:
        values = list(values)
        return "*" in values or v in values

    res = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    if not has(rule.get("verbs", ()), a.verb):
        return False
    if not has(rule.get("apiGroups", ()), a.api_group):
        return False
    resources = rule.get("resources", ())
    if not (has(resources, res) or (a.subresource and f"*/{a.subresource}" in resources)):
        return False
    names = rule.get("resourceNames")
    return not names or a.name in names


def _describe_subject(s: dict) -> str:
    if s["kind"] == "ServiceAccount":
        return f'{s["kind"]} "{s.get("namespace", "")}/{s["name"]}"'
    return f'{s["kind"]} "{s["name"]}"'


def _applies(subject: dict, user: UserInfo, binding_ns: str) -> bool:
    kind = subject["kind"]
    if kind == "User":
        return subject["name"] == user.name
    if kind == "Group":
        return subject["name"] in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user.name == f"system:serviceaccount:{ns}:{subject['name']}"
    return False


class RBACAuthorizer:
    NAME = "RBAC"

    def __init__(self, lister: Callable[[str], list[dict]]):
        # lister(resource) -> objects of clusterroles / clusterrolebindings / roles / rolebindings
        self._list = lister

    def authorize(self, a: Attributes) -> Decision | None:
        roles = {r["metadata"]["name"]: r for r in self._list("clusterroles")}
        for b in self._list("clusterrolebindings"):
            hit = self._visit(b, a, roles, None)
            if hit:
                return Decision(True, self.NAME, f'RBAC: allowed by ClusterRoleBinding "{b["metadata"]["name"]}" of {hit}')
        if a.namespace:
            ns_roles = {r["metadata"]["name"]: r for r in self._list("roles") if r["metadata"]["namespace"] == a.namespace}
            for b in self._list("rolebindings"):
                if b["metadata"]["namespace"] != a.namespace:
                    continue
                hit = self._visit(b, a, roles, ns_roles)
                if hit:
                    return Decision(True, self.NAME,
                                    f'RBAC: allowed by RoleBinding "{b["metadata"]["name"]}/{a.namespace}" of {hit}')
        return None

    @staticmethod
    def _visit(b: dict, a: Attributes, cluster_roles: dict, ns_roles: dict | None) -> str | None:
        ref = b["roleRef"]
        role = (cluster_roles if ref["kind"] == "ClusterRole" else (ns_roles or {})).get(ref["name"])
        if role is None:
            return None
        for s in b.get("subjects") or ():
            if not _applies(s, a.user, b["metadata"].get("namespace", "")):
                continue
            if any(_rule_allows(rule, a) for rule in role.get("rules") or ()):
                return f'{ref["kind"]} "{ref["name"]}" to {_describe_subject(s)}'
        return None


class UnionAuthorizer:
    def __init__(self, *authorizers):
        self.authorizers = authorizers

    def authorize(self, a: Attributes) -> Decision:
        for az in self.authorizers:
            d = az.authorize(a)
            if d is not None:
                return d
        return Decision(False, "", "")
