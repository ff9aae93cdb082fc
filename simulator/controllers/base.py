"""The controller framework of kube-controller-manager: shared informers, rate-limited work queues and
reconcile loops.

Upstream pieces modelled here:
- client-go tools/cache shared informers (one LIST+WATCH per resource per process, an indexer as the
  local cache, event handlers fanned out to every controller that registered one) - `SharedInformer`.
- client-go util/workqueue: a key is queued at most once ("dirty" set), never handed to two workers at
  once ("processing" set; a key added while processed is re-queued by Done), with
  `DefaultTypedControllerRateLimiter` (per-item exponential back-off 5 ms * 2^n up to 1000 s) for
  AddRateLimited, Forget to reset it, and AddAfter - `WorkQueue`.
- the controller pattern of pkg/controller/*: handlers only enqueue a key "ns/name"; a worker pops the
  key, reads the current state from the informer caches and makes the world match the spec (`sync`).
- client-go tools/record (core/v1 Events): `Controller.record_event` posts an Event with the
  controller's source component (e.g. "replicaset-controller"), named "<object>.<hex UnixNano>".
"""
from __future__ import annotations

import bisect
import copy
from collections import deque
from typing import Any, Callable, Generator, Iterable

from .. import clock
from ..apiserver import registry

# workqueue.DefaultTypedControllerRateLimiter: NewTypedItemExponentialFailureRateLimiter(5ms, 1000s)
BASE_DELAY = 0.005
MAX_DELAY = 1000.0


def key_of(obj: dict) -> str:
    """cache.MetaNamespaceKeyFunc: "<namespace>/<name>", or "<name>" for cluster-scoped objects."""
    m = obj.get("metadata", {})
    return f"{m['namespace']}/{m['name']}" if m.get("namespace") else m.get("name", "")


def split_key(key: str) -> tuple[str, str]:
    """cache.SplitMetaNamespaceKey."""
    if "/" in key:
        ns, name = key.split("/", 1)
        return ns, name
    return "", key


def controller_ref(obj: dict) -> dict | None:
    """metav1.GetControllerOf: the ownerReference with controller=true."""
    for o in obj.get("metadata", {}).get("ownerReferences", []) or []:
        if o.get("controller"):
            return o
    return None


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """metav1.LabelSelectorAsSelector(...).Matches: matchLabels AND every matchExpression.
    An empty selector matches everything; a nil one (None) nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def map_selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """labels.SelectorFromSet for a Service's spec.selector (a plain map). Services with no selector get
    no endpoints from the controllers (an empty map selects nothing here, as upstream skips them)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def condition(obj: dict, ctype: str) -> dict | None:
    for c in obj.get("status", {}).get("conditions", []) or []:
        if c.get("type") == ctype:
            return c
    return None


def pod_ready(pod: dict) -> bool:
    """podutil.IsPodReady: the Ready condition is True. (`condition`, inlined: controllers call this for
    every Pod of a workload on each sync.)"""
    for c in pod.get("status", {}).get("conditions", []) or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def parse_time(ts: str | None) -> float | None:
    """RFC 3339 (as clock.rfc3339 writes) back to virtual seconds."""
    if not ts:
        return None
    import datetime as _dt
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if "." in ts else "%Y-%m-%dT%H:%M:%SZ"
    d = _dt.datetime.strptime(ts, fmt).replace(tzinfo=_dt.timezone.utc)
    return (d - clock.EPOCH).total_seconds()


# ---------------------------------------------------------------------------------------------------
class WorkQueue:
    """client-go workqueue (Typed rate-limiting queue), on virtual time."""

    def __init__(self, env, name: str):
        self.env = env
        self.name = name
        self.queue: deque[str] = deque()
        self.dirty: set[str] = set()
        self.processing: set[str] = set()
        self.failures: dict[str, int] = {}
        self.shutting_down = False
        self._waiters: list = []
        self.adds = 0

    def __len__(self) -> int:
        return len(self.queue)

    def add(self, key: str) -> None:
        if self.shutting_down or key in self.dirty:
            return  # de-duplicated: the key is already waiting
        self.adds += 1
        self.dirty.add(key)
        if key in self.processing:
            return  # Done() will put it back
        self.queue.append(key)
        if self._waiters:
            self._waiters.pop(0).resolve(None)

    def add_after(self, key: str, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        self.env.schedule(delay, lambda: self.add(key))

    def when(self, key: str) -> float:
        """ItemExponentialFailureRateLimiter.When: 5 ms * 2^failures, capped at 1000 s."""
        n = self.failures.get(key, 0)
        self.failures[key] = n + 1
        return min(BASE_DELAY * (2 ** n), MAX_DELAY)

    def add_rate_limited(self, key: str) -> None:
        self.add_after(key, self.when(key))

    def forget(self, key: str) -> None:
        self.failures.pop(key, None)

    def num_requeues(self, key: str) -> int:
        return self.failures.get(key, 0)

    def get(self):
        """A Future resolving with the next key (or None on shutdown)."""
        fut = self.env.future()
        if self.queue:
            fut.resolve(self._pop())
        elif self.shutting_down:
            fut.resolve(None)
        else:
            self._waiters.append(_Waiter(self, fut))
        return fut

    def _pop(self) -> str:
        key = self.queue.popleft()
        self.processing.add(key)
        self.dirty.discard(key)
        return key

    def done(self, key: str) -> None:
        self.processing.discard(key)
        if key in self.dirty:
            self.queue.append(key)
            if self._waiters:
                self._waiters.pop(0).resolve(None)

    def shutdown(self) -> None:
        self.shutting_down = True
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            if not w.fut.done:
                w.fut.resolve(None)


class _Waiter:
    __slots__ = ("q", "fut")

    def __init__(self, q: WorkQueue, fut):
        self.q, self.fut = q, fut

    def resolve(self, _v) -> None:
        if self.fut.done:
            return
        if self.q.queue:
            self.fut.resolve(self.q._pop())
        elif self.q.shutting_down:
            self.fut.resolve(None)
        else:
            self.q._waiters.append(self)


# ---------------------------------------------------------------------------------------------------
class SharedInformer:
    """One LIST + WATCH of a resource for the whole controller-manager; an indexer keyed "ns/name".

    Like client-go's cache.Indexer (tools/cache/thread_safe_store.go), the store keeps indices that are
    updated on every add, update and delete, so a lister reads one bucket instead of scanning the store:
    the namespace index (cache.NamespaceIndex, what `list(ns)` reads) and any added with `add_index`
    (e.g. the ReplicaSet controller's Pods by controller UID). Invariant: every bucket, and the list of
    all keys, is kept in key order - the order `sorted(store)` gives - so listers return the same
    sequence as sorting the whole store per call did, at O(bucket) instead of O(store log store)."""

    def __init__(self, api, resource: str, who: dict, is_running: Callable[[], bool]):
        self.api = api
        self.resource = resource
        self.who = who
        self.is_running = is_running
        self.store: dict[str, dict] = {}
        self.handlers: list[Callable[[str, dict | None, dict], None]] = []
        self.started = False
        self._keys: list[str] = []                                   # every key, in order
        self._indexers: dict[str, Callable[[str, dict], Iterable]] = {NAMESPACE_INDEX: _namespace_of}
        self._indices: dict[str, dict[Any, list[str]]] = {NAMESPACE_INDEX: {}}

    def add_handler(self, fn: Callable[[str, dict | None, dict], None]) -> None:
        """fn(kind, old, new): kind ADDED / MODIFIED / DELETED (for DELETED, new is the last state).

        A handler added to an informer that has already listed is handed a synthetic ADDED for every
        object in the cache, in key order, before any later change: client-go tools/cache
        shared_informer.go AddEventHandlerWithOptions ("send synthetic "Add" events to the new handler",
        addNotification{isInInitialList: true}). A late handler therefore misses nothing."""
        self.handlers.append(fn)
        if self.started:
            for k in list(self._keys):
                fn("ADDED", None, self.store[k])

    def add_index(self, name: str, fn: Callable[[str, dict], Iterable]) -> None:
        """cache.Indexer.AddIndexers: fn(key, obj) gives the (hashable) index values of an object."""
        if name in self._indexers:
            return
        self._indexers[name] = fn
        index: dict[Any, list[str]] = {}
        self._indices[name] = index
        for k in self._keys:   # already in key order: appending keeps every bucket ordered
            for v in fn(k, self.store[k]):
                index.setdefault(v, []).append(k)

    def start(self) -> None:
        if not self.started:
            self.started = True
            self.api.watch(self.resource, self.who, self._on_event)
        # The initial LIST: replace the store; every object is delivered as an add (as after a relist).
        fresh = {}
        # Read-only objects shared with the other informers (and with the watch events' objects).
        for obj in getattr(self.api, "list_shared", self.api.list)(registry.prefix(self.resource)):
            if obj is not None:
                fresh[key_of(obj)] = obj
        gone = [k for k in self.store if k not in fresh]
        for k in gone:
            old = self._delete(k)
            for h in list(self.handlers):
                h("DELETED", old, old)
        for k, obj in fresh.items():
            old = self._put(k, obj)
            for h in list(self.handlers):
                h("ADDED" if old is None else "MODIFIED", old, obj)

    def _on_event(self, kind: str, obj: dict) -> None:
        if not self.is_running():
            return  # a stopped (or standby) controller-manager's informers deliver nothing
        k = key_of(obj)
        old = self.store.get(k)
        if kind == "DELETED":
            if old is None:
                return
            self._delete(k)
        else:
            if old is not None and _rv(old) > _rv(obj):
                return  # an older state than the one already listed
            self._put(k, obj)
            kind = "ADDED" if old is None else "MODIFIED"
        for h in list(self.handlers):
            h(kind, old, obj)

    def _put(self, k: str, obj: dict) -> dict | None:
        """Store obj under k and update the indices; returns the previous object."""
        old = self.store.get(k)
        self.store[k] = obj
        if old is None:
            _insort(self._keys, k)
        for name, fn in self._indexers.items():
            index = self._indices[name]
            before = () if old is None else fn(k, old)
            after = fn(k, obj)
            if before == after:
                continue
            for v in before:
                if v not in after:
                    _remove(index, v, k)
            for v in after:
                if v not in before:
                    _insort(index.setdefault(v, []), k)
        return old

    def _delete(self, k: str) -> dict:
        old = self.store.pop(k)
        keys = self._keys
        del keys[bisect.bisect_left(keys, k)]
        for name, fn in self._indexers.items():
            for v in fn(k, old):
                _remove(self._indices[name], v, k)
        return old

    # listers
    def get(self, key: str) -> dict | None:
        return self.store.get(key)

    def list(self, namespace: str | None = None) -> list[dict]:
        store = self.store
        if namespace is None:
            return [store[k] for k in self._keys]
        return [store[k] for k in self._indices[NAMESPACE_INDEX].get(namespace, ())]

    def by_index(self, name: str, value: Any) -> list[dict]:
        """cache.Indexer.ByIndex: the objects whose index `name` holds value, in key order."""
        store = self.store
        return [store[k] for k in self._indices[name].get(value, ())]


NAMESPACE_INDEX = "namespace"


def _namespace_of(key: str, obj: dict) -> tuple[str, ...]:
    """cache.MetaNamespaceIndexFunc, from the key: cluster-scoped objects ("name", no "/") are in no
    namespace bucket, as `list(ns)` never returned them."""
    i = key.find("/")
    return (key[:i],) if i >= 0 else ()


def _insort(keys: list[str], k: str) -> None:
    i = bisect.bisect_left(keys, k)
    if i == len(keys) or keys[i] != k:
        keys.insert(i, k)


def _remove(index: dict[Any, list[str]], v: Any, k: str) -> None:
    keys = index.get(v)
    if not keys:
        return
    i = bisect.bisect_left(keys, k)
    if i < len(keys) and keys[i] == k:
        del keys[i]
        if not keys:
            del index[v]


def _rv(obj: dict) -> int:
    try:
        return int(obj.get("metadata", {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


# ---------------------------------------------------------------------------------------------------
class Controller:
    """A reconcile loop: informer handlers enqueue keys; `WORKERS` workers run `sync(key)` generators.

    Subclasses set NAME (the --controllers name), SOURCE (the Event source component), RESOURCES (the
    informers they use) and implement `register()` (add handlers) and `sync(key)` (a generator that may
    yield Futures from client calls, and returns an (action, desired, current) triple for the trace).
    """
    NAME = ""
    SOURCE = ""
    WORKERS = 1
    RESOURCES: tuple[str, ...] = ()

    def __init__(self, cm):
        self.cm = cm
        self.env = cm.env
        self.rng = cm.rng
        self.tracer = cm.tracer
        client_for = getattr(cm, "client_for", None)
        self.client = client_for(self.NAME) if client_for is not None else cm.client
        self.inf = cm.informers
        self.queue = WorkQueue(self.env, self.NAME)
        self.running = False
        self.last: dict[str, Any] = {}   # the last reconcile (for the dashboard)
        self.syncs = 0
        self._registered = False
        self._last_event_ns = 0

    # -- lifecycle --
    def register_handlers(self) -> None:
        """Add this controller's informer event handlers, once. The controller-manager calls it before it
        starts the informers, as kube-controller-manager constructs every controller (NewXController adds
        the handlers) before InformerFactory.Start (cmd/kube-controller-manager/app/controllermanager.go
        Run: StartControllers, then InformerFactory.Start), so the initial LIST reaches every handler."""
        if not self._registered:
            self._registered = True
            self.register()

    def start(self) -> None:
        self.running = True
        if self.queue.shutting_down:
            self.queue = WorkQueue(self.env, self.NAME)
        self.register_handlers()
        for _ in range(self.WORKERS):
            self.env.process(self._worker())
        self.on_start()

    def on_start(self) -> None:
        """Periodic loops (node monitor, resync) start here."""

    def stop(self) -> None:
        self.running = False
        self.queue.shutdown()

    def register(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def enqueue(self, obj_or_key) -> None:
        if not self.running:
            return
        self.queue.add(obj_or_key if isinstance(obj_or_key, str) else key_of(obj_or_key))

    def _worker(self) -> Generator:
        q = self.queue
        while self.running and not q.shutting_down:
            key = yield q.get()
            if key is None or not self.running:
                if key is not None:
                    q.done(key)
                return
            try:
                result = yield from self.sync(key)
            except RequeueError as e:
                result = ("error", None, None, str(e))
            self.syncs += 1
            if result is not None and len(result) == 4:
                action, desired, current, err = result
                q.done(key)
                q.add_rate_limited(key)  # handleErr: AddRateLimited
                if "has been modified" in str(err):
                    # 409 Conflict: the informer's copy was older than the stored object. Normal; retried.
                    self._trace(key, desired, current, f"conflict (stale cache), requeued: {str(err).split(':')[0]}")
                else:
                    self._trace(key, desired, current, f"error: {err}")
            else:
                q.forget(key)
                q.done(key)
                if result is not None:
                    action, desired, current = result
                    self._trace(key, desired, current, action)

    def sync(self, key: str) -> Generator:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def _trace(self, key: str, desired, current, action: str) -> None:
        if not self.running:
            return
        self.last = {"key": key, "desired": desired, "current": current, "action": action, "t": round(self.env.now, 3)}
        if action == "none" and not self.cm.trace_noops:
            return
        if not self.tracer.wants(None, "controller.reconcile"):
            self.tracer.count("controller-manager", "controller.reconcile", None, self.cm.instance,
                              f"{self.NAME}: sync {key}: {action}")
            return
        self.tracer.emit("controller-manager", self.cm.instance, "controller.reconcile",
                         f"{self.NAME}: sync {key}: {action}",
                         {"controller": self.NAME, "key": key, "desired": desired, "current": current,
                          "action": action, "queue": len(self.queue)})

    # -- writes --
    def record_event(self, obj: dict, etype: str, reason: str, message: str) -> None:
        """client-go tools/record EventRecorder.Eventf: a core/v1 Event, posted asynchronously."""
        if not self.running:
            return
        m = obj["metadata"]
        kind = obj.get("kind", "")
        ns = m.get("namespace") or "default"  # record: events of cluster-scoped objects go to "default"
        nanos = clock.unix_nano(self.env.now)
        if nanos <= self._last_event_ns:
            nanos = self._last_event_ns + 1  # two events in the same virtual instant keep distinct names
        self._last_event_ns = nanos
        ts = clock.rfc3339(self.env.now)
        involved = {"kind": kind, "namespace": m.get("namespace", ""), "name": m["name"], "uid": m.get("uid", ""),
                    "apiVersion": obj.get("apiVersion", ""), "resourceVersion": m.get("resourceVersion", "")}
        if not m.get("namespace"):
            del involved["namespace"]
        ev = {"kind": "Event", "apiVersion": "v1",
              "metadata": {"name": f"{m['name']}.{nanos:x}", "namespace": ns},
              "involvedObject": involved, "reason": reason, "message": message,
              "source": {"component": self.SOURCE}, "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
              "type": etype, "eventTime": None, "reportingComponent": self.SOURCE, "reportingInstance": ""}
        self.client.create("events", ev, namespace=ns)


class RequeueError(Exception):
    """Raised inside a sync to have the key re-queued with back-off (a failed write, a conflict)."""


def ok(resp) -> bool:
    return resp is not None and getattr(resp, "code", 500) < 400


def check(resp, what: str):
    """Raise RequeueError unless the response is a success (the sync's `return err`)."""
    if not ok(resp):
        code = getattr(resp, "code", "?")
        msg = ((getattr(resp, "status", None) or {}).get("message", "")) if resp is not None else "no response"
        raise RequeueError(f"{what}: {code} {msg}".strip())
    return resp.body


def deep(obj: Any) -> Any:
    return copy.deepcopy(obj)


def owned_by(objs: Iterable[dict], owner_uid: str) -> list[dict]:
    return [o for o in objs if (controller_ref(o) or {}).get("uid") == owner_uid]
