"""The worker side of a run: drive the simulator, pace it, log it, announce its status.

Safe to run twice, and never twice at once: an execution first takes the run's lock (runlog.RunLock, a
lease it renews as it goes), and every append is fenced by it, so a second execution - a duplicate message,
or one started while the first still runs - refuses to start or stops before writing. Events are appended
under their seq (a duplicate append is refused by Redis) and archived under a unique (run, seq).

A worker killed mid-run (SIGKILL, the OOM killer) leaves the run `running` with a lease nobody renews.
Every worker's reaper (started on worker_ready) notices the lapsed lease and enqueues the run again; the new
execution regenerates the deterministic simulation, skips what the log already holds and continues after
the last logged event. This happens at most MAX_RESUMES times per run; after that the run is marked failed
with the reason, so a run that kills its worker cannot be re-run forever.

Cancelling is cooperative (a control message checked between events); nothing here is ever revoked with
terminate.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid

from celery import shared_task
from celery.signals import worker_init, worker_ready
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Max
from django.utils import timezone

from . import runlog
from .models import Run, RunEvent
from .runs import classroom_group, run_group, status_message

log = logging.getLogger(__name__)

# Speed name -> factor of virtual seconds per wall second; None = as fast as possible.
SPEEDS = {"0.25": 0.25, "0.5": 0.5, "1": 1.0, "2": 2.0, "4": 4.0, "max": None}
SNAPSHOT_EVERY = 500
# Waits shorter than this are slept through; longer ones wait on the control list, so a pause or cancel
# during a long virtual gap (an image pull) takes effect at once.
SHORT_WAIT = 0.05
# Simulated time compressed: a stretch of more than QUIET_GAP_S virtual seconds in which nothing happens
# (a Pod's 300 s toleration of an unreachable node, the 40 s node-monitor grace period) passes in
# QUIET_WALL_S wall seconds at 1x (less when faster); the page's clock jumps, and the narration says so.
# Shorter gaps - an image pull, a Lease expiring - keep their real length.
QUIET_GAP_S = 20.0
QUIET_WALL_S = 3.0
# The run lock's lease is settings.DASHBOARD_RUN_LEASE seconds. It is renewed by every append and every pass
# of a wait, and waits block at most a third of it. A key's expiry is an absolute time, kept across a Redis
# restart; should a lease lapse during an outage anyway, the reaper starts a replacement and the fenced
# appends let exactly one of the two go on.

# How often each worker's reaper looks for runs whose lease has lapsed (at most this).
REAP_EVERY_S = 5.0
# Executions of one run after the first, at most; then the run fails (bounded redelivery).
MAX_RESUMES = 3
# Runs written by the kubeapi process, not by a worker (simulator/live.py SCENARIO_ID).
LIVE_SCENARIO = "live-cluster"


# A `scale` run this large (nodes or pods) runs with the garbage collector tuned for the simulator's heap, as
# `python -m simulator` runs every scenario: with CPython's defaults a 5,000-node run spends ~40% of its CPU
# in the cyclic collector rescanning a live heap that holds almost no cycles. Smaller runs keep the defaults.
GC_TUNE_MIN_NODES = 1000
GC_TUNE_MIN_PODS = 10000


def _gc_scope(run):
    """simulator.kernel.gc_tuned_for_scale() for a large run, else nothing. The worker lives on after the
    run, so the tuning is undone when the run ends (thresholds restored, gc.unfreeze, one full collection):
    the next task - and this run's cluster, now garbage - meet the collector's defaults again."""
    import contextlib
    params = run.params if isinstance(run.params, dict) else {}
    try:
        large = run.scenario == "scale" and (int(params.get("nodes") or 0) >= GC_TUNE_MIN_NODES
                                             or int(params.get("pods") or 0) >= GC_TUNE_MIN_PODS)
    except (TypeError, ValueError):
        large = False
    if not large:
        return contextlib.nullcontext()
    from simulator.kernel import gc_tuned_for_scale
    return gc_tuned_for_scale()


@worker_init.connect
def preload_simulator(**kwargs) -> None:
    """Import the simulator in the worker's main process, before the pool forks its children: otherwise each
    child paid the import (~0.7 s) on its first run, and the first event of that run came late."""
    try:
        import simulator.runner  # noqa: F401
        import simulator.scenarios  # noqa: F401
        import simulator.state  # noqa: F401
    except Exception:
        log.exception("could not preload the simulator; each run imports it itself")


@shared_task(name="dashboard.tasks.execute_run", ignore_result=True)
def execute_run(run_id: str) -> None:
    # Acknowledged on receipt (acks_late off): recovery of a run whose worker died is the reaper's job
    # (lease lapsed -> enqueue again), not the broker's. See CELERY_TASK_ACKS_LATE in settings.
    try:
        rid = uuid.UUID(str(run_id))
    except ValueError:
        log.warning("execute_run: malformed run id %r", run_id)
        return
    r = runlog.worker_client()
    lock = runlog.RunLock(rid, settings.DASHBOARD_RUN_LEASE, r)
    if not lock.acquire():
        log.info("execute_run: run %s is being executed elsewhere", rid.hex)
        return
    try:
        run = Run.objects.filter(id=rid).first()
        if run is None or run.status in Run.FINISHED:
            return
        resuming = run.status != Run.QUEUED
        if not resuming:
            claimed = Run.objects.filter(id=rid, status=Run.QUEUED).update(status=Run.RUNNING,
                                                                           started_at=timezone.now())
            if not claimed:  # cancelled while queued, just now
                return
        try:
            execution = RunExecution(Run.objects.select_related("created_by").get(id=rid), lock)
        except Exception as exc:
            # Not even started (e.g. the simulator failed to import): do not leave the run "running".
            log.exception("run %s could not start", rid.hex)
            Run.objects.filter(id=rid).update(status=Run.FAILED, finished_at=timezone.now(),
                                              error=f"{type(exc).__name__}: {exc}"[:2000])
            return
        if not resuming:
            with _gc_scope(execution.run):
                execution.execute()
            return
        if run.scenario == LIVE_SCENARIO:
            # Its lease lapsed: the kubeapi process that ran the cluster is gone, and the cluster with it.
            execution.give_up("the live cluster's process (manage.py kubeapi) stopped; its cluster lived only "
                              "in that process")
            return
        if run.backend == "api":
            # A real cluster moved on while nobody watched: the run cannot be regenerated, only ended.
            from .realcluster.run import clean_up_after

            clean_up_after(rid.hex)
            execution.give_up("the worker running this scenario on the real cluster stopped; a real cluster "
                              "cannot be replayed, so the run ends here (its namespace was deleted)")
            return
        # We hold the lock of a run that is running or paused: its previous execution died.
        resumes = r.hincrby(runlog.meta_key(rid), "resumes", 1)
        if resumes > MAX_RESUMES:
            execution.give_up(f"the worker executing this run stopped {resumes} times (at most "
                              f"{MAX_RESUMES} restarts); giving up")
        else:
            log.warning("run %s: its worker died; resuming (restart %d of at most %d)", rid.hex, resumes,
                        MAX_RESUMES)
            with _gc_scope(execution.run):
                execution.execute(resume=True)
    finally:
        try:
            lock.release()
        except Exception:
            log.exception("run %s: could not release the lock (its lease will lapse)", rid.hex)


def reap_orphans() -> int:
    """Enqueue again every run that is running or paused with nobody holding its lease (its worker died).

    Several workers may reap at once: a marker per lease period lets one enqueue, and the lock lets one
    execution proceed. A run that finishes writes its final status before releasing its lock, so a live or
    finishing execution is never taken for dead.
    """
    r = runlog.worker_client()
    count = 0
    for rid in Run.objects.filter(status__in=(Run.RUNNING, Run.PAUSED)).values_list("id", flat=True):
        if runlog.lock_held(rid, r):
            continue
        if not r.set(f"run:{rid.hex}:reaped", "1", nx=True, ex=settings.DASHBOARD_RUN_LEASE):
            continue
        log.warning("run %s: no execution holds its lease; enqueueing it again", rid.hex)
        execute_run.delay(rid.hex)
        count += 1
    return count


def _reaper() -> None:
    while True:
        try:
            reap_orphans()
        except Exception:
            log.exception("reaper: pass failed (will try again)")
        finally:
            close_old_connections()
        time.sleep(min(REAP_EVERY_S, settings.DASHBOARD_RUN_LEASE / 2))


@worker_ready.connect
def start_reaper(**kwargs) -> None:
    """Each worker's main process watches for orphaned runs, at once on start and then periodically, and
    answers the real cluster preflight (dashboard/realcluster/preflight.py)."""
    threading.Thread(target=_reaper, name="run-reaper", daemon=True).start()
    from .realcluster import preflight

    preflight.start()


class ChannelSender:
    """Group sends from this synchronous task over one private event loop.

    channels_redis keeps a connection pool per event loop; reusing one loop for the whole run reuses its
    connections (async_to_sync would open a fresh loop, and so fresh connections, per message).
    """

    def __init__(self):
        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()

    def send(self, group: str, message: dict) -> None:
        try:
            self.loop.run_until_complete(self.layer.group_send(group, message))
        except Exception:
            # A lost status message is covered by the consumers' status check; never fail a run over it.
            log.exception("group_send to %s failed", group)

    def close(self) -> None:
        self.loop.close()  # channels_redis flushes this loop's connections on close


class RunExecution:
    def __init__(self, run: Run, lock: runlog.RunLock):
        from simulator import state as sim_state

        self.run = run
        self.lock = lock
        self.hex = run.id.hex
        self.group = run_group(run.id)
        self.r = lock.r
        self.last_renewed = time.monotonic()
        self.max_block = settings.DASHBOARD_RUN_LEASE / 3  # no wait may outlast the lease's renewal
        self.sender = ChannelSender()
        self.state_mod = sim_state
        self.state = sim_state.initial()
        self.last_seq = 0
        self.last_t = 0.0
        self.pending: list[dict] = []  # appended to the stream, not yet archived to the DB
        self.snapshot_every = max(1, min(SNAPSHOT_EVERY, settings.DASHBOARD_LOG_MAXLEN // 2))
        # Control state.
        self.speed = self.pace(run.speed)
        self.step_mode = run.step_mode
        self.stop_at_checkpoint = False
        self.paused = False
        self.cancel_by: str | None = None
        self.checkpoints = 0
        # Pacing: wall time follows anchor_wall + (t - anchor_t) / speed; re-anchored on resume and speed change.
        self.anchor_t = 0.0
        self.anchor_wall = time.monotonic()
        self.paused_at_t = 0.0

    # -- the loop -----------------------------------------------------------------------------------

    def execute(self, resume: bool = False) -> None:
        # Pessimistic until the loop has run to its end: if the process is stopped under us (SystemExit
        # from a SIGTERM in the pool child), `finally` must not record a success.
        outcome, error = Run.FAILED, "the worker stopped during the run"
        events = None
        try:
            events = self.source()
            logged = runlog.last_logged_seq(self.hex, r=self.r) if resume else 0
            if logged:
                self.replay(events, logged)
            status = Run.PAUSED if self.paused else Run.RUNNING
            runlog.set_meta(self.hex, r=self.r, status=status, paused=int(self.paused), speed=self.run.speed,
                            last_seq=self.last_seq)
            self.announce()
            self.anchor(self.last_t)
            for ev in events:
                if ev is None:
                    # A real cluster's run waiting for the cluster: honour the controls meanwhile.
                    if self.wait_turn(self.last_t):
                        break
                    continue
                checkpoint = ev.get("type") == "scenario.step"
                if checkpoint:
                    # Step mode holds before every checkpoint after the first (contract section 6).
                    if self.checkpoints and (self.step_mode or self.stop_at_checkpoint):
                        self.stop_at_checkpoint = False
                        self.set_paused(True)
                    self.checkpoints += 1
                    if self.last_seq:
                        self.snapshot()  # the state just before step n begins
                if self.wait_turn(ev["t"]):
                    break
                self.emit(ev)
            outcome, error = Run.SUCCEEDED, ""
            if self.cancel_by is not None:
                outcome = Run.CANCELLED
                self.emit(self.worker_event("run.cancelled", f"Run cancelled by {self.cancel_by or 'unknown'}",
                                            {"by": self.cancel_by}))
        except runlog.LockLost:
            # Another execution owns the run now (ours stalled past its lease): it writes the rest.
            log.warning("run %s: lost the run lock; this execution stops", self.hex)
            outcome = None
        except Exception as exc:
            from .realcluster.connect import ClusterUnavailable

            if isinstance(exc, ClusterUnavailable):
                # Its message is a fixed sentence without anything from the kubeconfig; no traceback logged
                # (the client's exceptions quote addresses and headers).
                log.warning("run %s failed on the real cluster: %s", self.hex, exc)
                outcome, error = Run.FAILED, f"real cluster: {exc}"[:2000]
            else:
                log.exception("run %s failed", self.hex)
                outcome, error = Run.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
            self.log_failure(error)
        except BaseException:
            # The worker is being stopped (SIGTERM, Ctrl-C): end the log honestly, then let it stop.
            self.log_failure(error)
            raise
        finally:
            if events is not None:
                events.close()
            if outcome is not None:
                self.finish(outcome, error)
            else:
                self.sender.close()

    def pace(self, speed: str | None) -> float | None:
        """Virtual seconds per wall second for a speed name; None = unpaced. A real cluster's run (backend
        `api`) is never paced: its events come when the cluster makes them (pause still holds them)."""
        return None if self.run.backend == "api" else SPEEDS.get(speed)

    def source(self):
        """The run's events: the simulator's, or (backend `api`) a real cluster's, None while it waits."""
        if self.run.backend == "api":
            from .realcluster.connect import connect
            from .realcluster.run import ApiRun

            return ApiRun(self.hex, self.run.scenario, self.run.params, self.run.seed, connect()).events()
        from simulator.runner import Simulation

        sim = Simulation(self.run.scenario, params=self.run.params, seed=self.run.seed, run_id=self.hex)
        return sim.events()

    def replay(self, events, logged: int) -> None:
        """Resume: fold the regenerated events the log already holds (1..logged) without sending them.

        The simulation is deterministic (same seed, same inputs), so it reproduces them; the last one is
        compared with the log to be sure before anything new is appended after it.
        """
        archived = RunEvent.objects.filter(run_id=self.run.id).aggregate(m=Max("seq"))["m"] or 0
        ev = None
        for ev in events:
            self.state = self.state_mod.apply(self.state, ev)
            self.last_seq, self.last_t = ev["seq"], ev["t"]
            if ev["seq"] > archived:
                self.pending.append(ev)  # logged, not yet archived
            if ev.get("type") == "scenario.step":
                self.checkpoints += 1
            if ev["seq"] == logged:
                break
        stored = runlog.read_since(self.hex, logged - 1, 1)
        if self.last_seq != logged or stored != [ev]:
            raise RuntimeError(f"cannot resume: the simulation did not reproduce logged event {logged}")
        # A paused run stays paused; a step-mode run holds at its next checkpoint as before.
        self.paused = self.run.status == Run.PAUSED
        self.paused_at_t = self.last_t

    def give_up(self, reason: str) -> None:
        """Too many restarts: fold what the log holds, end it with run.failed, and mark the run failed.

        The simulator is not run again (it may be what kills the worker)."""
        log.error("run %s: %s", self.hex, reason)
        try:
            for ev in runlog.read_stream(self.hex):
                self.state = self.state_mod.apply(self.state, ev)
                self.pending.append(ev)
                self.last_seq, self.last_t = ev["seq"], ev["t"]
            self.log_failure(reason)
        finally:
            self.finish(Run.FAILED, reason)

    def log_failure(self, error: str) -> None:
        try:
            self.emit(self.worker_event("run.failed", f"Run failed: {error}"[:300], {"error": error}))
        except Exception:
            log.exception("run %s: could not log run.failed", self.hex)

    def worker_event(self, type_: str, summary: str, data: dict) -> dict:
        """An event the worker adds itself (schema v1, key order as in the contract)."""
        return {"v": 1, "run": self.hex, "seq": self.last_seq + 1, "t": self.last_t, "component": "scenario",
                "instance": "scenario", "type": type_, "summary": summary, "data": data}

    def emit(self, ev: dict) -> None:
        self.state = self.state_mod.apply(self.state, ev)
        if not runlog.append(self.hex, ev, r=self.r, lock=self.lock):
            # Under the lock only this execution appends, after the last logged seq: a refused seq means
            # the log and this execution disagree, and continuing would hide that.
            raise RuntimeError(f"event {ev['seq']} was already in the log")
        self.last_renewed = time.monotonic()
        self.pending.append(ev)
        self.last_seq, self.last_t = ev["seq"], ev["t"]
        if self.last_seq % self.snapshot_every == 0:
            self.snapshot()

    def snapshot(self) -> None:
        """Latest snapshot to Redis; the events so far to the DB archive; last_seq to the row."""
        runlog.store_snapshot(self.hex, self.last_seq, self.state, r=self.r)
        runlog.archive_events(self.hex, self.pending)
        self.pending = []
        Run.objects.filter(id=self.run.id).update(last_seq=self.last_seq)
        runlog.set_meta(self.hex, r=self.r, last_seq=self.last_seq)

    # -- control and pacing ---------------------------------------------------------------------------

    def wait_turn(self, t: float) -> bool:
        """Honour controls and pacing until the event at virtual time t may go out. True = cancelled."""
        for message in runlog.pop_controls(self.hex, r=self.r):
            self.handle(message)
        self.keep_lease()
        if self.speed is not None and not self.paused and t - self.last_t > QUIET_GAP_S:
            # Fast-forward: this event goes out QUIET_WALL_S (at 1x) after the previous one was due, not
            # t - last_t later; the events after it keep their pace from there.
            prev_due = self.anchor_wall + (self.last_t - self.anchor_t) / self.speed
            self.anchor_t, self.anchor_wall = t, prev_due + QUIET_WALL_S / self.speed
        while True:
            self.keep_lease()
            if self.cancel_by is not None:
                return True
            if self.paused:
                message = runlog.wait_control(self.hex, self.max_block, r=self.r)
                if message:
                    self.handle(message)
                continue
            if self.speed is None:
                return False
            delay = self.anchor_wall + (t - self.anchor_t) / self.speed - time.monotonic()
            if delay <= 0:
                return False
            if delay < SHORT_WAIT:
                time.sleep(delay)
                return False
            message = runlog.wait_control(self.hex, min(delay, self.max_block), r=self.r)
            if message:
                self.handle(message)

    def keep_lease(self) -> None:
        """Renew the run lock when nothing was appended for a while (paused, paced, waiting)."""
        if time.monotonic() - self.last_renewed > 1.0:
            self.lock.renew()
            self.last_renewed = time.monotonic()

    def handle(self, message: dict) -> None:
        action = message.get("action")
        if action == "pause":
            if not self.paused:
                self.set_paused(True)
        elif action == "resume":
            if self.paused:
                self.set_paused(False)
        elif action == "step":
            # Run to the next checkpoint and hold there.
            self.stop_at_checkpoint = True
            if self.paused:
                self.set_paused(False)
        elif action == "speed" and message.get("speed") in SPEEDS:
            now_t = self.virtual_now()
            self.speed = self.pace(message["speed"])
            self.run.speed = message["speed"]
            if self.paused:
                self.paused_at_t = now_t
            else:
                self.anchor(now_t)
            Run.objects.filter(id=self.run.id).update(speed=self.run.speed)
            runlog.set_meta(self.hex, r=self.r, speed=self.run.speed)
            self.announce()
        elif action == "cancel":
            self.cancel_by = str(message.get("by") or "")
        else:
            log.warning("run %s: ignoring control %r", self.hex, message)

    def virtual_now(self) -> float:
        if self.paused:
            return self.paused_at_t
        if self.speed is None:
            return self.last_t
        return max(self.last_t, self.anchor_t + (time.monotonic() - self.anchor_wall) * self.speed)

    def anchor(self, t: float) -> None:
        self.anchor_t, self.anchor_wall = t, time.monotonic()

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.paused_at_t = self.virtual_now()
            self.paused = True
        else:
            self.paused = False
            self.anchor(self.paused_at_t)
        status = Run.PAUSED if paused else Run.RUNNING
        Run.objects.filter(id=self.run.id, status__in=Run.ACTIVE).update(status=status, last_seq=self.last_seq)
        runlog.set_meta(self.hex, r=self.r, status=status, paused=int(paused), last_seq=self.last_seq)
        self.announce()

    # -- the end ----------------------------------------------------------------------------------------

    def finish(self, outcome: str, error: str) -> None:
        try:
            runlog.store_snapshot(self.hex, self.last_seq, self.state, r=self.r)
            runlog.archive_events(self.hex, self.pending)
            self.pending = []
            runlog.archive_snapshot(self.hex, self.last_seq, self.state)
            runlog.set_meta(self.hex, r=self.r, status=outcome, paused=0, last_seq=self.last_seq)
            runlog.expire_run(self.hex, r=self.r)
        except Exception:
            log.exception("run %s: archiving failed", self.hex)
            if outcome != Run.FAILED:
                outcome, error = Run.FAILED, "archiving failed"
        finally:
            Run.objects.filter(id=self.run.id).update(status=outcome, finished_at=timezone.now(),
                                                      last_seq=self.last_seq, error=error)
            self.announce()
            self.sender.close()

    def announce(self) -> None:
        run = Run.objects.select_related("created_by").get(id=self.run.id)
        message = status_message(run)
        self.sender.send(self.group, message)
        self.sender.send(classroom_group(), message)
