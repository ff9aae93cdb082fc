"""Scheduler throughput, in the manner of kube-scheduler's scheduler_perf "SchedulingBasic"
(test/integration/scheduler_perf/config/performance-config.yaml): N nodes, then P pending pods, all
scheduled by the real scheduler.

Setup (not timed): a control plane without nodes of its own (API server + etcd from `Cluster`, its own
controller-manager and scheduler stopped so nothing else acts on the objects), N Nodes of 4 CPU / 32 GiB /
110 pods spread over 3 zones (topology.kubernetes.io/zone), a ReplicaSet, and P pending Pods it owns
(100m CPU / 128Mi each, like scheduler_perf's pod-default.yaml sized pods) written to the store up front -
so the system-default topology spreading applies, as it does to a Deployment's pods. A fresh Scheduler
then lists them (its informers' initial list).
Timed: from the first scheduling cycle (after the scheduler's informers have listed the cluster) until
every pod's binding has been committed through the API server to etcd, with the tracer disabled. Each
binding also posts its "Scheduled" Event, as kube-scheduler does. Wall clock (time.perf_counter) is used here only, to measure;
the process's CPU time over the same span is reported beside it (well below the wall time: the machine was busy).
"""
from __future__ import annotations

import gc
import random
import time

from ..apiserver import registry

ZONES = ("zone-a", "zone-b", "zone-c")


def _node(i: int) -> dict:
    name = f"node-{i:05d}"
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "uid": f"00000000-0000-0000-0000-{i:012d}",
                         "creationTimestamp": "2025-01-01T00:00:00Z",
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": ZONES[i % 3]}},
            "spec": {"podCIDR": f"10.{(i >> 8) & 255}.{i & 255}.0/24"},
            "status": {"capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                       "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                       "images": []}}


RS_UID = "11111111-1111-1111-1111-111111111111"


def _replicaset(ns: str, replicas: int) -> dict:
    return {"kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": "perf", "namespace": ns, "uid": RS_UID, "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "perf"}},
                     "template": {"metadata": {"labels": {"app": "perf"}}, "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}},
            "status": {"replicas": 0}}


def _pod(ns: str, i: int, rng: random.Random) -> dict:
    name = f"perf-{i:06d}"
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "uid": "%032x" % rng.getrandbits(128),
                         "creationTimestamp": "2025-01-01T00:00:00Z", "labels": {"app": "perf"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "perf",
                                              "uid": RS_UID, "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                     "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                     "schedulerName": "default-scheduler", "priority": 0, "enableServiceLinks": True,
                     "preemptionPolicy": "PreemptLowerPriority",
                     "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                                     {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]},
            "status": {"phase": "Pending", "qosClass": "Burstable"}}


def setup(num_nodes: int, num_pods: int, seed: int = 1):
    from ..cluster import Cluster
    from .scheduler import Scheduler
    cluster = Cluster(seed, f"perf-{num_nodes}-{num_pods}", topology=[])
    cluster.tracer.enabled = False
    for s in cluster.schedulers:
        s.stop()
    for cm in cluster.controller_managers:
        cm.stop()
    for el in getattr(cluster, "electors", []):
        el.stop()
    # scheduler_perf runs no controller-manager and one scheduler: the stopped components' watch streams
    # close (their process is gone), so the API server does not decode and deliver every write to them.
    stopped = {c.instance for c in list(cluster.schedulers) + list(cluster.controller_managers)}
    for api in cluster.apiservers:
        for w in api.watchers:
            if w.who.get("instance") in stopped:
                w.stop()
    etcd = cluster.etcd
    rng = random.Random(seed)
    ns = "default"
    for i in range(num_nodes):
        etcd.put_now(registry.key("nodes", "", f"node-{i:05d}"), _node(i))
    etcd.put_now(registry.key("replicasets", ns, "perf"), _replicaset(ns, num_pods))
    for i in range(num_pods):
        etcd.put_now(registry.key("pods", ns, f"perf-{i:06d}"), _pod(ns, i, rng))
    cluster.run(until=cluster.env.now + 1.0)   # let the watch cache settle
    sched = Scheduler(cluster.env, random.Random(seed), cluster.tracer, cluster.apiserver, instance="scheduler-perf",
                      pace="realistic")
    return cluster, sched


def run(num_nodes: int, num_pods: int, seed: int = 1, profile: str | None = None) -> dict:
    t0 = time.perf_counter()
    cluster, sched = setup(num_nodes, num_pods, seed)
    env = cluster.env
    setup_s = time.perf_counter() - t0
    gc.collect()
    # The long-lived objects built so far need no more collection passes (gc.freeze), and the young
    # generation is collected every 50,000 allocations instead of 700 (kernel.tune_gc_for_scale): the run
    # makes almost no cyclic garbage, but the default thresholds rescan the growing heap again and again.
    from ..kernel import tune_gc_for_scale
    old_gc = tune_gc_for_scale()
    prof = None
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    t1 = time.perf_counter()
    sched.start()   # the informers' initial list (kube-scheduler waits for the caches to sync before it schedules)
    list_s = time.perf_counter() - t1
    start, cpu_start = time.perf_counter(), time.process_time()
    bound = [0]
    # Count committed bindings from etcd's own watch (a pod that gets spec.nodeName).
    def on_write(ev, seen=set()):
        if ev.type == "PUT" and ev.kv.key.startswith("/registry/pods/") and ev.kv.key not in seen and '"nodeName"' in ev.kv.value:
            seen.add(ev.kv.key)
            bound[0] += 1
    cluster.etcd.store.watch("/registry/pods/", prefix=True, callback=on_write)
    steps = 0
    step, pending = env.step, env.pending   # (the loop is the harness's own cost: kept small)
    while bound[0] < num_pods and pending():
        step()
        steps += 1
        if not steps & 4095 and not sched.busy():
            break   # the rest cannot be placed (more pods than the nodes hold)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    gc.set_threshold(*old_gc)
    gc.unfreeze()
    return {"nodes": num_nodes, "pods": num_pods, "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
            "pods_per_second": round(bound[0] / seconds, 1) if seconds else 0.0, "scheduled": bound[0],
            "setup_seconds": round(setup_s, 3), "informer_list_seconds": round(list_s, 3),
            "virtual_seconds": round(env.now, 3),
            "vector_cycles": sched.stats["vector"], "plugin_cycles": sched.stats["plugins"]}


if __name__ == "__main__":  # python -m simulator.scheduler.perf NODES PODS
    import json
    import resource
    import sys
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    p = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    out = run(n, p, profile=sys.argv[3] if len(sys.argv) > 3 else None)
    out["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(out))
