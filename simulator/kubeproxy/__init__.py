"""kube-proxy models (pure, deterministic, stdlib only). See `iptables` for the iptables-mode rule generator."""
from simulator.kubeproxy.iptables import (  # noqa: F401
    compute_probability,
    port_proto_hash,
    service_dns_name,
    service_port_endpoint_chain_name,
    service_port_name,
    service_port_policy_cluster_chain,
    sync_proxy_rules,
)
