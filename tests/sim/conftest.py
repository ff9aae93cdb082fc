"""Fixtures for the simulator's tests, and the --rewrite-golden option (etcd-io/raft's -rewrite):
`pytest tests/sim --rewrite-golden` regenerates tests/sim/golden/*.jsonl from the current code (or set
SIM_REWRITE_GOLDEN=1). Only commit a rewritten golden file if you understand every line of its diff."""
from __future__ import annotations

import os

import pytest

from simulator.cluster import Cluster
from tests.sim.helpers import run_pod_create


@pytest.fixture(autouse=True, scope="session")
def shared_objects_read_only():
    """Every object the API server shares among watchers (one decode per watch event, and per informer
    list) is handed out read-only in these tests, so a consumer that changes one in place fails loudly
    instead of corrupting what the others see (simulator.apiserver.server.SharedObject)."""
    from simulator.apiserver import server
    before, server.READ_ONLY_SHARED = server.READ_ONLY_SHARED, True
    yield
    server.READ_ONLY_SHARED = before


@pytest.fixture(autouse=True, scope="session")
def replaced_values_deflated_at_once():
    """etcd's store deflates a replaced value of _DEFLATE_MIN characters or more, _DEFLATE_LAG writes later,
    which a test's cluster rarely reaches: here every replaced value, whatever its size, is deflated right
    after its watchers were told, so every test reads past revisions (ranges at a revision, watch replays,
    prev_kv) through the deflated form."""
    from simulator.etcd import mvcc
    before = mvcc._DEFLATE_LAG, mvcc._DEFLATE_MIN
    mvcc._DEFLATE_LAG, mvcc._DEFLATE_MIN = 0, 0
    yield
    mvcc._DEFLATE_LAG, mvcc._DEFLATE_MIN = before


def pytest_addoption(parser):
    parser.addoption("--rewrite-golden", action="store_true", default=False,
                     help="rewrite the simulator's golden traces (tests/sim/golden) instead of comparing")


@pytest.fixture
def rewrite_golden(request) -> bool:
    try:
        flag = bool(request.config.getoption("--rewrite-golden"))
    except ValueError:  # the option is registered only when tests/sim's conftest is loaded at start-up
        flag = False
    return flag or os.environ.get("SIM_REWRITE_GOLDEN") == "1"


@pytest.fixture(scope="session")
def pod_create_events() -> list[dict]:
    return run_pod_create(1)


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(seed=7, run_id="test")
