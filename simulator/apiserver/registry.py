"""The resources the API server serves, and where their objects live in etcd.

Keys are Kubernetes' layout, /registry/<prefix>/[<namespace>/]<name>. The prefix is the resource's plural
name except for the few compiled into kube-apiserver (pkg/kubeapiserver/default_storage_factory_builder.go,
SpecialDefaultResourcePrefixes): nodes are still stored under "minions", Services under "services/specs",
Endpoints under "services/endpoints", ReplicationControllers under "controllers", Ingresses under "ingress".
Resources of different groups share one key space (events and events.k8s.io events are one resource,
AddCohabitatingResources in the same file).
"""
from __future__ import annotations

from typing import NamedTuple


class ResourceInfo(NamedTuple):
    group: str
    version: str
    kind: str
    namespaced: bool
    # What the generic store does for this resource (the strategy's answers in pkg/registry/<group>/<res>):
    subresources: tuple[str, ...] = ()     # "status", "scale", "binding", "eviction"
    generation: bool = False               # PrepareForCreate sets metadata.generation=1, spec changes bump it
    create_on_update: bool = False         # AllowCreateOnUpdate(): a PUT of a missing object creates it
    return_deleted: bool = False           # Store.ReturnDeletedObject: DELETE answers with the object, not a Status
    graceful: bool = False                 # CheckGracefulDelete (pods): deletion waits for the grace period
    prefix: str = ""                       # the etcd key prefix when not the plural name

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


_S = ("status",)
RESOURCES: dict[str, ResourceInfo] = {
    # core/v1 (pkg/registry/core/*/storage/storage.go)
    "pods": ResourceInfo("", "v1", "Pod", True, ("status", "binding", "eviction", "ephemeralcontainers"),
                         return_deleted=True, graceful=True),
    "nodes": ResourceInfo("", "v1", "Node", False, _S, prefix="minions"),
    "namespaces": ResourceInfo("", "v1", "Namespace", False, ("status", "finalize"), return_deleted=True),
    "services": ResourceInfo("", "v1", "Service", True, _S, return_deleted=True, prefix="services/specs"),
    "endpoints": ResourceInfo("", "v1", "Endpoints", True, create_on_update=True, prefix="services/endpoints"),
    "events": ResourceInfo("", "v1", "Event", True, create_on_update=True),
    "configmaps": ResourceInfo("", "v1", "ConfigMap", True),
    "secrets": ResourceInfo("", "v1", "Secret", True),
    "serviceaccounts": ResourceInfo("", "v1", "ServiceAccount", True, return_deleted=True),
    "limitranges": ResourceInfo("", "v1", "LimitRange", True, create_on_update=True),
    "resourcequotas": ResourceInfo("", "v1", "ResourceQuota", True, _S),
    "persistentvolumes": ResourceInfo("", "v1", "PersistentVolume", False, _S),
    "persistentvolumeclaims": ResourceInfo("", "v1", "PersistentVolumeClaim", True, _S),
    "replicationcontrollers": ResourceInfo("", "v1", "ReplicationController", True, ("status", "scale"),
                                           generation=True, prefix="controllers"),
    # apps/v1 (pkg/registry/apps/*)
    "deployments": ResourceInfo("apps", "v1", "Deployment", True, ("status", "scale"), generation=True),
    "replicasets": ResourceInfo("apps", "v1", "ReplicaSet", True, ("status", "scale"), generation=True),
    "daemonsets": ResourceInfo("apps", "v1", "DaemonSet", True, _S, generation=True),
    "statefulsets": ResourceInfo("apps", "v1", "StatefulSet", True, ("status", "scale"), generation=True),
    # other groups
    "endpointslices": ResourceInfo("discovery.k8s.io", "v1", "EndpointSlice", True, generation=True),
    "leases": ResourceInfo("coordination.k8s.io", "v1", "Lease", True, create_on_update=True),
    "roles": ResourceInfo("rbac.authorization.k8s.io", "v1", "Role", True),
    "rolebindings": ResourceInfo("rbac.authorization.k8s.io", "v1", "RoleBinding", True),
    "clusterroles": ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRole", False),
    "clusterrolebindings": ResourceInfo("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", False),
    "priorityclasses": ResourceInfo("scheduling.k8s.io", "v1", "PriorityClass", False),
    "poddisruptionbudgets": ResourceInfo("policy", "v1", "PodDisruptionBudget", True, _S, generation=True),
    "jobs": ResourceInfo("batch", "v1", "Job", True, _S, generation=True),
    "ingresses": ResourceInfo("networking.k8s.io", "v1", "Ingress", True, _S, generation=True, prefix="ingress"),
    # Virtual resources: created, answered, never stored (pkg/registry/authorization/selfsubjectaccessreview).
    "selfsubjectaccessreviews": ResourceInfo("authorization.k8s.io", "v1", "SelfSubjectAccessReview", False),
}
VIRTUAL = frozenset({"selfsubjectaccessreviews"})

CLUSTER_SCOPED = frozenset(r for r, i in RESOURCES.items() if not i.namespaced)
_PREFIX = {r: i.prefix for r, i in RESOURCES.items() if i.prefix}
_BY_PREFIX = {i.prefix or r: r for r, i in RESOURCES.items()}
KIND_TO_RESOURCE = {i.kind: r for r, i in RESOURCES.items()}


def info(resource: str) -> ResourceInfo | None:
    return RESOURCES.get(resource)


def qualified(resource: str) -> str:
    """schema.GroupResource.String(): "pods", "deployments.apps" - what error messages name."""
    i = RESOURCES.get(resource)
    return f"{resource}.{i.group}" if i and i.group else resource


def prefix(resource: str, namespace: str = "") -> str:
    base = "/registry/" + _PREFIX.get(resource, resource) + "/"
    return base + (namespace + "/" if namespace and resource not in CLUSTER_SCOPED else "")


def key(resource: str, namespace: str, name: str) -> str:
    return prefix(resource, namespace) + name


def resource_of(k: str) -> str:
    parts = k.split("/", 4)
    if len(parts) < 3:
        return ""
    if parts[2] == "services" and len(parts) > 3:
        return "services" if parts[3] == "specs" else "endpoints"
    return _BY_PREFIX.get(parts[2], parts[2])


def split_key(k: str) -> tuple[str, str, str]:
    """(resource, namespace, name) of a key."""
    resource = resource_of(k)
    rest = k[len(prefix(resource)):]
    if "/" in rest:
        ns, name = rest.split("/", 1)
        return resource, ns, name
    return resource, "", rest


def path(resource: str, namespace: str = "", name: str = "", subresource: str = "") -> str:
    """The REST path: /api/v1/... for the core group, /apis/<group>/<version>/... for the others."""
    i = RESOURCES[resource]
    p = f"/apis/{i.group}/{i.version}" if i.group else f"/api/{i.version}"
    if i.namespaced and namespace:
        p += f"/namespaces/{namespace}"
    p += f"/{resource}"
    if name:
        p += f"/{name}"
    if subresource:
        p += f"/{subresource}"
    return p


def objref(obj: dict) -> dict:
    m = obj.get("metadata", {})
    ref = {"kind": obj.get("kind", "")}
    if m.get("namespace"):
        ref["namespace"] = m["namespace"]
    ref["name"] = m.get("name", "")
    if m.get("uid"):
        ref["uid"] = m["uid"]
    return ref
