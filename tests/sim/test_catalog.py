"""The event catalog and the scenario catalog match the contract."""
import json

import pytest

from simulator import events, scenarios
from simulator.errors import ParamError

CONTRACT_TYPES = [
    "scenario.started", "scenario.step", "scenario.completed", "run.cancelled", "run.failed", "kubectl.request",
    "apiserver.authn", "apiserver.authz", "apiserver.admission", "apiserver.validation", "apiserver.storage",
    "etcd.put", "etcd.delete", "apiserver.response", "apiserver.request", "apiserver.watch",
    "controller-manager.informer", "scheduler.queue", "scheduler.filter", "scheduler.score", "scheduler.bind",
    "kubelet.pod.sync", "container-runtime.sandbox", "kubelet.image.pulling", "kubelet.image.pulled",
    "container-runtime.container.created", "container-runtime.container.started", "kubelet.status",
]


def test_event_catalog_has_every_contract_type():
    # The contract's types must all stay; new types may be added, but each must be well formed.
    missing = [t for t in CONTRACT_TYPES if t not in events.CATALOG]
    assert not missing, f"contract event types missing from the catalog: {missing}"
    assert list(events.TYPES) == list(events.CATALOG)
    for t, et in events.TYPES.items():
        assert et.type == t and isinstance(t, str) and t.strip() == t and t, t
        assert et.component in events.COMPONENTS or et.component == "client", (t, et.component)
        assert isinstance(et.flow, str) and et.flow, t
        assert isinstance(et.description, str) and et.description.strip(), t
        assert events.CATALOG[t] == et.description, t
        assert isinstance(et.data, tuple) and all(isinstance(k, str) and k for k in et.data), (t, et.data)
        assert len(set(et.data)) == len(et.data), (t, "duplicate data keys")
        assert isinstance(et.steps, tuple), (t, et.steps)
        assert all(type(n) is int and 1 <= n <= 10 for n in et.steps), (t, et.steps)
    cj = events.catalog_json()
    json.dumps(cj)
    assert list(cj["types"]) == list(events.TYPES)
    for t, entry in cj["types"].items():
        assert entry["description"] == events.TYPES[t].description
        assert entry["data"] == list(events.TYPES[t].data)
        assert entry["steps"] == list(events.TYPES[t].steps)


def test_pod_create_emits_only_catalogued_data_keys(pod_create_events):
    for e in pod_create_events:
        allowed = set(events.TYPES[e["type"]].data)
        assert set(e["data"]) <= allowed, (e["type"], set(e["data"]) - allowed)


def test_catalog_steps_cover_what_pod_create_emits():
    from tests.sim.helpers import run_pod_create
    for seed in (1, 2, 3):
        for e in run_pod_create(seed):
            if "step" in e and not e["type"].startswith("scenario."):
                assert e["step"] in events.TYPES[e["type"]].steps, (e["type"], e["step"])
            assert events.TYPES[e["type"]].component in (e["component"], "client")


def test_scenario_catalog_entry_shape():
    (entry,) = [e for e in scenarios.catalog() if e["id"] == "pod-create"]
    assert entry["backends"] == ["sim", "api"]
    for lang in ("en", "ko"):
        assert entry["title"][lang] and entry["description"][lang]
    params = {p["name"]: p for p in entry["params"]}
    assert params["image"]["choices"] == ["nginx", "nginx:alpine", "busybox", "redis"]
    assert params["image"]["default"] == "nginx" and params["pod_name"]["default"] == "nginx"
    assert [s["n"] for s in entry["steps"]] == list(range(1, 11))
    for s in entry["steps"]:
        for lang in ("en", "ko"):
            assert s["title"][lang] and s["narration"][lang]
    json.dumps(entry)


def test_validate_fills_defaults_and_names_bad_fields():
    assert scenarios.validate("pod-create", {}) == {"image": "nginx", "pod_name": "nginx"}
    assert scenarios.validate("pod-create", {"image": "redis"}) == {"image": "redis", "pod_name": "nginx"}
    for sid, params, field in (("nope", {}, "scenario"), ("pod-create", {"image": "ubuntu"}, "params.image"),
                               ("pod-create", {"x": 1}, "params.x"), ("pod-create", {"pod_name": 5}, "params.pod_name"),
                               ("pod-create", {"pod_name": "-bad"}, "params.pod_name"),
                               ("pod-create", {"pod_name": "a" * 64}, "params.pod_name")):
        with pytest.raises(ParamError) as ei:
            scenarios.validate(sid, params)
        assert ei.value.field == field and ei.value.message


def test_custom_pod_name_flows_through(tmp_path):
    from tests.sim.helpers import run_pod_create
    evs = run_pod_create(4, image="redis", pod_name="cache")
    assert evs[-1]["data"]["outcome"] == "Running"
    assert any(e["type"] == "etcd.put" and e["data"]["key"] == "/registry/pods/default/cache" for e in evs)
    assert [e["data"]["step"] for e in evs if e["type"] == "scenario.step"] == list(range(1, 11))
