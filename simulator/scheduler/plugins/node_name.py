"""NodeName (plugins/nodename/node_name.go): a pod that names its node fits only that node."""
from ..framework import Code, FilterPlugin, Status, success

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


def fits(pod: dict, node_info) -> bool:
    want = pod["spec"].get("nodeName")
    return not want or want == node_info.name


class NodeName(FilterPlugin):
    NAME = NAME

    def filter(self, state, pod, node_info) -> Status:
        return success() if fits(pod, node_info) else Status(Code.UnschedulableAndUnresolvable, [ERR_REASON], NAME)
