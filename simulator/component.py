"""What every simulated component holds: the kernel, its own seeded RNG, the tracer, and who it is.

Components never read the wall clock or module-level `random`; they are handed these by the cluster driver
(STYLE.md: inject randomness, I/O at the edge).
"""
from __future__ import annotations

import random

from .kernel import Environment
from .trace import Tracer, ref


class Component:
    COMPONENT = ""  # the event schema's `component`

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, instance: str, node: str):
        self.env = env
        self.rng = rng
        self.tracer = tracer
        self.instance = instance
        self.node = node
        self.me = ref(self.COMPONENT, instance)
