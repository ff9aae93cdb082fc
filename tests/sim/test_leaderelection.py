"""Leader election over a Lease: one leader among candidates, renewals every 2 s, takeover by a standby
once the lease has expired (within leaseDuration + retryPeriod with jitter), resourceVersion CAS, the
LeaderElection Event; HA controller-managers where only the leader's controllers act."""
import random

from simulator.apiserver import registry
from simulator.controller_manager import ControllerManager
from tests.sim.fakeapi import FakeApi, FakeNodeAgents
from simulator.kernel import Environment
from simulator.leaderelection import LeaderElector
from simulator.trace import Tracer

LEASE = registry.key("leases", "kube-system", "kube-controller-manager")


class Comp:
    COMPONENT = "controller-manager"

    def __init__(self, i):
        self.instance, self.node = f"controller-manager-{i}", f"cp-{i}"
        self.me = {"component": self.COMPONENT, "instance": self.instance}
        self.log = []

    def on_started_leading(self):
        self.log.append("start")

    def on_stopped_leading(self):
        self.log.append("stop")


def setup(n=3):
    env = Environment()
    tracer = Tracer(env, "le")
    api = FakeApi(env, random.Random(7))
    api.put_now("namespaces", {"metadata": {"name": "kube-system"}})
    comps = [Comp(i + 1) for i in range(n)]
    els = [LeaderElector(env, random.Random(i), tracer, api.client(), "kube-controller-manager", None, c)
           for i, c in enumerate(comps)]
    return env, tracer, api, comps, els


def test_one_leader_then_takeover_after_the_lease_expires():
    env, tracer, api, comps, els = setup()
    for e in els:
        e.start()
    env.run_until(20)
    leaders = [e for e in els if e.is_leader()]
    assert len(leaders) == 1
    lead = leaders[0]
    lease = api.get(LEASE)
    assert lease["spec"]["holderIdentity"] == lead.identity
    host, uid = lead.identity.split("_")
    assert host.startswith("cp-") and len(uid) == 36
    assert lease["spec"]["leaseDurationSeconds"] == 15 and lease["spec"]["leaseTransitions"] == 0
    # Renewals every 2 s: the renewTime is recent.
    writes_before = api.rev
    env.run_until(30)
    assert api.rev - writes_before >= 4
    # The leader's process dies (no release): a standby takes over after the lease expires.
    t_stop = env.now
    lead.stop()
    t = t_stop
    new = None
    while t < t_stop + 40 and new is None:
        t += 0.1
        env.run_until(t)
        new = next((e for e in els if e.is_leader()), None)
    assert new is not None and new is not lead
    # last renewal <= 2 s before the stop; the standby must observe expiry (15 s) then retry (<= 4.4 s).
    assert t - t_stop <= 15 + 2 + 2 * 2.2 + 0.5
    assert t - t_stop >= 13
    env.run_until(t + 0.5)
    lease = api.get(LEASE)
    assert lease["spec"]["holderIdentity"] == new.identity and lease["spec"]["leaseTransitions"] == 1
    msgs = [e["message"] for e in api.list("/registry/events/kube-system/") if e["reason"] == "LeaderElection"]
    assert msgs == [f"{lead.identity} became leader", f"{new.identity} became leader"]
    acq = [e for e in tracer.buffer if e["type"] == "leaderelection" and e["data"]["action"] == "acquired"]
    assert [e["data"]["holder"] for e in acq] == [lead.identity, new.identity]
    assert comps[els.index(lead)].log == ["start", "stop"] and comps[els.index(new)].log == ["start"]


def test_conflicting_update_loses_with_409():
    env, tracer, api, comps, els = setup(2)
    els[0].start()
    env.run_until(5)
    lease = api.get(LEASE)
    stale = dict(lease)
    stale["metadata"] = dict(lease["metadata"], resourceVersion="1")
    fut = api.client().update("leases", stale, namespace="kube-system")
    env.run_until(5.1)
    assert fut.value.code == 409


def test_ha_controller_managers_only_the_leader_acts():
    env = Environment()
    tracer = Tracer(env, "ha")
    api = FakeApi(env, random.Random(3))
    for ns in ("default", "kube-system", "kube-node-lease"):
        api.put_now("namespaces", {"metadata": {"name": ns}})
    agents = FakeNodeAgents(api, ["worker-1"])
    agents.heartbeat()
    cms = [ControllerManager(env, random.Random(f"cm{i}"), tracer, api, instance=f"controller-manager-{i + 1}",
                             node=f"cp-{i + 1}", client=api.client(), leader_elect=True) for i in range(3)]
    for cm in cms:
        cm.start()
    env.run_until(5)
    api.client().create("replicasets", {"metadata": {"name": "rs", "namespace": "default"}, "spec": {
        "replicas": 3, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
        namespace="default")
    env.run_until(15)
    leaders = [cm for cm in cms if cm.leading]
    assert len(leaders) == 1
    assert len(api.list("/registry/pods/default/")) == 3
    actors = {e["instance"] for e in tracer.buffer if e["type"] == "controller.reconcile"}
    assert actors == {leaders[0].instance}
    # The leader dies; the new leader's controllers take over (a deleted pod is replaced).
    leaders[0].stop()
    env.run_until(40)
    [new] = [cm for cm in cms if cm.leading]
    victim = api.list("/registry/pods/default/")[0]["metadata"]["name"]
    api.client().delete("pods", victim, namespace="default", grace_period_seconds=0)
    env.run_until(50)
    assert len(api.list("/registry/pods/default/")) == 3
    assert any(e["instance"] == new.instance and e["data"]["controller"] == "replicaset"
               for e in tracer.buffer if e["type"] == "controller.reconcile")


def test_ha_cluster_takeover_through_the_real_api_server():
    from simulator.apiserver import authz
    from simulator.cluster import Cluster, NodeSpec
    topo = [NodeSpec(f"control-plane{i}", "control-plane", f"172.18.0.{2 + i}", f"10.244.{i}.0/24") for i in range(3)] + \
        [NodeSpec("worker-1", "worker", "172.18.0.10", "10.244.10.0/24")]
    c = Cluster(seed=1, run_id="ha", topology=topo)
    for r in authz.bootstrap_cluster_roles():   # the controller-manager's Lease rights, if the bootstrap lacks them
        c.etcd.put_now(f"/registry/clusterroles/{r['metadata']['name']}", r)
    for b in authz.bootstrap_cluster_role_bindings():
        c.etcd.put_now(f"/registry/clusterrolebindings/{b['metadata']['name']}", b)
    c.run(until=5)
    assert [cm.leading for cm in c.controller_managers] == [True, False, False]
    el = next(e for e in c.electors if e.lock_name == "kube-controller-manager" and e.is_leader())
    t_stop = c.env.now
    el.stop()
    c.controller_managers[0].stop()
    c.run(until=t_stop + 15 + 2 + 2 * 2.2 + 0.5)
    leaders = [cm for cm in c.controller_managers if cm.leading]
    assert len(leaders) == 1 and leaders[0] is not c.controller_managers[0]
    lease = c.apiserver.get(registry.key("leases", "kube-system", "kube-controller-manager"))
    assert lease["spec"]["holderIdentity"] == leaders[0].identity or lease["spec"]["holderIdentity"].startswith(leaders[0].node)
    assert lease["spec"]["leaseTransitions"] == 1
    evs = [e for e in c.tracer.buffer if e["type"] == "leaderelection" and e["data"]["action"] == "acquired"]
    assert len(evs) == 1 and evs[0]["instance"] == leaders[0].instance


def test_a_restarted_leader_has_a_new_identity_and_waits_for_its_old_lease():
    """The only candidate's process restarts: kube-scheduler and kube-controller-manager take hostname + a new
    UUID at every start, so the old Lease is another identity's and must expire before the new process leads."""
    env, tracer, api, comps, els = setup(1)
    (el,) = els
    el.start()
    env.run_until(10)
    assert el.is_leader()
    old = el.identity
    el.stop()
    t_stop = env.now
    el.start()
    assert el.identity != old and el.identity.split("_")[0] == old.split("_")[0]
    t = t_stop
    while not el.is_leader() and t < t_stop + 40:
        t += 0.1
        env.run_until(t)
    # Not before the old holder's lease (renewed at most 2 s before the stop) has run out.
    assert el.is_leader() and 13 <= t - t_stop <= 15 + 2 * 2.2 + 0.5
    lease = api.get(LEASE)
    assert lease["spec"]["holderIdentity"] == el.identity and lease["spec"]["leaseTransitions"] == 1
    msgs = [e["message"] for e in api.list("/registry/events/kube-system/") if e["reason"] == "LeaderElection"]
    assert msgs == [f"{old} became leader", f"{el.identity} became leader"]
