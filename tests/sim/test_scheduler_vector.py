"""The vectorised cycle (scheduler/vector.py) decides exactly as the per-node plugins do: same feasible
nodes in the same order, same totals, same choice with the same RNG, same nextStartNodeIndex - over random
clusters, with the node arrays updated incrementally as pods come and go."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.scheduler.framework import PodInfo
from tests.sim.sched_util import node, pod, scheduler

ZONES = ["z1", "z2", "z3", ""]
TAINTS = [None, {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
          {"key": "spot", "value": "true", "effect": "PreferNoSchedule"},
          {"key": "old", "effect": "PreferNoSchedule"}]
OWNER = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "rs-uid", "controller": True}]

node_st = st.fixed_dictionaries({
    "cpu": st.sampled_from(["1", "2", "4", "500m"]), "mem": st.sampled_from(["1Gi", "4Gi", "32Gi"]),
    "pods": st.sampled_from(["3", "110"]), "zone": st.sampled_from(ZONES),
    "taints": st.lists(st.sampled_from(TAINTS[1:]), max_size=2, unique_by=lambda t: t["key"]),
    "disk": st.sampled_from(["ssd", "hdd", None]), "cordon": st.booleans(), "image": st.booleans()})
pod_st = st.fixed_dictionaries({
    "cpu": st.sampled_from([None, "100m", "250m", "1", "3"]), "mem": st.sampled_from([None, "128Mi", "2Gi"]),
    "app": st.sampled_from(["web", "db", None]), "owned": st.booleans()})
incoming_st = st.fixed_dictionaries({
    "base": pod_st, "tolerate": st.sampled_from([None, "dedicated", "all"]),
    "selector": st.sampled_from([None, "ssd", "hdd-or-none"]), "prefer": st.booleans(),
    "image": st.sampled_from(["nginx", "big:1"])})


def _node(i, d):
    images = [{"names": ["big:1"], "sizeBytes": 600 * 1024 * 1024}] if d["image"] else []
    return node(f"n{i:02d}", cpu=d["cpu"], memory=d["mem"], pods=d["pods"], zone=d["zone"],
                taints=d["taints"] or None, unschedulable=d["cordon"] and i % 3 == 0,
                labels={"disktype": d["disk"]} if d["disk"] else {}, images=images)


def _pod(name, d, **kw):
    p = pod(name, cpu=d["cpu"], memory=d["mem"], labels={"app": d["app"]} if d["app"] else {}, **kw)
    if d["owned"] and d["app"] == "web":
        p["metadata"]["ownerReferences"] = OWNER
    return p


def _incoming(d):
    spec = {}
    if d["tolerate"] == "dedicated":
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    elif d["tolerate"] == "all":
        spec["tolerations"] = [{"operator": "Exists"}]
    aff = {}
    if d["selector"] == "ssd":
        spec["nodeSelector"] = {"disktype": "ssd"}
    elif d["selector"] == "hdd-or-none":
        aff["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["hdd"]}]},
            {"matchExpressions": [{"key": "disktype", "operator": "DoesNotExist"}]}]}
    if d["prefer"]:
        aff["preferredDuringSchedulingIgnoredDuringExecution"] = [
            {"weight": 7, "preference": {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]}},
            {"weight": 3, "preference": {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "Exists"}]}}]
    if aff:
        spec["affinity"] = {"nodeAffinity": aff}
    return _pod("incoming", d["base"], image=d["image"], **spec)


def _build(nodes, placed, removed, seed, start):
    s = scheduler([_node(i, d) for i, d in enumerate(nodes)], seed=seed)
    s.objects["replicasets"]["default"] = {"rs": {"metadata": {"name": "rs", "namespace": "default"},
                                                  "spec": {"selector": {"matchLabels": {"app": "web"}}}}}
    s._arrays()  # from here on the arrays are updated incrementally
    uids = []
    for j, (d, where) in enumerate(placed):
        p = _pod(f"e{j}", d, node_name=f"n{where % len(nodes):02d}")
        pi = PodInfo(p)
        s._cache_add(p["spec"]["nodeName"], pi)
        uids.append(pi.uid)
    for j in removed:
        if j < len(uids):
            s._cache_remove(uids[j])
    s.next_start_node_index = start % len(nodes)
    return s


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes=st.lists(node_st, min_size=1, max_size=14),
       placed=st.lists(st.tuples(pod_st, st.integers(0, 50)), max_size=25),
       removed=st.lists(st.integers(0, 30), max_size=5),
       incoming=incoming_st, seed=st.integers(0, 10**6), start=st.integers(0, 50), pct=st.sampled_from([0, 30]))
def test_vector_path_equals_plugin_path(nodes, placed, removed, incoming, seed, start, pct):
    a = _build(nodes, placed, removed, seed, start)
    b = _build(nodes, placed, removed, seed, start)
    a.percentage = b.percentage = pct
    p = _incoming(incoming)
    ref = a.schedule_pod(p, detailed=True)
    got = b.schedule_pod(p, detailed=False)
    assert got["path"] == "vector" or ref["message"]  # every generated pod is covered unless none fits
    assert got["feasible"] == ref["feasible"]
    assert got["totals"] == ref["totals"]
    assert got["selected"] == ref["selected"]
    assert got["message"] == ref["message"]
    assert b.next_start_node_index == a.next_start_node_index
    assert b.rng.random() == a.rng.random()


def test_vector_path_scales_the_window_like_upstream():
    """numFeasibleNodesToFind: 300 nodes -> 50 - 300/125 = 48% -> 144 nodes are found, starting where the
    last cycle stopped (nextStartNodeIndex), wrapping around."""
    s = scheduler([node(f"n{i:04d}", zone=f"z{i % 3}") for i in range(300)])
    s.next_start_node_index = 250
    r = s.schedule_pod(pod("p", cpu="100m"), detailed=False)
    assert r["path"] == "vector" and len(r["feasible"]) == 144 and r["evaluated"] == 144
    assert r["feasible"][0] == "n0250" and r["feasible"][50] == "n0000"
    assert s.next_start_node_index == (250 + 144) % 300


def test_vector_path_equals_plugin_path_on_a_crowded_large_cluster():
    """250 nodes, most of them full: the window first examined is too small and is widened; both paths
    still agree, cycle after cycle, as pods are assumed onto the chosen nodes."""
    import random
    rnd = random.Random(5)
    nodes = [node(f"n{i:03d}", cpu=rnd.choice(["1", "2", "4"]), zone=f"z{i % 3}") for i in range(250)]
    fill = [pod(f"f{i}", cpu="900m", node_name=f"n{rnd.randrange(250):03d}") for i in range(300)]
    a, b = scheduler(nodes, seed=3), scheduler(nodes, seed=3)
    b._arrays()
    for s in (a, b):
        for p in fill:
            s._cache_add(p["spec"]["nodeName"], PodInfo(p))
    for i in range(40):
        p = pod(f"p{i}", cpu=rnd.choice(["500m", "1500m"]), memory="64Mi")
        ra, rb = a.schedule_pod(p, detailed=True), b.schedule_pod(p, detailed=False)
        assert (rb["feasible"], rb["totals"], rb["selected"], b.next_start_node_index) == (
            ra["feasible"], ra["totals"], ra["selected"], a.next_start_node_index)
        if ra["selected"]:
            for s in (a, b):
                s._cache_add(ra["selected"], PodInfo({**p, "spec": {**p["spec"], "nodeName": ra["selected"]}}))
