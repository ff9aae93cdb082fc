"""Virtual time helpers: a fixed epoch for object timestamps, and Go's duration formatting."""
from __future__ import annotations

import datetime as _dt

# Objects' timestamps are this epoch + virtual seconds, so they never depend on the wall clock.
DEFAULT_EPOCH = EPOCH = _dt.datetime(2025, 1, 1, 0, 0, 0, tzinfo=_dt.timezone.utc)
EPOCH_NS = int(EPOCH.timestamp()) * 1_000_000_000


# Formatted whole seconds, by virtual second: many objects are stamped within the same second.
_SECONDS: dict[int, str] = {}


def set_epoch(epoch: _dt.datetime) -> None:
    """Stamp objects from `epoch` instead (the live cluster: virtual second 0 is when it started, so `kubectl
    get`'s AGE is true). Process-wide: only a process that serves one live cluster calls it."""
    global EPOCH, EPOCH_NS
    if epoch.tzinfo is None:
        raise ValueError("epoch must be timezone-aware")
    EPOCH = epoch.astimezone(_dt.timezone.utc).replace(microsecond=0)
    EPOCH_NS = int(EPOCH.timestamp()) * 1_000_000_000
    _SECONDS.clear()


def epoch_if_set() -> str | None:
    """The epoch in RFC 3339 when it is not the default one (a view needs it to age the objects' timestamps)."""
    return None if EPOCH == DEFAULT_EPOCH else EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(s: int) -> str:
    """EPOCH + s seconds as "%Y-%m-%dT%H:%M:%S" (memoized; the table is bounded)."""
    hit = _SECONDS.get(s)
    if hit is None:
        if len(_SECONDS) >= 4096:
            _SECONDS.clear()
        hit = _SECONDS[s] = (EPOCH + _dt.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S")
    return hit


def rfc3339(t: float) -> str:
    """metav1.Time serialises with second precision (RFC 3339, "Z")."""
    return _seconds(int(t)) + "Z"


def rfc3339_micro(t: float) -> str:
    """metav1.MicroTime (Event.eventTime) keeps microseconds."""
    micros = int(round(t * 1_000_000))
    s, us = divmod(micros, 1_000_000)
    return f"{_seconds(s)}.{us:06d}Z"


def unix_nano(t: float) -> int:
    return EPOCH_NS + int(round(t * 1_000_000_000))


def go_duration(seconds: float) -> str:
    """Format like Go's time.Duration.String() for a duration truncated to milliseconds
    (the kubelet prints ``pullDuration.Truncate(time.Millisecond)``): 3.2s, 850ms, 1m2.5s."""
    ms = int(seconds * 1000 + 1e-6)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    minutes, rem_ms = divmod(ms, 60_000)
    secs = f"{rem_ms // 1000}.{rem_ms % 1000:03d}".rstrip("0").rstrip(".") + "s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        return (f"{hours}h" if hours else "") + f"{minutes}m" + secs
    return secs
