"""Authentication and authorization failures answer with kube-apiserver's real Status objects and write
nothing to etcd."""
from tests.sim.helpers import create_pod, pod_manifest, written_state

from simulator.apiserver import Credential
from simulator.cluster import ADMIN


def _revision(cluster):
    return written_state(cluster)


def test_invalid_credential_is_401_and_writes_nothing(cluster):
    before = _revision(cluster)
    for cred in (Credential.bearer("not-a-real-token"), Credential.x509("mallory", issuer="mallory-ca")):
        resp = create_pod(cluster, pod_manifest("nginx"), credential=cred)
        assert resp.code == 401
        assert resp.status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    cluster.run()
    assert _revision(cluster) == before
    assert cluster.get("/registry/pods/default/nginx") is None


def test_anonymous_request_is_403_with_the_real_message_and_writes_nothing(cluster):
    before = _revision(cluster)
    resp = create_pod(cluster, pod_manifest("nginx"), credential=None)
    assert resp.code == 403
    assert resp.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods is forbidden: User "system:anonymous" cannot create resource "pods" in API group "" in the namespace "default"',
        "reason": "Forbidden", "details": {"kind": "pods"}, "code": 403}
    cluster.run()
    assert _revision(cluster) == before


def test_authenticated_user_without_rbac_is_forbidden(cluster):
    cluster.authenticator.tokens["t0ken"] = ("jane", ("developers",))
    before = _revision(cluster)
    resp = create_pod(cluster, pod_manifest("nginx"), credential=Credential.bearer("t0ken"))
    assert resp.code == 403
    assert resp.status["message"] == ('pods is forbidden: User "jane" cannot create resource "pods" in API group "" '
                                      'in the namespace "default"')
    assert _revision(cluster) == before


def test_trace_shows_authn_then_authz_deny_then_response(cluster):
    cluster.tracer.buffer.clear()
    create_pod(cluster, pod_manifest("nginx"), credential=None)
    evs = list(cluster.tracer.buffer)
    types = [e["type"] for e in evs]
    assert types == ["apiserver.authn", "apiserver.authz", "apiserver.response"]
    assert evs[0]["data"] == {"authenticator": "anonymous", "user": "system:anonymous",
                              "groups": ["system:unauthenticated"], "decision": "allow"}
    assert evs[1]["data"]["decision"] == "deny"
    assert evs[2]["data"]["code"] == 403 and evs[2]["data"]["status"]["reason"] == "Forbidden"


def test_admin_is_allowed_by_the_kubeadm_cluster_admins_binding(cluster):
    cluster.tracer.buffer.clear()
    resp = create_pod(cluster, pod_manifest("nginx"))
    assert resp.code == 201
    authz = next(e for e in cluster.tracer.buffer if e["type"] == "apiserver.authz")
    assert authz["data"]["reason"] == ('RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole '
                                       '"cluster-admin" to Group "kubeadm:cluster-admins"')
    authn = next(e for e in cluster.tracer.buffer if e["type"] == "apiserver.authn")
    assert authn["data"]["groups"] == ["kubeadm:cluster-admins", "system:authenticated"]


def test_invalid_name_is_422_and_writes_nothing(cluster):
    before = _revision(cluster)
    m = pod_manifest("Nginx_1")
    m["spec"]["containers"][0]["name"] = "nginx"
    resp = create_pod(cluster, m)
    assert resp.code == 422
    st = resp.status
    assert st["reason"] == "Invalid"
    assert st["message"].startswith('Pod "Nginx_1" is invalid: metadata.name: Invalid value: "Nginx_1": a lowercase RFC 1123 subdomain')
    assert st["details"]["causes"][0]["field"] == "metadata.name"
    both = pod_manifest("Nginx_1")  # the container name is invalid too: both errors, in brackets
    msg = create_pod(cluster, both).status["message"]
    assert msg.startswith('Pod "Nginx_1" is invalid: [metadata.name: Invalid value') and "spec.containers[0].name" in msg
    assert _revision(cluster) == before


def test_second_create_of_the_same_name_is_409_already_exists(cluster):
    assert create_pod(cluster, pod_manifest("web")).code == 201
    rev = _revision(cluster)
    resp = create_pod(cluster, pod_manifest("web"))
    assert resp.code == 409
    assert resp.status["message"] == 'pods "web" already exists' and resp.status["reason"] == "AlreadyExists"
    assert _revision(cluster) >= rev  # (other components may still be writing for the first pod)


def test_missing_namespace_is_refused_by_namespace_lifecycle(cluster):
    before = _revision(cluster)
    resp = create_pod(cluster, pod_manifest("x"), namespace="nope")
    assert resp.code == 404 and resp.status["message"] == 'namespaces "nope" not found'
    assert _revision(cluster) == before


def test_kubelet_may_update_only_pods_bound_to_its_node(cluster):
    from simulator.apiserver import Request
    assert create_pod(cluster, pod_manifest("web")).code == 201
    cluster.run()
    node = cluster.get("/registry/pods/default/web")["spec"]["nodeName"]
    other = "worker-2" if node == "worker-1" else "worker-1"
    req = lambda n: Request("PATCH", "/api/v1/namespaces/default/pods/web/status", "patch", "pods", "default", "web",
                            subresource="status", body={"status": {}},
                            credential=Credential.x509(f"system:node:{n}", "system:nodes"))
    assert cluster.call(req(node)).code == 200
    denied = cluster.call(req(other))
    assert denied.code == 403
    assert denied.status["message"] == (f'pods "web" is forbidden: User "system:node:{other}" cannot patch resource '
                                        f'"pods/status" in API group "" in the namespace "default"')
    assert ADMIN.cn == "kubernetes-admin"
