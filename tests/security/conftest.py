"""Fixtures for the security tests: the server tests' personas and Redis (tests/server/conftest.py), reused.

The limits on runs are lifted here as there (fuzzing starts many valid runs as one instructor); the tests
of the limits set them back on their own.
"""
import pytest

from tests.server.conftest import instructor, instructor_client, redis_conn, test_redis  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def unlimited_runs(settings):
    settings.DASHBOARD_MAX_ACTIVE_RUNS = 100000
    settings.DASHBOARD_RUNS_PER_MINUTE = 100000


@pytest.fixture(autouse=True)
def celery_publishes_to_this_redis():
    """`test_redis` imported here is a second redis-server next to tests/server's own, but Celery keeps its
    broker connections in a pool made for the first broker_url it saw. Drop that pool around each test, so
    a run is enqueued to the Redis the test (here or in tests/server) points broker_url at."""
    from dashboard.celery import app

    def forget():
        app._pool = None
        app.amqp._producer_pool = None

    forget()
    yield
    forget()
