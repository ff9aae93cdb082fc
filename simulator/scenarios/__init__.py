"""The scenario catalog and parameter validation (contract section 1)."""
from __future__ import annotations

import copy
import importlib
from typing import Any

from ..errors import ParamError

# The catalog in the order the lessons teach it; one module per scenario, one line each.
_MODULES = [
    "pod_create",
    "deployment_reconcile",
    "rolling_update",
    "etcd_raft",
    "apiserver_security",
    "scheduling",
    "preemption",
    "node_failure",
    "service_networking",
    "ha_control_plane",
    "scale",
    "custom",
]

_SCENARIOS = {m.ID: m for m in (importlib.import_module(f"{__name__}.{name}") for name in _MODULES)}


def get(scenario_id: str):
    try:
        return _SCENARIOS[scenario_id]
    except (KeyError, TypeError):
        raise ParamError("scenario", f"unknown scenario {scenario_id!r}; known: {', '.join(sorted(_SCENARIOS))}") from None


def catalog() -> list[dict]:
    return [copy.deepcopy(m.CATALOG) for m in _SCENARIOS.values()]


def validate(scenario_id: str, params: dict | None) -> dict:
    """Return the params with defaults filled in; raise ParamError naming the first bad field."""
    mod = get(scenario_id)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ParamError("params", "must be an object")
    specs = {p["name"]: p for p in mod.CATALOG["params"]}
    for name in params:
        if name not in specs:
            raise ParamError(f"params.{name}", f"unknown parameter; known: {', '.join(specs)}")
    cleaned: dict[str, Any] = {}
    for name, spec in specs.items():
        field = f"params.{name}"
        if name not in params:
            cleaned[name] = spec["default"]
            continue
        v = params[name]
        t = spec["type"]
        if t == "int":
            if isinstance(v, bool) or not isinstance(v, int):
                raise ParamError(field, "must be an integer")
            if "min" in spec and v < spec["min"] or "max" in spec and v > spec["max"]:
                raise ParamError(field, f"must be between {spec.get('min')} and {spec.get('max')}")
        elif t == "bool":
            if not isinstance(v, bool):
                raise ParamError(field, "must be true or false")
        elif t == "str":
            if not isinstance(v, str):
                raise ParamError(field, "must be a string")
            if "choices" in spec and v not in spec["choices"]:
                raise ParamError(field, f"must be one of: {', '.join(spec['choices'])}")
            if "max_length" in spec and len(v) > spec["max_length"]:
                raise ParamError(field, f"must be at most {spec['max_length']} characters")
            check = getattr(mod, "check_" + name, None)
            if check is not None:
                err = check(v)
                if err:
                    raise ParamError(field, err)
        cleaned[name] = v
    # Constraints between parameters (e.g. scale: at most 110 Pods per node), after each is valid alone.
    check = getattr(mod, "check_params", None)
    if check is not None:
        err = check(cleaned)
        if err:
            raise ParamError(*err)
    return cleaned
