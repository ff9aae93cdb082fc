"""The scheduling framework's vocabulary, named as upstream does
(pkg/scheduler/framework/interface.go, types.go, cycle_state.go; k8s.io/kube-scheduler/framework).

`PodInfo` caches what the plugins keep asking about a pod (its requests, priority, affinity terms, host
ports), as upstream's framework.PodInfo does, so that parsing happens once per pod, not once per node.
`NodeInfo.pods` maps uid -> PodInfo in the order the pods were added.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from ..quantity import parse_bytes as _parse_bytes, parse_cpu_milli as _parse_cpu_milli


def _memoized_for_strings(parse):
    """`parse`, memoized for string quantities (the pods of one template carry the same few); the table
    stops growing at 4,096 entries."""
    table: dict = {}

    def memo(q):
        if type(q) is not str:
            return parse(q)
        v = table.get(q)
        if v is None:
            v = parse(q)
            if len(table) < 4096:
                table[q] = v
        return v
    memo.__doc__ = f"quantity.{parse.__name__}, memoized for strings."
    return memo


parse_cpu_milli = _memoized_for_strings(_parse_cpu_milli)
parse_bytes = _memoized_for_strings(_parse_bytes)

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
_SKIP = Status(Code.Skip)


def success() -> Status:
    """The shared Success status (never mutate it)."""
    return _SUCCESS


def skip() -> Status:
    """The shared Skip status (never mutate it)."""
    return _SKIP


class CycleState(dict):
    """Data plugins share within one scheduling cycle (framework.CycleState), keyed by string.
    The scheduler writes "all_nodes" (the snapshot's NodeInfo list, in node-tree order), "total_nodes"
    and "pod_info" before PreFilter."""

    def write(self, key: str, value) -> None:
        self[key] = value

    def read(self, key: str):
        return self[key]

    def clone(self) -> "CycleState":
        return CycleState(self)


@dataclass
class Resource:
    milli_cpu: int = 0
    memory: int = 0
    allowed_pod_number: int = 0

    def add(self, other: "Resource") -> None:
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory

    def sub(self, other: "Resource") -> None:
        self.milli_cpu -= other.milli_cpu
        self.memory -= other.memory


def _container_requests(c: dict) -> tuple[int, int, int, int]:
    """A container's cpu and memory requests, and the same with a missing request counted as the default
    (schedutil.GetNonzeroRequests: an explicit zero stays zero)."""
    req = (c.get("resources") or {}).get("requests") or {}
    cpu = parse_cpu_milli(req["cpu"]) if "cpu" in req else None
    mem = parse_bytes(req["memory"]) if "memory" in req else None
    return (cpu or 0, mem or 0, DEFAULT_MILLI_CPU_REQUEST if cpu is None else cpu,
            DEFAULT_MEMORY_REQUEST if mem is None else mem)


def _requests_pair(pod: dict) -> tuple[Resource, Resource]:
    """k8s.io/component-helpers/resource PodRequests, for the requests and for the non-zero requests, in
    one pass: the sum over containers, then the max with each init container (they run one at a time,
    before the others), plus spec.overhead."""
    spec = pod["spec"]
    t = [0, 0, 0, 0]   # cpu, memory, non-zero cpu, non-zero memory
    for c in spec.get("containers") or []:
        for i, v in enumerate(_container_requests(c)):
            t[i] += v
    for c in spec.get("initContainers") or []:
        for i, v in enumerate(_container_requests(c)):
            t[i] = max(t[i], v)
    over = spec.get("overhead") or {}
    if over:
        oc = parse_cpu_milli(over["cpu"]) if "cpu" in over else 0
        om = parse_bytes(over["memory"]) if "memory" in over else 0
        t = [t[0] + oc, t[1] + om, t[2] + oc, t[3] + om]
    return Resource(t[0], t[1]), Resource(t[2], t[3])


def _requests(pod: dict, nonzero: bool) -> Resource:
    return _requests_pair(pod)[nonzero]


def pod_requests(pod: dict, state: "CycleState | None" = None) -> Resource:
    """The pod's requests as NodeResourcesFit's PreFilter computes them (kept in the CycleState)."""
    if state is not None:
        pi = state.get("pod_info")
        if pi is not None and pi.pod is pod:
            return pi.req
        hit = state.get("PreFilterNodeResourcesFit")
        if hit is None:
            hit = state["PreFilterNodeResourcesFit"] = _requests(pod, False)
        return hit
    return _requests(pod, False)


def pod_nonzero_requests(pod: dict, state: "CycleState | None" = None) -> Resource:
    """schedutil.GetNonzeroRequests per container: a missing cpu/memory request counts as the default."""
    if state is not None:
        pi = state.get("pod_info")
        if pi is not None and pi.pod is pod:
            return pi.nz
        hit = state.get("nonZeroPodRequests")
        if hit is None:
            hit = state["nonZeroPodRequests"] = _requests(pod, True)
        return hit
    return _requests(pod, True)


def pod_priority(pod: dict) -> int:
    """corev1helpers.PodPriority: spec.priority (set by the Priority admission plugin), 0 when unset."""
    p = pod["spec"].get("priority")
    return int(p) if p is not None else 0


def host_ports(pod: dict) -> list[tuple[str, str, int]]:
    """(hostIP, protocol, hostPort) of every container port with a hostPort (nodeports.go getContainerPorts)."""
    out = []
    for c in pod["spec"].get("containers") or []:
        for p in c.get("ports") or []:
            hp = p.get("hostPort") or 0
            if hp > 0:
                out.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(hp)))
    return out


# ---- label selectors (k8s.io/apimachinery/pkg/apis/meta/v1 LabelSelectorAsSelector) ---------------------
def match_label_selector(selector: dict | None, labels: dict) -> bool:
    """A nil selector matches nothing; an empty one matches everything."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In":
            if labels.get(key) not in values or key not in labels:
                return False
        elif op == "NotIn":
            if key in labels and labels[key] in values:
                return False
        elif op == "Exists":
            if key not in labels:
                return False
        elif op == "DoesNotExist":
            if key in labels:
                return False
        else:
            return False
    return True


def _labels(pod: dict) -> dict:
    return pod["metadata"].get("labels") or {}


@dataclass
class AffinityTerm:
    """framework.AffinityTerm: a PodAffinityTerm with its namespaces resolved."""
    selector: dict | None
    topology_key: str
    namespaces: frozenset          # explicit namespaces (the pod's own when neither list nor selector is set)
    ns_selector: dict | None        # None: no namespaceSelector; {}: every namespace
    weight: int = 0

    def matches(self, pod: dict, ns_labels: dict | None = None) -> bool:
        """AffinityTerm.Matches: the namespace is listed or picked by the namespace selector, and the
        label selector matches the pod's labels."""
        ns = pod["metadata"].get("namespace", "")
        if ns not in self.namespaces:
            if self.ns_selector is None:
                return False
            if self.ns_selector and not match_label_selector(self.ns_selector, ns_labels or {}):
                return False
        return match_label_selector(self.selector, _labels(pod))


def _terms(pod: dict, kind: str, required: bool) -> list[AffinityTerm]:
    aff = (pod["spec"].get("affinity") or {}).get(kind) or {}
    ns = pod["metadata"].get("namespace", "")
    out = []
    if required:
        raw = [(t, 0) for t in aff.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    else:
        raw = [(w.get("podAffinityTerm") or {}, int(w.get("weight", 0)))
               for w in aff.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    for t, weight in raw:
        names = t.get("namespaces") or []
        nss = t.get("namespaceSelector")
        namespaces = frozenset(names) if (names or nss is not None) else frozenset((ns,))
        out.append(AffinityTerm(t.get("labelSelector"), t.get("topologyKey", ""), namespaces, nss, weight))
    return out


class PodInfo:
    """framework.PodInfo: the pod plus what is parsed from it once."""
    __slots__ = ("pod", "uid", "req", "nz", "priority", "ports", "required_affinity", "required_anti_affinity",
                 "preferred_affinity", "preferred_anti_affinity", "has_affinity", "terminating")

    def __init__(self, pod: dict):
        self.pod = pod
        self.uid = pod["metadata"].get("uid", "")
        self.req, self.nz = _requests_pair(pod)
        self.priority = pod_priority(pod)
        self.ports = host_ports(pod)
        aff = pod["spec"].get("affinity") or {}
        if aff.get("podAffinity") or aff.get("podAntiAffinity"):
            self.required_affinity = _terms(pod, "podAffinity", True)
            self.required_anti_affinity = _terms(pod, "podAntiAffinity", True)
            self.preferred_affinity = _terms(pod, "podAffinity", False)
            self.preferred_anti_affinity = _terms(pod, "podAntiAffinity", False)
        else:
            self.required_affinity = self.required_anti_affinity = self.preferred_affinity = self.preferred_anti_affinity = []
        self.has_affinity = bool(self.required_affinity or self.required_anti_affinity or self.preferred_affinity
                                 or self.preferred_anti_affinity)
        self.terminating = pod["metadata"].get("deletionTimestamp") is not None


@dataclass
class ImageStateSummary:
    size: int
    num_nodes: int


@dataclass
class NodeInfo:
    """Node-level aggregated information the scheduler keeps in its cache (framework.NodeInfo)."""
    node: dict
    pods: dict = field(default_factory=dict)   # uid -> PodInfo, in the order added
    requested: Resource = field(default_factory=Resource)
    non_zero_requested: Resource = field(default_factory=Resource)
    allocatable: Resource = field(default_factory=Resource)
    image_states: dict[str, ImageStateSummary] = field(default_factory=dict)
    used_ports: dict = field(default_factory=dict)            # (ip, protocol, port) -> count
    pods_with_affinity: int = 0
    pods_with_required_anti_affinity: int = 0

    @property
    def name(self) -> str:
        return self.node["metadata"]["name"]

    @property
    def labels(self) -> dict:
        return self.node["metadata"].get("labels") or {}

    @staticmethod
    def from_node(node: dict) -> "NodeInfo":
        ni = NodeInfo(node)
        ni.set_allocatable(node)
        return ni

    def set_allocatable(self, node: dict) -> None:
        st = node.get("status") or {}
        alloc = st.get("allocatable") or st.get("capacity") or {}
        self.allocatable = Resource(parse_cpu_milli(alloc.get("cpu", "0")), parse_bytes(alloc.get("memory", "0")),
                                    int(alloc.get("pods", "110")))

    def pod_list(self) -> list[dict]:
        return [pi.pod for pi in self.pods.values()]

    def add_pod(self, pod) -> PodInfo:
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        self.pods[pi.uid] = pi
        self.requested.add(pi.req)
        self.non_zero_requested.add(pi.nz)
        for p in pi.ports:
            self.used_ports[p] = self.used_ports.get(p, 0) + 1
        if pi.has_affinity:
            self.pods_with_affinity += 1
        if pi.required_anti_affinity:
            self.pods_with_required_anti_affinity += 1
        return pi

    def remove_pod(self, uid: str) -> PodInfo | None:
        pi = self.pods.pop(uid, None)
        if pi is None:
            return None
        self.requested.sub(pi.req)
        self.non_zero_requested.sub(pi.nz)
        for p in pi.ports:
            n = self.used_ports.get(p, 0) - 1
            if n > 0:
                self.used_ports[p] = n
            else:
                self.used_ports.pop(p, None)
        if pi.has_affinity:
            self.pods_with_affinity -= 1
        if pi.required_anti_affinity:
            self.pods_with_required_anti_affinity -= 1
        return pi

    def clone(self) -> "NodeInfo":
        ni = NodeInfo(self.node, dict(self.pods), Resource(self.requested.milli_cpu, self.requested.memory),
                      Resource(self.non_zero_requested.milli_cpu, self.non_zero_requested.memory),
                      self.allocatable, self.image_states, dict(self.used_ports), self.pods_with_affinity,
                      self.pods_with_required_anti_affinity)
        return ni


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
