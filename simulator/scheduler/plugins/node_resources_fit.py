"""NodeResourcesFit (plugins/noderesources/fit.go, least_allocated.go).

Filter: the pod's requests must fit in allocatable minus what the node's pods already request
(reasons "Too many pods", "Insufficient cpu", "Insufficient memory"; Unschedulable, because removing
pods - preemption - could help). A pod requesting nothing is checked against the pod count only.
Score (default strategy LeastAllocated, cpu and memory weight 1 each): for each resource
(allocatable - requested) * 100 / allocatable, where requested counts every pod with the non-zero
defaults (100m CPU, 200Mi memory for a container without requests), then the weighted mean over the
resources the node has (a resource with allocatable 0 is left out, as leastResourceScorer does).
"""
from ..framework import MAX_NODE_SCORE, Code, FilterPlugin, ScorePlugin, Status, pod_nonzero_requests, pod_requests, success

NAME = "NodeResourcesFit"


def insufficient(pod: dict, node_info, state=None) -> list[str]:
    reasons = []
    if len(node_info.pods) + 1 > node_info.allocatable.allowed_pod_number:
        reasons.append("Too many pods")
    r = pod_requests(pod, state)
    if r.milli_cpu and node_info.allocatable.milli_cpu < r.milli_cpu + node_info.requested.milli_cpu:
        reasons.append("Insufficient cpu")
    if r.memory and node_info.allocatable.memory < r.memory + node_info.requested.memory:
        reasons.append("Insufficient memory")
    return reasons


def fits(pod: dict, node_info) -> bool:
    return not insufficient(pod, node_info)


def least_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


class NodeResourcesFit(FilterPlugin, ScorePlugin):
    NAME = NAME

    def filter(self, state, pod, node_info) -> Status:
        reasons = insufficient(pod, node_info, state)
        return success() if not reasons else Status(Code.Unschedulable, reasons, NAME)

    def score(self, state, pod, node_info) -> int:
        p = pod_nonzero_requests(pod, state)
        total = weights = 0
        for req, alloc in ((node_info.non_zero_requested.milli_cpu + p.milli_cpu, node_info.allocatable.milli_cpu),
                           (node_info.non_zero_requested.memory + p.memory, node_info.allocatable.memory)):
            if alloc == 0:
                continue
            total += least_requested_score(req, alloc)
            weights += 1
        return total // weights if weights else 0
