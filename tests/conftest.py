"""Shared fixtures. `stack` (tests/stack.py) starts the real processes once per test session."""
from tests.stack import stack  # noqa: F401  (pytest fixture)
