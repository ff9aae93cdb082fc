"""The scheduling queue: PrioritySort order (priority, then creation order), back-off 1 s doubling to
10 s, unschedulable pods requeued by the cluster events their rejecting plugins registered for, flushed
after 5 minutes; and the scheduler schedules only while it leads."""
from simulator.scheduler import queue as Q
from tests.sim.helpers import create_pod, pod_manifest
from tests.sim.sched_util import pod


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def test_priority_sort_then_creation_order():
    c = Clock()
    q = Q.SchedulingQueue(c)
    for name, prio in (("a", 0), ("b", 100), ("c", 0), ("d", 100)):
        q.add(pod(name, priority=prio))
        c.t += 1
    assert [q.pop().key for _ in range(4)] == ["default/b", "default/d", "default/a", "default/c"]
    assert q.pop() is None


def test_backoff_doubles_up_to_ten_seconds():
    assert [Q.backoff_duration(n) for n in range(1, 8)] == [1, 2, 4, 8, 10, 10, 10]
    c = Clock()
    q = Q.SchedulingQueue(c)
    q.add(pod("p"))
    pi = q.pop()
    q.add_unschedulable(pi, set(), error=True)          # an error: straight to backoffQ
    assert pi.where == "backoffQ" and q.next_backoff_expiry() == 1.0
    c.t = 0.5
    assert q.flush_backoff_completed() == 0 and q.active_len() == 0
    c.t = 1.0
    assert q.flush_backoff_completed() == 1 and q.pop() is pi and pi.attempts == 2
    q.add_unschedulable(pi, set(), error=True)
    assert q.next_backoff_expiry() == 1.0 + 2.0


def test_unschedulable_pods_wait_for_an_event_that_may_help():
    c = Clock()
    q = Q.SchedulingQueue(c)
    q.add(pod("p", cpu="64"))
    pi = q.pop()
    q.add_unschedulable(pi, {"NodeResourcesFit"})
    assert pi.where == "unschedulablePods"
    assert q.move_all(Q.ASSIGNED_POD_ADD) == 0           # a new pod elsewhere cannot free resources
    c.t = 0.4
    assert q.move_all(Q.NODE_ADD) == 1 and pi.where == "backoffQ"   # still backing off (1 s)
    c.t = 2.0
    q.flush_backoff_completed()
    assert q.pop() is pi
    # An event while the pod was being scheduled sends it to backoffQ instead of unschedulablePods.
    q.move_all(Q.ASSIGNED_POD_DELETE)
    q.add_unschedulable(pi, {"NodeResourcesFit"})
    assert pi.where == "backoffQ"


def test_unschedulable_pods_are_flushed_after_five_minutes():
    c = Clock()
    q = Q.SchedulingQueue(c)
    q.add(pod("p"))
    pi = q.pop()
    q.add_unschedulable(pi, {"TaintToleration"})
    c.t = 300.0
    assert q.flush_unschedulable_leftover() == 0
    c.t = 300.5
    assert q.flush_unschedulable_leftover() == 1 and pi.where == "activeQ"


def test_gated_pod_waits_until_its_gates_are_removed():
    c = Clock()
    q = Q.SchedulingQueue(c)
    p = pod("g", schedulingGates=[{"name": "example.com/wait"}])
    q.add(p)
    assert q.pop() is None and q.pods[p["metadata"]["uid"]].where == "unschedulablePods"
    q.move_all(Q.NODE_ADD)
    assert q.pop() is None
    q.update({**p, "spec": {k: v for k, v in p["spec"].items() if k != "schedulingGates"}}, True)
    assert q.pop().key == "default/g"


def _bound_order(cluster) -> list[str]:
    evs = [e for e in cluster.apiserver.list("/registry/events/default/") if e["reason"] == "Scheduled"]
    evs.sort(key=lambda e: e["eventTime"])
    return [e["involvedObject"]["name"] for e in evs]


def test_scheduler_schedules_only_while_leading_and_in_queue_order(cluster):
    s = cluster.scheduler
    s.on_stopped_leading()
    for name in ("first", "second", "third"):
        assert create_pod(cluster, pod_manifest(name)).code == 201
    cluster.run(until=cluster.env.now + 10)
    assert all(not cluster.get(f"/registry/pods/default/{n}")["spec"].get("nodeName") for n in ("first", "second", "third"))
    assert s.queue.active_len() == 3
    s.on_started_leading()
    cluster.run(until=cluster.env.now + 10)
    assert _bound_order(cluster) == ["first", "second", "third"]
    s.stop()
    assert create_pod(cluster, pod_manifest("late")).code == 201
    cluster.run(until=cluster.env.now + 10)
    assert not cluster.get("/registry/pods/default/late")["spec"].get("nodeName")
