"""simulator.topology: large, zoned topologies with unique addresses, fast to build."""
import ipaddress

import pytest

from simulator.cluster import NodeSpec, default_topology
from simulator.topology import REGION_LABEL, ZONE_LABEL, large_topology, pod_cidr


def test_five_thousand_nodes_have_unique_names_ips_and_pod_cidrs_inside_their_ranges():
    nodes = large_topology(5000)
    assert len(nodes) == 5000 and all(isinstance(n, NodeSpec) for n in nodes)
    assert [n.role for n in nodes[:2]] == ["control-plane", "worker"]
    assert sum(n.role == "control-plane" for n in nodes) == 1
    assert len({n.name for n in nodes}) == len({n.ip for n in nodes}) == len({n.pod_cidr for n in nodes}) == 5000
    node_net = ipaddress.ip_network("172.18.0.0/16")
    cluster_cidr = ipaddress.ip_network("10.224.0.0/11")
    services = ipaddress.ip_network("10.96.0.0/16")
    for n in nodes:
        ip = ipaddress.ip_address(n.ip)
        assert ip in node_net and ip not in (node_net.network_address, node_net.broadcast_address,
                                              ipaddress.ip_address("172.18.0.1"))
        net = ipaddress.ip_network(n.pod_cidr)  # strict: a real /24 network address
        assert net.prefixlen == 24 and net.subnet_of(cluster_cidr) and not net.overlaps(services)


def test_small_clusters_keep_kinds_addresses():
    big, kind = large_topology(3), default_topology(2)
    assert [(n.name, n.role, n.ip, n.pod_cidr) for n in big] == [(n.name, n.role, n.ip, n.pod_cidr) for n in kind]
    assert large_topology(300)[255].pod_cidr == "10.244.255.0/24"
    assert large_topology(300)[256].pod_cidr == "10.245.0.0/24"


def test_zones_are_balanced_and_labelled():
    nodes = large_topology(301, zones=3, cpu="8", memory="64Gi", pods="250")
    workers = [n for n in nodes if n.role == "worker"]
    per_zone = {}
    for n in workers:
        assert n.labels[ZONE_LABEL] == n.zone and n.labels[REGION_LABEL] == "region-1"
        per_zone[n.zone] = per_zone.get(n.zone, 0) + 1
    assert per_zone == {"region-1a": 100, "region-1b": 100, "region-1c": 100}
    assert {(n.cpu, n.memory, n.pods) for n in nodes} == {("8", "64Gi", "250")}
    assert nodes[0].zone == "region-1a"
    assert len({n.zone for n in large_topology(40, zones=30)}) == 30


def test_limits_are_explicit():
    with pytest.raises(ValueError):
        large_topology(0)
    with pytest.raises(ValueError):
        large_topology(10, zones=0)
    with pytest.raises(ValueError):
        pod_cidr(8192)
    assert len(large_topology(8192)) == 8192


def test_a_cluster_runs_on_it():
    from simulator.cluster import Cluster
    c = Cluster(seed=3, run_id="topo", topology=large_topology(5, zones=2))
    node = c.get("/registry/minions/worker-2")
    assert node["metadata"]["labels"][ZONE_LABEL] == "region-1b"
    assert node["metadata"]["labels"][REGION_LABEL] == "region-1"
    assert node["spec"]["podCIDR"] == "10.244.2.0/24"
