"""NodeResourcesBalancedAllocation (plugins/noderesources/balanced_allocation.go): favours nodes whose
cpu and memory fractions stay close: score = (1 - |fcpu - fmem| / 2) * 100, using actual requests.
PreScore returns Skip for a best-effort pod (no requests at all), so it takes no part in scoring it
(kubernetes/kubernetes#129138, in recent releases)."""
from ..framework import MAX_NODE_SCORE, Code, ScorePlugin, Status, pod_requests, success

NAME = "NodeResourcesBalancedAllocation"


class NodeResourcesBalancedAllocation(ScorePlugin):
    NAME = NAME

    def pre_score(self, state, pod, nodes) -> Status:
        r = pod_requests(pod, state)
        if r.milli_cpu == 0 and r.memory == 0:
            return Status(Code.Skip, [], NAME)
        return success()

    def score(self, state, pod, node_info) -> int:
        r = pod_requests(pod, state)
        fractions = []
        for req, alloc in ((node_info.requested.milli_cpu + r.milli_cpu, node_info.allocatable.milli_cpu),
                           (node_info.requested.memory + r.memory, node_info.allocatable.memory)):
            if alloc:
                fractions.append(min(req / alloc, 1.0))
        std = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
        return int((1 - std) * MAX_NODE_SCORE)
