"""List-then-watch of one resource on a real API server, as client-go's reflector does it, on a thread.

- The first list gives the objects and a resourceVersion; the watch starts from it with bookmarks allowed
  and a server-side `timeoutSeconds`, and the client's `_request_timeout` a little longer, so a connection
  that dies silently is noticed instead of hanging the run.
- A watch that ends (timeout, a cut connection, a server restart) starts again from the last
  resourceVersion seen (bookmarks advance it too), after a short back-off when it failed.
- `410 Gone` (the resourceVersion left the watch cache's window, or etcd compacted it) means changes may
  have been missed: the watcher lists again and compares the list with what it knew, delivering every
  difference as ADDED, MODIFIED or DELETED, so the consumer's picture is whole again. (client-go's
  reflector does the same relist and its DeltaFIFO Replace computes the deletions.)

Deliveries go to a queue as (resource, type, object) with type ADDED / MODIFIED / DELETED; `relisted` and
`reconnects` count the recoveries (the tests read them).
"""
from __future__ import annotations

import copy
import json
import logging
import queue
import threading
import time
from typing import Callable

from .connect import describe

log = logging.getLogger(__name__)

WATCH_WINDOW_S = 60      # timeoutSeconds sent with each watch (the server ends the stream after it)
READ_GRACE_S = 15        # the client's read timeout is the window plus this
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 4.0)


def object_key(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


class Watcher(threading.Thread):
    def __init__(self, resource: str, list_fn: Callable, args: tuple, out: queue.Queue, *, kind: str,
                 api_version: str, timeout: tuple[float, float], context: str, window: int = WATCH_WINDOW_S):
        super().__init__(name=f"watch-{resource}", daemon=True)
        self.resource, self.list_fn, self.args, self.out = resource, list_fn, args, out
        self.kind, self.api_version = kind, api_version
        self.timeout, self.context, self.window = timeout, context, window
        self.known: dict[str, dict] = {}
        self.rv: str | None = None
        self.listed = threading.Event()
        self.stopped = threading.Event()
        self.relisted = 0
        self.reconnects = 0
        self.error: str | None = None   # the last failure, described safely
        self.first: list[dict] = []     # the first list's objects
        self._resp = None
        self._force_rv: str | None = None

    # -- the consumer's side ------------------------------------------------------------------------

    def initial(self, timeout: float) -> list[dict]:
        """Wait for the first list; its objects (raises RuntimeError with the reason when it failed)."""
        if not self.listed.wait(timeout) or self.rv is None:
            raise RuntimeError(self.error or f"listing {self.resource} took longer than {timeout:.0f} s")
        return list(self.first)

    def stop(self) -> None:
        self.stopped.set()
        self.cut()

    def catch_up(self) -> None:
        """Stop watching, then list once more and deliver what differs from what was delivered: the end of a
        run must not wait for a watch that is still reconnecting (or backing off) to bring the last changes.
        Called from the consumer's thread; the watcher's own thread has ended first."""
        self.stop()
        self.join(self.timeout[1] + 2)
        if self.is_alive():
            raise RuntimeError(f"the {self.resource} watch did not stop")
        if self.rv is not None:
            self._list(initial=False)

    def expire_next(self) -> None:
        """The next watch starts from resourceVersion 1, older than any watch cache keeps: the server answers
        410 Gone (a test's fault, standing in for a compaction while the watch was down)."""
        self._force_rv = "1"

    def cut(self) -> None:
        """Drop the current watch connection: to stop, or as a test's fault (the thread then recovers)."""
        resp = self._resp
        if resp is not None:
            try:
                resp.shutdown()
            except Exception:
                resp.close()

    # -- the thread -----------------------------------------------------------------------------------

    def run(self) -> None:
        failures = 0
        while not self.stopped.is_set():
            try:
                if self.rv is None:
                    self._list(initial=not self.listed.is_set())
                    self.listed.set()
                self._watch_once()
                failures = 0
            except Exception as exc:
                from kubernetes.client.exceptions import ApiException

                if isinstance(exc, ApiException) and exc.status == 410:
                    log.info("watch %s: 410 Gone at resourceVersion %s; listing again", self.resource, self.rv)
                    self.relisted += 1
                    self.rv = None          # the next pass lists again and delivers the differences
                    continue
                if self.stopped.is_set():
                    break
                self.error = describe(exc, self.context)
                self.reconnects += 1
                if not self.listed.is_set() and failures >= 2:
                    self.listed.set()       # the first list failed three times: initial() reports the error
                    return
                log.info("watch %s: %s; again in a moment", self.resource, self.error)
                self.stopped.wait(BACKOFF_S[min(failures, len(BACKOFF_S) - 1)])
                failures += 1

    def _list(self, initial: bool) -> None:
        resp = self.list_fn(*self.args, _preload_content=False, _request_timeout=self.timeout)
        body = json.loads(resp.data)
        items = body.get("items") or []
        seen: dict[str, dict] = {}
        for obj in items:
            obj.setdefault("kind", self.kind)
            obj.setdefault("apiVersion", self.api_version)
            seen[object_key(obj)] = obj
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if initial:
            self.first = items
        else:
            # A relist (after 410, or the last one at the end of a run): what changed that no watch delivered.
            for key, obj in seen.items():
                old = self.known.get(key)
                if old is None:
                    self._put("ADDED", obj)
                elif (old.get("metadata") or {}).get("resourceVersion") != (obj.get("metadata") or {}).get("resourceVersion"):
                    self._put("MODIFIED", obj)
            for key, old in self.known.items():
                if key not in seen:
                    gone = copy.deepcopy(old)
                    gone["metadata"]["resourceVersion"] = rv   # deleted at or before the list's revision
                    self._put("DELETED", gone, relist=True)
        self.known = seen
        self.rv = rv

    def _watch_once(self) -> None:
        """One watch request, read line by line (kubernetes.watch.Watch is not used: with deserialize=False its
        handling of an ERROR event fails on a key it only sets when deserializing)."""
        from kubernetes.client.exceptions import ApiException
        from kubernetes.watch.watch import iter_resp_lines

        rv = self._force_rv or self.rv
        resp = self._resp = self.list_fn(*self.args, watch=True, resource_version=rv, allow_watch_bookmarks=True,
                                         timeout_seconds=self.window, _preload_content=False,
                                         _request_timeout=(self.timeout[0], self.window + READ_GRACE_S))
        self._force_rv = None   # (kept until a watch request gets through)
        try:
            for line in iter_resp_lines(resp):
                if self.stopped.is_set():
                    return
                if not line:
                    continue
                ev = json.loads(line)
                typ, obj = ev.get("type"), ev.get("object") or {}
                if typ == "ERROR":
                    # A Status: 410 Gone when resourceVersion is too old (the caller lists again).
                    raise ApiException(status=obj.get("code") or 500, reason=obj.get("reason") or "watch error")
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if typ == "BOOKMARK":
                    if rv:
                        self.rv = rv
                    continue
                if typ not in ("ADDED", "MODIFIED", "DELETED"):
                    continue
                key = object_key(obj)
                if typ == "DELETED":
                    self.known.pop(key, None)
                else:
                    self.known[key] = obj
                if rv:
                    self.rv = rv
                self._put(typ, obj)
        finally:
            self._resp = None
            resp.close()
            resp.release_conn()

    def _put(self, typ: str, obj: dict, relist: bool = False) -> None:
        self.out.put((self.resource, typ, obj, relist))


def wait_all(watchers: list[Watcher], timeout: float) -> dict[str, list[dict]]:
    deadline = time.monotonic() + timeout
    return {w.resource: w.initial(max(0.1, deadline - time.monotonic())) for w in watchers}
