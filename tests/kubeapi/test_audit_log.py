"""The live cluster's API server audit log, as `make kind-up` gives the lessons' kind cluster one: written under
dashboard/realcluster/kind/audit-policy.yaml, one audit.k8s.io/v1 Event per line, and read the way the `api`
backend reads a real cluster's, through the control-plane node's kubelet (`nodes/<node>/proxy/logs/...`),
with real kubectl and the official client."""
from __future__ import annotations

import json
import time

LOG = "/api/v1/nodes/control-plane/proxy/logs/kubernetes/kube-apiserver-audit.log"


def audit_events(kube, want, timeout: float = 20) -> list[dict]:
    """The log's events (through kubectl get --raw) once want(events) holds."""
    deadline = time.monotonic() + timeout
    while True:
        text = kube.kubectl("get", "--raw", LOG).stdout
        events = [json.loads(line) for line in text.splitlines() if line.strip()]
        if want(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.3)


def ranged(kube, rng: str):
    """A GET of the log with a Range header, through the official client: (status, headers, body)."""
    from kubernetes import config

    api = config.new_client_from_config(str(kube.kubeconfig("instructor")))
    try:
        method, url, headers, _, _ = api.param_serialize("GET", LOG, header_params={"Range": rng, "Accept": "*/*"},
                                                         auth_settings=["BearerToken"])
        resp = api.call_api(method, url, header_params=headers, _request_timeout=10)
        return resp.status, resp.headers, resp.read()
    finally:
        api.close()


def test_kubectl_requests_are_in_the_audit_log_with_their_decision_and_objects(kube):
    kube.kubectl("create", "namespace", "audited")
    kube.kubectl("run", "logged", "--image=nginx", "-n", "audited")

    def created(events):
        return any(e["verb"] == "create" and (e.get("objectRef") or {}).get("name") == "logged"
                   and (e.get("objectRef") or {}).get("resource") == "pods" and "subresource" not in e["objectRef"]
                   for e in events)

    events = audit_events(kube, lambda evs: created(evs) and any(
        (e.get("objectRef") or {}).get("subresource") == "binding" and e["objectRef"].get("name") == "logged" for e in evs))
    assert all(e["kind"] == "Event" and e["apiVersion"] == "audit.k8s.io/v1" for e in events)
    # The policy's omitStages: RequestReceived is never written; nothing for health checks or Leases.
    assert {e["stage"] for e in events} <= {"ResponseStarted", "ResponseComplete"}
    assert not [e for e in events if (e.get("objectRef") or {}).get("resource") == "leases"]
    # (the policy: "/healthz*", "/livez*", "/readyz*" and "/version" exactly; other tests' odd paths are logged)
    assert not [e for e in events if e["requestURI"].startswith(("/healthz", "/livez", "/readyz"))
                or e["requestURI"].split("?")[0] == "/version"]
    run = next(e for e in events if e["verb"] == "create" and (e.get("objectRef") or {}).get("name") == "logged"
               and e["objectRef"]["resource"] == "pods" and "subresource" not in e["objectRef"])
    # Pods are logged at RequestResponse: what kubectl sent (decoded, defaults applied) and what was stored.
    assert run["level"] == "RequestResponse" and run["stage"] == "ResponseComplete"
    assert run["requestURI"].startswith("/api/v1/namespaces/audited/pods")
    assert run["objectRef"] == {"resource": "pods", "namespace": "audited", "name": "logged", "apiVersion": "v1"}
    assert run["responseStatus"] == {"metadata": {}, "code": 201}
    assert run["userAgent"].startswith("kubectl/") and run["sourceIPs"] == ["127.0.0.1"]
    assert "system:authenticated" in run["user"]["groups"]
    sent, stored = run["requestObject"], run["responseObject"]
    assert sent["spec"]["containers"][0]["image"] == "nginx" and "serviceAccountName" not in sent["spec"]
    assert stored["spec"]["serviceAccountName"] == "default" and stored["metadata"]["uid"]
    assert run["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert run["annotations"]["authorization.k8s.io/reason"].startswith("RBAC: allowed by ClusterRoleBinding ")
    assert run["annotations"]["pod-security.kubernetes.io/enforce-policy"] == "privileged:latest"
    assert list(run["annotations"]) == sorted(run["annotations"])
    assert run["requestReceivedTimestamp"] <= run["stageTimestamp"] and run["stageTimestamp"].endswith("Z")
    assert len(run["stageTimestamp"].split(".")[1]) == 7   # microseconds and the Z
    # The scheduler's binding: its own user and User-Agent, from the control-plane node; a Status for an answer.
    bind = next(e for e in events if (e.get("objectRef") or {}).get("subresource") == "binding"
                and e["objectRef"]["name"] == "logged")
    assert bind["user"]["username"] == "system:kube-scheduler"
    assert bind["userAgent"].startswith("kube-scheduler/v1.31.0 (linux/amd64) kubernetes/")
    assert bind["requestObject"]["kind"] == "Binding" and bind["requestObject"]["target"]["kind"] == "Node"
    assert bind["responseObject"] == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                      "code": 201}
    # Everything else at Metadata: no objects.
    ns = next(e for e in events if e["verb"] == "create" and (e.get("objectRef") or {}).get("resource") == "namespaces"
              and e["objectRef"].get("name") == "audited")
    assert ns["level"] == "Metadata" and "requestObject" not in ns and "responseObject" not in ns
    # The Audit-Id header of each answer is its event's auditID.
    proc = kube.kubectl("get", "pod", "logged", "-n", "audited", "-v=8")
    header = next(line for line in proc.stderr.splitlines() if "Audit-Id:" in line)
    audit_id = header.split("Audit-Id:")[1].strip().strip('"').split()[0].strip('"')
    events = audit_events(kube, lambda evs: any(e["auditID"] == audit_id for e in evs))
    got = next(e for e in events if e["auditID"] == audit_id)
    assert got["verb"] == "get" and got["objectRef"]["name"] == "logged" and got["level"] == "RequestResponse"
    assert got["responseObject"]["kind"] == "Table"   # what kubectl got back


def test_a_refused_request_is_logged_with_its_status(kube):
    kube.kubectl("create", "namespace", "audited-strict")
    kube.kubectl("label", "namespace", "audited-strict", "pod-security.kubernetes.io/enforce=restricted")
    refused = kube.kubectl("run", "rooted", "--image=nginx", "-n", "audited-strict", check=False)
    assert refused.returncode == 1 and "violates PodSecurity" in refused.stderr

    def found(evs):
        return [e for e in evs if (e.get("objectRef") or {}).get("namespace") == "audited-strict"
                and e["verb"] == "create" and e["objectRef"].get("resource") == "pods"]

    ev = found(audit_events(kube, found))[0]
    assert ev["responseStatus"]["code"] == 403 and ev["responseStatus"]["status"] == "Failure"
    assert ev["responseStatus"]["reason"] == "Forbidden" and "violates PodSecurity" in ev["responseStatus"]["message"]
    assert ev["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert ev["annotations"]["pod-security.kubernetes.io/enforce-policy"] == "restricted:latest"
    assert ev["responseObject"]["kind"] == "Status"
    # A student who may not do something: decision forbid, RBAC gives no reason.
    kube.kubectl("get", "pods", "-n", "kube-system", role="student", name="auditee", check=False)

    def denied(evs):
        return [e for e in evs if e["user"].get("username") == "auditee" and e["verb"] == "list"
                and (e.get("objectRef") or {}).get("namespace") == "kube-system"]

    ev = denied(audit_events(kube, denied))[0]
    assert ev["annotations"]["authorization.k8s.io/decision"] == "forbid"
    assert ev["responseStatus"]["code"] == 403
    # A token nobody has: no user, and what was tried (filters.WithFailedAuthenticationAudit).
    import subprocess

    from tests.kubestack import KUBECTL

    forged = kube.root / "forged-audit.yaml"
    forged.write_text(kube.kubeconfig("instructor").read_text().replace("token: ", "token: y"))
    subprocess.run([KUBECTL, "get", "pods", "-n", "audited-401"], capture_output=True, timeout=30,
                   env={"KUBECONFIG": str(forged), "HOME": str(kube.root)})

    def unauthenticated(evs):
        return [e for e in evs if (e.get("objectRef") or {}).get("namespace") == "audited-401"]

    ev = unauthenticated(audit_events(kube, unauthenticated))[0]
    assert ev["user"] == {} and ev["stage"] == "ResponseStarted" and ev["verb"] == "list"
    assert ev["responseStatus"] == {"metadata": {}, "message": "Authentication failed, attempted: bearer", "code": 401}
    assert "annotations" not in ev


def test_the_kubelet_serves_the_log_in_ranges_and_only_to_who_may_proxy_to_nodes(kube):
    listing = kube.kubectl("get", "--raw", "/api/v1/nodes/control-plane/proxy/logs/").stdout
    assert '<a href="kubernetes/">kubernetes/</a>' in listing
    status, headers, body = ranged(kube, "bytes=0-9")
    assert status == 206 and body == b'{"kind":"E'
    size = int(headers["Content-Range"].rsplit("/", 1)[1])
    assert headers["Content-Range"] == f"bytes 0-9/{size}" and size > 10
    status, headers, _ = ranged(kube, f"bytes={size + 10_000_000}-")
    assert status == 416 and headers["Content-Range"].startswith("bytes */")
    # A worker's /var/log has no audit log; an unknown node is the API server's 404.
    other = kube.kubectl("get", "--raw", "/api/v1/nodes/worker-1/proxy/logs/kubernetes/kube-apiserver-audit.log",
                         check=False)
    assert other.returncode == 1 and "NotFound" in other.stderr
    missing = kube.kubectl("get", "--raw", "/api/v1/nodes/nowhere/proxy/logs/", check=False)
    assert missing.returncode == 1 and 'nodes "nowhere" not found' in missing.stderr
    # nodes/proxy is a cluster admin's: a student is refused.
    student = kube.kubectl("get", "--raw", LOG, role="student", name="auditee", check=False)
    assert student.returncode == 1
    assert 'User "auditee" cannot get resource "nodes/proxy" in API group "" at the cluster scope' in student.stderr


def test_a_bad_audit_policy_stops_the_kubeapi_before_it_starts(kube, tmp_path):
    import subprocess
    import sys

    from dashboard.launcher import BASE_DIR, free_port

    bad = tmp_path / "policy.yaml"
    bad.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n")
    port = free_port()
    env = {**kube.stack.env, "KUBEAPI_AUDIT_POLICY": str(bad), "KUBEAPI_DIR": str(tmp_path / "kubeapi")}
    proc = subprocess.run([sys.executable, "manage.py", "kubeapi", "--port", str(port)], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"KUBEAPI_AUDIT_POLICY {bad}: rules[0].level: must be one of None, Metadata, Request, RequestResponse" \
        in proc.stderr
    assert not (tmp_path / "kubeapi").exists()   # nothing made: no certificate, no log


def test_kubectl_exec_is_logged_when_it_starts_and_when_it_ends(kube):
    kube.kubectl("exec", "-n", "kube-system", "etcd-control-plane", "--", "etcdctl", "version")

    def execs(evs):
        return [e for e in evs if (e.get("objectRef") or {}).get("subresource") == "exec"]

    got = execs(audit_events(kube, lambda evs: len(execs(evs)) >= 2))
    started, done = got[-2:]
    assert started["auditID"] == done["auditID"] and started["verb"] == "get"
    assert [started["stage"], done["stage"]] == ["ResponseStarted", "ResponseComplete"]
    assert done["responseStatus"]["code"] == 101 and done["objectRef"]["name"] == "etcd-control-plane"
    assert done["requestURI"].startswith("/api/v1/namespaces/kube-system/pods/etcd-control-plane/exec?command=etcdctl")
    assert done["annotations"]["authorization.k8s.io/decision"] == "allow"
