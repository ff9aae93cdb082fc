"""The scenarios that run on a real cluster: the same actions as the simulator's (same manifests, same kubectl
commands), in the run's own namespace, and which observed events open which of the lesson's steps.

A driver is a module-like object with:
- HIDDEN: {step: what it is made of} for the steps nothing outside the cluster can see (the page says so);
- step_of(run, type, data, obj): the step an event opens, or None;
- script(run): a generator that performs the actions through run.request(...) and yields conditions
  (callables taking the run) to wait for; its return value is the outcome.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

from simulator.scenarios import deployment_reconcile as sim_deploy
from simulator.scenarios import node_failure as sim_node
from simulator.scenarios import pod_create as sim_pod

from .connect import ClusterUnavailable, describe
from .run import CONTROL_PLANE, _ready

# What a hidden step consists of (keys the page translates).
APISERVER, CONTROLLERS, SCHEDULER = "apiserver", "controller-manager", "scheduler"
PAUSE_S = 2.0


def _pods(run, prefix: str = "") -> list[dict]:
    return [p for name, p in run.objects["pods"].items() if name.split("/", 1)[-1].startswith(prefix)]


def _running_ready(pod: dict) -> bool:
    status = pod.get("status") or {}
    return (status.get("phase") == "Running" and not (pod.get("metadata") or {}).get("deletionTimestamp")
            and any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []))


def _act(run, step: int) -> None:
    """The scenario's next act begins: its step opens, and the step rules know which act is in progress."""
    run.open_step(step)
    run.driver_phase = step


def _pause(seconds: float):
    until = time.monotonic() + seconds
    return lambda run: time.monotonic() >= until


# -- pod-create -----------------------------------------------------------------------------------------

def _pod_step(run, type_: str, data: dict, obj) -> int | None:
    name = run.params["pod_name"]
    if type_ == "kubectl.request":
        return 1
    if data.get("source") == "audit" and type_ in ("apiserver.authn", "apiserver.authz"):
        return 2    # the audit log tells what happened inside the API server (audittap.py)
    if data.get("source") == "audit" and type_ in ("apiserver.admission", "apiserver.validation"):
        return 3
    if data.get("source") == "audit" and type_ == "apiserver.storage":
        return 4
    if type_ == "apiserver.request" and str(data.get("path", "")).endswith(f"/pods/{name}/binding"):
        return 7    # the scheduler's binding, from the audit log
    if type_ == "apiserver.response" and data.get("code") == 201 and data.get("source") == "client":
        return 4    # accepted: authentication, authorization and admission passed, and etcd has it
    if type_ == "etcd.put" and data["key"].endswith(f"/pods/{run.ns}/{name}"):
        pod = data["value"]
        status = pod.get("status") or {}
        if status.get("phase") == "Running":
            return 10
        if (pod.get("spec") or {}).get("nodeName"):
            return 8 if status.get("containerStatuses") else 7
        return 4
    if type_ == "scheduler.bind":
        return 7
    if type_ in ("kubelet.image.pulling", "kubelet.image.pulled"):
        return 8
    if type_.startswith("container-runtime.container."):
        return 9
    if type_ == "kubelet.status" and data.get("phase") == "Running":
        return 10
    return None


def _pod_script(run):
    name, image = run.params["pod_name"], run.params["image"]
    from kubernetes import client

    core = client.CoreV1Api(run.conn.client)
    body = sim_pod.manifest(name, image)
    run.request(sim_pod.command_line(name, image).replace("kubectl run", f"kubectl run -n {run.ns}", 1), "POST",
                f"/api/v1/namespaces/{run.ns}/pods", "create", "pods",
                lambda **kw: core.create_namespaced_pod(run.ns, body, **kw), body=body)
    yield lambda r: any(p["metadata"]["name"] == name and (p.get("status") or {}).get("phase") == "Running"
                        for p in _pods(r))
    return "Running"


POD_CREATE = SimpleNamespace(HIDDEN={2: APISERVER, 3: APISERVER, 5: CONTROLLERS, 6: SCHEDULER},
                             step_of=_pod_step, script=_pod_script)


# -- deployment-reconcile ------------------------------------------------------------------------------

def _deploy_step(run, type_: str, data: dict, obj) -> int | None:
    phase = run.driver_phase
    if type_ == "etcd.put" and data["key"].startswith("/registry/replicasets/") and phase == 1:
        return 2    # the Deployment controller made the ReplicaSet
    if type_ == "controller.reconcile" and data.get("controller") == "replicaset" \
            and str(data.get("action", "")).startswith("Created pod"):
        return {1: 3, 2: 3, 4: 5}.get(phase)
    return None


def _deploy_script(run):
    from kubernetes import client

    apps, core = client.AppsV1Api(run.conn.client), client.CoreV1Api(run.conn.client)
    name, image, replicas = sim_deploy.NAME, run.params["image"], run.params["replicas"]

    def settled(count: int):
        return lambda r: (len([p for p in _pods(r, f"{name}-") if _running_ready(p)]) == count
                          and len(_pods(r, f"{name}-")) == count)

    _act(run, 1)
    body = sim_deploy.manifest(image, replicas)
    run.request(f"kubectl create deployment {name} --image={image} --replicas={replicas} -n {run.ns}", "POST",
                f"/apis/apps/v1/namespaces/{run.ns}/deployments", "create", "deployments",
                lambda **kw: apps.create_namespaced_deployment(run.ns, body, **kw), body=body)
    yield settled(replicas)
    yield _pause(PAUSE_S)
    victim = sorted(p["metadata"]["name"] for p in _pods(run, f"{name}-"))[0]
    _act(run, 4)
    run.request(f"kubectl delete pod {victim} -n {run.ns}", "DELETE", f"/api/v1/namespaces/{run.ns}/pods/{victim}",
                "delete", "pods", lambda **kw: core.delete_namespaced_pod(victim, run.ns, **kw))
    yield lambda r: settled(replicas)(r) and victim not in {p["metadata"]["name"] for p in _pods(r)}
    yield _pause(PAUSE_S)
    for step, count in ((6, run.params["scale_down"]), (7, run.params["scale_up"])):
        _act(run, step)
        patch = {"spec": {"replicas": count}}
        run.request(f"kubectl scale deployment {name} --replicas={count} -n {run.ns}", "PATCH",
                    f"/apis/apps/v1/namespaces/{run.ns}/deployments/{name}/scale", "patch", "deployments",
                    lambda **kw: apps.patch_namespaced_deployment_scale(name, run.ns, patch, **kw), body=patch)
        yield settled(count)
        yield _pause(PAUSE_S)
    n = len([p for p in _pods(run, f"{name}-") if _running_ready(p)])
    return f"{n}/{run.params['scale_up']} Running"


DEPLOYMENT_RECONCILE = SimpleNamespace(HIDDEN={}, step_of=_deploy_step, script=_deploy_script)

# -- node-failure -------------------------------------------------------------------------------------
# A worker node's container is paused with `docker pause` (kind only: dashboard/realcluster/docker.py): its
# kubelet stops renewing the node's Lease and posting status, exactly the silence the node lifecycle
# controller reacts to. The run unpauses it at the end, and also when it fails or is cancelled.

def _workers(nodes) -> list[str]:
    """Ready, schedulable nodes without the control-plane role, by name."""
    out = []
    for n in nodes:
        meta, spec = n.get("metadata") or {}, n.get("spec") or {}
        if _ready(n) and not spec.get("unschedulable") and CONTROL_PLANE not in (meta.get("labels") or {}):
            out.append(meta.get("name"))
    return sorted(out)


def _node_preflight(conn) -> None:
    """Two Ready workers at least (one fails, another takes its Pods), each a kind node container the
    worker's Docker can pause."""
    import json

    from kubernetes import client

    from . import docker

    try:
        resp = client.CoreV1Api(conn.client).list_node(_preload_content=False, _request_timeout=conn.timeout)
        nodes = json.loads(resp.data).get("items") or []
    except Exception as exc:
        raise ClusterUnavailable(describe(exc, conn.context)) from None
    workers = _workers(nodes)
    if len(workers) < 2:
        raise ClusterUnavailable(f"node failure needs at least two Ready worker nodes (one fails, the others take "
                                 f"over its Pods); the cluster has {len(workers)}")
    docker.check_nodes(workers)


def _node_unreachable(node: dict) -> bool:
    return any(t.get("key") == sim_node.UNREACHABLE for t in (node.get("spec") or {}).get("taints") or [])


def _node_step(run, type_: str, data: dict, obj) -> int | None:
    victim = run.victim
    if run.driver_phase != 2 or victim is None:
        return None
    if type_ == "etcd.put" and data["key"] == f"/registry/minions/{victim}":
        node = data["value"]
        if _node_unreachable(node):
            return 4    # the node lifecycle controller's taint
        if not _ready(node):
            return 3    # Ready: Unknown, "Kubelet stopped posting node status."
    if type_ == "controller.reconcile" and data.get("controller") == "taint-eviction-controller" \
            and str(data.get("action", "")).startswith("Marking for deletion"):
        return 6
    if type_ == "etcd.put" and data["key"].startswith(f"/registry/pods/{run.ns}/") \
            and ((data.get("value") or {}).get("metadata") or {}).get("deletionTimestamp"):
        return 6
    if type_ == "controller.reconcile" and data.get("controller") == "replicaset" and run.step >= 6 \
            and str(data.get("action", "")).startswith("Created pod"):
        return 7
    return None


def _node_script(run):
    from kubernetes import client

    apps = client.AppsV1Api(run.conn.client)
    name, replicas, toleration = sim_node.NAME, run.params["replicas"], run.params["toleration_seconds"]

    def pods():
        return _pods(run, f"{name}-")

    def running():
        return [p for p in pods() if _running_ready(p)]

    _act(run, 1)
    body = sim_node.manifest(replicas, toleration)
    run.request(f"kubectl create -f web.yaml -n {run.ns}", "POST", f"/apis/apps/v1/namespaces/{run.ns}/deployments",
                "create", "deployments", lambda **kw: apps.create_namespaced_deployment(run.ns, body, **kw), body=body)
    yield lambda r: len(running()) == replicas and len(pods()) == replicas
    yield _pause(PAUSE_S)
    # The worker with the most of our Pods (the first by name on a tie) fails, as in the simulator.
    per_node: dict[str, int] = {}
    for p in running():
        per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
    victim = min(per_node, key=lambda n: (-per_node[n], n))
    doomed = {p["metadata"]["name"] for p in running() if p["spec"]["nodeName"] == victim}
    run.victim = victim
    _act(run, 2)
    run.pause_node(victim)

    def replaced(r) -> bool:
        by_name = {p["metadata"]["name"]: p for p in pods()}
        evicted = all(n not in by_name or by_name[n]["metadata"].get("deletionTimestamp") for n in doomed)
        live = running()
        return evicted and len(live) == replicas and all(p["spec"].get("nodeName") != victim for p in live)

    yield replaced
    yield _pause(PAUSE_S)
    _act(run, 8)
    run.unpause_node()
    if run.paused:
        raise ClusterUnavailable(f"node {victim} could not be unpaused: run `docker unpause {victim}`")

    def recovered(r) -> bool:
        node = r.objects["nodes"].get(victim) or {}
        return _ready(node) and not _node_unreachable(node) and not any(p["spec"].get("nodeName") == victim for p in pods())

    yield recovered
    yield _pause(PAUSE_S)
    live = running()
    return f"{len(live)}/{replicas} Running on {', '.join(sorted({p['spec']['nodeName'] for p in live}))}"


NODE_FAILURE = SimpleNamespace(
    HIDDEN={5: CONTROLLERS}, step_of=_node_step, script=_node_script, preflight=_node_preflight,
    # The wait the scenario sets on purpose: the node lifecycle controller's grace (40 s in v1.31, 50 s from
    # v1.32), then the Pods' toleration, then the replacements' start, on top of DASHBOARD_API_RUN_TIMEOUT.
    extra_seconds=lambda params: params["toleration_seconds"] + 60)

DRIVERS = {sim_pod.ID: POD_CREATE, sim_deploy.ID: DEPLOYMENT_RECONCILE, sim_node.ID: NODE_FAILURE}


def get(scenario: str):
    try:
        return DRIVERS[scenario]
    except KeyError:
        raise ValueError(f"scenario {scenario!r} does not run on a real cluster") from None
