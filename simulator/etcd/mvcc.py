"""An MVCC store with etcd v3 semantics (go.etcd.io/etcd/server/v3/mvcc).

- One global, monotonically increasing revision. A fresh store is at revision 1 (etcd's empty store
  reports header.revision 1 before any write).
- Every write (put, delete, or a txn that writes) creates one new main revision.
- Per key: create_revision (revision of the put that created the key's current generation),
  mod_revision (revision of its last modification), version (number of modifications in the current
  generation; a delete writes a tombstone and resets it to 0, the next put starts again at 1).
- Range by key, by prefix, and at a past revision (unless compacted away).
- Txn: If(compares).Then(ops).Else(ops), all at one revision - the API server's optimistic concurrency:
  create is Txn(If(mod_revision(key) == 0)).Then(Put), update is Txn(If(mod_revision(key) == rv)).Then(Put)
  (k8s.io/apiserver/pkg/storage/etcd3/store.go).
- Watch from a revision: the events since then, in revision order, then live ones.

Values are stored as bytes-like strings (the API server stores serialized objects, not live ones), which
keeps history immutable and cheap to keep.
"""
from __future__ import annotations

import bisect
import operator
import zlib
from collections import deque
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Callable, Iterable


class CompactedError(Exception):
    """etcdserver: mvcc: required revision has been compacted"""

    def __init__(self) -> None:
        super().__init__("mvcc: required revision has been compacted")


# A value written more than _DEFLATE_LAG revisions ago - replaced since or still current - is kept deflated
# (raw DEFLATE against a preset dictionary of the Kubernetes JSON the store mostly holds: a Pod revision of
# ~2.9 KB keeps ~300 bytes) and inflated when read. The text read back is the very same, so nothing a reader
# sees changes. A replaced revision is read only by a range at a past revision, a watch replayed from the
# log, or as a prev_kv; a current one by the API server's gets and lists (its watch cache refers to etcd's
# KeyValue rather than keeping a copy of the text, and its decoded objects serve the frequent reads). A
# 150,000-Pod run keeps ~600,000 such values until the API server's compaction. Values shorter than
# _DEFLATE_MIN are kept as they are: deflating one costs ~10-15 us, which a small value (a Lease, an
# Event, the scheduler benchmark's ~1 KB Pods) does not repay; a Pod's revisions from its creation on
# (1.8-2.9 KB) do.
_DEFLATE_MIN = 1536
# Values written within the last _DEFLATE_LAG revisions stay as they are: the watchers of the write (the
# API server's watch cache) read them at once, and the next write of the same object reads its prev_kv.
_DEFLATE_LAG = 4096
_ZDICT = (
    '{"kind":"Event","apiVersion":"v1","metadata":{"name":"","namespace":"default","uid":"",'
    '"creationTimestamp":"2025-01-01T00:00:00Z"},"involvedObject":{"kind":"Pod","namespace":"default","name":"",'
    '"uid":"","apiVersion":"v1","resourceVersion":"","fieldPath":"spec.containers{"},"reason":"Scheduled",'
    '"message":"Successfully assigned default/ to worker-","source":{"component":"kubelet","host":"worker-"},'
    '"firstTimestamp":null,"lastTimestamp":null,"count":1,"type":"Normal","eventTime":null,"action":"Binding",'
    '"reportingComponent":"default-scheduler","reportingInstance":"default-scheduler-control-plane"}'
    '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"","generateName":"","namespace":"default","labels":'
    '{"app":"","pod-template-hash":""},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"",'
    '"uid":"","controller":true,"blockOwnerDeletion":true}],"uid":"","creationTimestamp":"2025-01-01T00:00:00Z"},'
    '"spec":{"containers":[{"name":"","image":"registry.k8s.io/pause:3.10","resources":{"requests":{"cpu":"100m",'
    '"memory":"128Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",'
    '"imagePullPolicy":"IfNotPresent","volumeMounts":[{"name":"kube-api-access-","readOnly":true,'
    '"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],"restartPolicy":"Always",'
    '"terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},'
    '"schedulerName":"default-scheduler","enableServiceLinks":true,"serviceAccountName":"default",'
    '"serviceAccount":"default","volumes":[{"name":"kube-api-access-","projected":{"sources":[{"serviceAccountToken":'
    '{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt",'
    '"path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1",'
    '"fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],"priority":0,"preemptionPolicy":"PreemptLowerPriority",'
    '"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",'
    '"tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",'
    '"tolerationSeconds":300}],"nodeName":"worker-"},"status":{"phase":"Pending","qosClass":"Burstable","conditions":'
    '[{"type":"PodReadyToStartContainers","status":"True","lastProbeTime":null,"lastTransitionTime":'
    '"2025-01-01T00:00:00Z"},{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":'
    '"2025-01-01T00:00:00Z"},{"type":"Ready","status":"False","lastProbeTime":null,"lastTransitionTime":'
    '"2025-01-01T00:00:00Z","reason":"ContainersNotReady","message":"containers with unready status: []"},'
    '{"type":"ContainersReady","status":"True"},{"type":"PodScheduled","status":"True","lastProbeTime":null,'
    '"lastTransitionTime":"2025-01-01T00:00:00Z"}],"hostIP":"172.18.0.","hostIPs":[{"ip":"172.18.0."}],'
    '"podIP":"10.244.","podIPs":[{"ip":"10.244."}],"startTime":"2025-01-01T00:00:00Z","containerStatuses":'
    '[{"name":"","state":{"waiting":{"reason":"ContainerCreating"},"running":{"startedAt":"2025-01-01T00:00:00Z"}},'
    '"lastState":{},"ready":false,"restartCount":0,"image":"registry.k8s.io/pause:3.10","imageID":'
    '"registry.k8s.io/pause@sha256:","containerID":"containerd://","started":true}]}}').encode()


# A compressor primed with the dictionary, copied for each value (cheaper than priming a new one). An 8 KiB
# window and memLevel 4 keep its state small to copy; for values of a few KB the output is the same size as
# with the defaults. Raw DEFLATE: the 32 KiB-window inflater below reads it.
_PRIMED = zlib.compressobj(6, zlib.DEFLATED, -13, 4, zlib.Z_DEFAULT_STRATEGY, _ZDICT)


def _deflate(text: str) -> bytes:
    c = _PRIMED.copy()
    return c.compress(text.encode("utf-8", "surrogatepass")) + c.flush()


def _inflate(data: bytes) -> str:
    d = zlib.decompressobj(-15, _ZDICT)
    return (d.decompress(data) + d.flush()).decode("utf-8", "surrogatepass")


_FIELDS = ("key", "value", "create_revision", "mod_revision", "version", "lease")


class KeyValue:
    """mvccpb.KeyValue. Immutable, compared and hashed by its fields, as the frozen dataclass it replaces.
    `value` is the stored text; a replaced revision may keep it deflated (see _deflate), which no reader sees.
    Slots: one KeyValue and one WatchEvent per revision are kept until compaction (history, watch log) -
    millions in a 150,000-Pod run - and an instance __dict__ more than doubled their size."""
    __slots__ = ("key", "_value", "create_revision", "mod_revision", "version", "lease")
    __match_args__ = _FIELDS

    def __init__(self, key: str, value: str, create_revision: int, mod_revision: int, version: int,
                 lease: int = 0) -> None:
        s = object.__setattr__
        s(self, "key", key)
        s(self, "_value", value)
        s(self, "create_revision", create_revision)
        s(self, "mod_revision", mod_revision)
        s(self, "version", version)
        s(self, "lease", lease)

    @property
    def value(self) -> str:
        v = self._value
        return v if type(v) is str else _inflate(v)

    def _deflate(self) -> None:
        v = self._value
        if type(v) is str and len(v) >= _DEFLATE_MIN:
            object.__setattr__(self, "_value", _deflate(v))

    def _astuple(self) -> tuple:
        return (self.key, self.value, self.create_revision, self.mod_revision, self.version, self.lease)

    def __setattr__(self, name: str, value) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other) -> bool:
        if other.__class__ is self.__class__:
            return self._astuple() == other._astuple()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __repr__(self) -> str:
        return "KeyValue(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in _FIELDS) + ")"

    def __reduce__(self):
        return (KeyValue, self._astuple())


class _Tombstone:
    """A delete in a key's history, at revision mod_revision."""
    __slots__ = ("mod_revision",)

    def __init__(self, mod_revision: int) -> None:
        self.mod_revision = mod_revision


_MOD_REVISION = operator.attrgetter("mod_revision")


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str               # "PUT" or "DELETE" (mvccpb.Event_EventType)
    kv: KeyValue            # for DELETE: key with mod_revision = the delete's revision, version 0, value ""
    prev_kv: KeyValue | None


@dataclass(frozen=True)
class Compare:
    """clientv3.Compare: target is "mod_revision", "create_revision", "version" or "value"."""
    key: str
    target: str
    result: str  # "==", "!=", ">", "<"
    value: object

    def holds(self, kv: KeyValue | None) -> bool:
        if self.target == "value":
            actual: object = kv.value if kv else ""
        else:
            actual = getattr(kv, self.target) if kv else 0
        return _COMPARE[self.result](actual, self.value)


_COMPARE = {"==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Op:
    kind: str  # "put", "delete", "get"
    key: str
    value: str = ""

    @staticmethod
    def put(key: str, value: str) -> "Op":
        return Op("put", key, value)

    @staticmethod
    def delete(key: str) -> "Op":
        return Op("delete", key)

    @staticmethod
    def get(key: str) -> "Op":
        return Op("get", key)


@dataclass
class TxnResponse:
    succeeded: bool
    revision: int                        # the store's revision after the txn
    responses: list = field(default_factory=list)  # per op: KeyValue (put), bool (delete), KeyValue|None (get)
    events: list[WatchEvent] = field(default_factory=list)


class MVCCStore:
    def __init__(self) -> None:
        self.revision = 1
        self.compact_revision = 0
        # key -> its revisions in order: the KeyValue a put wrote (its mod_revision is the revision), or a
        # _Tombstone for a delete. (No (revision, value) tuple per entry: 56 bytes a revision.)
        self._history: dict[str, list[KeyValue | _Tombstone]] = {}
        self._live: dict[str, KeyValue] = {}
        self._keys: list[str] = []  # all keys that have history, sorted: prefix ranges by bisect
        self._new_keys: list[str] = []  # keys created since _keys was last sorted (merged in lazily)
        self._log: list[WatchEvent] = []  # every change, in revision order (what watch replays)
        self._watchers: list[tuple[str, bool, Callable[[WatchEvent], None]]] = []
        self._aging: deque[KeyValue] = deque()  # values written lately, deflated _DEFLATE_LAG writes later

    # ---- reads -------------------------------------------------------------------------------------
    def get(self, key: str, revision: int | None = None) -> KeyValue | None:
        if revision is None or revision >= self.revision:
            return self._live.get(key)
        self._check_compacted(revision)
        hist = self._history.get(key)
        if not hist:
            return None
        i = bisect.bisect_right(hist, revision, key=_MOD_REVISION)
        if not i:
            return None
        h = hist[i - 1]
        return None if type(h) is _Tombstone else h

    def range(self, key: str, prefix: bool = False, revision: int | None = None,
              limit: int = 0, keys_only: bool = False) -> list[KeyValue]:
        """Like `etcdctl get key [--prefix] [--rev=N]`: keys in byte order."""
        if not prefix:
            kv = self.get(key, revision)
            return [kv] if kv else []
        keys = self._sorted_keys()
        lo = bisect.bisect_left(keys, key)
        out: list[KeyValue] = []
        for k in keys[lo:]:
            if not k.startswith(key):
                break
            kv = self.get(k, revision)
            if kv is not None:
                out.append(kv)
                if limit and len(out) >= limit:
                    break
        return out

    def count(self, prefix: str) -> int:
        return len(self.range(prefix, prefix=True))

    # ---- writes ------------------------------------------------------------------------------------
    def put(self, key: str, value: str) -> KeyValue:
        return self.txn([], [Op.put(key, value)]).responses[0]

    def delete(self, key: str) -> bool:
        return self.txn([], [Op.delete(key)]).responses[0]

    def txn(self, compares: Iterable[Compare], success: Iterable[Op], failure: Iterable[Op] = ()) -> TxnResponse:
        live = self._live
        ok = True
        for c in compares:   # (plain loops: cheaper than all()/any() over generators for a few items)
            if not c.holds(live.get(c.key)):
                ok = False
                break
        ops = list(success if ok else failure)
        writes = False
        for op in ops:
            if op.kind == "put" or (op.kind == "delete" and op.key in live):
                writes = True
                break
        rev = self.revision + 1 if writes else self.revision
        resp = TxnResponse(succeeded=ok, revision=rev)
        for op in ops:
            if op.kind == "get":
                resp.responses.append(self._live.get(op.key))
            elif op.kind == "put":
                prev = self._live.get(op.key)
                kv = KeyValue(op.key, op.value,
                              create_revision=prev.create_revision if prev else rev,
                              mod_revision=rev, version=(prev.version + 1) if prev else 1)
                self._record(op.key, rev, kv)
                ev = WatchEvent("PUT", kv, prev)
                resp.responses.append(kv)
                resp.events.append(ev)
            elif op.kind == "delete":
                prev = self._live.get(op.key)
                if prev is None:
                    resp.responses.append(False)
                    continue
                self._record(op.key, rev, None)
                ev = WatchEvent("DELETE", KeyValue(op.key, "", 0, rev, 0), prev)
                resp.responses.append(True)
                resp.events.append(ev)
        self.revision = rev
        aging = self._aging
        for ev in resp.events:
            self._log.append(ev)
            self._notify(ev)
            if ev.type == "PUT":
                aging.append(ev.kv)
        while len(aging) > _DEFLATE_LAG:
            aging.popleft()._deflate()
        return resp

    def _record(self, key: str, rev: int, kv: KeyValue | None) -> None:
        hist = self._history.get(key)
        if hist is None:
            hist = self._history[key] = []
            self._new_keys.append(key)   # a per-key insort costs a memmove of every key: sort when read
        hist.append(kv if kv is not None else _Tombstone(rev))
        if kv is None:
            self._live.pop(key, None)
        else:
            self._live[key] = kv

    # ---- compaction --------------------------------------------------------------------------------
    def compact(self, revision: int) -> None:
        """Drop history before `revision` (keeping, per key, the version visible at `revision`)."""
        if revision <= self.compact_revision:
            raise CompactedError()
        if revision > self.revision:
            raise ValueError("mvcc: required revision is a future revision")
        self._sorted_keys()
        gone = False
        for key in list(self._history):
            hist = self._history[key]
            i = bisect.bisect_right(hist, revision, key=_MOD_REVISION)
            keep = hist[max(i - 1, 0):] if i else hist
            if keep and type(keep[0]) is _Tombstone and keep[0].mod_revision <= revision:
                keep = keep[1:]
            if keep:
                self._history[key] = keep
            else:
                del self._history[key]
                gone = True
        if gone:
            self._keys = [k for k in self._keys if k in self._history]
        self._log = [ev for ev in self._log if ev.kv.mod_revision >= revision]
        self.compact_revision = revision

    def _sorted_keys(self) -> list[str]:
        new = self._new_keys
        if new:
            self._keys.extend(new)
            self._keys.sort()   # sorted run + a new tail: timsort merges them
            new.clear()
        return self._keys

    def _check_compacted(self, revision: int) -> None:
        if revision < self.compact_revision:
            raise CompactedError()

    # ---- watch -------------------------------------------------------------------------------------
    def watch(self, key: str, prefix: bool = False, start_revision: int = 0,
              callback: Callable[[WatchEvent], None] | None = None) -> list[WatchEvent]:
        """Return the events for key/prefix with revision >= start_revision (0: none, only future ones),
        and, when a callback is given, deliver every later matching event to it."""
        past: list[WatchEvent] = []
        if start_revision:
            self._check_compacted(start_revision)
            lo = bisect.bisect_left(self._log, start_revision, key=lambda e: e.kv.mod_revision)
            past = [ev for ev in self._log[lo:] if _matches(ev.kv.key, key, prefix)]
        if callback is not None:
            self._watchers.append((key, prefix, callback))
        return past

    def unwatch(self, callback: Callable[[WatchEvent], None]) -> None:
        """Stop delivering to `callback` (a watcher that went away)."""
        self._watchers = [w for w in self._watchers if w[2] is not callback]

    def _notify(self, ev: WatchEvent) -> None:
        for key, prefix, cb in self._watchers:
            if _matches(ev.kv.key, key, prefix):
                cb(ev)

    # ---- introspection -----------------------------------------------------------------------------
    def keys_summary(self) -> list[dict]:
        return [{"key": kv.key, "create_revision": kv.create_revision, "mod_revision": kv.mod_revision,
                 "version": kv.version} for kv in (self._live[k] for k in self._sorted_keys() if k in self._live)]


def _matches(k: str, key: str, prefix: bool) -> bool:
    return k.startswith(key) if prefix else k == key
