"""Raft's safety and liveness properties under random member stops/restarts and message delays (Hypothesis):
- at most one leader per term (Election Safety);
- a committed entry is never lost: every member that applies index i applies the same entry (State Machine
  Safety), and every newly elected leader's log holds every committed entry (Leader Completeness);
- the cluster makes progress: once a quorum is up long enough, a write commits.
The cluster itself raises AssertionError on a violation it can see (two leaders in a term, a different entry
applied at an index, a committed entry truncated); the test checks the rest."""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.etcd import REQUEST_TIMEOUT, EtcdCluster, EtcdError, Op, TxnResponse
from simulator.kernel import Environment
from simulator.trace import Tracer, ref

API = ref("apiserver", "apiserver-1")


@st.composite
def histories(draw):
    n = draw(st.sampled_from([3, 5]))
    return {
        "n": n,
        "seed": draw(st.integers(0, 2**32 - 1)),
        "net_hi": draw(st.floats(0.002, 0.09)),
        "fresh": draw(st.booleans()),
        # Who is stopped or started: the current leader, a follower, the longest-stopped member, or member i.
        "actions": draw(st.lists(st.tuples(st.floats(0.0, 2.5),
                                           st.sampled_from(["stop", "start"]),
                                           st.one_of(st.sampled_from(["leader", "follower", "stopped"]),
                                                     st.integers(0, n - 1))), max_size=14)),
    }


def _check_leader_completeness(etcd: EtcdCluster, node) -> None:
    committed = etcd._store_index
    assert node.last_index() >= committed, f"{node.name} leads without committed entries up to {committed}"
    for i in range(node.base_index + 1, committed + 1):
        assert node.entry(i).serial == etcd._serials[i - 1], f"{node.name} leads with a different entry at {i}"


def _simulate(h) -> None:
    env = Environment()
    tracer = Tracer(env, "prop")
    tracer.enabled = False
    members = [f"etcd-{i + 1}" for i in range(h["n"])]
    kw = {"initial_leader": None} if h["fresh"] else {}
    etcd = EtcdCluster(env, random.Random(h["seed"]), tracer, members=members,
                       net_delay=(0.001, max(0.001, h["net_hi"])), snapshot_count=40, catch_up_entries=10, **kw)
    on_leader = etcd.on_leader

    def checked_on_leader(node):
        on_leader(node)
        _check_leader_completeness(etcd, node)
    etcd.on_leader = checked_on_leader

    wrng = random.Random(h["seed"] ^ 0x5EED)
    writes: list[tuple[str, object]] = []

    def writer():
        i = 0
        while True:
            key = f"/w/{i}"
            pin = wrng.choice([None, None, wrng.choice(members)])
            writes.append((key, etcd.txn([], [Op.put(key, "{}")], client=API, quiet=True, member=pin)))
            i += 1
            yield 0.15

    env.process(writer())

    def run(seconds: float) -> None:
        end = env.now + seconds
        while env.peek() <= end:
            env.step()

    stopped: list[str] = []
    for dt, op, who in h["actions"]:
        run(dt)
        if who == "leader":
            name = etcd.leader
        elif who == "follower":
            name = next((m for m in members if etcd.nodes[m].running and m != etcd.leader), None)
        elif who == "stopped":
            name = stopped[0] if stopped else None
        else:
            name = members[who]
        if name is None:
            continue
        if op == "stop" and etcd.nodes[name].running:
            etcd.stop_member(name)
            stopped.append(name)
        elif op == "start" and not etcd.nodes[name].running:
            etcd.start_member(name)
            stopped.remove(name)
    # Heal: make sure a quorum is up, then give it time to elect a leader and settle.
    for m in members:
        if len(etcd.running()) >= etcd.quorum:
            break
        etcd.start_member(m)
    run(12.0)

    # Progress: with a quorum up, a write commits.
    final = etcd.txn([], [Op.put("/final", "{}")], client=API)
    end = env.now + REQUEST_TIMEOUT + 1
    while not final.done and env.peek() <= end:
        env.step()
    assert isinstance(final.value, TxnResponse), (final.value, etcd.shape())

    # Election safety is asserted as leaders are elected; here, what the members hold.
    assert etcd.leader is not None
    lead = etcd.nodes[etcd.leader]
    _check_leader_completeness(etcd, lead)
    for node in etcd.nodes.values():
        assert node.applied <= node.commit <= node.last_index()
        for i in range(node.base_index + 1, node.applied + 1):
            assert node.entry(i).serial == etcd._serials[i - 1]
    # Every acknowledged write is in the store; a failed one may or may not be (as in etcd).
    for key, fut in writes:
        if fut.done and isinstance(fut.value, TxnResponse):
            assert etcd.store.get(key) is not None, key
        elif fut.done:
            assert isinstance(fut.value, EtcdError)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_raft_is_safe_and_live_under_random_stops_restarts_and_delays(h):
    _simulate(h)


def test_a_known_hard_history_leader_and_follower_bounce():
    # The leader and a follower stop and start repeatedly around elections.
    _simulate({"n": 3, "seed": 11, "net_hi": 0.09, "fresh": True,
               "actions": [(1.2, "stop", 0), (0.3, "stop", 1), (1.0, "start", 0), (0.2, "stop", 2),
                           (1.5, "start", 1), (0.1, "stop", 0), (2.0, "start", 2), (0.5, "start", 0)]})


def test_a_stale_member_never_wins_over_committed_entries():
    # A follower misses writes, the leader dies, the stale follower comes back first: only the member
    # holding the committed entries may win (the vote's up-to-date check, §5.4.1).
    for seed in range(12):
        _simulate({"n": 3, "seed": seed, "net_hi": 0.01, "fresh": False,
                   "actions": [(0.5, "stop", "follower"), (2.0, "stop", "leader"), (0.0, "start", "stopped"),
                               (3.0, "start", "stopped")]})
