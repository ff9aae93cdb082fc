"""etcd's Raft among 1, 3 and 5 members: elections, replication, leader loss, quorum loss, catch-up."""
from __future__ import annotations

import random

import pytest

from simulator.etcd import REQUEST_TIMEOUT, Compare, EtcdCluster, EtcdError, Op, RangeResponse, TxnResponse
from simulator.kernel import Environment
from simulator.trace import Tracer, ref

API = ref("apiserver", "apiserver-1")
THREE = ["etcd-1", "etcd-2", "etcd-3"]
FIVE = [f"etcd-{i}" for i in range(1, 6)]


class Sim:
    def __init__(self, members=THREE, seed=1, **kw):
        self.env = Environment()
        self.tracer = Tracer(self.env, "t")
        self.etcd = EtcdCluster(self.env, random.Random(seed), self.tracer, members=members, **kw)

    def run(self, seconds: float) -> None:
        end = self.env.now + seconds
        while self.env.pending() and self.env.peek() <= end:
            self.env.step()
        self.env.now = max(self.env.now, end)

    def put(self, key: str, value: str = "{}", **kw):
        return self.etcd.txn([Compare(key, "mod_revision", "==", 0)], [Op.put(key, value)], [Op.get(key)],
                             client=API, **kw)

    def wait(self, fut, limit: float = 20.0):
        end = self.env.now + limit
        while not fut.done and self.env.pending() and self.env.peek() <= end:
            self.env.step()
        assert fut.done, "the request never finished"
        # the future's waiters run at the same instant
        while self.env.pending() and self.env.peek() <= self.env.now:
            self.env.step()
        return fut.value

    def events(self, type_: str | None = None) -> list[dict]:
        evs = list(self.tracer.buffer)
        return [e for e in evs if type_ is None or e["type"] == type_]

    def leaders(self) -> list[str]:
        return [n.name for n in self.etcd.nodes.values() if n.running and n.state == "leader"]


def test_three_fresh_members_elect_exactly_one_leader_within_3_seconds():
    s = Sim(initial_leader=None)
    assert s.etcd.leader is None
    s.run(3.0)
    assert len(s.leaders()) == 1
    leader = s.etcd.leader
    assert s.etcd.term == 2  # raft.StartNode bootstraps at term 1; the first election is for term 2
    assert all(n.lead == leader and n.term == 2 for n in s.etcd.nodes.values())
    (won,) = s.events("etcd.raft.leader")
    assert won["instance"] == leader and won["data"]["term"] == 2 and len(won["data"]["votes"]) >= 2
    # PreVote first (etcd v3.5 default), then the real election; votes are addressed to the candidate.
    phases = [e["data"]["phase"] for e in s.events("etcd.raft.election") if e["instance"] == leader]
    assert phases[:2] == ["pre-vote", "vote"]
    votes = s.events("etcd.raft.vote")
    assert votes and all(e["to"] == {"component": "etcd", "instance": leader} for e in votes if e["data"]["granted"])
    # The first election timeout is randomized in [1 s, 2 s) (etcd --election-timeout 1000 ms).
    first = s.events("etcd.raft.election")[0]
    assert 1.0 <= first["t"] < 2.0


def test_heartbeats_emit_nothing_and_a_single_member_has_no_background_timers():
    s = Sim()
    s.run(5.0)
    assert s.events() == []          # 50 heartbeat rounds, no trace events
    one = Sim(members=["etcd-1"])
    assert one.env.pending() == 0    # a lone leader needs no heartbeats and no election timer


def test_a_write_is_replicated_committed_by_quorum_and_applied_by_every_member():
    s = Sim()
    t0 = s.env.now
    resp = s.wait(s.put("/registry/pods/default/a", '{"kind":"Pod"}', obj={"kind": "Pod", "name": "a"}))
    assert isinstance(resp, TxnResponse) and resp.succeeded and resp.revision == 2
    assert 0.02 < s.env.now - t0 < 0.3
    appends = s.events("etcd.raft.append")
    assert {e["to"]["instance"] for e in appends} == {"etcd-2", "etcd-3"}
    assert all(e["instance"] == "etcd-1" and e["data"]["entries"] == 1 for e in appends)
    (commit,) = s.events("etcd.raft.commit")
    assert commit["data"]["index"] == 1 and len(commit["data"]["acked"]) >= 2 and "etcd-1" in commit["data"]["acked"]
    types = [e["type"] for e in s.events()]
    assert types.index("etcd.raft.append") < types.index("etcd.put")
    s.run(0.5)  # followers learn the commit index from the next heartbeat
    assert [n.applied for n in s.etcd.nodes.values()] == [1, 1, 1]
    # A quiet write (lease renewal, node heartbeat) still replicates and commits, without events.
    s.tracer.buffer.clear()
    resp = s.wait(s.put("/registry/leases/kube-node-lease/n1", quiet=True))
    assert resp.succeeded and s.events() == []


def test_stopping_the_leader_elects_a_new_leader_with_a_higher_term():
    s = Sim()
    s.wait(s.put("/a"))
    old, old_term = s.etcd.leader, s.etcd.term
    s.etcd.stop_member(old)
    assert s.etcd.leader is None
    s.run(4.0)
    new = s.etcd.leader
    assert new is not None and new != old and s.etcd.term > old_term
    assert s.events("etcd.member.stopped")[0]["instance"] == old
    assert s.events("etcd.raft.leader")[-1]["instance"] == new
    resp = s.wait(s.put("/b"))
    assert resp.succeeded and s.etcd.store.get("/b") is not None
    assert s.etcd.leaders_by_term[old_term] == old and s.etcd.leaders_by_term[s.etcd.term] == new


def test_without_quorum_a_write_fails_after_the_request_timeout_and_writes_nothing():
    s = Sim()
    s.wait(s.put("/a"))
    rev = s.etcd.store.revision
    s.etcd.stop_member("etcd-2")
    s.etcd.stop_member("etcd-3")
    assert [e["type"] for e in s.events()][-1] == "etcd.quorum.lost"
    t0 = s.env.now
    fut = s.put("/b", obj={"kind": "Pod", "name": "b"})
    err = s.wait(fut)
    assert isinstance(err, EtcdError)
    assert err.message == "etcdserver: request timed out"   # server/etcdserver/errors.go ErrTimeout
    assert s.env.now - t0 == pytest.approx(REQUEST_TIMEOUT) and REQUEST_TIMEOUT == 7.0
    assert s.etcd.store.revision == rev and s.etcd.store.get("/b") is None
    # CheckQuorum: the lone leader steps down at the first check (every election timeout) that finds it
    # heard from no quorum during the whole previous timeout - so within two election timeouts.
    (down,) = s.events("etcd.raft.stepdown")
    assert down["instance"] == "etcd-1" and down["data"]["reason"] == "check-quorum" and down["t"] <= t0 + 2.01
    assert s.etcd.leader is None
    (failed,) = s.events("etcd.error")
    assert failed["data"]["error"] == "etcdserver: request timed out" and failed["to"] == API
    # Once no member knows a leader, a proposal cannot even enter raft: the client's deadline expires.
    err2 = s.wait(s.put("/c"))
    assert isinstance(err2, EtcdError) and err2.code == "DeadlineExceeded" and err2.desc == "context deadline exceeded"
    assert err2.message == "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
    # Reads: linearizable needs the quorum, serializable is served locally (possibly stale).
    lin = s.wait(s.etcd.range("/a"))
    assert isinstance(lin, EtcdError) and lin.message == "etcdserver: request timed out"
    ser = s.wait(s.etcd.range("/a", serializable=True))
    assert isinstance(ser, RangeResponse) and [kv.key for kv in ser.kvs] == ["/a"]
    # Quorum back: a leader is elected again and writes commit.
    s.etcd.start_member("etcd-2")
    assert s.events()[-1]["type"] == "etcd.quorum.regained"
    s.run(3.0)
    assert s.etcd.leader is not None
    assert s.wait(s.put("/d")).succeeded
    assert s.etcd.store.get("/c") is None   # the proposal that never entered raft is gone


def test_a_restarted_member_keeps_its_log_and_catches_up_from_the_leader():
    s = Sim()
    for i in range(3):
        s.wait(s.put(f"/k{i}"))
    s.run(0.5)
    stopped = s.etcd.nodes["etcd-3"]
    s.etcd.stop_member("etcd-3")
    before = (stopped.term, stopped.last_index(), stopped.commit)
    futs = [s.put(f"/more{i}") for i in range(20)]
    for f in futs:
        assert s.wait(f).succeeded
    assert (stopped.term, stopped.last_index(), stopped.commit) == before   # frozen while down
    s.etcd.start_member("etcd-3")
    (started,) = s.events("etcd.member.started")
    assert started["data"]["last_index"] == before[1]
    s.run(2.0)
    leader = s.etcd.nodes[s.etcd.leader]
    assert s.etcd.leader == "etcd-1"   # PreVote: the returning member does not disrupt the leader
    assert stopped.last_index() == leader.last_index() and stopped.applied == leader.commit
    assert any(e["data"]["catch_up"] and e["to"]["instance"] == "etcd-3" for e in s.events("etcd.raft.append"))
    # Same contents: a serializable read on the restarted member equals a linearizable read via the leader.
    local = s.wait(s.etcd.range("/", prefix=True, serializable=True, member="etcd-3"))
    lin = s.wait(s.etcd.range("/", prefix=True))
    assert [(kv.key, kv.mod_revision) for kv in local.kvs] == [(kv.key, kv.mod_revision) for kv in lin.kvs]
    assert len(lin.kvs) == 23


def test_a_member_behind_the_compacted_log_gets_a_snapshot():
    s = Sim(snapshot_count=20, catch_up_entries=5)
    s.etcd.stop_member("etcd-2")
    for i in range(60):
        assert s.wait(s.put(f"/k{i}", quiet=True)).succeeded
    leader = s.etcd.nodes["etcd-1"]
    assert leader.base_index > 0   # compacted
    s.etcd.start_member("etcd-2")
    s.run(2.0)
    (snap,) = s.events("etcd.raft.snapshot")
    assert snap["to"]["instance"] == "etcd-2"
    assert s.etcd.nodes["etcd-2"].applied == leader.commit


def test_five_members_tolerate_two_stopped_members_but_not_three():
    s = Sim(members=FIVE)
    s.etcd.stop_member("etcd-1")   # the leader
    s.etcd.stop_member("etcd-2")
    s.run(4.0)
    assert s.etcd.leader in ("etcd-3", "etcd-4", "etcd-5")
    assert s.wait(s.put("/ok")).succeeded
    s.etcd.stop_member(s.etcd.leader)
    err = s.wait(s.put("/no"))
    assert isinstance(err, EtcdError)
    assert s.etcd.store.get("/no") is None


def test_a_single_member_commits_after_its_fsync_and_recovers_after_a_restart():
    s = Sim(members=["etcd-1"])
    t0 = s.env.now
    resp = s.wait(s.put("/a", obj={"kind": "Pod", "name": "a"}))
    assert resp.succeeded and 0.07 <= s.env.now - t0 <= 0.12
    assert [e["type"] for e in s.events()] == ["etcd.put"]   # no raft chatter with one member
    s.etcd.stop_member("etcd-1")
    assert isinstance(s.wait(s.put("/b")), EtcdError)
    s.etcd.start_member("etcd-1")
    s.run(1.0)   # --initial-election-tick-advance: a lone member campaigns within a tick or two
    assert s.etcd.leader == "etcd-1" and s.etcd.term == 2
    assert s.wait(s.put("/c")).succeeded


def test_a_write_through_a_follower_is_forwarded_to_the_leader():
    s = Sim()
    resp = s.wait(s.put("/via-follower", member="etcd-3"))
    assert resp.succeeded
    assert s.etcd.nodes["etcd-3"].applied >= 1


def test_same_seed_same_events():
    def trace(seed):
        s = Sim(initial_leader=None, seed=seed)
        s.run(2.5)
        s.wait(s.put("/x"))
        s.etcd.stop_member(s.etcd.leader)
        s.run(3.0)
        s.wait(s.put("/y"))
        return [(e["t"], e["type"], e["instance"], e["summary"]) for e in s.events()]
    assert trace(5) == trace(5)
    assert trace(5) != trace(6)
