"""The preflight of a run on a real cluster, answered by a worker (the kubeconfig stays in the worker).

Before a run with backend `api` is created, the web request asks the workers, through Redis, whether the
cluster can be used now: a list of requests that each worker's main process serves on a thread of its own
(so a check is answered even while every pool process is busy with a run), each answer pushed to a reply
list named by the request. The answer is "" (go) or the reason in a fixed sentence (connect.describe), and
the run is refused with it before anything is created or enqueued.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid

from .. import runlog

log = logging.getLogger(__name__)

REQUESTS = "realcluster:preflight"
ALIVE = "realcluster:alive"   # set by every serving worker, expiring: is anyone there to ask?
REPLY_TTL_S = 30
WORKER_WAIT_S = 20       # how long a worker's thread blocks for the next request (then loops)
ASK_WAIT_S = 12          # how long the web request waits for an answer (connect + probe take <= 2 timeouts)


def ask(scenario: str = "", timeout: float = ASK_WAIT_S) -> str:
    """'' when a worker found the cluster usable for `scenario`, else why not (also when no worker answered)."""
    r = runlog.client()
    if not r.exists(ALIVE):
        return "no Celery worker is running to check the real cluster (make run starts one)"
    reply = f"realcluster:preflight:{uuid.uuid4().hex}"
    request = json.dumps({"reply": reply, "scenario": scenario})
    r.rpush(REQUESTS, request)
    r.expire(REQUESTS, REPLY_TTL_S)
    got = r.blpop([reply], timeout=timeout)
    if got is None:
        # Take the request back if nobody took it, so a worker starting later does not answer into the void.
        r.lrem(REQUESTS, 1, request)
        return ("no worker answered the real cluster check within "
                f"{timeout:.0f} s: is the Celery worker running (make run starts one)?")
    try:
        return str(json.loads(got[1]).get("error") or "")
    except (ValueError, AttributeError):
        return "the worker's answer to the real cluster check could not be read"


def serve_forever() -> None:
    from django.db import close_old_connections

    from .connect import check

    r = runlog.worker_client()
    while True:
        try:
            r.set(ALIVE, "1", ex=WORKER_WAIT_S + 10)
            got = r.blpop([REQUESTS], timeout=WORKER_WAIT_S)
            if not got:
                continue
            try:
                asked = json.loads(got[1])
                reply, scenario = asked["reply"], asked.get("scenario") or ""
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            if not (isinstance(reply, str) and reply.startswith("realcluster:preflight:")):
                continue
            error = check(scenario if isinstance(scenario, str) else "")
            pipe = r.pipeline()
            pipe.rpush(reply, json.dumps({"error": error}))
            pipe.expire(reply, REPLY_TTL_S)
            pipe.execute()
        except Exception:
            log.exception("real cluster preflight: a pass failed (will go on)")
            threading.Event().wait(1.0)
        finally:
            close_old_connections()


def start() -> None:
    threading.Thread(target=serve_forever, name="realcluster-preflight", daemon=True).start()
