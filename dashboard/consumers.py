"""WebSocket consumers: thin; the log (dashboard/runlog.py) is the truth, the channel layer a doorbell.

RunConsumer, `/ws/runs/<id>/`, is Kubernetes' list-then-watch: the client says the last seq it has
(`since`), we send what it lacks (a snapshot when it is too far behind), then every new event exactly once
and in order. Invariants:

- The group is joined in connect(), before any read of the log, so an event appended after our catch-up
  read always rings a doorbell we will hear (or the safety poll finds it).
- `last_sent` is the only cursor. Every send path (subscribe, doorbell, poll) runs under `self.lock`, reads
  the log from `last_sent` and advances it per event, so nothing goes out twice or out of order, and a
  doorbell's payload is never trusted.
- Group sends are at-most-once (channels' layer spec), so while the run is active a ~1 s poll does what a
  lost doorbell would have done.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

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
        self.poller: asyncio.Task | None = None
        self.status_sent: str | None = None
        if await self.refuse_anonymous():
            return
        try:
            self.run_id = uuid.UUID(self.scope["url_route"]["kwargs"]["run_id"])
        except ValueError:
            self.run_id = None
        run = await load_run_json(self.run_id) if self.run_id else None
        if run is None:
            await self.accept()
            await self.send_json(error_message("run", "no such run"))
            await self.close(code=4404)
            return
        group = run_group(self.run_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)  # discarded by websocket_disconnect
        await self.accept()

    async def disconnect(self, code):
        if self.poller is not None:
            self.poller.cancel()

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
            run = await load_run_json(self.run_id)
            if run is None:
                await self.send_json(error_message("run", "no such run"))
                return
            await self.send_run(run)
            if since == 0:
                await self.send_snapshot()
            else:
                try:
                    events = await runlog.aread_since(self.run_id, since, BATCH)
                except runlog.TooOld:
                    await self.send_snapshot()
                else:
                    self.last_sent = since
                    await self.send_events(events)
            await self.pump()
        if self.poller is None:
            self.poller = asyncio.create_task(self.poll())

    async def send_run(self, run: dict):
        self.status_sent = run["status"]
        await self.send_json({"type": "run", "run": run})

    async def send_snapshot(self):
        seq, state = await runlog.alatest_snapshot(self.run_id)
        await self.send_json({"type": "snapshot", "seq": seq, "state": state})
        self.last_sent = seq

    async def send_events(self, events: list[dict]):
        for ev in events:
            if ev["seq"] != self.last_sent + 1:  # cannot happen: the log is gapless; never skip or repeat
                log.error("run %s: expected seq %s, log gave %s", self.run_id.hex, self.last_sent + 1, ev["seq"])
                return
            await self.send_json({"type": "event", "event": ev})
            self.last_sent = ev["seq"]

    async def pump(self):
        """Send everything after last_sent. Caller holds the lock."""
        if self.last_sent is None:
            return
        resynced = False
        while True:
            try:
                events = await runlog.aread_since(self.run_id, self.last_sent, BATCH)
            except runlog.TooOld:
                # This client fell behind what the stream keeps: start it over from a snapshot.
                if resynced:
                    return
                await self.send_snapshot()
                resynced = True
                continue
            if not events:
                return
            before = self.last_sent
            await self.send_events(events)
            if self.last_sent == before:
                return

    async def poll(self):
        """Cover lost doorbells and status messages while the run is active."""
        try:
            while True:
                await asyncio.sleep(POLL_INTERVAL)
                async with self.lock:
                    await self.pump()
                    meta = await runlog.aget_meta(self.run_id)
                    status = meta.get("status")
                    if status and status != self.status_sent:
                        run = await load_run_json(self.run_id)
                        if run and run["status"] != self.status_sent:
                            await self.send_run(run)
                    if self.status_sent in Run.FINISHED:
                        run = await load_run_json(self.run_id)
                        if run and self.last_sent is not None and self.last_sent >= run["last_seq"]:
                            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("run %s: safety poll stopped", self.run_id.hex)

    # -- channel layer messages --------------------------------------------------------------------------

    async def run_doorbell(self, message):
        if self.last_sent is None:
            return
        async with self.lock:
            await self.pump()

    async def run_status(self, message):
        if self.last_sent is None:
            return
        async with self.lock:
            await self.pump()  # events first, so a client sees the final event before the final status
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
