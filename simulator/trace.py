"""The tracer: turns what components do into numbered events (schema v1).

Components call ``tracer.emit(...)``; the tracer stamps run, seq and the virtual time, tags the event
with the scenario step it belongs to, and buffers it for the runner to hand out. A scenario supplies a
``step_policy(type, data, to)`` that says which events open a new step; when one does, a
``scenario.step`` checkpoint is emitted first. Components themselves know nothing about lesson steps.

Two levels of detail:

- ``full`` (the default): every event is emitted.
- ``summary`` (``tracer.summarize(...)``, for large runs): the first ``detail_pods`` Pods the tracer sees
  keep full detail, and so does everything that is not about a Pod (etcd elections, node conditions …)
  up to a budget per interval. Events about any other Pod, and non-Pod events over the budget, are not
  emitted one by one but counted; at the end of every interval (1 s of virtual time by default) one
  ``summary.interval`` event carries the counts per event type and per component, the Pods seen, and the
  first few counted events as compact samples. ``scenario.*`` / ``run.*`` events are never held back.
  What a viewer receives per virtual second is bounded by the budget plus the detailed Pods' own events
  plus one summary, whatever the size of the cluster.

  Which Pod an event is about comes from its ``obj`` ref: kind Pod (or Binding / Eviction, whose name is
  the Pod's), by namespace/name. An Event object is about the Pod named by its involvedObject; the ref
  the API server passes for an Event carries only the Event's own name, which both upstream recorders
  build as ``<involvedObject.name>.<hex UnixNano>`` (client-go tools/record/event.go makeEvent and
  tools/events/event_recorder.go makeEvent: ``fmt.Sprintf("%v.%x", ref.Name, t.UnixNano())``), so the
  part before the last dot names the Pod when a Pod of that name has been seen in the namespace.
  Events with no ``obj`` are not about a Pod.

  Which Pods are detailed is decided by the order in which the tracer first sees them, which follows the
  run's deterministic order: the same seed gives the same summarized stream. Summaries are emitted by a
  kernel timer armed only while an interval has counted events (so an idle cluster schedules nothing),
  or, at the latest, before the next event past the interval's end or the next ``scenario.*`` event;
  ``flush()`` closes the current interval at once (call it before the run's last event).

Components that build an expensive payload (a decoded etcd value, per-node scheduler scores) should ask
first: ``if tracer.wants(obj): tracer.emit(...full payload...) else: tracer.count(component, type, obj)``.
``emit`` itself drops and counts an event that is not wanted, so calling it is never wrong, only slower.
"""
from __future__ import annotations

from collections import deque
from math import floor
from typing import Any, Callable

from .events import SCHEMA_VERSION, TYPES
from .kernel import Environment

StepPolicy = Callable[[str, dict, dict | None], int | None]

# Kinds whose name is the name of the Pod they are about.
_POD_KINDS = frozenset(("Pod", "Binding", "Eviction"))
# Never summarized, never budgeted: the run's own markers.
_ALWAYS = ("scenario.", "run.")
SUMMARY_TYPE = "summary.interval"


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
        # Summary level (off until summarize()).
        self.level = "full"
        self._summary = False
        self.counted = 0  # events counted instead of emitted, over the run
        self.pod_phases: Callable[[], dict[str, int]] | None = None  # optional: Pods by phase, for summaries

    # ---- configuration --------------------------------------------------------------------------------
    def summarize(self, detail_pods: int = 50, interval: float = 1.0, max_per_interval: int = 200,
                  max_per_type: int = 20, samples: int = 3,
                  priority: tuple[str, ...] = ()) -> None:
        """Switch to the summary level. ``detail_pods``: how many Pods keep full detail (the first seen);
        ``interval``: virtual seconds per ``summary.interval``; ``max_per_interval`` / ``max_per_type``:
        how many non-Pod events are emitted per interval (in all / of one type) before the rest are
        counted; ``samples``: counted events quoted per summary; ``priority``: type prefixes emitted
        without a budget (besides scenario.* and run.*), e.g. ("raft.",) for leader elections."""
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.level = "summary"
        self._summary = True
        self.detail_pods = int(detail_pods)
        self.interval = float(interval)
        self.max_per_interval = int(max_per_interval)
        self.max_per_type = int(max_per_type)
        self.n_samples = int(samples)
        self._always = _ALWAYS + tuple(priority)
        self.totals: dict[str, int] = {}      # every event, emitted or counted, by type (for benchmarks)
        self._klass: dict[str, int] = {}      # type -> 0 always / 1 budgeted when not about a Pod
        self._pods: dict[str, dict[str, bool]] = {}  # namespace -> name -> detailed?
        self._n_pods = 0
        self._n_detailed = 0
        self._iv_start = floor(self.env.now / self.interval) * self.interval
        self._iv_end = self._iv_start + self.interval
        self._armed = False
        self._reset_interval()

    def _reset_interval(self) -> None:
        self._iv_counted = 0
        self._iv_emitted = 0
        self._iv_other = 0
        self._iv_other_by_type: dict[str, int] = {}
        self._iv_by_type: dict[str, int] = {}
        self._iv_by_comp: dict[str, int] = {}
        self._iv_samples: list[dict] = []
        self._iv_bound: dict[str, int] = {}   # node -> counted bindings to it

    # ---- the level's questions ----------------------------------------------------------------------
    def _pod_state(self, obj: Any) -> bool | None:
        """True: about a detailed Pod; False: about another Pod; None: not about a Pod."""
        if obj is None:
            return None
        if type(obj) is dict:
            kind = obj.get("kind")
            if kind in _POD_KINDS:
                ns, name = obj.get("namespace", ""), obj.get("name", "")
            elif kind == "Event":
                name = obj.get("name", "")
                i = name.rfind(".")
                if i <= 0:
                    return None
                by_name = self._pods.get(obj.get("namespace", ""))
                return None if by_name is None else by_name.get(name[:i])
            else:
                return None
        elif type(obj) is str:
            ns, _, name = obj.rpartition("/")
            ns = ns or "default"
        elif type(obj) is tuple:
            ns, name = obj
        else:
            return None
        by_name = self._pods.get(ns)
        if by_name is None:
            by_name = self._pods[ns] = {}
        state = by_name.get(name)
        if state is None:  # first sight of this Pod: detailed while there is room
            state = by_name[name] = self._n_detailed < self.detail_pods
            self._n_pods += 1
            self._n_detailed += state
        return state

    def _type_class(self, type: str) -> int:
        k = self._klass.get(type)
        if k is None:
            k = self._klass[type] = 0 if type.startswith(self._always) else 1
        return k

    def wants(self, obj: Any = None, type: Any = None) -> bool:
        """Would an event about ``obj`` (an objref dict, "namespace/name" or a bare Pod name in
        "default", or None for an event about no Pod) be emitted in full now? Cheap; call it before
        building an expensive payload. ``wants(type, obj)`` (type first, a string with a dot) works too."""
        if not self.enabled:
            return False
        if not self._summary:
            return True
        if isinstance(obj, str) and obj in TYPES:  # wants(type, obj)
            obj, type = type, obj
        if self.env.now >= self._iv_end:
            self._roll()
        state = self._pod_state(obj)
        if state is not None:
            return state
        if type is not None and self._type_class(type) == 0:
            return True
        return self._iv_other < self.max_per_interval and (
            type is None or self._iv_other_by_type.get(type, 0) < self.max_per_type)

    detailed = wants

    def count(self, component: str, type: str, obj: Any = None, instance: str = "", summary: str = "",
              node: str | None = None) -> None:
        """Record an event that was not built because ``wants()`` said no. ``node``: for a binding, the
        node the Pod went to (each summary counts the bindings per node, for the cluster map)."""
        if not self.enabled:
            return
        if type not in TYPES:
            raise KeyError(f"event type {type!r} is not in the catalog")
        if not self._summary:
            raise RuntimeError("count() without the summary level: emit the event")
        if self.env.now >= self._iv_end:
            self._roll()
        self.totals[type] = self.totals.get(type, 0) + 1
        self._count(component, instance, type, summary, obj)
        if node:
            self._iv_bound[node] = self._iv_bound.get(node, 0) + 1

    # ---- emitting -----------------------------------------------------------------------------------
    def emit(self, component: str, instance: str, type: str, summary: str, data: dict[str, Any],
             to: dict[str, str] | None = None, obj: dict[str, str] | None = None) -> None:
        if not self.enabled:
            return
        if type not in TYPES:  # a typo here would silently break the UI's translations
            raise KeyError(f"event type {type!r} is not in the catalog")
        if self._summary and not self._admit(component, instance, type, summary, obj):
            return
        if self.step_policy is not None and not type.startswith("scenario."):
            opens = self.step_policy(type, data, to)
            if opens is not None and opens > self.step:
                self.open_step(opens)
        step = self.step if (self.step and not type.startswith(("scenario.", "run."))) else None
        self._push(component, instance, type, summary, data, to, obj, step)

    def open_step(self, n: int) -> None:
        self.step = n
        self._push("scenario", "scenario", "scenario.step", f"step {n} begins", {"step": n}, None, None, n)

    def _push(self, component, instance, type, summary, data, to, obj, step, t: float | None = None) -> None:
        # events.make_event, inlined (this runs once per emitted event): keys in schema order.
        self.seq += 1
        ev = {"v": SCHEMA_VERSION, "run": self.run_id, "seq": self.seq,
              "t": round(self.env.now if t is None else t, 3),
              "component": component, "instance": instance, "type": type}
        if to is not None:
            ev["to"] = to
        if obj is not None:
            ev["object"] = obj
        if step is not None:
            ev["step"] = step
        ev["summary"] = summary
        ev["data"] = data
        self.buffer.append(ev)

    # ---- the summary level's bookkeeping -------------------------------------------------------------
    def _admit(self, component: str, instance: str, type: str, summary: str, obj: Any) -> bool:
        tot = self.totals
        tot[type] = tot.get(type, 0) + 1
        if self.env.now >= self._iv_end:
            self._roll()
        state = self._pod_state(obj)
        if state is None:
            if self._type_class(type) == 0:
                if type.startswith("scenario."):
                    self.flush()  # a scenario checkpoint closes the counts so far
                return True
            by_type = self._iv_other_by_type
            n = by_type.get(type, 0)
            if self._iv_other < self.max_per_interval and n < self.max_per_type:
                self._iv_other += 1
                by_type[type] = n + 1
                self._iv_emitted += 1
                return True
        elif state:
            self._iv_emitted += 1
            return True
        self._count(component, instance, type, summary, obj)
        return False

    def _count(self, component: str, instance: str, type: str, summary: str, obj: Any) -> None:
        self.counted += 1
        self._iv_counted += 1
        bt, bc = self._iv_by_type, self._iv_by_comp
        bt[type] = bt.get(type, 0) + 1
        bc[component] = bc.get(component, 0) + 1
        if len(self._iv_samples) < self.n_samples:
            s: dict[str, Any] = {"t": round(self.env.now, 3), "type": type, "instance": instance}
            if isinstance(obj, dict):
                name = obj.get("name", "")
                s["object"] = f"{obj['namespace']}/{name}" if obj.get("namespace") else name
            elif isinstance(obj, str):
                s["object"] = obj
            if summary:
                s["summary"] = summary
            self._iv_samples.append(s)
        if not self._armed:
            self._armed = True
            self.env.schedule_call(max(0.0, self._iv_end - self.env.now), self._on_timer, self._iv_end)

    def _on_timer(self, end: float) -> None:
        self._armed = False
        if self._iv_end == end:
            if self._iv_counted:
                self._roll(end)
        elif self._iv_counted:  # the interval was closed by an event at its end; arm for the current one
            self._armed = True
            self.env.schedule_call(max(0.0, self._iv_end - self.env.now), self._on_timer, self._iv_end)

    def _roll(self, now: float | None = None) -> None:
        """Close the current interval (its summary, if anything was counted) and open the one holding now."""
        self._close(self._iv_end)
        now = self.env.now if now is None else now
        self._iv_start = max(floor(now / self.interval) * self.interval, self._iv_end)
        self._iv_end = self._iv_start + self.interval

    def flush(self) -> None:
        """Emit the summary of the current interval now (up to the current time), if anything was counted."""
        if not self._summary:
            return
        if self.env.now >= self._iv_end:
            self._roll()
        if self._iv_counted:
            budget = (self._iv_other, self._iv_other_by_type)  # the interval's budget is not renewed
            self._close(self.env.now)
            self._iv_start = self.env.now
            self._iv_other, self._iv_other_by_type = budget

    def _close(self, end: float) -> None:
        if not self._iv_counted:
            self._reset_interval()
            return
        t = min(end, self.env.now)
        pods: dict[str, Any] = {"seen": self._n_pods, "detailed": self._n_detailed}
        if self.pod_phases is not None:
            pods["phases"] = dict(sorted(self.pod_phases().items()))
        data = {"from": round(self._iv_start, 3), "to": round(t, 3), "counted": self._iv_counted,
                "emitted": self._iv_emitted, "by_type": dict(sorted(self._iv_by_type.items())),
                "by_component": dict(sorted(self._iv_by_comp.items())), "pods": pods,
                "samples": self._iv_samples, "bound": self._iv_bound}
        n = self._iv_counted
        self._reset_interval()
        self._push("scenario", "tracer", SUMMARY_TYPE,
                   f"{n} event(s) summarized in [{data['from']}, {data['to']})", data, None, None, None, t)


class PodPhaseCounter:
    """Pods by status.phase, kept from the store's own watch without decoding a value (a substring search
    for ``"phase":"…"`` in the stored JSON), cheap enough for 150,000 Pods. ``Cluster.summarize`` wires it
    as ``tracer.pod_phases``; each summary.interval then carries
    ``pods.phases``. A Pod with no phase yet counts as Pending, as the API server defaults it."""

    def __init__(self, store, prefix: str = "/registry/pods/"):
        self.phase_of: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        store.watch(prefix, prefix=True, callback=self._on_write)

    def _on_write(self, ev) -> None:
        key = ev.kv.key
        old = self.phase_of.pop(key, None)
        if old is not None:
            self.counts[old] -= 1
        if ev.type != "PUT":
            return
        v = ev.kv.value
        i = v.find('"phase":"', v.find('"status":'))
        phase = v[i + 9:v.index('"', i + 9)] if i >= 0 else "Pending"
        self.phase_of[key] = phase
        self.counts[phase] = self.counts.get(phase, 0) + 1

    def __call__(self) -> dict[str, int]:
        return {k: n for k, n in self.counts.items() if n}
