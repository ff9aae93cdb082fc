"""Kubernetes resource quantities (a subset of k8s.io/apimachinery/pkg/api/resource)."""
from __future__ import annotations

_BIN = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}
_DEC = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def parse_cpu_milli(q: str | int | float) -> int:
    s = str(q)
    if s.endswith("m"):
        return int(s[:-1])
    return int(round(float(s) * 1000))


def parse_bytes(q: str | int | float) -> int:
    s = str(q)
    for suf, mul in _BIN.items():
        if s.endswith(suf):
            return int(float(s[: -len(suf)]) * mul)
    for suf, mul in _DEC.items():
        if s.endswith(suf):
            return int(float(s[: -len(suf)]) * mul)
    return int(float(s))


def is_quantity(s: str) -> bool:
    try:
        parse_bytes(s[:-1] if s.endswith("m") else s)
        return True
    except ValueError:
        return False
