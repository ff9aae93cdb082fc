"""Discovery documents: /version, /api, /apis and each group version's APIResourceList, built from the
simulator's registry (simulator/apiserver/registry.py), as kube-apiserver serves them
(k8s.io/apiserver/pkg/endpoints/discovery). Short names and categories are the ones each resource's REST
storage declares (pkg/registry/<group>/<resource>/storage/storage.go ShortNames() and Categories())."""
from __future__ import annotations

from simulator.apiserver import registry
from simulator.cluster import K8S_COMMIT, K8S_VERSION

SHORT_NAMES = {
    "pods": ["po"], "nodes": ["no"], "namespaces": ["ns"], "services": ["svc"], "endpoints": ["ep"],
    "events": ["ev"], "configmaps": ["cm"], "serviceaccounts": ["sa"], "limitranges": ["limits"],
    "resourcequotas": ["quota"], "persistentvolumes": ["pv"], "persistentvolumeclaims": ["pvc"],
    "replicationcontrollers": ["rc"], "deployments": ["deploy"], "replicasets": ["rs"], "daemonsets": ["ds"],
    "statefulsets": ["sts"], "priorityclasses": ["pc"], "poddisruptionbudgets": ["pdb"], "ingresses": ["ing"],
}
CATEGORY_ALL = {"pods", "services", "replicationcontrollers", "deployments", "replicasets", "daemonsets",
                "statefulsets", "jobs"}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
                     "binding": ["create"], "eviction": ["create"], "finalize": ["update"],
                     "ephemeralcontainers": ["get", "patch", "update"], "log": ["get"], "exec": ["create", "get"]}
# Served here besides the registry's subresources (a simulated log; exec, for etcdctl in the etcd Pod).
EXTRA_SUBRESOURCES = {"pods": ("exec", "log")}
SUBRESOURCE_KIND = {"exec": ("", "v1", "PodExecOptions"), "scale": ("autoscaling", "v1", "Scale"), "binding": ("", "v1", "Binding"),
                    "eviction": ("policy", "v1", "Eviction")}


def version() -> dict:
    major, minor, _patch = K8S_VERSION.lstrip("v").split(".")
    return {"major": major, "minor": minor, "gitVersion": K8S_VERSION, "gitCommit": K8S_COMMIT, "gitTreeState": "clean",
            "buildDate": "2024-08-13T07:28:49Z", "goVersion": "go1.22.5", "compiler": "gc", "platform": "linux/amd64"}


# Served under a second group besides the registry's own (the same storage, converted): events.k8s.io/v1 Events.
ALIASES = {("events.k8s.io", "v1", "events"): registry.ResourceInfo("events.k8s.io", "v1", "Event", True)}


def served() -> list[tuple[str, "registry.ResourceInfo"]]:
    """(resource, info) for every group version's resources: the registry's, then the aliases."""
    return list(registry.RESOURCES.items()) + [(name, info) for (_g, _v, name), info in ALIASES.items()]


def group_versions() -> dict[str, str]:
    """group -> version, in registry order (the core group "" first)."""
    out: dict[str, str] = {}
    for _name, info in served():
        out.setdefault(info.group, info.version)
    return out


def api_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_groups() -> dict:
    groups = []
    for group, version in group_versions().items():
        if not group:
            continue
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict | None:
    version = group_versions().get(group)
    if not group or version is None:
        return None
    gv = {"groupVersion": f"{group}/{version}", "version": version}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv], "preferredVersion": gv}


def resource_list(group: str, version: str) -> dict | None:
    if group_versions().get(group) != version:
        return None
    resources = []
    for name, info in served():
        if info.group != group:
            continue
        entry = {"name": name, "singularName": info.kind.lower(), "namespaced": info.namespaced, "kind": info.kind,
                 "verbs": ["create"] if name in registry.VIRTUAL else list(VERBS)}
        if name in SHORT_NAMES:
            entry["shortNames"] = SHORT_NAMES[name]
        if name in CATEGORY_ALL:
            entry["categories"] = ["all"]
        resources.append(entry)
        for sub in info.subresources + EXTRA_SUBRESOURCES.get(name, ()):
            sub_entry = {"name": f"{name}/{sub}", "singularName": "", "namespaced": info.namespaced,
                         "kind": info.kind, "verbs": SUBRESOURCE_VERBS.get(sub, ["get"])}
            if sub in SUBRESOURCE_KIND:
                g, v, k = SUBRESOURCE_KIND[sub]
                sub_entry["kind"] = k
                if g:
                    sub_entry["group"], sub_entry["version"] = g, v
            resources.append(sub_entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources}


# -- OpenAPI v3 (/openapi/v3): enough for kubectl to find out that each kind takes `fieldValidation` on PATCH
# (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go supportsQueryParamV3), so it leaves validation to
# the server instead of downloading a schema. Object schemas are not published: kubectl falls back to the
# patch metadata compiled into it for built-in kinds.

def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_index() -> dict:
    return {"paths": {_gv_path(g, v): {"serverRelativeURL": f"/openapi/v3/{_gv_path(g, v)}?hash={K8S_VERSION}-{g or 'core'}"}
                      for g, v in group_versions().items()}}


_QUERY = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def openapi_doc(group: str, version: str) -> dict | None:
    if group_versions().get(group) != version:
        return None
    paths: dict[str, dict] = {}
    base = "/" + _gv_path(group, version)
    for name, info in served():
        if info.group != group or name in registry.VIRTUAL:
            continue
        gvk = {"group": group, "version": version, "kind": info.kind}
        item = f"{base}/namespaces/{{namespace}}/{name}/{{name}}" if info.namespaced else f"{base}/{name}/{{name}}"
        params = [{"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}} for p in _QUERY]
        paths[item] = {"patch": {"operationId": f"patch{info.kind}", "parameters": params,
                                 "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": K8S_VERSION}, "paths": paths,
            "components": {"schemas": {}}}
