"""The Endpoints and EndpointSlice controllers (v1.31):
pkg/controller/endpoint/endpoints_controller.go (syncService, addEndpointSubset, RepackSubsets),
pkg/controller/endpointslice/endpointslice_controller.go and staging/src/k8s.io/endpointslice
(reconciler.go, utils.go: podToEndpoint, getEndpointPorts, ShouldPodBeInEndpoints), and
pkg/api/v1/pod FindPort (named target ports).

For each Service with a selector: the Pods it selects that have an IP become addresses - `addresses` when
Ready, `notReadyAddresses` otherwise (Endpoints, stored under /registry/services/endpoints), or endpoints
with conditions ready / serving / terminating (EndpointSlice, labelled kubernetes.io/service-name).
"""
from __future__ import annotations

from typing import Generator

from .. import ids
from .base import Controller, WorkQueue, deep, map_selector_matches, ok, pod_ready, split_key

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
ZONE_LABEL = "topology.kubernetes.io/zone"


def find_port(pod: dict, svc_port: dict) -> int | None:
    """podutil.FindPort: an int targetPort is used as is; a name is looked up among the containers'
    ports with the same protocol. An unset targetPort defaults to the port."""
    tp = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(tp, int):
        return tp
    if isinstance(tp, str) and tp.isdigit():
        return int(tp)
    proto = svc_port.get("protocol", "TCP")
    for c in pod["spec"].get("containers", []) or []:
        for p in c.get("ports", []) or []:
            if p.get("name") == tp and p.get("protocol", "TCP") == proto:
                return p.get("containerPort")
    return None


def should_be_in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """endpointsliceutil.ShouldPodBeInEndpoints."""
    st = pod.get("status", {})
    if not st.get("podIP"):
        return False
    if not include_terminating and pod["metadata"].get("deletionTimestamp"):
        return False
    phase = st.get("phase")
    if pod["spec"].get("restartPolicy") == "Never":
        return phase not in ("Failed", "Succeeded")
    if pod["spec"].get("restartPolicy") == "OnFailure":
        return phase != "Succeeded"
    return True


def _target_ref(pod: dict) -> dict:
    m = pod["metadata"]
    return {"kind": "Pod", "namespace": m["namespace"], "name": m["name"], "uid": m.get("uid", "")}


def _selected_pods(inf, svc: dict) -> list[dict]:
    ns = svc["metadata"]["namespace"]
    sel = svc["spec"].get("selector")
    return [p for p in inf["pods"].list(ns) if map_selector_matches(sel, p["metadata"].get("labels"))]


def _svc_ports(svc: dict) -> list[dict]:
    return svc["spec"].get("ports") or []


def endpoint_subsets(svc: dict, pods: list[dict]) -> list[dict]:
    """The subsets of the Endpoints object, repacked (addresses with the same ports share a subset;
    addresses sorted by IP)."""
    tolerate_unready = bool(svc["spec"].get("publishNotReadyAddresses"))
    groups: dict[tuple, dict] = {}
    for pod in pods:
        if not should_be_in_endpoints(pod, include_terminating=False):
            continue
        ports = []
        for sp in _svc_ports(svc):
            n = find_port(pod, sp)
            if n is None:
                continue
            ep = {"port": n, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                ep = {"name": sp["name"], **ep}
            ports.append(ep)
        if not ports and _svc_ports(svc):
            continue
        addr = {"ip": pod["status"]["podIP"]}
        if pod["spec"].get("nodeName"):
            addr["nodeName"] = pod["spec"]["nodeName"]
        addr["targetRef"] = _target_ref(pod)
        g = groups.setdefault(tuple(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports)),
                              {"addresses": [], "notReadyAddresses": [], "ports": ports})
        (g["addresses"] if (pod_ready(pod) or tolerate_unready) else g["notReadyAddresses"]).append(addr)
    out = []
    for k in sorted(groups):
        g = groups[k]
        sub = {}
        if g["addresses"]:
            sub["addresses"] = sorted(g["addresses"], key=lambda a: a["ip"])
        if g["notReadyAddresses"]:
            sub["notReadyAddresses"] = sorted(g["notReadyAddresses"], key=lambda a: a["ip"])
        sub["ports"] = sorted(g["ports"], key=lambda p: (p.get("name", ""), p["port"]))
        out.append(sub)
    return out


def desired_slices(svc: dict, pods: list[dict], zone_of) -> list[dict]:
    """The EndpointSlices' ports and endpoints for a Service and the Pods it selects: one slice per distinct
    port list (the reconciler's endpointMeta), endpoints sorted by IP. zone_of(node) -> the node's
    topology.kubernetes.io/zone label, or None."""
    publish = bool(svc["spec"].get("publishNotReadyAddresses"))
    groups: dict[tuple, dict] = {}
    for pod in pods:
        if not should_be_in_endpoints(pod, include_terminating=True):
            continue
        ports = []
        for sp in _svc_ports(svc):
            n = find_port(pod, sp)
            if n is None:
                continue
            ports.append({"name": sp.get("name", ""), "port": n, "protocol": sp.get("protocol", "TCP")})
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = pod_ready(pod)
        ep = {"addresses": [pod["status"]["podIP"]],
              "conditions": {"ready": publish or (ready and not terminating), "serving": publish or ready,
                             "terminating": terminating}}
        node = pod["spec"].get("nodeName")
        if node:
            ep["nodeName"] = node
        ep["targetRef"] = _target_ref(pod)
        zone = zone_of(node) if node else None
        if zone:
            ep["zone"] = zone
        k = tuple((p["name"], p["port"], p["protocol"]) for p in ports)
        groups.setdefault(k, {"ports": ports, "endpoints": []})["endpoints"].append(ep)
    if not groups:
        return [{"ports": [], "endpoints": []}]  # the placeholder slice
    return [{"ports": g["ports"], "endpoints": sorted(g["endpoints"], key=lambda e: e["addresses"][0])}
            for _, g in sorted(groups.items())]


def endpoints_labels(svc: dict) -> dict:
    """The Endpoints object's labels: the Service's, plus service.kubernetes.io/headless when headless."""
    labels = dict(svc["metadata"].get("labels") or {})
    if svc["spec"].get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


def slice_labels(svc: dict) -> dict:
    """An EndpointSlice's labels (endpointslice utils setEndpointSliceLabels): the Service's, then
    kubernetes.io/service-name, endpointslice.kubernetes.io/managed-by and, when headless,
    service.kubernetes.io/headless."""
    labels = {k: v for k, v in (svc["metadata"].get("labels") or {}).items()
              if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL)}
    labels[SERVICE_NAME_LABEL] = svc["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    if svc["spec"].get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


class _ServiceController(Controller):
    RESOURCES = ("services", "pods")

    def register(self) -> None:
        self.inf["services"].add_handler(lambda kind, old, s: self.enqueue(s))
        self.inf["pods"].add_handler(self._on_pod)

    def _on_pod(self, kind: str, old: dict | None, pod: dict) -> None:
        """addPod / deletePod: every Service selecting the Pod. updatePod: only when the change matters to
        an endpoint (endpointslice util GetServicesToUpdateOnPodChange), for the Services of the old and
        the new labels."""
        if kind == "MODIFIED" and old is not None:
            if old["metadata"].get("resourceVersion") == pod["metadata"].get("resourceVersion"):
                return  # a resync
            if not _pod_endpoints_changed(old, pod) and \
                    (old["metadata"].get("labels") or {}) == (pod["metadata"].get("labels") or {}):
                return
        ns = pod["metadata"]["namespace"]
        for svc in self.inf["services"].list(ns):
            sel = svc["spec"].get("selector")
            if map_selector_matches(sel, pod["metadata"].get("labels")) or \
                    (old is not None and map_selector_matches(sel, old["metadata"].get("labels"))):
                self.enqueue(svc)


def _pod_endpoints_changed(old: dict, new: dict) -> bool:
    """podEndpointsChanged (staging/src/k8s.io/endpointslice/util/controller_utils.go), the pod half: the
    deletion timestamp, readiness, the Pod IPs, hostname and subdomain. (Name, namespace, UID and
    nodeName are immutable once the Pod has an IP.)"""
    if old["metadata"].get("deletionTimestamp") != new["metadata"].get("deletionTimestamp"):
        return True
    if pod_ready(old) != pod_ready(new):
        return True
    ips = lambda p: [x.get("ip") for x in (p.get("status") or {}).get("podIPs") or []] or \
        ([p["status"]["podIP"]] if (p.get("status") or {}).get("podIP") else [])  # noqa: E731
    if ips(old) != ips(new):
        return True
    return any(old["spec"].get(f) != new["spec"].get(f) for f in ("hostname", "subdomain"))


class EndpointsController(_ServiceController):
    NAME = "endpoints"
    SOURCE = "endpoint-controller"
    WORKERS = 5
    RESOURCES = ("services", "pods", "endpoints")

    def __init__(self, cm):
        super().__init__(cm)
        # staleEndpointsTracker (pkg/controller/endpoint/endpoints_tracker.go): key -> the resourceVersion
        # this controller last replaced with an update. Seeing it again in the lister means the informer
        # has not caught up with our own write: acting on it would compare against stale subsets.
        self.stale_rv: dict[str, str] = {}

    def sync(self, key: str) -> Generator:
        ns, name = split_key(key)
        svc = self.inf["services"].get(key)
        cur = self.inf["endpoints"].get(key)
        if svc is None:
            self.stale_rv.pop(key, None)
            # The Endpoints object is deleted with its Service.
            if cur is not None:
                yield self.client.delete("endpoints", name, namespace=ns)
                return ("deleted Endpoints", None, None)
            return ("none", None, None)
        if not svc["spec"].get("selector"):
            return ("none", None, None)  # a Service without selector: its Endpoints are the user's
        if cur is not None and self.stale_rv.get(key) == cur["metadata"].get("resourceVersion"):
            # syncService: return the error; handleErr requeues the key with back-off.
            return ("error", None, None, f"endpoints informer cache is out of date, resource version "
                                         f"{cur['metadata'].get('resourceVersion')} already processed for endpoints {key}")
        subsets = endpoint_subsets(svc, _selected_pods(self.inf, svc))
        labels = endpoints_labels(svc)
        ready = sum(len(s.get("addresses", [])) for s in subsets)
        not_ready = sum(len(s.get("notReadyAddresses", [])) for s in subsets)
        desired = {"ready": ready, "notReady": not_ready}
        if cur is not None and (cur.get("subsets") or []) == subsets and (cur["metadata"].get("labels") or {}) == labels:
            return ("none", desired, desired)
        if cur is None:
            body = {"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": name, "namespace": ns, **({"labels": labels} if labels else {})}}
            if subsets:
                body["subsets"] = subsets
            resp = yield self.client.create("endpoints", body, namespace=ns)
            verb = "created"
        else:
            body = deep(cur)
            body["metadata"]["labels"] = labels
            if subsets:
                body["subsets"] = subsets
            else:
                body.pop("subsets", None)
            resp = yield self.client.update("endpoints", body, namespace=ns)
            verb = "updated"
        if not ok(resp):
            msg = ((getattr(resp, "status", None) or {}).get("message", "")) if resp is not None else "no response"
            if cur is None:
                self.record_event(body, "Warning", "FailedToCreateEndpoint",
                                  f"Failed to create endpoint for service {ns}/{name}: {msg}")
            else:
                self.record_event(body, "Warning", "FailedToUpdateEndpoint",
                                  f"Failed to update endpoint {ns}/{name}: {msg}")
            return ("error", desired, None, f"{verb} Endpoints: {getattr(resp, 'code', '?')}")
        if cur is not None and (resp.body or {}).get("metadata", {}).get("resourceVersion") != cur["metadata"].get("resourceVersion"):
            self.stale_rv[key] = cur["metadata"].get("resourceVersion")
        prev = None
        if cur is not None:
            prev = {"ready": sum(len(s.get("addresses", [])) for s in cur.get("subsets") or []),
                    "notReady": sum(len(s.get("notReadyAddresses", [])) for s in cur.get("subsets") or [])}
        return (f"{verb} Endpoints ({ready} ready, {not_ready} not ready)", desired, prev)


DELETION_EXPECTED = -1


class EndpointSliceTracker:
    """endpointSliceTracker (staging/src/k8s.io/endpointslice/util/endpointslice_tracker.go): the
    generation of every EndpointSlice this controller wrote, by Service, so that it can tell its own
    writes coming back through the informer from other changes, and tell when the informer has not yet
    seen them (StaleSlices) - then a sync would act on a cache without its own latest writes, creating a
    second slice for a Service whose first one is still in flight."""

    def __init__(self):
        self.by_service: dict[str, dict[str, int]] = {}   # "ns/service" -> slice uid -> generation
        self.service_uid: dict[str, str] = {}

    @staticmethod
    def _svc_key(sl: dict) -> str:
        return f"{sl['metadata']['namespace']}/{(sl['metadata'].get('labels') or {}).get(SERVICE_NAME_LABEL, '')}"

    def has(self, sl: dict) -> bool:
        return sl["metadata"].get("uid") in self.by_service.get(self._svc_key(sl), {})

    def should_sync(self, sl: dict) -> bool:
        """Not a slice we wrote, or changed since (a newer generation)."""
        gens = self.by_service.get(self._svc_key(sl))
        if gens is None:
            return True
        g = gens.get(sl["metadata"].get("uid"))
        return g is None or sl["metadata"].get("generation", 0) > g

    def stale_slices(self, svc_key: str, svc_uid: str, slices: list[dict]) -> bool:
        """True when the informer lags behind our writes: a slice older than we wrote it, one we deleted
        still there, or one we wrote missing. A new Service UID drops what was tracked for the old one."""
        tracked_uid = self.service_uid.get(svc_key)
        if tracked_uid and svc_uid and tracked_uid != svc_uid:
            self.by_service.pop(svc_key, None)
        self.service_uid[svc_key] = svc_uid
        gens = self.by_service.get(svc_key)
        if gens is None:
            return False
        provided = set()
        for sl in slices:
            uid = sl["metadata"].get("uid")
            provided.add(uid)
            g = gens.get(uid)
            if g is not None and (g == DELETION_EXPECTED or g > sl["metadata"].get("generation", 0)):
                return True
        return any(g != DELETION_EXPECTED and uid not in provided for uid, g in gens.items())

    def update(self, sl: dict) -> None:
        self.by_service.setdefault(self._svc_key(sl), {})[sl["metadata"].get("uid")] = sl["metadata"].get("generation", 0)

    def expect_deletion(self, sl: dict) -> None:
        self.by_service.setdefault(self._svc_key(sl), {})[sl["metadata"].get("uid")] = DELETION_EXPECTED

    def handle_deletion(self, sl: dict) -> bool:
        """Forget the slice; False when its deletion was not ours to expect."""
        gens = self.by_service.get(self._svc_key(sl))
        if gens is not None:
            g = gens.pop(sl["metadata"].get("uid"), None)
            if g is not None and g != DELETION_EXPECTED:
                return False
        return True

    def delete_service(self, svc_key: str) -> None:
        self.by_service.pop(svc_key, None)
        self.service_uid.pop(svc_key, None)


# endpointslice_controller.go: the queue's rate limiter backs off from 1 s (defaultSyncBackOff) to 1000 s
# (maxSyncBackOff), and a change to a slice queues its Service after endpointSliceChangeMinSyncDelay.
SYNC_BACKOFF = 1.0
MAX_SYNC_BACKOFF = 1000.0
SLICE_CHANGE_MIN_SYNC_DELAY = 1.0


class _SliceQueue(WorkQueue):
    def when(self, key: str) -> float:
        n = self.failures.get(key, 0)
        self.failures[key] = n + 1
        return min(SYNC_BACKOFF * (2 ** n), MAX_SYNC_BACKOFF)


class EndpointSliceController(_ServiceController):
    NAME = "endpointslice"
    SOURCE = "endpoint-slice-controller"
    WORKERS = 5
    RESOURCES = ("services", "pods", "endpointslices", "nodes")

    def __init__(self, cm):
        super().__init__(cm)
        self.queue = _SliceQueue(self.env, self.NAME)
        self.tracker = EndpointSliceTracker()

    def start(self) -> None:
        if self.queue.shutting_down:
            self.queue = _SliceQueue(self.env, self.NAME)
        super().start()

    def register(self) -> None:
        super().register()
        self.inf["endpointslices"].add_handler(self._on_slice)

    def _on_slice(self, kind: str, old: dict | None, sl: dict) -> None:
        """onEndpointSliceAdd / Update / Delete: a managed slice's Service is synced again unless the
        change is one of this controller's own writes coming back (the tracker knows its generation)."""
        def managed(s: dict | None) -> bool:
            labels = (s or {}).get("metadata", {}).get("labels") or {}
            return labels.get(MANAGED_BY_LABEL) == MANAGED_BY and bool(labels.get(SERVICE_NAME_LABEL))

        def managed_by_changed(a: dict | None, b: dict) -> bool:
            la = ((a or {}).get("metadata", {}).get("labels") or {}).get(MANAGED_BY_LABEL)
            return a is not None and la != (b["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL)

        def queue(s: dict) -> None:
            svc = (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL)
            if svc and self.running:
                self.queue.add_after(f"{s['metadata']['namespace']}/{svc}", SLICE_CHANGE_MIN_SYNC_DELAY)

        if kind == "DELETED":
            if managed(sl) and self.tracker.has(sl) and not self.tracker.handle_deletion(sl):
                queue(sl)
            return
        if managed_by_changed(old, sl) or (managed(sl) and self.tracker.should_sync(sl)):
            queue(sl)
            if old is not None and (old["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) != \
                    (sl["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL):
                queue(old)

    def _desired(self, svc: dict) -> list[dict]:
        def zone_of(node: str) -> str | None:
            n = self.inf["nodes"].get(node)
            return ((n or {}).get("metadata", {}).get("labels") or {}).get(ZONE_LABEL)
        return desired_slices(svc, _selected_pods(self.inf, svc), zone_of)

    def sync(self, key: str) -> Generator:
        ns, name = split_key(key)
        svc = self.inf["services"].get(key)
        mine = [s for s in self.inf["endpointslices"].list(ns)
                if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name
                and (s["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY]
        if svc is None or not svc["spec"].get("selector"):
            if svc is None:
                self.tracker.delete_service(key)
            for s in mine:  # the garbage collector would remove them with their Service, too
                yield self.client.delete("endpointslices", s["metadata"]["name"], namespace=ns)
            return (f"deleted {len(mine)} slice(s)" if mine else "none", None, None)
        # dropEndpointSlicesPendingDeletion, then: is the informer behind this controller's own writes?
        # Then return the error (requeued with back-off) rather than act on the stale cache.
        mine = [s for s in mine if not s["metadata"].get("deletionTimestamp")]
        if self.tracker.stale_slices(key, svc["metadata"].get("uid", ""), mine):
            return ("error", None, None, "EndpointSlice informer cache is out of date")
        desired = self._desired(svc)
        labels = slice_labels(svc)
        count = lambda sls: {"ready": sum(1 for d in sls for e in d.get("endpoints") or [] if e["conditions"].get("ready")),  # noqa: E731
                             "endpoints": sum(len(d.get("endpoints") or []) for d in sls)}
        actions = []
        existing = sorted(mine, key=lambda s: s["metadata"]["name"])
        # Match desired slices to existing ones by port list; update in place, create or delete the rest.
        by_ports = {tuple((p.get("name", ""), p["port"], p.get("protocol", "TCP")) for p in (s.get("ports") or [])): s
                    for s in existing}
        used = set()
        for d in desired:
            k = tuple((p["name"], p["port"], p["protocol"]) for p in d["ports"])
            cur = by_ports.get(k)
            if cur is None:
                cur = next((s for s in existing if s["metadata"]["name"] not in used and
                            tuple((p.get("name", ""), p["port"], p.get("protocol", "TCP")) for p in (s.get("ports") or []))
                            not in {tuple((p["name"], p["port"], p["protocol"]) for p in x["ports"]) for x in desired}), None)
            if cur is not None:
                used.add(cur["metadata"]["name"])
                if (cur.get("endpoints") or []) == d["endpoints"] and (cur.get("ports") or []) == d["ports"] and \
                        (cur["metadata"].get("labels") or {}) == labels:
                    continue
                body = deep(cur)
                body["metadata"]["labels"] = labels
                body["endpoints"], body["ports"] = d["endpoints"], d["ports"]
                resp = yield self.client.update("endpointslices", body, namespace=ns)
                if not ok(resp):
                    return ("error", count(desired), count(existing), f"update EndpointSlice: {getattr(resp, 'code', '?')}")
                self.tracker.update(resp.body)
                actions.append(f"updated {cur['metadata']['name']}")
            else:
                m = svc["metadata"]
                body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                        "metadata": {"name": f"{name}-{ids.rand_string(self.rng, 5)}", "generateName": f"{name}-",
                                     "namespace": ns, "labels": labels,
                                     "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                                          "uid": m.get("uid", ""), "controller": True,
                                                          "blockOwnerDeletion": True}]},
                        "addressType": "IPv4", "endpoints": d["endpoints"], "ports": d["ports"]}
                resp = yield self.client.create("endpointslices", body, namespace=ns)
                if not ok(resp):
                    return ("error", count(desired), count(existing), f"create EndpointSlice: {getattr(resp, 'code', '?')}")
                self.tracker.update(resp.body)
                actions.append(f"created {resp.body['metadata']['name']}")
        for s in existing:
            if s["metadata"]["name"] not in used:
                self.tracker.expect_deletion(s)
                yield self.client.delete("endpointslices", s["metadata"]["name"], namespace=ns)
                actions.append(f"deleted {s['metadata']['name']}")
        if not actions:
            return ("none", count(desired), count(desired))
        return ("; ".join(actions), count(desired), count(existing))
