"""DefaultPreemption, the PostFilter plugin (plugins/defaultpreemption/default_preemption.go and
framework/preemption/preemption.go, v1.31).

When no node fits, look for nodes where evicting lower-priority pods would make room:
1. PodEligibleToPreemptOthers: not with preemptionPolicy Never ("not eligible due to
   preemptionPolicy=Never."), nor while a victim of an earlier preemption is still terminating on the
   pod's nominated node ("not eligible due to a terminating pod on the nominated node.").
2. Candidates: only nodes that failed with Unschedulable (not UnschedulableAndUnresolvable: evicting pods
   cannot fix a taint or a selector - those get "Preemption is not helpful for scheduling"). Dry run from a
   random offset until max(10% of them, 100) candidates are found. On each node (SelectVictimsOnNode):
   remove every pod of lower priority ("No preemption victims found for incoming pod" when there is none);
   if the pod still does not fit, the node fails with the filter's own reason; else add the pods back,
   most important first (higher priority, then longer running), keeping each one whose return still lets
   the pod fit - those left out are the victims (lowest priority first, as few as needed).
3. pickOneNodeForPreemption: fewest PDB violations, then the lowest highest-victim priority, the smallest
   sum of priorities, the fewest victims, the latest start time of the highest-priority victims, the first.
4. prepareCandidate (done by the scheduler, through the API): DisruptionTarget condition on each victim,
   DELETE it (graceful), the "Preempted" event; clear lower-priority pods' nomination to that node. The
   preemptor gets status.nominatedNodeName and is retried when the victims are gone.
No candidate: "preemption: 0/N nodes are available: <histogram>." is appended to the FitError message.
"""
from __future__ import annotations

from .framework import Code, NodeInfo, Status

MIN_CANDIDATE_NODES_PERCENTAGE = 10  # DefaultPreemptionArgs defaults
MIN_CANDIDATE_NODES_ABSOLUTE = 100
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


def _start_time(pi) -> str:
    st = pi.pod.get("status") or {}
    return st.get("startTime") or pi.pod["metadata"].get("creationTimestamp") or ""


def _terminating_by_preemption(pi) -> bool:
    if not pi.pod["metadata"].get("deletionTimestamp"):
        return False
    for c in (pi.pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "DisruptionTarget":
            return c.get("status") == "True" and c.get("reason") == "PreemptionByScheduler"
    return False


def _more_important(pi) -> tuple:
    """util.MoreImportantPod as a sort key: higher priority first, then the earlier start time."""
    return (-pi.priority, _start_time(pi))


def calculate_num_candidates(n: int) -> int:
    k = n * MIN_CANDIDATE_NODES_PERCENTAGE // 100
    return min(max(k, MIN_CANDIDATE_NODES_ABSOLUTE), n)


def post_filter(sched, pod: dict, state, statuses: dict[str, Status]) -> dict:
    """Returns {"ran", "message" (without the "preemption: " prefix it adds), "node", "victims"}."""
    out = {"ran": True, "message": "", "node": None, "victims": []}
    pi = state["pod_info"]
    if pod["spec"].get("preemptionPolicy") == "Never":
        out["message"] = "preemption: not eligible due to preemptionPolicy=Never."
        return out
    nn = (pod.get("status") or {}).get("nominatedNodeName")
    if nn and nn in sched.nodes:
        s = statuses.get(nn)
        if not (s is not None and s.code == Code.UnschedulableAndUnresolvable):
            for epi in sched.nodes[nn].pods.values():
                if epi.priority < pi.priority and _terminating_by_preemption(epi):
                    out["message"] = "preemption: not eligible due to a terminating pod on the nominated node."
                    return out
    all_nodes = state["all_nodes"]
    potential = [ni for ni in all_nodes if (statuses.get(ni.name) is not None and statuses[ni.name].code == Code.Unschedulable)]
    node_statuses: dict[str, Status] = {}
    candidates: list[tuple[NodeInfo, list]] = []
    if potential:
        offset = sched.rng.randrange(len(potential))
        want = calculate_num_candidates(len(potential))
        for i in range(len(potential)):
            ni = potential[(offset + i) % len(potential)]
            victims, status = select_victims_on_node(sched, state, pod, ni)
            if status.is_success() and victims:
                candidates.append((ni, victims))
                if len(candidates) >= want:
                    break
                continue
            node_statuses[ni.name] = status
    if not candidates:
        for ni in all_nodes:
            node_statuses.setdefault(ni.name, Status(Code.UnschedulableAndUnresolvable, [NOT_HELPFUL]))
        from .scheduler import fit_error_message
        out["message"] = "preemption: " + fit_error_message(len(all_nodes), node_statuses)
        out["node"] = "" if nn else None   # clear a stale nomination
        return out
    ni, victims = pick_one_node(candidates)
    out["node"] = ni.name
    out["victims"] = [v.pod for v in victims]
    out["victim_infos"] = victims
    return out


def _fits(sched, state, pod, ni: NodeInfo) -> Status:
    """The filters on a node changed by the dry run. Plugins whose PreFilter counted pods across the cluster
    (PodTopologySpread, InterPodAffinity) recount with the changed node - upstream's AddPod/RemovePod
    PreFilter extensions, done the simple way."""
    plugins = state.get("filter_plugins") or sched.filter_plugins
    if any(pl.NAME in ("PodTopologySpread", "InterPodAffinity") for pl in plugins):
        st = state.clone()
        st["all_nodes"] = [ni if x.name == ni.name else x for x in state["all_nodes"]]
        for key in ("PreFilterPodTopologySpread", "PreFilterInterPodAffinity"):
            st.pop(key, None)
        for pl in plugins:
            if pl.NAME in ("PodTopologySpread", "InterPodAffinity"):
                pl.pre_filter(st, pod)
        state = st
    return sched.run_filters(state, pod, ni, plugins)


def select_victims_on_node(sched, state, pod, node_info: NodeInfo) -> tuple[list, Status]:
    pi = state["pod_info"]
    trial = node_info.clone()
    potential = [epi for epi in node_info.pods.values() if epi.priority < pi.priority]
    if not potential:
        return [], Status(Code.UnschedulableAndUnresolvable, [NO_VICTIMS])
    for epi in potential:
        trial.remove_pod(epi.uid)
    s = _fits(sched, state, pod, trial)
    if not s.is_success():
        return [], s
    potential.sort(key=_more_important)
    victims = []
    for epi in potential:
        trial.add_pod(epi)
        if not _fits(sched, state, pod, trial).is_success():
            trial.remove_pod(epi.uid)
            victims.append(epi)
    return victims, Status(Code.Success)


def pick_one_node(candidates: list[tuple[NodeInfo, list]]):
    """pickOneNodeForPreemption with the default score functions, in order (victims are sorted most
    important first, so victims[0] is the highest-priority one)."""
    def highest(v):
        return -v[0].priority

    def sum_prio(v):
        return -sum(x.priority + 2**31 for x in v)

    def num(v):
        return -len(v)

    def latest_start(v):
        top = v[0].priority
        return min(_start_time(x) for x in v if x.priority == top)

    cands = candidates
    for f in (lambda v: 0, highest, sum_prio, num, latest_start):   # the first: no PDBs, no violations
        scores = [f(v) for _ni, v in cands]
        best = max(scores)
        cands = [c for c, s in zip(cands, scores) if s == best]
        if len(cands) == 1:
            break
    return cands[0]
