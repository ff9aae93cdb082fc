"""NodeUnschedulable (plugins/nodeunschedulable/node_unschedulable.go): a cordoned node
(spec.unschedulable) only takes pods that tolerate node.kubernetes.io/unschedulable:NoSchedule."""
from ..framework import Code, FilterPlugin, Status, success
from .taint_toleration import tolerates

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def fits(pod: dict, node_info) -> bool:
    if not node_info.node.get("spec", {}).get("unschedulable"):
        return True
    return any(tolerates(t, _TAINT) for t in pod["spec"].get("tolerations", []))


class NodeUnschedulable(FilterPlugin):
    NAME = NAME

    def filter(self, state, pod, node_info) -> Status:
        if fits(pod, node_info):
            return success()
        return Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_UNSCHEDULABLE], NAME)
