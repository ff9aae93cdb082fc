"""The JSON API (contract section 5). Every error is `{"error": {"field": ..., "message": ...}}`.

Input is validated before anything is created or enqueued; a bad value gets a 400 naming its field.
Reads are open to everyone (students watch without an account); POSTs need an instructor: a user with
the `dashboard.instructor` permission, or staff. Starting runs is bounded per instructor: runs in progress
(DASHBOARD_MAX_ACTIVE_RUNS) and runs started a minute (DASHBOARD_RUNS_PER_MINUTE, counted in Redis).
"""
from __future__ import annotations

import functools
import json
import logging
import math
import secrets

import redis
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from . import runlog
from .models import Run
from .runs import PANELS, SIZE_SETTINGS, announce, catalog, current_focus, get_run, run_json, set_focus

log = logging.getLogger(__name__)

SPEED_CHOICES = ("0.25", "0.5", "1", "2", "4", "max")
CONTROL_ACTIONS = ("pause", "resume", "step", "speed", "cancel")
BACKENDS = ("sim", "api")
SEED_MAX = 2**31 - 1
RATE_WINDOW = 60  # seconds, for DASHBOARD_RUNS_PER_MINUTE
SINCE_MAX = 2**53 - 1  # the largest integer a browser holds exactly, as on the run socket
RUN_FIELDS = {"scenario", "backend", "params", "speed", "seed", "step_mode"}
CONTROL_FIELDS = {"action", "speed"}
FOCUS_FIELDS = {"panel", "run", "replay", "pos"}


class BadInput(Exception):
    def __init__(self, field: str | None, message: str, status: int = 400):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


def error(field: str | None, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": {"field": field, "message": message}}, status=status)


def is_instructor(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_staff or user.has_perm("dashboard.instructor")))


def _csrf_failure(request) -> JsonResponse | None:
    """Django's CSRF check, run after authentication so an anonymous POST gets a 401, not a CSRF 403."""
    reason_holder = {}

    class Check(CsrfViewMiddleware):
        def _reject(self, request, reason):
            reason_holder["reason"] = reason
            return reason

    Check(lambda req: None).process_request(request)
    if Check(lambda req: None).process_view(request, None, (), {}) is not None:
        return error("csrf", f"CSRF check failed: {reason_holder.get('reason', 'rejected')}", 403)
    return None


def api_view(methods: tuple[str, ...], instructor_for: tuple[str, ...] = ("POST",)):
    """JSON endpoint: method check, auth for writes, CSRF, and no 500 for Redis trouble."""

    def decorator(view):
        @csrf_exempt  # checked in-line below, after the 401/403 decision
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(None, f"method {request.method} not allowed", 405)
                response["Allow"] = ", ".join(methods)
                return response
            if request.method in instructor_for:
                if not request.user.is_authenticated:
                    return error(None, "log in as an instructor to do this", 401)
                if not is_instructor(request.user):
                    return error(None, "only instructors can start or control runs", 403)
                failure = _csrf_failure(request)
                if failure is not None:
                    return failure
            try:
                return view(request, *args, **kwargs)
            except BadInput as exc:
                return error(exc.field, exc.message, exc.status)
            except redis.RedisError:
                log.exception("redis unavailable")
                return error(None, "the event store (Redis) is unavailable", 503)

        return wrapper

    return decorator


def json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadInput("body", "the request body is not valid JSON")
    except Exception:  # RequestDataTooBig and other body-reading trouble
        raise BadInput("body", "the request body could not be read")
    if not isinstance(body, dict):
        raise BadInput("body", "the request body must be a JSON object")
    return body


def reject_unknown(body: dict, allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise BadInput(str(key)[:100], f"unknown field {str(key)[:100]!r}")


def clean_speed(value, field: str = "speed") -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadInput(field, f"speed must be one of {', '.join(SPEED_CHOICES)}")
    if isinstance(value, (int, float)):
        # 1, 0.5 and 4.0 are accepted for "1", "0.5" and "4".
        value = format(value, "g")
    if value not in SPEED_CHOICES:
        raise BadInput(field, f"speed must be one of {', '.join(SPEED_CHOICES)}")
    return value


def clean_run_request(body: dict) -> dict:
    from simulator import errors as sim_errors
    from simulator import scenarios

    reject_unknown(body, RUN_FIELDS)
    scenario = body.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        raise BadInput("scenario", "scenario is required (a scenario id from /api/scenarios)")
    entry = next((s for s in catalog() if s["id"] == scenario), None)
    if entry is None:
        raise BadInput("scenario", f"unknown scenario {scenario[:100]!r}")

    backend = body.get("backend", "sim")
    if backend not in BACKENDS:
        raise BadInput("backend", "backend must be \"sim\" or \"api\"")
    if backend not in entry.get("backends", ["sim"]):
        if backend == "api":
            raise BadInput("backend", f"scenario {scenario!r} runs only on the simulator: a real cluster cannot "
                                      f"show or do what it needs")
        raise BadInput("backend", f"scenario {scenario!r} does not support backend {backend!r}")

    params = body.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise BadInput("params", "params must be a JSON object")
    try:
        cleaned = scenarios.validate(scenario, params)
    except sim_errors.ParamError as exc:
        raise BadInput(getattr(exc, "field", "params"), getattr(exc, "message", str(exc)))
    for p in entry["params"]:
        if p["name"] in SIZE_SETTINGS and p.get("max") is not None and cleaned[p["name"]] > p["max"]:
            raise BadInput(f"params.{p['name']}", f"must be at most {p['max']} on this installation "
                                                  f"({SIZE_SETTINGS[p['name']]})")

    speed = clean_speed(body.get("speed", "1"))

    seed = body.get("seed")
    if seed is None:
        seed = secrets.randbelow(SEED_MAX + 1)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise BadInput("seed", f"seed must be an integer from 0 to {SEED_MAX}")

    step_mode = body.get("step_mode", False)
    if not isinstance(step_mode, bool):
        raise BadInput("step_mode", "step_mode must be true or false")

    if backend == "api":
        # Last, as it is the slow check: a worker tries the cluster now (the kubeconfig stays in the worker).
        from .realcluster import preflight

        problem = preflight.ask(scenario)
        if problem:
            raise BadInput("backend", f"the real cluster cannot be used: {problem}", 409)

    return {"scenario": scenario, "backend": backend, "params": cleaned, "speed": speed, "seed": seed,
            "step_mode": step_mode}


def parse_since(request) -> int:
    raw = request.GET.get("since", "0")
    try:
        since = int(raw)
    except ValueError:
        raise BadInput("since", f"since must be an integer from 0 to {SINCE_MAX}")
    if not 0 <= since <= SINCE_MAX:
        # Beyond 2**64 - 1 Redis refuses the stream id (a 503 that blamed Redis, before this bound).
        raise BadInput("since", f"since must be an integer from 0 to {SINCE_MAX}")
    return since


def run_or_404(run_id) -> Run:
    run = get_run(run_id)
    if run is None:
        raise BadInput("run", "no such run", 404)
    return run


# -- views --------------------------------------------------------------------------------------------

@api_view(("GET",))
def scenarios_view(request):
    return JsonResponse({"scenarios": catalog()})


@api_view(("GET",))
def events_catalog(request):
    from simulator import events

    return JsonResponse(events.catalog_json())


@api_view(("GET", "POST"))
def runs(request):
    if request.method == "POST":
        return create_run(request)
    raw = request.GET.get("limit", "20")
    try:
        limit = int(raw)
    except ValueError:
        raise BadInput("limit", "limit must be an integer from 1 to 200")
    if not 1 <= limit <= 200:
        raise BadInput("limit", "limit must be an integer from 1 to 200")
    rows = Run.objects.select_related("created_by").order_by("-created_at")[:limit]
    return JsonResponse({"runs": [run_json(r) for r in rows]})


def create_run(request):
    from django.conf import settings

    fields = clean_run_request(json_body(request))
    from .tasks import execute_run

    active = Run.objects.filter(created_by=request.user, status__in=(Run.QUEUED, Run.RUNNING, Run.PAUSED)).count()
    if active >= settings.DASHBOARD_MAX_ACTIVE_RUNS:
        raise BadInput(None, f"you already have {active} run(s) in progress (at most "
                             f"{settings.DASHBOARD_MAX_ACTIVE_RUNS}, DASHBOARD_MAX_ACTIVE_RUNS): cancel one or "
                             f"let it finish first", 429)
    wait = take_run_slot(request.user.pk, settings.DASHBOARD_RUNS_PER_MINUTE)
    if wait is not None:
        response = error(None, f"too many runs started: at most {settings.DASHBOARD_RUNS_PER_MINUTE} a minute "
                               f"(DASHBOARD_RUNS_PER_MINUTE); try again in {wait} s", 429)
        response["Retry-After"] = str(wait)
        return response
    with transaction.atomic():
        run = Run.objects.create(created_by=request.user, status=Run.QUEUED, **fields)
        # Once the row is committed: announce it as queued, then enqueue (callbacks run in this order), so
        # the classroom cannot hear "running" from the worker before "queued" from us.
        transaction.on_commit(lambda: announce(run))
        transaction.on_commit(lambda: execute_run.delay(run.id.hex))
    return JsonResponse(run_json(run), status=201)


def take_run_slot(user_id, per_minute: int) -> int | None:
    """Count a run start for this user in a sliding one-minute window; None if allowed, else the seconds to
    wait. Kept in Redis (a sorted set of start times, Redis' own clock) so every Daphne shares the count."""
    r = runlog.client()
    key = f"ratelimit:runs:{user_id}"
    sec, usec = r.time()
    now = sec + usec / 1e6
    member = f"{now:.6f}:{secrets.token_hex(4)}"
    pipe = r.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", now - RATE_WINDOW)
    pipe.zadd(key, {member: now})
    pipe.zcard(key)
    pipe.expire(key, RATE_WINDOW + 1)
    count = pipe.execute()[2]
    if count <= per_minute:
        return None
    r.zrem(key, member)  # a refused start does not count against the next minute
    oldest = r.zrange(key, 0, 0, withscores=True)
    return max(1, math.ceil(oldest[0][1] + RATE_WINDOW - now)) if oldest else RATE_WINDOW


@api_view(("GET",))
def run_detail(request, run_id):
    return JsonResponse(run_json(run_or_404(run_id)))


@api_view(("POST",))
def run_control(request, run_id):
    run = run_or_404(run_id)
    body = json_body(request)
    reject_unknown(body, CONTROL_FIELDS)
    action = body.get("action")
    if action not in CONTROL_ACTIONS:
        raise BadInput("action", f"action must be one of {', '.join(CONTROL_ACTIONS)}")
    message = {"action": action, "by": request.user.get_username()}
    if action == "speed":
        if "speed" not in body:
            raise BadInput("speed", "the speed action needs a speed")
        message["speed"] = clean_speed(body["speed"])
    elif "speed" in body:
        raise BadInput("speed", "speed is only used with the speed action")
    if run.finished:
        raise BadInput("action", f"the run has already {run.status}", 409)
    if action == "cancel" and cancel_queued(run, message["by"]):
        return JsonResponse({"ok": True}, status=202)
    runlog.push_control(run.id, message)
    return JsonResponse({"ok": True}, status=202)


def cancel_queued(run: Run, by: str) -> bool:
    """Cancel a run no worker has claimed yet, here and now (the task's claim will then fail)."""
    from django.utils import timezone

    if not Run.objects.filter(id=run.id, status=Run.QUEUED).update(
            status=Run.CANCELLED, finished_at=timezone.now(), last_seq=1):
        return False
    from simulator import state as sim_state

    event = {"v": 1, "run": run.id.hex, "seq": 1, "t": 0.0, "component": "scenario", "instance": "scenario",
             "type": "run.cancelled", "summary": f"Run cancelled by {by} before it started", "data": {"by": by}}
    final = sim_state.apply(sim_state.initial(), event)
    runlog.append(run.id, event)
    runlog.archive_events(run.id, [event])
    runlog.archive_snapshot(run.id, 1, final)
    runlog.store_snapshot(run.id, 1, final)
    runlog.set_meta(run.id, status=Run.CANCELLED, paused=0, last_seq=1)
    runlog.expire_run(run.id)
    announce(get_run(run.id))
    return True


@api_view(("GET",))
def run_events(request, run_id):
    run = run_or_404(run_id)
    since = parse_since(request)
    lines = [runlog.dumps(ev) + "\n" for ev in runlog.iter_all_since(run.id, since)]
    response = HttpResponse("".join(lines), content_type="application/jsonl; charset=utf-8")
    if request.GET.get("download") == "1":
        # Export: the browser saves the JSON Lines as a file the replay can open again.
        response["Content-Disposition"] = f'attachment; filename="k8s-run-{run.scenario}-{run.id.hex[:8]}.jsonl"'
    return response


@api_view(("GET", "POST"))
def classroom_focus(request):
    """Where the presenter points the class: GET for anyone (a follower catching up), POST for instructors."""
    if request.method == "GET":
        return JsonResponse({"focus": current_focus()})
    body = json_body(request)
    reject_unknown(body, FOCUS_FIELDS)
    panel = body.get("panel")
    if panel not in PANELS:
        raise BadInput("panel", f"panel must be one of {', '.join(PANELS)}")
    focus = {"panel": panel, "by": request.user.get_username()}
    if body.get("run") is not None:
        run = get_run(body["run"]) if isinstance(body["run"], str) else None
        if run is None:
            raise BadInput("run", "no such run")
        focus["run"] = run.id.hex
    # A replay the presenter shows the class: a finished run and the position in it (events applied).
    if body.get("replay") is not None:
        run = get_run(body["replay"]) if isinstance(body["replay"], str) else None
        if run is None or not run.finished:
            raise BadInput("replay", "replay must name a finished run")
        pos = body.get("pos")
        if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= run.last_seq:
            raise BadInput("pos", f"pos must be an integer from 0 to {run.last_seq}")
        focus["replay"], focus["pos"] = run.id.hex, pos
    elif "pos" in body:
        raise BadInput("pos", "pos is only used with replay")
    set_focus(focus)
    return JsonResponse({"focus": focus}, status=202)


# -- the live cluster (dashboard/kubeapi) ---------------------------------------------------------------

LIVE_FIELDS = {"downloads"}
# Whether students may download a kubeconfig of their own from the page (the instructor turns it on).
DOWNLOADS_KEY = "classroom:kubeconfig-downloads"


def _downloads_open() -> bool:
    return runlog.client().get(DOWNLOADS_KEY) == "1"


@api_view(("GET", "POST"))
def live_cluster(request):
    """GET: the live cluster's run and address, and whether this user may download a kubeconfig now.
    POST (instructors): {"downloads": true|false}."""
    from django.conf import settings

    from .kubeapi.kubeconfig import public_host
    from .tasks import LIVE_SCENARIO

    if request.method == "POST":
        body = json_body(request)
        reject_unknown(body, LIVE_FIELDS)
        if not isinstance(body.get("downloads"), bool):
            raise BadInput("downloads", "downloads must be true or false")
        if body["downloads"]:
            runlog.client().set(DOWNLOADS_KEY, "1")
        else:
            runlog.client().delete(DOWNLOADS_KEY)
    run = Run.objects.filter(scenario=LIVE_SCENARIO, status__in=Run.ACTIVE).select_related("created_by") \
        .order_by("-created_at").first()
    downloads = _downloads_open()
    user = request.user
    return JsonResponse({
        "enabled": settings.KUBEAPI_ENABLED,
        "server": f"https://{public_host()}:{settings.KUBEAPI_PORT}",
        "run": run_json(run) if run else None,
        "downloads": downloads,
        "can_download": bool(user.is_authenticated and (is_instructor(user) or downloads)),
    }, status=202 if request.method == "POST" else 200)


@api_view(("POST",), instructor_for=())
def live_kubeconfig(request):
    """Issue this account's kubeconfig (a new token each time; the previous one stops working). POST: it
    changes state. Instructors get the cluster-admin one; students theirs, once the instructor allows it."""
    from .kubeapi.kubeconfig import issue_for_user

    user = request.user
    if not user.is_authenticated:
        return error(None, "log in to get a kubeconfig", 401)
    failure = _csrf_failure(request)
    if failure is not None:
        return failure
    instructor = is_instructor(user)
    if not instructor and not _downloads_open():
        return error(None, "the instructor has not opened kubeconfig downloads", 403)
    access, text = issue_for_user(user, "instructor" if instructor else "student")
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kubeconfig-{access.name}.yaml"'
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def not_found(request):
    return error(None, "no such API endpoint", 404)


def healthz(request):
    """DB, Redis and a Celery worker; 200 only when all three answer."""
    from .celery import app

    result = {"db": "down", "redis": "down", "worker": "down"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        result["db"] = "ok"
    except Exception:
        log.exception("healthz: database")
    try:
        if runlog.client().ping():
            result["redis"] = "ok"
    except Exception:
        log.exception("healthz: redis")
    if result["redis"] == "ok":
        try:
            if app.control.ping(timeout=1, limit=1):
                result["worker"] = "ok"
        except Exception:
            log.exception("healthz: celery")
    ok = all(v == "ok" for v in result.values())
    return JsonResponse(result, status=200 if ok else 503)
