"""Preemption (DefaultPreemption): victims of lower priority, as few as needed and lowest priority first;
the node chosen by pickOneNodeForPreemption's criteria; preemptionPolicy Never; and end to end through the
API: the victim deleted gracefully with the "Preempted" event, the preemptor nominated and then bound."""
from tests.sim.helpers import create_pod, pod_manifest
from tests.sim.sched_util import node, pod, scheduler


def test_minimal_victims_lowest_priority_first():
    placed = [pod("low-a", cpu="1", priority=1, node_name="a"), pod("low-b", cpu="1", priority=5, node_name="a"),
              pod("mid", cpu="1", priority=50, node_name="a"), pod("hi", cpu="1", priority=2000, node_name="a")]
    s = scheduler([node("a", cpu="4")], placed)
    r = s.schedule_pod(pod("p", cpu="2", priority=100))
    post = r["postfilter"]
    assert post["node"] == "a"
    assert sorted(v["metadata"]["name"] for v in post["victims"]) == ["low-a", "low-b"]
    assert r["message"] == "0/1 nodes are available: 1 Insufficient cpu."


def test_node_with_lower_priority_victims_is_picked():
    placed = [pod("x", cpu="4", priority=10, node_name="a"), pod("y", cpu="4", priority=5, node_name="b"),
              pod("z", cpu="2", priority=1, node_name="c"), pod("w", cpu="2", priority=1, node_name="c")]
    s = scheduler([node("a", cpu="4"), node("b", cpu="4"), node("c", cpu="4")], placed)
    post = s.schedule_pod(pod("p", cpu="3", priority=100))["postfilter"]
    # c's highest victim has priority 1 (lowest of all), though it needs two victims.
    assert post["node"] == "c" and len(post["victims"]) == 2


def test_preemption_messages_when_it_cannot_help():
    s = scheduler([node("a", cpu="1"), node("b", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}])],
                  [pod("same", cpu="1", priority=100, node_name="a")])
    r = s.schedule_pod(pod("p", cpu="1", priority=100))
    assert r["message"] == ("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}. "
                            "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
                            "1 Preemption is not helpful for scheduling..")
    r = s.schedule_pod(pod("q", cpu="1", priority=1000, preemptionPolicy="Never"))
    assert r["message"] == ("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}. "
                            "preemption: not eligible due to preemptionPolicy=Never..")
    # Evicting every lower-priority pod is not enough: the node fails with the filter's own reason.
    s = scheduler([node("a", cpu="2")], [pod("low", cpu="1", priority=1, node_name="a")])
    r = s.schedule_pod(pod("big", cpu="3", priority=100))
    assert r["message"] == "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.."


def _create(cluster, resource, body):
    fut = cluster.client().create(resource, body, namespace=body["metadata"].get("namespace", ""))
    cluster.env.run(until=fut)
    return fut.value


def test_preemption_end_to_end(cluster):
    for name, value in (("low", 10), ("high", 1000)):
        resp = _create(cluster, "priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                                    "metadata": {"name": name}, "value": value})
        assert resp.code == 201, resp.status
    for w in ("worker-1", "worker-2"):
        m = pod_manifest(f"filler-{w}", requests={"cpu": "3"}, priorityClassName="low", terminationGracePeriodSeconds=2,
                         nodeSelector={"kubernetes.io/hostname": w})
        assert create_pod(cluster, m).code == 201
    cluster.run(until=cluster.env.now + 30)
    assert cluster.get("/registry/pods/default/filler-worker-1")["spec"]["nodeName"] == "worker-1"
    assert create_pod(cluster, pod_manifest("vip", requests={"cpu": "2"}, priorityClassName="high")).code == 201
    cluster.run(until=cluster.env.now + 60)
    vip = cluster.get("/registry/pods/default/vip")
    nominated = vip["status"].get("nominatedNodeName")
    assert nominated in ("worker-1", "worker-2") and vip["spec"].get("nodeName") == nominated
    victim = f"filler-{nominated}"
    assert cluster.get(f"/registry/pods/default/{victim}") is None          # deleted (gracefully, by its kubelet)
    assert cluster.get(f"/registry/pods/default/filler-{'worker-1' if nominated == 'worker-2' else 'worker-2'}")
    events = cluster.apiserver.list("/registry/events/default/")
    pre = [e for e in events if e["reason"] == "Preempted"]
    assert len(pre) == 1 and pre[0]["involvedObject"]["name"] == victim and pre[0]["type"] == "Normal"
    assert pre[0]["message"] == f"Preempted by pod {vip['metadata']['uid']} on node {nominated}"
    failed = [e for e in events if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "vip"]
    assert failed[0]["message"] == ("0/3 nodes are available: 1 node(s) had untolerated taint "
                                    "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.")
    assert [e["reason"] for e in events if e["involvedObject"]["name"] == "vip"][:2] == ["FailedScheduling", "Scheduled"]
