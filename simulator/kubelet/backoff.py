"""client-go util/flowcontrol/backoff.go, as the kubelet uses it (without jitter: NewBackOff(10s, 300s)).

The kubelet keeps two: one for restarting crashed containers (key: pod uid + container name + spec hash,
kuberuntime_manager.go getStableKey), one for image pulls (key: pod uid + image, images/image_manager.go).
Both start at 10 s and double up to 300 s (pkg/kubelet/kubelet.go backOffPeriod, MaxContainerBackOff).
An entry whose last update is more than 2 x max (600 s, i.e. 10 minutes) older than the event being looked
at has expired: the next failure starts again at 10 s (hasExpired). That is the "reset after 10 minutes of
running" of the Pod lifecycle documentation.
"""
from __future__ import annotations

from dataclasses import dataclass

INITIAL = 10.0
MAX = 300.0


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, initial: float = INITIAL, maximum: float = MAX):
        self.initial = initial
        self.max = maximum
        self.entries: dict[str, _Entry] = {}

    def _expired(self, event_time: float, last_update: float) -> bool:
        return event_time - last_update > 2 * self.max

    def get(self, key: str) -> float:
        e = self.entries.get(key)
        return e.backoff if e else 0.0

    def next(self, key: str, event_time: float, now: float) -> None:
        """Backoff.Next: start at `initial`, or double (capped); lastUpdate is the clock's now."""
        e = self.entries.get(key)
        if e is None or self._expired(event_time, e.last_update):
            e = self.entries[key] = _Entry(self.initial, now)
        else:
            e.backoff = min(e.backoff * 2, self.max)
        e.last_update = now

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """IsInBackOffSince: less than the current back-off has passed since event_time."""
        e = self.entries.get(key)
        if e is None or self._expired(event_time, e.last_update):
            return False
        return now - event_time < e.backoff

    def in_backoff_since_update(self, key: str, now: float) -> bool:
        """IsInBackOffSinceUpdate: less than the current back-off has passed since the last update."""
        e = self.entries.get(key)
        if e is None or self._expired(now, e.last_update):
            return False
        return now - e.last_update < e.backoff

    def gc(self, now: float) -> None:
        for k in [k for k, e in self.entries.items() if now - e.last_update > 2 * self.max]:
            del self.entries[k]
