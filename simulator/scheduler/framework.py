"""The scheduling framework's vocabulary, named as upstream does
(pkg/scheduler/framework/interface.go, types.go, cycle_state.go; k8s.io/kube-scheduler/framework).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from ..quantity import parse_bytes, parse_cpu_milli

MAX_NODE_SCORE = 100  # framework.MaxNodeScore
MIN_NODE_SCORE = 0

# pkg/scheduler/util/pod_resources.go: requests assumed for a container that sets none, when *scoring*
# (so that many zero-request pods do not pile onto one node). Filtering uses the real requests.
DEFAULT_MILLI_CPU_REQUEST = 100            # 0.1 core
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # 200 MiB


class Code(IntEnum):
    """framework.Code, in upstream order."""
    Success = 0
    Error = 1
    Unschedulable = 2
    UnschedulableAndUnresolvable = 3
    Wait = 4
    Skip = 5
    Pending = 6


@dataclass
class Status:
    code: Code = Code.Success
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    def is_success(self) -> bool:
        return self.code == Code.Success

    def is_skip(self) -> bool:
        return self.code == Code.Skip

    def message(self) -> str:
        return ", ".join(self.reasons)

    def as_json(self) -> dict:
        return {"code": self.code.name, "reason": self.message()}


_SUCCESS = Status(Code.Success)


def success() -> Status:
    """The shared Success status (never mutate it)."""
    return _SUCCESS


class CycleState(dict):
    """Data plugins share within one scheduling cycle (framework.CycleState), keyed by string."""

    def write(self, key: str, value) -> None:
        self[key] = value

    def read(self, key: str):
        return self[key]


@dataclass
class Resource:
    milli_cpu: int = 0
    memory: int = 0
    allowed_pod_number: int = 0

    def add(self, other: "Resource") -> None:
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory


def pod_requests(pod: dict, state: "CycleState | None" = None) -> Resource:
    """Sum of the containers' requests (init containers and overhead are ignored for now). Within a
    cycle it is computed once and kept in the CycleState, as NodeResourcesFit's PreFilter does."""
    if state is not None:
        hit = state.get("PreFilterNodeResourcesFit")
        if hit is None:
            hit = state["PreFilterNodeResourcesFit"] = pod_requests(pod)
        return hit
    r = Resource()
    for c in pod["spec"].get("containers", []):
        req = c.get("resources", {}).get("requests", {})
        if "cpu" in req:
            r.milli_cpu += parse_cpu_milli(req["cpu"])
        if "memory" in req:
            r.memory += parse_bytes(req["memory"])
    return r


def pod_nonzero_requests(pod: dict, state: "CycleState | None" = None) -> Resource:
    """schedutil.GetNonzeroRequests per container: a missing cpu/memory request counts as the default."""
    if state is not None:
        hit = state.get("nonZeroPodRequests")
        if hit is None:
            hit = state["nonZeroPodRequests"] = pod_nonzero_requests(pod)
        return hit
    r = Resource()
    for c in pod["spec"].get("containers", []):
        req = c.get("resources", {}).get("requests", {})
        r.milli_cpu += parse_cpu_milli(req["cpu"]) if "cpu" in req else DEFAULT_MILLI_CPU_REQUEST
        r.memory += parse_bytes(req["memory"]) if "memory" in req else DEFAULT_MEMORY_REQUEST
    return r


@dataclass
class ImageStateSummary:
    size: int
    num_nodes: int


@dataclass
class NodeInfo:
    """Node-level aggregated information the scheduler keeps in its cache (framework.NodeInfo)."""
    node: dict
    pods: list[dict] = field(default_factory=list)
    requested: Resource = field(default_factory=Resource)
    non_zero_requested: Resource = field(default_factory=Resource)
    allocatable: Resource = field(default_factory=Resource)
    image_states: dict[str, ImageStateSummary] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node["metadata"]["name"]

    @staticmethod
    def from_node(node: dict) -> "NodeInfo":
        alloc = node.get("status", {}).get("allocatable", {})
        ni = NodeInfo(node)
        ni.allocatable = Resource(parse_cpu_milli(alloc.get("cpu", "0")), parse_bytes(alloc.get("memory", "0")),
                                  int(alloc.get("pods", "110")))
        return ni

    def add_pod(self, pod: dict) -> None:
        self.pods.append(pod)
        self.requested.add(pod_requests(pod))
        self.non_zero_requested.add(pod_nonzero_requests(pod))

    def remove_pod(self, uid: str) -> None:
        for i, p in enumerate(self.pods):
            if p["metadata"].get("uid") == uid:
                del self.pods[i]
                r, nz = pod_requests(p), pod_nonzero_requests(p)
                self.requested.milli_cpu -= r.milli_cpu
                self.requested.memory -= r.memory
                self.non_zero_requested.milli_cpu -= nz.milli_cpu
                self.non_zero_requested.memory -= nz.memory
                return


class Plugin:
    NAME = ""


class FilterPlugin(Plugin):
    def pre_filter(self, state: CycleState, pod: dict) -> Status:
        """PreFilter; Skip means the plugin's Filter does not run at all in this cycle."""
        return success()

    def filter(self, state: CycleState, pod: dict, node_info: NodeInfo) -> Status:
        raise NotImplementedError


class ScorePlugin(Plugin):
    def pre_score(self, state: CycleState, pod: dict, nodes: list[NodeInfo]) -> Status:
        return success()

    def score(self, state: CycleState, pod: dict, node_info: NodeInfo) -> int:
        raise NotImplementedError

    def normalize_score(self, state: CycleState, pod: dict, scores: dict[str, int]) -> None:
        """ScoreExtensions.NormalizeScore; the default is none (scores are already 0-100)."""


def default_normalize_score(max_priority: int, reverse: bool, scores: dict[str, int]) -> None:
    """pkg/scheduler/framework/plugins/helper/normalize_score.go DefaultNormalizeScore."""
    max_count = max(scores.values(), default=0)
    if max_count == 0:
        if reverse:
            for k in scores:
                scores[k] = max_priority
        return
    for k, s in scores.items():
        s = max_priority * s // max_count
        scores[k] = max_priority - s if reverse else s
