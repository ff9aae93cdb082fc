"""The Kubernetes API endpoint (dashboard/kubeapi) on a live simulated cluster, in this process: plain HTTP on a
free port, one cluster-admin bearer token, no Django. For tests that need to reach into the cluster while
clients talk to it (the fuzzer, the watch fault test)."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time

from dashboard.launcher import free_port


@contextlib.contextmanager
def kubeapi_in_process(seed: int, run_id: str, token: str, speed: float = 1.0):
    """Yields {"port", "live", "call"}: call(fn) runs fn on the cluster's event loop and waits for it."""
    from aiohttp import web

    from dashboard.kubeapi.server import KubeApi
    from simulator import clock
    from simulator.live import LiveCluster

    port = free_port()
    ready = threading.Event()
    box: dict = {"port": port}

    def serve():
        async def main():
            live = LiveCluster(seed, run_id, wall=time.monotonic, epoch=dt.datetime.now(dt.timezone.utc), speed=speed)
            live.cluster.apiserver.authenticator.add_token(token, "kubernetes-admin", ("kubeadm:cluster-admins",))
            api = KubeApi(live)
            box["live"] = live
            runner = web.AppRunner(api.app(), shutdown_timeout=1.0)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            box["stop"] = asyncio.Event()
            ready.set()
            driver = asyncio.create_task(api.drive())
            await box["stop"].wait()
            api.stopping = True
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
            await runner.cleanup()
            # Watches still open (their handlers wait for the next change): end them before the loop closes.
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        box["loop"] = asyncio.new_event_loop()
        box["loop"].run_until_complete(main())

    def call(fn):
        done = threading.Event()

        def run():
            fn()
            done.set()

        box["loop"].call_soon_threadsafe(run)
        assert done.wait(10)

    box["call"] = call
    epoch = clock.EPOCH  # the live cluster stamps objects from now: put the simulator's epoch back afterwards
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "the in-process kubeapi did not start"
        yield box
    finally:
        if "stop" in box:
            box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)
        clock.set_epoch(epoch)
