"""Kubernetes Event objects, written through the API server like every other object.

Two recorders exist upstream:
- client-go tools/record (core/v1 Events): the kubelet's. Name "<object>.<hex of UnixNano>", source
  {component, host}, firstTimestamp/lastTimestamp, count 1.
- client-go tools/events (events.k8s.io/v1): the scheduler's. Same naming; stored as a core/v1 Event
  with eventTime, action, reportingComponent/reportingInstance and an empty source (the events/v1 ->
  core conversion maps only deprecatedSource, which that recorder leaves empty).
Both build the name as fmt.Sprintf("%v.%x", ref.Name, t.UnixNano()).
"""
from __future__ import annotations

from . import clock
from .apiserver.server import Request


def involved(pod: dict, field_path: str = "") -> dict:
    m = pod["metadata"]
    ref = {"kind": "Pod", "namespace": m["namespace"], "name": m["name"], "uid": m.get("uid", ""),
           "apiVersion": "v1", "resourceVersion": m.get("resourceVersion", "")}
    if field_path:
        ref["fieldPath"] = field_path
    return ref


def core_event(t: float, pod: dict, reason: str, message: str, etype: str, component: str, host: str,
               field_path: str = "") -> dict:
    ts = clock.rfc3339(t)
    name = f"{pod['metadata']['name']}.{clock.unix_nano(t):x}"
    return {"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": pod["metadata"]["namespace"]},
            "involvedObject": involved(pod, field_path), "reason": reason, "message": message,
            "source": {"component": component, "host": host}, "firstTimestamp": ts, "lastTimestamp": ts,
            "count": 1, "type": etype, "eventTime": None, "reportingComponent": component,
            "reportingInstance": host}


def events_v1_event(t: float, pod: dict, reason: str, action: str, note: str, etype: str,
                    controller: str, instance: str) -> dict:
    name = f"{pod['metadata']['name']}.{clock.unix_nano(t):x}"
    return {"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": pod["metadata"]["namespace"]},
            "involvedObject": involved(pod), "reason": reason, "message": note, "source": {},
            "firstTimestamp": None, "lastTimestamp": None, "type": etype, "eventTime": clock.rfc3339_micro(t),
            "action": action, "reportingComponent": controller, "reportingInstance": instance}


def post_core(apiserver, client: dict, credential, ev: dict):
    ns = ev["metadata"]["namespace"]
    return apiserver.handle(Request("POST", f"/api/v1/namespaces/{ns}/events", "create", "events", ns,
                                    ev["metadata"]["name"], body=ev, credential=credential, client=client, body_owned=True))


def post_events_v1(apiserver, client: dict, credential, ev: dict):
    ns = ev["metadata"]["namespace"]
    return apiserver.handle(Request("POST", f"/apis/events.k8s.io/v1/namespaces/{ns}/events", "create", "events", ns,
                                    ev["metadata"]["name"], api_group="events.k8s.io", body=ev,
                                    credential=credential, client=client, body_owned=True))
