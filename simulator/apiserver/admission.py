"""Admission plugins, run in kube-apiserver's order: every mutating plugin (Admit) in turn, then, after
validation, every validating plugin (Validate) in turn.

Order: pkg/kubeapiserver/options/plugins.go AllOrderedPlugins; default set: DefaultOffAdmissionPlugins
(everything not listed there is on). Of the v1.31 defaults, in order:
  NamespaceLifecycle, LimitRanger, ServiceAccount, [TaintNodesByCondition], PodSecurity, Priority,
  DefaultTolerationSeconds, [DefaultStorageClass, StorageObjectInUseProtection, PersistentVolumeClaimResize,
  RuntimeClass, CertificateApproval, CertificateSigning, ClusterTrustBundleAttest,
  CertificateSubjectRestriction, DefaultIngressClass, MutatingAdmissionWebhook, ValidatingAdmissionPolicy,
  ValidatingAdmissionWebhook], ResourceQuota.
The bracketed ones never act on the objects this model serves (no PVCs, CSRs, RuntimeClasses, Ingresses,
no webhooks registered) and are not shown. TaintNodesByCondition (a new Node gets the
node.kubernetes.io/not-ready:NoSchedule taint until the node lifecycle controller sees it Ready) is
implemented but left out of CHAIN: the `apply` CLI promises nodes "with no implicit taints".

Every plugin says through handles(a) whether the request concerns it (the admission.Handler's operations
plus the resource checks at the top of its Admit/Validate). A plugin refuses a request by raising
AdmissionError with the Status kube-apiserver answers (admission.NewForbidden: 403
`<resource> "<name>" is forbidden: <reason>`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .. import ids
from .. import quantity as qty
from . import registry
from . import status as st

SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


class AdmissionError(Exception):
    def __init__(self, status: dict):
        super().__init__(status["message"])
        self.status = status


@dataclass
class Attrs:
    operation: str  # "CREATE", "UPDATE", "DELETE", "CONNECT"
    resource: str
    subresource: str
    namespace: str
    name: str
    user: object  # the user name (or a UserInfo)
    kind: str = ""
    old: dict | None = None
    writes: list = field(default_factory=list)
    # Warnings for the client (the `Warning:` lines kubectl prints; the Warning HTTP header), e.g.
    # PodSecurity's `would violate PodSecurity "restricted:latest": ...`.
    warnings: list = field(default_factory=list)
    group: str = ""
    # Annotations a plugin adds to the request's audit event, with its prefix (PodSecurity's
    # pod-security.kubernetes.io/enforce-policy and /audit-violations: pod-security-admission/api/constants.go).
    annotations: dict = field(default_factory=dict)


class ClusterView(Protocol):
    def get(self, key: str) -> dict | None: ...
    def list(self, prefix: str) -> list[dict]: ...


_POD_WORKLOADS = {"deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
                  "replicationcontrollers", "podtemplates"}
_NAMESPACED_FALLBACK_GROUP = {"deployments": "apps", "replicasets": "apps", "statefulsets": "apps", "daemonsets": "apps",
                              "endpointslices": "discovery.k8s.io", "leases": "coordination.k8s.io",
                              "roles": "rbac.authorization.k8s.io", "rolebindings": "rbac.authorization.k8s.io",
                              "clusterroles": "rbac.authorization.k8s.io", "clusterrolebindings": "rbac.authorization.k8s.io",
                              "priorityclasses": "scheduling.k8s.io", "jobs": "batch", "cronjobs": "batch"}


def _group(a: Attrs) -> str:
    if a.group:
        return a.group
    info = getattr(registry, "RESOURCES", {}).get(a.resource)
    if info is not None:
        return info.group
    return _NAMESPACED_FALLBACK_GROUP.get(a.resource, "")


def _ns_key(ns: str) -> str:
    return registry.key("namespaces", "", ns)


def forbidden(a: Attrs, obj: dict | None, reason: str) -> AdmissionError:
    """admission.NewForbidden(a, err): the name is the request's, else the object's name or generateName,
    else "Unknown" (extractResourceName)."""
    name = a.name
    if not name:
        meta = (obj or {}).get("metadata") or {}
        name = meta.get("name") or meta.get("generateName") or "Unknown"
    return AdmissionError(st.forbidden(a.resource, _group(a), name, reason))


class Plugin:
    NAME = ""
    MUTATING = False
    VALIDATING = False

    def handles(self, a: Attrs) -> bool:
        return a.resource == "pods" and not a.subresource and a.operation == "CREATE"

    def admit(self, a: Attrs, obj: dict, view: ClusterView, rng) -> list[str]:
        return []

    def validate(self, a: Attrs, obj: dict, view: ClusterView) -> list[str]:
        return []


# ---- NamespaceLifecycle ----------------------------------------------------------------------------------
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


class NamespaceLifecycle(Plugin):
    """staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go (Admit):
    the immortal namespaces cannot be deleted; nothing can be created or updated in a namespace that does
    not exist (404); nothing can be created in a namespace being terminated (403). Deletes of namespaced
    objects, cluster-scoped objects and access reviews always pass."""
    NAME = "NamespaceLifecycle"
    MUTATING = True

    def handles(self, a: Attrs) -> bool:
        if a.resource == "namespaces":
            return a.operation == "DELETE" and a.name in IMMORTAL_NAMESPACES
        if not a.namespace or a.operation not in ("CREATE", "UPDATE"):
            return False
        return a.resource not in ("localsubjectaccessreviews",)

    def admit(self, a, obj, view, rng):
        if a.resource == "namespaces":
            raise AdmissionError(st.forbidden("namespaces", "", a.name, "this namespace may not be deleted"))
        ns = view.get_shared(_ns_key(a.namespace))
        if ns is None:
            raise AdmissionError(st.not_found("namespaces", a.namespace))
        if a.operation == "CREATE" and (ns.get("status") or {}).get("phase") == "Terminating":
            err = forbidden(a, obj, f"unable to create new content in namespace {a.namespace} because it is being terminated")
            err.status.setdefault("details", {}).setdefault("causes", []).append(
                {"reason": "NamespaceTerminating", "message": f"namespace {a.namespace} is being terminated",
                 "field": "metadata.namespace"})
            raise err
        return []


# ---- LimitRanger -----------------------------------------------------------------------------------------
def _q(v) -> qty.Quantity | None:
    return qty.try_parse(v)


def _pod_requests_limits(spec: dict) -> tuple[dict, dict]:
    """resourcehelper.PodRequests / PodLimits (k8s.io/component-helpers/resource): the sum over the app
    containers, raised to the largest init container, plus the pod overhead."""
    out = []
    for field_name in ("requests", "limits"):
        total: dict[str, qty.Quantity] = {}
        for c in spec.get("containers") or []:
            for k, v in (((c or {}).get("resources") or {}).get(field_name) or {}).items():
                q = _q(v)
                if q is not None:
                    total[k] = total[k] + q if k in total else q
        for c in spec.get("initContainers") or []:
            for k, v in (((c or {}).get("resources") or {}).get(field_name) or {}).items():
                q = _q(v)
                if q is not None and (k not in total or q > total[k]):
                    total[k] = q
        for k, v in (spec.get("overhead") or {}).items():
            q = _q(v)
            if q is not None:
                total[k] = total[k] + q if k in total else q
        out.append(total)
    return out[0], out[1]


def _min_constraint(limit_type: str, rname: str, enforced: qty.Quantity, req: dict, lim: dict) -> str | None:
    r, l = req.get(rname), lim.get(rname)
    if r is None:
        return f"minimum {rname} usage per {limit_type} is {enforced}.  No request is specified"
    if r < enforced:
        return f"minimum {rname} usage per {limit_type} is {enforced}, but request is {r}"
    if l is not None and l < enforced:
        return f"minimum {rname} usage per {limit_type} is {enforced}, but limit is {l}"
    return None


def _max_constraint(limit_type: str, rname: str, enforced: qty.Quantity, req: dict, lim: dict) -> str | None:
    r, l = req.get(rname), lim.get(rname)
    if l is None:
        return f"maximum {rname} usage per {limit_type} is {enforced}.  No limit is specified"
    if l > enforced:
        return f"maximum {rname} usage per {limit_type} is {enforced}, but limit is {l}"
    if r is not None and r > enforced:
        return f"maximum {rname} usage per {limit_type} is {enforced}, but request is {r}"
    return None


def _ratio_constraint(limit_type: str, rname: str, enforced: qty.Quantity, req: dict, lim: dict) -> str | None:
    r, l = req.get(rname), lim.get(rname)
    if r is None or r.is_zero():
        return f"{rname} max limit to request ratio per {limit_type} is {enforced}, but no request is specified or request is 0"
    if l is None or l.is_zero():
        return f"{rname} max limit to request ratio per {limit_type} is {enforced}, but no limit is specified or limit is 0"
    ratio = l.value / r.value
    if ratio > enforced.value:
        return (f"{rname} max limit to request ratio per {limit_type} is {enforced}, "
                f"but provided ratio is {float(ratio):f}")
    return None


def _parsed(rl: dict | None) -> dict[str, qty.Quantity]:
    return {k: q for k, q in ((k, _q(v)) for k, v in (rl or {}).items()) if q is not None}


def _aggregate(errs: list[str]) -> str:
    """utilerrors.NewAggregate(errs).Error(): one as is, several (deduplicated) in brackets."""
    uniq = list(dict.fromkeys(errs))
    return uniq[0] if len(uniq) == 1 else "[" + ", ".join(uniq) + "]"


class LimitRanger(Plugin):
    """plugin/pkg/admission/limitranger/admission.go: applies the namespace's LimitRange defaults to each
    container (Admit; annotation kubernetes.io/limit-ranger) and enforces min, max and
    maxLimitRequestRatio per Container and per Pod (Validate). Pod updates are not checked (containers'
    resources cannot change)."""
    NAME = "LimitRanger"
    MUTATING = True
    VALIDATING = True

    def handles(self, a):
        return a.resource == "pods" and not a.subresource and a.operation == "CREATE"

    def admit(self, a, pod, view, rng):
        changes: list[str] = []
        for lr in view.list(registry.prefix("limitranges", a.namespace)):
            # defaultContainerResourceRequirements: later items of the same LimitRange win
            req_defaults: dict = {}
            lim_defaults: dict = {}
            for limit in (lr.get("spec") or {}).get("limits") or []:
                if limit.get("type") == "Container":
                    req_defaults.update(limit.get("defaultRequest") or {})
                    lim_defaults.update(limit.get("default") or {})
            if not req_defaults and not lim_defaults:
                continue
            notes: list[str] = []
            spec = pod.get("spec") or {}
            for kind, prefix, label in (("containers", "spec.containers", "container"),
                                        ("initContainers", "spec.initContainers", "init container")):
                for i, c in enumerate(spec.get(kind) or []):
                    res = c.get("resources")
                    if not isinstance(res, dict):
                        res = c["resources"] = {}
                    set_lim, set_req = [], []
                    for rname, q in lim_defaults.items():
                        if rname not in (res.get("limits") or {}):
                            res.setdefault("limits", {})[rname] = q
                            set_lim.append(rname)
                            changes.append(f"{prefix}[{i}].resources.limits.{rname}={q}")
                    for rname, q in req_defaults.items():
                        if rname not in (res.get("requests") or {}):
                            res.setdefault("requests", {})[rname] = q
                            set_req.append(rname)
                            changes.append(f"{prefix}[{i}].resources.requests.{rname}={q}")
                    # mergeContainerResources
                    if set_req:
                        notes.append(", ".join(sorted(set_req)) + f" request for {label} {c.get('name', '')}")
                    if set_lim:
                        notes.append(", ".join(sorted(set_lim)) + f" limit for {label} {c.get('name', '')}")
            if notes:
                ann = pod.setdefault("metadata", {}).setdefault("annotations", {})
                ann["kubernetes.io/limit-ranger"] = "LimitRanger plugin set: " + "; ".join(notes)
        return changes

    def validate(self, a, pod, view):
        errs: list[str] = []
        spec = pod.get("spec") or {}
        for lr in view.list(registry.prefix("limitranges", a.namespace)):
            for limit in (lr.get("spec") or {}).get("limits") or []:
                ltype = limit.get("type")
                mins, maxs, ratios = _parsed(limit.get("min")), _parsed(limit.get("max")), _parsed(limit.get("maxLimitRequestRatio"))
                if ltype == "Container":
                    for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
                        res = (c or {}).get("resources") or {}
                        req, lim = _parsed(res.get("requests")), _parsed(res.get("limits"))
                        errs += [e for k in sorted(mins) if (e := _min_constraint(ltype, k, mins[k], req, lim))]
                        errs += [e for k in sorted(maxs) if (e := _max_constraint(ltype, k, maxs[k], req, lim))]
                        errs += [e for k in sorted(ratios) if (e := _ratio_constraint(ltype, k, ratios[k], req, lim))]
                elif ltype == "Pod":
                    req, lim = _pod_requests_limits(spec)
                    errs += [e for k in sorted(mins) if (e := _min_constraint(ltype, k, mins[k], req, lim))]
                    errs += [e for k in sorted(maxs) if (e := _max_constraint(ltype, k, maxs[k], req, lim))]
                    errs += [e for k in sorted(ratios) if (e := _ratio_constraint(ltype, k, ratios[k], req, lim))]
        if errs:
            raise forbidden(a, pod, _aggregate(errs))
        return []


# ---- ServiceAccount --------------------------------------------------------------------------------------
class ServiceAccount(Plugin):
    """plugin/pkg/admission/serviceaccount/admission.go: sets serviceAccountName "default", refuses a Pod
    whose service account does not exist, and (unless the Pod or the ServiceAccount opts out with
    automountServiceAccountToken: false) mounts the projected token volume kube-api-access-<5 random
    chars> (token, kube-root-ca.crt, namespace) into every container. Mirror pods are left alone."""
    NAME = "ServiceAccount"
    MUTATING = True
    VALIDATING = True

    def handles(self, a):
        return a.resource == "pods" and not a.subresource and a.operation == "CREATE"

    def admit(self, a, pod, view, rng):
        if "kubernetes.io/config.mirror" in ((pod.get("metadata") or {}).get("annotations") or {}):
            return []
        spec = pod["spec"]
        changes: list[str] = []
        if not spec.get("serviceAccountName"):
            spec["serviceAccountName"] = "default"
            changes.append("spec.serviceAccountName=default")
        sa_name = spec["serviceAccountName"]
        sa = view.get_shared(registry.key("serviceaccounts", a.namespace, sa_name))
        if sa is None:
            raise forbidden(a, pod, f'error looking up service account {a.namespace}/{sa_name}: '
                                    f'serviceaccount "{sa_name}" not found')
        # The deprecated twin field is filled when the object is converted to v1 (Convert_core_PodSpec_To_v1_PodSpec).
        spec["serviceAccount"] = sa_name
        if not spec.get("imagePullSecrets") and sa.get("imagePullSecrets"):
            spec["imagePullSecrets"] = [{"name": s.get("name", "")} for s in sa["imagePullSecrets"]]
            changes.append("spec.imagePullSecrets (from the service account)")
        # shouldAutomount: the pod's field wins over the service account's
        automount = spec.get("automountServiceAccountToken")
        if automount is None:
            automount = sa.get("automountServiceAccountToken", True)
        if automount is False:
            return changes
        if any(SA_MOUNT_PATH == m.get("mountPath") for c in spec.get("containers") or [] for m in c.get("volumeMounts") or []):
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
        for kind in ("initContainers", "containers"):
            for i, c in enumerate(spec.get(kind) or []):
                c.setdefault("volumeMounts", []).append({"name": vol_name, "readOnly": True, "mountPath": SA_MOUNT_PATH})
                changes.append(f"spec.{kind}[{i}].volumeMounts+={SA_MOUNT_PATH}")
        return changes

    def validate(self, a, pod, view):
        return []


# ---- PodSecurity -----------------------------------------------------------------------------------------
PSA_LEVELS = ("privileged", "baseline", "restricted")
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_AUDIT = "pod-security.kubernetes.io/audit"
PSA_WARN = "pod-security.kubernetes.io/warn"


def _pluralize(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _join_quote(items) -> str:
    return ", ".join(f'"{i}"' for i in items)


def _containers(spec: dict) -> list[dict]:
    """visitContainers: init containers, containers, ephemeral containers."""
    return [c for kind in ("initContainers", "containers", "ephemeralContainers") for c in (spec.get(kind) or []) if isinstance(c, dict)]


def _sc(c: dict) -> dict:
    return c.get("securityContext") or {}


def _psc(spec: dict) -> dict:
    return spec.get("securityContext") or {}


# Each check: (meta, spec) -> (forbiddenReason, forbiddenDetail) or None.
# staging/src/k8s.io/pod-security-admission/policy/check_*.go
def _check_host_namespaces(meta, spec):
    used = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    return ("host namespaces", ", ".join(used)) if used else None


def _check_privileged(meta, spec):
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("privileged") is True]
    if bad:
        return "privileged", f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)} must not set securityContext.privileged=true"
    return None


_BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                  "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def _check_capabilities_baseline(meta, spec):
    bad, caps = [], set()
    for c in _containers(spec):
        added = [x for x in ((_sc(c).get("capabilities") or {}).get("add") or []) if x not in _BASELINE_CAPS]
        if added:
            bad.append(c.get("name", ""))
            caps.update(added)
    if bad:
        return ("non-default capabilities", f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)} "
                                            f"must not include {_join_quote(sorted(caps))} in securityContext.capabilities.add")
    return None


def _check_host_path_volumes(meta, spec):
    bad = [v.get("name", "") for v in spec.get("volumes") or [] if isinstance(v, dict) and "hostPath" in v]
    if bad:
        return "hostPath volumes", f"{_pluralize('volume', 'volumes', len(bad))} {_join_quote(bad)}"
    return None


def _check_host_ports(meta, spec):
    bad, ports = [], set()
    for c in _containers(spec):
        hp = [p.get("hostPort") for p in c.get("ports") or [] if isinstance(p, dict) and p.get("hostPort")]
        if hp:
            bad.append(c.get("name", ""))
            ports.update(str(x) for x in hp)
    if bad:
        return ("hostPort", f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)} "
                            f"{_pluralize('uses', 'use', len(bad))} {_pluralize('hostPort', 'hostPorts', len(ports))} "
                            f"{', '.join(sorted(ports))}")
    return None


def _check_proc_mount(meta, spec):
    bad, types = [], set()
    for c in _containers(spec):
        pm = _sc(c).get("procMount")
        if pm not in (None, "", "Default"):
            bad.append(c.get("name", ""))
            types.add(pm)
    if bad:
        return ("procMount", f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)} must not set "
                             f"securityContext.procMount to {_join_quote(sorted(types))}")
    return None


def _check_app_armor(meta, spec):
    bad = []
    if ((_psc(spec).get("appArmorProfile") or {}).get("type")) == "Unconfined":
        bad.append("pod")
    names = [c.get("name", "") for c in _containers(spec) if (_sc(c).get("appArmorProfile") or {}).get("type") == "Unconfined"]
    for k, v in ((meta or {}).get("annotations") or {}).items():
        if k.startswith("container.apparmor.security.beta.kubernetes.io/") and v not in ("runtime/default",) and not v.startswith("localhost/"):
            names.append(k.split("/", 1)[1])
    if names:
        bad.append(f"{_pluralize('container', 'containers', len(names))} {_join_quote(names)}")
    if bad:
        return "forbidden AppArmor profile", " and ".join(bad) + ' must not set appArmorProfile.type to "Unconfined"'
    return None


def _seccomp_types(spec) -> tuple[str | None, list[tuple[str, str | None]]]:
    pod = (_psc(spec).get("seccompProfile") or {}).get("type")
    return pod, [(c.get("name", ""), (_sc(c).get("seccompProfile") or {}).get("type") if _sc(c).get("seccompProfile") else None)
                 for c in _containers(spec)]


def _check_seccomp_baseline(meta, spec):
    pod, cs = _seccomp_types(spec)
    setters = ["pod"] if pod == "Unconfined" else []
    bad = [n for n, t in cs if t == "Unconfined"]
    if bad:
        setters.append(f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)}")
    if setters:
        return "seccompProfile", " and ".join(setters) + ' must not set securityContext.seccompProfile.type to "Unconfined"'
    return None


_SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                 "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                 "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                 "net.ipv4.tcp_keepalive_probes"}


def _check_sysctls(meta, spec):
    bad = [s.get("name", "") for s in _psc(spec).get("sysctls") or [] if s.get("name") not in _SAFE_SYSCTLS]
    return ("forbidden sysctls", ", ".join(bad)) if bad else None


def _check_se_linux(meta, spec):
    allowed = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
    bad_types, bad_setters = set(), []

    def check(opts, who):
        if not opts:
            return
        t = opts.get("type", "")
        if t not in allowed:
            bad_types.add(t)
            bad_setters.append(who)
        elif opts.get("user") or opts.get("role"):
            bad_setters.append(who)
    check(_psc(spec).get("seLinuxOptions"), "pod")
    names = []
    for c in _containers(spec):
        before = len(bad_setters)
        check(_sc(c).get("seLinuxOptions"), c.get("name", ""))
        if len(bad_setters) > before:
            bad_setters.pop()
            names.append(c.get("name", ""))
    who = (["pod"] if "pod" in bad_setters else []) + ([f"{_pluralize('container', 'containers', len(names))} {_join_quote(names)}"] if names else [])
    if who:
        detail = " and ".join(who) + " set forbidden securityContext.seLinuxOptions"
        if bad_types:
            detail += f": {_pluralize('type', 'types', len(bad_types))} {_join_quote(sorted(bad_types))}"
        return "seLinuxOptions", detail
    return None


def _check_allow_privilege_escalation(meta, spec):
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]
    if bad:
        return ("allowPrivilegeEscalation != false", f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)} "
                                                     "must set securityContext.allowPrivilegeEscalation=false")
    return None


def _check_capabilities_restricted(meta, spec):
    missing, adding, caps = [], [], set()
    for c in _containers(spec):
        cap = _sc(c).get("capabilities")
        if not cap:
            missing.append(c.get("name", ""))
            continue
        if "ALL" not in (cap.get("drop") or []):
            missing.append(c.get("name", ""))
        extra = [x for x in cap.get("add") or [] if x != "NET_BIND_SERVICE"]
        if extra:
            adding.append(c.get("name", ""))
            caps.update(extra)
    details = []
    if missing:
        details.append(f"{_pluralize('container', 'containers', len(missing))} {_join_quote(missing)} "
                       'must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(f"{_pluralize('container', 'containers', len(adding))} {_join_quote(adding)} must not include "
                       f"{_join_quote(sorted(caps))} in securityContext.capabilities.add")
    return ("unrestricted capabilities", "; ".join(details)) if details else None


_ALLOWED_RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                               "projected", "secret"}
_VOLUME_SOURCES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs",
                   "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte",
                   "azureDisk", "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos", "image")


def _check_restricted_volumes(meta, spec):
    bad, types = [], set()
    for v in spec.get("volumes") or []:
        if not isinstance(v, dict) or any(k in v for k in _ALLOWED_RESTRICTED_VOLUMES):
            continue
        bad.append(v.get("name", ""))
        types.update(k for k in _VOLUME_SOURCES if k in v)
    if bad:
        return ("restricted volume types", f"{_pluralize('volume', 'volumes', len(bad))} {_join_quote(bad)} "
                                           f"{_pluralize('uses', 'use', len(bad))} "
                                           f"{_pluralize('restricted volume type', 'restricted volume types', len(types))} "
                                           f"{_join_quote(sorted(types))}")
    return None


def _check_run_as_non_root(meta, spec):
    setters = []
    pod_val = _psc(spec).get("runAsNonRoot")
    if pod_val is False:
        setters.append("pod")
    explicit, implicit = [], []
    for c in _containers(spec):
        v = _sc(c).get("runAsNonRoot")
        if v is not None:
            if v is False:
                explicit.append(c.get("name", ""))
        elif pod_val is not True:
            implicit.append(c.get("name", ""))
    if explicit:
        setters.append(f"{_pluralize('container', 'containers', len(explicit))} {_join_quote(explicit)}")
    if setters:
        return "runAsNonRoot != true", " and ".join(setters) + " must not set securityContext.runAsNonRoot=false"
    if implicit:
        return ("runAsNonRoot != true", f"pod or {_pluralize('container', 'containers', len(implicit))} "
                                        f"{_join_quote(implicit)} must set securityContext.runAsNonRoot=true")
    return None


def _check_run_as_user(meta, spec):
    setters = ["pod"] if _psc(spec).get("runAsUser") == 0 else []
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    if bad:
        setters.append(f"{_pluralize('container', 'containers', len(bad))} {_join_quote(bad)}")
    return ("runAsUser=0", " and ".join(setters) + " must not set runAsUser=0") if setters else None


def _check_seccomp_restricted(meta, spec):
    pod, cs = _seccomp_types(spec)
    valid = ("RuntimeDefault", "Localhost")
    setters, bad_values = [], set()
    pod_set = False
    if pod is not None:
        if pod not in valid:
            setters.append("pod")
            bad_values.add(pod)
        else:
            pod_set = True
    explicit, implicit = [], []
    for n, t in cs:
        if t is not None:
            if t not in valid:
                explicit.append(n)
                bad_values.add(t)
        elif not pod_set:
            implicit.append(n)
    if explicit:
        setters.append(f"{_pluralize('container', 'containers', len(explicit))} {_join_quote(explicit)}")
    if setters:
        return ("seccompProfile", " and ".join(setters) + " must not set securityContext.seccompProfile.type to "
                                  + _join_quote(sorted(bad_values)))
    if implicit:
        return ("seccompProfile", f"pod or {_pluralize('container', 'containers', len(implicit))} {_join_quote(implicit)} "
                                  'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"')
    return None


# policy/registry.go populate: baseline checks sorted by ID, then restricted checks sorted by ID; a
# restricted check may override a baseline one (seccompProfile_restricted replaces seccompProfile_baseline,
# restrictedVolumes replaces hostPathVolumes).
_BASELINE_CHECKS = sorted([
    ("appArmorProfile", _check_app_armor), ("capabilities_baseline", _check_capabilities_baseline),
    ("hostNamespaces", _check_host_namespaces), ("hostPathVolumes", _check_host_path_volumes),
    ("hostPorts", _check_host_ports), ("privileged", _check_privileged), ("procMount", _check_proc_mount),
    ("seLinuxOptions", _check_se_linux), ("seccompProfile_baseline", _check_seccomp_baseline),
    ("sysctls", _check_sysctls)])
_RESTRICTED_CHECKS = sorted([
    ("allowPrivilegeEscalation", _check_allow_privilege_escalation),
    ("capabilities_restricted", _check_capabilities_restricted), ("restrictedVolumes", _check_restricted_volumes),
    ("runAsNonRoot", _check_run_as_non_root), ("runAsUser", _check_run_as_user),
    ("seccompProfile_restricted", _check_seccomp_restricted)])
_OVERRIDDEN = {"seccompProfile_baseline", "hostPathVolumes"}


def evaluate_pod_security(level: str, meta: dict | None, spec: dict | None) -> list[tuple[str, str]]:
    """The failed checks of a level for a pod (forbiddenReason, forbiddenDetail), in the registry's order."""
    if level == "privileged":
        return []
    checks = list(_BASELINE_CHECKS)
    if level == "restricted":
        checks = [c for c in checks if c[0] not in _OVERRIDDEN] + _RESTRICTED_CHECKS
    out = []
    for _id, fn in checks:
        r = fn(meta or {}, spec or {})
        if r:
            out.append(r)
    return out


def forbidden_detail(results: list[tuple[str, str]]) -> str:
    """AggregateCheckResult.ForbiddenDetail: `reason (detail), reason (detail)`."""
    return ", ".join(f"{r} ({d})" if d else r for r, d in results)


@dataclass
class PodSecurityPolicy:
    enforce: str
    enforce_version: str
    audit: str
    audit_version: str
    warn: str
    warn_version: str
    errors: list


def policy_to_evaluate(labels: dict) -> PodSecurityPolicy:
    """api.PolicyToEvaluate: each mode defaults to privileged:latest; an invalid label value counts as
    restricted (and is an error); warn, when unset, follows enforce."""
    errors: list = []

    def level(key):
        v = labels.get(key)
        if v is None:
            return "privileged", False
        if v not in PSA_LEVELS:
            errors.append({"reason": "FieldValueInvalid", "field": f"metadata.labels[{key}]",
                           "message": f'Invalid value: "{v}": must be one of privileged, baseline, restricted'})
            return "restricted", True
        return v, True

    enforce, has_enforce = level(PSA_ENFORCE)
    audit, _ = level(PSA_AUDIT)
    warn, has_warn = level(PSA_WARN)
    ev = labels.get(PSA_ENFORCE + "-version", "latest")
    av = labels.get(PSA_AUDIT + "-version", "latest")
    wv = labels.get(PSA_WARN + "-version", "latest")
    if not has_warn and has_enforce:
        warn, wv = enforce, ev
    return PodSecurityPolicy(enforce, ev, audit, av, warn, wv, errors)


class PodSecurity(Plugin):
    """plugin/pkg/admission/security/podsecurity + staging/src/k8s.io/pod-security-admission/admission:
    a Pod is checked against its namespace's pod-security.kubernetes.io/enforce level (privileged when
    unlabelled: a stock cluster enforces nothing) and refused with
    `violates PodSecurity "restricted:latest": <reason> (<detail>), ...`; the warn level (defaulting to the
    enforce level) gives `would violate PodSecurity ...` warnings, for Pods and for the pod templates of
    workload resources (which are never refused); the audit level annotates the audit event."""
    NAME = "PodSecurity"
    VALIDATING = True

    def handles(self, a):
        if a.operation not in ("CREATE", "UPDATE"):
            return False
        if a.resource == "pods":
            return a.subresource in ("", "ephemeralcontainers")
        if a.resource == "namespaces":
            return not a.subresource
        return a.resource in _POD_WORKLOADS and not a.subresource

    def validate(self, a, obj, view):
        if a.resource == "namespaces":
            return self._namespace(a, obj, view)
        ns = view.get_shared(_ns_key(a.namespace)) or {}
        pol = policy_to_evaluate((ns.get("metadata") or {}).get("labels") or {})
        if a.resource == "pods":
            if a.operation == "UPDATE" and a.old is not None and not a.subresource:
                # isSignificantPodUpdate: only a change of the spec (other than images' metadata) is re-evaluated
                if (a.old.get("spec") or {}) == (obj.get("spec") or {}):
                    return []
            meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
            a.annotations["pod-security.kubernetes.io/enforce-policy"] = f"{pol.enforce}:{pol.enforce_version}"
            enforce = evaluate_pod_security(pol.enforce, meta, spec)
            if enforce:
                raise forbidden(a, obj, f'violates PodSecurity "{pol.enforce}:{pol.enforce_version}": {forbidden_detail(enforce)}')
            notes = [f"enforce={pol.enforce}"]
            warn = evaluate_pod_security(pol.warn, meta, spec)
            if warn:
                w = f'would violate PodSecurity "{pol.warn}:{pol.warn_version}": {forbidden_detail(warn)}'
                a.warnings.append(w)
                notes.append("warning: " + w)
            audit = evaluate_pod_security(pol.audit, meta, spec)
            if audit:
                violation = f'would violate PodSecurity "{pol.audit}:{pol.audit_version}": {forbidden_detail(audit)}'
                a.annotations["pod-security.kubernetes.io/audit-violations"] = violation
                notes.append(f'audit: pod-security.kubernetes.io/audit-violations={violation}')
            return notes
        # a workload: its pod template gets warnings only (EvaluatePodController)
        tmpl = _pod_template(a.resource, obj)
        if tmpl is None:
            return []
        warn = evaluate_pod_security(pol.warn, tmpl.get("metadata") or {}, tmpl.get("spec") or {})
        if warn:
            w = f'would violate PodSecurity "{pol.warn}:{pol.warn_version}": {forbidden_detail(warn)}'
            a.warnings.append(w)
            return ["warning: " + w]
        return []

    def _namespace(self, a, ns, view):
        labels = (ns.get("metadata") or {}).get("labels") or {}
        pol = policy_to_evaluate(labels)
        if pol.errors:
            raise AdmissionError(st.invalid("Namespace", a.name or (ns.get("metadata") or {}).get("name", ""), pol.errors))
        if a.operation != "UPDATE" or a.old is None:
            return []
        old = policy_to_evaluate(((a.old.get("metadata") or {}).get("labels")) or {})
        if (old.enforce, old.enforce_version) == (pol.enforce, pol.enforce_version) or pol.enforce == "privileged":
            return []
        # EvaluateNamespace: existing pods that the new enforce level would refuse are listed as warnings
        name = a.name or (ns.get("metadata") or {}).get("name", "")
        lines = []
        for pod in view.list(registry.prefix("pods", name)):
            res = evaluate_pod_security(pol.enforce, pod.get("metadata") or {}, pod.get("spec") or {})
            if res:
                lines.append(f'{pod["metadata"]["name"]}: ' + ", ".join(r for r, _ in res))
        if lines:
            a.warnings.append(f'existing pods in namespace "{name}" violate the new PodSecurity enforce level '
                              f'"{pol.enforce}:{pol.enforce_version}"')
            a.warnings.extend(lines)
        return list(a.warnings)


def _pod_template(resource: str, obj: dict) -> dict | None:
    spec = obj.get("spec") or {}
    if resource == "cronjobs":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    if resource == "podtemplates":
        return obj.get("template")
    return spec.get("template")


# ---- Priority --------------------------------------------------------------------------------------------
class Priority(Plugin):
    """plugin/pkg/admission/priority/admission.go: resolves a Pod's spec.priorityClassName into
    spec.priority and spec.preemptionPolicy (with no name: the globalDefault PriorityClass, else 0 and
    PreemptLowerPriority), refusing an unknown class or a priority the pod set itself; keeps them on
    update. For PriorityClasses it allows a single globalDefault (upstream in Validate; done here in the
    mutating pass, the outcome is the same)."""
    NAME = "Priority"
    MUTATING = True

    def handles(self, a):
        if a.resource == "pods":
            return not a.subresource and a.operation in ("CREATE", "UPDATE")
        return a.resource == "priorityclasses" and a.operation in ("CREATE", "UPDATE")

    def admit(self, a, obj, view, rng):
        if a.resource == "priorityclasses":
            return self._priority_class(a, obj, view)
        spec = obj.setdefault("spec", {})
        if a.operation == "UPDATE":
            old = (a.old or {}).get("spec") or {}
            if spec.get("priority") is None and old.get("priority") is not None:
                spec["priority"] = old["priority"]
            if spec.get("preemptionPolicy") is None and old.get("preemptionPolicy") is not None:
                spec["preemptionPolicy"] = old["preemptionPolicy"]
            return []
        name = spec.get("priorityClassName")
        changes = []
        if name:
            pc = view.get_shared(registry.key("priorityclasses", "", name))
            if pc is None:
                raise forbidden(a, obj, f"no PriorityClass with name {name} was found")
            value, policy = pc.get("value", 0), pc.get("preemptionPolicy", "PreemptLowerPriority")
        else:
            default = _default_priority_class(view)
            if default is not None:
                spec["priorityClassName"] = default["metadata"]["name"]
                changes.append(f"spec.priorityClassName={default['metadata']['name']}")
                value, policy = default.get("value", 0), default.get("preemptionPolicy", "PreemptLowerPriority")
            else:
                value, policy = 0, "PreemptLowerPriority"
        if spec.get("priority") is not None and spec["priority"] != value:
            raise forbidden(a, obj, f"the integer value of priority ({spec['priority']}) must not be provided in pod spec; "
                                    f"priority admission controller computed {value} from the given PriorityClass name")
        if spec.get("preemptionPolicy") not in (None, policy):
            raise forbidden(a, obj, f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) must not be provided "
                                    f"in pod spec; priority admission controller computed {policy} from the given PriorityClass name")
        spec["priority"] = value
        spec["preemptionPolicy"] = policy
        return changes + [f"spec.priority={value}", f"spec.preemptionPolicy={policy}"]

    @staticmethod
    def _priority_class(a, pc, view):
        if not pc.get("globalDefault"):
            return []
        default = _default_priority_class(view)
        if default is not None and (a.operation == "CREATE" or default["metadata"]["name"] != (pc.get("metadata") or {}).get("name")):
            raise forbidden(a, pc, f"PriorityClass {default['metadata']['name']} is marked as default, and it cannot be overridden")
        return []


def _default_priority_class(view) -> dict | None:
    """getDefaultPriorityClass: the globalDefault class; with several, the lowest value."""
    defaults = [pc for pc in view.list(registry.prefix("priorityclasses")) if pc.get("globalDefault")]
    return min(defaults, key=lambda pc: pc.get("value", 0)) if defaults else None


# ---- DefaultTolerationSeconds ----------------------------------------------------------------------------
class DefaultTolerationSeconds(Plugin):
    """plugin/pkg/admission/defaulttolerationseconds: tolerate not-ready and unreachable (NoExecute) for
    300 s (--default-not-ready-toleration-seconds, --default-unreachable-toleration-seconds), so a Pod is
    evicted five minutes after its node fails. A toleration with an empty key or effect already covers."""
    NAME = "DefaultTolerationSeconds"
    MUTATING = True
    SECONDS = 300

    def handles(self, a):
        return a.resource == "pods" and not a.subresource and a.operation in ("CREATE", "UPDATE")

    def admit(self, a, pod, view, rng):
        tols = pod.setdefault("spec", {}).get("tolerations")
        if tols is None:
            tols = pod["spec"]["tolerations"] = []
        changes = []
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if any((t.get("key") in (key, None, "")) and t.get("effect") in ("NoExecute", None, "") for t in tols):
                continue
            tols.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": self.SECONDS})
            changes.append(f"spec.tolerations+={key}:NoExecute for {self.SECONDS}s")
        if not tols and a.operation == "UPDATE":
            del pod["spec"]["tolerations"]
        return changes


# ---- TaintNodesByCondition (implemented, not in CHAIN) ---------------------------------------------------
class TaintNodesByCondition(Plugin):
    """plugin/pkg/admission/nodetaint/admission.go: a Node being created gets
    node.kubernetes.io/not-ready:NoSchedule, which the node lifecycle controller removes once it is Ready."""
    NAME = "TaintNodesByCondition"
    MUTATING = True

    def handles(self, a):
        return a.resource == "nodes" and not a.subresource and a.operation == "CREATE"

    def admit(self, a, node, view, rng):
        taints = node.setdefault("spec", {}).setdefault("taints", [])
        if any(t.get("key") == "node.kubernetes.io/not-ready" and t.get("effect") == "NoSchedule" for t in taints):
            return []
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        return ["spec.taints+=node.kubernetes.io/not-ready:NoSchedule"]


# ---- ResourceQuota ---------------------------------------------------------------------------------------
# pkg/quota/v1/evaluator/core: the pod, service and object-count evaluators.
_CONTAINER_CONSTRAINED = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
_POD_RESOURCES = {"pods", "count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
                  "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage"}
_LEGACY_COUNT = {"configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers", "resourcequotas",
                 "services"}
_STANDARD = {"cpu", "memory", "ephemeral-storage", "pods"}


def count_name(resource: str, group: str) -> str:
    """ObjectCountQuotaResourceNameFor: count/<resource>[.<group>]."""
    return f"count/{resource}.{group}" if group else f"count/{resource}"


def _compute_usage(requests: dict, limits: dict) -> dict[str, qty.Quantity]:
    """podComputeUsageHelper."""
    out: dict[str, qty.Quantity] = {"pods": qty.Quantity(1), "count/pods": qty.Quantity(1)}
    for r in ("cpu", "memory", "ephemeral-storage"):
        if r in requests:
            out[r] = requests[r]
            out["requests." + r] = requests[r]
        if r in limits:
            out["limits." + r] = limits[r]
    for r, q in requests.items():
        if r.startswith("hugepages-"):
            out[r] = q
            out["requests." + r] = q
        elif "/" in r and not r.startswith("requests.") and not r.startswith("kubernetes.io/"):
            out["requests." + r] = q  # an extended resource: only requests.<name> can be quota'd
    return out


def _pod_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def usage(resource: str, group: str, obj: dict) -> dict[str, qty.Quantity]:
    """What one object counts against a quota (Evaluator.Usage)."""
    if resource == "pods":
        # PodUsageFunc: count/pods tracks every stored pod; compute resources (and "pods") only pods that
        # have not reached a terminal phase (QuotaV1Pod; a pod past its deletion grace period is not
        # charged either - without a clock here, a pod being deleted is charged until it is gone)
        if _pod_terminal(obj):
            return {"count/pods": qty.Quantity(1)}
        req, lim = _pod_requests_limits(obj.get("spec") or {})
        return _compute_usage(req, lim)
    out = {count_name(resource, group): qty.Quantity(1)}
    if resource in _LEGACY_COUNT and not group:
        out[resource] = qty.Quantity(1)
    if resource == "services":
        spec = obj.get("spec") or {}
        t = spec.get("type", "ClusterIP")
        if t in ("NodePort", "LoadBalancer"):
            ports = {p.get("nodePort") or (i, p.get("port")) for i, p in enumerate(spec.get("ports") or [])}
            out["services.nodeports"] = qty.Quantity(len(ports))
        if t == "LoadBalancer":
            out["services.loadbalancers"] = qty.Quantity(1)
    return out


def _matching(resource: str, group: str, hard_names) -> list[str]:
    """Evaluator.MatchingResources: the quota's resources this evaluator tracks."""
    out = []
    for n in hard_names:
        if resource == "pods":
            if n in _POD_RESOURCES or n.startswith("hugepages-") or n.startswith("requests.hugepages-") or \
                    (n.startswith("requests.") and "/" in n):
                out.append(n)
        elif n == count_name(resource, group) or (not group and n == resource and resource in _LEGACY_COUNT) or \
                (resource == "services" and n in ("services.nodeports", "services.loadbalancers")):
            out.append(n)
    return sorted(out)


def _quota_scopes_match(quota: dict, resource: str, obj: dict) -> bool:
    """Evaluator.Matches: a quota with scopes (Terminating, NotTerminating, BestEffort, NotBestEffort,
    PriorityClass) only applies to the pods in its scopes."""
    spec = quota.get("spec") or {}
    selectors = [{"scopeName": s, "operator": "Exists"} for s in spec.get("scopes") or []]
    selectors += list(((spec.get("scopeSelector") or {}).get("matchExpressions")) or [])
    if not selectors:
        return True
    if resource != "pods":
        return False
    pspec = obj.get("spec") or {}
    for sel in selectors:
        name, op, values = sel.get("scopeName"), sel.get("operator"), sel.get("values") or []
        if name == "Terminating":
            ok = pspec.get("activeDeadlineSeconds") is not None
        elif name == "NotTerminating":
            ok = pspec.get("activeDeadlineSeconds") is None
        elif name in ("BestEffort", "NotBestEffort"):
            req, lim = _pod_requests_limits(pspec)
            be = not req and not lim
            ok = be if name == "BestEffort" else not be
        elif name == "PriorityClass":
            pcn = pspec.get("priorityClassName", "")
            ok = {"In": pcn in values, "NotIn": pcn not in values, "Exists": bool(pcn),
                  "DoesNotExist": not pcn}.get(op, False)
        else:
            ok = False
        if not ok:
            return False
    return True


def compute_quota_used(quota: dict, view: ClusterView) -> dict[str, qty.Quantity]:
    """What the resource quota controller would write into status.used: the usage of every object in the
    namespace that the quota matches (for each resource in status.hard/spec.hard)."""
    ns = quota["metadata"].get("namespace", "")
    hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
    used = {n: qty.Quantity(0) for n in hard}
    # which resources to list: pods for pod resources, the named resource for count/<r>[.<g>]
    resources: dict[str, str] = {}
    for n in hard:
        if n in _POD_RESOURCES or n.startswith("requests.") or n.startswith("limits.") or n.startswith("hugepages-"):
            resources["pods"] = ""
        elif n.startswith("count/"):
            r, _, g = n[len("count/"):].partition(".")
            resources[r] = g
        elif n in _LEGACY_COUNT:
            resources[n] = ""
        elif n.startswith("services."):
            resources["services"] = ""
    for r, g in resources.items():
        for obj in view.list(registry.prefix(r, ns)):
            if not _quota_scopes_match(quota, r, obj):
                continue
            for n, q in usage(r, g, obj).items():
                if n in used:
                    used[n] = used[n] + q
    return used


def pretty_print(rl: dict[str, qty.Quantity]) -> str:
    """prettyPrint: name=quantity, sorted by name, comma separated."""
    return ",".join(f"{k}={rl[k]}" for k in sorted(rl))


def _res_list(d: dict | None) -> dict[str, qty.Quantity]:
    return {k: q for k, q in ((k, _q(v)) for k, v in (d or {}).items()) if q is not None}


class ResourceQuota(Plugin):
    """staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go (checkRequest):
    for every quota of the namespace that matches the object, (1) the Constraints: a quota on cpu/memory
    requires every container to state them (`failed quota: <q>: must specify limits.cpu for: nginx`);
    (2) used + requested must stay within hard, else
    `exceeded quota: <q>, requested: ..., used: ..., limited: ...` (only the exceeded resources shown);
    (3) the quota with its new status.used is written with the object (a.writes), compare-and-swap on its
    resourceVersion. Runs last (AllOrderedPlugins keeps it after the webhooks) because it charges usage."""
    NAME = "ResourceQuota"
    VALIDATING = True

    def handles(self, a):
        if not a.namespace or a.operation not in ("CREATE", "UPDATE"):
            return False
        if a.subresource:
            return False
        if a.resource == "pods":
            return a.operation == "CREATE"  # (in-place pod resize is alpha in v1.31)
        return a.operation == "CREATE" or a.resource == "services"

    def validate(self, a, obj, view):
        quotas = view.list(registry.prefix("resourcequotas", a.namespace))
        if not quotas:
            return []
        group = _group(a)
        delta = usage(a.resource, group, obj)
        if a.operation == "UPDATE" and a.old is not None and (a.old.get("metadata") or {}).get("resourceVersion"):
            prev = usage(a.resource, group, a.old)
            delta = {k: (v - prev[k] if k in prev else v) for k, v in delta.items()}
            delta = {k: (v if v.value > 0 else qty.Quantity(0, v.format)) for k, v in delta.items()}
        interesting = []
        for q in quotas:
            if not _quota_scopes_match(q, a.resource, obj):
                continue
            hard = _res_list((q.get("status") or {}).get("hard") or (q.get("spec") or {}).get("hard"))
            restricted = _matching(a.resource, group, hard)
            if not restricted:
                continue
            if a.resource == "pods":
                err = _pod_constraints(restricted, obj)
                if err:
                    raise forbidden(a, obj, f"failed quota: {q['metadata']['name']}: {err}")
            interesting.append((q, hard, restricted))
        delta = {k: v for k, v in delta.items() if not v.is_zero()}  # quota.RemoveZeros
        if not interesting or not delta:
            return []
        notes = []
        for q, hard, restricted in interesting:
            used = _res_list((q.get("status") or {}).get("used"))
            if any(n not in used for n in hard):
                # no status from the quota controller yet: the usage it would compute
                computed = compute_quota_used(q, view)
                used = {**computed, **used}
            requested = {k: v for k, v in delta.items() if k in hard}
            new_used = dict(used)
            for k, v in requested.items():
                new_used[k] = new_used[k] + v if k in new_used else v
            exceeded = sorted(k for k in requested if new_used[k] > hard[k])
            if exceeded:
                raise forbidden(a, obj, f"exceeded quota: {q['metadata']['name']}, "
                                        f"requested: {pretty_print({k: requested[k] for k in exceeded})}, "
                                        f"used: {pretty_print({k: used[k] for k in exceeded if k in used})}, "
                                        f"limited: {pretty_print({k: hard[k] for k in exceeded})}")
            if not requested:
                continue
            updated = _with_status(q, hard, new_used)
            a.writes.append(updated)
            notes.append(f"quota {q['metadata']['name']}: " + ", ".join(
                f"{k} {used.get(k, qty.Quantity(0))} -> {new_used[k]} of {hard[k]}" for k in sorted(requested)))
        return notes


def _with_status(q: dict, hard: dict, used: dict) -> dict:
    import copy
    out = copy.deepcopy(q)
    st_ = out.setdefault("status", {})
    st_["hard"] = {k: str(hard[k]) for k in sorted(hard)}
    st_["used"] = {k: str(used.get(k, qty.Quantity(0))) for k in sorted(hard)}
    return out


def _pod_constraints(restricted: list[str], pod: dict) -> str | None:
    """podEvaluator.Constraints: with a quota on cpu or memory, every container must make an explicit
    request (or limit) for it: `must specify limits.cpu for: a,b; requests.memory for: a`."""
    required = set(restricted) & _CONTAINER_CONSTRAINED
    if not required:
        return None
    missing: dict[str, set] = {}
    spec = pod.get("spec") or {}
    for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        res = (c or {}).get("resources") or {}
        have = set(_compute_usage(_res_list(res.get("requests")), _res_list(res.get("limits"))))
        for r in required - have:
            missing.setdefault(r, set()).add(c.get("name", ""))
    if not missing:
        return None
    return "must specify " + "; ".join(f"{r} for: {','.join(sorted(missing[r]))}" for r in sorted(missing))


# In AllOrderedPlugins order (the default-enabled ones that act on what this model serves).
CHAIN: tuple[Plugin, ...] = (NamespaceLifecycle(), LimitRanger(), ServiceAccount(), PodSecurity(), Priority(),
                             DefaultTolerationSeconds(), ResourceQuota())
