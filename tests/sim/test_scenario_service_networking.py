"""Scenario "service-networking": a ClusterIP Service over a Deployment with a readiness probe. The endpoints
controllers list the ready Pods, kube-proxy on every node writes KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP with
kube-proxy's probabilities; a scale-up adds a chain; a Pod failing readiness moves to notReadyAddresses and
loses its chain."""
from __future__ import annotations

import ipaddress
import json

import pytest

from simulator.kubeproxy import iptables
from simulator.runner import Simulation
from simulator.scenarios import service_networking as sn

SPN = "default/web"              # the service port name (one unnamed port)
SVC_CHAIN = iptables.service_port_policy_cluster_chain(SPN, "tcp")
NODES = {"control-plane", "worker-1", "worker-2"}


def sep_chain(ip: str) -> str:
    return iptables.service_port_endpoint_chain_name(SPN, "tcp", f"{ip}:80")


def svc_rules(rules: str) -> list[str]:
    """The KUBE-SVC chain's jumps to endpoints, in order."""
    return [ln for ln in rules.splitlines() if ln.startswith(f"-A {SVC_CHAIN} ") and "KUBE-SEP-" in ln]


def expected_svc_rules(ips: list[str]) -> list[str]:
    """What kube-proxy writes for these endpoints: ordered by "ip:port" as strings, probability
    1/(n-i) with %0.10f on every rule but the last (proxier.go writeServiceToEndpointRules)."""
    eps = sorted(f"{ip}:80" for ip in ips)
    out = []
    for i, ep in enumerate(eps):
        stat = f"-m statistic --mode random --probability {1 / (len(eps) - i):0.10f} " if i < len(eps) - 1 else ""
        out.append(f'-A {SVC_CHAIN} -m comment --comment "{SPN} -> {ep}" {stat}-j {sep_chain(ep.split(":")[0])}')
    return out


@pytest.fixture(scope="module")
def run():
    """The default run, with the state as it stands when each step begins (the previous step's end)."""
    sim = Simulation(sn.ID, {}, seed=1)
    evs, at = [], {}
    for e in sim.events():
        evs.append(e)
        if e["type"] == "scenario.step":
            c = sim.cluster
            at[e["data"]["step"]] = {
                "rules": {n: p.rules for n, p in c.proxies.items()},
                "ready": sn.addresses(c), "not_ready": sn.addresses(c, "notReadyAddresses")}
    c = sim.cluster
    at["end"] = {"rules": {n: p.rules for n, p in c.proxies.items()},
                 "ready": sn.addresses(c), "not_ready": sn.addresses(c, "notReadyAddresses")}
    return sim, evs, at


def step_of(evs):
    return {e["seq"]: e.get("step") for e in evs}


def test_steps_and_kubectl_requests(run):
    sim, evs, _ = run
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 9))
    step = step_of(evs)
    reqs = [(step[e["seq"]], e["data"]["method"], e["data"]["path"]) for e in evs if e["type"] == "kubectl.request"]
    victim = [p for s, m, p in reqs if s == 7][0].rsplit("/", 1)[1]
    assert reqs == [
        (1, "POST", "/apis/apps/v1/namespaces/default/deployments"),
        (2, "GET", "/apis/apps/v1/namespaces/default/deployments/web"),
        (2, "POST", "/api/v1/namespaces/default/services"),
        (5, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale"),
        (7, "GET", f"/api/v1/namespaces/default/pods/{victim}"),
        (7, "GET", f"/api/v1/namespaces/default/pods/{victim}/exec?command=rm&command=%2Ftmp%2Fready"
                   "&container=web&stderr=true&stdout=true"),
    ]
    answers = [(step[e["seq"]], e["summary"].split()[0]) for e in evs
               if e["type"] == "apiserver.response" and (e.get("to") or {}).get("component") == "kubectl"]
    assert answers == [(1, "201"), (2, "200"), (2, "201"), (5, "200"), (7, "200")]


def test_service_gets_a_cluster_ip_and_endpoints_list_the_ready_pods(run):
    sim, evs, at = run
    step = step_of(evs)
    svc = sim.cluster.get("/registry/services/specs/default/web")
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["selector"] == {"app": "web"}
    assert ipaddress.ip_address(svc["spec"]["clusterIP"]) in ipaddress.ip_network("10.96.0.0/16")
    # Step 3 begins with the controllers' first write of the Service's endpoints: both objects, by them.
    posts = [e for e in evs if e["type"] == "apiserver.request" and e["data"]["method"] == "POST"
             and e["data"]["path"].endswith(("/namespaces/default/endpoints", "/namespaces/default/endpointslices"))]
    assert sorted(e["data"]["path"].rsplit("/", 1)[1] for e in posts) == ["endpoints", "endpointslices"]
    assert {step[e["seq"]] for e in posts} == {3}
    # (each controller as its own service account: kube-controller-manager --use-service-account-credentials)
    assert {e["data"]["path"].rsplit("/", 1)[1]: e["data"]["user"] for e in posts} == {
        "endpoints": "system:serviceaccount:kube-system:endpoint-controller",
        "endpointslices": "system:serviceaccount:kube-system:endpointslice-controller"}
    # When step 5 begins, the Endpoints hold the three ready Pods; after the scale-up, four.
    assert len(at[5]["ready"]) == 3 and at[5]["not_ready"] == []
    assert len(at[7]["ready"]) == 4 and set(at[5]["ready"]) < set(at[7]["ready"]) and at[7]["not_ready"] == []
    # The new Pod is listed as not ready first (step 5), ready once its probe passes.
    eps = [(step[e["seq"]], e["data"]["action"]) for e in evs if e["type"] == "controller.reconcile"
           and e["data"]["controller"] == "endpoints" and e["data"]["key"] == "default/web" and e["data"]["action"] != "none"]
    assert eps[0] == (3, "created Endpoints (3 ready, 0 not ready)")
    assert (5, "updated Endpoints (3 ready, 1 not ready)") in eps and (5, "updated Endpoints (4 ready, 0 not ready)") in eps
    sl = sim.cluster.apiserver.list("/registry/endpointslices/default/web-")
    assert len(sl) == 1 and sl[0]["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    assert sl[0]["addressType"] == "IPv4" and sl[0]["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]


def test_kube_proxy_writes_the_chains_on_every_node(run):
    sim, evs, at = run
    step = step_of(evs)
    syncs = [e for e in evs if e["type"] == "kube-proxy.sync"]
    cip = sim.cluster.get("/registry/services/specs/default/web")["spec"]["clusterIP"]
    # Step 2: the Service has no endpoints yet - a REJECT rule in the filter table, on each node.
    reject = (f'-A KUBE-SERVICES -d {cip}/32 -p tcp -m comment --comment "{SPN} has no endpoints" -m tcp '
              f'--dport 80 -j REJECT --reject-with icmp-port-unreachable')
    first = [e for e in syncs if step[e["seq"]] == 2]
    assert {e["instance"] for e in first} == NODES and all(e["data"]["added"] == [reject] for e in first)
    # Step 4: KUBE-SERVICES -> KUBE-SVC-<hash> -> three KUBE-SEP-<hash>, 1/3 then 1/2 then the rest.
    s4 = [e for e in syncs if step[e["seq"]] == 4]
    assert {e["instance"] for e in s4} == NODES
    assert all(e["data"]["dns"] == ["web.default.svc.cluster.local"] for e in s4)
    rules = at[5]["rules"]["worker-1"]
    assert len(set(at[5]["rules"].values())) == 1          # every node programs the same rules
    assert (f'-A KUBE-SERVICES -d {cip}/32 -p tcp -m comment --comment "{SPN} cluster IP" -m tcp --dport 80 '
            f'-j {SVC_CHAIN}') in rules.splitlines()
    assert reject not in rules
    three = at[5]["ready"]
    assert svc_rules(rules) == expected_svc_rules(three)
    assert [ln.split("--probability ")[1].split()[0] for ln in svc_rules(rules)[:-1]] == ["0.3333333333", "0.5000000000"]
    for ip in three:
        assert (f'-A {sep_chain(ip)} -p tcp -m comment --comment "{SPN}" -m tcp -j DNAT --to-destination {ip}:80'
                in rules.splitlines())
        assert f'-A {sep_chain(ip)} -s {ip}/32 -m comment --comment "{SPN}" -j KUBE-MARK-MASQ' in rules.splitlines()
    # Scaling: no rule changes while the new Pod is not ready (step 5); then 1/4, 1/3, 1/2 (step 6).
    assert not [e for e in syncs if step[e["seq"]] == 5]
    assert {e["instance"] for e in syncs if step[e["seq"]] == 6} == NODES
    four = at[7]["rules"]["worker-1"]
    assert svc_rules(four) == expected_svc_rules(at[7]["ready"])
    assert [ln.split("--probability ")[1].split()[0] for ln in svc_rules(four)[:-1]] == \
        ["0.2500000000", "0.3333333333", "0.5000000000"]


def test_a_failing_readiness_probe_takes_the_pod_out_of_endpoints_and_rules(run):
    sim, evs, at = run
    step = step_of(evs)
    (exec_req,) = [e for e in evs if e["type"] == "kubectl.request" and "/exec?" in e["data"]["path"]]
    victim = exec_req["object"]["name"]
    pod = sim.cluster.get(f"/registry/pods/default/{victim}")
    ip = pod["status"]["podIP"]
    # Step 7: the probe fails (three times before it counts); the Pod is still in the endpoints and rules.
    probes = [e for e in evs if e["type"] == "kubelet.probe" and e["object"]["name"] == victim and step[e["seq"]] in (7, 8)]
    assert [step[e["seq"]] for e in probes[:3]] == [7, 7, 7]
    assert all(e["data"]["message"] == "cat: can't open '/tmp/ready': No such file or directory" for e in probes)
    assert "-> Failure" in probes[2]["summary"] and "->" not in probes[0]["summary"]
    assert not [e for e in evs if e["type"] == "kube-proxy.sync" and step[e["seq"]] == 7]
    assert ip in at[8]["ready"] and sep_chain(ip) in at[8]["rules"]["worker-1"]
    # Step 8 opens with the kubelet's status: Ready False, ContainersNotReady.
    i = next(i for i, e in enumerate(evs) if e["type"] == "scenario.step" and e["data"]["step"] == 8)
    st = evs[i + 1]
    assert st["type"] == "kubelet.status" and st["object"]["name"] == victim
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [web]"
    # Endpoints: the address moves to notReadyAddresses; the slice marks it not ready (and not serving).
    assert at["end"]["not_ready"] == [ip] and ip not in at["end"]["ready"] and len(at["end"]["ready"]) == 3
    ep = sim.cluster.get("/registry/services/endpoints/default/web")
    (nr,) = ep["subsets"][0]["notReadyAddresses"]
    assert nr["targetRef"]["name"] == victim
    (sl,) = sim.cluster.apiserver.list("/registry/endpointslices/default/web-")
    (mine,) = [x for x in sl["endpoints"] if x["addresses"] == [ip]]
    assert mine["conditions"] == {"ready": False, "serving": False, "terminating": False}
    # kube-proxy, on every node: the Pod's KUBE-SEP chain is gone, the rest split evenly again.
    s8 = [e for e in evs if e["type"] == "kube-proxy.sync" and step[e["seq"]] == 8]
    assert {e["instance"] for e in s8} == NODES
    for e in s8:
        assert any(sep_chain(ip) in ln and "DNAT" in ln for ln in e["data"]["removed"])
        assert not any(sep_chain(ip) in ln for ln in e["data"]["added"])
    for rules in at["end"]["rules"].values():
        assert sep_chain(ip) not in rules
        assert svc_rules(rules) == expected_svc_rules(at["end"]["ready"])
    # Readiness does not restart anything: the container still runs, restartCount 0.
    assert pod["status"]["phase"] == "Running" and pod["status"]["containerStatuses"][0]["restartCount"] == 0
    unhealthy = [json.loads(kv.value) for kv in sim.cluster.etcd.store.range(f"/registry/events/default/{victim}.", prefix=True)]
    unhealthy = [e for e in unhealthy if e["reason"] == "Unhealthy"]
    assert len(unhealthy) == 1 and unhealthy[0]["type"] == "Warning" and unhealthy[0]["count"] >= 3
    assert unhealthy[0]["message"] == "Readiness probe failed: cat: can't open '/tmp/ready': No such file or directory"
    assert evs[-1]["data"]["outcome"] == f"web {sim.cluster.get('/registry/services/specs/default/web')['spec']['clusterIP']}:80: " \
                                         "3 ready endpoint(s), 1 not ready"


def test_params_and_determinism():
    a = [(e["type"], e["t"], e["summary"]) for e in Simulation(sn.ID, {"replicas": 2, "add": 2}, seed=4).events()]
    b = [(e["type"], e["t"], e["summary"]) for e in Simulation(sn.ID, {"replicas": 2, "add": 2}, seed=4).events()]
    assert a == b
    assert a[-1][2] == "scenario completed"
    assert any("--replicas=4" in s for t, _, s in a if t == "kubectl.request")
