"""The scheduling queue (pkg/scheduler/backend/queue/scheduling_queue.go, v1.31 PriorityQueue).

- activeQ: a heap ordered by the QueueSort plugin, PrioritySort (plugins/queuesort/priority_sort.go):
  higher .spec.priority first, then the earlier queue timestamp - so equal-priority Pods come out in the
  order they were added (creation order).
- backoffQ: Pods that failed and wait out their back-off: podInitialBackoffSeconds 1, doubled per attempt,
  capped at podMaxBackoffSeconds 10 (calculateBackoffDuration), counted from the last failure; flushed to
  activeQ every second (flushBackoffQCompleted).
- unschedulablePods: Pods that failed as unschedulable wait for a cluster event that may help them
  (MoveAllToActiveOrBackoffQueue with queueing hints: only events registered by the plugins that rejected
  the Pod requeue it); every 30 s, those waiting longer than podMaxInUnschedulablePodsDuration (5 min) are
  moved anyway (flushUnschedulablePodsLeftover).
Pods with spec.schedulingGates wait in unschedulablePods until the gates are removed (SchedulingGates
PreEnqueue).

Time is the simulation's virtual clock (`now()`); nothing here reads the wall clock.
"""
from __future__ import annotations

import heapq
from typing import Callable

POD_INITIAL_BACKOFF = 1.0
POD_MAX_BACKOFF = 10.0
POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION = 300.0
FLUSH_BACKOFF_PERIOD = 1.0
FLUSH_UNSCHEDULABLE_PERIOD = 30.0

# Cluster events (framework.ClusterEvent, resource/action) and the plugins that register for them
# (each plugin's EventsToRegister in v1.31; the queueing hints are reduced to "this event may help").
NODE_ADD = "Node/Add"
NODE_UPDATE_ALLOCATABLE = "Node/UpdateNodeAllocatable"
NODE_UPDATE_LABEL = "Node/UpdateNodeLabel"
NODE_UPDATE_TAINT = "Node/UpdateNodeTaint"
NODE_DELETE = "Node/Delete"
ASSIGNED_POD_ADD = "AssignedPod/Add"
ASSIGNED_POD_UPDATE = "AssignedPod/UpdatePodLabel"
ASSIGNED_POD_DELETE = "AssignedPod/Delete"
UNSCHEDULABLE_TIMEOUT = "UnschedulableTimeout"
POD_UPDATE = "UnschedulablePod/Update"

EVENTS_TO_REGISTER: dict[str, frozenset] = {
    "NodeUnschedulable": frozenset({NODE_ADD, NODE_UPDATE_TAINT}),
    "NodeName": frozenset({NODE_ADD}),
    "TaintToleration": frozenset({NODE_ADD, NODE_UPDATE_TAINT}),
    "NodeAffinity": frozenset({NODE_ADD, NODE_UPDATE_LABEL}),
    "NodePorts": frozenset({NODE_ADD, ASSIGNED_POD_DELETE}),
    "NodeResourcesFit": frozenset({NODE_ADD, NODE_UPDATE_ALLOCATABLE, ASSIGNED_POD_DELETE}),
    "PodTopologySpread": frozenset({NODE_ADD, NODE_UPDATE_LABEL, NODE_DELETE, ASSIGNED_POD_ADD,
                                    ASSIGNED_POD_UPDATE, ASSIGNED_POD_DELETE}),
    "InterPodAffinity": frozenset({NODE_ADD, NODE_UPDATE_LABEL, ASSIGNED_POD_ADD, ASSIGNED_POD_UPDATE,
                                   ASSIGNED_POD_DELETE}),
}


def backoff_duration(attempts: int) -> float:
    """calculateBackoffDuration: initial, doubled for every attempt after the first, capped."""
    d = POD_INITIAL_BACKOFF
    for _ in range(1, attempts):
        if d > POD_MAX_BACKOFF - d:
            return POD_MAX_BACKOFF
        d += d
    return d


class QueuedPodInfo:
    __slots__ = ("pod", "uid", "key", "priority", "timestamp", "initial_attempt", "attempts",
                 "unschedulable_plugins", "seq", "where", "gated")

    def __init__(self, pod: dict, now: float, seq: int):
        self.pod = pod
        self.uid = pod["metadata"].get("uid", "")
        self.key = f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"
        p = pod["spec"].get("priority")
        self.priority = int(p) if p is not None else 0
        self.timestamp = now
        self.initial_attempt = None
        self.attempts = 0
        self.unschedulable_plugins: set = set()
        self.seq = seq
        self.where = ""
        self.gated = bool(pod["spec"].get("schedulingGates"))


class SchedulingQueue:
    def __init__(self, now: Callable[[], float], on_move: Callable[[QueuedPodInfo, str, str], None] | None = None):
        self.now = now
        self.on_move = on_move                       # (pinfo, queue, why) for tracing
        self._active: list = []                      # heap of (-priority, timestamp, seq, uid)
        self._backoff: list = []                     # heap of (backoff expiry, seq, uid)
        self.unschedulable: dict[str, QueuedPodInfo] = {}
        self.pods: dict[str, QueuedPodInfo] = {}     # every queued or in-flight pod, by uid
        self.in_flight: dict[str, QueuedPodInfo] = {}
        self._seq = 0
        # moveRequestCycle: the scheduling cycle at which the last move request happened; a pod whose
        # cycle started before a move request goes to backoffQ rather than unschedulablePods.
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self._events_during: dict[str, list] = {}

    # ---- sizes ----
    def active_len(self) -> int:
        return len(self._active)

    def backoff_len(self) -> int:
        return len(self._backoff)

    def __len__(self) -> int:
        return len(self.pods)

    def _push_active(self, pi: QueuedPodInfo, why: str) -> None:
        self._seq += 1
        pi.seq = self._seq
        pi.where = "activeQ"
        heapq.heappush(self._active, (-pi.priority, pi.timestamp, pi.seq, pi.uid))
        if self.on_move:
            self.on_move(pi, "activeQ", why)

    def _push_backoff(self, pi: QueuedPodInfo, why: str) -> None:
        self._seq += 1
        pi.seq = self._seq
        pi.where = "backoffQ"
        heapq.heappush(self._backoff, (self.backoff_expiry(pi), pi.seq, pi.uid))
        if self.on_move:
            self.on_move(pi, "backoffQ", why)

    def _push_unschedulable(self, pi: QueuedPodInfo, why: str) -> None:
        pi.where = "unschedulablePods"
        self.unschedulable[pi.uid] = pi
        if self.on_move:
            self.on_move(pi, "unschedulablePods", why)

    def backoff_expiry(self, pi: QueuedPodInfo) -> float:
        return pi.timestamp + backoff_duration(pi.attempts)

    # ---- the API ----
    def add(self, pod: dict) -> QueuedPodInfo | None:
        """Add: a new unscheduled pod (PreEnqueue: a gated pod waits in unschedulablePods)."""
        uid = pod["metadata"].get("uid", "")
        if uid in self.pods:
            return None
        self._seq += 1
        pi = QueuedPodInfo(pod, self.now(), self._seq)
        self.pods[uid] = pi
        if pi.gated:
            pi.unschedulable_plugins = {"SchedulingGates"}
            self._push_unschedulable(pi, "PodAdd (gated)")
        else:
            self._push_active(pi, "PodAdd")
        return pi

    def update(self, pod: dict, spec_changed: bool) -> None:
        pi = self.pods.get(pod["metadata"].get("uid", ""))
        if pi is None:
            self.add(pod)
            return
        pi.pod = pod
        was_gated = pi.gated
        pi.gated = bool(pod["spec"].get("schedulingGates"))
        if pi.where == "unschedulablePods" and spec_changed and not pi.gated:
            del self.unschedulable[pi.uid]
            if was_gated:
                pi.unschedulable_plugins = set()
                self._push_active(pi, "PodUpdate (gates removed)")
            elif self.now() < self.backoff_expiry(pi):
                self._push_backoff(pi, POD_UPDATE)
            else:
                self._push_active(pi, POD_UPDATE)

    def delete(self, uid: str) -> None:
        pi = self.pods.pop(uid, None)
        if pi is None:
            return
        self.unschedulable.pop(uid, None)
        self.in_flight.pop(uid, None)
        pi.where = "deleted"   # heap entries are dropped lazily

    def pop(self) -> QueuedPodInfo | None:
        while self._active:
            _p, _t, seq, uid = heapq.heappop(self._active)
            pi = self.pods.get(uid)
            if pi is None or pi.where != "activeQ" or pi.seq != seq:
                continue
            pi.where = "inFlight"
            pi.attempts += 1
            if pi.initial_attempt is None:
                pi.initial_attempt = self.now()
            self.scheduling_cycle += 1
            self.in_flight[uid] = pi
            self._events_during[uid] = []
            return pi
        return None

    def done(self, uid: str) -> None:
        """The pod was scheduled (assumed): it leaves the queue."""
        self.in_flight.pop(uid, None)
        self._events_during.pop(uid, None)
        self.pods.pop(uid, None)

    def add_unschedulable(self, pi: QueuedPodInfo, plugins: set, error: bool = False) -> None:
        """AddUnschedulableIfNotPresent: after a failed attempt. An error, or an event during the attempt that
        one of the rejecting plugins registered for, sends it to backoffQ; otherwise unschedulablePods."""
        self.in_flight.pop(pi.uid, None)
        events = self._events_during.pop(pi.uid, [])
        if pi.uid not in self.pods:
            return
        pi.timestamp = self.now()
        pi.unschedulable_plugins = set(plugins)
        if error or any(self._helps(pi, ev) for ev in events):
            self._push_backoff(pi, "SchedulingError" if error else "event during scheduling")
        else:
            self._push_unschedulable(pi, "Unschedulable")

    def _helps(self, pi: QueuedPodInfo, event: str) -> bool:
        if event in (UNSCHEDULABLE_TIMEOUT,):
            return True
        if not pi.unschedulable_plugins:
            return True
        return any(event in EVENTS_TO_REGISTER.get(p, ()) for p in pi.unschedulable_plugins)

    def move_all(self, event: str, pred: Callable[[QueuedPodInfo], bool] | None = None) -> int:
        """MoveAllToActiveOrBackoffQueue(event): the unschedulable pods the event may help go to backoffQ
        (still backing off) or activeQ."""
        for evs in self._events_during.values():
            evs.append(event)
        moved = 0
        now = self.now()
        for uid, pi in list(self.unschedulable.items()):
            if pi.gated or not self._helps(pi, event) or (pred is not None and not pred(pi)):
                continue
            del self.unschedulable[uid]
            if now < self.backoff_expiry(pi):
                self._push_backoff(pi, event)
            else:
                self._push_active(pi, event)
            moved += 1
        return moved

    def activate(self, uid: str, why: str) -> None:
        pi = self.unschedulable.pop(uid, None)
        if pi is not None:
            self._push_active(pi, why)

    def flush_backoff_completed(self) -> int:
        now = self.now()
        n = 0
        while self._backoff and self._backoff[0][0] <= now:
            _t, seq, uid = heapq.heappop(self._backoff)
            pi = self.pods.get(uid)
            if pi is None or pi.where != "backoffQ" or pi.seq != seq:
                continue
            self._push_active(pi, "BackoffComplete")
            n += 1
        return n

    def flush_unschedulable_leftover(self) -> int:
        now = self.now()
        n = 0
        for uid, pi in list(self.unschedulable.items()):
            if pi.gated or now - pi.timestamp <= POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION:
                continue
            del self.unschedulable[uid]
            if now < self.backoff_expiry(pi):
                self._push_backoff(pi, UNSCHEDULABLE_TIMEOUT)
            else:
                self._push_active(pi, UNSCHEDULABLE_TIMEOUT)
            n += 1
        return n

    def next_backoff_expiry(self) -> float | None:
        while self._backoff:
            t, seq, uid = self._backoff[0]
            pi = self.pods.get(uid)
            if pi is None or pi.where != "backoffQ" or pi.seq != seq:
                heapq.heappop(self._backoff)
                continue
            return t
        return None
