"""A stack of its own for the fault tests: they stop Redis and kill the Celery worker, so they must not share
the session-wide `stack` (tests/stack.py) the other server tests use.

Redis here persists (appendonly, as `make run` starts it), so a stopped-and-restarted Redis comes back with
its streams, queue and locks, as a production Redis would. Every test gets the stack healthy (`faults`
restarts whatever an earlier, maybe failed, test left stopped); the session's end stops every child by its
process group, also after a failure.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from dashboard.launcher import port_open, wait_for_port
from tests.server.conftest import FINISHED, assert_stream_consistent, unbatch
from tests.stack import RunningStack, started


class FaultStack(RunningStack):
    def __init__(self, root: Path):
        super().__init__(root)
        self.stack.redis_persist = True
        # A short lease, so a killed worker's run is resumed within seconds (production: 15 s).
        self.lease = 6
        self.stack.env["DASHBOARD_RUN_LEASE"] = str(self.lease)

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, decode_responses=True, socket_timeout=10)

    # -- Redis ---------------------------------------------------------------------------------------

    def stop_redis(self) -> None:
        """Stop redis-server as an operator would (SIGTERM: it writes its append-only file and exits)."""
        proc = self.stack.procs.pop("redis")
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
        assert not port_open("127.0.0.1", self.redis_port)

    def start_redis(self) -> None:
        self.stack.start_redis()

    # -- the Celery worker ----------------------------------------------------------------------------

    def worker_pids(self) -> tuple[int, list[int]]:
        """(main process, pool children) of the running worker."""
        main = self.stack.procs["worker"].pid
        out = subprocess.run(["pgrep", "-P", str(main)], capture_output=True, text=True).stdout
        return main, [int(p) for p in out.split()]

    def kill_worker(self) -> None:
        """SIGKILL the worker's whole process group: the main process and its pool children at once."""
        proc = self.stack.procs.pop("worker")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(15)

    def start_worker(self) -> None:
        self.stack.start_worker()
        self.stack.wait_for_worker(60)

    def worker_log(self) -> str:
        """Everything every worker of this stack logged (logs() shows only the tails)."""
        return (self.root / "var" / "log" / "worker.log").read_text(errors="replace")

    def heal(self) -> None:
        """Bring back whatever is down (a test that failed half-way may leave Redis or the worker stopped)."""
        if "redis" not in self.stack.procs or self.stack.procs["redis"].poll() is not None:
            self.stack.procs.pop("redis", None)
            self.start_redis()
        wait_for_port("127.0.0.1", self.redis_port, 15)
        worker = self.stack.procs.get("worker")
        if worker is None or worker.poll() is not None:
            if worker is not None:  # its main process died: its pool children must not outlive it
                self.stack.procs.pop("worker")
                try:
                    os.killpg(worker.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.start_worker()


@pytest.fixture(scope="session")
def fault_stack():
    with started(FaultStack(Path(tempfile.mkdtemp(prefix="k8sdash-faults-"))), "the fault-test stack") as running:
        yield running


@pytest.fixture
def faults(fault_stack):
    """The fault stack, healthy at the start of the test and healed again after it."""
    fault_stack.heal()
    yield fault_stack
    fault_stack.heal()


# -- viewers that reconnect, as the page does -------------------------------------------------------------

class Follower:
    """An asyncio WebSocket viewer that keeps watching one run through disconnects.

    It speaks the live protocol like static/js does: subscribe with the last seq it holds, and on any
    disconnect reconnect and subscribe again with `since`. Unlike the page it does NOT drop repeats: it
    records every event and snapshot it is sent, so a test can assert "each seq exactly once".
    """

    def __init__(self, stack, run_id: str, since: int = 0):
        self.stack, self.run_id = stack, run_id
        self.since = since           # what we told the server we have, first time
        self.seq = since             # the last seq we hold
        self.received: list[dict] = []   # event and snapshot messages, in arrival order
        self.connections = 0
        self.final_seq: int | None = None  # last_seq of the run once it has finished
        self.done_at: float | None = None   # time.monotonic() when it held the run's last event
        self.done_wall: float | None = None  # the same moment, as time.time()
        self.gate: asyncio.Event | None = None  # while set and cleared, this viewer stops reading
        self.stall_after = 0                # ... once it holds this many events
        self.statuses: list[str] = []       # every run status it was told, in order

    def done(self) -> bool:
        return self.final_seq is not None and self.seq >= self.final_seq

    async def follow(self, timeout: float = 90, max_queue: int | None = 16, **connect_kwargs) -> "Follower":
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, WebSocketException

        deadline = asyncio.get_running_loop().time() + timeout
        while not self.done():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"viewer not caught up after {timeout} s: seq {self.seq}, final "
                                     f"{self.final_seq}, {self.connections} connections")
            try:
                async with connect(f"{self.stack.ws_url}/ws/runs/{self.run_id}/", origin=self.stack.base_url,
                                   proxy=None, open_timeout=5, ping_interval=None, max_queue=max_queue,
                                   compression=None, **connect_kwargs) as ws:
                    connect_kwargs = {}
                    self.connections += 1
                    await ws.send(json.dumps({"type": "subscribe", "since": self.seq}))
                    while True:
                        # Bounded: a socket that went quiet fails the test instead of hanging the suite.
                        left = deadline - asyncio.get_running_loop().time()
                        try:
                            raw = await asyncio.wait_for(ws.recv(), max(left, 0.1))
                        except asyncio.TimeoutError:
                            raise AssertionError(f"viewer not caught up after {timeout} s, its socket quiet: seq "
                                                 f"{self.seq}, final {self.final_seq}, {self.connections} "
                                                 "connections") from None
                        for message in unbatch(json.loads(raw)):
                            self.take(message)
                        if self.done():
                            self.done_at, self.done_wall = time.monotonic(), time.time()
                            return self
                        if self.gate is not None and len(self.received) >= self.stall_after:
                            await self.gate.wait()
            except (OSError, asyncio.TimeoutError, InvalidHandshake, WebSocketException):
                pass
            await asyncio.sleep(0.2)  # the server (or Redis behind it) is away: try again shortly
        return self

    def take(self, message: dict) -> None:
        kind = message["type"]
        if kind == "event":
            self.received.append(message)
            self.seq = message["event"]["seq"]
        elif kind == "snapshot":
            self.received.append(message)
            self.seq = message["seq"]
        elif kind == "run":
            self.statuses.append(message["run"]["status"])
            if message["run"]["status"] in FINISHED:
                self.final_seq = message["run"]["last_seq"]
        elif kind == "error":
            raise AssertionError(f"server error: {message}")

    def events(self) -> list[dict]:
        return [m["event"] for m in self.received if m["type"] == "event"]

    def assert_exactly_once(self, archive: list[dict]) -> None:
        """From where it started (or its snapshot), every later event once, in order, equal to the archive."""
        assert_stream_consistent(self.received, archive, since=self.since)
        start = next((m["seq"] for m in self.received if m["type"] == "snapshot"), self.since)
        assert [e["seq"] for e in self.events()] == [e["seq"] for e in archive[start:]]

    def state(self, held: dict | None = None) -> dict:
        """The state this viewer would show: what it held at `since` (`held`; the initial state for since 0),
        or its snapshot, with every event after it applied."""
        from simulator import state

        st = held if held is not None else state.initial()
        for m in self.received:
            st = m["state"] if m["type"] == "snapshot" else state.apply(st, m["event"])
        return st


def run_async(coro):
    """asyncio.run() in a thread of its own: when the browser tests ran first in this process, Playwright's
    sync API keeps an event loop running in the main thread, and asyncio.run() refuses to start there."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
