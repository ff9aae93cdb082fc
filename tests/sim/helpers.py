"""Helpers for the simulator's tests (import as tests.sim.helpers)."""
from __future__ import annotations

import functools

from simulator import scenarios
from simulator.apiserver import Request
from simulator.cluster import ADMIN, Cluster
from simulator.runner import Simulation


@functools.lru_cache(maxsize=None)
def _run(seed: int, image: str = "nginx", pod_name: str = "nginx") -> tuple:
    params = scenarios.validate("pod-create", {"image": image, "pod_name": pod_name})
    return tuple(Simulation("pod-create", params=params, seed=seed, run_id=f"sim-pod-create-{seed}").events())


def run_pod_create(seed: int = 1, image: str = "nginx", pod_name: str = "nginx") -> list[dict]:
    """The events of a pod-create run (cached; do not mutate them)."""
    return list(_run(seed, image, pod_name))


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
