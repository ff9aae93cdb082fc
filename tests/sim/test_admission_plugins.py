"""Each admission plugin on its own, against a cluster view, with kube-apiserver's messages."""
import random

import pytest

from simulator.apiserver import admission as adm
from simulator.apiserver import registry
from simulator.apiserver.defaults import set_defaults


class View:
    """The API server's cache as admission sees it: get(key) / get_shared(key), list(prefix) in key order."""

    def __init__(self):
        self.objs = {}

    def add(self, resource, obj, rv="1"):
        m = obj.setdefault("metadata", {})
        m.setdefault("resourceVersion", rv)
        self.objs[registry.key(resource, m.get("namespace", ""), m["name"])] = obj
        return obj

    def get(self, key):
        return self.objs.get(key)

    get_shared = get   # the server's read-only lookup: here the stored object itself

    def list(self, prefix):
        return [self.objs[k] for k in sorted(self.objs) if k.startswith(prefix)]


def _view(*namespaces, labels=None):
    v = View()
    for ns in namespaces or ("default",):
        v.add("namespaces", {"kind": "Namespace", "metadata": {"name": ns, "labels": dict(labels or {})},
                             "status": {"phase": "Active"}})
        v.add("serviceaccounts", {"kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}})
    return v


def _pod(name="nginx", ns="default", containers=None, **spec):
    containers = containers or [{"name": name, "image": "nginx"}]
    p = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns},
         "spec": {"containers": containers, **spec}}
    set_defaults("Pod", p)
    return p


def _attrs(resource="pods", ns="default", name="nginx", op="CREATE", **kw):
    return adm.Attrs(op, resource, "", ns, name, "kubernetes-admin", **kw)


def _run(plugin, a, obj, view):
    """mutating then validating, as the server does for one plugin."""
    out = []
    if plugin.MUTATING and plugin.handles(a):
        out += plugin.admit(a, obj, view, random.Random(1)) or []
    if plugin.VALIDATING and plugin.handles(a):
        out += plugin.validate(a, obj, view) or []
    return out


def _deny(plugin, a, obj, view):
    with pytest.raises(adm.AdmissionError) as e:
        _run(plugin, a, obj, view)
    return e.value.status


def test_chain_order_is_all_ordered_plugins():
    assert [p.NAME for p in adm.CHAIN] == ["NamespaceLifecycle", "LimitRanger", "ServiceAccount", "PodSecurity",
                                          "Priority", "DefaultTolerationSeconds", "ResourceQuota"]
    # Attrs still accepts the six positional arguments the server has always passed
    a = adm.Attrs("CREATE", "pods", "", "default", "x", "jane")
    assert a.writes == [] and a.kind == "" and a.old is None


# ---- NamespaceLifecycle ----
def test_namespace_lifecycle_missing_terminating_and_immortal():
    plugin = adm.NamespaceLifecycle()
    v = _view("default")
    st = _deny(plugin, _attrs(ns="nope"), _pod(ns="nope"), v)
    assert st["code"] == 404 and st["message"] == 'namespaces "nope" not found'
    # updates in a missing namespace fail too; deletes and cluster-scoped objects pass
    assert plugin.handles(_attrs(ns="nope", op="UPDATE"))
    assert not plugin.handles(_attrs(ns="nope", op="DELETE"))
    assert not plugin.handles(_attrs(resource="nodes", ns="", name="n1"))
    v.objs[registry.key("namespaces", "", "default")]["status"]["phase"] = "Terminating"
    st = _deny(plugin, _attrs(), _pod(), v)
    assert st["code"] == 403
    assert st["message"] == 'pods "nginx" is forbidden: unable to create new content in namespace default because it is being terminated'
    assert st["details"]["causes"] == [{"reason": "NamespaceTerminating", "message": "namespace default is being terminated",
                                        "field": "metadata.namespace"}]
    # a Deployment's group is named in the message
    st = _deny(plugin, _attrs("deployments", name="web"), {"metadata": {"name": "web"}}, v)
    assert st["message"].startswith('deployments.apps "web" is forbidden: unable to create new content')
    for ns in ("default", "kube-system", "kube-public"):
        st = _deny(plugin, _attrs("namespaces", ns="", name=ns, op="DELETE"), None, v)
        assert st["message"] == f'namespaces "{ns}" is forbidden: this namespace may not be deleted'
    assert not plugin.handles(_attrs("namespaces", ns="", name="dev", op="DELETE"))


# ---- LimitRanger ----
def _limit_range(v, limits, ns="default"):
    lr = {"kind": "LimitRange", "metadata": {"name": "limits", "namespace": ns}, "spec": {"limits": limits}}
    set_defaults("LimitRange", lr)
    v.add("limitranges", lr)


def test_limit_ranger_defaults_and_annotation():
    v = _view()
    _limit_range(v, [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                      "defaultRequest": {"cpu": "100m"}}])
    pod = _pod(containers=[{"name": "nginx", "image": "nginx", "resources": {"limits": {"memory": "128Mi"}}}])
    changes = _run(adm.LimitRanger(), _attrs(), pod, v)
    res = pod["spec"]["containers"][0]["resources"]
    # the Pod's own limit stays; defaulting already copied it into requests.memory
    assert res == {"limits": {"memory": "128Mi", "cpu": "500m"}, "requests": {"memory": "128Mi", "cpu": "100m"}}
    assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == \
        "LimitRanger plugin set: cpu request for container nginx; cpu limit for container nginx"
    assert "spec.containers[0].resources.limits.cpu=500m" in changes


def test_limit_range_item_defaults_from_max():
    lr = {"kind": "LimitRange", "metadata": {"name": "l", "namespace": "default"},
          "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "64Mi"}}]}}
    set_defaults("LimitRange", lr)
    item = lr["spec"]["limits"][0]
    assert item["default"] == {"cpu": "1"} and item["defaultRequest"] == {"cpu": "1", "memory": "64Mi"}


def test_limit_ranger_max_and_min_messages():
    v = _view()
    _limit_range(v, [{"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "100m"}}])
    pod = _pod(containers=[{"name": "nginx", "image": "nginx", "resources": {"limits": {"cpu": "2"}, "requests": {"cpu": "2"}}}])
    st = _deny(adm.LimitRanger(), _attrs(), pod, v)
    assert st["code"] == 403
    assert st["message"] == 'pods "nginx" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
    pod = _pod(containers=[{"name": "nginx", "image": "nginx", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "50m"}}}])
    st = _deny(adm.LimitRanger(), _attrs(), pod, v)
    assert st["message"] == 'pods "nginx" is forbidden: minimum cpu usage per Container is 100m, but request is 50m'
    # per Pod: the sum of the containers; several errors in brackets
    v2 = _view()
    _limit_range(v2, [{"type": "Pod", "max": {"cpu": "1", "memory": "1Gi"}}])
    two = [{"name": n, "image": "nginx", "resources": {"limits": {"cpu": "600m", "memory": "768Mi"}}} for n in ("a", "b")]
    st = _deny(adm.LimitRanger(), _attrs(), _pod(containers=two), v2)
    assert st["message"] == ('pods "nginx" is forbidden: [maximum cpu usage per Pod is 1, but limit is 1200m, '
                             'maximum memory usage per Pod is 1Gi, but limit is 1536Mi]')


def test_limit_ranger_ratio():
    v = _view()
    _limit_range(v, [{"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}])
    pod = _pod(containers=[{"name": "nginx", "image": "nginx", "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "250m"}}}])
    st = _deny(adm.LimitRanger(), _attrs(), pod, v)
    assert st["message"] == 'pods "nginx" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000'


# ---- ServiceAccount ----
def test_service_account_mount_and_missing_account():
    v = _view()
    pod = _pod()
    changes = _run(adm.ServiceAccount(), _attrs(), pod, v)
    spec = pod["spec"]
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    assert spec["volumes"][0]["name"].startswith("kube-api-access-")
    assert changes[0] == "spec.serviceAccountName=default"
    pod = _pod(serviceAccountName="builder")
    st = _deny(adm.ServiceAccount(), _attrs(), pod, v)
    assert st["message"] == ('pods "nginx" is forbidden: error looking up service account default/builder: '
                             'serviceaccount "builder" not found')
    # the service account opts out of automounting
    v.objs[registry.key("serviceaccounts", "default", "default")]["automountServiceAccountToken"] = False
    pod = _pod()
    _run(adm.ServiceAccount(), _attrs(), pod, v)
    assert "volumes" not in pod["spec"]


# ---- PodSecurity ----
RESTRICTED_MSG = ('pods "nginx" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
                  '(container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities '
                  '(container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or '
                  'container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" '
                  'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')


def test_pod_security_unlabelled_namespace_is_privileged():
    v = _view()
    pod = _pod(hostNetwork=True, containers=[{"name": "nginx", "image": "nginx", "securityContext": {"privileged": True}}])
    a = _attrs()
    assert _run(adm.PodSecurity(), a, pod, v) == ["enforce=privileged"]
    assert a.warnings == []


def test_pod_security_restricted_message():
    v = _view(labels={"pod-security.kubernetes.io/enforce": "restricted"})
    st = _deny(adm.PodSecurity(), _attrs(), _pod(), v)
    assert st["code"] == 403 and st["reason"] == "Forbidden"
    assert st["message"] == RESTRICTED_MSG
    ok = _pod(containers=[{"name": "nginx", "image": "nginx", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
        securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}})
    assert _run(adm.PodSecurity(), _attrs(), ok, v) == ["enforce=restricted"]


def test_pod_security_baseline_checks():
    v = _view(labels={"pod-security.kubernetes.io/enforce": "baseline"})
    pod = _pod(hostNetwork=True, hostPID=True, hostIPC=True, containers=[
        {"name": "a", "image": "nginx", "securityContext": {"privileged": True, "capabilities": {"add": ["NET_ADMIN", "CHOWN"]}},
         "ports": [{"containerPort": 80, "hostPort": 80}]}],
        volumes=[{"name": "host", "hostPath": {"path": "/"}}])
    st = _deny(adm.PodSecurity(), _attrs(), pod, v)
    assert st["message"] == ('pods "nginx" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities '
                             '(container "a" must not include "NET_ADMIN" in securityContext.capabilities.add), '
                             'host namespaces (hostNetwork=true, hostPID=true, hostIPC=true), hostPath volumes (volume "host"), '
                             'hostPort (container "a" uses hostPort 80), privileged (container "a" must not set '
                             'securityContext.privileged=true)')
    # the restricted profile passes baseline
    assert _run(adm.PodSecurity(), _attrs(), _pod(), v) == ["enforce=baseline"]


def test_pod_security_restricted_runs_baseline_checks_first_and_volume_types():
    v = _view(labels={"pod-security.kubernetes.io/enforce": "restricted"})
    pod = _pod(hostNetwork=True, containers=[{"name": "nginx", "image": "nginx", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"}}}],
        volumes=[{"name": "proc", "hostPath": {"path": "/proc"}}, {"name": "sys", "hostPath": {"path": "/sys"}},
                 {"name": "cfg", "configMap": {"name": "c"}}])
    st = _deny(adm.PodSecurity(), _attrs(), pod, v)
    assert st["message"] == ('pods "nginx" is forbidden: violates PodSecurity "restricted:latest": host namespaces '
                             '(hostNetwork=true), restricted volume types (volumes "proc", "sys" use restricted volume '
                             'type "hostPath")')


def test_pod_security_warn_label_and_workload_warnings():
    v = _view(labels={"pod-security.kubernetes.io/warn": "restricted"})
    a = _attrs()
    notes = _run(adm.PodSecurity(), a, _pod(), v)
    assert a.warnings == [RESTRICTED_MSG.replace('pods "nginx" is forbidden: violates', "would violate")]
    assert notes[0] == "enforce=privileged"
    # a Deployment is never refused: enforce=restricted only warns (warn follows enforce)
    v = _view(labels={"pod-security.kubernetes.io/enforce": "restricted"})
    dep = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}
    a = _attrs("deployments", name="web")
    _run(adm.PodSecurity(), a, dep, v)
    assert a.warnings and a.warnings[0].startswith('would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false')


def test_pod_security_invalid_namespace_label_is_422():
    v = _view()
    ns = {"kind": "Namespace", "metadata": {"name": "x", "labels": {"pod-security.kubernetes.io/enforce": "strict"}}}
    st = _deny(adm.PodSecurity(), _attrs("namespaces", ns="", name="x"), ns, v)
    assert st["code"] == 422
    assert st["message"] == ('Namespace "x" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: '
                             'Invalid value: "strict": must be one of privileged, baseline, restricted')


def test_pod_security_label_change_warns_about_existing_pods():
    v = _view()
    v.add("pods", _pod())
    old = v.get(registry.key("namespaces", "", "default"))
    new = {"kind": "Namespace", "metadata": {"name": "default", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    a = _attrs("namespaces", ns="", name="default", op="UPDATE", old=old)
    _run(adm.PodSecurity(), a, new, v)
    assert a.warnings == ['existing pods in namespace "default" violate the new PodSecurity enforce level "restricted:latest"',
                          "nginx: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile"]


# ---- Priority ----
def test_priority_class_resolution_and_default():
    v = _view()
    pod = _pod()
    assert _run(adm.Priority(), _attrs(), pod, v) == ["spec.priority=0", "spec.preemptionPolicy=PreemptLowerPriority"]
    st = _deny(adm.Priority(), _attrs(), _pod(priorityClassName="high"), v)
    assert st["message"] == 'pods "nginx" is forbidden: no PriorityClass with name high was found'
    v.add("priorityclasses", {"kind": "PriorityClass", "metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"})
    pod = _pod(priorityClassName="high")
    _run(adm.Priority(), _attrs(), pod, v)
    assert pod["spec"]["priority"] == 1000 and pod["spec"]["preemptionPolicy"] == "Never"
    v.add("priorityclasses", {"kind": "PriorityClass", "metadata": {"name": "normal"}, "value": 100, "globalDefault": True})
    pod = _pod()
    _run(adm.Priority(), _attrs(), pod, v)
    assert (pod["spec"]["priorityClassName"], pod["spec"]["priority"]) == ("normal", 100)
    st = _deny(adm.Priority(), _attrs(), _pod(priorityClassName="high", priority=5), v)
    assert st["message"] == ('pods "nginx" is forbidden: the integer value of priority (5) must not be provided in pod spec; '
                             'priority admission controller computed 1000 from the given PriorityClass name')
    second = {"kind": "PriorityClass", "metadata": {"name": "other"}, "value": 5, "globalDefault": True}
    st = _deny(adm.Priority(), _attrs("priorityclasses", ns="", name="other"), second, v)
    assert st["message"] == ('priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass normal is marked as '
                             'default, and it cannot be overridden')


# ---- DefaultTolerationSeconds ----
def test_default_toleration_seconds():
    v = _view()
    pod = _pod(tolerations=[{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 60}])
    changes = _run(adm.DefaultTolerationSeconds(), _attrs(), pod, v)
    assert changes == ["spec.tolerations+=node.kubernetes.io/not-ready:NoExecute for 300s"]
    assert pod["spec"]["tolerations"][1] == {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                             "effect": "NoExecute", "tolerationSeconds": 300}
    # an all-tolerating toleration already covers both
    pod = _pod(tolerations=[{"operator": "Exists"}])
    assert _run(adm.DefaultTolerationSeconds(), _attrs(), pod, v) == []


def test_taint_nodes_by_condition():
    node = {"kind": "Node", "metadata": {"name": "n1"}, "spec": {}}
    p = adm.TaintNodesByCondition()
    a = _attrs("nodes", ns="", name="n1")
    assert p.handles(a) and p.admit(a, node, View(), None)
    assert node["spec"]["taints"] == [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
    assert p not in adm.CHAIN
