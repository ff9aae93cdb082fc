"""API validation (422 causes) for every kind, with upstream's field paths and messages, and quantities in
canonical form."""
import pytest

from simulator import quantity as qty
from simulator.apiserver import status as st
from simulator.apiserver.defaults import set_defaults
from simulator.apiserver.validation import SUBDOMAIN_ERR, LABEL_ERR, DNS1035_ERR, validate, validate_pod


def _msgs(causes):
    return [f'{c["field"]}: {c["message"]}' for c in causes]


def _ok(kind, obj, old=None):
    set_defaults(kind, obj)
    errs = validate(kind, obj, old)
    assert errs == [], errs
    return obj


def _errs(kind, obj, old=None, defaults=True):
    if defaults:
        set_defaults(kind, obj)
    return _msgs(validate(kind, obj, old))


def _pod(name="nginx", **spec):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}], **spec}}


def _deploy(name="web", labels=None, selector=None, **spec):
    labels = {"app": "web"} if labels is None else labels
    sel = {"matchLabels": {"app": "web"}} if selector is None else selector
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": sel, "template": {"metadata": {"labels": labels},
                                                   "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}, **spec}}


# ---- quantities ----
@pytest.mark.parametrize("given,canonical", [
    ("500m", "500m"), ("1Gi", "1Gi"), ("2", "2"), ("1.5", "1500m"), ("0.5", "500m"), ("1024Mi", "1Gi"),
    ("1536Mi", "1536Mi"), ("0.5Gi", "512Mi"), ("1000", "1k"), ("1000m", "1"), ("100Ki", "100Ki"), ("1e3", "1e3"),
    ("128974848", "128974848"), ("129M", "129M"), ("0", "0"), ("0.1", "100m"), (2, "2"), (0.25, "250m")])
def test_quantity_canonical_forms(given, canonical):
    assert qty.canonical(given) == canonical


def test_quantity_arithmetic_keeps_format():
    z = qty.parse("0")
    assert str(z + qty.parse("1Gi")) == "1Gi"           # a zero takes the other's format
    assert str(qty.parse("1Gi") + qty.parse("512Mi")) == "1536Mi"
    assert str(qty.parse("1") + qty.parse("500m")) == "1500m"
    assert qty.parse("1").cmp("1000m") == 0 and qty.parse("2") > qty.parse("1500m")
    assert qty.parse("100m").milli_value() == 100 and qty.parse("1.5Gi").int_value() == 1610612736
    assert qty.try_parse("abc") is None and qty.try_parse("1x") is None
    assert qty.parse_cpu_milli("250m") == 250 and qty.parse_bytes("1Gi") == 1073741824
    # MilliValue and Value round up, as upstream (a request of 0.0001 CPU counts as 1m, 1.5 bytes as 2)
    assert qty.parse_cpu_milli("0.0001") == 1 and qty.parse_cpu_milli(0.5) == 500 and qty.parse_cpu_milli("1e3") == 1000000
    assert qty.parse_bytes("1.5") == 2 and qty.parse_bytes("500M") == 500000000 and qty.parse_bytes(1000) == 1000


# ---- metadata and Pods ----
def test_pod_name_and_container_messages():
    errs = _errs("Pod", _pod("Nginx"))
    assert errs == [f'metadata.name: Invalid value: "Nginx": {SUBDOMAIN_ERR}']
    p = _pod()
    p["spec"]["containers"] = [{"name": "web", "image": ""}, {"name": "Web_1", "image": "nginx"}, {"name": "web", "image": " x"}]
    errs = _errs("Pod", p)
    assert errs == ["spec.containers[0].image: Required value",
                    f'spec.containers[1].name: Invalid value: "Web_1": {LABEL_ERR}',
                    'spec.containers[2].name: Duplicate value: "web"',
                    'spec.containers[2].image: Invalid value: " x": must not have leading or trailing whitespace']
    assert _errs("Pod", {"metadata": {"namespace": "default"}, "spec": {}}) == [
        "metadata.name: Required value: name or generateName is required", "spec.containers: Required value"]


def test_invalid_status_message_format():
    p = _pod("Nginx")
    set_defaults("Pod", p)
    causes = validate("Pod", p)
    status = st.invalid("Pod", "Nginx", causes)
    assert status["code"] == 422 and status["reason"] == "Invalid"
    assert status["message"] == f'Pod "Nginx" is invalid: metadata.name: Invalid value: "Nginx": {SUBDOMAIN_ERR}'
    assert status["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "metadata.name",
                                            "message": f'Invalid value: "Nginx": {SUBDOMAIN_ERR}'}]


def test_pod_spec_enums_ports_resources_tolerations():
    p = _pod(restartPolicy="Sometimes", dnsPolicy="Weird",
             tolerations=[{"key": "a", "operator": "Exists", "value": "x"}, {"operator": "Equal"},
                          {"key": "b", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}])
    c = p["spec"]["containers"][0]
    c["imagePullPolicy"] = "Sometimes"
    c["ports"] = [{"containerPort": 70000}, {"containerPort": 80, "protocol": "HTTP", "name": "Web"}]
    c["resources"] = {"limits": {"cpu": "1"}, "requests": {"cpu": "2", "memory": "-1"}}
    errs = _errs("Pod", p)
    assert 'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive' in errs
    assert ('spec.containers[0].ports[1].name: Invalid value: "Web": must contain only alpha-numeric characters '
            '(a-z, 0-9), and hyphens (-)') in errs
    assert 'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"' in errs
    assert ('spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
            '"IfNotPresent", "Never"') in errs
    assert 'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0' in errs
    assert 'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1' in errs
    assert 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"' in errs
    assert ('spec.dnsPolicy: Unsupported value: "Weird": supported values: "ClusterFirstWithHostNet", "ClusterFirst", '
            '"Default", "None"') in errs
    assert any(e.startswith("spec.tolerations[0].operator: Invalid value: core.Toleration{") and
               e.endswith("value must be empty when `operator` is 'Exists'") for e in errs)
    assert ('spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
            'which means "match all values and all keys"') in errs
    assert ('spec.tolerations[2].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' when '
            '`tolerationSeconds` is set') in errs


def test_pod_volume_mounts():
    p = _pod(volumes=[{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}])
    p["spec"]["containers"][0]["volumeMounts"] = [{"name": "cache", "mountPath": "/cache"}]
    errs = _errs("Pod", p)
    assert errs == ['spec.volumes[1].name: Duplicate value: "data"',
                    'spec.containers[0].volumeMounts[0].name: Not found: "cache"']


def test_pod_update_is_immutable_except_images_and_tolerations():
    old = _ok("Pod", _pod())
    new = {**old, "spec": {**old["spec"], "containers": [{**old["spec"]["containers"][0], "image": "nginx:1.27"}]}}
    assert validate("Pod", new, old) == []
    new = {**old, "spec": {**old["spec"], "tolerations": [{"key": "k", "operator": "Exists"}]}}
    assert validate("Pod", new, old) == []
    new = {**old, "spec": {**old["spec"], "restartPolicy": "Never"}}
    errs = _msgs(validate("Pod", new, old))
    assert len(errs) == 1 and errs[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n")
    assert '- \tRestartPolicy: "Always",' in errs[0] and '+ \tRestartPolicy: "Never",' in errs[0]
    renamed = {**old, "metadata": {**old["metadata"], "name": "other"}}
    assert _msgs(validate("Pod", renamed, old)) == ['metadata.name: Invalid value: "other": field is immutable']


def test_validate_pod_kept_for_the_server():
    errs = validate_pod({"metadata": {"name": "Nginx_1"}, "spec": {"containers": [{"name": "Nginx_1", "image": "x"}]}})
    assert [e["field"] for e in errs] == ["metadata.name", "spec.containers[0].name"]
    assert errs[0]["message"].startswith('Invalid value: "Nginx_1": a lowercase RFC 1123 subdomain')


def test_labels():
    p = _pod()
    p["metadata"]["labels"] = {"app": "web app", "bad key!": "x"}
    errs = _errs("Pod", p)
    assert errs[0].startswith('metadata.labels: Invalid value: "web app": a valid label must be an empty string')
    assert errs[1].startswith('metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric')


# ---- Deployments / ReplicaSets ----
def test_deployment_replicas_selector_and_strategy():
    d = _deploy(replicas=-1)
    assert _errs("Deployment", d) == ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
    d = _deploy(labels={"app": "nginx"})
    assert _errs("Deployment", d) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`']
    d = _deploy()
    del d["spec"]["selector"]
    assert _errs("Deployment", d) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`']
    d = _deploy(selector={})
    assert _errs("Deployment", d) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
    d = _deploy(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}})
    assert _errs("Deployment", d) == [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: '
        "may not be 0 when `maxSurge` is 0"]
    d = _deploy(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "abc"}})
    assert _errs("Deployment", d)[0].startswith(
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"abc"}: '
        "a valid percent string must be")
    d = _deploy(minReadySeconds=700)
    assert _errs("Deployment", d) == ["spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"]
    d = _deploy()
    d["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert _errs("Deployment", d) == ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']
    d = _deploy()
    d["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    assert _errs("Deployment", d) == ["spec.template.spec.containers[0].image: Required value"]


def test_deployment_selector_is_immutable():
    old = _ok("Deployment", _deploy())
    new = _deploy(labels={"app": "web2"}, selector={"matchLabels": {"app": "web2"}})
    set_defaults("Deployment", new)
    assert _msgs(validate("Deployment", new, old)) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable']
    scaled = _deploy(replicas=5)
    set_defaults("Deployment", scaled)
    assert validate("Deployment", scaled, old) == []


def test_replicaset():
    rs = _deploy(replicas=-2)
    rs["kind"] = "ReplicaSet"
    assert _errs("ReplicaSet", rs) == ["spec.replicas: Invalid value: -2: must be greater than or equal to 0"]


# ---- Services ----
def test_service_messages():
    svc = {"metadata": {"name": "1web", "namespace": "default"}, "spec": {"ports": []}}
    assert _errs("Service", svc) == [f'metadata.name: Invalid value: "1web": {DNS1035_ERR}', "spec.ports: Required value"]
    svc = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"type": "Magic", "ports": [{"port": 70000, "nodePort": 30001}, {"port": 80, "name": "http"}]}}
    errs = _errs("Service", svc)
    assert errs == ["spec.ports[0].name: Required value",
                    "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                    "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                    'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']
    svc = {"metadata": {"name": "web", "namespace": "default"}, "spec": {"ports": [{"port": 80, "nodePort": 30080}]}}
    assert _errs("Service", svc) == ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    svc = {"metadata": {"name": "web", "namespace": "default"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 20000}]}}
    assert _errs("Service", svc) == ["spec.ports[0].nodePort: Invalid value: 20000: provided port is not in the valid "
                                     "range. The range of valid ports is 30000-32767"]
    svc = {"metadata": {"name": "web", "namespace": "default"}, "spec": {"ports": [{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]}}
    assert _errs("Service", svc)[0].startswith('spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP"')
    old = _ok("Service", {"metadata": {"name": "web", "namespace": "default"},
                          "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}]}})
    new = {**old, "spec": {**old["spec"], "clusterIP": "10.96.0.11"}}
    assert _msgs(validate("Service", new, old)) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']


# ---- other kinds ----
def test_namespace_node_configmap_secret():
    assert _errs("Namespace", {"metadata": {"name": "Dev"}}) == [f'metadata.name: Invalid value: "Dev": {LABEL_ERR}']
    node = {"metadata": {"name": "n1"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}, {"key": "k", "effect": ""}]}}
    assert _errs("Node", node) == [
        'spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        "spec.taints[1].effect: Required value"]
    cm = {"metadata": {"name": "c", "namespace": "default"}, "data": {"bad key": "x"}}
    assert _errs("ConfigMap", cm) == [
        'data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, \'-\', '
        "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]
    old = _ok("ConfigMap", {"metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1"}, "immutable": True})
    new = {**old, "data": {"a": "2"}}
    assert _msgs(validate("ConfigMap", new, old)) == ["data: Forbidden: field is immutable when `immutable` is set"]
    tls = {"metadata": {"name": "t", "namespace": "default"}, "type": "kubernetes.io/tls", "data": {}}
    assert _errs("Secret", tls) == ["data[tls.crt]: Required value", "data[tls.key]: Required value"]
    old = _ok("Secret", {"metadata": {"name": "s", "namespace": "default"}, "data": {}})
    new = {**old, "type": "kubernetes.io/basic-auth", "data": {"username": "dQ=="}}
    assert _msgs(validate("Secret", new, old)) == ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']


def test_priorityclass_lease_quota_limitrange():
    pc = {"metadata": {"name": "system-mine"}, "value": 10}
    assert _errs("PriorityClass", pc) == [
        "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
        "error: system-mine is not a known system priority class"]
    assert _errs("PriorityClass", {"metadata": {"name": "huge"}, "value": 2000000000}) == [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
    old = _ok("PriorityClass", {"metadata": {"name": "high"}, "value": 1000})
    assert _msgs(validate("PriorityClass", {**old, "value": 5}, old)) == ["value: Forbidden: may not be changed in an update."]
    lease = {"metadata": {"name": "l", "namespace": "kube-node-lease"}, "spec": {"leaseDurationSeconds": 0}}
    assert _errs("Lease", lease) == ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]
    rq = {"metadata": {"name": "q", "namespace": "default"}, "spec": {"hard": {"pods": "1.5", "requests.cpu": "-1"}}}
    assert _errs("ResourceQuota", rq) == ['spec.hard[pods]: Invalid value: "1500m": must be an integer',
                                          'spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0']
    lr = {"metadata": {"name": "l", "namespace": "default"},
          "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}, "default": {"cpu": "2"}}]}}
    errs = _errs("LimitRange", lr)
    assert 'spec.limits[0].default[cpu]: Invalid value: "2": default value 2 is greater than max value 1' in errs


def test_rbac_kinds():
    role = {"metadata": {"name": "r", "namespace": "dev"},
            "rules": [{"apiGroups": [""], "resources": ["pods"]}, {"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
                      {"verbs": ["get"], "resources": ["pods"]}]}
    assert _errs("Role", role) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
        "rules[2].apiGroups: Required value: resource rules must supply at least one api group"]
    assert _errs("ClusterRole", {"metadata": {"name": "a/b"}, "rules": []}) == [
        "metadata.name: Invalid value: \"a/b\": may not contain '/'"]
    crb = {"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"},
           "subjects": [{"kind": "ServiceAccount", "name": "sa"}, {"kind": "Robot", "name": "x"}]}
    assert _errs("ClusterRoleBinding", crb) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "subjects[0].namespace: Required value",
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']
    old = _ok("RoleBinding", {"metadata": {"name": "b", "namespace": "dev"}, "roleRef": {"kind": "Role", "name": "r"},
                              "subjects": [{"kind": "User", "name": "jane"}]})
    new = {**old, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}}
    assert _msgs(validate("RoleBinding", new, old)) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"view"}: '
        "cannot change roleRef"]


def test_endpointslice_and_event():
    es = {"metadata": {"name": "web-abc", "namespace": "default"}, "addressType": "IPv5",
          "endpoints": [{"addresses": []}], "ports": [{"port": 80, "protocol": "HTTP"}]}
    assert _errs("EndpointSlice", es) == [
        'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
        "endpoints[0].addresses: Required value: must contain at least 1 address",
        'ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']
    es = {"metadata": {"name": "web-abc", "namespace": "default"}, "addressType": "IPv4",
          "endpoints": [{"addresses": ["10.0.0.300"]}]}
    assert _errs("EndpointSlice", es) == ['endpoints[0].addresses[0]: Invalid value: "10.0.0.300": must be a valid IPv4 address']
    ev = {"metadata": {"name": "web.1", "namespace": "default"}, "involvedObject": {"kind": "Pod", "namespace": "dev", "name": "web"}}
    assert _errs("Event", ev) == ['involvedObject.namespace: Invalid value: "dev": does not match event.namespace']
    node_ev = {"metadata": {"name": "n1.1", "namespace": "default"}, "involvedObject": {"kind": "Node", "name": "n1"}}
    assert _errs("Event", node_ev) == []


def test_valid_objects_of_every_kind_pass():
    _ok("Pod", _pod())
    _ok("Deployment", _deploy())
    _ok("Service", {"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    _ok("Namespace", {"metadata": {"name": "dev"}})
    _ok("Node", {"metadata": {"name": "worker-1"}, "spec": {"podCIDR": "10.244.1.0/24"}, "status": {"capacity": {"cpu": "4"}}})
    _ok("Secret", {"metadata": {"name": "s", "namespace": "default"}, "data": {"a.b": "eA=="}})
    _ok("Lease", {"metadata": {"name": "n1", "namespace": "kube-node-lease"}, "spec": {"leaseDurationSeconds": 40}})
    _ok("ResourceQuota", {"metadata": {"name": "q", "namespace": "default"}, "spec": {"hard": {"pods": "10", "count/deployments.apps": "2"}}})
    _ok("ClusterRole", {"metadata": {"name": "system:x"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]})
    _ok("ServiceAccount", {"metadata": {"name": "default", "namespace": "default"}})
    _ok("EndpointSlice", {"metadata": {"name": "web-x", "namespace": "default"}, "addressType": "IPv4",
                          "endpoints": [{"addresses": ["10.244.1.5"]}], "ports": [{"port": 80, "name": "http"}]})


def test_pod_update_compares_decoded_objects():
    # a stored Pod written without defaults (e.g. bootstrapped straight into etcd) reads back defaulted
    stored = {"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "a", "image": "a:1"}]}}
    new = {"metadata": {"name": "p", "namespace": "default", "labels": {"x": "y"}},
           "spec": {"containers": [{"name": "a", "image": "a:1"}]}}
    set_defaults("Pod", new)
    assert validate("Pod", new, stored) == []


def test_qualified_names_are_checked_as_apimachinery_checks_them():
    """IsQualifiedName: an empty prefix does not end the checks; an empty name part fails both rules."""
    from simulator.apiserver.validation import QNAME_ERR, qualified_name_msgs

    assert qualified_name_msgs("example.com/app") == [] and qualified_name_msgs("app") == []
    assert qualified_name_msgs("/") == ["prefix part must be non-empty", "name part must be non-empty", QNAME_ERR]
    assert qualified_name_msgs("a/") == ["name part must be non-empty", QNAME_ERR]
    assert qualified_name_msgs("/-a") == ["prefix part must be non-empty", QNAME_ERR]
