"""kube-scheduler: the scheduling queue, one scheduling cycle per pod (filter, score, select), then the
binding cycle (POST pods/<name>/binding) - pkg/scheduler/schedule_one.go.

Messages in: watch events for Pods and Nodes. Messages out: requests to the API server, and events.
"""
from __future__ import annotations

import random
from collections import deque

from .. import clock, recorder
from ..apiserver import ApiServer, Credential, Request
from ..apiserver.registry import objref
from ..kernel import Environment
from ..component import Component
from ..trace import Tracer
from . import plugins as P
from .framework import Code, CycleState, ImageStateSummary, NodeInfo, Status, success

COMPONENT = "scheduler"
SCHEDULER_NAME = "default-scheduler"

# schedule_one.go numFeasibleNodesToFind: with percentageOfNodesToScore unset, the percentage is
# 50 - numAllNodes/125, at least 5%; never fewer than 100 nodes.
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


def num_feasible_nodes_to_find(num_all_nodes: int) -> int:
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    pct = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * pct // 100, MIN_FEASIBLE_NODES_TO_FIND)


def fit_error_message(num_all_nodes: int, statuses: dict[str, Status], post_filter_msg: str = "") -> str:
    """framework.FitError.Error(): "0/N nodes are available: <count> <reason>, ... ." with reasons sorted as
    strings, then " <post filter message>." (SeparatorFormat " %v.") - pkg/scheduler/framework/types.go."""
    hist: dict[str, int] = {}
    for s in statuses.values():
        for r in s.reasons:
            hist[r] = hist.get(r, 0) + 1
    msg = f"0/{num_all_nodes} nodes are available:"
    parts = sorted(f"{n} {r}" for r, n in hist.items())
    if parts:
        msg += f" {', '.join(parts)}."
    if post_filter_msg:
        msg += f" {post_filter_msg}."
    return msg


class Scheduler(Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, apiserver: ApiServer,
                 instance: str = "scheduler-1", node: str = "control-plane"):
        super().__init__(env, rng, tracer, instance, node)
        self.api = apiserver
        # kubeadm's /etc/kubernetes/scheduler.conf: client certificate CN=system:kube-scheduler.
        self.credential = Credential.x509("system:kube-scheduler")
        self.filter_plugins = P.default_filter_plugins()
        self.score_plugins = P.default_score_plugins()
        self.nodes: dict[str, NodeInfo] = {}         # the scheduler cache, in node-tree order
        self.pod_node: dict[str, str] = {}           # pod uid -> node it is on (bound or assumed)
        self.active_q: deque[dict] = deque()
        self.unschedulable: dict[str, dict] = {}
        self.next_start_node_index = 0
        self.last_result: dict | None = None

    # ---- informers ----------------------------------------------------------------------------------
    def start(self) -> None:
        """List (silently, as an informer's initial list), then watch."""
        for node in self.api.list("/registry/minions/"):
            self._add_node(node)
        for pod in self.api.list("/registry/pods/"):
            if pod["spec"].get("nodeName"):
                self._add_assigned(pod)
        self.api.watch("nodes", self.me, self._on_node)
        # The scheduler's pod informer skips finished pods: status.phase!=Succeeded,status.phase!=Failed.
        self.api.watch("pods", self.me, self._on_pod,
                       selector=lambda p: p.get("status", {}).get("phase") not in ("Succeeded", "Failed"))

    def _add_node(self, node: dict) -> None:
        self.nodes[node["metadata"]["name"]] = NodeInfo.from_node(node)
        self._rebuild_image_states()

    def _rebuild_image_states(self) -> None:
        counts: dict[str, int] = {}
        sizes: dict[str, int] = {}
        for ni in self.nodes.values():
            for img in ni.node.get("status", {}).get("images", []) or []:
                for name in img.get("names", []):
                    counts[name] = counts.get(name, 0) + 1
                    sizes[name] = img.get("sizeBytes", 0)
        for ni in self.nodes.values():
            ni.image_states = {name: ImageStateSummary(sizes[name], counts[name])
                               for img in ni.node.get("status", {}).get("images", []) or [] for name in img.get("names", [])}

    def _on_node(self, kind: str, node: dict) -> None:
        name = node["metadata"]["name"]
        if kind == "DELETED":
            self.nodes.pop(name, None)
            return
        if name in self.nodes:
            self.nodes[name].node = node
            self._rebuild_image_states()
        else:
            self._add_node(node)

    def _add_assigned(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        node = pod["spec"]["nodeName"]
        if self.pod_node.get(uid) == node:
            return  # already in the cache (assumed by us, now confirmed)
        if node in self.nodes:
            self.nodes[node].add_pod(pod)
            self.pod_node[uid] = node

    def _on_pod(self, kind: str, pod: dict) -> None:
        if kind == "DELETED":
            uid = pod["metadata"]["uid"]
            node = self.pod_node.pop(uid, None)
            if node and node in self.nodes:
                self.nodes[node].remove_pod(uid)
            return
        if pod["spec"].get("nodeName"):
            self._add_assigned(pod)
            return
        if pod["spec"].get("schedulerName", SCHEDULER_NAME) != SCHEDULER_NAME:
            return
        if kind == "ADDED":
            # The event handler adds it to activeQ; scheduleOne pops it when the loop comes round.
            self.active_q.append(pod)
            self.env.schedule(self.rng.uniform(0.02, 0.04), self._schedule_one)

    # ---- the scheduling cycle ------------------------------------------------------------------------
    def _schedule_one(self) -> None:
        if not self.active_q:
            return
        pod = self.active_q.popleft()
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        self.tracer.emit(COMPONENT, self.instance, "scheduler.queue", f"popped {key} from activeQ",
                         {"queue": "activeQ", "pod": key}, obj=objref(pod))
        self.env.process(self._cycle(pod))

    def schedule_pod(self, pod: dict) -> dict:
        """One scheduling cycle without side effects: {'statuses', 'feasible', 'scores', 'totals',
        'selected', 'message'}. Used by the cycle below and directly by tests."""
        state = CycleState()
        all_nodes = list(self.nodes.values())
        n = len(all_nodes)
        want = num_feasible_nodes_to_find(n)
        statuses: dict[str, Status] = {}
        per_plugin: dict[str, dict[str, dict]] = {}
        feasible: list[NodeInfo] = []
        checked = 0
        # framework.RunPreFilterPlugins: a plugin whose PreFilter says Skip is left out of every Filter call.
        filter_plugins = [pl for pl in self.filter_plugins if not pl.pre_filter(state, pod).is_skip()]
        for i in range(n):
            if len(feasible) >= want:
                break
            ni = all_nodes[(self.next_start_node_index + i) % n] if n else None
            checked += 1
            status = success()
            results = per_plugin[ni.name] = {}
            for pl in filter_plugins:
                s = pl.filter(state, pod, ni)
                if s.code == Code.Success:
                    results[pl.NAME] = {"code": "Success", "reason": ""}
                    continue
                results[pl.NAME] = s.as_json()
                s.plugin = pl.NAME  # RunFilterPlugins stops at the first failing plugin
                status = s
                break
            statuses[ni.name] = status
            if status.is_success():
                feasible.append(ni)
        if n:
            self.next_start_node_index = (self.next_start_node_index + checked) % n
        result = {"statuses": statuses, "filter": per_plugin, "feasible": [ni.name for ni in feasible], "scores": {}, "totals": {},
                  "selected": None, "message": None}
        if not feasible:
            result["message"] = fit_error_message(n, statuses, self._post_filter(pod, statuses))
            return result
        if len(feasible) == 1:
            # schedule_one.go: with a single feasible node there is nothing to compare; scoring is skipped.
            result["selected"] = feasible[0].name
            return result
        state["total_nodes"] = n
        scores: dict[str, dict[str, dict]] = {ni.name: {} for ni in feasible}
        for pl, weight in self.score_plugins:
            if pl.pre_score(state, pod, feasible).is_skip():
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

    def _select_host(self, names: list[str], totals: dict[str, int]) -> str:
        """selectHost: the highest total; ties broken by reservoir sampling with the (seeded) RNG."""
        selected, best, count = names[0], totals[names[0]], 1
        for name in names[1:]:
            s = totals[name]
            if s > best:
                selected, best, count = name, s, 1
            elif s == best:
                count += 1
                if self.rng.randrange(count) == 0:
                    selected = name
        return selected

    def _post_filter(self, pod: dict, statuses: dict[str, Status]) -> str:
        """DefaultPreemption (plugins/defaultpreemption, framework/preemption/preemption.go): a node that
        failed UnschedulableAndUnresolvable cannot be helped by evicting pods; for the others, look for
        lower-priority victims whose removal would make the pod fit. Returns the message
        "preemption: 0/N nodes are available: ..." when no candidate exists."""
        prio = pod["spec"].get("priority", 0)
        if pod["spec"].get("preemptionPolicy") == "Never":
            return "preemption: not eligible due to preemptionPolicy=Never"
        reasons: dict[str, Status] = {}
        candidates = 0
        for name, s in statuses.items():
            if s.code == Code.UnschedulableAndUnresolvable:
                reasons[name] = Status(Code.UnschedulableAndUnresolvable, ["Preemption is not helpful for scheduling"])
                continue
            ni = self.nodes[name]
            victims = [p for p in ni.pods if p["spec"].get("priority", 0) < prio]
            trial = NodeInfo.from_node(ni.node)
            for p in ni.pods:
                if p not in victims:
                    trial.add_pod(p)
            if victims and all(pl.filter(CycleState(), pod, trial).is_success() for pl in self.filter_plugins):
                candidates += 1
            else:
                reasons[name] = Status(Code.Unschedulable, ["No preemption victims found for incoming pod"])
        if candidates:
            # Evicting victims and nominating a node is not modelled yet.
            return ""
        return "preemption: " + fit_error_message(len(statuses), reasons)

    def _cycle(self, pod: dict):
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        yield self.rng.uniform(0.08, 0.12)  # snapshot + PreFilter + Filter over the nodes
        result = self.schedule_pod(pod)
        self.last_result = result
        filt = {"nodes": result["filter"], "feasible": result["feasible"]}
        if result["message"]:
            filt["message"] = result["message"]
        self.tracer.emit(COMPONENT, self.instance, "scheduler.filter",
                         f"{len(result['feasible'])}/{len(result['statuses'])} nodes feasible for {key}", filt, obj=objref(pod))
        if result["message"]:
            yield from self._fail(pod, result["message"])
            return
        yield self.rng.uniform(0.08, 0.12)  # PreScore + Score + NormalizeScore
        selected = result["selected"]
        self.tracer.emit(COMPONENT, self.instance, "scheduler.score",
                         f"selected {selected} for {key}" + (f" (total {result['totals'][selected]})" if result["totals"] else " (only feasible node)"),
                         {"scores": result["scores"], "totals": result["totals"], "selected": selected}, obj=objref(pod))
        # Assume: the cache counts the pod on the node before the binding is confirmed.
        self.nodes[selected].add_pod({**pod, "spec": {**pod["spec"], "nodeName": selected}})
        self.pod_node[pod["metadata"]["uid"]] = selected
        yield self.rng.uniform(0.02, 0.04)  # Reserve, Permit, PreBind; then the binding cycle (async upstream)
        self.tracer.emit(COMPONENT, self.instance, "scheduler.bind", f"bind {key} to {selected}", {"node": selected},
                         to=self.api.me, obj=objref(pod))
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": ns, "uid": pod["metadata"]["uid"]},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": selected}}
        resp = yield self.api.handle(Request("POST", f"/api/v1/namespaces/{ns}/pods/{name}/binding", "create", "pods", ns, name,
                                             subresource="binding", body=binding, credential=self.credential, client=self.me))
        if not resp.ok:
            self.nodes[selected].remove_pod(pod["metadata"]["uid"])
            self.pod_node.pop(pod["metadata"]["uid"], None)
            return
        # schedule_one.go: Eventf(..., "Scheduled", "Binding", "Successfully assigned %v/%v to %v", ...)
        ev = recorder.events_v1_event(self.env.now, resp.body, "Scheduled", "Binding",
                                      f"Successfully assigned {ns}/{name} to {selected}", "Normal",
                                      SCHEDULER_NAME, f"{SCHEDULER_NAME}-{self.node}")
        yield recorder.post_events_v1(self.api, self.me, self.credential, ev)

    def _fail(self, pod: dict, message: str):
        """handleSchedulingFailure: a FailedScheduling event, and PodScheduled=False (reason Unschedulable)
        on the pod's status; the pod waits in unschedulablePods until something in the cluster changes."""
        uid = pod["metadata"]["uid"]
        self.unschedulable[uid] = pod
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        ev = recorder.events_v1_event(self.env.now, pod, "FailedScheduling", "Scheduling", message, "Warning",
                                      SCHEDULER_NAME, f"{SCHEDULER_NAME}-{self.node}")
        yield recorder.post_events_v1(self.api, self.me, self.credential, ev)
        cond = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "lastTransitionTime": clock.rfc3339(self.env.now), "reason": "Unschedulable", "message": message}
        yield self.api.handle(Request("PATCH", f"/api/v1/namespaces/{ns}/pods/{name}/status", "patch", "pods", ns, name,
                                      subresource="status", body={"status": {"conditions": [cond]}},
                                      credential=self.credential, client=self.me))
