"""The whole-cluster scale run used by bench/scale.py (and handy for profiling by hand):

    .venv/bin/python -c "import sys; sys.path[:0]=['bench','.']; import workload; print(workload.run_cluster(1000, 30000))"

A Cluster on large_topology(nodes) with every kubelet and the scheduler at its realistic pace (milliseconds
per cycle, not the classroom's slowed-down one), the tracer at the summary level, `pods` Pods created
through the API: as Deployments of PER_DEPLOYMENT replicas ("deployments", the default), or ("pods")
posted directly by a client that keeps `inflight`
creations outstanding, as scheduler_perf's createPods does.
The run ends when every Pod is Running (or after `limit` virtual seconds). The tracer's buffer is drained
as a viewer would consume it, so what is measured is what a run costs, not an ever-growing list.
"""
from __future__ import annotations

import time

from simulator.apiserver import Request
from simulator.cluster import ADMIN, Cluster
from simulator.kernel import tune_gc_for_scale
from simulator.topology import large_topology
from simulator.trace import ref

NS = "default"
NAME = "scale"
IMAGE = "registry.k8s.io/pause:3.10"  # preloaded on every node: no pulls, the cost measured is the control plane's
REQUESTS = {"cpu": "100m", "memory": "128Mi"}


def pod_template() -> dict:
    return {"metadata": {"labels": {"app": NAME}},
            "spec": {"containers": [{"name": "pause", "image": IMAGE, "resources": {"requests": dict(REQUESTS)}}]}}


class Progress:
    """Counts the bench's Pods that are bound / Running from etcd's own watch, without decoding values."""

    def __init__(self, cluster: Cluster):
        self.bound: set[str] = set()
        self.running: set[str] = set()
        self.first_running_t: float | None = None
        self.last_bound_wall = 0.0
        cluster.etcd.store.watch(f"/registry/pods/{NS}/{NAME}-", prefix=True, callback=self._on)

    def _on(self, ev) -> None:
        if ev.type != "PUT":
            return
        v, k = ev.kv.value, ev.kv.key
        if k not in self.bound and '"nodeName":' in v:
            self.bound.add(k)
            self.last_bound_wall = time.perf_counter()
        if k not in self.running and '"phase":"Running"' in v:
            self.running.add(k)


def _drain(tracer, stats: dict) -> None:
    buf = tracer.buffer
    n = len(buf)
    if not n:
        return
    per_sec = stats["per_second"]
    for ev in buf:
        s = int(ev["t"])
        per_sec[s] = per_sec.get(s, 0) + 1
        if ev["type"] == "summary.interval":
            stats["summaries"] += 1
    stats["emitted"] += n
    buf.clear()


PER_DEPLOYMENT = 100  # replicas per Deployment: many moderate workloads, as Kubernetes' own load tests run


def pod_template_for(app: str) -> dict:
    t = pod_template()
    t["metadata"]["labels"] = {"app": app}
    return t


def _create_deployments(c: Cluster, pods: int) -> None:
    """ceil(pods / PER_DEPLOYMENT) Deployments (the last one takes the remainder), created through the API.
    Not one Deployment of every Pod: the ReplicaSet controller lists its Pods on every sync (upstream too,
    through the informer's namespace index), so a single ReplicaSet of 150,000 replicas costs O(pods) per
    sync, a shape no real cluster runs."""
    n = -(-pods // PER_DEPLOYMENT)
    for i in range(n):
        name = f"{NAME}-{i:05d}"
        replicas = min(PER_DEPLOYMENT, pods - i * PER_DEPLOYMENT)
        dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                        "template": pod_template_for(name)}}
        resp = c.call(Request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", "create", "deployments", NS,
                              name, api_group="apps", body=dep, credential=ADMIN, client=ref("kubectl", "kubectl")))
        if not resp.ok:
            raise RuntimeError(f"creating Deployment {name}: {resp.code} {resp.status}")


def _post_pods(c: Cluster, pods: int, inflight: int):
    """A client posting Pods, `inflight` at a time (each completion posts the next)."""
    who = ref("kubectl", "kubectl")
    state = {"next": 0, "failed": 0}

    def post() -> None:
        i = state["next"]
        if i >= pods:
            return
        state["next"] = i + 1
        name = f"{NAME}-{i:06d}"
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": {"app": NAME}},
                "spec": pod_template()["spec"]}
        fut = c.lb.handle(Request("POST", f"/api/v1/namespaces/{NS}/pods", "create", "pods", NS, name, body=body,
                                  credential=ADMIN, client=who))
        fut.add_waiter(done)

    def done(resp) -> None:
        if not getattr(resp, "ok", False):
            state["failed"] += 1
        post()

    for _ in range(min(inflight, pods)):
        post()
    return state


def run_cluster(nodes: int, pods: int, seed: int = 1, workload: str = "auto", detail_pods: int = 50,
                inflight: int = 500, limit: float = 7200.0, step: float = 5.0, log=None, tune_gc: bool = True) -> dict:
    t0 = time.perf_counter()
    topo = large_topology(nodes)
    c = Cluster(seed, f"bench-scale-{nodes}", topology=topo, scheduler_pace="realistic")
    c.summarize(detail_pods=detail_pods)
    if tune_gc:
        tune_gc_for_scale()
    t_built = time.perf_counter()
    prog = Progress(c)
    stats = {"emitted": 0, "summaries": 0, "per_second": {}}
    t_start, start_v = time.perf_counter(), c.env.now   # from the first creation on
    used = "pods"
    state = None
    if workload == "pods":
        state = _post_pods(c, pods, inflight)
    else:
        _create_deployments(c, pods)
        used = f"deployments of {PER_DEPLOYMENT}"
    env = c.env
    while len(prog.running) < pods and env.now - start_v < limit and env.pending():
        env.run_until(env.now + step)
        _drain(c.tracer, stats)
        if log is not None:
            log(f"t={env.now:8.1f}  bound {len(prog.bound):7d}  running {len(prog.running):7d}  "
                f"wall {time.perf_counter() - t0:8.1f}s")
    c.tracer.flush()
    _drain(c.tracer, stats)
    t_end = time.perf_counter()
    sched_wall = (prog.last_bound_wall or t_end) - t_start
    return {
        "nodes": len(topo), "pods": pods, "workload": used, "seed": seed,
        "build_seconds": round(t_built - t0, 3), "wall_seconds": round(t_end - t0, 3),
        "run_wall_seconds": round(t_end - t_start, 3), "virtual_seconds": round(env.now - start_v, 3),
        "bound": len(prog.bound), "running": len(prog.running),
        "failed_creates": state["failed"] if state else None,
        "pods_per_wall_second": round(len(prog.bound) / sched_wall, 1) if sched_wall > 0 else None,
        "events_emitted": stats["emitted"], "events_total": stats["emitted"] - stats["summaries"] + c.tracer.counted,
        "summaries": stats["summaries"],
        "events_counted": c.tracer.counted,
        "events_max_per_virtual_second": max(stats["per_second"].values(), default=0),
        "events_by_type": dict(sorted(c.tracer.totals.items())),
        "gc_tuned": tune_gc,
    }

