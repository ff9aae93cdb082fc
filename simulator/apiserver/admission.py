"""Admission plugins for Pods, run in kube-apiserver's order: every mutating plugin (Admit) in turn,
then, after validation, every validating plugin (Validate) in turn.

Order and default set: pkg/kubeapiserver/options/plugins.go (AllOrderedPlugins, DefaultOffAdmissionPlugins):
NamespaceLifecycle, LimitRanger, ServiceAccount, ..., PodSecurity, ..., Priority, DefaultTolerationSeconds,
..., MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota.
Plugins that never touch a Pod create (DefaultStorageClass, RuntimeClass with no runtimeClassName,
the webhooks when none is registered, ...) are not shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .. import ids
from . import status as st

SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


class AdmissionError(Exception):
    def __init__(self, status: dict):
        super().__init__(status["message"])
        self.status = status


@dataclass
class Attrs:
    operation: str  # "CREATE", "UPDATE"
    resource: str
    subresource: str
    namespace: str
    name: str
    user: str


class ClusterView(Protocol):
    def get(self, key: str) -> dict | None: ...
    def list(self, prefix: str) -> list[dict]: ...


class Plugin:
    NAME = ""
    MUTATING = False
    VALIDATING = False

    def handles(self, a: Attrs) -> bool:
        return a.resource == "pods" and not a.subresource and a.operation == "CREATE"

    def admit(self, a: Attrs, pod: dict, view: ClusterView, rng) -> list[str]:
        return []

    def validate(self, a: Attrs, pod: dict, view: ClusterView) -> list[str]:
        return []


class NamespaceLifecycle(Plugin):
    """staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go (Admit only)."""
    NAME = "NamespaceLifecycle"
    MUTATING = True

    def handles(self, a: Attrs) -> bool:
        return bool(a.namespace) and a.operation == "CREATE"

    def admit(self, a, pod, view, rng):
        ns = view.get(f"/registry/namespaces/{a.namespace}")
        if ns is None:
            raise AdmissionError(st.not_found("namespaces", a.namespace))
        if ns.get("status", {}).get("phase") == "Terminating":
            raise AdmissionError(st.forbidden(a.resource, "", a.name,
                                              f"unable to create new content in namespace {a.namespace} because it is being terminated"))
        return []


class LimitRanger(Plugin):
    """plugin/pkg/admission/limitranger: applies the namespace's LimitRange defaults (Admit), checks min/max (Validate)."""
    NAME = "LimitRanger"
    MUTATING = True
    VALIDATING = True

    def admit(self, a, pod, view, rng):
        changes: list[str] = []
        for lr in view.list(f"/registry/limitranges/{a.namespace}/"):
            for limit in lr.get("spec", {}).get("limits", []):
                if limit.get("type") != "Container":
                    continue
                for i, c in enumerate(pod["spec"]["containers"]):
                    res = c.setdefault("resources", {})
                    for field, src in (("requests", "defaultRequest"), ("limits", "default")):
                        for rname, q in (limit.get(src) or {}).items():
                            if rname not in res.get(field, {}):
                                res.setdefault(field, {})[rname] = q
                                changes.append(f"spec.containers[{i}].resources.{field}.{rname}={q}")
        if changes:
            ann = pod["metadata"].setdefault("annotations", {})
            ann["kubernetes.io/limit-ranger"] = "LimitRanger plugin set: " + ", ".join(sorted({c.split("=")[0].rsplit(".", 1)[-1] for c in changes}))
        return changes


class ServiceAccount(Plugin):
    """plugin/pkg/admission/serviceaccount/admission.go: sets serviceAccountName "default" and mounts the
    projected token volume kube-api-access-<5 random chars> (token, kube-root-ca.crt, namespace)."""
    NAME = "ServiceAccount"
    MUTATING = True
    VALIDATING = True

    def admit(self, a, pod, view, rng):
        spec = pod["spec"]
        changes: list[str] = []
        if not spec.get("serviceAccountName"):
            spec["serviceAccountName"] = "default"
            changes.append("spec.serviceAccountName=default")
        sa_name = spec["serviceAccountName"]
        if view.get(f"/registry/serviceaccounts/{a.namespace}/{sa_name}") is None:
            raise AdmissionError(st.forbidden(a.resource, "", a.name,
                                              f'error looking up service account {a.namespace}/{sa_name}: serviceaccount "{sa_name}" not found'))
        # The deprecated twin field is filled when the object is converted to v1 (Convert_core_PodSpec_To_v1_PodSpec).
        spec["serviceAccount"] = sa_name
        if spec.get("automountServiceAccountToken") is False:
            return changes
        vol_name = "kube-api-access-" + ids.rand_string(rng, 5)
        spec.setdefault("volumes", []).append({
            "name": vol_name,
            "projected": {
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                ],
                "defaultMode": 420,
            },
        })
        changes.append(f"spec.volumes+={vol_name} (projected service account token)")
        for i, c in enumerate(spec["containers"]):
            c.setdefault("volumeMounts", []).append({"name": vol_name, "readOnly": True, "mountPath": SA_MOUNT_PATH})
            changes.append(f"spec.containers[{i}].volumeMounts+={SA_MOUNT_PATH}")
        return changes

    def validate(self, a, pod, view):
        return []


class PodSecurity(Plugin):
    """plugin/pkg/admission/security/podsecurity: enforces the namespace's pod-security.kubernetes.io/enforce
    level. Without that label the level is "privileged", which allows everything; the baseline and
    restricted checks are not modelled yet."""
    NAME = "PodSecurity"
    VALIDATING = True

    def validate(self, a, pod, view):
        ns = view.get(f"/registry/namespaces/{a.namespace}") or {}
        level = ns.get("metadata", {}).get("labels", {}).get("pod-security.kubernetes.io/enforce", "privileged")
        return [f"enforce={level}"]


class Priority(Plugin):
    """plugin/pkg/admission/priority/admission.go: resolves spec.priorityClassName; with none and no
    globalDefault PriorityClass, priority 0 and preemptionPolicy PreemptLowerPriority."""
    NAME = "Priority"
    MUTATING = True

    def admit(self, a, pod, view, rng):
        spec = pod["spec"]
        name = spec.get("priorityClassName")
        if name:
            pc = view.get(f"/registry/priorityclasses/{name}")
            if pc is None:
                raise AdmissionError(st.forbidden(a.resource, "", a.name, f"no PriorityClass with name {name} was found"))
            value, policy = pc["value"], pc.get("preemptionPolicy", "PreemptLowerPriority")
        else:
            default = next((pc for pc in view.list("/registry/priorityclasses/") if pc.get("globalDefault")), None)
            value = default["value"] if default else 0
            policy = default.get("preemptionPolicy", "PreemptLowerPriority") if default else "PreemptLowerPriority"
        spec["priority"] = value
        spec["preemptionPolicy"] = policy
        return [f"spec.priority={value}", f"spec.preemptionPolicy={policy}"]


class DefaultTolerationSeconds(Plugin):
    """plugin/pkg/admission/defaulttolerationseconds: tolerate not-ready and unreachable (NoExecute) for
    300 s, so a Pod is evicted five minutes after its node fails."""
    NAME = "DefaultTolerationSeconds"
    MUTATING = True

    def admit(self, a, pod, view, rng):
        tols = pod["spec"].setdefault("tolerations", [])
        changes = []
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if any(t.get("key") == key and t.get("effect") in ("NoExecute", None, "") for t in tols):
                continue
            tols.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
            changes.append(f"spec.tolerations+={key}:NoExecute for 300s")
        return changes


class ResourceQuota(Plugin):
    """staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota: charges the namespace's quotas;
    must stay last because it records usage."""
    NAME = "ResourceQuota"
    VALIDATING = True

    def validate(self, a, pod, view):
        quotas = view.list(f"/registry/resourcequotas/{a.namespace}/")
        if not quotas:
            return []
        for q in quotas:
            hard = q.get("spec", {}).get("hard", {})
            used = q.get("status", {}).get("used", {})
            if "pods" in hard and int(used.get("pods", "0")) + 1 > int(hard["pods"]):
                name = q["metadata"]["name"]
                raise AdmissionError(st.forbidden(a.resource, "", a.name,
                                                  f"exceeded quota: {name}, requested: pods=1, used: pods={used.get('pods', '0')}, limited: pods={hard['pods']}"))
        return [f"charged {len(quotas)} quota(s)"]


# In AllOrderedPlugins order.
CHAIN: tuple[Plugin, ...] = (NamespaceLifecycle(), LimitRanger(), ServiceAccount(), PodSecurity(), Priority(),
                             DefaultTolerationSeconds(), ResourceQuota())
