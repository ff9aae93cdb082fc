"""kube-proxy recomputes its iptables rules when endpoints change, at most once per minSyncPeriod."""
import random

from tests.sim.fakeapi import harness
from simulator.kubeproxy.proxy import KubeProxy, endpoints_map

SVC = {"metadata": {"name": "web", "namespace": "default"},
       "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.50", "type": "ClusterIP",
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}}


def rs(replicas):
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}


def sep_rules(rules):
    return [ln for ln in rules.splitlines() if ln.startswith("-A KUBE-SEP-") and "DNAT" in ln]


def test_rules_follow_endpoints_and_syncs_are_debounced():
    env, tracer, api, cm, agents = harness()
    proxy = KubeProxy(env, random.Random(1), tracer, api, "worker-1")
    proxy.start()
    api.client().create("services", SVC, namespace="default")
    env.run_until(2)
    assert "10.96.0.50/32" in proxy.rules and sep_rules(proxy.rules) == []
    assert "has no endpoints" in proxy.rules        # REJECT in the filter table
    api.client().create("replicasets", rs(3), namespace="default")
    env.run_until(10)
    seps = sep_rules(proxy.rules)
    ips = sorted(p["status"]["podIP"] for p in api.list("/registry/pods/default/"))
    assert len(seps) == 3 and all(any(f"{ip}:8080" in r for r in seps) for ip in ips)
    assert "--probability 0.3333333333" in proxy.rules
    syncs = [e for e in tracer.buffer if e["type"] == "kube-proxy.sync"]
    assert all(b["t"] - a["t"] >= 1.0 - 1e-9 for a, b in zip(syncs, syncs[1:]))   # minSyncPeriod
    assert syncs[-1]["data"]["dns"] == ["web.default.svc.cluster.local"]
    assert syncs[-1]["instance"] == "worker-1"
    # A Pod turns not ready: its endpoint leaves the rules.
    p0 = sorted(api.list("/registry/pods/default/"), key=lambda p: p["status"]["podIP"])[0]
    agents.set_ready("default", p0["metadata"]["name"], False)
    env.run_until(13)
    assert len(sep_rules(proxy.rules)) == 2 and p0["status"]["podIP"] + ":8080" not in proxy.rules
    last = [e for e in tracer.buffer if e["type"] == "kube-proxy.sync"][-1]
    assert any(p0["status"]["podIP"] in r for r in last["data"]["removed"])
    # Stopped: no more syncs.
    proxy.stop()
    n = len([e for e in tracer.buffer if e["type"] == "kube-proxy.sync"])
    agents.set_ready("default", p0["metadata"]["name"], True)
    env.run_until(20)
    assert len([e for e in tracer.buffer if e["type"] == "kube-proxy.sync"]) == n


def test_endpoints_map_uses_ready_then_serving_terminating():
    sl = {"metadata": {"namespace": "d", "name": "s-1", "labels": {"kubernetes.io/service-name": "s"}},
          "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
          "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": False, "serving": True, "terminating": True}},
                        {"addresses": ["10.0.0.2"], "conditions": {"ready": True, "serving": True, "terminating": False}}]}
    assert endpoints_map([sl]) == {"d/s": {"": [{"ip": "10.0.0.2", "port": 80}]}}
    sl["endpoints"] = sl["endpoints"][:1]
    assert endpoints_map([sl]) == {"d/s": {"": [{"ip": "10.0.0.1", "port": 80}]}}
