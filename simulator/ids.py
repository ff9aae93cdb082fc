"""Identifiers drawn from the run's seeded RNG (never from the OS entropy pool or the clock)."""
from __future__ import annotations

import random

# k8s.io/apimachinery/pkg/util/rand: alphanums = "bcdfghjklmnpqrstvwxz2456789" (no vowels, no 0/1/3)
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


# RFC 4122: version 4 in the time_hi_and_version nibble, variant 10 in the clock_seq_hi bits.
_UUID_KEEP = ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def uid(rng: random.Random) -> str:
    """A version-4 UUID, as types.UID from uuid.NewUUID() looks, but from the seeded RNG."""
    h = "%032x" % (rng.getrandbits(128) & _UUID_KEEP | _UUID_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def rand_string(rng: random.Random, n: int) -> str:
    """utilrand.String(n), used for generateName suffixes and kube-api-access-xxxxx."""
    return "".join(rng.choice(_ALPHANUMS) for _ in range(n))


def hex_id(rng: random.Random, nbytes: int = 32) -> str:
    """A container or sandbox id (containerd uses 64 hex characters)."""
    return f"{rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"
