"""Leader election with a Lease lock: client-go tools/leaderelection (leaderelection.go,
resourcelock/leaselock.go), as kube-controller-manager and kube-scheduler use it (v1.31 defaults:
--leader-elect-lease-duration 15s, --leader-elect-renew-deadline 10s, --leader-elect-retry-period 2s;
the Lease kube-system/kube-controller-manager or kube-system/kube-scheduler).

Every candidate runs the same loop. acquire: every retryPeriod (jittered by up to 1.2x, wait.JitterUntil)
it tries tryAcquireOrRenew: GET the Lease; if another identity holds it and the record was *observed*
to change less than leaseDuration ago (the candidate's own clock, not renewTime: clocks are not
trusted across machines), give up for now; otherwise write itself as holder with an update carrying
the read resourceVersion, so that of two candidates only one wins (the other gets 409 Conflict).
renew: the leader renews every retryPeriod; if it cannot renew for renewDeadline it stops leading
(OnStoppedLeading; the real binary then exits and is restarted - here it becomes a candidate again).

Identity: "<hostname>_<uuid>". A new leader records the Event LeaderElection "<identity> became leader"
on the Lease. Renewals are quiet requests (no trace events); acquiring is not.
"""
from __future__ import annotations

import inspect
from typing import Callable, Generator

from . import clock, ids

LEASE_DURATION = 15.0
RENEW_DEADLINE = 10.0
RETRY_PERIOD = 2.0
JITTER_FACTOR = 1.2   # leaderelection.JitterFactor


def _ok(resp) -> bool:
    return resp is not None and getattr(resp, "code", 500) < 400


def _call(fn, *args, quiet: bool = False, **kw):
    """Pass quiet=True when the client supports it (the contract's quiet requests)."""
    if quiet:
        try:
            params = inspect.signature(fn).parameters
            if "quiet" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
                kw["quiet"] = True
        except (TypeError, ValueError):
            pass
    return fn(*args, **kw)


class LeaderElector:
    """LeaderElector(env, rng, tracer, api, lock_name, identity, component): `api` is an API server (or
    the load balancer) - requests are sent with the component's credential - or a client with the
    contract's Client methods; `component` receives on_started_leading() / on_stopped_leading()."""

    def __init__(self, env, rng, tracer, api, lock_name: str, identity: str | None = None, component=None, *,
                 hostname: str | None = None, namespace: str = "kube-system", credential=None,
                 event_source: str | None = None,
                 on_started_leading: Callable[[], None] | None = None,
                 on_stopped_leading: Callable[[], None] | None = None,
                 on_new_leader: Callable[[str], None] | None = None,
                 lease_duration: float = LEASE_DURATION, renew_deadline: float = RENEW_DEADLINE,
                 retry_period: float = RETRY_PERIOD):
        self.env, self.rng, self.tracer = env, rng, tracer
        self.component = getattr(component, "COMPONENT", None) or ("scheduler" if lock_name == "kube-scheduler" else "controller-manager")
        self.instance = getattr(component, "instance", None) or f"{self.component}-1"
        who = getattr(component, "me", None) or {"component": self.component, "instance": self.instance}
        self._cache = api if hasattr(api, "handle") and hasattr(api, "get") else None
        if hasattr(api, "handle"):
            from .apiserver import Credential
            from .controllers.apiclient import ApiClient
            cred = credential or getattr(component, "credential", None) or Credential.x509(f"system:{lock_name}")
            self.client = ApiClient(api, cred, who)
        else:
            self.client = api
        self.lock_name, self.namespace = lock_name, namespace
        self.host = hostname or getattr(component, "node", None) or "control-plane"
        self.identity = identity or f"{self.host}_{ids.uid(rng)}"
        self.restarts = 0
        self.event_source = event_source or lock_name
        self.on_started_leading = on_started_leading or getattr(component, "on_started_leading", None) or (lambda: None)
        self.on_stopped_leading = on_stopped_leading or getattr(component, "on_stopped_leading", None) or (lambda: None)
        self.on_new_leader = on_new_leader or (lambda _i: None)
        self.lease_duration, self.renew_deadline, self.retry_period = lease_duration, renew_deadline, retry_period
        self.leading = False
        self.running = False
        self.observed_record: dict | None = None
        self.observed_time = 0.0
        self.observed_rv: str | None = None
        self.reported_leader: str | None = None
        self._gen = 0
        self._last_event_ns = 0
        self._lease_meta: dict = {}
        self._resumed = False

    # -- lifecycle --
    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self._gen += 1
        if self._gen > 1:
            # A restarted process: kube-scheduler and kube-controller-manager make their identity from the
            # hostname and a fresh UUID at every start (cmd/kube-scheduler/app/server.go, controllermanager.go:
            # id = hostname + "_" + string(uuid.NewUUID())), so the Lease the old process held is someone
            # else's now - the new one waits for it to expire (or a standby takes it), as a real restart does.
            self.restarts += 1
            self.identity = f"{self.host}_{ids.uid(self.rng)}"
            self.observed_record, self.observed_time, self.observed_rv = None, 0.0, None
        elif self._cache is not None and not self.leading:
            # A cluster that was running before the scenario: if the Lease (as the API server has it) is
            # held by this very identity, this instance is the sitting leader - it leads at once and only
            # keeps renewing (its informers were synced long ago; no new Event).
            from .apiserver import registry
            lease = self._cache.get(registry.key("leases", self.namespace, self.lock_name))
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                self._observe(lease)
                self.leading = True
                self.reported_leader = self.identity
                self.on_started_leading()
        self.env.process(self._run(self._gen))

    def stop(self) -> None:
        """The process is gone: no more renewals (the Lease expires by itself; ReleaseOnCancel is off
        in kube-controller-manager and kube-scheduler)."""
        self.running = False
        self._gen += 1
        if self.leading:
            self.leading = False
            self.on_stopped_leading()

    def is_leader(self) -> bool:
        return self.leading

    def _alive(self, gen: int) -> bool:
        return self.running and gen == self._gen

    def _jittered(self) -> float:
        return self.retry_period * (1 + self.rng.random() * JITTER_FACTOR)

    def _run(self, gen: int) -> Generator:
        sitting = self.leading
        while self._alive(gen):
            # acquire
            while self._alive(gen) and not sitting:
                got = yield from self._try_acquire_or_renew(gen, renewing=False)
                if got:
                    break
                yield self._jittered()
            if not self._alive(gen):
                return
            if sitting:
                sitting = False   # already leading since start(): on_started_leading was called there
            else:
                self.leading = True
                # (A lease this identity already held is simply renewed: it became leader, with its
                # Event, earlier.)
                if not self._resumed:
                    self._emit("acquired", f"{self.identity} became leader ({self.namespace}/{self.lock_name})")
                    self._record_event()
                self.on_started_leading()
            # renew
            last_renew = self.env.now
            while self._alive(gen):
                yield self.retry_period
                if not self._alive(gen):
                    return
                got = yield from self._try_acquire_or_renew(gen, renewing=True)
                if got:
                    last_renew = self.env.now
                elif self.env.now - last_renew >= self.renew_deadline or self._held_by_other():
                    break
            if not self._alive(gen):
                return
            self.leading = False
            self._emit("lost", f"{self.identity} lost the lease {self.namespace}/{self.lock_name}")
            self.on_stopped_leading()

    def _held_by_other(self) -> bool:
        rec = self.observed_record or {}
        return bool(rec.get("holderIdentity")) and rec.get("holderIdentity") != self.identity and \
            self.env.now < self.observed_time + self.lease_duration

    def _try_acquire_or_renew(self, gen: int, renewing: bool) -> Generator:
        now = self.env.now
        desired = {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                   "acquireTime": clock.rfc3339_micro(now), "renewTime": clock.rfc3339_micro(now),
                   "leaseTransitions": 0}
        resp = yield _call(self.client.get, "leases", self.lock_name, namespace=self.namespace, quiet=True)
        if not self._alive(gen):
            return False
        if resp is not None and getattr(resp, "code", 0) == 404:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.lock_name, "namespace": self.namespace}, "spec": desired}
            resp = yield self.client.create("leases", body, namespace=self.namespace)
            if not _ok(resp):
                return False
            self._observe(resp.body)
            self._resumed = False
            return True
        if not _ok(resp):
            return False
        lease = resp.body
        rec = lease.get("spec") or {}
        if self.observed_record != rec:
            self._observe(lease)
        holder = rec.get("holderIdentity") or ""
        if holder and holder != self.identity and now < self.observed_time + self.lease_duration:
            if self.reported_leader != holder:
                self.reported_leader = holder
                self.on_new_leader(holder)
            return False
        self._resumed = holder == self.identity and not self.leading
        if holder == self.identity:
            desired["acquireTime"] = rec.get("acquireTime", desired["acquireTime"])
            desired["leaseTransitions"] = rec.get("leaseTransitions", 0)
        else:
            desired["leaseTransitions"] = rec.get("leaseTransitions", 0) + 1
        body = dict(lease)
        body["spec"] = desired
        # A renewal by the holder is a quiet heartbeat; a takeover is a state change, never quiet.
        resp = yield _call(self.client.update, "leases", body, namespace=self.namespace,
                           quiet=(holder == self.identity))
        if not self._alive(gen):
            return False
        if not _ok(resp):
            return False   # 409 Conflict: someone else wrote first
        self._observe(resp.body)
        if self.reported_leader != self.identity:
            self.reported_leader = self.identity
            self.on_new_leader(self.identity)
        return True

    def _observe(self, lease: dict) -> None:
        self.observed_record = dict(lease.get("spec") or {})
        self.observed_time = self.env.now
        self.observed_rv = (lease.get("metadata") or {}).get("resourceVersion")
        self._lease_meta = lease.get("metadata") or {}

    def _emit(self, action: str, summary: str) -> None:
        self.tracer.emit(self.component, self.instance, "leaderelection",
                         summary, {"lease": f"{self.namespace}/{self.lock_name}", "holder": self.identity,
                                   "action": action})

    def _record_event(self) -> None:
        """LeaseLock.RecordEvent: Normal LeaderElection "<identity> became leader" on the Lease."""
        m = getattr(self, "_lease_meta", {}) or {}
        nanos = max(clock.unix_nano(self.env.now), self._last_event_ns + 1)
        self._last_event_ns = nanos
        ts = clock.rfc3339(self.env.now)
        ev = {"kind": "Event", "apiVersion": "v1",
              "metadata": {"name": f"{self.lock_name}.{nanos:x}", "namespace": self.namespace},
              "involvedObject": {"kind": "Lease", "namespace": self.namespace, "name": self.lock_name,
                                 "uid": m.get("uid", ""), "apiVersion": "coordination.k8s.io/v1",
                                 "resourceVersion": m.get("resourceVersion", "")},
              "reason": "LeaderElection", "message": f"{self.identity} became leader",
              "source": {"component": self.event_source}, "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
              "type": "Normal", "eventTime": None, "reportingComponent": self.event_source, "reportingInstance": ""}
        self.client.create("events", ev, namespace=self.namespace)
