"""The live cluster as a run on the dashboard: its trace events go to a Run's log like a scenario's do.

The `kubeapi` process (manage.py kubeapi) creates one Run of scenario `live-cluster` when it starts and
writes every event the cluster emits (students' kubectl requests through the API server, etcd, scheduler,
kubelets) with the worker's own code path (tasks.RunExecution: the fenced append under the run's lock,
snapshots, the DB archive), so viewers follow it with the same live protocol. It holds the run's lock for as
long as it lives; when it stops, the run ends. If it dies, the lease lapses and the worker's reaper marks the
run failed (tasks.execute_run knows a live cluster cannot be resumed elsewhere).

All of this is synchronous Django and redis-py; the kubeapi loop calls it on one thread of its own.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from simulator.live import SCENARIO_ID

from .. import runlog
from ..models import Run

log = logging.getLogger(__name__)


class LiveRun:
    def __init__(self, seed: int):
        from ..tasks import RunExecution

        user = get_user_model().objects.filter(username=settings.DASHBOARD_INSTRUCTOR_USER).first()
        self.run = Run.objects.create(scenario=SCENARIO_ID, backend="sim", params={}, speed="1", seed=seed,
                                      status=Run.RUNNING, started_at=timezone.now(), created_by=user)
        lock = runlog.RunLock(self.run.id, settings.DASHBOARD_RUN_LEASE, runlog.worker_client())
        if not lock.acquire():  # a fresh run id: nobody else can hold it
            raise RuntimeError(f"run {self.run.id.hex}: could not take its lock")
        self.execution = RunExecution(self.run, lock)
        self.hex = self.run.id.hex
        runlog.set_meta(self.hex, r=lock.r, status=Run.RUNNING, paused=0, speed="1", last_seq=0)
        self.execution.announce()
        self.finished = False

    def publish(self, events: list[dict]) -> None:
        for ev in events:
            self.execution.emit(ev)
        self.execution.keep_lease()

    def keep_lease(self) -> None:
        self.execution.keep_lease()

    def finish(self, error: str = "") -> None:
        """The cluster stopped: archive what is left and end the run (failed, with `error`, if it crashed)."""
        if self.finished:
            return
        self.finished = True
        outcome = Run.FAILED if error else Run.SUCCEEDED
        if error:
            self.execution.log_failure(error)
        try:
            self.execution.finish(outcome, error)
        finally:
            try:
                self.execution.lock.release()
            except Exception:
                log.exception("live run %s: could not release its lock (the lease will lapse)", self.hex)
