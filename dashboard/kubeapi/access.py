"""Bearer tokens for the live cluster, and what each kind of user may do in it (RBAC, provisioned in the
simulated cluster itself, so `kubectl auth can-i` and every 403 come from the modelled authorizer).

- instructor: user `kubernetes-admin` in group `kubeadm:cluster-admins`, as kind's admin kubeconfig
  (bound to cluster-admin by kubeadm's kubeadm:cluster-admins ClusterRoleBinding).
- student: user `<name>` in group `dashboard:students`; a namespace `student-<name>` of their own with a Role
  that allows the workloads of the lessons (Pods and their logs, Deployments, ReplicaSets, Services,
  ConfigMaps, Events ...) but not Secrets; cluster-wide, only reading Nodes and Namespaces.
- viewer: user `<name>` in group `dashboard:viewers`: the built-in `view` ClusterRole everywhere (which
  leaves out Secrets), plus reading Nodes.

Tokens are checked against the database (only their SHA-256 is stored), again every RECHECK_S seconds, so
a replaced or deleted token stops working within that time.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import time

from asgiref.sync import sync_to_async

from simulator.apiserver.authn import Credential
from simulator.apiserver.server import Request
from simulator.cluster import ADMIN
from simulator.apiserver import registry
from simulator.trace import ref

RECHECK_S = 5.0
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")
STUDENTS, VIEWERS = "dashboard:students", "dashboard:viewers"
DASHBOARD = ref("dashboard", "dashboard")

STUDENT_RULES = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "pods/status", "services", "endpoints", "configmaps",
                                      "events", "serviceaccounts", "persistentvolumeclaims", "limitranges",
                                      "resourcequotas"], "verbs": ["*"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "deployments/scale", "deployments/status", "replicasets",
                                          "replicasets/scale", "statefulsets", "daemonsets"], "verbs": ["*"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["*"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"]},
]
CLUSTER_READ_RULES = [{"apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": ["get", "list", "watch"]}]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def identity(access) -> tuple[str, tuple[str, ...]]:
    """(user, groups) the API server sees for an access row."""
    if access.role == "instructor":
        return "kubernetes-admin", ("kubeadm:cluster-admins",)
    return access.name, (STUDENTS if access.role == "student" else VIEWERS,)


def provisioning(access) -> list[tuple[str, dict]]:
    """The objects (resource, manifest) that give this access its rights, created if missing."""
    meta = lambda name, **kw: {"name": name, "labels": {"app.kubernetes.io/managed-by": "k8s-internals-dashboard"}, **kw}
    rbac = "rbac.authorization.k8s.io/v1"
    out: list[tuple[str, dict]] = []
    if access.role in ("student", "viewer"):
        out.append(("clusterroles", {"apiVersion": rbac, "kind": "ClusterRole", "metadata": meta("dashboard:cluster-read"),
                                     "rules": CLUSTER_READ_RULES}))
        group = STUDENTS if access.role == "student" else VIEWERS
        out.append(("clusterrolebindings", {
            "apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": meta(f"{group}-cluster-read"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "dashboard:cluster-read"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]}))
    if access.role == "viewer":
        out.append(("clusterrolebindings", {
            "apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": meta("dashboard:viewers-view"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": VIEWERS}]}))
    if access.role == "student":
        ns = access.namespace
        out.append(("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns)}))
        out.append(("roles", {"apiVersion": rbac, "kind": "Role", "metadata": meta("student", namespace=ns),
                              "rules": STUDENT_RULES}))
        out.append(("rolebindings", {
            "apiVersion": rbac, "kind": "RoleBinding", "metadata": meta("student", namespace=ns),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "student"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": access.name}]}))
    return out


@sync_to_async
def _lookup(digest: str):
    from ..models import ClusterAccess

    return ClusterAccess.objects.filter(token_sha256=digest).first()


class TokenAuth:
    """The KubeApi's authenticate_hook: load a presented token into the modelled authenticator."""

    def __init__(self, kubeapi):
        self.kubeapi = kubeapi
        self.checked: dict[str, float] = {}       # token -> when the database last confirmed it
        self.provisioned: set[tuple[str, str]] = set()

    @property
    def authenticator(self):
        return self.kubeapi.live.cluster.apiserver.authenticator

    async def __call__(self, cred: Credential) -> None:
        token = cred.token
        if cred.kind != "token" or not token:
            return
        now = time.monotonic()
        if now - self.checked.get(token, -RECHECK_S) < RECHECK_S:
            return
        access = await _lookup(token_hash(token))
        if access is None:
            self.authenticator.tokens.pop(token, None)
            self.checked.pop(token, None)
            return
        await self.provision(access)
        user, groups = identity(access)
        self.authenticator.add_token(token, user, groups)
        self.checked[token] = now

    async def provision(self, access) -> None:
        key = (access.name, access.role)
        if key in self.provisioned:
            return
        for resource, manifest in provisioning(access):
            info = registry.RESOURCES[resource]
            ns = manifest["metadata"].get("namespace", "")
            req = Request("POST", registry.path(resource, ns), "create", resource, ns, manifest["metadata"]["name"],
                          api_group=info.group, body=manifest, credential=ADMIN, client=DASHBOARD)
            resp = await self.kubeapi._await(self.kubeapi.live.request(req))
            if not resp.ok and resp.code != 409:  # 409: there already
                raise RuntimeError(f"could not create {resource} {manifest['metadata']['name']}: {resp.status}")
        if access.namespace:
            # A Pod created before the serviceaccount controller has made the namespace's "default" account
            # is refused by the ServiceAccount admission plugin (403 "error looking up service account"), on a
            # real cluster too. A namespace made at the student's first request must not greet them with that.
            await self.wait_for_default_service_account(access.namespace)
        self.provisioned.add(key)

    async def wait_for_default_service_account(self, ns: str, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            req = Request("GET", registry.path("serviceaccounts", ns, "default"), "get", "serviceaccounts", ns,
                          "default", credential=ADMIN, client=DASHBOARD, quiet=True)
            if (await self.kubeapi._await(self.kubeapi.live.request(req))).ok:
                return
            await asyncio.sleep(0.1)
