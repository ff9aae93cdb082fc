"""Run rows as JSON, and the channel-layer groups runs are announced on.

Group messages (internal, between processes; the browser never sees these shapes):
- `{"type": "run.status", "run": {run JSON}}` to `run.<hex>` and `classroom.default`: a run was created or
  changed status/paused/speed. Consumers forward it to the browser as `{"type": "run", "run": ...}`.
- `{"type": "classroom.focus", "focus": {...}}` to `classroom.default`: the presenter looked at another
  panel (or step); forwarded as `{"type": "focus", "focus": ...}` so following students look there too.
"""
from __future__ import annotations

import json
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .models import Run

log = logging.getLogger(__name__)

CLASSROOM = "default"

# What a presenter can point the class at: the page's sections, as the keys 1-9 number them.
PANELS = ("arch-card", "apiserver-panel", "etcd-panel", "scheduler-panel", "controllers-panel",
          "sequence-panel", "terminals-panel", "cluster-map", "log-card")
FOCUS_TTL = 12 * 3600


def run_group(run_id) -> str:
    hex_id = run_id.hex if isinstance(run_id, uuid.UUID) else uuid.UUID(str(run_id)).hex
    return f"run.{hex_id}"


def classroom_group(room: str = CLASSROOM) -> str:
    return f"classroom.{room}"


def _iso(dt):
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def run_json(run: Run) -> dict:
    return {
        "id": run.id.hex,
        "scenario": run.scenario,
        "backend": run.backend,
        "params": run.params,
        "speed": run.speed,
        "seed": run.seed,
        "step_mode": run.step_mode,
        "status": run.status,
        "created_by": run.created_by.get_username() if run.created_by_id else None,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "last_seq": run.last_seq,
        "error": run.error,
        "paused": run.status == Run.PAUSED,
    }


def get_run(run_id) -> Run | None:
    """The run for an id in any spelling (hex or dashed UUID); None when malformed or unknown."""
    try:
        rid = run_id if isinstance(run_id, uuid.UUID) else uuid.UUID(str(run_id))
    except (ValueError, TypeError, AttributeError):
        return None
    return Run.objects.select_related("created_by").filter(id=rid).first()


def latest_run() -> Run | None:
    return Run.objects.select_related("created_by").order_by("-created_at").first()


def status_message(run: Run) -> dict:
    return {"type": "run.status", "run": run_json(run)}


def announce(run: Run) -> None:
    """Tell the run's viewers and the classroom about the run's current row (from sync code)."""
    layer = get_channel_layer()
    message = status_message(run)
    try:
        async_to_sync(layer.group_send)(run_group(run.id), message)
        async_to_sync(layer.group_send)(classroom_group(), message)
    except Exception:
        # The row is the truth and viewers poll it; a lost announcement must not fail the request.
        log.exception("announcing run %s failed", run.id.hex)


def focus_key(room: str = CLASSROOM) -> str:
    return f"k8sdash:focus:{room}"


def current_focus(room: str = CLASSROOM) -> dict | None:
    """Where the presenter last pointed the class (None when never, or long ago)."""
    from . import runlog

    raw = runlog.client().get(focus_key(room))
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def set_focus(focus: dict, room: str = CLASSROOM) -> None:
    """Store the presenter's focus for late joiners and tell the classroom about it."""
    from . import runlog

    runlog.client().set(focus_key(room), json.dumps(focus), ex=FOCUS_TTL)
    try:
        async_to_sync(get_channel_layer().group_send)(classroom_group(room), {"type": "classroom.focus", "focus": focus})
    except Exception:
        # Stored; followers that missed the message read it when they reconnect.
        log.exception("announcing the presenter's focus failed")


# Scenario parameters bounded by a setting as well as by the catalog (DASHBOARD_MAX_NODES / _PODS).
SIZE_SETTINGS = {"nodes": "DASHBOARD_MAX_NODES", "pods": "DASHBOARD_MAX_PODS"}


def catalog() -> list[dict]:
    """The scenario catalog as this installation offers it: sizes capped by the settings."""
    from django.conf import settings
    from simulator import scenarios

    entries = scenarios.catalog()
    for entry in entries:
        for p in entry["params"]:
            if p["name"] in SIZE_SETTINGS and p["type"] == "int":
                cap = getattr(settings, SIZE_SETTINGS[p["name"]])
                if "max" not in p or p["max"] > cap:
                    p["max"] = cap
                if p["default"] > cap:
                    p["default"] = max(p.get("min", 0), cap)
    return entries
