"""Admission plugins and API defaults leave their marks on the stored Pod."""


def _stored_pod(events):
    put = next(e for e in events if e["type"] == "etcd.put" and e["data"]["key"] == "/registry/pods/default/nginx")
    return put["data"]["value"]


def test_stored_pod_has_api_defaults(pod_create_events):
    pod = _stored_pod(pod_create_events)
    spec, c = pod["spec"], pod["spec"]["containers"][0]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    assert c["imagePullPolicy"] == "Always"  # untagged means :latest
    assert c["terminationMessagePath"] == "/dev/termination-log" and c["terminationMessagePolicy"] == "File"
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert pod["metadata"]["labels"] == {"run": "nginx"}
    assert "resourceVersion" not in pod["metadata"]  # the API server clears it before writing


def test_stored_pod_has_admission_mutations(pod_create_events):
    spec = _stored_pod(pod_create_events)["spec"]
    assert spec["serviceAccountName"] == "default"
    vol = spec["volumes"][0]
    assert vol["name"].startswith("kube-api-access-") and len(vol["name"]) == len("kube-api-access-") + 5
    assert [list(s)[0] for s in vol["projected"]["sources"]] == ["serviceAccountToken", "configMap", "downwardAPI"]
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": vol["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
    assert spec["priority"] == 0 and spec["preemptionPolicy"] == "PreemptLowerPriority"


def test_admission_runs_mutating_then_validating_in_upstream_order(pod_create_events):
    adm = [(e["data"]["phase"], e["data"]["plugin"]) for e in pod_create_events if e["type"] == "apiserver.admission"]
    assert adm == [("mutating", "NamespaceLifecycle"), ("mutating", "LimitRanger"), ("mutating", "ServiceAccount"),
                   ("mutating", "Priority"), ("mutating", "DefaultTolerationSeconds"),
                   ("validating", "LimitRanger"), ("validating", "ServiceAccount"), ("validating", "PodSecurity"),
                   ("validating", "ResourceQuota")]
    types = [e["type"] for e in pod_create_events]
    # validation sits between the two phases
    last_mut = max(i for i, e in enumerate(pod_create_events) if e["type"] == "apiserver.admission" and e["data"]["phase"] == "mutating")
    assert types[last_mut + 1] == "apiserver.validation"


def test_tagged_image_defaults_to_if_not_present():
    from tests.sim.helpers import run_pod_create
    pod = _stored_pod(run_pod_create(1, image="nginx:alpine"))
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
