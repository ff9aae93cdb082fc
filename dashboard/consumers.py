"""WebSocket consumers: thin; the log (dashboard/runlog.py) is the truth.

RunConsumer, `/ws/runs/<id>/`, is Kubernetes' list-then-watch: the client says the last seq it has
(`since`), we send what it lacks (a snapshot when it is too far behind), then every new event exactly once
and in order. Consecutive events go out together in one `events` frame (a single one as the design's
`event` message): a class of viewers at 1,000 events/s would otherwise cost a frame per event per viewer.
Invariants:

- The live tail comes from the process's Feed of the run (dashboard/feed.py), which follows the stream
  itself, so no event depends on a message being delivered; a viewer behind the feed's window reads the log.
- `last_sent` is the only cursor. Every send path (subscribe, the stream loop, a status message) runs under
  `self.lock`, reads from `last_sent` and advances it per frame, so nothing goes out twice or out of order.
- Status changes arrive on the channel layer (at-most-once), so the stream loop also checks the run's status
  in Redis about once a second while the run is active.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import feed as feeds
from . import runlog
from .models import Run
from .runs import classroom_group, current_focus, get_run, latest_run, run_group, run_json

log = logging.getLogger(__name__)

BATCH = 500
POLL_INTERVAL = 1.0
SINCE_MAX = 2**53 - 1  # the largest integer a browser holds exactly
ROOM_RE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def error_message(field: str | None, message: str) -> dict:
    return {"type": "error", "error": {"field": field, "message": message}}


@database_sync_to_async
def load_run_json(run_id) -> dict | None:
    run = get_run(run_id)
    return run_json(run) if run else None


# Sockets that open within this many seconds of each other share one read of their run's row: a class whose
# Wi-Fi came back reconnects all at once, and the row is read by one DB thread, one query after another. A
# status it misses is sent by the stream's status check (about a second later).
RUN_CACHE_S = 0.5
_run_cache: dict[uuid.UUID, tuple[float, asyncio.Future]] = {}


async def recent_run_json(run_id) -> dict | None:
    loop = asyncio.get_running_loop()
    now = loop.time()
    hit = _run_cache.get(run_id)
    if hit is None or now - hit[0] >= RUN_CACHE_S or (hit[1].done() and hit[1].exception() is not None):
        if len(_run_cache) > 1000:
            _run_cache.clear()
        task = loop.create_task(load_run_json(run_id))   # one query, however many sockets wait for it
        hit = _run_cache[run_id] = (now, task)
    return await asyncio.shield(hit[1])


@database_sync_to_async
def load_latest_run_json() -> dict | None:
    run = latest_run()
    return run_json(run) if run else None


class JsonConsumer(AsyncJsonWebsocketConsumer):
    """Bad frames get an error message instead of killing the connection."""

    async def refuse_anonymous(self) -> bool:
        """DASHBOARD_VIEWERS_MUST_LOG_IN: an anonymous socket gets an error and is closed (True)."""
        from django.conf import settings

        user = self.scope.get("user")
        if settings.DASHBOARD_VIEWERS_MUST_LOG_IN and not (user and user.is_authenticated):
            await self.accept()
            await self.send_json(error_message(None, "log in to watch: this dashboard requires an account for viewers"))
            await self.close(code=4401)
            return True
        return False

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_json(error_message("body", "send JSON text frames"))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json(error_message("body", "the message is not valid JSON"))
            return
        if not isinstance(content, dict):
            await self.send_json(error_message("body", "the message must be a JSON object"))
            return
        await self.receive_json(content)


class RunConsumer(JsonConsumer):
    async def connect(self):
        self.last_sent: int | None = None  # None until the client subscribes
        self.lock = asyncio.Lock()
        self.streamer: asyncio.Task | None = None
        self.feed: feeds.Feed | None = None
        self.connect_run = None
        self.status_sent: str | None = None
        if await self.refuse_anonymous():
            return
        try:
            self.run_id = uuid.UUID(self.scope["url_route"]["kwargs"]["run_id"])
        except ValueError:
            self.run_id = None
        run = await recent_run_json(self.run_id) if self.run_id else None
        if run is None:
            await self.accept()
            await self.send_json(error_message("run", "no such run"))
            await self.close(code=4404)
            return
        # The first subscribe, coming right after, uses this (a class connecting at once costs one query a
        # socket, not two); a status change in between is caught by the stream's status check.
        self.connect_run: tuple[float, dict] | None = (asyncio.get_running_loop().time(), run)
        group = run_group(self.run_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)  # discarded by websocket_disconnect
        await self.accept()

    async def disconnect(self, code):
        if self.streamer is not None:
            self.streamer.cancel()   # it releases the feed
        elif self.feed is not None:
            feeds.release(self.feed)
            self.feed = None

    async def receive_json(self, content, **kwargs):
        if content.get("type") != "subscribe":
            await self.send_json(error_message("type", "the only message a viewer can send is subscribe"))
            return
        extra = sorted(set(content) - {"type", "since"})
        if extra:
            await self.send_json(error_message(str(extra[0])[:100], "unknown field"))
            return
        since = content.get("since", 0)
        if isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= SINCE_MAX:
            await self.send_json(error_message("since", "since must be an integer >= 0 (the last seq you have)"))
            return
        await self.subscribe(since)

    async def subscribe(self, since: int):
        async with self.lock:
            loaded, self.connect_run = self.connect_run, None
            if loaded is not None and asyncio.get_running_loop().time() - loaded[0] < 2.0:
                run = loaded[1]
            else:
                run = await load_run_json(self.run_id)
            if run is None:
                await self.send_json(error_message("run", "no such run"))
                return
            await self.send_run(run)
            if since == 0:
                await self.send_snapshot()
            else:
                self.last_sent = since
                # The log, not the feed's window, says whether `since` is older than what is kept (then a
                # snapshot): the first frame comes from the log; the rest of the catch-up from the window.
                await self.pump(from_log=True, frames=1)
            if self.feed is None:
                self.feed = feeds.acquire(self.run_id.hex, self.last_sent)
            await self.pump()
        if self.streamer is None:
            self.streamer = asyncio.create_task(self.stream())

    async def send_run(self, run: dict):
        self.status_sent = run["status"]
        await self.send_json({"type": "run", "run": run})

    async def send_snapshot(self):
        seq, state = await runlog.alatest_snapshot_raw(self.run_id)
        await self.send(text_data=f'{{"type":"snapshot","seq":{seq},"state":{state}}}')
        self.last_sent = seq

    async def pump(self, from_log: bool = False, frames: int | None = None):
        """Send everything after last_sent (or at most `frames` frames of it), at most BATCH events a frame:
        from the feed's window where it reaches back far enough, else (or with from_log, for everything
        logged up to this moment - the feed may not have read it yet) from the log. Caller holds the lock."""
        if self.last_sent is None:
            return
        feed = None if from_log else self.feed
        resynced = False
        while frames is None or frames > 0:
            if feed is not None and feed.holds(self.last_sent):
                last, text = feed.take(self.last_sent, BATCH)
            else:
                try:
                    items = await runlog.aread_raw_since(self.run_id, self.last_sent, BATCH)
                except runlog.TooOld:
                    # This client is further back than the stream keeps: start it over from a snapshot.
                    if resynced:
                        return
                    await self.send_snapshot()
                    resynced = True
                    continue
                if items and items[0][0] != self.last_sent + 1:  # cannot happen: the log is gapless
                    log.error("run %s: expected seq %s, log gave %s", self.run_id.hex, self.last_sent + 1,
                              items[0][0])
                    return
                last, text = (items[-1][0], feeds.frame([raw for _seq, raw in items])) if items else (self.last_sent, "")
            if last == self.last_sent:
                return
            await self.send(text_data=text)
            self.last_sent = last
            if frames is not None:
                frames -= 1

    async def stream(self):
        """The live tail from the process's feed, and the run's status while it is active."""
        loop = asyncio.get_running_loop()
        feed = self.feed
        checked = loop.time()
        try:
            while True:
                await feed.wait_beyond(self.last_sent)
                async with self.lock:
                    before = self.last_sent
                    await self.pump()
                if self.last_sent == before and feed.hi > before:
                    await asyncio.sleep(POLL_INTERVAL)  # nothing could be sent (see pump's log): do not spin
                if loop.time() - checked < POLL_INTERVAL:
                    continue
                checked = loop.time()
                async with self.lock:
                    if await self.check_status():
                        return
        except asyncio.CancelledError:
            raise
        except Exception:
            # Redis (or the DB) went away under us. Close, so that the client reconnects and resumes from
            # its last seq once the server can read the log again - never leave an open socket gone quiet.
            log.warning("run %s: stream failed; closing the socket so the viewer resumes", self.run_id.hex,
                        exc_info=True)
            await self.close(code=4503)  # an application code: autobahn refuses to send 1011
        finally:
            feeds.release(feed)
            self.feed = None

    async def check_status(self) -> bool:
        """Send a status change a lost channel message hid; True once the run is over and fully sent."""
        if self.feed is not None and self.feed.status_read_at:
            status = self.feed.status
        else:
            status = (await runlog.aget_meta(self.run_id)).get("status")
        if status and status != self.status_sent:
            run = await load_run_json(self.run_id)
            if run and run["status"] != self.status_sent:
                await self.pump(from_log=True)
                await self.send_run(run)
        if self.status_sent in Run.FINISHED:
            run = await load_run_json(self.run_id)
            if run and self.last_sent is not None and self.last_sent >= run["last_seq"]:
                return True
        return False

    # -- channel layer messages --------------------------------------------------------------------------

    async def run_status(self, message):
        if self.last_sent is None:
            return
        async with self.lock:
            # Events first, so that a client sees every event logged before a status change (the last one,
            # those before a pause) before the status.
            await self.pump(from_log=True)
            await self.send_run(message["run"])


class ClassroomConsumer(JsonConsumer):
    """`/ws/classroom/<room>/`: announces run creations and status changes, so students follow along."""

    async def connect(self):
        if await self.refuse_anonymous():
            return
        room = self.scope["url_route"]["kwargs"]["room"]
        if not ROOM_RE.match(room):
            await self.accept()
            await self.send_json(error_message("room", "a room name is 1-50 letters, digits, - or _"))
            await self.close(code=4404)
            return
        group = classroom_group(room)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)
        await self.accept()
        run = await load_latest_run_json()
        if run:
            await self.send_json({"type": "run", "run": run})
        try:
            focus = await database_sync_to_async(current_focus)(room)
        except Exception:   # Redis away: the focus is a nicety, the runs are not
            focus = None
        if focus:
            await self.send_json({"type": "focus", "focus": focus})

    async def receive_json(self, content, **kwargs):
        await self.send_json(error_message("type", "this socket only announces runs; it takes no messages"))

    async def run_status(self, message):
        await self.send_json({"type": "run", "run": message["run"]})

    async def classroom_focus(self, message):
        await self.send_json({"type": "focus", "focus": message["focus"]})
