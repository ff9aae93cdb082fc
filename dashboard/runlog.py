"""A run's log, snapshot, control queue and status in Redis, and the DB archive behind them.

Plain functions over redis-py; no views, no Celery. Keys, for a run id `<hex>`:

- `run:<hex>:log`  a stream; entry id `<seq>-0`, field `e` = the event as compact JSON. XADD with an explicit
  id makes appending idempotent: Redis refuses an id not greater than the last one, so an event cannot be
  logged twice; a refusal where the log holds this very event counts as done (a command retried after its
  reply was lost). Trimmed to ~DASHBOARD_LOG_MAXLEN entries.
- `run:<hex>:snap` the latest snapshot, JSON `{"seq": N, "state": {...}}`: the reducer folded over 1..N.
- `run:<hex>:ctl`  a list of control messages (JSON), RPUSHed by the API and popped by the task.
- `run:<hex>:meta` a hash: status, paused ("0"/"1"), speed, last_seq, resumes (executions after the first).
- `run:<hex>:lock` the per-run lock: a random token of the one execution allowed to append, with a lease
  (PX) it renews as it goes. An execution whose lease lapsed (its worker was killed) can be replaced; the
  replacement resumes after the last logged event. Appends are fenced by it (`append(..., lock=)`), so an
  execution that lost the lock cannot write even one more event.

The log is the truth for live viewers (each server process follows it, dashboard/feed.py). When the run ends the
events and the final snapshot are in the DB (RunEvent, RunSnapshot; archived in batches during the run
too), and `read_since` falls back to them once the stream is gone.
"""
from __future__ import annotations

import asyncio
import json
import re
import uuid

import redis
import redis.asyncio as aredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff, ExponentialWithJitterBackoff
from redis.retry import Retry
from channels.db import database_sync_to_async
from django.conf import settings

ENTRY_FIELD = "e"
# How long a finished run's Redis keys stay (the DB archive serves it afterwards).
FINISHED_TTL = 24 * 3600


class TooOld(Exception):
    """`since + 1` is older than the oldest event the stream still keeps: resync from a snapshot."""


def run_hex(run_id) -> str:
    return run_id.hex if isinstance(run_id, uuid.UUID) else uuid.UUID(str(run_id)).hex


def log_key(run_id) -> str:
    return f"run:{run_hex(run_id)}:log"


def snap_key(run_id) -> str:
    return f"run:{run_hex(run_id)}:snap"


def ctl_key(run_id) -> str:
    return f"run:{run_hex(run_id)}:ctl"


def meta_key(run_id) -> str:
    return f"run:{run_hex(run_id)}:meta"


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# -- clients ------------------------------------------------------------------------------------------

_sync_clients: dict[str, redis.Redis] = {}
_async_clients: dict[tuple[int, str], aredis.Redis] = {}


def client() -> redis.Redis:
    """A redis-py client for REDIS_URL (read at call time, so tests can point it elsewhere).

    redis-py's pool notices a fork (Celery's prefork children) and opens fresh connections there.
    """
    url = settings.REDIS_URL
    c = _sync_clients.get(url)
    if c is None:
        c = _sync_clients[url] = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                                      socket_timeout=settings.REDIS_SOCKET_TIMEOUT)
    return c


# The worker rides out a Redis restart instead of failing the run: each command is retried on connection
# errors for about a minute (backoff 0.05 s doubling to 1 s, 60 tries). Safe because what it sends is
# idempotent: XADD under an explicit id (append() reads a refusal of its own event as done), SET/HSET, and
# the lock scripts. A retry may follow a command Redis did run but never answered (a Redis stopping with
# SIGTERM), so "idempotent" has to hold for that case too. redis-py's default (10 tries, at most ~1 s each)
# gives up within seconds. Web requests keep the default: they should fail fast.
WORKER_RETRY = Retry(ExponentialBackoff(cap=1.0, base=0.05), 60)


def worker_client() -> redis.Redis:
    """The client a run's execution uses: as client(), but patient with a Redis that went away."""
    url = settings.REDIS_URL
    key = "worker:" + url
    c = _sync_clients.get(key)
    if c is None:
        c = _sync_clients[key] = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                                      socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                                                      retry=WORKER_RETRY)
    return c


# What redis.asyncio.Redis gives its connections unless told otherwise (a pool of our own gets no retry at
# all), with shorter waits: a connection that went stale while Redis restarted is replaced, once or twice,
# instead of failing the socket's request.
ASYNC_RETRY = AsyncRetry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 3)


def async_client() -> aredis.Redis:
    """An asyncio client bound to the running event loop (Daphne runs one)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), settings.REDIS_URL)
    c = _async_clients.get(key)
    if c is None:
        # A blocking pool: at its limit a command waits for a free connection instead of failing (redis-py's
        # default pool raises "Too many connections" at 100, which a class reconnecting at once reaches).
        pool = aredis.BlockingConnectionPool.from_url(settings.REDIS_URL, decode_responses=True,
                                                      socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                                                      max_connections=settings.REDIS_MAX_CONNECTIONS, timeout=20,
                                                      driver_info=settings.REDIS_DRIVER_INFO,
                                                      retry=ASYNC_RETRY)
        c = _async_clients[key] = aredis.Redis(connection_pool=pool)
    return c


# -- the log ------------------------------------------------------------------------------------------

class LockLost(Exception):
    """Another execution holds this run's lock now: stop, without writing anything more."""


# KEYS: lock, log. ARGV: token, lease ms, entry id, payload, maxlen. Append only while holding the lock, and
# renew its lease in the same step. A lock that vanished (a Redis that lost its data) is taken again.
_FENCED_XADD = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], ARGV[3], 'e', ARGV[4])
return 1
"""


def append(run_id, event: dict, r: redis.Redis | None = None, lock: "RunLock | None" = None) -> bool:
    """Append one event (its `seq` is the entry id). False if another event was already there under that
    id; True if this very event was (a retry after a lost reply), so appending is idempotent.

    With `lock`, only while holding it (else LockLost), renewing its lease."""
    r = r or client()
    entry_id, payload = f"{event['seq']}-0", dumps(event)
    try:
        if lock is None:
            r.xadd(log_key(run_id), {ENTRY_FIELD: payload}, id=entry_id,
                   maxlen=settings.DASHBOARD_LOG_MAXLEN, approximate=True)
        elif not r.eval(_FENCED_XADD, 2, lock.key, log_key(run_id), lock.token, lock.lease_ms, entry_id, payload,
                        settings.DASHBOARD_LOG_MAXLEN):
            raise LockLost(f"run {run_hex(run_id)}: another execution holds the lock")
    except redis.ResponseError as exc:
        if "equal or smaller" in str(exc):
            # Ours already, if a retried command is what found it: Redis ran the first attempt but the
            # reply was lost (a Redis stopping with SIGTERM executes what it has read, writes its
            # append-only file, and exits without answering). Anything else under that id is a refusal.
            stored = r.xrange(log_key(run_id), entry_id, entry_id)
            return bool(stored) and stored[0][1].get(ENTRY_FIELD) == payload
        raise
    return True


def last_logged_seq(run_id, r: redis.Redis | None = None) -> int:
    """The seq of the newest event in the stream (0 when there is none)."""
    entries = (r or client()).xrevrange(log_key(run_id), count=1)
    return int(entries[0][0].split("-")[0]) if entries else 0


# -- the per-run lock -----------------------------------------------------------------------------------

# KEYS: lock. ARGV: token, lease ms. Take the lock if it is free, or extend it if this token holds it. So
# acquire and renew are one script, and both are idempotent: a retry after a lost reply finds its own token.
_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RunLock:
    """At most one execution of a run at a time: a token under `run:<hex>:lock` with a lease."""

    def __init__(self, run_id, lease: float, r: redis.Redis):
        self.key = f"run:{run_hex(run_id)}:lock"
        self.token = uuid.uuid4().hex
        self.lease_ms = int(lease * 1000)
        self.r = r

    def acquire(self) -> bool:
        return bool(self.r.eval(_TAKE, 1, self.key, self.token, self.lease_ms))

    def renew(self) -> None:
        if not self.r.eval(_TAKE, 1, self.key, self.token, self.lease_ms):
            raise LockLost(f"{self.key}: another execution holds the lock")

    def release(self) -> None:
        self.r.eval(_RELEASE, 1, self.key, self.token)


def lock_held(run_id, r: redis.Redis | None = None) -> bool:
    return bool((r or client()).exists(f"run:{run_hex(run_id)}:lock"))


def _decode(entries) -> list[dict]:
    return [json.loads(fields[ENTRY_FIELD]) for _id, fields in entries]


def _check_contiguous(events: list[dict], since: int) -> list[dict]:
    if events and events[0]["seq"] != since + 1:
        # The log is gapless, so a later first entry means the ones we need were trimmed away.
        raise TooOld(f"oldest kept event is {events[0]['seq']}, wanted {since + 1}")
    return events


def _archived_since(run_id, since: int, count: int) -> list[dict]:
    from .models import RunEvent

    rows = (RunEvent.objects.filter(run_id=uuid.UUID(run_hex(run_id)), seq__gt=since)
            .order_by("seq").values_list("data", flat=True)[:count])
    return _check_contiguous(list(rows), since)


def read_since(run_id, since: int, count: int = 1000) -> list[dict]:
    """Up to `count` events with seq > since, in order; raises TooOld; falls back to the DB archive."""
    r = client()
    key = log_key(run_id)
    entries = r.xrange(key, min=f"{since + 1}-0", max="+", count=count)
    if entries:
        return _check_contiguous(_decode(entries), since)
    if r.exists(key):
        return []
    return _archived_since(run_id, since, count)


async def aread_raw_since(run_id, since: int, count: int = 1000) -> list[tuple[int, str]]:
    """For consumers: up to `count` (seq, compact JSON) pairs with seq > since, in order, as logged - the
    JSON is passed on to viewers without being decoded and encoded again. Raises TooOld; falls back to the
    DB archive once the stream is gone. asyncio Redis, ORM in a thread."""
    r = async_client()
    key = log_key(run_id)
    entries = await r.xrange(key, min=f"{since + 1}-0", max="+", count=count)
    if entries:
        items = [(int(entry_id.split("-", 1)[0]), fields[ENTRY_FIELD]) for entry_id, fields in entries]
        if items[0][0] != since + 1:
            raise TooOld(f"oldest kept event is {items[0][0]}, wanted {since + 1}")
        return items
    if await r.exists(key):
        return []
    events = await database_sync_to_async(_archived_since)(run_id, since, count)
    return [(e["seq"], dumps(e)) for e in events]


def iter_all_since(run_id, since: int, batch: int = 1000):
    """Every event after `since` that exists anywhere (DB archive first, then the stream), in order.

    For the JSON Lines export: unlike read_since it never gives up when the stream was trimmed, because the
    task archives to the DB in batches as it goes.
    """
    last = since
    while True:
        try:
            events = read_since(run_id, last, batch)
        except TooOld:
            events = _archived_since(run_id, last, batch) if _has_archived(run_id, last + 1) else []
        if not events:
            return
        yield from events
        last = events[-1]["seq"]


def _has_archived(run_id, seq: int) -> bool:
    from .models import RunEvent

    return RunEvent.objects.filter(run_id=uuid.UUID(run_hex(run_id)), seq=seq).exists()


def read_stream(run_id, batch: int = 1000):
    """Every event still in the stream, in order (for archiving)."""
    r = client()
    key = log_key(run_id)
    start = "-"
    while True:
        entries = r.xrange(key, min=start, max="+", count=batch)
        if not entries:
            return
        yield from _decode(entries)
        last_id = entries[-1][0]
        start = "(" + last_id


# -- snapshots ----------------------------------------------------------------------------------------

def store_snapshot(run_id, seq: int, state: dict, r: redis.Redis | None = None) -> None:
    (r or client()).set(snap_key(run_id), dumps({"seq": seq, "state": state}))


def _initial_snapshot() -> tuple[int, dict]:
    from simulator import state as sim_state

    return 0, sim_state.initial()


def _archived_snapshot(run_id) -> tuple[int, dict] | None:
    from .models import RunSnapshot

    row = (RunSnapshot.objects.filter(run_id=uuid.UUID(run_hex(run_id))).order_by("-seq")
           .values_list("seq", "state").first())
    return (row[0], row[1]) if row else None


def latest_snapshot(run_id) -> tuple[int, dict]:
    """(seq, state): Redis, else the DB archive, else the reducer's initial state at seq 0."""
    raw = client().get(snap_key(run_id))
    if raw:
        snap = json.loads(raw)
        return snap["seq"], snap["state"]
    return _archived_snapshot(run_id) or _initial_snapshot()


_SNAP_HEAD = re.compile(r'\{"seq":(\d+),"state":')


async def alatest_snapshot_raw(run_id) -> tuple[int, str]:
    """(seq, the state as JSON text) for consumers, who pass it on without decoding it: Redis (as
    store_snapshot wrote it), else the DB archive, else the initial state at seq 0."""
    raw = await async_client().get(snap_key(run_id))
    if raw:
        head = _SNAP_HEAD.match(raw)
        if head and raw.endswith("}"):
            return int(head.group(1)), raw[head.end():-1]
        snap = json.loads(raw)
        return snap["seq"], dumps(snap["state"])
    seq, state = await database_sync_to_async(_archived_snapshot)(run_id) or _initial_snapshot()
    return seq, dumps(state)


# -- control ------------------------------------------------------------------------------------------

def push_control(run_id, message: dict) -> None:
    r = client()
    key = ctl_key(run_id)
    with r.pipeline() as p:
        p.rpush(key, dumps(message))
        p.expire(key, FINISHED_TTL)
        p.execute()


def pop_controls(run_id, r: redis.Redis | None = None) -> list[dict]:
    """Every waiting control message, oldest first, without blocking."""
    r = r or client()
    key = ctl_key(run_id)
    with r.pipeline() as p:  # MULTI: read and clear atomically, so no message is lost in between
        p.lrange(key, 0, -1)
        p.delete(key)
        raw, _ = p.execute()
    return [json.loads(m) for m in raw]


# A blocking wait is cut to this, well under REDIS_SOCKET_TIMEOUT; callers loop.
MAX_BLOCK = 5.0


def wait_control(run_id, timeout: float, r: redis.Redis | None = None) -> dict | None:
    """Block up to `timeout` seconds (at most MAX_BLOCK) for one control message."""
    r = r or client()
    got = r.blpop([ctl_key(run_id)], timeout=min(max(timeout, 0.01), MAX_BLOCK))
    return json.loads(got[1]) if got else None


# -- status -------------------------------------------------------------------------------------------

def set_meta(run_id, r: redis.Redis | None = None, **fields) -> None:
    (r or client()).hset(meta_key(run_id), mapping={k: str(v) for k, v in fields.items()})


async def aget_meta(run_id) -> dict:
    return await async_client().hgetall(meta_key(run_id))


# -- archive ------------------------------------------------------------------------------------------

def archive_events(run_id, events: list[dict]) -> None:
    """Store events in the DB; already-archived (run, seq) pairs are skipped, so this is idempotent."""
    from .models import RunEvent

    if not events:
        return
    rid = uuid.UUID(run_hex(run_id))
    RunEvent.objects.bulk_create([RunEvent(run_id=rid, seq=e["seq"], data=e) for e in events],
                                 ignore_conflicts=True, batch_size=500)


def archive_snapshot(run_id, seq: int, state: dict) -> None:
    from .models import RunSnapshot

    RunSnapshot.objects.update_or_create(run_id=uuid.UUID(run_hex(run_id)), seq=seq,
                                         defaults={"state": state})


def expire_run(run_id, ttl: int = FINISHED_TTL, r: redis.Redis | None = None) -> None:
    """A finished run's keys fade from Redis; the DB archive serves it afterwards."""
    r = r or client()
    with r.pipeline() as p:
        for key in (log_key(run_id), snap_key(run_id), meta_key(run_id)):
            p.expire(key, ttl)
        p.delete(ctl_key(run_id))
        p.execute()
