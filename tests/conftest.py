"""Shared fixtures. `stack` (tests/stack.py) starts the real processes once per test session."""
from tests.stack import stack  # noqa: F401  (pytest fixture)
from tests.kubestack import kube  # noqa: F401,E402  (pytest fixture: the live cluster's stack)
