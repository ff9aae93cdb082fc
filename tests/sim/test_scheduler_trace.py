"""What a scheduling cycle tells the dashboard: the per-node, per-plugin filter results and scores, capped
at 100 nodes (with counts of the rest) so that a 5,000-node cycle stays small."""
from simulator.apiserver.registry import objref
from tests.sim.sched_util import node, pod, scheduler


def test_filter_and_score_events_are_capped_at_100_nodes():
    s = scheduler([node(f"n{i:03d}", cpu="2" if i % 2 else "8") for i in range(400)])
    s.tracer.enabled = True
    p = pod("p", cpu="4")
    r = s.schedule_pod(p)
    s._emit_filter(p, "default/p", objref(p), r)
    s._emit_score(p, "default/p", objref(p), r)
    ev = {e["type"]: e for e in s.tracer.buffer}
    f = ev["scheduler.filter"]["data"]
    # 400 nodes -> 50 - 400/125 = 47% -> 188 feasible nodes wanted; every other node is too small.
    assert len(r["feasible"]) == 188 and f["evaluated"] == 375
    assert len(f["nodes"]) == 100 and len(f["feasible"]) == 100
    assert f["omitted"] == {"nodes": 275, "feasible": 88}
    assert f["nodes"]["n001"]["NodeResourcesFit"] == {"code": "Unschedulable", "reason": "Insufficient cpu"}
    sc = ev["scheduler.score"]["data"]
    assert len(sc["totals"]) <= 101 and sc["selected"] in sc["totals"] and sc["omitted"] >= 87
    assert set(sc["scores"][sc["selected"]]) == {"TaintToleration", "NodeResourcesFit",
                                                 "NodeResourcesBalancedAllocation", "ImageLocality"}
    assert ev["scheduler.prefilter"]["data"]["skipped"] == ["NodeAffinity", "NodePorts", "PodTopologySpread",
                                                            "InterPodAffinity"]
    assert ev["scheduler.prescore"]["data"]["skipped"] == ["NodeAffinity", "PodTopologySpread", "InterPodAffinity"]
