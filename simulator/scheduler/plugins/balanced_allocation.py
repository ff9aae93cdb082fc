"""NodeResourcesBalancedAllocation (plugins/noderesources/balanced_allocation.go): favours nodes whose
cpu and memory fractions stay close: score = (1 - |fcpu - fmem| / 2) * 100, using actual requests.
In v1.31, the release modelled here, a best-effort pod (no requests at all) is still scored: its zero
requests leave each node's fractions as they are. Skipping such pods in PreScore came later, with
kubernetes/kubernetes#130260 (v1.33)."""
from ..framework import MAX_NODE_SCORE, ScorePlugin, pod_requests

NAME = "NodeResourcesBalancedAllocation"


class NodeResourcesBalancedAllocation(ScorePlugin):
    NAME = NAME

    def score(self, state, pod, node_info) -> int:
        r = pod_requests(pod, state)
        fractions = []
        for req, alloc in ((node_info.requested.milli_cpu + r.milli_cpu, node_info.allocatable.milli_cpu),
                           (node_info.requested.memory + r.memory, node_info.allocatable.memory)):
            if alloc:
                fractions.append(min(req / alloc, 1.0))
        std = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
        return int((1 - std) * MAX_NODE_SCORE)
