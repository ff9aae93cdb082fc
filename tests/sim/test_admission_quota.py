"""ResourceQuota admission: the real `exceeded quota` and `failed quota` messages, the usage written back with
the object (a.writes), object counts for other resources."""
import pytest

from simulator.apiserver import admission as adm
from simulator.apiserver import registry
from tests.sim.test_admission_plugins import View, _attrs, _pod, _view


def _quota(v, name, hard, used=None, ns="default", **spec):
    q = {"kind": "ResourceQuota", "metadata": {"name": name, "namespace": ns}, "spec": {"hard": hard, **spec}}
    if used is not None:
        q["status"] = {"hard": dict(hard), "used": used}
    return v.add("resourcequotas", q, rv="42")


def _validate(a, obj, v):
    return adm.ResourceQuota().validate(a, obj, v)


def _deny(a, obj, v):
    with pytest.raises(adm.AdmissionError) as e:
        _validate(a, obj, v)
    return e.value.status


def _cpu_pod(name, cpu, mem="64Mi", limits=True):
    res = {"requests": {"cpu": cpu, "memory": mem}}
    if limits:
        res["limits"] = {"cpu": cpu, "memory": mem}
    return _pod(name, containers=[{"name": "nginx", "image": "nginx", "resources": res}])


def test_exceeded_quota_message_and_nothing_written():
    v = _view()
    _quota(v, "compute-resources", {"requests.cpu": "2", "requests.memory": "1Gi"},
           used={"requests.cpu": "1", "requests.memory": "512Mi"})
    a = _attrs(name="big")
    st = _deny(a, _cpu_pod("big", "2", limits=False), v)
    assert st["code"] == 403 and st["reason"] == "Forbidden"
    assert st["message"] == ('pods "big" is forbidden: exceeded quota: compute-resources, requested: requests.cpu=2, '
                             'used: requests.cpu=1, limited: requests.cpu=2')
    assert a.writes == []


def test_admitted_pod_charges_the_quota_with_canonical_quantities():
    v = _view()
    _quota(v, "compute-resources", {"requests.cpu": "2", "requests.memory": "1Gi", "pods": "10"},
           used={"requests.cpu": "500m", "requests.memory": "0", "pods": "1"})
    a = _attrs(name="web")
    notes = _validate(a, _cpu_pod("web", "0.5", mem="512Mi", limits=False), v)
    assert len(a.writes) == 1
    q = a.writes[0]
    assert q["metadata"]["resourceVersion"] == "42" and q["metadata"]["name"] == "compute-resources"
    assert q["status"]["used"] == {"pods": "2", "requests.cpu": "1", "requests.memory": "512Mi"}
    assert q["status"]["hard"] == {"pods": "10", "requests.cpu": "2", "requests.memory": "1Gi"}
    assert notes == ["quota compute-resources: pods 1 -> 2 of 10, requests.cpu 500m -> 1 of 2, requests.memory 0 -> 512Mi of 1Gi"]
    # the view's object is untouched: the server commits the copy
    assert v.get(registry.key("resourcequotas", "default", "compute-resources"))["status"]["used"]["pods"] == "1"


def test_failed_quota_must_specify():
    v = _view()
    _quota(v, "q", {"limits.cpu": "4", "requests.memory": "4Gi"}, used={"limits.cpu": "0", "requests.memory": "0"})
    pod = _pod("nginx", containers=[{"name": "nginx", "image": "nginx"}, {"name": "side", "image": "busybox",
                                    "resources": {"limits": {"cpu": "1"}}}])
    st = _deny(_attrs(), pod, v)
    assert st["message"] == 'pods "nginx" is forbidden: failed quota: q: must specify limits.cpu for: nginx; requests.memory for: nginx,side'


def test_pods_count_and_usage_computed_without_controller_status():
    v = _view()
    _quota(v, "pod-count", {"pods": "2"})  # no status yet: the usage the quota controller would compute
    v.add("pods", _pod("a"))
    v.add("pods", _pod("b"))
    done = _pod("c")
    done["status"] = {"phase": "Succeeded"}
    v.add("pods", done)  # terminal pods do not count
    st = _deny(_attrs(name="d"), _pod("d"), v)
    assert st["message"] == 'pods "d" is forbidden: exceeded quota: pod-count, requested: pods=1, used: pods=2, limited: pods=2'


def test_object_count_quota_for_deployments_and_services():
    v = _view()
    _quota(v, "objects", {"count/deployments.apps": "1", "services": "1", "services.nodeports": "0"},
           used={"count/deployments.apps": "1", "services": "0", "services.nodeports": "0"})
    st = _deny(_attrs("deployments", name="web"), {"kind": "Deployment", "metadata": {"name": "web"}}, v)
    assert st["message"] == ('deployments.apps "web" is forbidden: exceeded quota: objects, requested: '
                             'count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1')
    svc = {"kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    st = _deny(_attrs("services", name="web"), svc, v)
    assert st["message"] == ('services "web" is forbidden: exceeded quota: objects, requested: services.nodeports=1, '
                             'used: services.nodeports=0, limited: services.nodeports=0')
    a = _attrs("services", name="web")
    _validate(a, {"kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}, v)
    assert a.writes[0]["status"]["used"]["services"] == "1"
    # configmaps are not tracked by this quota: nothing charged
    a = _attrs("configmaps", name="c")
    assert _validate(a, {"metadata": {"name": "c"}}, v) == [] and a.writes == []


def test_scoped_quota_only_counts_matching_pods():
    v = _view()
    _quota(v, "best-effort", {"pods": "0"}, used={"pods": "0"}, scopes=["BestEffort"])
    st = _deny(_attrs(), _pod(), v)
    assert "exceeded quota: best-effort" in st["message"]
    assert _validate(_attrs(name="web"), _cpu_pod("web", "100m"), v) == []


def test_quantity_formats_in_messages():
    v = _view()
    _quota(v, "mem", {"requests.memory": "1Gi"}, used={"requests.memory": "768Mi"})
    st = _deny(_attrs(name="m"), _cpu_pod("m", "100m", mem="512Mi", limits=False), v)
    assert st["message"].endswith("requested: requests.memory=512Mi, used: requests.memory=768Mi, limited: requests.memory=1Gi")


def test_quota_handles():
    p = adm.ResourceQuota()
    assert p.handles(_attrs())
    assert not p.handles(_attrs(op="UPDATE"))  # pods' resources cannot change
    assert not p.handles(_attrs(op="DELETE"))
    assert not p.handles(_attrs("nodes", ns="", name="n"))
    assert isinstance(View(), View)
