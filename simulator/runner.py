"""Simulation: a scenario run on the cluster model, as a generator of events. Pure: no wall clock, no I/O."""
from __future__ import annotations

from typing import Iterator

from . import clock, scenarios
from .cluster import Cluster

# After the scenario's goal is reached, let what was already in flight at that instant finish
# (the watch fan-out of the last write), then stop.
SETTLE = 0.05
MAX_VIRTUAL_SECONDS = 3600.0


class Simulation:
    def __init__(self, scenario_id: str, params: dict | None = None, seed: int = 1, run_id: str | None = None):
        self.scenario = scenarios.get(scenario_id)
        self.scenario_id = scenario_id
        self.params = scenarios.validate(scenario_id, params or {})
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError("seed must be an int")
        self.seed = seed
        self.run_id = run_id or f"sim-{scenario_id}-{seed}"
        self.cluster: Cluster | None = None

    def events(self) -> Iterator[dict]:
        cluster = self.cluster = Cluster(self.seed, self.run_id, self.scenario.topology())
        env, tracer = cluster.env, cluster.tracer
        emit_started(cluster, self.scenario_id, self.seed, self.params)
        tracer.step_policy = self.scenario.step_policy(self.params)
        done = self.scenario.start(cluster, self.params)
        yield from _drain(tracer)
        while env.pending() and env.peek() <= MAX_VIRTUAL_SECONDS:
            if done.done and env.peek() > done.value + SETTLE:
                break
            env.step()
            yield from _drain(tracer)
        tracer.emit("scenario", "scenario", "scenario.completed", "scenario completed",
                    {"outcome": self.scenario.outcome(cluster, self.params), "duration": round(env.now, 3)})
        yield from _drain(tracer)


def emit_started(cluster: Cluster, scenario_id: str, seed: int, params: dict) -> None:
    """The run's first event: the cluster as it stands (nodes, components, etcd members, keys), from which
    every view starts folding."""
    cluster.tracer.emit("scenario", "scenario", "scenario.started", f"scenario {scenario_id} (seed {seed})", {
        "scenario": scenario_id, "seed": seed, "params": dict(params),
        "nodes": cluster.nodes_summary(), "components": cluster.components_summary(),
        "etcd": cluster.etcd.shape(), "keys": cluster.etcd.store.keys_summary(), "leases": cluster.leases_summary(),
        # The live cluster stamps objects from its start on the wall clock: the terminals age them from there.
        **({"epoch": clock.epoch_if_set()} if clock.epoch_if_set() else {})})


def _drain(tracer) -> Iterator[dict]:
    buf = tracer.buffer
    while buf:
        yield buf.popleft()
