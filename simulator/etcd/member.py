"""The etcd cluster as the API server sees it: 1, 3 or 5 members replicating writes with Raft
(simulator/etcd/raft.py), applying committed entries, in order, to the MVCC store.

A client request (a Txn) goes to one member (by default the leader, else any running member; pass
`member=` to pin it, as kubeadm's stacked control plane does: each kube-apiserver talks to its local
member at https://127.0.0.1:2379). etcdserver turns it into a raft proposal
(server/etcdserver/v3_server.go processInternalRaftRequestOnce) and waits until that member has applied
it, or until the request timeout:

    ReqTimeout = 5 s + 2 * election timeout = 7 s      (server/config/config.go ServerConfig.ReqTimeout)

A request that cannot commit in time resolves with an `EtcdError` whose message is what the client
(and so kube-apiserver) sees:
- the proposal reached raft (the member knew a leader) but did not commit: parseProposeCtxErr gives
  "etcdserver: request timed out" (errors.go ErrTimeout), or "..., possibly due to previous leader failure"
  when a new leader was elected shortly after the request started, or "..., possibly due to connection
  lost" when the member has not been connected to its leader (or, as leader, to a quorum) since then;
- the member knew no leader: raft's node.Propose blocks (propc is nil without a leader) until the
  deadline, and the context error travels back through gRPC: "context deadline exceeded"
  (gRPC code DeadlineExceeded);
- a stopped member answers nothing: the client gives up at the deadline with the same error.
kube-apiserver passes these through unchanged (storage/etcd3/store.go returns the Txn error; it is not a
metav1.Status), so responsewriters.ErrorToAPIStatus answers 500 with reason "" (StatusReasonUnknown) and
the error text as message: `Error from server: etcdserver: request timed out`.

Note, as in real etcd, a timed-out write is not necessarily a failed one: if its entry reached the
leader's log it may still commit later (after the client got its error).

The MVCC store (`.store`) is the state machine every member applies to; since all members apply the
same committed entries in the same order, one store stands for all of them. The first member to apply
raft index i applies it to the store; every later member applying i is checked to apply the very same
entry (a safety violation raises AssertionError, which is what the property tests rely on).
"""
from __future__ import annotations

import random
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable

from .. import codec
from ..kernel import Environment, Future
from ..trace import Tracer, ref
from .mvcc import Compare, KeyValue, MVCCStore, Op, TxnResponse
from .raft import ELECTION_TIMEOUT, LEADER, TICK, Entry, Msg, RaftNode

# server/config/config.go ReqTimeout: 5 s for queueing, computation and disk IO + 2 election timeouts.
REQUEST_TIMEOUT = 5.0 + 2 * ELECTION_TIMEOUT

# server/etcdserver/errors.go
ERR_TIMEOUT = "etcdserver: request timed out"
ERR_TIMEOUT_LEADER_FAIL = "etcdserver: request timed out, possibly due to previous leader failure"
ERR_TIMEOUT_CONN_LOST = "etcdserver: request timed out, possibly due to connection lost"
ERR_NO_LEADER = "etcdserver: no leader"   # only for requests sent WithRequireLeader (kube-apiserver's watches)
# A Go context error sent back through gRPC (status code DeadlineExceeded); clientv3's Error() text is
# "rpc error: code = DeadlineExceeded desc = context deadline exceeded".
ERR_DEADLINE = "context deadline exceeded"

_UNSET = object()


class EtcdError(Exception):
    """What the etcd client returns instead of a response. `message` is err.Error() on the client side,
    i.e. what kube-apiserver puts in its Status: an etcdserver error keeps its text (clientv3 maps it to
    rpctypes.EtcdError), any other gRPC status reads "rpc error: code = <code> desc = <desc>".
    `code` is the gRPC status code, `desc` the server's own text."""

    def __init__(self, desc: str, code: str = "Unavailable"):
        self.desc = desc
        self.code = code
        self.message = desc if desc.startswith("etcdserver:") else f"rpc error: code = {code} desc = {desc}"
        super().__init__(self.message)

    def error(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"EtcdError({self.message!r})"


@dataclass
class RangeResponse:
    kvs: list[KeyValue]
    revision: int              # header.revision: the store revision the read was served at
    member: str = ""
    serializable: bool = False
    extra: dict = field(default_factory=dict)


class Proposal:
    __slots__ = ("compares", "success", "failure", "future", "client", "obj", "quiet", "via", "start", "deadline",
                 "done", "accepted", "resp")

    def __init__(self, compares, success, failure, future: Future, client, obj, quiet: bool, via: str | None,
                 start: float):
        self.compares = compares
        self.success = success
        self.failure = failure
        self.future = future
        self.client = client
        self.obj = obj
        self.quiet = quiet
        self.via = via
        self.start = start
        self.deadline = start + REQUEST_TIMEOUT
        self.done = False
        self.accepted = False
        self.resp: TxnResponse | None = None


class EtcdCluster:
    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, members: Iterable[str] = ("etcd-1",),
                 commit_latency: tuple[float, float] = (0.07, 0.12), *, initial_leader: object = _UNSET,
                 net_delay: tuple[float, float] = (0.005, 0.02), fsync: tuple[float, float] = (0.04, 0.08),
                 pre_vote: bool = True, snapshot_count: int = 100_000, catch_up_entries: int = 5_000):
        """`initial_leader` (default: the first member) starts the cluster as a running one is found: that
        member leads term 1 and every member is in sync. `initial_leader=None` starts every member as a
        fresh follower (term 1, no leader), so the first leader (term 2) is elected after 1-2 s, as on a
        real first boot.
        With one member the commit latency (WAL fsync + apply) is drawn from `commit_latency`; with more,
        each member's fsync from `fsync` and each message's network delay from `net_delay`.
        snapshot_count / catch_up_entries: etcd v3.5's --snapshot-count (100,000) and
        SnapshotCatchUpEntries (5,000): the raft log kept for slow followers."""
        self.env = env
        self.rng = rng
        self.tracer = tracer
        self.members = list(members)
        if not self.members or len(set(self.members)) != len(self.members):
            raise ValueError("members must be distinct names")
        self.quorum = len(self.members) // 2 + 1
        self.commit_latency = commit_latency
        self.fsync = commit_latency if len(self.members) == 1 else fsync
        self.net_delay = net_delay
        self.pre_vote = pre_vote
        self.snapshot_count = snapshot_count
        self.catch_up_entries = catch_up_entries
        self.store = MVCCStore()
        self.nodes: dict[str, RaftNode] = {m: RaftNode(m, self.members, self) for m in self.members}
        self._store_index = 0                 # raft index of the last entry applied to the store
        self._serials = array("q")            # serial of the entry applied at raft index i (position i - 1)
        self._revs = array("q")               # store revision after applying raft index i
        self._boot_rev = self.store.revision  # the revision before the first raft entry (bootstrap data)
        self._serial = 0
        self._pending: deque[Proposal] = deque()
        self._sweeping = False
        self._link: dict[tuple[str, str], float] = {}
        self.leaders_by_term: dict[int, str] = {}
        leader = self.members[0] if initial_leader is _UNSET else initial_leader
        if leader is not None:
            if leader not in self.nodes:
                raise ValueError(f"unknown member {leader!r}")
            self.leaders_by_term[1] = leader
            self.nodes[leader].boot_as_leader(1)
            for m, n in self.nodes.items():
                if m != leader:
                    n.boot_as_follower(1, leader)
        else:
            # raft.StartNode bootstraps every member as a follower of term 1 (the initial configuration
            # entries are written at term 1), so the first elected leader leads term 2.
            for n in self.nodes.values():
                n.boot_as_follower(1, None)

    # ---- the cluster's state ---------------------------------------------------------------------
    @property
    def leader(self) -> str | None:
        best = None
        for n in self.nodes.values():
            if n.running and n.state == LEADER and (best is None or n.term > best.term):
                best = n
        return best.name if best else None

    @property
    def term(self) -> int:
        running = [n.term for n in self.nodes.values() if n.running]
        return max(running or [n.term for n in self.nodes.values()])

    def running(self) -> list[str]:
        return [m for m in self.members if self.nodes[m].running]

    def has_quorum(self) -> bool:
        return len(self.running()) >= self.quorum

    def shape(self) -> dict:
        """members (names, as before) and, per member, role/term/commit/applied/running."""
        return {"members": list(self.members), "leader": self.leader, "term": self.term,
                "revision": self.store.revision,
                "status": [{"name": n.name, "role": n.state if n.running else "stopped", "term": n.term,
                            "commit": n.commit, "applied": n.applied, "last_index": n.last_index(),
                            "running": n.running} for n in self.nodes.values()]}

    # ---- the client API ----------------------------------------------------------------------------
    def _serving(self, member: str | None) -> RaftNode | None:
        if member is not None:
            return self.nodes[member]
        lead = self.leader
        if lead is not None:
            return self.nodes[lead]
        for m in self.members:
            if self.nodes[m].running:
                return self.nodes[m]
        return None

    def txn(self, compares: list[Compare], success: list[Op], failure: list[Op] = (), *,
            client: dict[str, str], obj: dict | None = None, quiet: bool = False, member: str | None = None) -> Future:
        """Propose a transaction; the future resolves with the TxnResponse once the serving member has
        applied it, or with an EtcdError after the request timeout. A quiet write emits no events."""
        fut = self.env.future()
        node = self._serving(member)
        prop = Proposal(compares, success, failure, fut, client, obj, quiet, node.name if node else None, self.env.now)
        self._track(prop)
        if node is not None and node.running:
            node.propose(prop)
        return fut

    def range(self, key: str, prefix: bool = False, *, serializable: bool = False, member: str | None = None) -> Future:
        """A Range read. Linearizable (the default) needs the leader to confirm it still leads a quorum
        (ReadIndex); without a quorum it fails after the request timeout with "etcdserver: request timed
        out" (v3_server.go requestCurrentIndex). Serializable reads are served from the member's own
        applied state, even without a leader - possibly stale."""
        node = self._serving(member)
        return self.env.process(self._range(key, prefix, serializable, node))

    def _range(self, key: str, prefix: bool, serializable: bool, node: RaftNode | None):
        start = self.env.now
        if node is None or not node.running:
            yield REQUEST_TIMEOUT
            return EtcdError(ERR_DEADLINE, "DeadlineExceeded")
        if serializable:
            yield self.rng.uniform(0.001, 0.003)
            rev = self._rev_at(node.applied)
            return RangeResponse(self._read(key, prefix, rev), rev, node.name, True)
        while self.env.now - start < REQUEST_TIMEOUT:
            lead = self.nodes.get(node.lead) if node.lead else None
            if node.running and lead is not None and lead.running and lead.state == LEADER and self._leader_has_quorum(lead):
                # ReadIndex: the leader confirms its leadership with a heartbeat round to a quorum.
                yield 2 * self.rng.uniform(*self.net_delay) if lead.peers else 0.0
                if lead.running and lead.state == LEADER:
                    rev = self._rev_at(lead.commit)
                    return RangeResponse(self._read(key, prefix, rev), rev, node.name, False)
            yield TICK
        return EtcdError(ERR_TIMEOUT)

    def _leader_has_quorum(self, lead: RaftNode) -> bool:
        return 1 + sum(1 for p in lead.peers if self.nodes[p].running) >= self.quorum

    def _rev_at(self, index: int) -> int:
        if index <= 0 or not self._revs:
            return self._boot_rev
        return self._revs[min(index, len(self._revs)) - 1]

    def _read(self, key: str, prefix: bool, rev: int) -> list[KeyValue]:
        return self.store.range(key, prefix=prefix, revision=None if rev >= self.store.revision else rev)

    def put_now(self, key: str, obj: dict) -> None:
        """Write without Raft, latency or events: used only to lay down the bootstrapped cluster."""
        self.store.put(key, encode(obj))
        if not self._revs:
            self._boot_rev = self.store.revision

    # ---- members ---------------------------------------------------------------------------------
    def stop_member(self, name: str) -> None:
        node = self.nodes[name]
        if not node.running:
            return
        had_quorum = self.has_quorum()
        role = node.state
        node.stop()
        self.tracer.emit("etcd", name, "etcd.member.stopped", f"{name} stopped (was {role}, term {node.term})",
                         {"role": role, "term": node.term, "commit": node.commit, "applied": node.applied,
                          "last_index": node.last_index()})
        if had_quorum and not self.has_quorum():
            self.tracer.emit("etcd", name, "etcd.quorum.lost",
                             f"quorum lost: {len(self.running())} of {len(self.members)} members running, {self.quorum} needed",
                             {"running": self.running(), "quorum": self.quorum})

    def start_member(self, name: str) -> None:
        node = self.nodes[name]
        if node.running:
            return
        had_quorum = self.has_quorum()
        node.start()
        self.tracer.emit("etcd", name, "etcd.member.started",
                         f"{name} restarted with its persisted log (term {node.term}, last index {node.last_index()})",
                         {"term": node.term, "commit": node.commit, "applied": node.applied,
                          "last_index": node.last_index()})
        if not had_quorum and self.has_quorum():
            self.tracer.emit("etcd", name, "etcd.quorum.regained",
                             f"quorum regained: {len(self.running())} of {len(self.members)} members running",
                             {"running": self.running(), "quorum": self.quorum})

    # ---- what raft calls back --------------------------------------------------------------------
    def next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def send(self, m: Msg) -> None:
        """Deliver a message after a network delay; each member pair is one in-order stream (rafthttp over
        TCP). Messages to or from a stopped member are lost."""
        src, dst = self.nodes[m.frm], self.nodes[m.to]
        if not src.running:
            return
        if not dst.running:
            if src.state == LEADER:
                src.report_unreachable(m.to)
            return
        now = self.env.now
        at = now + self.rng.uniform(*self.net_delay)
        link = (m.frm, m.to)
        prev = self._link.get(link, 0.0)
        if at < prev:
            at = prev
        self._link[link] = at
        epoch = dst.epoch

        def deliver() -> None:
            if dst.running and dst.epoch == epoch:
                dst.step(m)
        self.env.schedule(at - now, deliver)

    def apply(self, node: RaftNode, entry: Entry) -> None:
        i = entry.index
        prop = entry.prop
        if i > self._store_index:
            if i != self._store_index + 1:
                raise AssertionError(f"{node.name} applies index {i} after {self._store_index}")
            self._store_index = i
            self._serials.append(entry.serial)
            if prop is not None:
                resp = self.store.txn(prop.compares, prop.success, prop.failure)
                prop.resp = resp
                prop.compares = prop.success = prop.failure = None   # applied: the log need not keep them
                if not prop.quiet:
                    self._emit_writes(node.name, prop, resp)
            self._revs.append(self.store.revision)
        elif self._serials[i - 1] != entry.serial:
            raise AssertionError(f"raft safety violated: {node.name} applies a different entry at index {i}")
        if prop is not None and not prop.done and prop.via == node.name:
            prop.done = True
            fut, resp = prop.future, prop.resp
            prop.future = prop.resp = None
            fut.resolve(resp)

    def restore(self, node: RaftNode, index: int) -> None:
        if index > self._store_index:
            raise AssertionError(f"{node.name} restores a snapshot at {index} beyond the applied {self._store_index}")

    def maybe_compact(self, node: RaftNode) -> None:
        # etcdserver triggerSnapshot: every --snapshot-count applied entries, keep SnapshotCatchUpEntries.
        if node.applied - node.snap_index > self.snapshot_count:
            node.snap_index = node.applied
            node.compact_to(max(node.applied - self.catch_up_entries, node.base_index))

    def _emit_writes(self, instance: str, prop: Proposal, resp: TxnResponse) -> None:
        if not self.tracer.enabled:
            return   # emit() would drop them: skip decoding each value
        tracer = self.tracer
        for ev in resp.events:
            kv = ev.kv
            if ev.type == "PUT":
                if not tracer.wants(prop.obj, "etcd.put"):   # summary level: counted, not decoded
                    tracer.count("etcd", "etcd.put", prop.obj, instance)
                    continue
                self.tracer.emit("etcd", instance, "etcd.put",
                                 f"PUT {kv.key} (revision {kv.mod_revision}, version {kv.version})",
                                 {"key": kv.key, "revision": resp.revision, "create_revision": kv.create_revision,
                                  "mod_revision": kv.mod_revision, "version": kv.version,
                                  "value": codec.loads(kv.value)},
                                 to=prop.client, obj=prop.obj)
            else:
                self.tracer.emit("etcd", instance, "etcd.delete", f"DELETE {kv.key} (revision {kv.mod_revision})",
                                 {"key": kv.key, "revision": resp.revision}, to=prop.client, obj=prop.obj)

    # ---- request timeouts --------------------------------------------------------------------------
    def _track(self, prop: Proposal) -> None:
        self._pending.append(prop)
        if not self._sweeping:
            self._sweeping = True
            self.env.schedule(REQUEST_TIMEOUT, self._sweep)

    def _sweep(self) -> None:
        """One timer for every pending request: fail those past their deadline (deadlines are in order)."""
        now = self.env.now
        pending = self._pending
        while pending and (pending[0].done or pending[0].deadline <= now + 1e-9):
            p = pending.popleft()
            if not p.done:
                self._time_out(p)
        if pending:
            self.env.schedule(pending[0].deadline - now, self._sweep)
        else:
            self._sweeping = False

    def _time_out(self, prop: Proposal) -> None:
        prop.done = True
        err = self._timeout_error(prop)
        if not prop.quiet:
            self.tracer.emit("etcd", prop.via or self.members[0], "etcd.error", f"request failed: {err.error()}",
                             {"error": err.error(), "code": err.code, "waited": round(self.env.now - prop.start, 3)},
                             to=prop.client, obj=prop.obj)
        fut, prop.future = prop.future, None
        fut.resolve(err)

    def _timeout_error(self, prop: Proposal) -> EtcdError:
        node = self.nodes.get(prop.via) if prop.via else None
        if node is None or not node.running or not prop.accepted:
            return EtcdError(ERR_DEADLINE, "DeadlineExceeded")
        # v3_server.go parseProposeCtxErr
        start = prop.start
        if node.lead_elected_at - 2 * ELECTION_TIMEOUT < start < node.lead_elected_at:
            return EtcdError(ERR_TIMEOUT_LEADER_FAIL)
        if node.lead is None:
            return EtcdError(ERR_TIMEOUT)
        if node.lead == node.name:
            up = sum(1 for n in self.nodes.values() if n.running and n.started_at <= start)
            if up < self.quorum:
                return EtcdError(ERR_TIMEOUT_CONN_LOST)
        else:
            lead = self.nodes[node.lead]
            if not (lead.running and lead.started_at <= start):
                return EtcdError(ERR_TIMEOUT_CONN_LOST)
        return EtcdError(ERR_TIMEOUT)

    # ---- trace events ------------------------------------------------------------------------------
    def emit_election(self, node: RaftNode, pre: bool, term: int) -> None:
        phase = "pre-vote" if pre else "vote"
        self.tracer.emit("etcd", node.name, "etcd.raft.election",
                         f"{node.name} starts a{'' if pre else 'n'} {'pre-vote' if pre else 'election'} for term {term}"
                         f" (last log index {node.last_index()}, term {node.last_term()})",
                         {"term": term, "phase": phase, "last_index": node.last_index(), "last_term": node.last_term(),
                          "peers": list(node.peers)})

    def emit_vote(self, node: RaftNode, m: Msg, granted: bool) -> None:
        phase = "pre-vote" if m.type == "prevote" else "vote"
        self.tracer.emit("etcd", node.name, "etcd.raft.vote",
                         f"{node.name} {'grants' if granted else 'refuses'} its {phase} to {m.frm} for term {m.term}",
                         {"term": m.term, "phase": phase, "granted": granted, "voter_term": node.term},
                         to=ref("etcd", m.frm))

    def on_leader(self, node: RaftNode) -> None:
        other = self.leaders_by_term.get(node.term)
        if other is not None and other != node.name:
            raise AssertionError(f"two leaders in term {node.term}: {other} and {node.name}")
        self.leaders_by_term[node.term] = node.name
        votes = sorted(k for k, v in node.votes.items() if v) or [node.name]
        self.tracer.emit("etcd", node.name, "etcd.raft.leader", f"{node.name} is the leader of term {node.term}",
                         {"term": node.term, "votes": votes, "last_index": node.last_index()})

    def on_stepdown(self, node: RaftNode, reason: str) -> None:
        why = ("it has not heard from a quorum for an election timeout (CheckQuorum)" if reason == "check-quorum"
               else "it saw a higher term")
        self.tracer.emit("etcd", node.name, "etcd.raft.stepdown", f"{node.name} steps down as leader of term {node.term}: {why}",
                         {"term": node.term, "reason": reason})

    def emit_append(self, node: RaftNode, to: str, m: Msg, catch_up: bool) -> None:
        if not self.tracer.enabled:
            return
        ents = m.entries or ()
        traced = next((e.prop for e in ents if e.prop is not None and not e.prop.quiet), None)
        if traced is None and not (catch_up and ents):
            return
        first = ents[0].index if ents else m.index + 1
        self.tracer.emit("etcd", node.name, "etcd.raft.append",
                         f"AppendEntries to {to}: {len(ents)} entr{'y' if len(ents) == 1 else 'ies'} from index {first}"
                         f" (term {m.term}, commit {m.commit})",
                         {"term": m.term, "prev_index": m.index, "prev_term": m.log_term, "entries": len(ents),
                          "commit": m.commit, "catch_up": catch_up},
                         to=ref("etcd", to), obj=traced.obj if traced else None)

    def emit_snapshot(self, node: RaftNode, to: str, index: int, term: int) -> None:
        self.tracer.emit("etcd", node.name, "etcd.raft.snapshot",
                         f"{to} is behind the compacted log: {node.name} sends a snapshot at index {index}",
                         {"index": index, "term": term}, to=ref("etcd", to))

    def emit_commit(self, node: RaftNode, old: int, new: int) -> None:
        if len(self.members) == 1 or not self.tracer.enabled:
            return
        traced = None
        for i in range(max(old + 1, node.base_index + 1), new + 1):
            p = node.entry(i).prop
            if p is not None and not p.quiet:
                traced = p
                break
        if traced is None:
            return
        acked = sorted([node.name] + [p for p, pr in node.prs.items() if pr.match >= new])
        self.tracer.emit("etcd", node.name, "etcd.raft.commit",
                         f"index {new} committed: stored on {len(acked)} of {len(self.members)} members (quorum {self.quorum})",
                         {"term": node.term, "index": new, "acked": acked}, obj=traced.obj)


def encode(obj: dict) -> str:
    """The stored bytes. Real kube-apiserver stores protobuf for built-in types; we store JSON (what
    `etcdctl get` piped through a decoder such as auger shows), with resourceVersion cleared as the
    API server does before writing (storage.APIObjectVersioner.PrepareObjectForStorage)."""
    meta = obj.get("metadata")
    if meta and "resourceVersion" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "resourceVersion"}
    return codec.dumps(obj)
