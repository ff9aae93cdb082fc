"""Scenario "apiserver-security": each gate of the API server refuses with kube-apiserver's own code and
message, a refused request writes nothing to etcd, and the requests the admin's Role, LimitRange and
ResourceQuota let through are stored as admission changed them."""
from __future__ import annotations

import json

import pytest

from simulator.runner import Simulation
from simulator.scenarios import apiserver_security as scenario

NS_PODS = "/api/v1/namespaces/dev/pods"
# The keys only a control plane's own bookkeeping writes whatever the scenario does.
BACKGROUND = ("/registry/leases/", "/registry/events/")


def _run(params=None, seed=1):
    sim = Simulation(scenario.ID, params or {}, seed=seed)
    return sim, list(sim.events())


@pytest.fixture(scope="module")
def run():
    return _run()


def _kubectl_answers(evs):
    """(step, kubectl.request summary's command, response code, status message or None) per kubectl request."""
    out, pending = [], []
    for e in evs:
        if e["type"] == "kubectl.request":
            pending.append(e)
        elif e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl":
            req = pending.pop(0)
            status = e["data"]["status"]
            out.append((req["step"], req["summary"].split(": ")[0], e["data"]["code"],
                        status["message"] if status else None))
    assert not pending
    return out


def _puts(evs, steps):
    """Keys etcd committed during `steps`, leaving out the cluster's heartbeat and Event objects."""
    return [e["data"]["key"] for e in evs if e["type"] == "etcd.put" and e.get("step") in steps
            and not e["data"]["key"].startswith(BACKGROUND)]


def test_every_request_gets_kube_apiservers_code_and_message_in_its_step(run):
    sim, evs = run
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 10))
    answers = _kubectl_answers(evs)
    codes = [(step, code) for step, _, code, _ in answers]
    assert codes == [(1, 403), (2, 401), (3, 201), (3, 403), (3, 403), (4, 201), (4, 201), (4, 201),
                     (5, 201), (5, 200), (6, 201), (7, 201), (8, 201), (9, 403)]
    messages = {(step, code): msg for step, _, code, msg in answers if msg}
    assert messages == {
        (1, 403): 'pods is forbidden: User "system:anonymous" cannot create resource "pods" in API group "" '
                  'in the namespace "dev"',
        (2, 401): "Unauthorized",
        (3, 403): 'pods is forbidden: User "jane" cannot create resource "pods" in API group "" in the namespace "dev"',
        (9, 403): 'pods "big" is forbidden: exceeded quota: dev-quota, requested: requests.cpu=1, '
                  'used: requests.cpu=250m, limited: requests.cpu=1',
    }
    # jane's list in step 3 has the exact wording kubectl prints after "Error from server (Forbidden): ".
    assert [msg for step, cmd, code, msg in answers if step == 3 and cmd.endswith("get pods -n dev")] == [
        'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "dev"']
    # The Status objects are kube-apiserver's: reason and details as it sends them.
    statuses = [e["data"]["status"] for e in evs if e["type"] == "apiserver.response"
                and (e.get("to") or {}).get("component") == "kubectl" and e["data"]["status"]]
    assert statuses[1] == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    assert statuses[0]["reason"] == "Forbidden" and statuses[0]["details"] == {"kind": "pods"}
    assert statuses[-1]["reason"] == "Forbidden" and statuses[-1]["details"] == {"name": "big", "kind": "pods"}
    # kubectl's real requests: curl and kubectl POST to the collection, can-i posts a SelfSubjectAccessReview.
    reqs = [(e["step"], e["data"]["method"], e["data"]["path"]) for e in evs if e["type"] == "kubectl.request"]
    assert reqs[:5] == [(1, "POST", NS_PODS), (2, "POST", NS_PODS),
                        (3, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
                        (3, "GET", NS_PODS), (3, "POST", NS_PODS)]
    assert (4, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings") in reqs


def test_which_gate_stops_each_refused_request(run):
    sim, evs = run
    by_step = lambda n, t: [e["data"] for e in evs if e.get("step") == n and e["type"] == t]
    # Step 1: no credential at all is anonymous - authentication passes, RBAC refuses.
    assert by_step(1, "apiserver.authn") == [{"authenticator": "anonymous", "user": "system:anonymous",
                                               "groups": ["system:unauthenticated"], "decision": "allow"}]
    assert [a["decision"] for a in by_step(1, "apiserver.authz")] == ["deny"]
    # Step 2: a token nobody issued stops at authentication; authorization never runs.
    assert [(a["authenticator"], a["decision"]) for a in by_step(2, "apiserver.authn")] == [("token", "deny")]
    assert by_step(2, "apiserver.authz") == []
    # Step 3: jane is authenticated (and in system:authenticated) but RBAC allows only her SelfSubjectAccessReview.
    assert {tuple(a["groups"]) for a in by_step(3, "apiserver.authn")} == {("developers", "system:authenticated")}
    assert [(a["verb"], a["resource"], a["decision"]) for a in by_step(3, "apiserver.authz")] == [
        ("create", "selfsubjectaccessreviews", "allow"), ("list", "pods", "deny"), ("create", "pods", "deny")]
    # None of the refused requests reached admission or validation.
    for n in (1, 2, 3):
        assert by_step(n, "apiserver.admission") == [] and by_step(n, "apiserver.validation") == []
    # Step 5: the same list allowed, naming the admin's binding.
    (allowed,) = [a for a in by_step(5, "apiserver.authz") if a["resource"] == "pods"]
    assert allowed["decision"] == "allow"
    assert allowed["reason"] == 'RBAC: allowed by RoleBinding "jane-pod-manager/dev" of Role "pod-manager" to User "jane"'
    # Step 9: jane may create Pods; the third gate's last validating plugin refuses.
    assert [a["decision"] for a in by_step(9, "apiserver.authz")] == ["allow"]
    adm = [(a["phase"], a["plugin"], a["decision"]) for a in by_step(9, "apiserver.admission")]
    assert adm[-1] == ("validating", "ResourceQuota", "deny")
    assert all(d == "admit" for _, _, d in adm[:-1])


def test_can_i_says_no_before_the_binding_and_yes_after(run):
    sim, evs = run
    assert scenario.answers(sim.cluster) == [("kubectl --context=jane auth can-i list pods -n dev", "no"),
                                              ("kubectl --context=jane auth can-i list pods -n dev", "yes")]
    assert evs[-1]["type"] == "scenario.completed"
    assert evs[-1]["data"]["outcome"] == "pods in dev: web; can-i list pods: no -> yes"


def test_refused_requests_write_nothing_and_allowed_ones_are_stored(run):
    sim, evs = run
    # The gates' refusals: nothing committed in steps 1-3, no storage requested at all.
    assert _puts(evs, (1, 2, 3)) == []
    assert [e for e in evs if e["type"] == "apiserver.storage" and e.get("step") in (1, 2, 3)] == []
    # The quota's refusal: neither the Pod nor the quota's usage was written.
    assert _puts(evs, (9,)) == []
    assert not any(e["type"] == "apiserver.storage" and e.get("step") == 9 for e in evs)
    # What the allowed requests stored, step by step (the namespace's own ServiceAccount and CA ConfigMap
    # come from controllers; the Pod's updates from the scheduler and kubelet).
    assert _puts(evs, (4,)) == ["/registry/namespaces/dev", "/registry/configmaps/dev/kube-root-ca.crt",
                                "/registry/serviceaccounts/dev/default", "/registry/roles/dev/pod-manager",
                                "/registry/rolebindings/dev/jane-pod-manager"]
    assert _puts(evs, (5,)) == []
    assert _puts(evs, (6,)) == ["/registry/limitranges/dev/defaults"]
    assert set(_puts(evs, (7,))) == {"/registry/pods/dev/web"}
    assert _puts(evs, (8,)) == ["/registry/resourcequotas/dev/dev-quota"] * 2  # created, then its usage
    store = sim.cluster.etcd.store
    assert [kv.key for kv in store.range("/registry/pods/dev/", prefix=True)] == ["/registry/pods/dev/web"]
    q = json.loads(store.get("/registry/resourcequotas/dev/dev-quota").value)
    assert q["status"]["used"] == {"pods": "1", "requests.cpu": "250m", "requests.memory": "128Mi"}


def test_limit_ranger_fills_in_the_pod_that_named_no_resources(run):
    sim, evs = run
    (sent,) = [e for e in evs if e["type"] == "kubectl.request" and e["step"] == 7]
    assert sent["data"]["body"]["spec"]["containers"][0]["resources"] == {}
    (mutation,) = [e["data"] for e in evs if e["type"] == "apiserver.admission" and e["step"] == 7
                   and e["data"]["plugin"] == "LimitRanger" and e["data"]["phase"] == "mutating"]
    assert mutation["changes"] == ["spec.containers[0].resources.limits.cpu=500m",
                                   "spec.containers[0].resources.limits.memory=256Mi",
                                   "spec.containers[0].resources.requests.cpu=250m",
                                   "spec.containers[0].resources.requests.memory=128Mi"]
    # Mutating admission runs before validation, which runs before the validating plugins.
    order = [e["type"] if e["type"] != "apiserver.admission" else e["data"]["phase"]
             for e in evs if e.get("step") == 7 and e["type"] in ("apiserver.admission", "apiserver.validation")]
    assert order == sorted(order, key=["mutating", "apiserver.validation", "validating"].index)
    # The Pod etcd holds is the changed one, with LimitRanger's annotation.
    first_put = next(e for e in evs if e["type"] == "etcd.put" and e["data"]["key"] == "/registry/pods/dev/web")
    assert first_put["step"] == 7
    web = first_put["data"]["value"]
    assert web["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m", "memory": "256Mi"},
                                                         "requests": {"cpu": "250m", "memory": "128Mi"}}
    assert web["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web")


def test_params_change_the_credential_and_the_defaults():
    sim, evs = _run({"credential": "token", "default_cpu": 100})
    assert {e["data"]["authenticator"] for e in evs if e["type"] == "apiserver.authn"
            and e["data"]["user"] == "jane"} == {"token"}
    web = json.loads(sim.cluster.etcd.store.get("/registry/pods/dev/web").value)
    assert web["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"
    assert web["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "200m"
    (refused,) = [e for e in evs if e["type"] == "apiserver.response" and e.get("step") == 9
                  and (e.get("to") or {}).get("component") == "kubectl"]
    assert refused["data"]["status"]["message"].endswith("used: requests.cpu=100m, limited: requests.cpu=1")
    assert sim.cluster.etcd.store.get("/registry/pods/dev/big") is None


def test_same_seed_same_events(run):
    _, evs = run
    _, again = _run()
    assert json.dumps(again) == json.dumps(evs)
