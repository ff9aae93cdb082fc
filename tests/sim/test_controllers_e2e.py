"""End to end on the simulated cluster (real API server, etcd, scheduler, kubelets): a Deployment's
Pods run; a node that stops heartbeating is tainted, its Pods are evicted after the default 300 s
toleration and replaced on another node."""
from simulator import clock
from simulator.apiserver import authz, registry
from simulator.cluster import Cluster

DEP = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}


def cluster(seed=3):
    c = Cluster(seed=seed, run_id="ctl-e2e")
    # The controller roles (bootstrappolicy controller_policy.go), in case the cluster bootstrap lacks them.
    for r in authz.bootstrap_cluster_roles():
        c.etcd.put_now(f"/registry/clusterroles/{r['metadata']['name']}", r)
    for b in authz.bootstrap_cluster_role_bindings():
        c.etcd.put_now(f"/registry/clusterrolebindings/{b['metadata']['name']}", b)
    return c


def heartbeats(c, down):
    """Node Lease renewals every 10 s (the kubelets' job; written here for the nodes that are up)."""
    def beat():
        for n in c.topology:
            if n.name in down:
                continue
            key = registry.key("leases", "kube-node-lease", n.name)
            lease = c.apiserver.get(key)
            lease["spec"]["renewTime"] = clock.rfc3339_micro(c.env.now)
            lease["metadata"].pop("resourceVersion", None)
            c.etcd.put_now(key, lease)
        c.env.schedule(10.0, beat)
    beat()


def live_pods(c):
    return [p for p in c.apiserver.list("/registry/pods/default/") if not p["metadata"].get("deletionTimestamp")]


def test_deployment_runs_and_survives_a_node_failure():
    c = cluster()
    down = set()
    if not hasattr(c.kubelets["worker-1"], "heartbeats") and not hasattr(c.kubelets["worker-1"], "status"):
        heartbeats(c, down)   # kubelets without their own Lease renewals
    c.run(until=2)
    assert c.controller_managers[0].leading
    c.client().create("deployments", DEP, namespace="default")
    c.run(until=40)
    pods = live_pods(c)
    assert len(pods) == 4 and all(p["status"].get("phase") == "Running" for p in pods)
    d = c.apiserver.get(registry.key("deployments", "default", "web"))
    assert d["status"]["availableReplicas"] == 4
    victim_node = pods[0]["spec"]["nodeName"]
    on_victim = {p["metadata"]["name"] for p in pods if p["spec"]["nodeName"] == victim_node}
    down.add(victim_node)
    c.stop_node(victim_node)
    c.run(until=110)
    node = c.apiserver.get(registry.key("nodes", "", victim_node))
    ready = next(x for x in node["status"]["conditions"] if x["type"] == "Ready")
    assert ready["status"] == "Unknown" and ready["message"] == "Kubelet stopped posting node status."
    assert {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}.items() <= \
        next(t for t in node["spec"]["taints"] if t["effect"] == "NoExecute").items()
    c.run(until=420)
    evs = [e for e in c.apiserver.list("/registry/events/default/") if e["reason"] == "TaintManagerEviction"]
    assert {e["message"] for e in evs} >= {f"Marking for deletion Pod default/{n}" for n in on_victim}
    pods = live_pods(c)
    assert len(pods) == 4 and victim_node not in {p["spec"]["nodeName"] for p in pods}
    assert not (on_victim & {p["metadata"]["name"] for p in pods})
