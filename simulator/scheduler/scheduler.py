"""kube-scheduler: the scheduling queue, one scheduling cycle per pod (PreFilter, Filter, PostFilter,
PreScore, Score, NormalizeScore, Reserve, Permit), then the binding cycle (PreBind, Bind: POST
pods/<name>/binding) - pkg/scheduler/schedule_one.go, framework/runtime/framework.go (v1.31).

Messages in: watch events (Pods, Nodes, Services, ReplicaSets, StatefulSets, ReplicationControllers,
Namespaces). Messages out: requests to the API server, and events.

Lifecycle: `start()` lists and watches (the informers); scheduling happens only while leading
(`on_started_leading()` / `on_stopped_leading()`; a scheduler is leading from the start unless built with
leading=False, so a cluster without leader election keeps working); `stop()` ends everything.

Two ways to run a cycle, same result: the plugins node by node (plugins/*, the reference, used for
detailed pods and for failures) and vector.py (numpy over node arrays, used for the rest at scale).
"""
from __future__ import annotations

import dataclasses
import random

from .. import clock, recorder
from ..apiserver import ApiServer, Credential, Request
from ..apiserver import registry
from ..apiserver.registry import objref
from ..component import Component
from ..kernel import Environment
from ..trace import Tracer
from . import plugins as P
from . import preemption, vector
from . import queue as Q
from .framework import Code, CycleState, ImageStateSummary, NodeInfo, PodInfo, Status, success

COMPONENT = "scheduler"
SCHEDULER_NAME = "default-scheduler"

# schedule_one.go numFeasibleNodesToFind: with percentageOfNodesToScore unset (0), the percentage is
# 50 - numAllNodes/125, at least 5%; never fewer than 100 nodes.
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
DETAIL_NODES = 100   # per-node results kept in a traced cycle's events (the rest are counted)
NO_NODES_MSG = "no nodes available to schedule pods"  # schedule_one.go ErrNoNodesAvailable
# Virtual durations of a cycle's phases (filter, score, reserve+permit), drawn from the component's RNG.
# "classroom": slow enough to follow on a projector (the lesson's ~0.3 s per pod); "realistic": what
# kube-scheduler takes for a simple pod (a few milliseconds), for large clusters.
PACES = {"classroom": ((0.08, 0.12), (0.08, 0.12), (0.02, 0.04)),
         "realistic": ((0.001, 0.003), (0.0005, 0.0015), (0.0002, 0.0005))}


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    pct = percentage
    if pct == 0:
        pct = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * pct // 100, MIN_FEASIBLE_NODES_TO_FIND)


def fit_error_message(num_all_nodes: int, statuses: dict[str, Status], post_filter_msg: str = "",
                      pre_filter_msg: str = "") -> str:
    """framework.FitError.Error(): "0/N nodes are available: <count> <reason>, ... ." with reasons sorted as
    strings (the histogram is skipped when a PreFilter plugin rejected the pod), then " <post filter
    message>." (SeparatorFormat " %v.") - pkg/scheduler/framework/types.go."""
    msg = f"0/{num_all_nodes} nodes are available:"
    if pre_filter_msg:
        msg += f" {pre_filter_msg}."
    else:
        hist: dict[str, int] = {}
        for s in statuses.values():
            for r in s.reasons:
                hist[r] = hist.get(r, 0) + 1
        parts = sorted(f"{n} {r}" for r, n in hist.items())
        if parts:
            msg += f" {', '.join(parts)}."
    if post_filter_msg:
        msg += f" {post_filter_msg}."
    return msg


_REQ_FIELDS = {f.name for f in dataclasses.fields(Request)}


def request(**kw) -> Request:
    """A Request, leaving out fields this API server version does not have yet (query, patch_type)."""
    if _REQ_FIELDS.issuperset(kw):
        return Request(**kw)
    return Request(**{k: v for k, v in kw.items() if k in _REQ_FIELDS})


def _zone_key(node: dict) -> str:
    """utilnode.GetZoneKey: region and zone (topology.kubernetes.io/*, else the failure-domain.beta ones)."""
    labels = node["metadata"].get("labels") or {}
    region = labels.get("topology.kubernetes.io/region") or labels.get("failure-domain.beta.kubernetes.io/region", "")
    zone = labels.get("topology.kubernetes.io/zone") or labels.get("failure-domain.beta.kubernetes.io/zone", "")
    return f"{region}:\x00:{zone}" if (region or zone) else ""


class _NodeImages:
    """NodeInfo.ImageStates: the node's images, with sizes and how many nodes have each (cluster-wide)."""
    __slots__ = ("names", "sched")

    def __init__(self, names: frozenset, sched: "Scheduler"):
        self.names = names
        self.sched = sched

    def get(self, name: str):
        if name not in self.names:
            return None
        return self.sched.image_summary(name)


class Listers:
    """What plugins read from the informers' caches (services, controllers, namespace labels)."""

    def __init__(self, sched: "Scheduler"):
        self.s = sched

    def services(self, ns: str) -> list:
        return list(self.s.objects["services"].get(ns, {}).values())

    def controller(self, ns: str, kind: str, name: str):
        res = {"ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
               "ReplicationController": "replicationcontrollers"}.get(kind)
        return self.s.objects.get(res, {}).get(ns, {}).get(name) if res else None

    def namespace_labels(self, ns: str) -> dict:
        obj = self.s.objects["namespaces"].get("", {}).get(ns)
        return (obj or {}).get("metadata", {}).get("labels") or {}


def _spec_key(pod: dict) -> tuple:
    m = pod["metadata"]
    return (repr(pod.get("spec")), repr(m.get("labels")), repr(m.get("annotations")))


class Scheduler(Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, apiserver: ApiServer,
                 instance: str = "scheduler-1", node: str = "control-plane", leading: bool = True,
                 percentage_of_nodes_to_score: int = 0, vectorized: bool = True, pace: str = "classroom"):
        super().__init__(env, rng, tracer, instance, node)
        self.api = apiserver
        # kubeadm's /etc/kubernetes/scheduler.conf: client certificate CN=system:kube-scheduler.
        self.credential = Credential.x509("system:kube-scheduler")
        self.filter_plugins = P.default_filter_plugins()
        self.score_plugins = P.default_score_plugins()
        self.percentage = percentage_of_nodes_to_score
        self.vectorized = vectorized
        self.pace = PACES[pace]
        self.running = False
        self.leading = leading
        self.queue = Q.SchedulingQueue(lambda: self.env.now, self._on_queue_move)
        # The cache: NodeInfo per node; pods on nodes (bound, or assumed by us before the binding lands).
        self.nodes: dict[str, NodeInfo] = {}
        self.pod_node: dict[str, str] = {}
        self.assumed: set[str] = set()
        self.cluster_pods_with_affinity = 0
        self.nominated: dict[str, tuple[str, PodInfo]] = {}   # uid -> (node, pod) nominated by preemption
        self._zones: dict[str, list[str]] = {}                  # nodeTree: zone key -> node names
        self._order: list[NodeInfo] = []
        self._order_dirty = True
        self.arrays = vector.NodeArrays()
        self._arrays_dirty = True
        self._image_nodes: dict[str, set] = {}
        self._image_size: dict[str, int] = {}
        self.objects: dict[str, dict[str, dict[str, dict]]] = {
            "services": {}, "replicasets": {}, "statefulsets": {}, "replicationcontrollers": {}, "namespaces": {}}
        self.listers = Listers(self)
        self.next_start_node_index = 0
        self.last_result: dict | None = None
        self._loop_active = False
        self._binding = 0                      # binding cycles under way
        self._flush_armed: float | None = None
        self._leftover_armed = False
        self.stats = {"scheduled": 0, "failed": 0, "vector": 0, "plugins": 0, "bind_errors": 0, "preemptions": 0}

    # ---- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        """The informers: list (silently, as an informer's initial list), then watch."""
        if self.running:
            return
        self.running = True
        lister = getattr(self.api, "list_shared", self.api.list)   # read-only objects, shared with other informers
        for res in ("namespaces", "services", "replicasets", "statefulsets", "replicationcontrollers"):
            if registry.info(res) is None:
                continue
            for obj in lister(registry.prefix(res)):
                self._store(res, "ADDED", obj)
            self.api.watch(res, self.me, lambda kind, obj, res=res: self.running and self._store(res, kind, obj))
        for node in lister(registry.prefix("nodes")):
            self._add_node(node)
        for pod in lister(registry.prefix("pods")):
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                continue
            self._on_pod("ADDED", pod, initial=True)
        self.api.watch("nodes", self.me, self._on_node)
        # The scheduler's pod informer skips finished pods: status.phase!=Succeeded,status.phase!=Failed.
        self.api.watch("pods", self.me, self._on_pod,
                       selector=lambda p: p.get("status", {}).get("phase") not in ("Succeeded", "Failed"))
        self._kick()

    def stop(self) -> None:
        self.running = False
        self.leading = False

    def on_started_leading(self) -> None:
        self.leading = True
        self._kick()

    def on_stopped_leading(self) -> None:
        # Upstream the process exits ("leaderelection lost") and restarts as a standby; here it stops
        # scheduling and keeps its caches.
        self.leading = False

    def busy(self) -> bool:
        """Work is pending that will happen without any outside event (activeQ, backoffQ, a cycle)."""
        return self.running and (self._binding > 0 or (self.leading and bool(
            self.queue.active_len() or self.queue.next_backoff_expiry() is not None or self.queue.in_flight
            or self._loop_active)))

    def _store(self, res: str, kind: str, obj: dict) -> None:
        m = obj["metadata"]
        self.arrays.classes = {}   # DefaultSelector (Services, controllers) may have changed
        d = self.objects[res].setdefault(m.get("namespace", ""), {})
        if kind == "DELETED":
            d.pop(m["name"], None)
        else:
            d[m["name"]] = obj

    # ---- tracing helpers ----------------------------------------------------------------------------------
    def _detailed(self, pod: dict) -> bool:
        t = self.tracer
        if not t.enabled:
            return False
        return t.wants(objref(pod))

    def _on_queue_move(self, pi: Q.QueuedPodInfo, queue: str, why: str) -> None:
        # The first add is told by the "popped from activeQ" event; moves between the queues are told here.
        if self.running and why != "PodAdd" and self.tracer.enabled:
            self._event("scheduler.queue", lambda: f"{pi.key} -> {queue} ({why})", lambda: {"queue": queue, "pod": pi.key},
                        objref(pi.pod))
        if queue == "activeQ":
            self._kick()
        elif queue == "backoffQ":
            self._arm_backoff_flush()
        elif queue == "unschedulablePods":
            self._arm_leftover_flush()

    # ---- the cache: nodes ---------------------------------------------------------------------------------
    def image_summary(self, name: str):
        nodes = self._image_nodes.get(name)
        if not nodes:
            return None
        return ImageStateSummary(self._image_size.get(name, 0), len(nodes))

    def _set_images(self, ni: NodeInfo, node: dict, old: dict | None) -> None:
        name = ni.name
        new_imgs = (node.get("status") or {}).get("images") or []
        if old is not None and ((old.get("status") or {}).get("images") or []) == new_imgs and ni.image_states is not None \
                and isinstance(ni.image_states, _NodeImages):
            return
        if isinstance(ni.image_states, _NodeImages):
            for n in ni.image_states.names:
                s = self._image_nodes.get(n)
                if s:
                    s.discard(name)
        names = set()
        for img in new_imgs:
            for n in img.get("names") or []:
                names.add(n)
                self._image_nodes.setdefault(n, set()).add(name)
                self._image_size[n] = img.get("sizeBytes", 0)
        ni.image_states = _NodeImages(frozenset(names), self)
        self.arrays.images_changed()

    def _add_node(self, node: dict) -> None:
        name = node["metadata"]["name"]
        ni = NodeInfo.from_node(node)
        ni.image_states = None
        self._set_images(ni, node, None)
        self.nodes[name] = ni
        self._zones.setdefault(_zone_key(node), []).append(name)
        self._order_dirty = self._arrays_dirty = True

    def _on_node(self, kind: str, node: dict) -> None:
        if not self.running:
            return
        name = node["metadata"]["name"]
        if kind == "DELETED":
            ni = self.nodes.pop(name, None)
            if ni is not None:
                for names in self._zones.values():
                    if name in names:
                        names.remove(name)
                if isinstance(ni.image_states, _NodeImages):
                    for n in ni.image_states.names:
                        self._image_nodes.get(n, set()).discard(name)
                self._order_dirty = self._arrays_dirty = True
                self.queue.move_all(Q.NODE_DELETE)
            return
        ni = self.nodes.get(name)
        if ni is None:
            self._add_node(node)
            self.queue.move_all(Q.NODE_ADD)
            return
        old = ni.node
        events = []
        om, nm = old["metadata"], node["metadata"]
        if (om.get("labels") or {}) != (nm.get("labels") or {}):
            events.append(Q.NODE_UPDATE_LABEL)
            if _zone_key(old) != _zone_key(node):
                for names in self._zones.values():
                    if name in names:
                        names.remove(name)
                self._zones.setdefault(_zone_key(node), []).append(name)
                self._order_dirty = True
        os_, ns_ = old.get("spec") or {}, node.get("spec") or {}
        if os_.get("taints") != ns_.get("taints") or bool(os_.get("unschedulable")) != bool(ns_.get("unschedulable")):
            events.append(Q.NODE_UPDATE_TAINT)
        ost, nst = old.get("status") or {}, node.get("status") or {}
        if (ost.get("allocatable") or ost.get("capacity")) != (nst.get("allocatable") or nst.get("capacity")):
            events.append(Q.NODE_UPDATE_ALLOCATABLE)
            ni.set_allocatable(node)
        ni.node = node
        self._set_images(ni, node, old)
        if events:
            self._arrays_dirty = True
            for ev in events:
                self.queue.move_all(ev)

    def _node_order(self) -> list[NodeInfo]:
        """nodeTree.list(): one node from each zone in turn (zones in the order they appeared)."""
        if self._order_dirty:
            zones = [names for names in self._zones.values() if names]
            out = []
            i = 0
            while True:
                added = False
                for names in zones:
                    if i < len(names):
                        out.append(self.nodes[names[i]])
                        added = True
                if not added:
                    break
                i += 1
            self._order = out
            self._order_dirty = False
            self._arrays_dirty = True
        return self._order

    def _arrays(self) -> vector.NodeArrays:
        order = self._node_order()
        if self._arrays_dirty:
            self.arrays.rebuild(order, self.all_assigned_pods)
            self._arrays_dirty = False
        return self.arrays

    def all_assigned_pods(self):
        for ni in self.nodes.values():
            for pi in ni.pods.values():
                yield ni.name, pi

    # ---- the cache: pods --------------------------------------------------------------------------------
    def _cache_add(self, node: str, pi: PodInfo) -> None:
        ni = self.nodes.get(node)
        if ni is None:
            return
        ni.add_pod(pi)
        self.pod_node[pi.uid] = node
        if pi.has_affinity:
            self.cluster_pods_with_affinity += 1
        if not self._arrays_dirty:
            self.arrays.add_pod(node, pi, 1)

    def _cache_remove(self, uid: str) -> PodInfo | None:
        node = self.pod_node.pop(uid, None)
        ni = self.nodes.get(node) if node else None
        if ni is None:
            return None
        pi = ni.remove_pod(uid)
        if pi is not None:
            if pi.has_affinity:
                self.cluster_pods_with_affinity -= 1
            if not self._arrays_dirty:
                self.arrays.add_pod(node, pi, -1)
        return pi

    def _on_pod(self, kind: str, pod: dict, initial: bool = False) -> None:
        if not self.running:
            return
        uid = pod["metadata"].get("uid", "")
        node = pod["spec"].get("nodeName")
        if kind == "DELETED":
            self.queue.delete(uid)
            self.nominated.pop(uid, None)
            if self._cache_remove(uid) is not None:
                self.assumed.discard(uid)
                self.queue.move_all(Q.ASSIGNED_POD_DELETE)
            return
        if node:
            # An assigned pod: into the cache (an assumed pod is confirmed; an update replaces the old one).
            self.queue.delete(uid)
            if self.nominated.pop(uid, None) is not None:
                pass
            old_node = self.pod_node.get(uid)
            if uid in self.assumed and old_node == node:
                self.assumed.discard(uid)
                old = self.nodes[node].pods.get(uid) if node in self.nodes else None
                if old is not None and old.pod["metadata"].get("labels") == pod["metadata"].get("labels") and not (
                        pod["metadata"].get("deletionTimestamp")):
                    old.pod = pod
                    return
            had = old_node is not None
            if had and old_node == node:
                cur = self.nodes[node].pods.get(uid) if node in self.nodes else None
                m = pod["metadata"]
                if cur is not None and cur.pod["metadata"].get("labels") == m.get("labels") and \
                        cur.pod["metadata"].get("deletionTimestamp") == m.get("deletionTimestamp"):
                    cur.pod = pod   # a status update (the kubelet's): nothing the plugins look at changed
                    return
            old_pi = self._cache_remove(uid) if had else None
            pi = PodInfo(pod)
            self._cache_add(node, pi)
            if not initial:
                if not had:
                    self.queue.move_all(Q.ASSIGNED_POD_ADD)
                elif old_pi is not None and old_pi.pod["metadata"].get("labels") != pod["metadata"].get("labels"):
                    self.queue.move_all(Q.ASSIGNED_POD_UPDATE)
            return
        if pod["spec"].get("schedulerName", SCHEDULER_NAME) != SCHEDULER_NAME:
            return
        if pod["metadata"].get("deletionTimestamp"):
            return  # skipPodSchedule: being deleted
        nn = (pod.get("status") or {}).get("nominatedNodeName")
        if nn:
            self.nominated[uid] = (nn, PodInfo(pod))
        else:
            self.nominated.pop(uid, None)
        if uid in self.queue.pods:
            old = self.queue.pods[uid].pod
            self.queue.update(pod, _spec_key(old) != _spec_key(pod))
        else:
            self.queue.add(pod)

    # ---- timers ----------------------------------------------------------------------------------------
    def _arm_backoff_flush(self) -> None:
        t = self.queue.next_backoff_expiry()
        if t is None:
            return
        # flushBackoffQCompleted runs every second; the next tick at or after the expiry.
        tick = max(self.env.now, t)
        if self._flush_armed is not None and self._flush_armed <= tick:
            return
        self._flush_armed = tick
        self.env.schedule(tick - self.env.now, self._flush_backoff)

    def _flush_backoff(self) -> None:
        self._flush_armed = None
        if not self.running:
            return
        self.queue.flush_backoff_completed()
        self._arm_backoff_flush()

    def _arm_leftover_flush(self) -> None:
        if self._leftover_armed or not self.queue.unschedulable:
            return
        self._leftover_armed = True
        self.env.schedule(Q.FLUSH_UNSCHEDULABLE_PERIOD, self._flush_leftover)

    def _flush_leftover(self) -> None:
        self._leftover_armed = False
        if not self.running:
            return
        self.queue.flush_unschedulable_leftover()
        self._arm_leftover_flush()

    # ---- the scheduling loop ----------------------------------------------------------------------------
    def _kick(self) -> None:
        if self.running and self.leading and not self._loop_active and self.queue.active_len():
            self._loop_active = True
            self.env.process(self._loop())

    def _loop(self):
        """scheduleOne, one pod at a time; binding cycles run on their own (goroutines upstream)."""
        try:
            # The scheduling goroutine wakes up on the queue's condition variable: a moment passes between
            # the informer's handler adding the pod and Pop() returning it.
            yield self.rng.uniform(0.02, 0.04)
            while self.running and self.leading:
                pi = self.queue.pop()
                if pi is None:
                    break
                yield from self._schedule_one(pi)
        finally:
            self._loop_active = False
        self._kick()

    def schedule_pod(self, pod: dict, detailed: bool = True, explain: bool = True) -> dict:
        """One scheduling cycle's decision, without side effects on the cluster: {'statuses', 'filter',
        'feasible', 'scores', 'totals', 'selected', 'message', ...}. Advances nextStartNodeIndex.
        Used by the cycle below and directly by tests."""
        pi = PodInfo(pod)
        all_nodes = self._node_order()
        n = len(all_nodes)
        if n == 0:
            return {"statuses": {}, "filter": {}, "feasible": [], "scores": {}, "totals": {}, "selected": None,
                    "message": NO_NODES_MSG, "prefilter": {}, "prescore": {}, "evaluated": 0, "path": "plugins",
                    "unschedulable_plugins": set(), "pod_info": pi}
        want = num_feasible_nodes_to_find(n, self.percentage)
        if self.vectorized and not detailed and vector.covered(pi, self):
            self._arrays()
            res = vector.schedule(self, pi, want)
            if res:
                self.next_start_node_index = (self.next_start_node_index + res["processed"]) % n
                self.stats["vector"] += 1
                feasible, totals = vector.names_and_totals(self.arrays, res) if explain else ([], {})
                return {"statuses": {}, "filter": {}, "feasible": feasible, "scores": {}, "totals": totals,
                        "num_feasible": int(res["positions"].size),
                        "selected": res["selected"], "message": None, "prefilter": {}, "prescore": {},
                        "evaluated": res["processed"], "path": "vector", "unschedulable_plugins": set(), "pod_info": pi}
        self.stats["plugins"] += 1
        return self._schedule_with_plugins(pod, pi, all_nodes, want)

    def _new_state(self, pi: PodInfo, all_nodes: list[NodeInfo]) -> CycleState:
        state = CycleState()
        state["pod_info"] = pi
        state["all_nodes"] = all_nodes
        state["total_nodes"] = len(all_nodes)
        state["listers"] = self.listers
        state["ns_labels"] = self.listers.namespace_labels
        return state

    def run_filters(self, state: CycleState, pod: dict, ni: NodeInfo, plugins, per_plugin: dict | None = None,
                    with_nominated: bool = True) -> Status:
        """RunFilterPluginsWithNominatedPods: with nominated pods of equal or higher priority added to the node
        (when there are any), then without them; each run stops at the first failing plugin."""
        pi = state.get("pod_info")
        prio = pi.priority if pi is not None else 0
        if with_nominated and self.nominated:
            added = [npi for uid, (node, npi) in self.nominated.items()
                     if node == ni.name and npi.priority >= prio and (pi is None or uid != pi.uid)]
            if added:
                tmp = ni.clone()
                for npi in added:
                    tmp.add_pod(npi)
                s = self._filters_once(state, pod, tmp, plugins, per_plugin)
                if not s.is_success():
                    return s
        return self._filters_once(state, pod, ni, plugins, per_plugin)

    @staticmethod
    def _filters_once(state, pod, ni, plugins, per_plugin) -> Status:
        for pl in plugins:
            s = pl.filter(state, pod, ni)
            if s.code == Code.Success:
                if per_plugin is not None:
                    per_plugin[pl.NAME] = {"code": "Success", "reason": ""}
                continue
            if per_plugin is not None:
                per_plugin[pl.NAME] = s.as_json()
            if not s.plugin:
                s.plugin = pl.NAME
            return s
        return success()

    def _schedule_with_plugins(self, pod: dict, pi: PodInfo, all_nodes: list[NodeInfo], want: int) -> dict:
        n = len(all_nodes)
        state = self._new_state(pi, all_nodes)
        statuses: dict[str, Status] = {}
        per_plugin: dict[str, dict] = {}
        prefilter: dict[str, str] = {}
        result = {"statuses": statuses, "filter": per_plugin, "feasible": [], "scores": {}, "totals": {},
                  "selected": None, "message": None, "prefilter": prefilter, "prescore": {}, "evaluated": 0,
                  "path": "plugins", "unschedulable_plugins": set(), "pod_info": pi, "state": state}
        # framework.RunPreFilterPlugins: a plugin whose PreFilter says Skip is left out of every Filter call;
        # one that rejects the pod rejects it on every node.
        filter_plugins = []
        for pl in self.filter_plugins:
            s = pl.pre_filter(state, pod)
            prefilter[pl.NAME] = s.code.name
            if s.is_skip():
                continue
            if not s.is_success():
                for ni in all_nodes:
                    statuses[ni.name] = Status(s.code, s.reasons, pl.NAME)
                result["unschedulable_plugins"] = {pl.NAME}
                result["message"] = self._fail_message(pod, state, n, statuses, result, pre_filter_msg=s.message())
                return result
            filter_plugins.append(pl)
        state["filter_plugins"] = filter_plugins
        feasible: list[NodeInfo] = []
        # evaluateNominatedNode: a pod nominated by an earlier preemption tries its node first.
        nn = (pod.get("status") or {}).get("nominatedNodeName")
        if nn and nn in self.nodes:
            ni = self.nodes[nn]
            res: dict = {}
            if self.run_filters(state, pod, ni, filter_plugins, res).is_success():
                per_plugin[nn] = res
                feasible = [ni]
        checked = 0
        if not feasible:
            start = self.next_start_node_index % n
            for i in range(n):
                if len(feasible) >= want:
                    break
                ni = all_nodes[(start + i) % n]
                checked += 1
                res = per_plugin[ni.name] = {}
                status = self.run_filters(state, pod, ni, filter_plugins, res)
                if status.is_success():
                    feasible.append(ni)
                else:
                    statuses[ni.name] = status
            self.next_start_node_index = (start + checked) % n
        result["evaluated"] = checked or 1
        result["feasible"] = [ni.name for ni in feasible]
        if not feasible:
            result["unschedulable_plugins"] = {s.plugin for s in statuses.values() if s.plugin}
            result["message"] = self._fail_message(pod, state, n, statuses, result)
            return result
        if len(feasible) == 1:
            # schedule_one.go: with a single feasible node there is nothing to compare; scoring is skipped.
            result["selected"] = feasible[0].name
            return result
        scores: dict[str, dict[str, dict]] = {ni.name: {} for ni in feasible}
        prescore = result["prescore"]
        for pl, weight in self.score_plugins:
            s = pl.pre_score(state, pod, feasible)
            prescore[pl.NAME] = s.code.name
            if s.is_skip():
                continue
            raw = {ni.name: pl.score(state, pod, ni) for ni in feasible}
            norm = dict(raw)
            pl.normalize_score(state, pod, norm)
            for name in raw:
                scores[name][pl.NAME] = {"raw": raw[name], "normalized": norm[name], "weight": weight}
        totals = {name: sum(p["normalized"] * p["weight"] for p in by.values()) for name, by in scores.items()}
        result["scores"], result["totals"] = scores, totals
        result["selected"] = self._select_host([ni.name for ni in feasible], totals)
        return result

    def _fail_message(self, pod, state, n, statuses, result, pre_filter_msg: str = "") -> str:
        """PostFilter (DefaultPreemption), then the FitError message."""
        post = preemption.post_filter(self, pod, state, statuses)
        result["postfilter"] = post
        return fit_error_message(n, statuses, post["message"], pre_filter_msg)

    def _select_host(self, names: list[str], totals: dict[str, int]) -> str:
        """selectHost: the highest total; among equal totals each is picked with the same probability, as the
        reservoir sampling upstream does (one draw from the seeded RNG instead of one per tie)."""
        best = max(totals[nm] for nm in names)
        ties = [nm for nm in names if totals[nm] == best]
        return ties[self.rng.randrange(len(ties))] if len(ties) > 1 else ties[0]

    # ---- one pod -----------------------------------------------------------------------------------------
    def _event(self, type: str, summary, data, obj: dict, to: dict | None = None) -> None:
        """Emit an event - or, when the tracer's summary level does not want this pod in full, only count it
        (the payload, a per-node table at worst, is then never built). `summary`/`data` may be callables."""
        t = self.tracer
        if not t.enabled:
            return
        if t.wants(type, obj):
            t.emit(COMPONENT, self.instance, type, summary() if callable(summary) else summary,
                   data() if callable(data) else data, to=to, obj=obj)
        elif type == "scheduler.bind":   # counted bindings per node feed the cluster map
            d = data() if callable(data) else data
            t.count(COMPONENT, type, obj, self.instance, summary() if callable(summary) else summary, node=d.get("node"))
        else:
            t.count(COMPONENT, type, obj, self.instance, summary() if callable(summary) else summary)

    def _schedule_one(self, qpi: Q.QueuedPodInfo):
        """scheduleOne's scheduling cycle. Its virtual duration and its RNG draws do not depend on how much
        of it is traced: a summarized run and a fully detailed one stay the same run."""
        pod = qpi.pod
        key = qpi.key
        ref = objref(pod) if self.tracer.enabled else None   # (only events carry it)
        pace = self.pace
        explain = self._detailed(pod)
        self._event("scheduler.queue", lambda: f"popped {key} from activeQ", lambda: {"queue": "activeQ", "pod": key}, ref)
        yield self.rng.uniform(*pace[0])  # snapshot + PreFilter + Filter over the nodes
        result = self.schedule_pod(pod, detailed=explain, explain=explain)
        self.last_result = result
        self._emit_filter(pod, key, ref, result)
        if result["message"]:
            self.stats["failed"] += 1
            yield from self._fail(qpi, result)
            return
        selected = result["selected"]
        yield self.rng.uniform(*pace[1])  # PreScore + Score + NormalizeScore
        self._emit_score(pod, key, ref, result)
        # Assume: the cache counts the pod on the node before the binding is confirmed; Reserve and Permit
        # (no plugin in the default profile waits at Permit) - then the binding cycle runs on its own.
        pi = result["pod_info"]
        bound = {**pod, "spec": {**pod["spec"], "nodeName": selected}}
        pi.pod = bound
        self.queue.done(qpi.uid)
        self.assumed.add(pi.uid)
        self._cache_add(selected, pi)
        self.stats["scheduled"] += 1
        self._event("scheduler.reserve", lambda: f"assumed {key} on {selected}; Reserve and Permit passed",
                    lambda: {"node": selected, "reserve": "Success", "permit": "Success"}, ref)
        yield self.rng.uniform(*pace[2])  # Reserve, Permit; then the binding cycle (async upstream)
        self.env.process(self._bind(qpi, pod, selected))

    def _emit_filter(self, pod: dict, key: str, ref: dict, result: dict) -> None:
        if not self.tracer.enabled:
            return
        feasible = result["feasible"]
        nf = result.get("num_feasible", len(feasible))
        if result["prefilter"] or not result["feasible"]:
            pre = result["prefilter"]
        else:
            pre = {}

        def pre_data():
            skipped = [p for p, c in pre.items() if c == "Skip"]
            return {"results": pre, "skipped": skipped}

        self._event("scheduler.prefilter", lambda: f"PreFilter for {key}: "
                    f"{sum(1 for c in pre.values() if c == 'Skip')} plugin(s) skip Filter", pre_data, ref)

        def filter_data():
            nodes = result["filter"]
            data = {"nodes": dict(list(nodes.items())[:DETAIL_NODES]), "feasible": feasible[:DETAIL_NODES],
                    "evaluated": result.get("evaluated", len(nodes))}
            if len(nodes) > DETAIL_NODES or len(feasible) > DETAIL_NODES:
                data["omitted"] = {"nodes": max(0, len(nodes) - DETAIL_NODES), "feasible": max(0, len(feasible) - DETAIL_NODES)}
            if result["message"]:
                data["message"] = result["message"]
            return data

        self._event("scheduler.filter", lambda: f"{nf}/{result.get('evaluated', len(result['statuses']))} nodes feasible for {key}",
                    filter_data, ref)
        post = result.get("postfilter")
        if post and post.get("ran"):
            self._event("scheduler.postfilter",
                        lambda: f"DefaultPreemption for {key}: " + (f"nominated {post['node']}" if post.get("node") else "no candidate"),
                        lambda: {"plugin": "DefaultPreemption", "nominatedNodeName": post.get("node"),
                                 "victims": [objref(v)["name"] for v in post.get("victims", [])],
                                 "message": post["message"]}, ref)

    def _emit_score(self, pod: dict, key: str, ref: dict, result: dict) -> None:
        if not self.tracer.enabled:
            return
        selected = result["selected"]
        totals = result["totals"]
        several = result.get("num_feasible", len(result["feasible"])) > 1
        if several:
            pre = result["prescore"]
            self._event("scheduler.prescore", lambda: f"PreScore for {key}: "
                        f"{sum(1 for c in pre.values() if c == 'Skip')} plugin(s) skip scoring",
                        lambda: {"results": pre, "skipped": [p for p, c in pre.items() if c == "Skip"]}, ref)

        def data():
            names = list(totals)[:DETAIL_NODES]
            if selected not in names and selected in totals:
                names.append(selected)
            d = {"scores": {nm: result["scores"][nm] for nm in names if nm in result["scores"]},
                 "totals": {nm: totals[nm] for nm in names}, "selected": selected}
            if len(totals) > len(names):
                d["omitted"] = len(totals) - len(names)
            return d

        self._event("scheduler.score", lambda: f"selected {selected} for {key}" + (
            f" (total {totals[selected]})" if totals else (" (only feasible node)" if not several else "")), data, ref)

    def _bind(self, qpi: Q.QueuedPodInfo, pod: dict, selected: str):
        """The binding cycle: PreBind (nothing to do without volumes), Bind (DefaultBinder), PostBind."""
        self._binding += 1
        try:
            yield from self._binding_cycle(qpi, pod, selected)
        finally:
            self._binding -= 1

    def _binding_cycle(self, qpi: Q.QueuedPodInfo, pod: dict, selected: str):
        key = qpi.key
        ns, name, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]
        if not self.running:
            return
        if self.tracer.enabled:
            self._event("scheduler.bind", lambda: f"bind {key} to {selected}", lambda: {"node": selected}, objref(pod),
                        to=self.api.me)
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": ns, "uid": uid},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": selected}}
        resp = yield self.api.handle(request(method="POST", path=f"/api/v1/namespaces/{ns}/pods/{name}/binding",
                                             verb="create", resource="pods", namespace=ns, name=name,
                                             subresource="binding", body=binding, credential=self.credential,
                                             client=self.me))
        if not self.running:
            return
        if not resp.ok:
            # Bind failed: forget the assumed pod and retry it after a back-off (handleBindingCycleError).
            self.stats["bind_errors"] += 1
            if uid in self.assumed:
                self.assumed.discard(uid)
                self._cache_remove(uid)
                self.queue.move_all(Q.ASSIGNED_POD_DELETE)
            if resp.code != 404 and self.running:
                cur = self.api.get(registry.key("pods", ns, name))
                if cur is not None and not cur["spec"].get("nodeName"):
                    self.queue.pods[uid] = qpi
                    qpi.pod = cur
                    self.queue.add_unschedulable(qpi, set(), error=True)
            return
        # schedule_one.go: Eventf(..., "Scheduled", "Binding", "Successfully assigned %v/%v to %v", ...)
        ev = recorder.events_v1_event(self.env.now, resp.body or pod, "Scheduled", "Binding",
                                      f"Successfully assigned {ns}/{name} to {selected}", "Normal",
                                      SCHEDULER_NAME, f"{SCHEDULER_NAME}-{self.node}")
        yield recorder.post_events_v1(self.api, self.me, self.credential, ev)

    def _fail(self, qpi: Q.QueuedPodInfo, result: dict):
        """handleSchedulingFailure: back into the queue (unschedulablePods, or backoffQ when something
        relevant happened meanwhile), a FailedScheduling event, and PodScheduled=False (reason
        Unschedulable) with the message - and status.nominatedNodeName when preemption nominated a node -
        in one status patch."""
        pod = qpi.pod
        message = result["message"]
        post = result.get("postfilter") or {}
        nominated = post.get("node")
        if nominated and post.get("victim_infos"):
            yield from self._prepare_candidate(pod, nominated, post["victim_infos"])
        self.queue.add_unschedulable(qpi, result.get("unschedulable_plugins") or set())
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        ev = recorder.events_v1_event(self.env.now, pod, "FailedScheduling", "Scheduling", message, "Warning",
                                      SCHEDULER_NAME, f"{SCHEDULER_NAME}-{self.node}")
        yield recorder.post_events_v1(self.api, self.me, self.credential, ev)
        cur = self.api.get(registry.key("pods", ns, name)) or pod
        cond = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "lastTransitionTime": clock.rfc3339(self.env.now), "reason": "Unschedulable", "message": message}
        conds = [c for c in (cur.get("status") or {}).get("conditions") or [] if c.get("type") != "PodScheduled"]
        old = next((c for c in (cur.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        if old is not None and old.get("status") == "False":
            cond["lastTransitionTime"] = old.get("lastTransitionTime")
        status = {"conditions": conds + [cond]}
        if nominated is not None:
            status["nominatedNodeName"] = nominated or None
        yield self.api.handle(request(method="PATCH", path=f"/api/v1/namespaces/{ns}/pods/{name}/status", verb="patch",
                                      resource="pods", namespace=ns, name=name, subresource="status",
                                      body={"status": status}, credential=self.credential, client=self.me,
                                      patch_type="strategic"))
        if nominated:
            self.nominated[qpi.uid] = (nominated, PodInfo(pod))

    def _prepare_candidate(self, pod: dict, node: str, victims: list):
        """preemption.go prepareCandidate: for each victim, the DisruptionTarget condition (reason
        PreemptionByScheduler), a graceful DELETE, and the "Preempted" event naming the preemptor's uid; then
        lower-priority pods nominated to the same node lose their nomination."""
        self.stats["preemptions"] += 1
        prio = PodInfo(pod).priority
        for v in victims:
            vp = v.pod
            if vp["metadata"].get("deletionTimestamp"):
                continue  # graceful deletion already under way
            ns, name = vp["metadata"]["namespace"], vp["metadata"]["name"]
            cond = {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                    "lastTransitionTime": clock.rfc3339(self.env.now), "reason": "PreemptionByScheduler",
                    "message": f"{pod['spec'].get('schedulerName', SCHEDULER_NAME)}: preempting to accommodate a higher priority pod"}
            cur = self.api.get(registry.key("pods", ns, name)) or vp
            conds = [c for c in (cur.get("status") or {}).get("conditions") or [] if c.get("type") != "DisruptionTarget"]
            resp = yield self.api.handle(request(
                method="PATCH", path=f"/api/v1/namespaces/{ns}/pods/{name}/status", verb="patch", resource="pods",
                namespace=ns, name=name, subresource="status", body={"status": {"conditions": conds + [cond]}},
                credential=self.credential, client=self.me, patch_type="strategic"))
            if resp.code == 404:
                continue
            resp = yield self.api.handle(request(
                method="DELETE", path=f"/api/v1/namespaces/{ns}/pods/{name}", verb="delete", resource="pods",
                namespace=ns, name=name, credential=self.credential, client=self.me, query={}))
            if not resp.ok and resp.code != 404:
                continue
            ev = recorder.events_v1_event(self.env.now, cur, "Preempted", "Preempting",
                                          f"Preempted by pod {pod['metadata']['uid']} on node {node}", "Normal",
                                          SCHEDULER_NAME, f"{SCHEDULER_NAME}-{self.node}")
            ev["related"] = recorder.involved(pod)
            yield recorder.post_events_v1(self.api, self.me, self.credential, ev)
        for uid, (nn, npi) in list(self.nominated.items()):
            if nn == node and npi.priority < prio and uid != pod["metadata"]["uid"]:
                self.nominated.pop(uid, None)
                ns, name = npi.pod["metadata"]["namespace"], npi.pod["metadata"]["name"]
                yield self.api.handle(request(
                    method="PATCH", path=f"/api/v1/namespaces/{ns}/pods/{name}/status", verb="patch", resource="pods",
                    namespace=ns, name=name, subresource="status", body={"status": {"nominatedNodeName": None}},
                    credential=self.credential, client=self.me, patch_type="strategic"))
