"""Authorization: the Node authorizer, then RBAC (kubeadm runs kube-apiserver with
--authorization-mode=Node,RBAC). The first authorizer with an opinion decides; when none allows, the
request is forbidden (k8s.io/apiserver/pkg/authorization/union/union.go), and the reasons the authorizers
gave for having no opinion are joined into the Forbidden message.

RBAC (plugin/pkg/auth/authorizer/rbac/rbac.go, pkg/registry/rbac/validation/rule.go VisitRulesFor) visits
the ClusterRoleBindings, then the RoleBindings of the request's namespace; for each binding whose subjects
include the user it resolves the role and tries its rules; the first rule that allows wins and the reason
names it, e.g.
  RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"
  RBAC: allowed by RoleBinding "dev/team-a" of Role "pod-reader" to User "jane"
A binding that refers to a missing role contributes an error; when nothing allows, those errors become the
reason (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`).

Kubelets (user system:node:<name>, group system:nodes) are authorized by the Node authorizer
(plugin/pkg/auth/authorizer/node/node_authorizer.go), which allows a node to read what its pods need and
to write the status of pods bound to it - not by RBAC: since v1.8 the `system:node` ClusterRoleBinding has
no subjects. Ours keeps that division; its graph of node -> pod -> secrets/configmaps is reduced to
"pods whose spec.nodeName is this node".

Also here: SelfSubjectAccessReview (`kubectl auth can-i`) and the bootstrap policy (the default
ClusterRoles and ClusterRoleBindings kube-apiserver creates at start-up).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Iterable

from .authn import UserInfo

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Attributes:
    """authorizer.AttributesRecord. A non-resource request (GET /healthz) has resource_request=False and
    its URL in path."""
    user: UserInfo
    verb: str
    resource: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    api_group: str = ""
    path: str = ""
    resource_request: bool = True


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
        if not a.resource_request:
            return None
        node = u.name[len(NODE_USER_PREFIX):]
        if a.resource in ("pods", "services", "endpoints", "nodes", "namespaces") and a.verb in self._READ and not a.subresource:
            return Decision(True, self.NAME, "")
        if a.resource == "pods" and a.subresource == "status" and a.verb in ("get", "update", "patch"):
            if self._pod_node(a.namespace, a.name) == node:
                return Decision(True, self.NAME, "")
            return None
        if a.resource == "pods" and not a.subresource and a.verb == "delete":
            # a kubelet finishes the graceful deletion of its own pods
            if self._pod_node(a.namespace, a.name) == node:
                return Decision(True, self.NAME, "")
            return None
        if a.resource == "events" and a.verb in ("create", "update", "patch"):
            return Decision(True, self.NAME, "")
        if a.resource == "nodes" and a.name in (node, "") and a.verb in ("create", "update", "patch"):
            return Decision(True, self.NAME, "")
        if a.resource == "leases" and a.api_group == "coordination.k8s.io" and a.name in (node, ""):
            return Decision(True, self.NAME, "")
        return None


# ---- rule matching: pkg/apis/rbac/v1/evaluation_helpers.go ----------------------------------------------
def _has(values: Iterable[str] | None, v: str) -> bool:
    values = list(values or ())
    return "*" in values or v in values


def resource_matches(rule: dict, combined: str, subresource: str) -> bool:
    for r in rule.get("resources") or ():
        if r == "*" or r == combined:
            return True
        # "*/scale" matches every resource's scale subresource
        if subresource and r == "*/" + subresource:
            return True
    return False


def non_resource_url_matches(rule: dict, path: str) -> bool:
    for u in rule.get("nonResourceURLs") or ():
        if u == "*" or u == path:
            return True
        if u.endswith("*") and path.startswith(u.rstrip("*")):
            return True
    return False


def _allows_but_name(rule: dict, a: Attributes) -> bool:
    """RuleAllows without its resourceNames check (a non-resource request has none)."""
    if not _has(rule.get("verbs"), a.verb):
        return False
    if not a.resource_request:
        return non_resource_url_matches(rule, a.path)
    combined = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    if not _has(rule.get("apiGroups"), a.api_group):
        return False
    return resource_matches(rule, combined, a.subresource)


def rule_allows(rule: dict, a: Attributes) -> bool:
    """rbac.go RuleAllows."""
    if not _allows_but_name(rule, a):
        return False
    names = rule.get("resourceNames") if a.resource_request else None
    return not names or a.name in names


def describe_subject(s: dict, binding_ns: str) -> str:
    """rule.go describeSubject: a ServiceAccount is written name/namespace."""
    if s.get("kind") == "ServiceAccount":
        return f'{s["kind"]} "{s["name"]}/{s.get("namespace") or binding_ns}"'
    return f'{s.get("kind")} "{s.get("name")}"'


def applies_to_user(subject: dict, user: UserInfo, binding_ns: str) -> bool:
    """rule.go appliesToUser."""
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user.name
    if kind == "Group":
        return subject.get("name") in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        if not ns:
            return False
        return user.name == f"system:serviceaccount:{ns}:{subject.get('name')}"
    return False


def _label_selector_matches(sel: dict, labels: dict) -> bool:
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or ():
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def aggregated_rules(role: dict, cluster_roles: dict[str, dict]) -> list[dict]:
    """What pkg/controller/clusterroleaggregation writes into an aggregated ClusterRole: the union of the
    rules of every ClusterRole matched by its aggregationRule (in name order, duplicates dropped)."""
    agg = role.get("aggregationRule")
    if not agg:
        return list(role.get("rules") or [])
    rules: list[dict] = []
    for name in sorted(cluster_roles):
        other = cluster_roles[name]
        if other is role or name == role.get("metadata", {}).get("name"):
            continue
        labels = other.get("metadata", {}).get("labels") or {}
        if any(_label_selector_matches(sel, labels) for sel in agg.get("clusterRoleSelectors") or ()):
            for r in other.get("rules") or ():
                if r not in rules:
                    rules.append(r)
    return rules


class RBACAuthorizer:
    NAME = "RBAC"

    _CACHE_MAX = 65536

    def __init__(self, lister: Callable[[str], list[dict]]):
        # lister(resource) -> objects of clusterroles / clusterrolebindings / roles / rolebindings
        self._list = lister
        # Decisions by request attributes, valid while the four RBAC lists are unchanged: the lister hands
        # back the same list object until its resource changes (the API server memoizes it per change), so
        # the lists' identities and lengths are the generation stamp. Decisions are immutable, shared.
        self._stamp: tuple = ()
        # (attributes but the name) -> (decision, False), or (None, True) when some rule's resourceNames was
        # consulted, and then the decisions by name are in _by_name.
        self._decisions: dict[tuple, tuple[Decision | None, bool]] = {}
        self._by_name: dict[tuple, Decision | None] = {}
        self._cluster_roles: dict[str, dict] | None = None
        self._name_used = False

    def _current(self) -> None:
        ls = self._list
        a, b, c, d = ls("clusterroles"), ls("clusterrolebindings"), ls("roles"), ls("rolebindings")
        st = self._stamp
        if st and a is st[0] and b is st[1] and c is st[2] and d is st[3] and st[4] == (len(a), len(b), len(c), len(d)):
            return
        self._stamp = (a, b, c, d, (len(a), len(b), len(c), len(d)))
        self._decisions, self._by_name = {}, {}
        self._cluster_roles = None

    def authorize(self, a: Attributes) -> Decision | None:
        self._current()
        u = a.user
        key = (u.name, tuple(u.groups), a.verb, a.resource, a.subresource, a.namespace, a.api_group, a.path,
               a.resource_request)
        cache = self._decisions
        hit = cache.get(key)
        if hit is not None:
            if not hit[1]:
                return hit[0]
            d = self._by_name.get((key, a.name), self)
            if d is not self:
                return d
        # Only a rule whose verbs, groups and resources match and that lists resourceNames makes the
        # decision depend on the object's name (the reasons never name the object).
        self._name_used = False
        d = self._authorize(a)
        if len(cache) >= self._CACHE_MAX or len(self._by_name) >= self._CACHE_MAX:
            cache.clear()
            self._by_name.clear()
        if self._name_used:
            cache[key] = (None, True)
            self._by_name[(key, a.name)] = d
        else:
            cache[key] = (d, False)
        return d

    def _allows(self, rules: list[dict], a: Attributes) -> bool:
        """any(rule_allows(r, a) for r in rules), noting whether a resourceNames list was consulted."""
        for r in rules:
            if not _allows_but_name(r, a):
                continue
            names = r.get("resourceNames") if a.resource_request else None
            if not names:
                return True
            self._name_used = True
            if a.name in names:
                return True
        return False

    def _role_rules(self, ref: dict, binding_ns: str, cluster_roles: dict, ns_roles: dict) -> tuple[list[dict] | None, str]:
        """GetRoleReferenceRules: (rules, error)."""
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind == "ClusterRole":
            role = cluster_roles.get(name)
            if role is None:
                return None, f'clusterrole.rbac.authorization.k8s.io "{name}" not found'
            rules = role.get("rules") or []
            if role.get("aggregationRule") and not rules:
                rules = aggregated_rules(role, cluster_roles)
            return rules, ""
        if kind == "Role":
            role = ns_roles.get(name)
            if role is None:
                return None, f'role.rbac.authorization.k8s.io "{name}" not found'
            return role.get("rules") or [], ""
        return None, f'unsupported role reference kind: "{kind}"'

    def _authorize(self, a: Attributes) -> Decision | None:
        cluster_roles = self._cluster_roles
        if cluster_roles is None:
            cluster_roles = self._cluster_roles = {r["metadata"]["name"]: r for r in self._list("clusterroles")}
        errors: list[str] = []
        for b in self._list("clusterrolebindings"):
            subject = next((s for s in b.get("subjects") or () if applies_to_user(s, a.user, "")), None)
            if subject is None:
                continue
            rules, err = self._role_rules(b.get("roleRef") or {}, "", cluster_roles, {})
            if rules is None:
                errors.append(err)
                continue
            if self._allows(rules, a):
                ref = b["roleRef"]
                return Decision(True, self.NAME, f'RBAC: allowed by ClusterRoleBinding "{b["metadata"]["name"]}" of '
                                                 f'{ref["kind"]} "{ref["name"]}" to {describe_subject(subject, "")}')
        if a.namespace:
            ns_roles = {r["metadata"]["name"]: r for r in self._list("roles") if r["metadata"].get("namespace") == a.namespace}
            for b in self._list("rolebindings"):
                ns = b["metadata"].get("namespace", "")
                if ns != a.namespace:
                    continue
                subject = next((s for s in b.get("subjects") or () if applies_to_user(s, a.user, ns)), None)
                if subject is None:
                    continue
                rules, err = self._role_rules(b.get("roleRef") or {}, ns, cluster_roles, ns_roles)
                if rules is None:
                    errors.append(err)
                    continue
                if self._allows(rules, a):
                    ref = b["roleRef"]
                    return Decision(True, self.NAME, f'RBAC: allowed by RoleBinding "{b["metadata"]["name"]}/{ns}" of '
                                                     f'{ref["kind"]} "{ref["name"]}" to {describe_subject(subject, ns)}')
        if errors:
            # utilerrors.NewAggregate: one error as is, several in brackets
            msg = errors[0] if len(errors) == 1 else "[" + ", ".join(dict.fromkeys(errors)) + "]"
            return NoOpinion(False, "", "RBAC: " + msg)
        return None


class NoOpinion(Decision):
    """authorizer.DecisionNoOpinion with a reason (RBAC's resolution errors): the union authorizer keeps
    looking, and joins the reasons if nobody allows."""


class UnionAuthorizer:
    def __init__(self, *authorizers):
        self.authorizers = authorizers

    def authorize(self, a: Attributes) -> Decision:
        reasons: list[str] = []
        for az in self.authorizers:
            d = az.authorize(a)
            if d is None:
                continue
            if isinstance(d, NoOpinion):
                reasons.append(d.reason)
                continue
            return d
        return Decision(False, "", "\n".join(reasons))


class InvalidReview(ValueError):
    """The review's spec is invalid: the server answers 422 with these causes
    (status.invalid("SelfSubjectAccessReview", "", causes))."""

    def __init__(self, causes: list[dict]):
        super().__init__(causes[0]["field"] + ": " + causes[0]["message"])
        self.causes = causes


# ---- SelfSubjectAccessReview: pkg/registry/authorization/selfsubjectaccessreview/rest.go -----------------
def self_subject_access_review(authorizer, user: UserInfo, body: dict) -> dict:
    """Answer a SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE`): the object comes back with
    status {allowed, reason?, denied?}. Raises ValueError with the validation message when the spec names
    neither or both of resourceAttributes and nonResourceAttributes (the server answers 422)."""
    spec = (body or {}).get("spec") or {}
    ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (ra is None) == (nra is None):
        # pkg/apis/authorization/validation ValidateSelfSubjectAccessReviewSpec
        if ra is None:
            cause = {"reason": "FieldValueInvalid", "field": "spec.resourceAttributes",
                     "message": 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified'}
        else:
            cause = {"reason": "FieldValueInvalid", "field": "spec.nonResourceAttributes",
                     "message": f'Invalid value: authorization.NonResourceAttributes{{Path:"{nra.get("path", "")}", '
                                f'Verb:"{nra.get("verb", "")}"}}: cannot be specified in combination with resourceAttributes'}
        raise InvalidReview([cause])
    if ra is not None:
        attrs = Attributes(user, ra.get("verb", ""), ra.get("resource", ""), ra.get("subresource", ""),
                           ra.get("namespace", ""), ra.get("name", ""), ra.get("group", ""))
    else:
        attrs = Attributes(user, nra.get("verb", ""), "", path=nra.get("path", ""), resource_request=False)
    d = authorizer.authorize(attrs)
    out = copy.deepcopy(body)
    out.setdefault("kind", "SelfSubjectAccessReview")
    out.setdefault("apiVersion", "authorization.k8s.io/v1")
    out.setdefault("metadata", {})
    out.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    status: dict = {"allowed": bool(d.allowed)}
    if d.reason:
        status["reason"] = d.reason
    out["status"] = status
    return out


def can_i(authorizer, user: UserInfo, verb: str, resource: str, namespace: str = "", name: str = "",
          group: str = "", subresource: str = "") -> bool:
    return authorizer.authorize(Attributes(user, verb, resource, subresource, namespace, name, group)).allowed


# ---- bootstrap policy: plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go (v1.31) -----------------
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
READ_WRITE = READ + WRITE  # the "edit" verbs on a resource


def _rule(verbs, groups, resources, names=None) -> dict:
    r = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        r["resourceNames"] = list(names)
    return r


def _nonres(verbs, urls) -> dict:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


def _events_rule() -> dict:
    return _rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"])


_AGG_VIEW_RULES = [
    _rule(READ, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                      "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]),
    _rule(READ, [""], ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
                      "namespaces/status", "replicationcontrollers/status", "pods/log"]),
    # read access to namespaces at the namespace scope means you can read *this* namespace
    _rule(READ, [""], ["namespaces"]),
    _rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
    _rule(READ, ["apps"], ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets",
                          "daemonsets/status", "deployments", "deployments/status", "deployments/scale", "replicasets",
                          "replicasets/status", "replicasets/scale"]),
    _rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    _rule(READ, ["batch"], ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
    _rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    _rule(READ, ["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"]),
]
_AGG_EDIT_RULES = [
    # can't use ReadWrite on pods/exec etc.: they are create-only subresources; edit gets them all the same
    _rule(["impersonate"], [""], ["serviceaccounts"]),
    _rule(WRITE, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
    _rule(["create"], [""], ["pods/eviction"]),
    _rule(WRITE, [""], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                       "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"]),
    _rule(["create"], [""], ["serviceaccounts/token"]),
    _rule(WRITE, ["apps"], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale",
                           "deployments/rollback", "replicasets", "replicasets/scale"]),
    _rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
    _rule(WRITE, ["batch"], ["jobs", "cronjobs"]),
    _rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
    _rule(WRITE, ["networking.k8s.io"], ["networkpolicies", "ingresses"]),
    _rule(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], ["coordination.k8s.io"], ["leases"]),
    _rule(READ, [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
]
_AGG_ADMIN_RULES = [
    _rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
    _rule(READ_WRITE, [RBAC_GROUP], ["rolebindings", "roles"]),
]


def _controller_roles() -> dict[str, list[dict]]:
    """The controllers this simulator runs (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/controller_policy.go)."""
    return {
        "system:controller:deployment-controller": [
            _rule(["get", "list", "watch", "update"], ["apps", "extensions"], ["deployments"]),
            _rule(["update"], ["apps", "extensions"], ["deployments/finalizers", "deployments/status"]),
            _rule(["create", "delete", "get", "list", "patch", "update", "watch"], ["apps", "extensions"], ["replicasets"]),
            _rule(["get", "list", "watch", "update"], [""], ["pods"]),
            _events_rule(),
        ],
        "system:controller:replicaset-controller": [
            _rule(["get", "list", "watch", "update"], ["apps", "extensions"], ["replicasets"]),
            _rule(["update"], ["apps", "extensions"], ["replicasets/status", "replicasets/finalizers"]),
            _rule(["list", "watch", "patch", "create", "delete"], [""], ["pods"]),
            _events_rule(),
        ],
        "system:controller:endpoint-controller": [
            _rule(["get", "list", "watch"], [""], ["services", "pods"]),
            _rule(["get", "list", "create", "update", "delete"], [""], ["endpoints"]),
            _rule(["create"], [""], ["endpoints/restricted"]),
            _events_rule(),
        ],
        "system:controller:endpointslice-controller": [
            _rule(["get", "list", "watch"], [""], ["services", "pods", "nodes"]),
            _rule(["update"], [""], ["services/finalizers"]),
            _rule(["create", "delete", "get", "list", "update"], ["discovery.k8s.io"], ["endpointslices"]),
            _events_rule(),
        ],
        "system:controller:namespace-controller": [
            _rule(["get", "list", "watch", "delete"], [""], ["namespaces"]),
            _rule(["update"], [""], ["namespaces/finalize", "namespaces/status"]),
            _rule(["get", "list", "delete", "deletecollection"], ["*"], ["*"]),
        ],
        "system:controller:node-controller": [
            _rule(["get", "list", "update", "delete", "patch"], [""], ["nodes"]),
            _rule(["patch", "update"], [""], ["nodes/status"]),
            _rule(["patch", "update"], [""], ["pods/status"]),
            _rule(["list", "delete"], [""], ["pods"]),
            _rule(["get"], [""], ["pods"]),
            _events_rule(),
        ],
        "system:controller:resourcequota-controller": [
            _rule(["list", "watch"], ["*"], ["*"]),
            _rule(["update"], [""], ["resourcequotas/status"]),
            _events_rule(),
        ],
        "system:controller:pod-garbage-collector": [
            _rule(["list", "watch", "delete"], [""], ["pods"]),
            _rule(["get", "list"], [""], ["nodes"]),
            _rule(["patch"], [""], ["pods/status"]),
        ],
        "system:controller:generic-garbage-collector": [
            _rule(["get", "list", "watch", "patch", "update", "delete"], ["*"], ["*"]),
        ],
        "system:controller:service-account-controller": [
            _rule(["create"], [""], ["serviceaccounts"]),
            _events_rule(),
        ],
        "system:controller:root-ca-cert-publisher": [
            _rule(["create", "update"], [""], ["configmaps"]),
            _events_rule(),
        ],
    }


def bootstrap_cluster_roles() -> list[dict]:
    """The default ClusterRoles (policy.go ClusterRoles + controller_policy.go), as stored: every one labelled
    kubernetes.io/bootstrapping=rbac-defaults, the aggregated ones (admin, edit, view) with their
    aggregationRule and the rules the aggregation controller fills in."""
    agg_label = lambda *names: {f"rbac.authorization.k8s.io/aggregate-to-{n}": "true" for n in names}
    roles: list[tuple[str, list[dict], dict, dict | None]] = [
        ("cluster-admin", [_rule(["*"], ["*"], ["*"]), _nonres(["*"], ["*"])], {}, None),
        ("system:discovery", [_nonres(["get"], ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                                                 "/openapi/*", "/readyz", "/version", "/version/"])], {}, None),
        ("system:monitoring", [_nonres(["get"], ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis",
                                                  "/readyz", "/readyz/*"])], {}, None),
        ("system:basic-user", [_rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                               _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])], {}, None),
        ("system:public-info-viewer", [_nonres(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"])], {}, None),
        ("system:aggregate-to-view", _AGG_VIEW_RULES, agg_label("view", "edit"), None),
        ("system:aggregate-to-edit", _AGG_EDIT_RULES, agg_label("edit", "admin"), None),
        ("system:aggregate-to-admin", _AGG_ADMIN_RULES, agg_label("admin"), None),
        ("view", [], agg_label("edit"), {"clusterRoleSelectors": [{"matchLabels": agg_label("view")}]}),
        ("edit", [], agg_label("admin"), {"clusterRoleSelectors": [{"matchLabels": agg_label("edit")}]}),
        ("admin", [], {}, {"clusterRoleSelectors": [{"matchLabels": agg_label("admin")}]}),
        ("system:node", [
            _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
            _rule(READ, [""], ["services"]),
            _rule(["create", "get", "list", "watch"], [""], ["nodes"]),
            _rule(["update", "patch"], [""], ["nodes/status"]),
            _rule(["update", "patch"], [""], ["nodes"]),
            _rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"]),
            _rule(READ, [""], ["pods"]),
            _rule(["create", "delete"], [""], ["pods"]),
            _rule(["update", "patch"], [""], ["pods/status"]),
            _rule(["create"], [""], ["pods/eviction"]),
            _rule(["get"], [""], ["secrets", "configmaps"]),
            _rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
            _rule(["get"], [""], ["endpoints"]),
            _rule(["create", "delete", "get", "patch", "update"], ["coordination.k8s.io"], ["leases"]),
        ], {}, None),
        ("system:node-proxier", [
            _rule(["list", "watch"], [""], ["services", "endpoints"]),
            _rule(["get", "list", "watch"], [""], ["nodes"]),
            _events_rule(),
            _rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
        ], {}, None),
        ("system:kube-scheduler", [
            _events_rule(),
            _rule(["create"], ["coordination.k8s.io"], ["leases"]),
            _rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
            _rule(["create"], [""], ["endpoints"]),
            _rule(["get", "update"], [""], ["endpoints"], ["kube-scheduler"]),
            _rule(READ, [""], ["nodes"]),
            _rule(["delete", "get", "list", "watch"], [""], ["pods"]),
            _rule(["create"], [""], ["bindings", "pods/binding"]),
            _rule(["patch", "update"], [""], ["pods/status"]),
            _rule(READ, [""], ["replicationcontrollers", "services"]),
            _rule(READ, ["apps", "extensions"], ["replicasets"]),
            _rule(READ, ["apps"], ["statefulsets"]),
            _rule(READ, ["policy"], ["poddisruptionbudgets"]),
            _rule(READ, [""], ["persistentvolumeclaims", "persistentvolumes"]),
            _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            _rule(READ, ["storage.k8s.io"], ["csinodes"]),
            _rule(READ, [""], ["namespaces"]),
            _rule(READ, ["storage.k8s.io"], ["csidrivers"]),
            _rule(READ, ["storage.k8s.io"], ["csistoragecapacities"]),
        ], {}, None),
        ("system:kube-controller-manager", [
            _events_rule(),
            _rule(["create"], ["coordination.k8s.io"], ["leases"]),
            _rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-controller-manager"]),
            _rule(["create"], [""], ["secrets", "serviceaccounts"]),
            _rule(["delete"], [""], ["secrets"]),
            _rule(["get"], [""], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            _rule(["update"], [""], ["secrets", "serviceaccounts"]),
            _rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            _rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            _rule(["list", "watch"], ["*"], ["*"]),
            _rule(["create"], [""], ["serviceaccounts/token"]),
        ], {}, None),
    ]
    roles += [(name, rules, {}, None) for name, rules in _controller_roles().items()]
    out = []
    for name, rules, labels, agg in roles:
        obj: dict = {"kind": "ClusterRole", "apiVersion": f"{RBAC_GROUP}/v1",
                     "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **labels},
                                  "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}}
        if agg:
            obj["aggregationRule"] = agg
        obj["rules"] = copy.deepcopy(rules)
        out.append(obj)
    by_name = {r["metadata"]["name"]: r for r in out}
    for r in out:  # what the clusterrole-aggregation controller writes a moment after start-up
        if r.get("aggregationRule"):
            r["rules"] = aggregated_rules(r, by_name)
    return out


def bootstrap_cluster_role_bindings(single_controller_identity: bool = False, kubeadm: bool = True) -> list[dict]:
    """The default ClusterRoleBindings (policy.go ClusterRoleBindings, controller_policy.go; kubeadm adds
    kubeadm:cluster-admins). Upstream each controller runs as its own service account
    (kube-controller-manager --use-service-account-credentials); with single_controller_identity the
    simulator's one controller-manager user is added to each controller binding as well."""
    grp = lambda n: {"kind": "Group", "apiGroup": RBAC_GROUP, "name": n}
    usr = lambda n: {"kind": "User", "apiGroup": RBAC_GROUP, "name": n}
    sa = lambda ns, n: {"kind": "ServiceAccount", "name": n, "namespace": ns}
    bindings: list[tuple[str, str, list[dict] | None]] = [
        ("cluster-admin", "cluster-admin", [grp("system:masters")]),
        ("system:discovery", "system:discovery", [grp("system:authenticated")]),
        ("system:monitoring", "system:monitoring", [grp("system:monitoring")]),
        ("system:basic-user", "system:basic-user", [grp("system:authenticated")]),
        ("system:public-info-viewer", "system:public-info-viewer", [grp("system:authenticated"), grp("system:unauthenticated")]),
        ("system:node", "system:node", None),  # no subjects since v1.8: the Node authorizer does this job
        ("system:node-proxier", "system:node-proxier", [usr("system:kube-proxy")]),
        ("system:kube-controller-manager", "system:kube-controller-manager", [usr("system:kube-controller-manager")]),
        ("system:kube-scheduler", "system:kube-scheduler", [usr("system:kube-scheduler")]),
    ]
    if kubeadm:
        # kubeadm (v1.29+) binds the admin kubeconfig's group instead of using system:masters.
        bindings.insert(0, ("kubeadm:cluster-admins", "cluster-admin", [grp("kubeadm:cluster-admins")]))
    for role in _controller_roles():
        short = role.split(":")[-1]
        subjects = [sa("kube-system", short)]
        if single_controller_identity:
            subjects.append(usr("system:kube-controller-manager"))
        bindings.append((role, role, subjects))
    out = []
    for name, role, subjects in bindings:
        b: dict = {"kind": "ClusterRoleBinding", "apiVersion": f"{RBAC_GROUP}/v1",
                   "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                                "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
                   "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role}}
        if name.startswith("kubeadm:"):
            b["metadata"] = {"name": name}
        if subjects:
            b["subjects"] = subjects
        out.append(b)
    return out
