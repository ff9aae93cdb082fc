"""A discrete-event kernel in the manner of SimPy's ``simpy/core.py``.

The queue is a heap of ``(time, priority, seq, callback)``; ``seq`` is a counter that breaks ties, so
callbacks scheduled for the same instant always run in the order they were scheduled. The kernel never
reads the wall clock: ``now`` only moves when ``step()`` pops the next callback. Pacing against the wall
clock is a separate, thin layer (``simulator.realtime``).

Processes are plain generators that yield either a delay in seconds (``yield 0.1``) or a ``Future``
(``resp = yield fut``); the kernel resumes them when the delay has passed or the future is resolved.
"""
from __future__ import annotations

import heapq
from typing import Any, Callable, Generator

URGENT = 0
NORMAL = 1


class Future:
    """A value that will be known later (a reply to a message). Resolved once."""

    __slots__ = ("env", "done", "value", "_waiters")

    def __init__(self, env: "Environment"):
        self.env = env
        self.done = False
        self.value: Any = None
        self._waiters: list[Callable[[Any], None]] = []

    def resolve(self, value: Any = None) -> None:
        if self.done:
            raise RuntimeError("future resolved twice")
        self.done = True
        self.value = value
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            # Resume waiters through the queue (not inline) so their order stays deterministic.
            self.env.schedule(0.0, lambda w=w: w(value), URGENT)

    def add_waiter(self, fn: Callable[[Any], None]) -> None:
        if self.done:
            self.env.schedule(0.0, lambda: fn(self.value), URGENT)
        else:
            self._waiters.append(fn)


class Environment:
    def __init__(self, initial_time: float = 0.0):
        self.now = initial_time
        self._queue: list[tuple[float, int, int, Callable[[], None]]] = []
        self._seq = 0

    def schedule(self, delay: float, callback: Callable[[], None], priority: int = NORMAL) -> None:
        if delay < 0:
            raise ValueError("negative delay")
        self._seq += 1
        heapq.heappush(self._queue, (self.now + delay, priority, self._seq, callback))

    def future(self) -> Future:
        return Future(self)

    def process(self, gen: Generator[Any, Any, Any]) -> Future:
        """Run a generator as a process; the returned future resolves with its return value."""
        done = Future(self)

        def resume(value: Any = None) -> None:
            try:
                yielded = gen.send(value)
            except StopIteration as stop:
                done.resolve(stop.value)
                return
            if isinstance(yielded, Future):
                yielded.add_waiter(resume)
            else:
                self.schedule(float(yielded), resume)

        self.schedule(0.0, resume)
        return done

    def peek(self) -> float:
        return self._queue[0][0] if self._queue else float("inf")

    def step(self) -> None:
        when, _prio, _seq, callback = heapq.heappop(self._queue)
        self.now = when
        callback()

    def run(self, until: Future | None = None) -> None:
        """Run until the queue is empty, or until ``until`` has resolved."""
        while self._queue and not (until is not None and until.done):
            self.step()

    def pending(self) -> int:
        """How many callbacks are scheduled."""
        return len(self._queue)
