"""One reader of a run's log per server process, shared by every viewer of that run in the process.

A class of 200 browsers watches the same run. If every socket read the Redis stream on its own, each new
event would cost 200 reads and 200 JSON round trips, and the channel layer 200 doorbell messages. Instead a
`Feed` (one per run per Daphne process) follows the stream with a blocking XREAD - the log itself is the
doorbell - keeps a window of the newest events as the compact JSON the worker wrote, and wakes the
process's viewers of that run. A viewer then sends a slice of that window as one frame; viewers at the same
position share one frame string.

Invariants:
- The window is contiguous: `raws[i]` is the event with seq `base + 1 + i`, as logged (entry id `<seq>-0`).
  An event never changes once logged, so a slice of the window is always exactly what the log holds.
- A viewer further back than the window reads the stream (or the DB archive) itself (`runlog.aread_raw_since`);
  the window serves the live tail, which is where nearly everyone is.
- After a read that brought events, the feed waits COALESCE seconds before reading again, so that at a high
  event rate a viewer gets one frame per interval instead of one per event; an idle feed blocks in XREAD and
  wakes at once for the next event.
- Every read, with events or not (at least once per TICK_MS), wakes the viewers: they wait on one Event with
  no timer of their own. The feed also reads the run's status once a second for all of them (200 viewers
  each asking Redis at the same tick made a latency spike every second).
"""
from __future__ import annotations

import asyncio
import logging

from . import runlog

log = logging.getLogger(__name__)

WINDOW = 20000          # newest events kept per run (about 20 s at 1,000 events/s)
COALESCE = 0.025        # seconds between reads while events are flowing
TICK_MS = 1000          # an idle XREAD returns after this; the viewers wake then too (their status check)
IDLE_CLOSE = 30.0       # a feed nobody uses any more stops after this many seconds

_feeds: dict[tuple[int, str], "Feed"] = {}


def frame(raws: list[str]) -> str:
    """The message for consecutive logged events (their JSON as logged): `event` for one (the design's
    message), else `events`."""
    if len(raws) == 1:
        return '{"type":"event","event":' + raws[0] + "}"
    return '{"type":"events","events":[' + ",".join(raws) + "]}"


class Feed:
    def __init__(self, run_id: str, start: int):
        self.run_id = run_id
        self.base = start          # seq just before raws[0]
        self.raws: list[str] = []
        self.users = 0
        self.grew = asyncio.Event()  # set (and replaced) whenever the window grows
        self.frames: dict[tuple[int, int], str] = {}  # (since, count) -> frame text, cleared on growth
        self.task = asyncio.get_running_loop().create_task(self.follow())
        self.idle_since: float | None = None
        self.status: str | None = None   # the run's status in Redis (its meta hash), read once a second for all
        self.status_read_at = 0.0

    @property
    def hi(self) -> int:
        """The newest seq the feed holds."""
        return self.base + len(self.raws)

    def holds(self, since: int) -> bool:
        """Whether the window can serve a viewer that has everything up to `since`."""
        return self.base <= since

    def take(self, since: int, count: int) -> tuple[int, str]:
        """The seq of the last of up to `count` events after `since` in the window, and their frame (since,
        "" when there is none). Viewers at the same position share the frame. Callers check holds()."""
        start = since - self.base
        n = min(count, len(self.raws) - start)
        if n <= 0:
            return since, ""
        key = (since, n)
        text = self.frames.get(key)
        if text is None:
            if len(self.frames) > 64:
                self.frames.clear()
            text = self.frames[key] = frame(self.raws[start:start + n])
        return since + n, text

    async def wait_beyond(self, seq: int) -> None:
        """Return when the feed holds an event after `seq`, or at its next read (at least once a second)."""
        if self.hi > seq:
            return
        if self.task.done():   # cannot happen while it has users; never wait on a feed that stopped
            await asyncio.sleep(TICK_MS / 1000)
            return
        await self.grew.wait()

    def wake(self) -> None:
        grew, self.grew = self.grew, asyncio.Event()
        grew.set()

    async def follow(self) -> None:
        r = runlog.async_client()
        key = runlog.log_key(self.run_id)
        loop = asyncio.get_running_loop()
        while True:
            try:
                got = await r.xread({key: f"{self.hi}-0"}, count=5000, block=TICK_MS)
            except asyncio.CancelledError:
                raise
            except Exception:   # Redis away: the viewers keep what they have; try again shortly
                log.warning("run %s: feed read failed; retrying", self.run_id, exc_info=True)
                self.wake()
                await asyncio.sleep(0.5)
                continue
            if self.users == 0:
                self.idle_since = self.idle_since or loop.time()
                if loop.time() - self.idle_since > IDLE_CLOSE:
                    _feeds.pop((id(loop), self.run_id), None)
                    return
            else:
                self.idle_since = None
            if loop.time() - self.status_read_at >= TICK_MS / 1000:
                try:
                    self.status = await r.hget(runlog.meta_key(self.run_id), "status")
                    self.status_read_at = loop.time()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("run %s: feed could not read the run's status", self.run_id, exc_info=True)
            entries = got[0][1] if got else []
            added = 0
            for entry_id, fields in entries:
                seq = int(entry_id.split("-", 1)[0])
                if seq == self.hi + 1:
                    self.raws.append(fields[runlog.ENTRY_FIELD])
                    added += 1
                elif seq > self.hi + 1:
                    # The stream was trimmed past us (we fell very far behind): restart the window there.
                    # Viewers behind the new base read the log themselves and resync from a snapshot.
                    self.base, self.raws = seq - 1, [fields[runlog.ENTRY_FIELD]]
                    added += 1
            if added:
                if len(self.raws) > 2 * WINDOW:
                    drop = len(self.raws) - WINDOW
                    self.base += drop
                    del self.raws[:drop]
                self.frames.clear()
            self.wake()
            if added:
                await asyncio.sleep(COALESCE)


def acquire(run_id: str, start: int) -> Feed:
    """The process's feed of this run (started at `start` if there is none yet); release() when done."""
    loop = asyncio.get_running_loop()
    key = (id(loop), run_id)
    feed = _feeds.get(key)
    if feed is None or feed.task.done():
        feed = _feeds[key] = Feed(run_id, start)
    feed.users += 1
    feed.idle_since = None
    return feed


def release(feed: Feed) -> None:
    feed.users -= 1
