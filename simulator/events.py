"""The event schema (v1) and the catalog of event types.

The catalog is defined once, here, and exported as JSON for the browser (``catalog_json()``), so the two
never drift. Key order of an event is part of the schema: v, run, seq, t, component, instance, type,
to?, object?, step?, summary, data (optional keys omitted when absent).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1

COMPONENTS = (
    "kubectl", "apiserver", "etcd", "scheduler", "controller-manager", "kubelet", "container-runtime",
    "kube-proxy", "coredns", "load-balancer", "scenario",
)


@dataclass(frozen=True)
class EventType:
    type: str
    component: str          # the emitting component ("client": whichever in-cluster client sent it)
    flow: str               # who sends to whom, as drawn
    steps: tuple[int, ...]  # the Pod-creation steps it can belong to (empty: none)
    description: str        # one line, English
    data: tuple[str, ...]   # the keys of `data`


_TYPES = (
    EventType("scenario.started", "scenario", "scenario", (), "A scenario run begins; the cluster as it stands before the first action.",
              ("scenario", "seed", "params", "nodes", "components", "etcd", "keys", "leases", "backend", "namespace", "epoch")),
    EventType("scenario.step", "scenario", "scenario", tuple(range(1, 11)), "Step n of the scenario begins (a checkpoint for step-by-step presenting).",
              ("step", "hidden")),
    EventType("scenario.completed", "scenario", "scenario", (), "The scenario reached its end state.", ("outcome", "duration")),
    EventType("run.cancelled", "scenario", "scenario", (), "The run was cancelled by an instructor (emitted by the worker, not the simulator).", ("by",)),
    EventType("run.failed", "scenario", "scenario", (), "The run failed with an error (emitted by the worker, not the simulator).", ("error",)),
    EventType("summary.interval", "scenario", "scenario", (), "Summary level (large runs): what happened in one interval of virtual time beyond the detailed Pods, as counts per event type and component, with a few samples.",
              ("from", "to", "counted", "emitted", "by_type", "by_component", "pods", "samples", "bound")),
    EventType("kubectl.request", "kubectl", "kubectl->apiserver", (1,), "kubectl sends an HTTPS request with the manifest to the API server.",
              ("method", "path", "user", "verb", "resource", "body", "source")),
    EventType("apiserver.authn", "apiserver", "apiserver", (2,), "Authentication: the API server establishes who sent the request.",
              ("authenticator", "user", "groups", "decision")),
    EventType("apiserver.authz", "apiserver", "apiserver", (2,), "Authorization: the API server checks whether that user may perform the verb on the resource.",
              ("authorizer", "user", "verb", "resource", "namespace", "decision", "reason")),
    EventType("apiserver.admission", "apiserver", "apiserver", (3,), "An admission plugin inspects (mutating phase: may change) or checks (validating phase) the object.",
              ("phase", "plugin", "decision", "changes", "notes")),
    EventType("apiserver.validation", "apiserver", "apiserver", (3,), "The object is validated against the API schema rules (422 Invalid when it fails).",
              ("decision", "errors")),
    EventType("apiserver.storage", "apiserver", "apiserver->etcd", (4, 7, 8, 10), "The API server writes the object to etcd (for the request to `path`).",
              ("op", "key", "path")),
    EventType("etcd.put", "etcd", "etcd->apiserver", (4, 7, 8, 9, 10), "etcd committed a key: the global revision advanced.",
              ("key", "revision", "create_revision", "mod_revision", "version", "value", "source")),
    EventType("etcd.delete", "etcd", "etcd->apiserver", (), "etcd deleted a key (a tombstone at a new revision).", ("key", "revision", "source")),
    # Raft among the etcd members (simulator/etcd/raft.py). Periodic heartbeats are never events.
    EventType("etcd.raft.election", "etcd", "etcd->etcd", (), "A member's election timeout expired: it asks the others for (pre-)votes for the next term.",
              ("term", "phase", "last_index", "last_term", "peers")),
    EventType("etcd.raft.vote", "etcd", "etcd->etcd", (), "A member grants or refuses its (pre-)vote to a candidate (refused when the candidate's log is behind or it already voted).",
              ("term", "phase", "granted", "voter_term")),
    EventType("etcd.raft.leader", "etcd", "etcd", (), "A candidate won a quorum of votes: it leads this term and appends an empty entry.",
              ("term", "votes", "last_index")),
    EventType("etcd.raft.stepdown", "etcd", "etcd", (), "A leader steps down: it lost contact with a quorum (CheckQuorum) or saw a higher term.",
              ("term", "reason")),
    EventType("etcd.raft.append", "etcd", "etcd->etcd", (4, 7, 8, 9, 10), "The leader sends AppendEntries (log entries and its commit index) to a follower.",
              ("term", "prev_index", "prev_term", "entries", "commit", "catch_up")),
    EventType("etcd.raft.snapshot", "etcd", "etcd->etcd", (), "A follower is behind the leader's compacted log: the leader sends it a snapshot.",
              ("index", "term")),
    EventType("etcd.raft.commit", "etcd", "etcd", (4, 7, 8, 9, 10), "A quorum of members has the entry in its log: the leader commits it and applies it to the key-value store.",
              ("term", "index", "acked")),
    EventType("etcd.member.stopped", "etcd", "etcd", (), "An etcd member stopped; it keeps its log, term and vote on disk.",
              ("role", "term", "commit", "applied", "last_index")),
    EventType("etcd.member.started", "etcd", "etcd", (), "An etcd member restarted from its persisted log and will catch up from the leader.",
              ("term", "commit", "applied", "last_index")),
    EventType("etcd.quorum.lost", "etcd", "etcd", (), "Fewer than a quorum of members are running: no leader can be elected and no write can commit.",
              ("running", "quorum")),
    EventType("etcd.quorum.regained", "etcd", "etcd", (), "A quorum of members is running again: a leader can be elected and writes commit.",
              ("running", "quorum")),
    EventType("etcd.error", "etcd", "etcd->apiserver", tuple(range(1, 11)), "etcd answers a request with an error: the write did not commit before the request timeout (7 s).",
              ("error", "code", "waited")),
    EventType("apiserver.response", "apiserver", "apiserver->client", tuple(range(1, 11)), "The API server answers the client (a Status object on error; for a SelfSubjectAccessReview, whose answer is not stored, also the review's allowed and reason).",
              ("code", "status", "resourceVersion", "allowed", "reason", "source")),
    EventType("apiserver.request", "client", "client->apiserver", tuple(range(1, 11)), "A request from an in-cluster client (binding, status update, event) arriving at the API server; its apiserver.response follows once etcd has answered.",
              ("method", "path", "user")),
    EventType("load-balancer.route", "load-balancer", "load-balancer->apiserver", tuple(range(1, 11)), "The load balancer in front of the HA control plane forwards a request to one healthy API server (round-robin).",
              ("backend", "healthy")),
    EventType("apiserver.watch", "apiserver", "apiserver->watcher", (5, 7, 8, 10), "The API server pushes a watch event to a component that is watching the resource.",
              ("resource", "event", "key", "resourceVersion")),
    EventType("controller-manager.informer", "controller-manager", "controller-manager", (5,), "The controller-manager's shared informer delivers the change to the controllers that watch it.",
              ("resource", "event", "controllers", "action", "reason")),
    EventType("controller.reconcile", "controller-manager", "controller-manager", tuple(range(1, 11)), "A controller's reconcile loop synced one key from its work queue: desired vs current state and what it did.",
              ("controller", "key", "desired", "current", "action", "queue", "source")),
    EventType("leaderelection", "client", "client", tuple(range(1, 11)), "Leader election: a candidate acquired (or lost) the Lease lock; only the leader's loops act.",
              ("lease", "holder", "action", "source")),
    EventType("kube-proxy.sync", "kube-proxy", "kube-proxy", tuple(range(1, 11)), "kube-proxy reprogrammed iptables (iptables-restore) after Services or endpoints changed: the rules added and removed, and the Services' DNS names.",
              ("services", "endpoints", "rules", "added", "removed", "dns")),
    EventType("scheduler.queue", "scheduler", "scheduler", (6,), "The scheduler puts the unscheduled Pod into its scheduling queue and pops it.",
              ("queue", "pod")),
    EventType("scheduler.filter", "scheduler", "scheduler", (6,), "Filter plugins remove the nodes that cannot run the Pod (when none is left, `message` holds the FailedScheduling text).",
              ("nodes", "feasible", "message", "evaluated", "omitted", "source")),
    EventType("scheduler.prefilter", "scheduler", "scheduler", (6,), "PreFilter: each filter plugin prepares for the Pod once per cycle; one that returns Skip takes no part in Filter.",
              ("results", "skipped")),
    EventType("scheduler.postfilter", "scheduler", "scheduler", (6,), "PostFilter (DefaultPreemption): no node fits, so the scheduler looks for lower-priority Pods to evict and nominates a node, or explains why preemption cannot help.",
              ("plugin", "nominatedNodeName", "victims", "message")),
    EventType("scheduler.prescore", "scheduler", "scheduler", (6,), "PreScore: each score plugin prepares once per cycle; one that returns Skip takes no part in Score.",
              ("results", "skipped")),
    EventType("scheduler.score", "scheduler", "scheduler", (6,), "Score plugins rank the feasible nodes (0-100 each, times the plugin weight); the best wins.",
              ("scores", "totals", "selected", "omitted")),
    EventType("scheduler.reserve", "scheduler", "scheduler", (6,), "Reserve and Permit: the scheduler assumes the Pod on the chosen node in its cache (so the next cycle sees the node's resources as taken) before binding.",
              ("node", "reserve", "permit")),
    EventType("scheduler.bind", "scheduler", "scheduler->apiserver", (7,), "The scheduler binds the Pod to the chosen node (POST pods/<name>/binding).",
              ("node", "source")),
    EventType("kubelet.pod.sync", "kubelet", "kubelet", (8,), "The kubelet of the chosen node sees the Pod bound to it and starts syncing it.",
              ("op", "pod")),
    EventType("container-runtime.sandbox", "kubelet", "kubelet->container-runtime", (8,), "RunPodSandbox: the runtime creates the Pod's sandbox and the CNI plugin gives it an IP.",
              ("pod_ip", "cni")),
    EventType("kubelet.image.pulling", "kubelet", "kubelet->container-runtime", (8,), "The kubelet asks the runtime to pull the container image.",
              ("image", "source")),
    EventType("kubelet.image.pulled", "container-runtime", "container-runtime->kubelet", (8,), "The image is on the node (pulled now, or already present).",
              ("image", "size_bytes", "duration", "cached", "source")),
    EventType("container-runtime.container.created", "container-runtime", "container-runtime", (9,), "CreateContainer: the runtime created the container.",
              ("container", "container_id", "image", "source")),
    EventType("container-runtime.container.started", "container-runtime", "container-runtime", (9,), "StartContainer: the container's process is running.",
              ("container", "container_id", "source")),
    EventType("kubelet.status", "kubelet", "kubelet->apiserver", (10,), "The kubelet reports the Pod's status (phase, IP, conditions) to the API server.",
              ("phase", "pod_ip", "conditions", "source")),
    # The kubelet's life after "Running" (simulator/kubelet): probes, restarts, back-off, termination.
    EventType("kubelet.probe", "kubelet", "kubelet->container-runtime", tuple(range(1, 11)), "A liveness, readiness or startup probe failed, or its result changed (success/failure after the thresholds).",
              ("container", "probe", "result", "message")),
    EventType("container-runtime.container.exited", "container-runtime", "container-runtime->kubelet", tuple(range(1, 11)), "A container's process exited (its own exit, or killed): exit code and reason.",
              ("container", "container_id", "exit_code", "reason")),
    EventType("kubelet.container.kill", "kubelet", "kubelet->container-runtime", tuple(range(1, 11)), "StopContainer: the kubelet stops a container (SIGTERM, then SIGKILL at the end of the grace period).",
              ("container", "reason", "grace_period", "source")),
    EventType("kubelet.container.backoff", "kubelet", "kubelet", tuple(range(1, 11)), "The kubelet will not restart a container or pull an image yet: CrashLoopBackOff or ImagePullBackOff, with the current back-off.",
              ("container", "reason", "backoff", "source")),
    EventType("kubelet.image.failed", "kubelet", "container-runtime->kubelet", tuple(range(1, 11)), "The runtime could not pull the image (not found, or access denied): ErrImagePull.",
              ("image", "error")),
    EventType("kubelet.pod.terminated", "kubelet", "kubelet", tuple(range(1, 11)), "All the Pod's containers have stopped and its sandbox is gone (IP released); a deleted Pod is then removed from the API (grace 0).",
              ("phase", "pod_ip")),
    EventType("kubelet.node.status", "kubelet", "kubelet->apiserver", tuple(range(1, 11)), "The kubelet reports a change of its Node's conditions (e.g. Ready again after a restart); routine heartbeats are quiet.",
              ("conditions", "changed")),
    EventType("kubelet.lifecycle", "kubelet", "kubelet", tuple(range(1, 11)), "The kubelet (and with it the node, as the control plane sees it) stopped or started.",
              ("state",)),
    EventType("component.lifecycle", "client", "client", (), "A control-plane component (API server, scheduler or controller-manager) stopped or started with its node: it serves and acts no more, or again.",
              ("state", "node")),
)

TYPES: dict[str, EventType] = {et.type: et for et in _TYPES}

# type -> one-line English description (the contract's `events.CATALOG`).
CATALOG: dict[str, str] = {et.type: et.description for et in _TYPES}


def catalog_json() -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "components": list(COMPONENTS),
        "types": {
            et.type: {
                "component": et.component,
                "flow": et.flow,
                "steps": list(et.steps),
                "description": et.description,
                "data": list(et.data),
            }
            for et in _TYPES
        },
    }


def make_event(run: str, seq: int, t: float, component: str, instance: str, type: str, summary: str,
               data: dict[str, Any], to: dict[str, str] | None = None, object: dict[str, str] | None = None,
               step: int | None = None) -> dict[str, Any]:
    """Build an event with its keys in schema order."""
    ev: dict[str, Any] = {"v": SCHEMA_VERSION, "run": run, "seq": seq, "t": round(t, 3),
                          "component": component, "instance": instance, "type": type}
    if to is not None:
        ev["to"] = to
    if object is not None:
        ev["object"] = object
    if step is not None:
        ev["step"] = step
    ev["summary"] = summary
    ev["data"] = data
    return ev
