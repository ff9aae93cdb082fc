"""A live cluster: the simulated cluster kept running against the wall clock, taking requests as they come.

A scenario run is a pure generator (runner.Simulation). The live cluster is the other way round: clients
(kubectl through dashboard/kubeapi, the dashboard's `api` backend) send requests at wall-clock moments, and
the cluster's components (scheduler, controllers, kubelets, leases) go on between them. Virtual time is
the seconds since the cluster started (times `speed`), so a Pod's AGE in `kubectl get` is true.

Single-threaded by contract: one owner (an asyncio loop) calls `advance()` before and after handing in
requests, and waits `until_next()` seconds between. Nothing here does I/O, sleeps or reads the wall clock
(the owner passes its clock in).
"""
from __future__ import annotations

import datetime as _dt
from typing import Callable

from . import clock
from .cluster import Cluster, NodeSpec
from .kernel import Future
from .runner import emit_started

SCENARIO_ID = "live-cluster"


class LiveCluster:
    def __init__(self, seed: int, run_id: str, topology: list[NodeSpec] | None = None, *,
                 wall: Callable[[], float], epoch: _dt.datetime, speed: float = 1.0):
        """`wall`: a monotonic clock in seconds (time.monotonic); `epoch`: the wall-clock moment of virtual
        second 0. Both come from the caller: the simulator itself never reads the wall clock."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        # Object timestamps count from the epoch (a live cluster's objects must not look two years old).
        clock.set_epoch(epoch)
        self.cluster = Cluster(seed, run_id, topology)
        self.wall, self.speed = wall, speed
        self.started = wall()
        emit_started(self.cluster, SCENARIO_ID, seed, {})

    @property
    def env(self):
        return self.cluster.env

    def now(self) -> float:
        """Virtual time that has come by the wall clock."""
        return (self.wall() - self.started) * self.speed

    def advance(self) -> float:
        """Run everything due by now and bring the virtual clock up to now (so a request handed in next
        happens at the present moment). Returns the virtual time."""
        t = self.now()
        env = self.env
        env.run_until(t)
        if env.now < t:
            env.now = t
        return env.now

    def until_next(self, cap: float = 1.0) -> float:
        """Wall seconds until the next scheduled callback is due (at most `cap`)."""
        due = (self.env.peek() - self.now()) / self.speed
        return max(0.0, min(cap, due))

    def request(self, req) -> Future:
        """Hand a request (simulator.apiserver.server.Request) to the API server behind the load balancer;
        the Future resolves with its Response as the cluster runs on."""
        self.advance()
        return self.cluster.request(req)

    def watch(self, resource: str, who: dict, on_event, **kw):
        """A watch on the load balancer's API server (raises WatchExpired for a too-old resourceVersion)."""
        self.advance()
        return self.cluster.lb.watch(resource, who, on_event, **kw)

    def drain(self) -> list[dict]:
        """The trace events emitted since the last call (schema v1, numbered)."""
        buf = self.cluster.tracer.buffer
        out = list(buf)
        buf.clear()
        return out
