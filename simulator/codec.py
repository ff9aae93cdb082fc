"""JSON for the simulator's hot paths: every write is encoded once for etcd and every watch event is
decoded once per watcher, as a real API server and its informers do. orjson (pinned in requirements.txt)
does both several times faster than the standard library, with the same compact output
(``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``) for what Kubernetes objects hold; the
standard library stays the fallback for values orjson refuses (integers beyond 64 bits)."""
from __future__ import annotations

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
    """Compact JSON with sorted keys, as bytes: a canonical form for "did this value change?" checks."""
    try:
        return orjson.dumps(obj, option=_OPTS | orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def clone(obj: Any) -> Any:
    """A deep copy of a JSON value (what a decode of its encoding gives)."""
    try:
        return orjson.loads(orjson.dumps(obj, option=_OPTS))
    except (TypeError, orjson.JSONEncodeError):
        return json.loads(_STD_ENCODE(obj))
