"""The tracer: turns what components do into numbered events (schema v1).

Components call ``tracer.emit(...)``; the tracer stamps run, seq and the virtual time, tags the event
with the scenario step it belongs to, and buffers it for the runner to hand out. A scenario supplies a
``step_policy(type, data, to)`` that says which events open a new step; when one does, a
``scenario.step`` checkpoint is emitted first. Components themselves know nothing about lesson steps.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable

from .events import TYPES, make_event
from .kernel import Environment

StepPolicy = Callable[[str, dict, dict | None], int | None]


def ref(component: str, instance: str) -> dict[str, str]:
    return {"component": component, "instance": instance}


class Tracer:
    def __init__(self, env: Environment, run_id: str):
        self.env = env
        self.run_id = run_id
        self.seq = 0
        self.step = 0
        self.enabled = True
        self.step_policy: StepPolicy | None = None
        self.buffer: deque[dict[str, Any]] = deque()

    def emit(self, component: str, instance: str, type: str, summary: str, data: dict[str, Any],
             to: dict[str, str] | None = None, obj: dict[str, str] | None = None) -> None:
        if not self.enabled:
            return
        if type not in TYPES:  # a typo here would silently break the UI's translations
            raise KeyError(f"event type {type!r} is not in the catalog")
        if self.step_policy is not None and not type.startswith("scenario."):
            opens = self.step_policy(type, data, to)
            if opens is not None and opens > self.step:
                self.open_step(opens)
        step = self.step if (self.step and not type.startswith(("scenario.", "run."))) else None
        self._push(component, instance, type, summary, data, to, obj, step)

    def open_step(self, n: int) -> None:
        self.step = n
        self._push("scenario", "scenario", "scenario.step", f"step {n} begins", {"step": n}, None, None, n)

    def _push(self, component, instance, type, summary, data, to, obj, step) -> None:
        self.seq += 1
        self.buffer.append(make_event(self.run_id, self.seq, self.env.now, component, instance, type, summary,
                                      data, to=to, object=obj, step=step))
