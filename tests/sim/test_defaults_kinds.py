"""API defaults for every kind the model serves (pkg/apis/*/v1/defaults.go)."""
from simulator.apiserver.defaults import set_defaults


def test_pod_defaults_requests_from_limits_and_canonical_quantities():
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "a", "image": "nginx:1.27", "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}},
         "ports": [{"containerPort": 80}], "readinessProbe": {"httpGet": {"port": 80}},
         "env": [{"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]},
        {"name": "b", "image": "busybox", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1000m"}}}],
        "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]}}
    changes = set_defaults("Pod", pod)
    spec = pod["spec"]
    a, b = spec["containers"]
    assert a["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}
    assert b["resources"] == {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}  # an explicit request stays
    assert a["imagePullPolicy"] == "IfNotPresent" and b["imagePullPolicy"] == "Always"
    assert a["terminationMessagePath"] == "/dev/termination-log" and a["terminationMessagePolicy"] == "File"
    assert a["ports"][0]["protocol"] == "TCP"
    assert a["readinessProbe"] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    assert a["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert spec["volumes"] == [{"name": "scratch", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}}]
    for k, v in {"restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                 "terminationGracePeriodSeconds": 30, "securityContext": {}, "enableServiceLinks": True}.items():
        assert spec[k] == v, k
    assert "spec.containers[0].resources.requests.cpu=0.5" in changes
    # idempotent: defaulting twice changes nothing more
    assert set_defaults("Pod", pod) == []


def test_pod_host_network_ports_and_digest_image():
    pod = {"spec": {"hostNetwork": True, "containers": [{"name": "a", "image": "nginx@sha256:abc", "ports": [{"containerPort": 8080}]}]}}
    set_defaults("Pod", pod)
    c = pod["spec"]["containers"][0]
    assert c["ports"][0]["hostPort"] == 8080 and c["imagePullPolicy"] == "IfNotPresent"


def test_deployment_and_replicaset_defaults():
    dep = {"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
        "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}
    set_defaults("Deployment", dep)
    s = dep["spec"]
    assert s["replicas"] == 1 and s["revisionHistoryLimit"] == 10 and s["progressDeadlineSeconds"] == 600
    assert s["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    ts = s["template"]["spec"]
    assert ts["restartPolicy"] == "Always" and ts["dnsPolicy"] == "ClusterFirst" and ts["schedulerName"] == "default-scheduler"
    assert "enableServiceLinks" not in ts  # SetDefaults_Pod is for Pods, not templates
    assert ts["containers"][0]["imagePullPolicy"] == "Always"
    recreate = {"spec": {"strategy": {"type": "Recreate"}, "replicas": 0, "template": {"spec": {"containers": []}}}}
    set_defaults("Deployment", recreate)
    assert recreate["spec"]["strategy"] == {"type": "Recreate"} and recreate["spec"]["replicas"] == 0
    rs = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:1"}]}}}}
    set_defaults("ReplicaSet", rs)
    assert rs["spec"]["replicas"] == 1 and rs["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30


def test_service_defaults():
    svc = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}
    set_defaults("Service", svc)
    s = svc["spec"]
    assert s["type"] == "ClusterIP" and s["sessionAffinity"] == "None" and s["internalTrafficPolicy"] == "Cluster"
    assert s["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}, {"port": 443, "targetPort": "https", "protocol": "TCP"}]
    assert s["ipFamilies"] == ["IPv4"] and s["ipFamilyPolicy"] == "SingleStack"
    assert "externalTrafficPolicy" not in s
    np = {"spec": {"type": "NodePort", "sessionAffinity": "ClientIP", "ports": [{"port": 80}]}}
    set_defaults("Service", np)
    assert np["spec"]["externalTrafficPolicy"] == "Cluster"
    assert np["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    lb = {"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    set_defaults("Service", lb)
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True
    ext = {"spec": {"type": "ExternalName", "externalName": "example.com"}}
    set_defaults("Service", ext)
    assert "ipFamilies" not in ext["spec"] and "internalTrafficPolicy" not in ext["spec"]


def test_namespace_node_secret_priorityclass_defaults():
    ns = {"metadata": {"name": "dev"}}
    set_defaults("Namespace", ns)
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "dev"}
    assert ns["status"] == {"phase": "Active"} and ns["spec"] == {"finalizers": ["kubernetes"]}
    node = {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
    set_defaults("Node", node)
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi", "pods": "110"}
    sec = {"metadata": {"name": "s"}, "data": {}}
    set_defaults("Secret", sec)
    assert sec["type"] == "Opaque"
    pc = {"metadata": {"name": "high"}, "value": 1000}
    set_defaults("PriorityClass", pc)
    assert pc["preemptionPolicy"] == "PreemptLowerPriority"
    cm = {"metadata": {"name": "c"}, "data": {"a": "b"}}
    assert set_defaults("ConfigMap", cm) == [] and cm == {"metadata": {"name": "c"}, "data": {"a": "b"}}
    lease = {"metadata": {"name": "l"}, "spec": {"holderIdentity": "x"}}
    assert set_defaults("Lease", lease) == []


def test_rbac_endpointslice_quota_limitrange_defaults():
    rb = {"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"},
          "subjects": [{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "sa"}]}
    set_defaults("RoleBinding", rb)
    assert rb["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert rb["subjects"] == [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                              {"kind": "ServiceAccount", "name": "sa"}]
    crb = {"roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "Group", "name": "g"}]}
    set_defaults("ClusterRoleBinding", crb)
    assert crb["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io"
    es = {"addressType": "IPv4", "endpoints": [], "ports": [{"port": 80}]}
    set_defaults("EndpointSlice", es)
    assert es["ports"] == [{"port": 80, "protocol": "TCP", "name": ""}]
    rq = {"spec": {"hard": {"requests.cpu": "1.5", "requests.memory": "2048Mi", "pods": "1000"}}}
    set_defaults("ResourceQuota", rq)
    assert rq["spec"]["hard"] == {"requests.cpu": "1500m", "requests.memory": "2Gi", "pods": "1k"}
    lr = {"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "default": {"cpu": "1"}},
                              {"type": "Pod", "max": {"cpu": "4"}}]}}
    set_defaults("LimitRange", lr)
    assert lr["spec"]["limits"][0] == {"type": "Container", "max": {"cpu": "2"}, "default": {"cpu": "1"}, "defaultRequest": {"cpu": "1"}}
    assert lr["spec"]["limits"][1] == {"type": "Pod", "max": {"cpu": "4"}}
    assert set_defaults("Event", {"metadata": {"name": "e"}}) == []
    assert set_defaults("Unknown", {"a": 1}) == []
