"""A discrete-event kernel in the manner of SimPy's ``simpy/core.py``.

The queue is a heap of ``(time, priority, seq, callback, arg)``; ``seq`` is a counter that breaks ties, so
callbacks scheduled for the same instant always run in the order they were scheduled. The kernel never
reads the wall clock: ``now`` only moves when ``step()`` pops the next callback. Pacing against the wall
clock is a separate, thin layer (``simulator.realtime``).

Processes are plain generators that yield either a delay in seconds (``yield 0.1``) or a ``Future``
(``resp = yield fut``); the kernel resumes them when the delay has passed or the future is resolved.

Performance (a 5,000-node run pushes millions of callbacks through here): a queue entry carries the
argument its callback is called with, so resuming a waiter or a process needs no closure per event
(``_NOARG`` marks a callback scheduled without one); the hot paths push onto the heap directly instead of
going through ``schedule()``. The order of pushes, and so every ``seq``, is exactly what the plain
version (schedule a ``lambda: w(value)`` per waiter) produced: same seed, same run.
"""
from __future__ import annotations

import contextlib
import gc
import threading
from heapq import heappop, heappush
from typing import Any, Callable, Generator

URGENT = 0
NORMAL = 1

_NOARG = object()  # a queue entry whose callback takes no argument


class Future:
    """A value that will be known later (a reply to a message). Resolved once."""

    __slots__ = ("env", "done", "value", "_waiters")

    def __init__(self, env: "Environment"):
        self.env = env
        self.done = False
        self.value: Any = None
        self._waiters: list[Callable[[Any], None]] | None = None

    def resolve(self, value: Any = None) -> None:
        if self.done:
            raise RuntimeError("future resolved twice")
        self.done = True
        self.value = value
        waiters = self._waiters
        if waiters:
            self._waiters = None
            # Resume waiters through the queue (not inline) so their order stays deterministic.
            env = self.env
            q, now = env._queue, env.now
            for w in waiters:
                env._seq += 1
                heappush(q, (now, URGENT, env._seq, w, value))

    def add_waiter(self, fn: Callable[[Any], None]) -> None:
        if self.done:
            env = self.env
            env._seq += 1
            heappush(env._queue, (env.now, URGENT, env._seq, fn, self.value))
        elif self._waiters is None:
            self._waiters = [fn]
        else:
            self._waiters.append(fn)


class _Process:
    """A generator being run by the kernel. An object rather than a closure that refers to itself, so a
    finished process is freed by reference counting at once instead of waiting for the cyclic garbage
    collector (whose full collections over a 5,000-node cluster's heap cost more than the simulation)."""

    __slots__ = ("env", "send", "done")

    def __init__(self, env: "Environment", gen: Generator[Any, Any, Any]):
        self.env = env
        self.send = gen.send
        self.done = Future(env)

    def resume(self, value: Any = None) -> None:
        try:
            yielded = self.send(value)
        except StopIteration as stop:
            self.done.resolve(stop.value)
            return
        env = self.env
        if type(yielded) is float and yielded >= 0:   # a delay (most yields): the common case first
            env._seq += 1
            heappush(env._queue, (env.now + yielded, NORMAL, env._seq, self.resume, None))
        elif isinstance(yielded, Future):
            if yielded.done:
                env._seq += 1
                heappush(env._queue, (env.now, URGENT, env._seq, self.resume, yielded.value))
            elif yielded._waiters is None:
                yielded._waiters = [self.resume]
            else:
                yielded._waiters.append(self.resume)
        else:
            delay = float(yielded)
            if delay < 0:
                raise ValueError("negative delay")
            env._seq += 1
            heappush(env._queue, (env.now + delay, NORMAL, env._seq, self.resume, None))


class Environment:
    __slots__ = ("now", "_queue", "_seq")

    def __init__(self, initial_time: float = 0.0):
        self.now = initial_time
        self._queue: list[tuple] = []
        self._seq = 0

    def schedule(self, delay: float, callback: Callable[[], None], priority: int = NORMAL) -> None:
        if delay < 0:
            raise ValueError("negative delay")
        self._seq += 1
        heappush(self._queue, (self.now + delay, priority, self._seq, callback, _NOARG))

    def schedule_call(self, delay: float, callback: Callable[[Any], None], arg: Any, priority: int = NORMAL) -> None:
        """``schedule(delay, lambda: callback(arg))`` without building the lambda."""
        if delay < 0:
            raise ValueError("negative delay")
        self._seq += 1
        heappush(self._queue, (self.now + delay, priority, self._seq, callback, arg))

    def future(self) -> Future:
        return Future(self)

    def process(self, gen: Generator[Any, Any, Any]) -> Future:
        """Run a generator as a process; the returned future resolves with its return value."""
        p = _Process(self, gen)
        self._seq += 1
        heappush(self._queue, (self.now + 0.0, NORMAL, self._seq, p.resume, None))
        return p.done

    def peek(self) -> float:
        return self._queue[0][0] if self._queue else float("inf")

    def step(self) -> None:
        when, _prio, _seq, callback, arg = heappop(self._queue)
        self.now = when
        if arg is _NOARG:
            callback()
        else:
            callback(arg)

    def run(self, until: Future | None = None) -> None:
        """Run until the queue is empty, or until ``until`` has resolved."""
        q, noarg = self._queue, _NOARG
        if until is None:
            while q:
                when, _p, _s, callback, arg = heappop(q)
                self.now = when
                if arg is noarg:
                    callback()
                else:
                    callback(arg)
            return
        while q and not until.done:
            when, _p, _s, callback, arg = heappop(q)
            self.now = when
            if arg is noarg:
                callback()
            else:
                callback(arg)

    def run_until(self, t: float) -> None:
        """Run every callback due at or before ``t`` (the loop ``while pending() and peek() <= t: step()``,
        without a method call per callback). ``now`` is left at the last callback's time."""
        q, noarg = self._queue, _NOARG
        while q and q[0][0] <= t:
            when, _p, _s, callback, arg = heappop(q)
            self.now = when
            if arg is noarg:
                callback()
            else:
                callback(arg)

    def pending(self) -> int:
        """How many callbacks are scheduled."""
        return len(self._queue)


def tune_gc_for_scale(threshold0: int = 50_000) -> tuple[int, int, int]:
    """For large runs (thousands of nodes): move every object built so far (the bootstrapped cluster) out of
    the cyclic garbage collector's sight (``gc.freeze``) and collect the young generation every
    ``threshold0`` allocations instead of 700. The simulator makes almost no cyclic garbage (processes
    and futures are freed by reference counting), but with CPython's defaults the collector rescans the
    ever-growing live heap so often that it took ~40% of a 3,000-pod run's CPU. Returns the previous
    thresholds. Process-wide: call it from the program that owns the process (a benchmark, a worker
    running a large scenario), not from library code that shares the process with a web server."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold0, 50, 100)
    return old


_tuned_lock = threading.Lock()
_tuned_depth = 0
_tuned_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def gc_tuned_for_scale(threshold0: int = 50_000):
    """``tune_gc_for_scale`` for the length of a with-block, for a long-lived process (a Celery worker)
    that runs a large simulation now and serves other work afterwards. On the way out the thresholds are
    restored, the frozen objects go back under the collector (``gc.unfreeze``) and one full collection
    frees whatever cycles the run left behind, so the next task meets CPython's defaults and no frozen,
    unreachable leftovers. Blocks may overlap (runs on several threads of one process): the first one
    in tunes, the last one out restores. Collection timing never reaches the events."""
    global _tuned_depth, _tuned_saved
    with _tuned_lock:
        if _tuned_depth == 0:
            _tuned_saved = tune_gc_for_scale(threshold0)
        else:
            gc.freeze()   # what this run built before entering is long-lived too
        _tuned_depth += 1
    try:
        yield
    finally:
        with _tuned_lock:
            _tuned_depth -= 1
            if _tuned_depth == 0:
                gc.unfreeze()
                if _tuned_saved is not None:
                    gc.set_threshold(*_tuned_saved)
                _tuned_saved = None
                gc.collect()
