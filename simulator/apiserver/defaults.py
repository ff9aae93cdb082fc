"""API defaulting, applied when a request body is decoded, before admission (the generated
SetObjectDefaults_<Kind> functions, which call the hand-written SetDefaults_* of):

  pkg/apis/core/v1/defaults.go           Pod, PodSpec, Container, Probe, Volume, Service, Namespace, Node,
                                         Secret, LimitRangeItem, Endpoints, ObjectFieldSelector, ResourceList
  pkg/apis/apps/v1/defaults.go           Deployment, ReplicaSet (+ their pod templates)
  pkg/apis/scheduling/v1/defaults.go     PriorityClass
  pkg/apis/rbac/v1/defaults.go           RoleBinding, ClusterRoleBinding, Subject
  pkg/apis/discovery/v1/defaults.go      EndpointSlice ports

Every quantity is re-encoded in canonical form, as the JSON round trip through resource.Quantity does
("0.5" -> "500m"), after SetDefaults_ResourceList rounds it up to milli precision.

`set_defaults(kind, obj)` mutates obj and returns the fields it set, for the narration.
"""
from __future__ import annotations

import math
from fractions import Fraction

from .. import quantity as qty


def image_tag(image: str) -> str:
    """The tag as docker reference parsing sees it: "latest" when absent, "" for a digest reference."""
    if not image or "@" in image:
        return ""  # (an empty image does not parse: no tag)
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def default_pull_policy(image: str) -> str:
    # SetDefaults_Container: Always for ":latest" (or no tag, which means latest), else IfNotPresent.
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


class _D:
    """Collects the fields defaulted."""

    def __init__(self) -> None:
        self.changes: list[str] = []

    def default(self, obj: dict, key: str, value, path: str) -> None:
        if key not in obj or obj[key] is None or obj[key] == "":
            obj[key] = value
            shown = "{}" if value == {} else value
            self.changes.append(f"{path}={shown}")


def _resource_list(rl: dict | None) -> None:
    """SetDefaults_ResourceList: round up to milli precision; the encoding writes the canonical form."""
    if not isinstance(rl, dict):
        return
    for k, v in list(rl.items()):
        q = qty.try_parse(v)
        if q is None:
            continue  # validation reports it
        milli = Fraction(math.ceil(q.value * 1000), 1000)
        rl[k] = qty.Quantity(milli, q.format).canonical()


def _probe(d: _D, p: dict | None, path: str) -> None:
    if not isinstance(p, dict):
        return
    d.default(p, "timeoutSeconds", 1, path + ".timeoutSeconds")
    d.default(p, "periodSeconds", 10, path + ".periodSeconds")
    d.default(p, "successThreshold", 1, path + ".successThreshold")
    d.default(p, "failureThreshold", 3, path + ".failureThreshold")
    if isinstance(p.get("httpGet"), dict):  # SetDefaults_HTTPGetAction
        d.default(p["httpGet"], "path", "/", path + ".httpGet.path")
        d.default(p["httpGet"], "scheme", "HTTP", path + ".httpGet.scheme")


def _container(d: _D, c: dict, path: str) -> None:
    # SetDefaults_Container
    d.default(c, "terminationMessagePath", "/dev/termination-log", path + ".terminationMessagePath")
    d.default(c, "terminationMessagePolicy", "File", path + ".terminationMessagePolicy")
    d.default(c, "imagePullPolicy", default_pull_policy(c.get("image") or ""), path + ".imagePullPolicy")
    for j, port in enumerate(c.get("ports") or []):  # SetDefaults_ContainerPort
        if isinstance(port, dict):
            d.default(port, "protocol", "TCP", f"{path}.ports[{j}].protocol")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(d, c.get(probe), f"{path}.{probe}")
    for j, env in enumerate(c.get("env") or []):  # SetDefaults_ObjectFieldSelector
        fr = ((env or {}).get("valueFrom") or {}).get("fieldRef")
        if isinstance(fr, dict):
            d.default(fr, "apiVersion", "v1", f"{path}.env[{j}].valueFrom.fieldRef.apiVersion")
    res = c.get("resources")
    if res is None:
        c["resources"] = {}
    elif isinstance(res, dict):
        _resource_list(res.get("limits"))
        _resource_list(res.get("requests"))


def _volume(d: _D, v: dict, path: str) -> None:
    # SetDefaults_Volume: a volume with no source is an emptyDir; secret/configMap/projected/downwardAPI
    # sources get defaultMode 0644 (420).
    sources = ("hostPath", "emptyDir", "secret", "configMap", "projected", "downwardAPI", "persistentVolumeClaim",
               "nfs", "csi", "ephemeral", "iscsi", "glusterfs", "rbd", "cephfs", "flexVolume", "cinder", "fc",
               "azureFile", "azureDisk", "vsphereVolume", "quobyte", "photonPersistentDisk", "portworxVolume",
               "scaleIO", "storageos", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "flocker", "image")
    if not any(k in v for k in sources):
        v["emptyDir"] = {}
        d.changes.append(f"{path}.emptyDir={{}}")
    for src in ("secret", "configMap", "projected", "downwardAPI"):
        if isinstance(v.get(src), dict):
            d.default(v[src], "defaultMode", 420, f"{path}.{src}.defaultMode")
    if isinstance(v.get("hostPath"), dict) and "type" not in v["hostPath"]:
        v["hostPath"]["type"] = ""  # SetDefaults_HostPathVolumeSource: HostPathUnset


def _pod_spec(d: _D, spec: dict, path: str, service_links: bool = False) -> None:
    """SetDefaults_PodSpec and the per-field defaults reached from it (SetDefaults_Pod adds
    enableServiceLinks for a Pod, not for a template)."""
    d.default(spec, "restartPolicy", "Always", path + ".restartPolicy")
    d.default(spec, "terminationGracePeriodSeconds", 30, path + ".terminationGracePeriodSeconds")
    d.default(spec, "dnsPolicy", "ClusterFirst", path + ".dnsPolicy")
    d.default(spec, "securityContext", {}, path + ".securityContext")
    d.default(spec, "schedulerName", "default-scheduler", path + ".schedulerName")
    if service_links:
        d.default(spec, "enableServiceLinks", True, path + ".enableServiceLinks")
    if spec.get("hostNetwork"):
        # defaultHostNetworkPorts: with the host's network, a container port is also the host port
        for kind in ("initContainers", "containers"):
            for c in spec.get(kind) or []:
                for p in (c or {}).get("ports") or []:
                    if isinstance(p, dict) and not p.get("hostPort") and p.get("containerPort"):
                        p["hostPort"] = p["containerPort"]
    for kind in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(kind) or []):
            if isinstance(c, dict):
                _container(d, c, f"{path}.{kind}[{i}]")
    for i, v in enumerate(spec.get("volumes") or []):
        if isinstance(v, dict):
            _volume(d, v, f"{path}.volumes[{i}]")


def set_defaults_pod(pod: dict) -> list[str]:
    d = _D()
    spec = pod.setdefault("spec", {})
    # SetDefaults_Pod: a container's requests default to its limits (for each resource with a limit but
    # no request), then enableServiceLinks.
    for kind in ("initContainers", "containers"):
        for ci, c in enumerate(spec.get(kind) or []):
            if not isinstance(c, dict):
                continue
            res = c.get("resources") or {}
            limits = res.get("limits") or {}
            if limits:
                requests = res.setdefault("requests", {})
                for k, v in limits.items():
                    if k not in requests:
                        requests[k] = v
                        d.changes.append(f"spec.{kind}[{ci}].resources.requests.{k}={v}")
                c["resources"] = res
    _pod_spec(d, spec, "spec", service_links=True)
    return d.changes


def _template(d: _D, obj: dict) -> None:
    tmpl = obj.setdefault("spec", {}).setdefault("template", {})
    if isinstance(tmpl, dict):
        _pod_spec(d, tmpl.setdefault("spec", {}), "spec.template.spec")


def _deployment(obj: dict) -> list[str]:
    d = _D()
    spec = obj.setdefault("spec", {})
    d.default(spec, "replicas", 1, "spec.replicas")
    strategy = spec.setdefault("strategy", {})
    d.default(strategy, "type", "RollingUpdate", "spec.strategy.type")
    if strategy.get("type") == "RollingUpdate":
        ru = strategy.get("rollingUpdate")
        if not isinstance(ru, dict):
            ru = strategy["rollingUpdate"] = {}
        d.default(ru, "maxUnavailable", "25%", "spec.strategy.rollingUpdate.maxUnavailable")
        d.default(ru, "maxSurge", "25%", "spec.strategy.rollingUpdate.maxSurge")
    d.default(spec, "revisionHistoryLimit", 10, "spec.revisionHistoryLimit")
    d.default(spec, "progressDeadlineSeconds", 600, "spec.progressDeadlineSeconds")
    _template(d, obj)
    return d.changes


def _replicaset(obj: dict) -> list[str]:
    d = _D()
    d.default(obj.setdefault("spec", {}), "replicas", 1, "spec.replicas")
    _template(d, obj)
    return d.changes


def _service(obj: dict) -> list[str]:
    d = _D()
    spec = obj.setdefault("spec", {})
    d.default(spec, "sessionAffinity", "None", "spec.sessionAffinity")
    if spec.get("sessionAffinity") == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec.get("sessionAffinity") == "ClientIP":
        cfg = spec.setdefault("sessionAffinityConfig", {}).setdefault("clientIP", {})
        d.default(cfg, "timeoutSeconds", 10800, "spec.sessionAffinityConfig.clientIP.timeoutSeconds")
    d.default(spec, "type", "ClusterIP", "spec.type")
    for i, p in enumerate(spec.get("ports") or []):
        if not isinstance(p, dict):
            continue
        d.default(p, "protocol", "TCP", f"spec.ports[{i}].protocol")
        if p.get("targetPort") in (None, 0, "") and p.get("port") is not None:
            p["targetPort"] = p["port"]
            d.changes.append(f"spec.ports[{i}].targetPort={p['port']}")
    t = spec.get("type")
    if (t in ("NodePort", "LoadBalancer") or (t == "ClusterIP" and spec.get("externalIPs"))):
        d.default(spec, "externalTrafficPolicy", "Cluster", "spec.externalTrafficPolicy")
    if t in ("ClusterIP", "NodePort", "LoadBalancer"):
        d.default(spec, "internalTrafficPolicy", "Cluster", "spec.internalTrafficPolicy")
    if t == "LoadBalancer":
        d.default(spec, "allocateLoadBalancerNodePorts", True, "spec.allocateLoadBalancerNodePorts")
    if t != "ExternalName":
        # pkg/registry/core/service/storage/storage.go initIPFamilyFields (the registry, not the defaulter,
        # sets these; a single-stack IPv4 cluster gives every Service one IPv4 family).
        d.default(spec, "ipFamilyPolicy", "SingleStack", "spec.ipFamilyPolicy")
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = ["IPv4"]
            d.changes.append("spec.ipFamilies=[IPv4]")
    return d.changes


def _namespace(obj: dict) -> list[str]:
    d = _D()
    name = obj.get("metadata", {}).get("name", "")
    labels = obj.setdefault("metadata", {}).setdefault("labels", {})
    if name and labels.get("kubernetes.io/metadata.name") != name:
        # SetDefaults_Namespace: the immutable name label, so namespaceSelectors can select by name
        labels["kubernetes.io/metadata.name"] = name
        d.changes.append(f"metadata.labels.kubernetes.io/metadata.name={name}")
    # the namespace strategy (pkg/registry/core/namespace/strategy.go PrepareForCreate) adds the
    # "kubernetes" finalizer that the namespace controller removes after emptying the namespace
    spec = obj.setdefault("spec", {})
    if "kubernetes" not in (spec.get("finalizers") or []):
        spec["finalizers"] = list(spec.get("finalizers") or []) + ["kubernetes"]
        d.changes.append("spec.finalizers+=kubernetes")
    d.default(obj.setdefault("status", {}), "phase", "Active", "status.phase")  # SetDefaults_NamespaceStatus
    return d.changes


def _node(obj: dict) -> list[str]:
    d = _D()
    status = obj.setdefault("status", {})
    if status.get("capacity") and not status.get("allocatable"):
        # SetDefaults_NodeStatus: allocatable defaults to capacity
        status["allocatable"] = dict(status["capacity"])
        d.changes.append("status.allocatable=status.capacity")
    _resource_list(status.get("capacity"))
    _resource_list(status.get("allocatable"))
    return d.changes


def _secret(obj: dict) -> list[str]:
    d = _D()
    d.default(obj, "type", "Opaque", "type")  # SetDefaults_Secret
    return d.changes


def _priority_class(obj: dict) -> list[str]:
    d = _D()
    d.default(obj, "preemptionPolicy", "PreemptLowerPriority", "preemptionPolicy")  # SetDefaults_PriorityClass
    return d.changes


def _resource_quota(obj: dict) -> list[str]:
    spec = obj.get("spec") or {}
    _resource_list(spec.get("hard"))
    st = obj.get("status") or {}
    _resource_list(st.get("hard"))
    _resource_list(st.get("used"))
    return []


def _limit_range(obj: dict) -> list[str]:
    """SetDefaults_LimitRangeItem: for type Container, default (limit) defaults to max, defaultRequest to
    default, else to min."""
    d = _D()
    for i, item in enumerate((obj.get("spec") or {}).get("limits") or []):
        if not isinstance(item, dict):
            continue
        for f in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            _resource_list(item.get(f))
        if item.get("type") != "Container":
            continue
        default = item.setdefault("default", {}) if item.get("max") else item.get("default") or {}
        for k, v in (item.get("max") or {}).items():
            if k not in default:
                default[k] = v
                d.changes.append(f"spec.limits[{i}].default.{k}={v}")
        if default:
            item["default"] = default
        req = item.get("defaultRequest") or {}
        for k, v in default.items():
            if k not in req:
                req[k] = v
                d.changes.append(f"spec.limits[{i}].defaultRequest.{k}={v}")
        for k, v in (item.get("min") or {}).items():
            if k not in req:
                req[k] = v
                d.changes.append(f"spec.limits[{i}].defaultRequest.{k}={v}")
        if req:
            item["defaultRequest"] = req
    return d.changes


_RBAC = "rbac.authorization.k8s.io"


def _binding(obj: dict) -> list[str]:
    d = _D()
    d.default(obj.setdefault("roleRef", {}), "apiGroup", _RBAC, "roleRef.apiGroup")
    for i, s in enumerate(obj.get("subjects") or []):
        # SetDefaults_Subject: User and Group subjects belong to the RBAC API group; ServiceAccount to ""
        if isinstance(s, dict) and not s.get("apiGroup") and s.get("kind") in ("User", "Group"):
            s["apiGroup"] = _RBAC
            d.changes.append(f"subjects[{i}].apiGroup={_RBAC}")
    return d.changes


def _endpoint_slice(obj: dict) -> list[str]:
    d = _D()
    for i, p in enumerate(obj.get("ports") or []):
        if isinstance(p, dict):
            d.default(p, "protocol", "TCP", f"ports[{i}].protocol")
            if "name" not in p:
                p["name"] = ""
    return d.changes


def _endpoints(obj: dict) -> list[str]:
    d = _D()
    for i, sub in enumerate(obj.get("subsets") or []):
        for j, p in enumerate((sub or {}).get("ports") or []):
            if isinstance(p, dict):
                d.default(p, "protocol", "TCP", f"subsets[{i}].ports[{j}].protocol")
    return d.changes


_BY_KIND = {
    "Pod": set_defaults_pod,
    "Deployment": _deployment,
    "ReplicaSet": _replicaset,
    "Service": _service,
    "Namespace": _namespace,
    "Node": _node,
    "Secret": _secret,
    "PriorityClass": _priority_class,
    "ResourceQuota": _resource_quota,
    "LimitRange": _limit_range,
    "RoleBinding": _binding,
    "ClusterRoleBinding": _binding,
    "EndpointSlice": _endpoint_slice,
    "Endpoints": _endpoints,
}
# ConfigMap, Lease, Event, Role, ClusterRole, ServiceAccount: no defaulted fields in v1.31.


def set_defaults(kind: str, obj: dict) -> list[str]:
    """SetObjectDefaults_<kind>: mutates obj, returns the fields set. Unknown kinds are left alone."""
    fn = _BY_KIND.get(kind)
    if fn is None or not isinstance(obj, dict):
        return []
    return fn(obj)
