"""`Table` responses (meta.k8s.io/v1), what `kubectl get` asks for with
`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.

The columns are kube-apiserver's printers for each resource (pkg/printers/internalversion/printers.go:
AddHandlers' column definitions and printPod, printNode, printDeployment, printReplicaSet, printService,
printNamespace, printEvent); a resource without a printer gets the default table convertor's Name and
Created At (k8s.io/apiserver/pkg/registry/rest/table.go). Ages are duration.HumanDuration
(k8s.io/apimachinery/pkg/util/duration/duration.go), computed by the server as the real one does.
"""
from __future__ import annotations

import datetime as _dt

from simulator import clock
from simulator.state import _pod_row

_NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, although some "
              "resources may allow a client to request the generation of an appropriate name automatically. "
              "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
              "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
_AGE_DESC = ("CreationTimestamp is a timestamp representing the server time when this object was created. "
             "It is not guaranteed to be set in happens-before order across separate operations. Clients may "
             "not set this value. It is represented in RFC3339 form and is in UTC.")


def _col(name: str, type_: str = "string", fmt: str = "", desc: str = "", priority: int = 0) -> dict:
    return {"name": name, "type": type_, "format": fmt, "description": desc, "priority": priority}


def human_duration(seconds: float) -> str:
    """duration.HumanDuration: 45s, 2m5s, 12m, 3h15m, 10h, 3d4h, 20d, 2y30d."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _seconds(ts: str | None) -> float | None:
    if not ts:
        return None
    d = _dt.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)
    return (d - clock.EPOCH).total_seconds()


def _age(ts: str | None, now: float) -> str:
    """translateTimestampSince: "<unknown>" for an unset time."""
    t = _seconds(ts)
    return "<unknown>" if t is None else human_duration(now - t)


def _join(items, empty: str = "<none>") -> str:
    items = [i for i in items if i]
    return ",".join(items) if items else empty


def _selector(sel: dict | None) -> str:
    """metav1.FormatLabelSelector for matchLabels (matchExpressions written as k in (v))."""
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        parts.append(f"{e.get('key')} {e.get('operator', '').lower()} ({','.join(e.get('values') or [])})")
    return ",".join(parts) or "<none>"


# -- pods ---------------------------------------------------------------------------------------------------

POD_COLUMNS = [
    _col("Name", fmt="name", desc=_NAME_DESC), _col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", desc="The aggregate status of the containers in this pod."),
    _col("Restarts", desc="The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    _col("Age", desc=_AGE_DESC), _col("IP", desc="IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", priority=1),
    _col("Node", desc="NodeName is a request to schedule this pod onto a specific node.", priority=1),
    _col("Nominated Node", desc="nominatedNodeName is set only when this pod preempts other pods on the node.", priority=1),
    _col("Readiness Gates", desc="If specified, all readiness gates will be evaluated for pod readiness.", priority=1),
]


def pod_cells(pod: dict, now: float) -> list:
    row = _pod_row(pod)
    restarts = str(row["restarts"])
    if row["last_restart"]:
        restarts += f" ({human_duration(now - _seconds(row['last_restart']))} ago)"
    status, spec = pod.get("status") or {}, pod.get("spec") or {}
    gates = spec.get("readinessGates") or []
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        ready = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_cell = f"{ready}/{len(gates)}"
    else:
        gates_cell = "<none>"
    return [row["name"], row["ready"], row["status"], restarts, _age(row["created"], now),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", gates_cell]


# -- nodes --------------------------------------------------------------------------------------------------

NODE_COLUMNS = [
    _col("Name", fmt="name", desc=_NAME_DESC), _col("Status", desc="The status of the node"),
    _col("Roles", desc="The roles of the node"), _col("Age", desc=_AGE_DESC),
    _col("Version", desc="Kubelet Version reported by the node."),
    _col("Internal-IP", desc="List of addresses reachable to the node.", priority=1),
    _col("External-IP", desc="List of addresses reachable to the node.", priority=1),
    _col("OS-Image", desc="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority=1),
    _col("Kernel-Version", desc="Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority=1),
    _col("Container-Runtime", desc="ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority=1),
]


def node_cells(node: dict, now: float) -> list:
    meta, status, spec = node.get("metadata") or {}, node.get("status") or {}, node.get("spec") or {}
    conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    # printNode: the Ready condition, "Not" before it unless True (False and Unknown alike); no condition at
    # all is "Unknown".
    ready = conds.get("Ready")
    states = ["Unknown" if ready is None else "Ready" if ready == "True" else "NotReady"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    labels = meta.get("labels") or {}
    roles = {k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and k.split("/", 1)[1]}
    if labels.get("kubernetes.io/role"):
        roles.add(labels["kubernetes.io/role"])
    roles = sorted(roles)
    addrs = status.get("addresses") or []
    internal = [a["address"] for a in addrs if a.get("type") == "InternalIP"]
    external = [a["address"] for a in addrs if a.get("type") == "ExternalIP"]
    info = status.get("nodeInfo") or {}
    return [meta.get("name"), ",".join(states), _join(roles), _age(meta.get("creationTimestamp"), now),
            info.get("kubeletVersion", ""), _join(internal), _join(external), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


# -- workloads ----------------------------------------------------------------------------------------------

def _containers(template: dict) -> tuple[str, str]:
    cs = ((template or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _template_columns(selector_desc: str) -> list[dict]:
    """The wide columns a workload with a Pod template adds (-o wide): its containers, images and selector."""
    return [_col("Containers", desc="Names of each container in the template.", priority=1),
            _col("Images", desc="Images referenced by each container in the template.", priority=1),
            _col("Selector", desc=selector_desc, priority=1)]


DEPLOYMENT_COLUMNS = [
    _col("Name", fmt="name", desc=_NAME_DESC), _col("Ready", desc="Number of the pod with ready state"),
    _col("Up-to-date", "integer", desc="Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
    _col("Available", "integer", desc="Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
    _col("Age", desc=_AGE_DESC),
    *_template_columns("Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
]


def deployment_cells(d: dict, now: float) -> list:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(spec.get("template"))
    return [d["metadata"].get("name"), f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0),
            _age(d["metadata"].get("creationTimestamp"), now), names, images, _selector(spec.get("selector"))]


REPLICASET_COLUMNS = [
    _col("Name", fmt="name", desc=_NAME_DESC),
    _col("Desired", "integer", desc="Replicas is the number of desired pods."),
    _col("Current", "integer", desc="Replicas is the most recently observed number of replicas."),
    _col("Ready", "integer", desc="readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition."),
    _col("Age", desc=_AGE_DESC),
    *_template_columns("Selector is a label query over pods that should match the replica count."),
]


def replicaset_cells(rs: dict, now: float) -> list:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _containers(spec.get("template"))
    return [rs["metadata"].get("name"), spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), _age(rs["metadata"].get("creationTimestamp"), now), names, images,
            _selector(spec.get("selector"))]


# -- services, namespaces, events ---------------------------------------------------------------------------

SERVICE_COLUMNS = [
    _col("Name", fmt="name", desc=_NAME_DESC), _col("Type", desc="type determines how the Service is exposed."),
    _col("Cluster-IP", desc="clusterIP is the IP address of the service and is usually assigned randomly."),
    _col("External-IP", desc="externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
    _col("Port(s)", desc="The list of ports that are exposed by this service."), _col("Age", desc=_AGE_DESC),
    _col("Selector", desc="Route service traffic to pods with label keys and values matching this selector.", priority=1),
]


def service_cells(svc: dict, now: float) -> list:
    spec = svc.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        port = f"{p.get('port')}"
        if p.get("nodePort"):
            port += f":{p['nodePort']}"
        ports.append(f"{port}/{p.get('protocol', 'TCP')}")
    ext = spec.get("externalIPs") or []
    if spec.get("type") == "LoadBalancer":
        ing = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ext = ext + [i.get("ip") or i.get("hostname") for i in ing] or ["<pending>"]
    sel = spec.get("selector") or {}
    return [svc["metadata"].get("name"), spec.get("type", "ClusterIP"), spec.get("clusterIP") or "<none>",
            _join(ext), _join(ports), _age(svc["metadata"].get("creationTimestamp"), now),
            _join(f"{k}={v}" for k, v in sorted(sel.items()))]


NAMESPACE_COLUMNS = [_col("Name", fmt="name", desc=_NAME_DESC),
                     _col("Status", desc="The status of the namespace"), _col("Age", desc=_AGE_DESC)]


def namespace_cells(ns: dict, now: float) -> list:
    return [ns["metadata"].get("name"), (ns.get("status") or {}).get("phase", ""),
            _age(ns["metadata"].get("creationTimestamp"), now)]


EVENT_COLUMNS = [
    _col("Last Seen", desc="Time when this Event was last seen"), _col("Type", desc="Type of this event (Normal, Warning), new types could be added in the future."),
    _col("Reason", desc="Reason is why the action was taken. It is human-readable. This field cannot be empty for new Events and it can have at most 128 characters."),
    _col("Object", desc="The object that this event is about. Mapped from Regarding"),
    _col("Subobject", desc="Subobject is a FieldPath of the object this event is about.", priority=1),
    _col("Source", desc="Source is the component reporting this event.", priority=1),
    _col("Message", desc="A human-readable description of the status of this operation."),
    _col("First Seen", desc="Time when this Event was first seen", priority=1),
    _col("Count", desc="The number of times this event has occurred.", priority=1),
    _col("Name", fmt="name", desc=_NAME_DESC, priority=1),
]


def event_cells(ev: dict, now: float) -> list:
    """printEvent: a series' last observed time, else lastTimestamp, else eventTime."""
    inv = ev.get("involvedObject") or {}
    last = ((ev.get("series") or {}).get("lastObservedTime") or ev.get("lastTimestamp") or ev.get("eventTime"))
    first = ev.get("firstTimestamp") or ev.get("eventTime")
    src = ev.get("source") or {}
    source = src.get("component") or ev.get("reportingComponent") or ""
    if src.get("host"):
        source += ", " + src["host"]
    count = (ev.get("series") or {}).get("count") or ev.get("count") or 1
    return [_age(last, now), ev.get("type", ""), ev.get("reason", ""),
            f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}", inv.get("fieldPath", ""), source,
            (ev.get("message") or "").strip(), _age(first, now), count, ev["metadata"].get("name")]


DEFAULT_COLUMNS = [_col("Name", fmt="name", desc=_NAME_DESC), _col("Created At", "date", desc=_AGE_DESC)]


def default_cells(obj: dict, now: float) -> list:
    meta = obj.get("metadata") or {}
    return [meta.get("name"), meta.get("creationTimestamp")]


PRINTERS = {
    "pods": (POD_COLUMNS, pod_cells), "nodes": (NODE_COLUMNS, node_cells),
    "deployments": (DEPLOYMENT_COLUMNS, deployment_cells), "replicasets": (REPLICASET_COLUMNS, replicaset_cells),
    "services": (SERVICE_COLUMNS, service_cells), "namespaces": (NAMESPACE_COLUMNS, namespace_cells),
    "events": (EVENT_COLUMNS, event_cells),
}


def _row_object(obj: dict, include: str) -> dict | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def table(resource: str, objects: list[dict], now: float, resource_version: str = "", include: str = "Metadata",
          columns: bool = True) -> dict:
    """The Table of `objects` (`columns=False`: rows only, for a watch event after the first)."""
    cols, cells = PRINTERS.get(resource, (DEFAULT_COLUMNS, default_cells))
    rows = []
    for o in objects:
        row = {"cells": cells(o, now)}
        ro = _row_object(o, include)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}}
    if resource_version:
        out["metadata"]["resourceVersion"] = resource_version
    if columns:
        out["columnDefinitions"] = cols
    out["rows"] = rows
    return out
