"""Raft for the simulated etcd members, with etcd-io/raft's semantics (go.etcd.io/raft/v3 raft.go, the
library etcd v3.5 embeds), driven by the simulation kernel instead of a ticker goroutine.

What is modelled, and where it comes from:
- States follower / pre-candidate / candidate / leader (raft.go StateType). etcd runs raft with
  CheckQuorum always on and PreVote on by default since v3.5 (server/etcdserver/bootstrap.go / raft.go
  raftConfig: `CheckQuorum: true, PreVote: cfg.PreVote`; server/embed/config.go NewConfig: `PreVote: true`).
- One tick = --heartbeat-interval (100 ms); election timeout = --election-timeout (1000 ms) = 10 ticks
  (embed/config.go: TickMs 100, ElectionMs 1000; etcd passes ElectionTick = ElectionMs / TickMs,
  HeartbeatTick 1). A follower campaigns after a randomized timeout in [election, 2 * election) ticks
  (raft.go resetRandomizedElectionTimeout: electionTimeout + rand.Intn(electionTimeout)).
- PreVote (raft.go hup/campaign(campaignPreElection)): a pre-candidate asks for votes for term + 1
  without changing its term; only with a quorum of pre-votes does it become a candidate (term + 1, vote
  for itself) and send real RequestVote (MsgVote) messages.
- Step's term rules (raft.go Step): a (pre-)vote request is ignored while the receiver is "in lease"
  (CheckQuorum, it heard from a leader less than an election timeout ago); a higher term makes a node a
  follower (except for PreVote traffic); a node votes if it has not voted in the term (or re-votes for
  the same candidate) and the candidate's log is at least as up to date (§5.4.1, raftLog.isUpToDate).
- A new leader appends an empty entry of its term (becomeLeader), so that entries of earlier terms get
  committed through it (only entries of the current term are committed by counting replicas,
  Raft §5.4.2 / raft.go maybeCommit -> raftLog.maybeCommit(mci, term)).
- AppendEntries (MsgApp) carry prev index/term, entries and the leader's commit; a follower rejects on a
  log mismatch with a hint (its last index) and the leader probes backwards (tracker.Progress,
  probe / replicate states). Heartbeats (MsgHeartbeat) carry min(match, commit); a heartbeat response
  from a lagging follower makes the leader send it what it is missing - this is how a restarted member
  catches up. A follower too far behind the leader's compacted log gets a snapshot (MsgSnap).
- CheckQuorum (raft.go tickHeartbeat / MsgCheckQuorum): every election timeout a leader that has not
  heard from a quorum steps down to follower with no leader.
- Entries are acknowledged after the member's WAL fsync; every member applies committed entries in
  index order.
Not modelled: learners, membership changes, leader transfer, ReadIndex batching, flow-control windows.

Timers are per member and lazy: a follower's election timer is one callback per timeout (re-armed
only when it fires early), a leader ticks every 100 ms to send heartbeats. Nothing here emits an event
per tick.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .member import EtcdCluster, Proposal

FOLLOWER = "follower"
PRE_CANDIDATE = "pre-candidate"
CANDIDATE = "candidate"
LEADER = "leader"

TICK = 0.1             # --heartbeat-interval 100 ms (one raft tick)
ELECTION_TICKS = 10    # --election-timeout 1000 ms / 100 ms
ELECTION_TIMEOUT = TICK * ELECTION_TICKS
MAX_ENTRIES_PER_MSG = 4096


class Entry:
    """A raft log entry. `prop` is the client's proposal (None: a new leader's empty entry)."""

    __slots__ = ("term", "index", "prop", "serial")

    def __init__(self, term: int, index: int, prop: "Proposal | None", serial: int):
        self.term = term
        self.index = index
        self.prop = prop
        self.serial = serial


class Msg:
    __slots__ = ("type", "frm", "to", "term", "index", "log_term", "entries", "commit", "reject", "hint", "prop")

    def __init__(self, type: str, frm: str, to: str, term: int, index: int = 0, log_term: int = 0,
                 entries: list[Entry] | None = None, commit: int = 0, reject: bool = False, hint: int = 0,
                 prop: "Proposal | None" = None):
        self.type = type
        self.frm = frm
        self.to = to
        self.term = term
        self.index = index
        self.log_term = log_term
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.hint = hint
        self.prop = prop


class Progress:
    """tracker.Progress: what the leader knows of one follower's log."""

    __slots__ = ("match", "next", "probe", "probe_sent", "recent_active")

    def __init__(self, next_index: int):
        self.match = 0
        self.next = next_index
        self.probe = True          # StateProbe until the first successful append
        self.probe_sent = False
        self.recent_active = False


class RaftNode:
    """One etcd member's raft state machine (HardState term/vote + log persist across stop/start)."""

    def __init__(self, name: str, peers: list[str], cluster: "EtcdCluster"):
        self.name = name
        self.peers = [p for p in peers if p != name]
        self.quorum = len(peers) // 2 + 1
        self.c = cluster
        # persistent state (HardState + WAL)
        self.term = 0
        self.vote: str | None = None
        self.base_index = 0     # the index/term of the last entry folded into a snapshot (MemoryStorage's dummy entry)
        self.base_term = 0
        self.log: list[Entry] = []
        self.snap_index = 0     # the applied index of this member's last snapshot
        self.commit = 0
        self.applied = 0
        # volatile state
        self.state = FOLLOWER
        self.lead: str | None = None
        self.running = True
        self.started_at = 0.0
        self.epoch = 0              # bumped on stop: stale timers and in-flight fsyncs of a dead process do nothing
        self.heard_at = 0.0         # when electionElapsed was last reset
        self.rand_timeout = 0.0
        self.timer_due = -1.0       # when the pending election-timer callback fires (-1: none pending)
        self.votes: dict[str, bool] = {}
        self.prs: dict[str, Progress] = {}
        self.persisted = 0          # last index durably in this member's WAL (what it acknowledges)
        self.fsync_free_at = 0.0    # the WAL is sequential: the next fsync ends after the previous one
        self.check_elapsed = 0      # leader: ticks since the last CheckQuorum
        self.blocked: list["Proposal"] = []   # proposals waiting for a leader (raft node.propc is nil)
        self.lbusy = False          # leader: a Ready (send + WAL fsync) is in progress
        self.fbusy = False          # follower: a WAL fsync is in progress
        self.ack_pending: list | None = None  # follower: [term, leader, index] to acknowledge after the next fsync
        self.lead_elected_at = -1e9           # etcdserver leadElectedTime: when this member last saw a new leader

    # ---- log helpers -----------------------------------------------------------------------------
    def last_index(self) -> int:
        return self.base_index + len(self.log)

    def last_term(self) -> int:
        return self.log[-1].term if self.log else self.base_term

    def term_at(self, index: int) -> int | None:
        if index == self.base_index:
            return self.base_term
        if index < self.base_index or index > self.last_index():
            return None
        return self.log[index - self.base_index - 1].term

    def entry(self, index: int) -> Entry:
        return self.log[index - self.base_index - 1]

    def is_up_to_date(self, index: int, term: int) -> bool:
        lt = self.last_term()
        return term > lt or (term == lt and index >= self.last_index())

    # ---- scheduling helpers ----------------------------------------------------------------------
    def _later(self, delay: float, fn, *args: Any) -> None:
        epoch = self.epoch

        def run() -> None:
            if self.running and self.epoch == epoch:
                fn(*args)
        self.c.env.schedule(delay, run)

    def _fsync_delay(self) -> float:
        """When an append written now is durable: the WAL is sequential, so never before the previous one."""
        now = self.c.env.now
        done = max(now + self.c.rng.uniform(*self.c.fsync), self.fsync_free_at)
        self.fsync_free_at = done
        return done - now

    def _reset_election_timer(self) -> None:
        self.heard_at = self.c.env.now
        self._arm_timer()

    def _randomize(self) -> None:
        # resetRandomizedElectionTimeout: electionTimeout + rand.Intn(electionTimeout) ticks
        self.rand_timeout = TICK * (ELECTION_TICKS + self.c.rng.randrange(ELECTION_TICKS))

    def _arm_timer(self) -> None:
        if self.state == LEADER:
            return
        due = self.heard_at + self.rand_timeout
        if self.timer_due >= 0 and self.timer_due <= due:
            return  # the pending callback fires first and re-arms itself for the new due time
        self.timer_due = due
        self._later(max(due - self.c.env.now, 0.0), self._on_timer, due)

    def _on_timer(self, due: float) -> None:
        if due != self.timer_due:
            return  # superseded
        self.timer_due = -1.0
        if self.state == LEADER:
            return
        target = self.heard_at + self.rand_timeout
        if self.c.env.now + 1e-9 < target:
            self._arm_timer()
            return
        self.heard_at = self.c.env.now   # tickElection: electionElapsed = 0, then MsgHup
        self._hup()
        if self.state != LEADER:
            self._arm_timer()

    # ---- lifecycle ---------------------------------------------------------------------------------
    def boot_as_leader(self, term: int) -> None:
        """The state a running cluster is in when the scenario starts: this member leads `term`."""
        self.term = term
        self.vote = self.name
        self.state = LEADER
        self.lead = self.name
        self.prs = {p: Progress(self.last_index() + 1) for p in self.peers}
        for pr in self.prs.values():
            pr.match = self.last_index()
            pr.probe = False
            pr.recent_active = True
        if self.peers:
            self.check_elapsed = 0
            self._later(TICK, self._leader_tick, self.term)

    def boot_as_follower(self, term: int, lead: str | None) -> None:
        self.term = term
        self.vote = lead
        self.state = FOLLOWER
        self.lead = lead
        self._randomize()
        self._reset_election_timer()

    def stop(self) -> None:
        self.running = False
        self.epoch += 1
        self.timer_due = -1.0
        self.lead = None
        self.votes = {}
        self.blocked = []   # their clients lost the connection; they time out

    def start(self) -> None:
        """Restart with the persisted term, vote and log (raft.RestartNode); volatile state is rebuilt."""
        self.running = True
        self.started_at = self.c.env.now
        self.state = FOLLOWER
        self.lead = None
        self.prs = {}
        self.persisted = self.last_index()
        self.fsync_free_at = self.c.env.now
        self.lbusy = self.fbusy = False
        self.ack_pending = None
        self._randomize()
        # etcd --initial-election-tick-advance (default true): on boot the election ticks are fast-forwarded
        # (server.go adjustTicks: ElectionTicks-1 for a one-member cluster, ElectionTicks-2 when peers are up),
        # so a lone member elects itself within a tick or two instead of a full timeout.
        advance = ELECTION_TICKS - 1 if not self.peers else ELECTION_TICKS - 2
        self.heard_at = self.c.env.now - advance * TICK
        self._arm_timer()

    # ---- elections ---------------------------------------------------------------------------------
    def _hup(self) -> None:
        if self.state == LEADER:
            return
        # raft.go hup: a node with unapplied configuration changes would not campaign; none are modelled.
        self._campaign(pre=self.c.pre_vote)

    def _campaign(self, pre: bool) -> None:
        if pre:
            # becomePreCandidate: no term change, no vote change, lead forgotten, timeout not re-randomized.
            self.state = PRE_CANDIDATE
            self._lose_leader()
            vote_term = self.term + 1
        else:
            self._become_candidate()
            vote_term = self.term
        self.votes = {self.name: True}
        self.c.emit_election(self, pre, vote_term)
        if self._tally() == "won":
            self._win(pre)
            return
        kind = "prevote" if pre else "vote"
        for p in self.peers:
            self.c.send(Msg(kind, self.name, p, vote_term, index=self.last_index(), log_term=self.last_term()))

    def _become_candidate(self) -> None:
        self.term += 1
        self.vote = self.name
        self.state = CANDIDATE
        self._lose_leader()
        self._randomize()
        self.heard_at = self.c.env.now

    def _tally(self) -> str:
        granted = sum(1 for v in self.votes.values() if v)
        rejected = sum(1 for v in self.votes.values() if not v)
        if granted >= self.quorum:
            return "won"
        if rejected > len(self.peers) + 1 - self.quorum:
            return "lost"
        return "pending"

    def _win(self, pre: bool) -> None:
        if pre:
            self._campaign(pre=False)
        else:
            self._become_leader()

    def _become_leader(self) -> None:
        self.state = LEADER
        self.lead = self.name
        self.timer_due = -1.0
        self.heard_at = self.c.env.now
        self.lead_elected_at = self.c.env.now
        self.persisted = self.last_index()
        self.prs = {p: Progress(self.last_index() + 1) for p in self.peers}
        self.check_elapsed = 0
        self.c.on_leader(self)
        # becomeLeader: append an empty entry of the new term (committing it commits everything before it).
        self._append([None])
        self._flush_blocked()
        if self.peers:
            self._later(TICK, self._leader_tick, self.term)

    def _become_follower(self, term: int, lead: str | None) -> None:
        was_leader = self.state == LEADER
        if term != self.term:
            self.term = term
            self.vote = None
        self.state = FOLLOWER
        self.prs = {}
        self.votes = {}
        if was_leader:
            self.c.on_stepdown(self, "higher term")
        if lead is not None:
            self._set_leader(lead)
        else:
            self._lose_leader()
        self._randomize()
        self._reset_election_timer()

    def _set_leader(self, lead: str) -> None:
        if self.lead != lead:
            self.lead = lead
            self.lead_elected_at = self.c.env.now
            self._flush_blocked()

    def _lose_leader(self) -> None:
        self.lead = None

    # ---- proposals ---------------------------------------------------------------------------------
    def propose(self, prop: "Proposal") -> None:
        """node.Propose: blocks while this member knows no leader; a follower forwards to its leader."""
        if self.lead is None or self.state in (PRE_CANDIDATE, CANDIDATE):
            self.blocked.append(prop)
            return
        prop.accepted = True
        if self.state == LEADER:
            self._append([prop])
        else:
            self.c.send(Msg("prop", self.name, self.lead, self.term, prop=prop))

    def _flush_blocked(self) -> None:
        if not self.blocked or self.lead is None:
            return
        waiting, self.blocked = self.blocked, []
        for prop in waiting:
            if not prop.done:
                self.propose(prop)

    def _append(self, props: list) -> None:
        first = self.last_index() + 1
        for i, prop in enumerate(props):
            self.log.append(Entry(self.term, first + i, prop, self.c.next_serial()))
        if not self.peers:
            # One member: every append is its own WAL write; the WAL is sequential (fsync_free_at).
            self._later(self._fsync_delay(), self._leader_persisted, self.last_index(), self.term)
        elif not self.lbusy:
            self._ready()

    def _ready(self) -> None:
        """One iteration of etcd's raft loop (etcdserver/raft.go start: Ready -> send messages -> save to WAL
        -> Advance): the leader sends what is new to every follower while it writes it to its own WAL.
        Entries proposed while that fsync runs wait for the next Ready, so under load they go in batches."""
        self.lbusy = True
        last = self.last_index()
        for p in self.peers:
            self._send_append(p)
        self._later(self.c.rng.uniform(*self.c.fsync), self._ready_done, last, self.term)

    def _ready_done(self, last: int, term: int) -> None:
        self.lbusy = False
        if self.state != LEADER:
            return
        if self.term_at(last) == term and last > self.persisted:
            self.persisted = last
            self._maybe_commit()
        if self.last_index() > self.persisted:
            self._ready()

    def _leader_persisted(self, index: int, term: int) -> None:
        if self.term_at(index) != term:
            return
        self.persisted = max(self.persisted, index)
        if self.state == LEADER:
            self._maybe_commit()

    def _ack_after_fsync(self, to: str, lastnew: int) -> None:
        """A follower acknowledges appended entries only once they are in its WAL; entries arriving while an
        fsync runs are acknowledged together after the next one (one MsgAppResp per Ready)."""
        ack = self.ack_pending
        if ack is not None and ack[0] == self.term and ack[1] == to:
            if lastnew > ack[2]:
                ack[2] = lastnew
        else:
            self.ack_pending = [self.term, to, lastnew]
        if not self.fbusy:
            self._start_fsync()

    def _start_fsync(self) -> None:
        self.fbusy = True
        ack, self.ack_pending = self.ack_pending, None
        self._later(self.c.rng.uniform(*self.c.fsync), self._fsync_done, ack)

    def _fsync_done(self, ack: list) -> None:
        self.fbusy = False
        term, to, index = ack
        if term == self.term:
            self.c.send(Msg("app_resp", self.name, to, term, index=index))
        if self.ack_pending is not None:
            self._start_fsync()

    # ---- replication -------------------------------------------------------------------------------
    def _send_append(self, to: str, heartbeat_probe: bool = False) -> None:
        pr = self.prs.get(to)
        if pr is None or (pr.probe and pr.probe_sent):
            return
        last = self.last_index()
        if pr.next <= self.base_index:
            # The entries it needs were compacted: send the snapshot instead (raft.go maybeSendAppend -> MsgSnap).
            pr.probe = True
            pr.probe_sent = True
            self.c.emit_snapshot(self, to, self.base_index, self.base_term)
            self.c.send(Msg("snap", self.name, to, self.term, index=self.base_index, log_term=self.base_term,
                            commit=self.commit))
            return
        if pr.next > last and not pr.probe:
            return  # nothing new for a follower in StateReplicate
        prev = pr.next - 1
        hi = min(last, prev + MAX_ENTRIES_PER_MSG)
        ents = self.log[prev - self.base_index: hi - self.base_index]
        msg = Msg("app", self.name, to, self.term, index=prev, log_term=self.term_at(prev) or 0, entries=ents,
                  commit=self.commit)
        self.c.emit_append(self, to, msg, catch_up=pr.probe)
        if pr.probe:
            pr.probe_sent = True
        elif ents:
            pr.next = hi + 1   # optimistic: pipeline the next append
        self.c.send(msg)

    def report_unreachable(self, to: str) -> None:
        """MsgUnreachable (rafthttp could not deliver to `to`): an optimistic pipeline has probably lost a
        MsgApp, so the leader falls back to probing that follower from its last known match."""
        pr = self.prs.get(to)
        if pr is not None and not pr.probe:
            pr.probe = True
            pr.next = pr.match + 1
            pr.probe_sent = False

    def _maybe_commit(self) -> None:
        if self.prs:
            matches = sorted([self.persisted] + [pr.match for pr in self.prs.values()], reverse=True)
            q = matches[self.quorum - 1]
        else:
            q = self.persisted
        # Raft §5.4.2: only an entry of the leader's own term is committed by counting replicas.
        if q > self.commit and self.term_at(q) == self.term:
            old = self.commit
            self._commit_to(q)
            self.c.emit_commit(self, old, q)

    def _commit_to(self, index: int) -> None:
        index = min(index, self.last_index())
        if index <= self.commit:
            return
        self.commit = index
        while self.applied < self.commit:
            self.applied += 1
            self.c.apply(self, self.entry(self.applied))
        self.c.maybe_compact(self)

    # ---- leader tick -----------------------------------------------------------------------------
    def _leader_tick(self, term: int) -> None:
        if self.state != LEADER or self.term != term:
            return  # this chain belongs to an earlier leadership
        for p in self.peers:
            pr = self.prs[p]
            self.c.send(Msg("hb", self.name, p, self.term, commit=min(pr.match, self.commit)))
        self.check_elapsed += 1
        if self.check_elapsed >= ELECTION_TICKS:
            self.check_elapsed = 0
            self.heard_at = self.c.env.now   # tickHeartbeat resets electionElapsed here (the leader's lease)
            # MsgCheckQuorum: step down unless a quorum was recently active.
            active = 1 + sum(1 for pr in self.prs.values() if pr.recent_active)
            for pr in self.prs.values():
                pr.recent_active = False
            if active < self.quorum:
                self.c.on_stepdown(self, "check-quorum")
                self.state = FOLLOWER
                self.prs = {}
                self._lose_leader()
                self._randomize()
                self._reset_election_timer()
                return
        self._later(TICK, self._leader_tick, term)

    # ---- receiving ---------------------------------------------------------------------------------
    def step(self, m: Msg) -> None:
        if m.type == "prop":
            # MsgProp is a local message (term 0): no term checks. A leader appends it, a follower forwards
            # it to the leader it knows, anyone else drops it (ErrProposalDropped; the client times out).
            if self.state == LEADER:
                self._append([m.prop])
            elif self.state == FOLLOWER and self.lead is not None:
                self.c.send(Msg("prop", self.name, self.lead, self.term, prop=m.prop))
            return
        if m.term > self.term:
            if m.type in ("vote", "prevote"):
                in_lease = self.lead is not None and self.c.env.now - self.heard_at < ELECTION_TIMEOUT
                if in_lease:
                    return  # it heard from a leader within the election timeout: ignore, no reply
            if m.type == "prevote" or (m.type == "prevote_resp" and not m.reject):
                pass  # never change term for PreVote traffic
            elif m.type in ("app", "hb", "snap"):
                self._become_follower(m.term, m.frm)
            else:
                self._become_follower(m.term, None)
        elif m.term < self.term:
            if m.type in ("app", "hb"):
                # An old leader learns the new term from the reply (raft.go: with CheckQuorum/PreVote).
                self.c.send(Msg("app_resp", self.name, m.frm, self.term))
            elif m.type == "prevote":
                self._reply_vote(m, granted=False)
            return

        t = m.type
        if t in ("vote", "prevote"):
            can_vote = (self.vote == m.frm or (self.vote is None and self.lead is None)
                        or (t == "prevote" and m.term > self.term))
            if can_vote and self.is_up_to_date(m.index, m.log_term):
                self._reply_vote(m, granted=True)
                if t == "vote":
                    self.vote = m.frm
                    self._reset_election_timer()
            else:
                self._reply_vote(m, granted=False)
            return
        if self.state == LEADER:
            self._step_leader(m)
        elif self.state in (CANDIDATE, PRE_CANDIDATE):
            self._step_candidate(m)
        else:
            self._step_follower(m)

    def _reply_vote(self, m: Msg, granted: bool) -> None:
        kind = m.type + "_resp"
        self.c.emit_vote(self, m, granted)
        self.c.send(Msg(kind, self.name, m.frm, m.term if granted else self.term, reject=not granted))

    def _step_leader(self, m: Msg) -> None:
        pr = self.prs.get(m.frm)
        if pr is None:
            return
        if m.type == "app_resp":
            pr.recent_active = True
            if m.reject:
                if not pr.probe:
                    if m.index <= pr.match:
                        return  # stale
                    pr.probe = True
                    pr.next = pr.match + 1
                elif pr.next - 1 != m.index:
                    return  # stale rejection
                else:
                    pr.next = max(min(m.index, m.hint + 1), pr.match + 1, 1)
                pr.probe_sent = False
                self._send_append(m.frm)
                return
            if m.index > pr.match:
                pr.match = m.index
            if pr.next <= m.index:
                pr.next = m.index + 1
            if pr.probe:
                pr.probe = False
                pr.probe_sent = False
            self._maybe_commit()
            if pr.next <= self.last_index():
                self._send_append(m.frm)
        elif m.type == "hb_resp":
            pr.recent_active = True
            pr.probe_sent = False
            if pr.match < self.last_index():
                self._send_append(m.frm)

    def _step_candidate(self, m: Msg) -> None:
        t = m.type
        if t in ("app", "hb", "snap"):
            self._become_follower(m.term, m.frm)
            self._step_follower(m)
            return
        mine = "prevote_resp" if self.state == PRE_CANDIDATE else "vote_resp"
        if t == mine:
            self.votes.setdefault(m.frm, not m.reject)
            res = self._tally()
            if res == "won":
                self._win(self.state == PRE_CANDIDATE)
            elif res == "lost":
                self._become_follower(self.term, None)

    def _step_follower(self, m: Msg) -> None:
        t = m.type
        if t in ("app", "hb", "snap"):
            self._reset_election_timer()
            self._set_leader(m.frm)
        if t == "app":
            self._handle_append(m)
        elif t == "hb":
            self._commit_to(min(m.commit, self.last_index()))
            self.c.send(Msg("hb_resp", self.name, m.frm, self.term))
        elif t == "snap":
            self._handle_snapshot(m)

    def _handle_append(self, m: Msg) -> None:
        if m.index < self.commit:
            self.c.send(Msg("app_resp", self.name, m.frm, self.term, index=self.commit))
            return
        if self.term_at(m.index) != m.log_term:
            hint = min(m.index, self.last_index())
            self.c.send(Msg("app_resp", self.name, m.frm, self.term, index=m.index, reject=True, hint=hint))
            return
        ents = m.entries or []
        for e in ents:
            if e.index <= self.base_index:
                continue
            t = self.term_at(e.index)
            if t is None:
                self.log.append(e)
            elif t != e.term:
                # A conflicting suffix (written by a deposed leader, never committed): truncate and replace.
                if e.index <= self.commit:
                    raise AssertionError(f"{self.name}: would truncate committed entry {e.index}")
                del self.log[e.index - self.base_index - 1:]
                self.log.append(e)
        lastnew = m.index + len(ents)
        self._commit_to(min(m.commit, lastnew))
        if ents:
            self._ack_after_fsync(m.frm, lastnew)
        else:
            self.c.send(Msg("app_resp", self.name, m.frm, self.term, index=lastnew))

    def _handle_snapshot(self, m: Msg) -> None:
        if m.index <= self.commit:
            self.c.send(Msg("app_resp", self.name, m.frm, self.term, index=self.commit))
            return
        if self.term_at(m.index) == m.log_term:
            # raft.go restore: the log already holds the snapshot's last entry - just commit up to it.
            self._commit_to(m.index)
        else:
            # The state machine jumps to the snapshot (the shared store already holds it); the log restarts there.
            self.log = []
            self.base_index, self.base_term = m.index, m.log_term
            self.c.restore(self, m.index)
            self.commit = self.applied = self.snap_index = m.index
        self.c.send(Msg("app_resp", self.name, m.frm, self.term, index=m.index))

    def compact_to(self, index: int) -> None:
        """Drop log entries up to `index` (already applied): what a snapshot + raftStorage.Compact does."""
        if index <= self.base_index:
            return
        self.base_term = self.term_at(index) or self.base_term
        del self.log[: index - self.base_index]
        self.base_index = index
