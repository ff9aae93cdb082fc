"""Builders for large topologies (up to Kubernetes' supported maximum of 5,000 nodes and beyond).

``large_topology(5000)`` returns one control-plane node and 4,999 workers spread round-robin over zones,
in a few milliseconds. Addressing:

- Node IPs: 172.18.0.0/16, kind's Docker network (172.18.0.1 is the bridge's gateway); node *i*
  (0 = the control plane) gets 172.18.0.0 + 2 + i, so the first ones match ``cluster.default_topology``
  (control-plane 172.18.0.2, worker-1 172.18.0.3 …). Room for 65,532 nodes.
- Pod CIDRs: a /24 per node (kube-controller-manager's default ``--node-cidr-mask-size`` for IPv4,
  pkg/controller/nodeipam/ipam: 24) from the cluster CIDR 10.224.0.0/11 (8,192 /24s). kind's default
  podSubnet 10.244.0.0/16 holds only 256 /24s, so a bigger cluster needs a bigger cluster CIDR; this one
  contains 10.244.0.0/16 and is walked from there, so node *i* < 256 gets 10.244.i.0/24 exactly as kind
  and ``default_topology`` do, then 10.245.0.0/24 … 10.255.255.0/24, then wraps to 10.224.0.0/24. It stays
  clear of kind's Service CIDR 10.96.0.0/16.
- Labels: the well-known ``topology.kubernetes.io/zone`` (via ``NodeSpec.zone``) and
  ``topology.kubernetes.io/region`` (k8s.io/api/core/v1 well_known_labels.go: LabelTopologyZone,
  LabelTopologyRegion), which PodTopologySpread's system default constraints and the spreading of
  replicas use. Zones are named like a cloud's: region ``region-1``, zones ``region-1a``, ``region-1b`` …
"""
from __future__ import annotations

from .cluster import NodeSpec

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
REGION = "region-1"
CLUSTER_CIDR = "10.224.0.0/11"
NODE_NETWORK = "172.18.0.0/16"
MAX_NODES = 8192  # /24s in the cluster CIDR

_FIRST_BLOCK = (244 - 224) * 256  # 10.244.0.0/24 is block 5,120 of 10.224.0.0/11


def zone_name(z: int) -> str:
    """region-1a … region-1z, then region-1-27 … for more than 26 zones."""
    return f"{REGION}{chr(ord('a') + z)}" if z < 26 else f"{REGION}-{z + 1}"


def node_ip(i: int) -> str:
    off = 2 + i
    if off > 0xFFFE:
        raise ValueError(f"node {i} does not fit in {NODE_NETWORK}")
    return f"172.18.{off >> 8}.{off & 0xFF}"


def pod_cidr(i: int) -> str:
    if not 0 <= i < MAX_NODES:
        raise ValueError(f"node {i}: the cluster CIDR {CLUSTER_CIDR} holds {MAX_NODES} /24s")
    b = (_FIRST_BLOCK + i) % MAX_NODES
    return f"10.{224 + (b >> 8)}.{b & 0xFF}.0/24"


def large_topology(nodes: int, zones: int = 3, cpu: str = "4", memory: str = "32Gi",
                   pods: str = "110") -> list[NodeSpec]:
    """``nodes`` nodes in all: "control-plane" (in the first zone) and workers worker-1 … worker-<nodes-1>,
    worker-i in zone (i - 1) mod zones. Every node has the same capacity (cpu, memory, pods)."""
    if nodes < 1:
        raise ValueError("a cluster needs at least one node")
    if nodes > MAX_NODES:
        raise ValueError(f"at most {MAX_NODES} nodes (the cluster CIDR {CLUSTER_CIDR} holds {MAX_NODES} /24s)")
    if zones < 1:
        raise ValueError("zones must be at least 1")
    names = [zone_name(z) for z in range(zones)]
    # One labels dict per zone, shared by the nodes in it (NodeSpec is frozen; nobody mutates them).
    labels = [{REGION_LABEL: REGION, ZONE_LABEL: z} for z in names]
    out = [NodeSpec("control-plane", "control-plane", node_ip(0), pod_cidr(0), cpu=cpu, memory=memory, pods=pods,
                    labels=labels[0], zone=names[0])]
    for i in range(1, nodes):
        z = (i - 1) % zones
        out.append(NodeSpec(f"worker-{i}", "worker", node_ip(i), pod_cidr(i), cpu=cpu, memory=memory, pods=pods,
                            labels=labels[z], zone=names[z]))
    return out


def ha_topology() -> list[NodeSpec]:
    """kind's HA shape (a config with three control-plane nodes and one worker): three control-plane nodes,
    each with a stacked etcd member and its own kube-apiserver behind the load balancer."""
    return [NodeSpec(f"control-plane{s}", "control-plane", f"172.18.0.{2 + i}", f"10.244.{i}.0/24")
            for i, s in enumerate(("", "2", "3"))] + [NodeSpec("worker-1", "worker", "172.18.0.5", "10.244.3.0/24")]
