"""Builders for the scheduler's tests: a Scheduler whose cache is filled directly (no API server), and
Node/Pod objects as the API server would hold them."""
from __future__ import annotations

import random

from simulator.kernel import Environment
from simulator.scheduler import Scheduler
from simulator.scheduler.framework import PodInfo
from simulator.trace import Tracer


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110", labels: dict | None = None,
         taints: list | None = None, zone: str = "", unschedulable: bool = False, images: list | None = None) -> dict:
    lab = {"kubernetes.io/hostname": name, **(labels or {})}
    if zone:
        lab["topology.kubernetes.io/zone"] = zone
    spec = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name, "labels": lab}, "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}, "images": images or []}}


_uid = [0]


def pod(name: str, cpu: str | None = None, memory: str | None = None, ns: str = "default", labels: dict | None = None,
        priority: int | None = None, node_name: str | None = None, image: str = "nginx", **spec) -> dict:
    _uid[0] += 1
    req = {}
    if cpu:
        req["cpu"] = cpu
    if memory:
        req["memory"] = memory
    s = {"containers": [{"name": "c", "image": image, "resources": {"requests": req} if req else {}}],
         "schedulerName": "default-scheduler", **spec}
    if priority is not None:
        s["priority"] = priority
    if node_name:
        s["nodeName"] = node_name
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "uid": f"uid-{_uid[0]:06d}", "labels": labels or {},
                         "creationTimestamp": "2025-01-01T00:00:00Z"},
            "spec": s, "status": {"phase": "Pending"}}


def scheduler(nodes: list[dict], pods: list[dict] = (), seed: int = 1, **kw) -> Scheduler:
    env = Environment()
    tracer = Tracer(env, "t")
    tracer.enabled = False
    s = Scheduler(env, random.Random(seed), tracer, None, **kw)
    s.running = True
    for n in nodes:
        s._add_node(n)
    for p in pods:
        place(s, p)
    return s


def place(s: Scheduler, p: dict) -> None:
    """An assigned pod in the cache (as the informer would put it there)."""
    s._cache_add(p["spec"]["nodeName"], PodInfo(p))
