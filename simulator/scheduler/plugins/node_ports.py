"""NodePorts (plugins/nodeports/node_ports.go): a pod asking for a hostPort fits only a node where no pod
already uses that port for the same protocol on a conflicting address (framework.HostPortInfo.CheckConflict:
0.0.0.0 conflicts with every address). PreFilter returns Skip for a pod without host ports."""
from ..framework import Code, FilterPlugin, Status, host_ports, skip, success

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"


def _conflict(used: dict, ip: str, protocol: str, port: int) -> bool:
    if ip == "0.0.0.0":
        return any(p == port and proto == protocol for (_ip, proto, p) in used)
    return (ip, protocol, port) in used or ("0.0.0.0", protocol, port) in used


def fits(pod: dict, node_info) -> bool:
    return not any(_conflict(node_info.used_ports, *hp) for hp in host_ports(pod))


class NodePorts(FilterPlugin):
    NAME = NAME

    def pre_filter(self, state, pod) -> Status:
        ports = host_ports(pod)
        if not ports:
            return skip()
        state["PreFilterNodePorts"] = ports
        return success()

    def filter(self, state, pod, node_info) -> Status:
        ports = state.get("PreFilterNodePorts")
        if ports is None:
            ports = host_ports(pod)
        if any(_conflict(node_info.used_ports, *hp) for hp in ports):
            return Status(Code.Unschedulable, [ERR_REASON], NAME)
        return success()
