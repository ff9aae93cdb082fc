"""Serve the live simulated cluster's Kubernetes API over HTTPS (started by `make run` next to Daphne).

It boots a kind-like cluster (1 control plane + 2 workers), keeps it running against the wall clock, and
answers kubectl on KUBEAPI_PORT. Everything the cluster does streams to the dashboard as a run of scenario
`live-cluster`. On SIGTERM or Ctrl-C the run ends; the cluster's state lives only as long as the process.
"""
import asyncio
import concurrent.futures
import datetime as dt
import logging
import signal
import time

from aiohttp import web
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

log = logging.getLogger("dashboard.kubeapi")

LEASE_TICK_S = 2.0


class Command(BaseCommand):
    help = "Serve the Kubernetes API of a live simulated cluster (kubectl's endpoint), streamed to the dashboard."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="HTTPS port (default KUBEAPI_PORT)")
        parser.add_argument("--bind", default=None, help="address to listen on (default KUBEAPI_BIND)")
        parser.add_argument("--seed", type=int, default=1, help="the simulation's seed")

    def handle(self, *args, port=None, bind=None, seed=1, **options):
        port = port or settings.KUBEAPI_PORT
        bind = bind or settings.KUBEAPI_BIND
        try:
            asyncio.run(serve(bind, port, seed, self.stdout))
        except OSError as exc:
            raise CommandError(f"cannot serve on {bind}:{port}: {exc}")


async def serve(bind: str, port: int, seed: int, out) -> None:
    from simulator.live import LiveCluster

    from dashboard.kubeapi.access import TokenAuth
    from dashboard.kubeapi.kubeconfig import pki
    from dashboard.kubeapi.live_run import LiveRun
    from dashboard.kubeapi.server import KubeApi

    policy = None
    if settings.KUBEAPI_AUDIT_POLICY:   # checked before anything starts
        from simulator.apiserver.audit import Policy, PolicyError

        try:
            policy = Policy.from_file(settings.KUBEAPI_AUDIT_POLICY)
        except (OSError, PolicyError, ValueError) as exc:
            raise CommandError(f"KUBEAPI_AUDIT_POLICY {settings.KUBEAPI_AUDIT_POLICY}: {exc}", returncode=2)
    loop = asyncio.get_running_loop()
    # Django and redis-py calls run on one thread of their own, in order (the run's log is append-only).
    db = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kubeapi-db")
    ssl_context = (await loop.run_in_executor(db, pki)).ssl_context()
    live_run = await loop.run_in_executor(db, LiveRun, seed)
    live = LiveCluster(seed, live_run.hex, wall=time.monotonic, epoch=dt.datetime.now(dt.timezone.utc),
                       speed=settings.KUBEAPI_SPEED)
    if policy is not None:
        live.cluster.enable_audit(policy, settings.KUBEAPI_DIR / "var-log" / "kubernetes" / "kube-apiserver-audit.log")

    async def publish(events):
        await loop.run_in_executor(db, live_run.publish, events)

    api = KubeApi(live, publish)
    api.authenticate_hook = TokenAuth(api)
    runner = web.AppRunner(api.app(), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, bind, port, ssl_context=ssl_context)
    error = ""
    try:
        await site.start()
        out.write(f"Serving the live cluster's Kubernetes API on https://{bind}:{port} (run {live_run.hex})\n")
        out.flush()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        driver = asyncio.create_task(api.drive())

        async def keep_lease():
            while True:
                await asyncio.sleep(LEASE_TICK_S)
                await loop.run_in_executor(db, live_run.keep_lease)

        lease = asyncio.create_task(keep_lease())
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({driver, lease, waiter}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                error = f"{type(task.exception()).__name__}: {task.exception()}"
                log.error("kubeapi: %s", error, exc_info=task.exception())
        api.stopping = True
        for task in (driver, lease, waiter):
            task.cancel()
    except BaseException as exc:
        error = error or f"{type(exc).__name__}: {exc}"
        raise
    finally:
        await runner.cleanup()
        rest = live.drain()
        try:
            if rest:
                await loop.run_in_executor(db, live_run.publish, rest)
        finally:
            await loop.run_in_executor(db, live_run.finish, error)
            db.shutdown(wait=True)
