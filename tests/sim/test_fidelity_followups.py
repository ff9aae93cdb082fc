"""Fidelity follow-ups found by scenario authors: kube-dns gets its endpoints in a fresh cluster (the
controllers see objects that existed before they started), a late informer handler is handed the cache."""
import random

from simulator.cluster import Cluster
from simulator.controller_manager import ControllerManager
from simulator.controllers.base import SharedInformer
from simulator.kernel import Environment
from simulator.kubeproxy.iptables import service_port_endpoint_chain_name, service_port_policy_cluster_chain
from simulator.trace import Tracer
from tests.sim.fakeapi import FakeApi

KUBE_DNS_PORTS = {("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")}


def _coredns_ips(cluster) -> list[str]:
    return sorted(p["status"]["podIP"] for p in cluster.apiserver.list("/registry/pods/kube-system/")
                  if p["metadata"]["name"].startswith("coredns-"))


def test_kube_dns_service_is_kubeadms():
    svc = Cluster(seed=3, run_id="t").get("/registry/services/specs/kube-system/kube-dns")
    assert svc["spec"]["clusterIP"] == "10.96.0.10" and svc["spec"]["selector"] == {"k8s-app": "kube-dns"}
    assert {(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]} == KUBE_DNS_PORTS
    assert all(p["targetPort"] == p["port"] for p in svc["spec"]["ports"])


def test_kube_dns_has_endpoints_shortly_after_start():
    cluster = Cluster(seed=3, run_id="t")
    ips = _coredns_ips(cluster)
    assert len(ips) == 2
    cluster.run(until=2.0)
    # A 15-minute-old cluster already has them: the controllers' first sync finds nothing to write.
    assert not [e for e in cluster.tracer.buffer if e["type"] == "etcd.put" and "kube-dns" in e["data"]["key"]]

    ep = cluster.get("/registry/services/endpoints/kube-system/kube-dns")
    assert ep is not None, "the endpoints controller never synced kube-dns"
    [subset] = ep["subsets"]
    assert sorted(a["ip"] for a in subset["addresses"]) == ips and "notReadyAddresses" not in subset
    assert {(p["name"], p["port"], p["protocol"]) for p in subset["ports"]} == KUBE_DNS_PORTS

    slices = [s for s in cluster.reader().list("/registry/endpointslices/kube-system/")
              if s["metadata"]["labels"].get("kubernetes.io/service-name") == "kube-dns"]
    assert len(slices) == 1
    assert sorted(e["addresses"][0] for e in slices[0]["endpoints"] if e["conditions"]["ready"]) == ips
    assert {(p["name"], p["port"], p["protocol"]) for p in slices[0]["ports"]} == KUBE_DNS_PORTS

    for node, proxy in cluster.proxies.items():
        rules = proxy.rules
        assert "kube-system/kube-dns:dns has no endpoints" not in rules, node
        for port, proto, target in (("dns", "udp", 53), ("dns-tcp", "tcp", 53), ("metrics", "tcp", 9153)):
            spn = f"kube-system/kube-dns:{port}"
            svc_chain = service_port_policy_cluster_chain(spn, proto)
            assert f"-A KUBE-SERVICES -d 10.96.0.10/32 -p {proto}" in rules and f"-j {svc_chain}" in rules, (node, spn)
            for ip in ips:
                sep = service_port_endpoint_chain_name(spn, proto, f"{ip}:{target}")
                assert f"-A {svc_chain} " in rules and f"-j {sep}" in rules, (node, spn, ip)
                assert f"--to-destination {ip}:{target}" in rules, (node, spn, ip)


def test_controllers_see_objects_that_existed_before_they_started():
    # A Service and a ready Pod it selects are in the store before the controller-manager leads: the
    # endpoints and endpointslice controllers still act on them (their handlers were added before the
    # informers' initial LIST).
    env = Environment()
    api = FakeApi(env, random.Random("1/api"))
    api.put_now("namespaces", {"metadata": {"name": "default"}})
    api.put_now("services", {"metadata": {"name": "web", "namespace": "default"},
                             "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.50",
                                      "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
    api.put_now("pods", {"metadata": {"name": "web-1", "namespace": "default", "labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "c", "image": "nginx"}], "nodeName": "worker-1"},
                         "status": {"phase": "Running", "podIP": "10.244.1.7",
                                    "conditions": [{"type": "Ready", "status": "True"}]}})
    cm = ControllerManager(env, random.Random("1/cm"), Tracer(env, "t"), api, client=api.client())
    cm.start()
    cm.on_started_leading()
    env.run_until(5.0)
    ep = api.get("/registry/services/endpoints/default/web")
    assert ep is not None, "the endpoints controller missed the pre-existing Service"
    assert ep["subsets"] == [{"addresses": [{"ip": "10.244.1.7", "nodeName": "worker-1", "targetRef": {
        "kind": "Pod", "namespace": "default", "name": "web-1", "uid": ep["subsets"][0]["addresses"][0]["targetRef"]["uid"]}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]
    [sl] = [s for s in api.list("/registry/endpointslices/default/")
            if s["metadata"]["labels"].get("kubernetes.io/service-name") == "web"]
    assert [e["addresses"] for e in sl["endpoints"]] == [["10.244.1.7"]]


class _ListOnlyApi:
    def __init__(self, objs):
        self.objs = objs

    def watch(self, resource, who, fn):
        pass

    def list(self, prefix):
        return list(self.objs)


def test_a_handler_added_after_the_list_gets_synthetic_adds():
    objs = [{"metadata": {"name": n, "namespace": "default", "resourceVersion": "1"}} for n in ("b", "a")]
    inf = SharedInformer(_ListOnlyApi(objs), "pods", {}, lambda: True)
    early, late = [], []
    inf.add_handler(lambda kind, old, new: early.append((kind, new["metadata"]["name"])))
    inf.start()
    inf.add_handler(lambda kind, old, new: late.append((kind, old, new["metadata"]["name"])))
    assert sorted(early) == [("ADDED", "a"), ("ADDED", "b")]
    assert late == [("ADDED", None, "a"), ("ADDED", None, "b")]   # the cache contents, in key order


def _can_i(cluster, credential, verb, resource, namespace="default"):
    from simulator.client import Client
    from simulator.trace import ref
    cluster.run()   # settle first, so the buffer holds only this request's events
    cluster.tracer.buffer.clear()
    fut = Client(cluster.lb, credential, ref("kubectl", "kubectl"), traced=True).can_i(verb, resource, namespace=namespace)
    cluster.env.run(until=fut)
    [resp] = [e for e in cluster.tracer.buffer if e["type"] == "apiserver.response"]
    return fut.value, resp


def test_self_subject_access_review_response_event_carries_the_answer():
    from simulator import events
    from simulator.apiserver import Credential
    from simulator.cluster import ADMIN
    cluster = Cluster(seed=3, run_id="t")
    reply, ev = _can_i(cluster, ADMIN, "list", "pods")
    assert reply.body["status"]["allowed"] is True
    assert ev["data"]["code"] == 201 and ev["data"]["allowed"] is True
    assert ev["data"]["reason"] == reply.body["status"]["reason"] and "kubeadm:cluster-admins" in ev["data"]["reason"]
    assert ev["summary"].endswith(": allowed")
    assert set(ev["data"]) <= set(events.TYPES["apiserver.response"].data)

    cluster.authenticator.tokens["t0ken"] = ("jane", ("developers",))
    reply, ev = _can_i(cluster, Credential.bearer("t0ken"), "list", "pods")
    assert reply.body["status"]["allowed"] is False
    assert ev["data"]["allowed"] is False and ev["data"]["reason"] == reply.body["status"].get("reason", "")
    assert ev["summary"].endswith(": denied")
