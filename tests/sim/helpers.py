"""Helpers for the simulator's tests (import as tests.sim.helpers)."""
from __future__ import annotations

import functools

from simulator import scenarios
from simulator.apiserver import Request
from simulator.cluster import ADMIN, Cluster
from simulator.runner import Simulation
from simulator.topology import ha_topology


@functools.lru_cache(maxsize=None)
def _run(seed: int, image: str = "nginx", pod_name: str = "nginx") -> tuple:
    params = scenarios.validate("pod-create", {"image": image, "pod_name": pod_name})
    return tuple(Simulation("pod-create", params=params, seed=seed, run_id=f"sim-pod-create-{seed}").events())


def run_pod_create(seed: int = 1, image: str = "nginx", pod_name: str = "nginx") -> list[dict]:
    """The events of a pod-create run (cached; do not mutate them)."""
    return list(_run(seed, image, pod_name))


def fold(events) -> dict:
    """The reducer's state after `events` (simulator/state.py), as a viewer's JSON snapshot holds it."""
    import json

    from simulator import state
    st = state.initial()
    for ev in events:
        state.apply(st, ev)
    return json.loads(json.dumps(st))


def pod_manifest(name: str, image: str = "nginx", requests: dict | None = None, **spec) -> dict:
    c = {"name": name, "image": image, "resources": {"requests": requests} if requests else {}}
    return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "labels": {"run": name}},
            "spec": {"containers": [c], **spec}}


def create_pod(cluster: Cluster, manifest: dict, credential=ADMIN, namespace: str = "default"):
    """POST a Pod as kubectl would and return the API server's Response (the clock runs until it answers)."""
    name = manifest["metadata"]["name"]
    return cluster.call(Request("POST", f"/api/v1/namespaces/{namespace}/pods", "create", "pods", namespace, name,
                                body=manifest, credential=credential, traced=True))


def written_state(cluster) -> list[tuple[str, int]]:
    """Every key with its mod_revision, leaving out Leases: their renewals are the cluster's heartbeat
    and go on whatever a test does. Equal before and after means the test's requests wrote nothing."""
    return [(k["key"], k["mod_revision"]) for k in cluster.etcd.store.keys_summary()
            if not k["key"].startswith("/registry/leases/")]


@functools.lru_cache(maxsize=None)
def _raft_run(seed: int) -> tuple:
    """Three control-plane nodes with stacked etcd members and one worker: a write replicated by quorum,
    the leader's member stopped (a new leader with a higher term), a second member stopped (quorum lost,
    a write that times out), one member back (quorum regained) and a write that commits again."""
    from simulator.runner import emit_started
    from simulator.trace import ref

    topo = ha_topology()
    c = Cluster(seed, f"sim-raft-{seed}", topo)
    emit_started(c, "raft-test", seed, {})

    def configmap(name: str) -> None:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
                "data": {"k": name}}
        c.lb.handle(Request("POST", "/api/v1/namespaces/default/configmaps", "create", "configmaps", "default", name,
                            body=body, credential=ADMIN, client=ref("kubectl", "kubectl"), traced=True))

    c.run(until=c.env.now + 2)
    configmap("first")
    c.run(until=c.env.now + 2)
    leader = c.etcd.leader
    c.etcd.stop_member(leader)
    c.run(until=c.env.now + 4)
    second = next(m for m in c.etcd.members if m not in (leader, c.etcd.leader))
    c.etcd.stop_member(second)
    configmap("lost")
    c.run(until=c.env.now + 9)
    c.etcd.start_member(leader)
    c.run(until=c.env.now + 4)
    configmap("again")
    c.run(until=c.env.now + 2)
    return tuple(c.tracer.buffer)


def run_raft(seed: int = 1) -> list[dict]:
    """The events of the Raft recording above (cached; do not mutate them)."""
    return list(_raft_run(seed))


@functools.lru_cache(maxsize=None)
def _api_run(seed: int) -> tuple:
    """Traced kubectl requests that stop at each stage of the API server's pipeline - a bad token (401),
    a user no RBAC rule allows (403), an invalid Pod (422), a Pod over a ResourceQuota (403 at
    admission), a second create of the same name (409 at etcd) - and one that passes (201), while the
    control plane's own requests go on."""
    from simulator.apiserver.authn import Credential
    from simulator.runner import emit_started
    from simulator.trace import ref

    c = Cluster(seed, f"sim-api-{seed}")
    emit_started(c, "api-test", seed, {})

    def kubectl(method: str, path: str, verb: str, resource: str, name: str, body: dict | None, credential):
        c.tracer.emit("kubectl", "kubectl", "kubectl.request", f"{method} {path}",
                      {"method": method, "path": path, "user": "", "verb": verb, "resource": resource, "body": body},
                      to=ref("apiserver", c.apiservers[0].instance))
        return c.call(Request(method, path, verb, resource, "default", name, body=body, credential=credential,
                              traced=True))

    pods = "/api/v1/namespaces/default/pods"
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "two", "namespace": "default"},
             "spec": {"hard": {"pods": "0"}}}
    kubectl("GET", pods, "list", "pods", "", None, Credential.bearer("not-a-token"))
    kubectl("POST", pods, "create", "pods", "a", pod_manifest("a"), Credential.x509("jane", "developers"))
    kubectl("POST", pods, "create", "pods", "Bad_Name", pod_manifest("Bad_Name"), ADMIN)
    kubectl("POST", pods, "create", "pods", "ok", pod_manifest("ok"), ADMIN)
    kubectl("POST", pods, "create", "pods", "ok", pod_manifest("ok"), ADMIN)
    kubectl("POST", "/api/v1/namespaces/default/resourcequotas", "create", "resourcequotas", "two", quota, ADMIN)
    c.run(until=c.env.now + 2)
    kubectl("POST", pods, "create", "pods", "over", pod_manifest("over"), ADMIN)
    c.run(until=c.env.now + 2)
    return tuple(c.tracer.buffer)


def run_api(seed: int = 1) -> list[dict]:
    """The events of the API server recording above (cached; do not mutate them)."""
    return list(_api_run(seed))


@functools.lru_cache(maxsize=None)
def _controllers_run(seed: int) -> tuple:
    """A Deployment of 3 (Deployment and ReplicaSet controllers reconcile), one of its Pods deleted (the
    ReplicaSet controller makes a replacement), scaled to 1, then the controller-manager's node stopped
    in an HA control plane (its Lease moves to a standby)."""
    from simulator.runner import emit_started
    from simulator.trace import ref

    topo = ha_topology()
    c = Cluster(seed, f"sim-controllers-{seed}", topo)
    emit_started(c, "controllers-test", seed, {})
    kubectl = c.client(who=ref("kubectl", "kubectl"))
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    c.env.run(until=kubectl.create("deployments", dep, namespace="default"))
    c.run(until=c.env.now + 15)
    pods = sorted(k["key"] for k in c.etcd.store.keys_summary() if k["key"].startswith("/registry/pods/default/web-"))
    c.env.run(until=kubectl.delete("pods", pods[0].rsplit("/", 1)[-1], namespace="default"))
    c.run(until=c.env.now + 15)
    c.env.run(until=kubectl.patch("deployments", "web", {"spec": {"replicas": 1}}, namespace="default"))
    c.run(until=c.env.now + 15)
    holder = c.leases_summary()[0]["holder"].split("_")[0]
    c.stop_node(holder)
    c.run(until=c.env.now + 30)
    return tuple(c.tracer.buffer)


def run_controllers(seed: int = 1) -> list[dict]:
    """The events of the controllers recording above (cached; do not mutate them)."""
    return list(_controllers_run(seed))


@functools.lru_cache(maxsize=None)
def _large_run(seed: int, nodes: int, replicas: int) -> tuple:
    """A cluster of `nodes` nodes over three zones with the tracer at the summary level (10 Pods in full
    detail, the rest counted), running one Deployment of `replicas` until every Pod is Running."""
    from simulator.runner import emit_started
    from simulator.topology import large_topology
    from simulator.trace import ref

    c = Cluster(seed, f"sim-large-{seed}", large_topology(nodes), scheduler_pace="realistic")
    c.summarize(detail_pods=10)
    emit_started(c, "large-test", seed, {})
    kubectl = c.client(who=ref("kubectl", "kubectl"))
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "big", "namespace": "default"},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "big"}},
                    "template": {"metadata": {"labels": {"app": "big"}},
                                 "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                                                          "resources": {"requests": {"cpu": "100m"}}}]}}}}
    c.env.run(until=kubectl.create("deployments", dep, namespace="default"))
    for _ in range(60):
        c.run(until=c.env.now + 2)
        if c.tracer.pod_phases().get("Running", 0) >= replicas:
            break
    c.run(until=c.env.now + 2)
    c.tracer.flush()
    return tuple(c.tracer.buffer)


def run_large(seed: int = 1, nodes: int = 200, replicas: int = 600) -> list[dict]:
    """The events of the large-cluster recording above (cached; do not mutate them)."""
    return list(_large_run(seed, nodes, replicas))
