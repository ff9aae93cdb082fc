"""Wall-clock pacing on top of the pure simulation, like SimPy's RealtimeEnvironment: sleep until
start + t / speed before handing out each event. Only the CLI (and the server's worker) use it."""
from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator


def paced(events: Iterable[dict], speed: float, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> Iterator[dict]:
    if speed <= 0:
        raise ValueError("speed must be positive")
    start = clock()
    for ev in events:
        delay = start + ev["t"] / speed - clock()
        if delay > 0:
            sleep(delay)
        yield ev
