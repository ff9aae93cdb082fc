"""JSON for the simulator's hot paths: every write is encoded once for etcd and every watch event is
decoded once per watcher, as a real API server and its informers do. orjson (pinned in requirements.txt)
does both several times faster than the standard library, with the same compact output
(``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``) for what Kubernetes objects hold; the
standard library stays the fallback for values orjson refuses (integers beyond 64 bits)."""
from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import orjson

_OPTS = orjson.OPT_NON_STR_KEYS
_STD_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

loads = orjson.loads


def dumps(obj: Any) -> str:
    """Compact JSON text, keys in insertion order, non-ASCII kept as is."""
    try:
        return orjson.dumps(obj, option=_OPTS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _STD_ENCODE(obj)


def dumps_bytes(obj: Any) -> bytes:
    """Compact JSON as UTF-8 bytes (a cheap, deterministic key for a JSON value)."""
    try:
        return orjson.dumps(obj, option=_OPTS)
    except (TypeError, orjson.JSONEncodeError):
        return _STD_ENCODE(obj).encode()


def dumps_sorted(obj: Any) -> bytes:
    """Compact JSON with sorted keys, as bytes: a canonical form for "did this value change?" checks.
    Callers keep it (the kubelet, per Pod: the last status it sent), and a bytes object from orjson keeps
    its whole output buffer (at least 4 KiB, whatever len() says): the copy costs only its length."""
    try:
        return bytes(memoryview(orjson.dumps(obj, option=_OPTS | orjson.OPT_SORT_KEYS)))
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint(obj: Any) -> bytes:
    """A 128-bit digest (BLAKE2b) of ``dumps_sorted(obj)``: for a "did this value change?" check whose last
    value is kept per object (the kubelet keeps the status it last sent, per Pod), at 49 bytes instead of
    the ~1.2 KB of the JSON itself. Two different values share a digest with probability 2**-128."""
    return hashlib.blake2b(dumps_sorted(obj), digest_size=16).digest()


def clone(obj: Any) -> Any:
    """A deep copy of a JSON value (what a decode of its encoding gives)."""
    try:
        return orjson.loads(orjson.dumps(obj, option=_OPTS))
    except (TypeError, orjson.JSONEncodeError):
        return json.loads(_STD_ENCODE(obj))


# ---- read-only views, for auditing the consumers of shared objects ----------------------------------------
class ReadOnlyError(TypeError):
    """A consumer tried to change an object it shares with others (copy it first: codec.clone / deepcopy)."""


def _read_only(*_a, **_k):
    raise ReadOnlyError("shared watch object is read-only: copy it before changing it")


class ReadOnlyDict(dict):
    """A dict that refuses every change. Copies (dict(d), copy.copy, copy.deepcopy, codec.clone) are plain
    and, for the deep ones, writable all the way down; a shallow copy still shares read-only children."""
    __slots__ = ()
    __setitem__ = __delitem__ = clear = popitem = update = __ior__ = _read_only

    def setdefault(self, key, default=None):
        if key in self:
            return self[key]
        _read_only()

    def pop(self, key, *default):
        if key in self or not default:
            _read_only()
        return default[0]

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo):
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}

    def __reduce__(self):
        return (dict, (dict(self),))


class ReadOnlyList(list):
    """A list that refuses every change (see ReadOnlyDict)."""
    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = remove = pop = clear = sort = reverse = _read_only

    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        return [copy.deepcopy(v, memo) for v in self]

    def __reduce__(self):
        return (list, (list(self),))


def read_only(obj: Any) -> Any:
    """A deep, read-only version of a decoded JSON value (tests use it to prove no consumer changes an
    object that several consumers share)."""
    if type(obj) is dict:
        return ReadOnlyDict({k: read_only(v) for k, v in obj.items()})
    if type(obj) is list:
        return ReadOnlyList(read_only(v) for v in obj)
    return obj
