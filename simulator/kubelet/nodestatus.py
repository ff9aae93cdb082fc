"""The kubelet's side of the node's life: registration, the node Lease, node status, stop and start.

- Registration (kubelet_node_status.go registerWithAPIServer): POST the Node with its initial status; a Node
  that already exists (409) is taken over. `Kubelet.register(node)` does it; call it before `start()` for
  a node that joins a running cluster (the bootstrapped nodes exist already and need no registration).
- The Lease kube-node-lease/<node> (component-helpers/apimachinery/lease/controller.go): renewed every
  renewInterval = 0.25 x leaseDurationSeconds (40 s) = 10 s, with wait.JitterUntil's 4 % jitter; created
  when missing; an update conflict re-reads the Lease and retries (at most 5 times). Renewals are quiet.
- Node status (syncNodeStatus every nodeStatusUpdateFrequency = 10 s, jitter 4 %): with leases, the status
  is only written when something changed (conditions, images) or nodeStatusReportFrequency (5 min) has
  passed since the last report (tryUpdateNodeStatus). A write that only renews lastHeartbeatTime is quiet;
  a condition that changes status (Ready again after the node lifecycle controller set Unknown) is not,
  and records the event the condition setter records (nodestatus/setters.go): NodeReady,
  NodeHasSufficientMemory, NodeHasNoDiskPressure, NodeHasSufficientPID - "Node %s status is now: %s".
- A kubelet that starts again records "Starting kubelet." (Starting), renews its Lease and posts its status
  at once, and resyncs its Pods: those deleted meanwhile are killed and cleaned up (HandlePodCleanups),
  those being deleted are terminated and removed, the others carry on.
"""
from __future__ import annotations

import copy

from .. import clock
from ..apiserver import registry

LEASE_DURATION = 40                     # kubelet config nodeLeaseDurationSeconds
RENEW_INTERVAL = 0.25 * LEASE_DURATION  # nodelease.go renewIntervalFraction
NODE_STATUS_UPDATE = 10.0               # nodeStatusUpdateFrequency
NODE_STATUS_REPORT = 300.0              # nodeStatusReportFrequency
JITTER = 0.04
MAX_IMAGES = 50                         # nodeStatusMaxImages

# (type, status, reason, message, the event recorded when it changes)
CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", "NodeHasSufficientMemory"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", "NodeHasNoDiskPressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", "NodeHasSufficientPID"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status", "NodeReady"),
)


class NodeStatusMixin:
    """Mixed into Kubelet (needs self.env, rng, tracer, client, api, node, runtime, running, epoch)."""

    def _init_node_status(self) -> None:
        self.heartbeats = True          # the lead may turn periodic heartbeats off (e.g. for a benchmark)
        self._last_report: float | None = None
        self._registered = False
        self._register_fut = None

    # ---- registration -----------------------------------------------------------------------------------
    def register(self, node: dict | None = None):
        """Self-registration: POST the Node (given, e.g. from a manifest, or built from what the kubelet
        knows), with its initial status. Returns the request's Future (None when the Node exists already)."""
        self._registered = True
        key = registry.key("nodes", "", self.node)
        if self.api.get(key) is not None:
            return None
        body = copy.deepcopy(node) if node is not None else self._initial_node()
        st = body.setdefault("status", {})
        now = clock.rfc3339(self.env.now)
        conds, _changed = self._conditions(st.get("conditions") or [], now)
        st["conditions"] = conds
        st.setdefault("images", self._images())
        fut = self.client.create("nodes", body)
        self._register_fut = fut
        self._last_report = self.env.now
        self._node_event("Starting", "Starting kubelet.")
        return fut

    def _initial_node(self) -> dict:
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "kubernetes.io/hostname": self.node, "kubernetes.io/os": "linux"}
        return {"kind": "Node", "apiVersion": "v1",
                "metadata": {"name": self.node, "labels": labels,
                             "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
                "spec": {"podCIDR": str(self.runtime.pod_cidr), "podCIDRs": [str(self.runtime.pod_cidr)]},
                "status": {"addresses": [{"type": "InternalIP", "address": self.node_ip},
                                         {"type": "Hostname", "address": self.node}],
                           "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}

    # ---- the loops --------------------------------------------------------------------------------------
    def _start_heartbeats(self, first: bool) -> None:
        ep = self.epoch
        lease_delay = status_delay = 0.0
        if first and not self._registered:
            # A kubelet that has been running for a while: its next renewal is due 10 s after the last.
            lease = self.api.get(registry.key("leases", "kube-node-lease", self.node))
            renew = (lease or {}).get("spec", {}).get("renewTime")
            if renew:
                from .kubelet import clock_seconds
                lease_delay = max(0.0, clock_seconds(renew) + RENEW_INTERVAL - self.env.now)
            status_delay = self.rng.uniform(0, NODE_STATUS_UPDATE)
        reg, self._register_fut = self._register_fut, None
        if reg is not None and not reg.done:
            # The Lease names the Node as its owner: create it once the Node exists.
            reg.add_waiter(lambda _r: (self._lease_tick(ep), self._status_tick(ep)))
            return
        self.env.schedule(lease_delay, lambda: self._lease_tick(ep))
        self.env.schedule(status_delay, lambda: self._status_tick(ep))

    def _lease_tick(self, ep: int) -> None:
        if ep != self.epoch or not self.running:
            return
        if self.heartbeats:
            self.env.process(self._renew_lease(ep))
        self.env.schedule(RENEW_INTERVAL * self.rng.uniform(1.0, 1.0 + JITTER), lambda: self._lease_tick(ep))

    def _status_tick(self, ep: int) -> None:
        if ep != self.epoch or not self.running:
            return
        if self.heartbeats:
            self.env.process(self._sync_node_status(ep))
        self.env.schedule(NODE_STATUS_UPDATE * self.rng.uniform(1.0, 1.0 + JITTER), lambda: self._status_tick(ep))

    def _renew_lease(self, ep: int):
        ns = "kube-node-lease"
        lease = self.api.get(registry.key("leases", ns, self.node))
        if lease is None:
            node = self.api.get(registry.key("nodes", "", self.node))
            meta = {"name": self.node, "namespace": ns}
            if node is not None:
                meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": self.node,
                                            "uid": node["metadata"].get("uid", "")}]
            body = {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": meta,
                    "spec": {"holderIdentity": self.node, "leaseDurationSeconds": LEASE_DURATION,
                             "renewTime": clock.rfc3339_micro(self.env.now)}}
            yield self.client.create("leases", body, ns)
            return
        for _attempt in range(5):
            if ep != self.epoch:
                return
            spec = lease.setdefault("spec", {})
            spec["holderIdentity"] = self.node
            spec["leaseDurationSeconds"] = LEASE_DURATION
            spec["renewTime"] = clock.rfc3339_micro(self.env.now)
            resp = yield self.client.update("leases", lease, ns, quiet=True)
            if resp.ok or resp.code != 409:
                return
            got = yield self.client.get("leases", self.node, ns, quiet=True)
            if not got.ok:
                return
            lease = got.body

    def _conditions(self, old: list[dict], now: str) -> tuple[list[dict], list[tuple[str, str]]]:
        """The condition setters: (the node's conditions, [(type, event reason)] that changed status)."""
        by_type = {c["type"]: c for c in old}
        out, changed = [], []
        for typ, status, reason, message, event in CONDITIONS:
            prev = by_type.get(typ)
            c = {"type": typ, "status": status, "lastHeartbeatTime": now,
                 "lastTransitionTime": prev["lastTransitionTime"] if prev and prev.get("status") == status else now,
                 "reason": reason, "message": message}
            if prev is None or prev.get("status") != status:
                changed.append((typ, event))
            out.append(c)
        out += [c for c in old if c["type"] not in {t[0] for t in CONDITIONS}]
        return out, changed

    def _images(self) -> list[dict]:
        return [{"names": [name], "sizeBytes": size} for name, size in self.runtime.image_list()[:MAX_IMAGES]]

    def _sync_node_status(self, ep: int):
        node = self.api.get(registry.key("nodes", "", self.node))
        if node is None:
            return
        st = node.get("status", {})
        now = clock.rfc3339(self.env.now)
        conds, changed = self._conditions(st.get("conditions") or [], now)
        imgs = self._images()
        if self._last_report is None:
            ready = next((c for c in st.get("conditions") or [] if c["type"] == "Ready"), None)
            if ready and ready.get("lastHeartbeatTime"):
                from .kubelet import clock_seconds
                self._last_report = clock_seconds(ready["lastHeartbeatTime"])
        images_changed = sorted(tuple(i["names"]) for i in st.get("images") or []) != sorted(tuple(i["names"]) for i in imgs)
        due = self._last_report is None or self.env.now - self._last_report >= NODE_STATUS_REPORT
        if not (changed or images_changed or due):
            return
        quiet = not changed
        if changed:
            self.tracer.emit("kubelet", self.node, "kubelet.node.status",
                             f"node {self.node}: " + ", ".join(f"{t}={next(c['status'] for c in conds if c['type'] == t)}" for t, _ in changed),
                             {"conditions": [{"type": c["type"], "status": c["status"]} for c in conds],
                              "changed": [t for t, _ in changed]},
                             to={"component": "apiserver", "instance": getattr(self.api, "instance", "apiserver")})
            for _typ, event in changed:
                self._node_event(event, f"Node {self.node} status is now: {event}")
        resp = yield self.client.patch("nodes", self.node, {"status": {"conditions": conds, "images": imgs}},
                                       subresource="status", patch_type="merge", quiet=quiet)
        if ep == self.epoch and resp.ok:
            self._last_report = self.env.now

    def _node_event(self, reason: str, message: str, etype: str = "Normal"):
        """Events about the Node: kubelet's nodeRef is {Kind: Node, Name: node, UID: node}; namespace default."""
        ts = clock.rfc3339(self.env.now)
        ev = {"kind": "Event", "apiVersion": "v1",
              "metadata": {"name": self._event_name(self.node), "namespace": "default"},
              "involvedObject": {"kind": "Node", "name": self.node, "uid": self.node},
              "reason": reason, "message": message, "source": {"component": "kubelet", "host": self.node},
              "firstTimestamp": ts, "lastTimestamp": ts, "count": 1, "type": etype, "eventTime": None,
              "reportingComponent": "kubelet", "reportingInstance": self.node}
        return self.client.create("events", ev, "default")
