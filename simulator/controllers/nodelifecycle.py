"""Node lifecycle and taint-based eviction (v1.31):
pkg/controller/nodelifecycle/node_lifecycle_controller.go (monitorNodeHealth, tryUpdateNodeHealth,
processTaintBaseEviction, doNoScheduleTaintingPass, doNoExecuteTaintingPass),
pkg/controller/util/node/controller_utils.go (MarkPodsNotReady, RecordNodeStatusChange) and
pkg/controller/tainteviction/taint_eviction.go (the separate "taint-eviction-controller" since v1.29).

Every nodeMonitorPeriod (5 s) the controller checks each node: when neither its status nor its Lease in
kube-node-lease has changed for nodeMonitorGracePeriod (40 s) it sets every node condition to Unknown
("Kubelet stopped posting node status."), records NodeNotReady, marks the node's Pods not ready, and
(next pass) taints the node node.kubernetes.io/unreachable:NoExecute. The taint-eviction controller then
deletes each Pod when its toleration of that taint runs out (300 s from the DefaultTolerationSeconds
admission plugin). When the kubelet reports Ready again the taints are removed.

Simplification: the per-zone eviction rate limiter (--node-eviction-rate 0.1/s, secondary rate, and
the zone states FullDisruption / PartialDisruption) is not modelled: a node is tainted at the next 100 ms
tainting pass.
"""
from __future__ import annotations

from typing import Generator

from .. import clock
from .base import Controller, condition, deep, key_of, ok, split_key

NODE_MONITOR_PERIOD = 5.0          # --node-monitor-period
NODE_MONITOR_GRACE_PERIOD = 40.0   # --node-monitor-grace-period (v1.31 default 40 s)
NODE_STARTUP_GRACE_PERIOD = 60.0   # --node-startup-grace-period
NODE_EVICTION_PERIOD = 0.1         # scheduler.nodeEvictionPeriod (the tainting pass)

TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
# nodeConditionToTaintKeyStatusMap (doNoScheduleTaintingPass)
NO_SCHEDULE_MAP = {("Ready", "False"): TAINT_NOT_READY, ("Ready", "Unknown"): TAINT_UNREACHABLE,
                   ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
                   ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
                   ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
                   ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure"}
NO_SCHEDULE_KEYS = set(NO_SCHEDULE_MAP.values()) | {TAINT_UNSCHEDULABLE}
CONDITION_TYPES = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


class NodeHealth:
    __slots__ = ("probe", "status", "lease_renew")

    def __init__(self, probe: float, status: dict, lease_renew: str | None):
        self.probe = probe
        self.status = status
        self.lease_renew = lease_renew


def _heartbeats(status: dict) -> dict:
    """What counts as a kubelet heartbeat in the node status: a new lastHeartbeatTime (tryUpdateNodeHealth
    compares the saved and observed Ready condition's LastHeartbeatTime)."""
    return {c["type"]: c.get("lastHeartbeatTime") for c in status.get("conditions", []) or []}


class NodeLifecycleController(Controller):
    NAME = "nodelifecycle"
    SOURCE = "node-controller"
    RESOURCES = ("nodes", "leases", "pods")

    def __init__(self, cm):
        super().__init__(cm)
        self.health: dict[str, NodeHealth] = {}
        self.to_taint: dict[str, str] = {}      # node -> the Ready status it was queued with
        self._gen = 0

    def register(self) -> None:
        # nodeUpdateQueue: a node change triggers the NoSchedule tainting pass for it.
        self.inf["nodes"].add_handler(lambda kind, old, n: kind != "DELETED" and self.enqueue(n))

    def on_start(self) -> None:
        self._gen += 1
        gen = self._gen
        self.health.clear()

        def monitor() -> None:
            if not self.running or gen != self._gen:
                return
            self.env.process(self._monitor())
            self.env.schedule(NODE_MONITOR_PERIOD, monitor)

        def taint_pass() -> None:
            if not self.running or gen != self._gen:
                return
            if self.to_taint:
                self.env.process(self._no_execute_pass())
            self.env.schedule(NODE_EVICTION_PERIOD, taint_pass)

        self.env.schedule(0.0, monitor)
        self.env.schedule(NODE_EVICTION_PERIOD, taint_pass)

    # -- NoSchedule taints (doNoScheduleTaintingPass), per node update --
    def sync(self, key: str) -> Generator:
        node = self.inf["nodes"].get(key)
        if node is None:
            return ("none", None, None)
        want = []
        for c in node.get("status", {}).get("conditions", []) or []:
            k = NO_SCHEDULE_MAP.get((c["type"], c.get("status")))
            if k:
                want.append({"key": k, "effect": "NoSchedule"})
        if node["spec"].get("unschedulable"):
            want.append({"key": TAINT_UNSCHEDULABLE, "effect": "NoSchedule"})
        taints = node["spec"].get("taints") or []
        have = [t for t in taints if t.get("effect") == "NoSchedule" and t["key"] in NO_SCHEDULE_KEYS]
        if sorted(t["key"] for t in have) == sorted(t["key"] for t in want):
            return ("none", [t["key"] for t in want], [t["key"] for t in have])
        keep = [t for t in taints if not (t.get("effect") == "NoSchedule" and t["key"] in NO_SCHEDULE_KEYS)]
        have_keys = {t["key"] for t in have}
        new = keep + [t for t in have if t["key"] in {w["key"] for w in want}] + \
            [w for w in want if w["key"] not in have_keys]
        resp = yield self.client.patch("nodes", node["metadata"]["name"], {"spec": {"taints": new}})
        if not ok(resp):
            return ("error", None, None, "patch node taints")
        added = sorted({w["key"] for w in want} - have_keys)
        removed = sorted(have_keys - {w["key"] for w in want})
        return ("NoSchedule taints" + (f" +{added}" if added else "") + (f" -{removed}" if removed else ""),
                [t["key"] for t in want], [t["key"] for t in have])

    # -- monitorNodeHealth --
    def _monitor(self) -> Generator:
        for node in self.inf["nodes"].list():
            if not self.running:
                return
            name = node["metadata"]["name"]
            if not self._overdue(node):
                # The common case, cheap at thousands of nodes: a fresh heartbeat, nothing to write.
                ready = condition(node, "Ready")
                observed = ready.get("status") if ready else "Unknown"
                self._process_taint_eviction(node, observed)
                continue
            node = deep(node)
            observed, current, changed = self._try_update_health(node)
            if changed:
                resp = yield self.client.update("nodes", node, subresource="status")
                if not ok(resp):
                    self.health.pop(name, None)
                    continue
                self.health[name].status = _heartbeats(node["status"])
                self.tracer.emit("controller-manager", self.cm.instance, "controller.reconcile",
                                 f"nodelifecycle: node {name} {current}: Kubelet stopped posting node status",
                                 {"controller": self.NAME, "key": name, "desired": "heartbeat within 40s",
                                  "current": f"no heartbeat for {self.env.now - self.health[name].probe:.0f}s",
                                  "action": f"conditions -> {current}", "queue": len(self.queue)})
            if current is None:
                continue
            self._process_taint_eviction(node, observed)
            if current != "True" and observed == "True":
                # RecordNodeStatusChange: the involvedObject's uid is the node name (sic, upstream).
                ref = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name, "uid": name}}
                self.record_event(ref, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady")
                yield from self._mark_pods_not_ready(name)

    def _overdue(self, node: dict) -> bool:
        """Update the probe timestamp from the node's heartbeats and Lease; True when the grace period
        has passed (the node needs Unknown conditions) or the node is new to this controller."""
        name = node["metadata"]["name"]
        h = self.health.get(name)
        if h is None:
            return True
        hb = _heartbeats(node.get("status", {}))
        if h.status != hb:
            h.probe = self.env.now
            h.status = hb
        lease = self.inf["leases"].get(f"kube-node-lease/{name}")
        renew = (lease or {}).get("spec", {}).get("renewTime")
        if renew and renew != h.lease_renew:
            h.lease_renew = renew
            h.probe = self.env.now
        grace = NODE_MONITOR_GRACE_PERIOD if condition(node, "Ready") else NODE_STARTUP_GRACE_PERIOD
        return self.env.now > h.probe + grace

    def _try_update_health(self, node: dict) -> tuple[str | None, str | None, bool]:
        name = node["metadata"]["name"]
        status = node.setdefault("status", {})
        ready = condition(node, "Ready")
        observed = ready.get("status") if ready else "Unknown"
        grace = NODE_MONITOR_GRACE_PERIOD if ready else NODE_STARTUP_GRACE_PERIOD
        lease = self.inf["leases"].get(f"kube-node-lease/{name}")
        renew = (lease or {}).get("spec", {}).get("renewTime")
        h = self.health.get(name)
        if h is None:
            h = self.health[name] = NodeHealth(self.env.now, _heartbeats(status), renew)
        changed = False
        if self.env.now > h.probe + grace:
            now = clock.rfc3339(self.env.now)
            conds = status.setdefault("conditions", [])
            for ctype in CONDITION_TYPES:
                c = next((x for x in conds if x["type"] == ctype), None)
                if c is None:
                    conds.append({"type": ctype, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                                  "message": "Kubelet never posted node status.",
                                  "lastHeartbeatTime": node["metadata"].get("creationTimestamp"), "lastTransitionTime": now})
                    changed = True
                elif c.get("status") != "Unknown":
                    c.update({"status": "Unknown", "reason": "NodeStatusUnknown",
                              "message": "Kubelet stopped posting node status.", "lastTransitionTime": now})
                    changed = True
        cur = condition(node, "Ready")
        return observed, (cur.get("status") if cur else None), changed

    def _mark_pods_not_ready(self, node_name: str) -> Generator:
        """controllerutil.MarkPodsNotReady: Ready=False on every Pod of the node, and a NodeNotReady
        Warning Event ("Node is not ready") on each."""
        for pod in self.inf["pods"].list():
            if pod["spec"].get("nodeName") != node_name:
                continue
            c = condition(pod, "Ready")
            if c is None or c.get("status") == "False":
                continue
            body = deep(pod)
            for x in body["status"]["conditions"]:
                if x["type"] == "Ready":
                    x["status"] = "False"
                    x["lastTransitionTime"] = clock.rfc3339(self.env.now)
            resp = yield self.client.update("pods", body, namespace=pod["metadata"]["namespace"], subresource="status")
            if ok(resp):
                self.record_event(pod, "Warning", "NodeNotReady", "Node is not ready")

    # -- NoExecute taints --
    def _process_taint_eviction(self, node: dict, observed: str | None) -> None:
        name = node["metadata"]["name"]
        taints = node["spec"].get("taints") or []
        keys = {t["key"] for t in taints if t.get("effect") == "NoExecute"}
        if observed == "False":
            if TAINT_NOT_READY not in keys or TAINT_UNREACHABLE in keys:
                self.to_taint[name] = "False"
        elif observed == "Unknown":
            if TAINT_UNREACHABLE not in keys or TAINT_NOT_READY in keys:
                self.to_taint[name] = "Unknown"
        elif observed == "True":
            self.to_taint.pop(name, None)
            if keys & {TAINT_NOT_READY, TAINT_UNREACHABLE}:
                self.to_taint[name] = "True"   # markNodeAsReachable: remove the NoExecute taints

    def _no_execute_pass(self) -> Generator:
        """doNoExecuteTaintingPass: SwapNodeControllerTaint (add the one, remove the other)."""
        queued, self.to_taint = self.to_taint, {}
        for name in sorted(queued):
            node = self.inf["nodes"].get(name)
            if node is None or not self.running:
                continue
            ready = condition(node, "Ready")
            st = ready.get("status") if ready else "Unknown"
            taints = [t for t in (node["spec"].get("taints") or [])
                      if not (t.get("effect") == "NoExecute" and t["key"] in (TAINT_NOT_READY, TAINT_UNREACHABLE))]
            old = [t for t in (node["spec"].get("taints") or []) if t.get("effect") == "NoExecute"
                   and t["key"] in (TAINT_NOT_READY, TAINT_UNREACHABLE)]
            if st == "True":
                want = []
            else:
                k = TAINT_NOT_READY if st == "False" else TAINT_UNREACHABLE
                prev = next((t for t in old if t["key"] == k), None)
                want = [prev or {"key": k, "effect": "NoExecute", "timeAdded": clock.rfc3339(self.env.now)}]
            if want == old:
                continue
            resp = yield self.client.patch("nodes", name, {"spec": {"taints": taints + want}})
            if ok(resp):
                self.tracer.emit("controller-manager", self.cm.instance, "controller.reconcile",
                                 f"nodelifecycle: node {name}: " + (f"taint {want[0]['key']}:NoExecute" if want else "NoExecute taints removed"),
                                 {"controller": self.NAME, "key": name, "desired": [t["key"] for t in want],
                                  "current": [t["key"] for t in old],
                                  "action": ("taint " + want[0]["key"] + ":NoExecute") if want else "untaint NoExecute",
                                  "queue": len(self.queue)})
            else:
                self.to_taint[name] = st


# ---------------------------------------------------------------------------------------------------
def tolerates(toleration: dict, taint: dict) -> bool:
    """v1.Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    if toleration.get("key") and toleration["key"] != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


def matching_tolerations(taints: list[dict], tolerations: list[dict]) -> tuple[bool, list[dict]]:
    """GetMatchingTolerations: (all taints tolerated, the tolerations used)."""
    used = []
    for t in taints:
        hit = next((tol for tol in tolerations if tolerates(tol, t)), None)
        if hit is None:
            return False, []
        used.append(hit)
    return True, used


def min_toleration_time(tolerations: list[dict]) -> float:
    """getMinTolerationTime: 0 with none; -1 (forever) when none has tolerationSeconds."""
    if not tolerations:
        return 0.0
    best = None
    for t in tolerations:
        ts = t.get("tolerationSeconds")
        if ts is not None:
            if ts <= 0:
                return 0.0
            best = ts if best is None else min(best, ts)
    return -1.0 if best is None else float(best)


class TaintEvictionController(Controller):
    NAME = "taint-eviction-controller"
    SOURCE = "taint-eviction-controller"
    RESOURCES = ("nodes", "pods")

    def __init__(self, cm):
        super().__init__(cm)
        self.scheduled: dict[str, tuple[float, float, int]] = {}  # ns/name -> (created, trigger, token)
        self.evicted: set[str] = set()   # deleted by us, waiting for the Pod to be gone
        self._token = 0

    def register(self) -> None:
        self.inf["pods"].add_handler(self._on_pod)
        self.inf["nodes"].add_handler(self._on_node)

    def stop(self) -> None:
        super().stop()
        self.scheduled.clear()

    def _on_pod(self, kind: str, old: dict | None, pod: dict) -> None:
        if kind == "DELETED":
            self._cancel(key_of(pod), event=False)
            self.evicted.discard(key_of(pod))
            return
        if pod["spec"].get("nodeName"):
            self.enqueue("pod:" + key_of(pod))

    def _on_node(self, kind: str, old: dict | None, node: dict) -> None:
        if kind == "DELETED":
            return
        if old is not None and _no_execute(old) == _no_execute(node):
            return
        self.enqueue("node:" + node["metadata"]["name"])

    def sync(self, key: str) -> Generator:
        what, name = key.split(":", 1)
        if what == "node":
            node = self.inf["nodes"].get(name)
            taints = _no_execute(node) if node else []
            pods = [p for p in self.inf["pods"].list() if p["spec"].get("nodeName") == name]
            for p in pods:
                self._process_pod(p, taints)
            return (f"{len(pods)} pod(s) checked", [t["key"] for t in taints], None) if taints else ("none", [], None)
        pod = self.inf["pods"].get(name)
        if pod is None:
            return ("none", None, None)
        node = self.inf["nodes"].get(pod["spec"].get("nodeName", ""))
        self._process_pod(pod, _no_execute(node) if node else [])
        return ("none", None, None)
        yield

    def _process_pod(self, pod: dict, taints: list[dict]) -> None:
        """processPodOnNode."""
        k = key_of(pod)
        if pod["metadata"].get("deletionTimestamp") or k in self.evicted:
            return
        if not taints:
            self._cancel(k, event=True, pod=pod)
            return
        all_ok, used = matching_tolerations(taints, pod["spec"].get("tolerations") or [])
        if not all_ok:
            self._schedule(pod, self.env.now, self.env.now)
            return
        mt = min_toleration_time(used)
        if mt < 0:
            self._cancel(k, event=True, pod=pod)
            return
        start, trigger = self.env.now, self.env.now + mt
        cur = self.scheduled.get(k)
        if cur is not None and cur[0] + mt <= trigger:
            return  # an eviction is already scheduled, counted from when the taint was first seen
        self._schedule(pod, start, trigger)

    def _schedule(self, pod: dict, start: float, trigger: float) -> None:
        k = key_of(pod)
        self._token += 1
        token = self._token
        self.scheduled[k] = (start, trigger, token)
        self.tracer.emit("controller-manager", self.cm.instance, "controller.reconcile",
                         f"taint-eviction: {k} evicted at t={trigger:.0f}s unless the taint goes",
                         {"controller": self.NAME, "key": k, "desired": "tolerated", "current": "NoExecute taint",
                          "action": f"eviction scheduled in {trigger - self.env.now:.0f}s", "queue": len(self.queue)})

        def fire() -> None:
            if not self.running or self.scheduled.get(k, (0, 0, -1))[2] != token:
                return
            del self.scheduled[k]
            self.env.process(self._evict(k))

        self.env.schedule(max(0.0, trigger - self.env.now), fire)

    def _cancel(self, k: str, event: bool, pod: dict | None = None) -> None:
        if k in self.scheduled:
            del self.scheduled[k]
            if event and pod is not None:
                self.record_event(pod, "Normal", "TaintManagerEviction", f"Cancelling deletion of Pod {k}")

    def _evict(self, k: str) -> Generator:
        """deletePodHandler -> emitPodDeletionEvent + addConditionAndDeletePod."""
        pod = self.inf["pods"].get(k)
        if pod is None:
            return
        ns, name = split_key(k)
        self.evicted.add(k)
        self.record_event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {k}")
        body = deep(pod)
        conds = [c for c in body.setdefault("status", {}).get("conditions", []) if c["type"] != "DisruptionTarget"]
        conds.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": clock.rfc3339(self.env.now), "reason": "DeletionByTaintManager",
                      "message": "Taint manager: deleting due to NoExecute taint"})
        body["status"]["conditions"] = conds
        yield self.client.update("pods", body, namespace=ns, subresource="status")
        resp = yield self.client.delete("pods", name, namespace=ns)
        self.tracer.emit("controller-manager", self.cm.instance, "controller.reconcile",
                         f"taint-eviction: deleted {k}",
                         {"controller": self.NAME, "key": k, "desired": "evicted", "current": "on a NoExecute-tainted node",
                          "action": "deleted" if ok(resp) else f"delete failed ({getattr(resp, 'code', '?')})",
                          "queue": len(self.queue)})


def _no_execute(node: dict | None) -> list[dict]:
    return [t for t in ((node or {}).get("spec", {}).get("taints") or []) if t.get("effect") == "NoExecute"]
