"""One test per default plugin, from the behaviour the Kubernetes documentation describes
(kubernetes.io/docs/concepts/scheduling-eviction/*), with kube-scheduler's exact FailedScheduling text."""
from tests.sim.sched_util import node, pod, scheduler

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


def test_node_unschedulable_cordoned_node_is_filtered_unless_tolerated():
    s = scheduler([node("a", unschedulable=True), node("b", cpu="1")])
    r = s.schedule_pod(pod("p", cpu="2"))
    assert r["message"] == ("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable. preemption: "
                            f"0/2 nodes are available: 1 {NO_VICTIMS}, 1 {NOT_HELPFUL}..")  # sorted as strings
    tol = [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
    assert s.schedule_pod(pod("q", cpu="2", tolerations=tol))["selected"] == "a"


def test_node_name_only_the_named_node():
    s = scheduler([node("a"), node("b")])
    r = s.schedule_pod(pod("p", node_name="c"))
    assert r["message"].startswith("0/2 nodes are available: 2 node(s) didn't match the requested node name.")
    assert s.schedule_pod(pod("q", node_name="b"))["selected"] == "b"


def test_taint_toleration_filter_and_prefer_no_schedule_score():
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    s = scheduler([node("a", taints=[taint])])
    r = s.schedule_pod(pod("p"))
    assert r["message"] == ("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: "
                            f"0/1 nodes are available: 1 {NOT_HELPFUL}..")
    tol = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    assert s.schedule_pod(pod("q", tolerations=tol))["selected"] == "a"
    soft = {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}
    s = scheduler([node("a", taints=[soft]), node("b")])
    r = s.schedule_pod(pod("r"))
    assert r["selected"] == "b"
    assert r["scores"]["a"]["TaintToleration"] == {"raw": 1, "normalized": 0, "weight": 3}
    assert r["scores"]["b"]["TaintToleration"]["normalized"] == 100


def test_node_affinity_selector_required_and_preferred():
    s = scheduler([node("a", labels={"disktype": "ssd"}), node("b", labels={"disktype": "hdd"}), node("c")])
    assert s.schedule_pod(pod("p", nodeSelector={"disktype": "ssd"}))["selected"] == "a"
    r = s.schedule_pod(pod("q", nodeSelector={"disktype": "nvme"}))
    assert r["message"].startswith("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.")
    req = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["hdd", "nvme"]}]}]}}}
    assert s.schedule_pod(pod("r", affinity=req))["feasible"] == ["b"]
    pref = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 1, "preference": {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["hdd"]}]}},
        {"weight": 50, "preference": {"matchExpressions": [{"key": "disktype", "operator": "Exists"}]}}]}}
    r = s.schedule_pod(pod("t", affinity=pref))
    assert r["selected"] == "b"
    assert {n: r["scores"][n]["NodeAffinity"]["normalized"] for n in "abc"} == {"a": 98, "b": 100, "c": 0}


def test_node_ports_host_port_conflict():
    s = scheduler([node("a"), node("b")],
                  [pod("web", node_name="a", containers=[{"name": "c", "image": "nginx",
                                                          "ports": [{"containerPort": 80, "hostPort": 8080}]}])])
    want = [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]}]
    r = s.schedule_pod(pod("p", containers=want))
    assert r["feasible"] == ["b"] and r["prefilter"]["NodePorts"] == "Success"
    assert r["filter"]["a"]["NodePorts"] == {"code": "Unschedulable",
                                             "reason": "node(s) didn't have free ports for the requested pod ports"}
    assert s.schedule_pod(pod("q"))["prefilter"]["NodePorts"] == "Skip"


def test_node_resources_fit_reasons_and_least_allocated():
    s = scheduler([node("a", cpu="2", pods="1"), node("b", cpu="1", memory="1Gi")],
                  [pod("x", node_name="a")])
    r = s.schedule_pod(pod("p", cpu="1500m", memory="2Gi"))
    assert r["message"] == ("0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods. "
                            f"preemption: 0/2 nodes are available: 2 {NO_VICTIMS}..")
    s = scheduler([node("a", cpu="4"), node("b", cpu="4")], [pod("x", cpu="3", node_name="a")])
    r = s.schedule_pod(pod("p", cpu="500m", memory="100Mi"))
    assert r["selected"] == "b"
    assert r["scores"]["b"]["NodeResourcesFit"]["raw"] > r["scores"]["a"]["NodeResourcesFit"]["raw"]


def test_balanced_allocation_prefers_the_balanced_node():
    s = scheduler([node("a", cpu="4", memory="4Gi"), node("b", cpu="4", memory="4Gi")],
                  [pod("x", cpu="2", node_name="a"), pod("y", cpu="1", memory="1Gi", node_name="b")])
    r = s.schedule_pod(pod("p", cpu="1", memory="1Gi"))
    ba = {n: r["scores"][n]["NodeResourcesBalancedAllocation"]["raw"] for n in "ab"}
    assert ba == {"a": 75, "b": 100}


def test_image_locality_prefers_the_node_with_the_image():
    big = [{"names": ["docker.io/library/big:1", "big:1"], "sizeBytes": 900 * 1024 * 1024}]
    s = scheduler([node("a"), node("b", images=big), node("c")])
    r = s.schedule_pod(pod("p", image="big:1"))
    assert r["scores"]["b"]["ImageLocality"]["raw"] > 0 == r["scores"]["a"]["ImageLocality"]["raw"]
    assert r["selected"] == "b"


def _zones():
    return [node("a1", zone="z1"), node("a2", zone="z1"), node("b1", zone="z2"), node("b2", zone="z2")]


def test_inter_pod_affinity_required_affinity_and_anti_affinity():
    s = scheduler(_zones(), [pod("cache", labels={"app": "cache"}, node_name="b1")])
    aff = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "topology.kubernetes.io/zone"}]}}
    r = s.schedule_pod(pod("web", affinity=aff))
    assert sorted(r["feasible"]) == ["b1", "b2"]
    assert r["filter"]["a1"]["InterPodAffinity"] == {"code": "UnschedulableAndUnresolvable",
                                                     "reason": "node(s) didn't match pod affinity rules"}
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    r = s.schedule_pod(pod("web2", affinity=anti))
    assert sorted(r["feasible"]) == ["a1", "a2", "b2"]
    assert r["filter"]["b1"]["InterPodAffinity"]["reason"] == "node(s) didn't match pod anti-affinity rules"
    # No pod matches anywhere: the first pod of a group with affinity to itself may go anywhere.
    self_aff = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "topology.kubernetes.io/zone"}]}}
    assert len(s.schedule_pod(pod("db", labels={"app": "db"}, affinity=self_aff))["feasible"]) == 4
    r = s.schedule_pod(pod("other", affinity=self_aff))
    assert r["message"].startswith("0/4 nodes are available: 4 node(s) didn't match pod affinity rules.")


def test_inter_pod_affinity_existing_pods_anti_affinity_and_preferred():
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "topology.kubernetes.io/zone"}]}}
    s = scheduler(_zones(), [pod("lonely", node_name="a1", affinity=anti)])
    r = s.schedule_pod(pod("web", labels={"app": "web"}))
    assert sorted(r["feasible"]) == ["b1", "b2"]
    assert r["filter"]["a2"]["InterPodAffinity"]["reason"] == "node(s) didn't satisfy existing pods anti-affinity rules"
    pref = {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "cache"}},
                                            "topologyKey": "topology.kubernetes.io/zone"}}]}}
    s = scheduler(_zones(), [pod("cache", labels={"app": "cache"}, node_name="b2")])
    r = s.schedule_pod(pod("near", affinity=pref))
    assert {n: r["scores"][n]["InterPodAffinity"]["normalized"] for n in ("a1", "b1")} == {"a1": 0, "b1": 100}
    assert r["selected"] in ("b1", "b2")


def test_pod_topology_spread_max_skew_and_missing_label():
    tsc = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}}}]
    placed = [pod(f"w{i}", labels={"app": "web"}, node_name=n) for i, n in enumerate(("a1", "a2"))]
    s = scheduler(_zones() + [node("nolabel")], placed)
    r = s.schedule_pod(pod("p", labels={"app": "web"}, topologySpreadConstraints=tsc))
    assert sorted(r["feasible"]) == ["b1", "b2"]
    assert r["filter"]["a1"]["PodTopologySpread"]["reason"] == "node(s) didn't match pod topology spread constraints"
    assert r["filter"]["nolabel"]["PodTopologySpread"] == {
        "code": "UnschedulableAndUnresolvable",
        "reason": "node(s) didn't match pod topology spread constraints (missing required label)"}


def test_pod_topology_spread_system_defaults_spread_a_replicaset():
    s = scheduler([node("a1", zone="z1"), node("b1", zone="z2")])
    s.objects["replicasets"]["default"] = {"rs": {"metadata": {"name": "rs", "namespace": "default"},
                                                  "spec": {"selector": {"matchLabels": {"app": "web"}}}}}
    owner = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "x", "controller": True}]
    placed = []
    for i in range(4):
        p = pod(f"w{i}", labels={"app": "web"})
        p["metadata"]["ownerReferences"] = owner
        r = s.schedule_pod(p)
        assert r["prescore"]["PodTopologySpread"] == "Success"
        p["spec"]["nodeName"] = r["selected"]
        from tests.sim.sched_util import place
        place(s, p)
        placed.append(r["selected"])
    assert sorted(placed) == ["a1", "a1", "b1", "b1"]
    lone = s.schedule_pod(pod("lone"))
    assert lone["prescore"]["PodTopologySpread"] == "Skip" and lone["prefilter"]["PodTopologySpread"] == "Skip"
