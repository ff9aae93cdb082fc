"""The kubelet of one node: it watches the Pods bound to its node (fieldSelector spec.nodeName=<node>) and
keeps each one's containers in the state its spec asks for, through one pod worker per Pod
(pkg/kubelet/pod_workers.go) that runs syncPod (pkg/kubelet/kubelet.go, kuberuntime/kuberuntime_manager.go).

A sync, as upstream:
1. the status is generated from what the runtime shows *now* (generateAPIPodStatus) and handed to the
   status manager, which PATCHes pods/<name>/status when it changed (status/status_manager.go);
2. computePodActions: create the sandbox if there is none (RunPodSandbox + CNI ADD); for each container,
   start it if it never ran; kill it if its liveness or startup probe failed ("Container X failed liveness
   probe, will be restarted") and start it again; if it exited, restart it when the restart policy says so
   (Always; OnFailure and a non-zero exit), unless it is in CrashLoopBackOff (doBackOff); when every
   container is done and none will restart, kill the Pod's sandbox (the Pod is Succeeded or Failed);
3. starting a container: EnsureImageExists (per imagePullPolicy, with its own back-off), CreateContainer,
   StartContainer.
The PLEG relists the runtime every second: a sync that changed something, or a container that exited,
brings another sync within a second (which reports the new status). A sync that failed (back-off, pull
error) is requeued after 10-15 s (pod worker backOffPeriod 10 s, jitter 0.5). There is no periodic
1-minute resync (it would change nothing here).

Graceful deletion (the Pod gets metadata.deletionTimestamp): syncTerminatingPod kills every container
("Stopping container X", SIGTERM, SIGKILL when the grace period ends), the sandbox goes (its IP is
released), the status manager writes the terminal status and deletes the Pod with grace 0 and a UID
precondition.

Event messages are the kubelet's own:
- images/image_manager.go: `Pulling image "%s"`, `Successfully pulled image "%s" in %v (%v including
  waiting). Image size: %v bytes.`, `Container image "%s" already present on machine`,
  `Failed to pull image "%s": %v`, `Back-off pulling image "%s"` (Normal), `Container image "%s" is not
  present with pull policy of Never` (ErrImageNeverPull)
- kuberuntime/kuberuntime_container.go: `Created container %v`, `Started container %v` (v1.31's wording;
  #130471 (2025) later added a colon to Created and #134043 dropped the container name from both),
  `Error: %v` (reason Failed) when starting fails, `Stopping container %s` (Killing)
- kuberuntime/kuberuntime_manager.go: `Container %s failed liveness probe, will be restarted` (Killing),
  `Back-off restarting failed container %s in pod %s` (BackOff, Warning) and the waiting message
  `back-off %s restarting failed container=%s pod=%s`, the pod formatted name_namespace(uid)
- prober/prober.go: `%s probe failed: %s` (Unhealthy, Warning)
Repeated identical events are aggregated as client-go's EventCorrelator does: the first is created, the
next ones PATCH its count and lastTimestamp (kubectl describe's "x3 over 40s").

Node heartbeats and the node's life (registration, leases, node status, stop/start) are in nodestatus.py.
"""
from __future__ import annotations

import random
import sys
from collections import OrderedDict

from .. import clock, codec, recorder
from ..apiserver import Credential
from ..apiserver.defaults import default_pull_policy
from ..apiserver.registry import objref
from ..client import Client
from ..component import Component
from ..kernel import Environment
from ..trace import Tracer, ref
from . import images, prober
from .backoff import Backoff
from .nodestatus import NodeStatusMixin
from .runtime import COMPONENT as RUNTIME, Container, ContainerRuntime, StartError

EVENT_CACHE_ENTRIES = 4096   # client-go tools/record/events_cache.go maxLruCacheEntries
COMPONENT = "kubelet"
MIN_GRACE = 2            # kuberuntime_container.go minimumGracePeriodInSeconds
KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


def format_pod(pod: dict) -> str:
    """pkg/kubelet/util/format.Pod: name_namespace(uid)."""
    m = pod["metadata"]
    return f"{m['name']}_{m['namespace']}({m.get('uid', '')})"


class PodState:
    """What the kubelet keeps about one Pod (pod worker + status manager + reason cache + probe workers)."""
    __slots__ = ("pod", "uid", "containers", "reasons", "workers", "syncing", "pending", "wake_at", "wake_token",
                 "wake_why", "delete_seen", "terminating", "finished", "gone", "start_time", "conditions", "sent",
                 "want", "in_flight", "waiters", "statuses_sent")   # (one per Pod: 150,000 in a large run)

    def __init__(self, pod: dict):
        self.pod = pod
        self.uid = pod["metadata"]["uid"]
        self.containers: dict[str, list[str]] = {}     # container name -> container ids, oldest first
        self.reasons: dict[str, tuple[str, str]] = {}  # reasonCache: why a container is waiting
        self.workers: dict[tuple[str, str], prober.Worker] = {}
        self.syncing = False
        self.pending = False
        self.wake_at: float | None = None
        self.wake_token = 0
        self.wake_why = ""
        self.delete_seen = False
        self.terminating = False
        self.finished = False          # terminal phase reached, sandbox gone
        self.gone = False
        self.start_time: str | None = None
        self.conditions: dict[str, tuple[str, str]] = {}   # type -> (status, lastTransitionTime) last set
        self.sent: bytes | None = None  # the status last handed to the API (codec.fingerprint)
        self.want: dict | None = None  # the status the status manager should write next
        self.in_flight = False
        self.waiters: list = []
        self.statuses_sent = 0

    @property
    def key(self) -> str:
        return f"{self.pod['metadata']['namespace']}/{self.pod['metadata']['name']}"


class Kubelet(NodeStatusMixin, Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, apiserver,
                 node: str, node_ip: str, runtime: ContainerRuntime, cni: str = "kindnet"):
        # A kubelet is named after its node.
        super().__init__(env, rng, tracer, node, node)
        self.api = apiserver
        self.node_ip = node_ip
        self.runtime = runtime
        runtime.env = env
        runtime.on_exit = self._on_container_exit
        self.cni = cni
        self.cri = ref(RUNTIME, node)
        # kubeadm TLS bootstrap gives each kubelet CN=system:node:<name>, O=system:nodes.
        self.credential = Credential.x509(f"system:node:{node}", "system:nodes")
        self.client = Client(apiserver, self.credential, self.me)
        self.pods: dict[str, PodState] = {}
        self.backoff = Backoff()         # CrashLoopBackOff
        self.image_backoff = Backoff()   # ImagePullBackOff
        self.running = False
        self.epoch = 0
        self._watch = None
        # The EventCorrelator's eventLogger: an LRU of maxLruCacheEntries (4,096) recently sent events
        # (client-go tools/record/events_cache.go; golang/groupcache lru: a hit moves to the front, an add
        # past the limit drops the least recently used).
        self._event_cache: OrderedDict[tuple, list] = OrderedDict()
        self._event_ns = 0
        self._init_node_status()

    # ---- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            return
        first = self.epoch == 0
        self.running = True
        self.epoch += 1
        if not first:
            self.tracer.emit(COMPONENT, self.node, "kubelet.lifecycle", f"kubelet on {self.node} started",
                             {"state": "started"})
            self._node_event("Starting", "Starting kubelet.")
        self._watch = self.api.watch("pods", self.me, self._on_pod, node_name=self.node)
        if not first:
            self._relist()
        # On the first start the Pods already on the node (the bootstrapped system Pods) are adopted lazily,
        # when the watch first mentions them: no list of every Pod per kubelet (5,000 nodes).
        self._start_heartbeats(first)

    def stop(self) -> None:
        """The node dies, as the control plane sees it: no more heartbeats, no watch, no pod workers, no
        probes. The container runtime keeps running what it runs (containerd does not need the kubelet);
        nobody supervises it until start()."""
        if not self.running:
            return
        self.running = False
        self.epoch += 1
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        for ps in self.pods.values():
            ps.syncing = ps.pending = ps.in_flight = False
            ps.wake_at = None
            ps.workers.clear()
        self.tracer.emit(COMPONENT, self.node, "kubelet.lifecycle", f"kubelet on {self.node} stopped",
                         {"state": "stopped"})

    def busy(self) -> bool:
        """Work that will happen without any outside event: a sync running or due within the PLEG period,
        a status write in flight, a Pod terminating. (Back-off requeues and probes are steady states.)"""
        if not self.running:
            return False
        return any(ps.syncing or ps.in_flight or (ps.wake_at is not None and ps.wake_why != "requeue")
                   or (ps.terminating and not ps.gone) for ps in self.pods.values())

    def _alive(self, ep: int) -> bool:
        return self.running and ep == self.epoch

    def _relist(self) -> None:
        """After a restart: the config source's list, and HandlePodCleanups for the Pods that vanished."""
        mine = [p for p in self.api.list("/registry/pods/") if p.get("spec", {}).get("nodeName") == self.node]
        seen = set()
        for pod in mine:
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            ps = self.pods.get(uid)
            if ps is None:
                if self._adoptable(pod):
                    self._adopt(pod)
                    ps = self.pods[uid]
                else:
                    self.pods[uid] = PodState(pod)
                    self._handle_add(pod)
                    continue
            ps.pod = pod
            ps.terminating = False
            if pod["metadata"].get("deletionTimestamp"):
                ps.delete_seen = True
            if not ps.finished:
                self._start_workers(ps, restarted=True)
            self._trigger(ps, 0.0, "pleg")
        for uid in [u for u in self.pods if u not in seen]:
            self._remove(self.pods[uid])

    def _adoptable(self, pod: dict) -> bool:
        """A Pod that was running on this node before this kubelet knew of it (bootstrapped)."""
        st = pod.get("status", {})
        if st.get("phase") != "Running":
            return False
        # Its containers are reported running, but this node's runtime has never heard of them.
        known = self.runtime.containers
        return all(cs.get("containerID", "").split("://", 1)[-1] not in known for cs in st.get("containerStatuses") or [])

    def _adopt(self, pod: dict) -> None:
        """A Pod already running when the simulation begins (the bootstrapped system Pods): its containers
        are taken as running since status.startTime; nothing is written."""
        ps = PodState(pod)
        self.pods[ps.uid] = ps
        st = pod.get("status", {})
        ps.start_time = st.get("startTime")
        started = clock_seconds(ps.start_time) if ps.start_time else 0.0
        if ps.uid not in self.runtime.sandboxes:
            host = bool(pod["spec"].get("hostNetwork"))
            ip = st.get("podIP") or self.node_ip
            self.runtime.sandboxes[ps.uid] = {"id": "", "ip": ip, "host_network": host, "ready": True}
            if not host:
                self.runtime._used.add(ip)
        reported = {cs["name"]: cs.get("containerID", "").split("://", 1)[-1] for cs in st.get("containerStatuses") or []}
        for c in pod["spec"].get("containers", []):
            cid = self.runtime.adopt_container(ps.uid, c["name"], c["image"], c, started, reported.get(c["name"]) or None)
            ps.containers[c["name"]] = [cid]
        for cond in st.get("conditions", []):
            ps.conditions[cond["type"]] = (cond.get("status"), cond.get("lastTransitionTime"))
        self._start_workers(ps)

    # ---- the config source: the watch ------------------------------------------------------------------
    def _on_pod(self, kind: str, pod: dict) -> None:
        if not self.running:
            return
        uid = pod["metadata"]["uid"]
        ps = self.pods.get(uid)
        if ps is None and kind != "DELETED" and self._adoptable(pod):
            self._adopt(pod)
            ps = self.pods[uid]
        elif ps is None and kind == "DELETED":
            self.runtime.stop_pod_sandbox(uid)
            return
        if kind == "ADDED" and ps is None:
            self.pods[uid] = PodState(pod)
            # config source -> syncLoop -> HandlePodAdditions -> pod worker
            self.env.schedule(self.rng.uniform(0.015, 0.03), lambda: self._handle_add(pod))
        elif kind in ("ADDED", "MODIFIED") and ps is not None:
            ps.pod = pod
            if pod["metadata"].get("deletionTimestamp") and not ps.delete_seen:
                ps.delete_seen = True
                self.tracer.emit(COMPONENT, self.node, "kubelet.pod.sync", f"SyncLoop DELETE {ps.key}",
                                 {"op": "DELETE", "pod": ps.key}, obj=objref(pod))
                self._trigger(ps, self.rng.uniform(0.005, 0.02), "pleg")
            # Status-only changes are a RECONCILE upstream: nothing to do for the pod worker.
        elif kind == "MODIFIED" and ps is None:
            self.pods[uid] = PodState(pod)
            self.env.schedule(self.rng.uniform(0.015, 0.03), lambda: self._handle_add(pod))
        elif kind == "DELETED" and ps is not None:
            ps.pod = pod
            self._remove(ps)

    def _handle_add(self, pod: dict) -> None:
        ps = self.pods.get(pod["metadata"]["uid"])
        if ps is None or not self.running or ps.gone:
            return
        self.tracer.emit(COMPONENT, self.node, "kubelet.pod.sync", f"SyncLoop ADD {ps.key}", {"op": "ADD", "pod": ps.key},
                         obj=objref(pod))
        self._start_workers(ps)
        self._dispatch(ps)

    def _remove(self, ps: PodState) -> None:
        """SyncLoop REMOVE: the Pod is gone from the API. Whatever still runs is killed, the sandbox goes."""
        if ps.gone:
            return
        ps.gone = True
        ps.workers.clear()
        self.pods.pop(ps.uid, None)
        self.tracer.emit(COMPONENT, self.node, "kubelet.pod.sync", f"SyncLoop REMOVE {ps.key}", {"op": "REMOVE", "pod": ps.key},
                         obj=objref(ps.pod))
        running = [self.runtime.containers[cids[-1]] for cids in ps.containers.values()
                   if cids and cids[-1] in self.runtime.containers and self.runtime.containers[cids[-1]].running]
        if not running:
            self.runtime.stop_pod_sandbox(ps.uid)
            return
        grace = max(MIN_GRACE, int(ps.pod["metadata"].get("deletionGracePeriodSeconds")
                                   or ps.pod["spec"].get("terminationGracePeriodSeconds") or 30))

        def kill():
            futs = [self._kill(ps, c, f"Stopping container {c.name}", grace) for c in running]
            for f in futs:
                yield f
            self.runtime.stop_pod_sandbox(ps.uid)
        self.env.process(kill())

    # ---- the pod worker ----------------------------------------------------------------------------------
    def _trigger(self, ps: PodState, delay: float, why: str) -> None:
        if not self.running or ps.gone:
            return
        at = self.env.now + delay
        if ps.wake_at is not None and ps.wake_at <= at:
            return
        ps.wake_at, ps.wake_why = at, why
        ps.wake_token += 1
        tok, ep = ps.wake_token, self.epoch
        self.env.schedule(delay, lambda: self._wake(ps, tok, ep))

    def _wake(self, ps: PodState, tok: int, ep: int) -> None:
        if ep != self.epoch or tok != ps.wake_token:
            return
        ps.wake_at = None
        self._dispatch(ps)

    def _dispatch(self, ps: PodState) -> None:
        if ps.gone or not self.running:
            return
        if ps.syncing:
            ps.pending = True
            return
        ps.syncing = True
        ep = self.epoch
        fut = self.env.process(self._sync(ps, ep))
        fut.add_waiter(lambda result: self._sync_done(ps, result, ep))

    def _sync_done(self, ps: PodState, result, ep: int) -> None:
        if ep != self.epoch:
            return
        ps.syncing = False
        error, changed = result or (False, False)
        if ps.pending:
            ps.pending = False
            self._dispatch(ps)
            return
        if changed:
            # The PLEG's next relist (every second) sees what this sync changed.
            self._trigger(ps, self.rng.uniform(0.2, 1.0), "pleg")
        if error:
            # pod_workers.go: a failed sync is requeued after wait.Jitter(backOffPeriod=10s, 0.5).
            self._trigger(ps, self.rng.uniform(10.0, 15.0), "requeue")

    def _on_container_exit(self, c: Container) -> None:
        self.tracer.emit(RUNTIME, self.node, "container-runtime.container.exited",
                         f"container {c.name} exited with code {c.exit_code} ({c.reason})",
                         {"container": c.name, "container_id": c.id, "exit_code": c.exit_code, "reason": c.reason},
                         to=self.me if self.running else None,
                         obj=objref(self.pods[c.pod_uid].pod) if c.pod_uid in self.pods else None)
        ps = self.pods.get(c.pod_uid)
        if ps is not None and self.running:
            self._trigger(ps, self.rng.uniform(0.2, 1.0), "pleg")

    # ---- syncPod -------------------------------------------------------------------------------------------
    def _current(self, ps: PodState, name: str) -> Container | None:
        cids = ps.containers.get(name)
        return self.runtime.containers.get(cids[-1]) if cids else None

    def _sync(self, ps: PodState, ep: int):
        pod = ps.pod
        if pod["metadata"].get("deletionTimestamp"):
            return (yield from self._sync_terminating(ps, ep))
        self._set_status(ps)
        if ps.finished:
            return (False, False)
        changed = error = False
        spec = pod["spec"]
        if ps.uid not in self.runtime.sandboxes:
            if ps.start_time is None:
                ps.start_time = clock.rfc3339(self.env.now)
                self._set_status(ps)
            # Volumes (the projected service-account token), then RunPodSandbox and CNI ADD.
            yield self.rng.uniform(0.15, 0.35)
            yield self.rng.uniform(0.3, 0.7)
            if not self._alive(ep) or ps.gone:
                return (False, False)
            host = bool(spec.get("hostNetwork"))
            sb = self.runtime.run_pod_sandbox(ps.uid, host, self.node_ip)
            self.tracer.emit(COMPONENT, self.node, "container-runtime.sandbox",
                             f"RunPodSandbox: sandbox {sb['id'][:13]} ready, CNI {self.cni} gave {sb['ip']}",
                             {"pod_ip": sb["ip"], "cni": self.cni if not host else "host-network"}, to=self.cri, obj=objref(pod))
            changed = True
        policy = spec.get("restartPolicy") or "Always"
        for c in spec.get("containers", []):
            name = c["name"]
            cur = self._current(ps, name)
            if cur is not None and cur.running:
                why = self._probe_kill_reason(ps, c, cur)
                if why is None:
                    continue
                restart = policy != "Never"
                message = f"Container {name} failed {why} probe" + (", will be restarted" if restart else "")
                probe = c.get(f"{why}Probe") or {}
                grace = probe.get("terminationGracePeriodSeconds") or spec.get("terminationGracePeriodSeconds", 30)
                yield self._kill(ps, cur, message, max(MIN_GRACE, int(grace)), reason=why)
                changed = True
                if not self._alive(ep) or ps.gone:
                    return (False, changed)
                if not restart:
                    continue
                # Killed and started in the same SyncPod: doBackOff sees the old (running) status, so no back-off.
            elif cur is not None:
                if not _should_restart(policy, cur):
                    continue
                key = f"{pod['metadata']['name']}_{pod['metadata']['namespace']}_{ps.uid}_{name}"
                if self.backoff.in_backoff_since(key, cur.finished_at, self.env.now):
                    b = self.backoff.get(key)
                    msg = f"back-off {clock.go_duration(b)} restarting failed container={name} pod={format_pod(pod)}"
                    self._event(pod, "BackOff", f"Back-off restarting failed container {name} in pod {format_pod(pod)}",
                                name, "Warning")
                    self.tracer.emit(COMPONENT, self.node, "kubelet.container.backoff", f"CrashLoopBackOff {name}: {msg}",
                                     {"container": name, "reason": "CrashLoopBackOff", "backoff": b}, obj=objref(pod))
                    ps.reasons[name] = ("CrashLoopBackOff", msg)
                    error = True
                    continue
                self.backoff.next(key, cur.finished_at, self.env.now)
            ok, did = yield from self._start_container(ps, c, ep)
            changed = changed or did
            error = error or not ok
            if not self._alive(ep) or ps.gone:
                return (error, changed)
        # Every container done and none to restart: KillPod (the sandbox goes; the Pod is terminal).
        if all(self._current(ps, c["name"]) is not None and not self._current(ps, c["name"]).running
               and not _should_restart(policy, self._current(ps, c["name"])) for c in spec.get("containers", [])):
            self._finish(ps)
            changed = True
        return (error, changed)

    def _probe_kill_reason(self, ps: PodState, c: dict, cur: Container) -> str | None:
        for kind in ("liveness", "startup"):
            w = ps.workers.get((c["name"], kind))
            if w is not None and w.container_id == cur.id and w.result == prober.FAILURE:
                return kind
        return None

    def _finish(self, ps: PodState) -> None:
        sb = self.runtime.stop_pod_sandbox(ps.uid)
        ps.finished = True
        ps.workers.clear()
        phase = self._status(ps)["phase"]
        self.tracer.emit(COMPONENT, self.node, "kubelet.pod.terminated",
                         f"{ps.key}: all containers exited, sandbox removed, Pod {phase}",
                         {"phase": phase, "pod_ip": sb["ip"] if sb else None}, obj=objref(ps.pod))

    def _kill(self, ps: PodState, cur: Container, message: str, grace: int, reason: str = ""):
        """killContainer: the Killing event, then StopContainer with the grace period."""
        self._event(ps.pod, "Killing", message, cur.name)
        self.tracer.emit(COMPONENT, self.node, "kubelet.container.kill", f"StopContainer {cur.name} (grace {grace}s): {message}",
                         {"container": cur.name, "reason": reason or "Stopping", "grace_period": grace},
                         to=self.cri, obj=objref(ps.pod))
        return self.runtime.stop_container(cur.id, grace)

    def _start_container(self, ps: PodState, c: dict, ep: int):
        """startContainer: EnsureImageExists, CreateContainer, StartContainer. Returns (ok, changed)."""
        pod, name, image = ps.pod, c["name"], c["image"]
        ok, reason, msg = yield from self._ensure_image(ps, c, ep)
        if not self._alive(ep) or ps.gone:
            return (False, False)
        if not ok:
            # kuberuntime_container.go startContainer: `Error: %v` with the error (ErrImagePull, ...).
            self._event(pod, "Failed", f"Error: {reason}", name, "Warning")
            ps.reasons[name] = (reason, msg)
            return (False, False)
        yield self.rng.uniform(0.3, 0.8)
        if not self._alive(ep) or ps.gone:
            return (False, False)
        cid = self.runtime.create_container(ps.uid, name, image, c)
        ps.containers.setdefault(name, []).append(cid)
        self.tracer.emit(RUNTIME, self.node, "container-runtime.container.created", f"CreateContainer {name}: {cid[:13]}",
                         {"container": name, "container_id": cid, "image": image}, obj=objref(pod))
        self._event(pod, "Created", f"Created container {name}", name)
        yield self.rng.uniform(0.7, 1.8)
        if not self._alive(ep) or ps.gone:
            return (False, True)
        try:
            self.runtime.start_container(cid)
        except StartError as e:
            self._event(pod, "Failed", f"Error: {e}", name, "Warning")
            ps.reasons[name] = ("RunContainerError", str(e))
            return (False, True)
        ps.reasons.pop(name, None)
        self.tracer.emit(RUNTIME, self.node, "container-runtime.container.started", f"StartContainer {name}: running",
                         {"container": name, "container_id": cid}, obj=objref(pod))
        self._event(pod, "Started", f"Started container {name}", name)
        return (True, True)

    def _ensure_image(self, ps: PodState, c: dict, ep: int):
        """images/image_manager.go EnsureImageExists. Returns (ok, reason, message)."""
        pod, name, image = ps.pod, c["name"], c["image"]
        policy = c.get("imagePullPolicy") or default_pull_policy(image)
        present = self.runtime.has_image(image)
        if policy == "Never" and not present:
            msg = f'Container image "{image}" is not present with pull policy of Never'
            self._event(pod, "ErrImageNeverPull", msg, name, "Warning")
            return False, "ErrImageNeverPull", msg
        if present and policy != "Always":
            yield self.rng.uniform(0.01, 0.03)
            self.tracer.emit(RUNTIME, self.node, "kubelet.image.pulled", f"image {image} already present on {self.node}",
                             {"image": image, "size_bytes": images.size_of(image), "duration": 0.0, "cached": True},
                             to=self.me, obj=objref(pod))
            self._event(pod, "Pulled", f'Container image "{image}" already present on machine', name)
            return True, "", ""
        key = f"{ps.uid}_{image}"
        if self.image_backoff.in_backoff_since_update(key, self.env.now):
            msg = f'Back-off pulling image "{image}"'
            self._event(pod, "BackOff", msg, name)
            self.tracer.emit(COMPONENT, self.node, "kubelet.container.backoff", f"ImagePullBackOff {name}: {msg}",
                             {"container": name, "reason": "ImagePullBackOff", "backoff": self.image_backoff.get(key)},
                             obj=objref(pod))
            return False, "ImagePullBackOff", msg
        self.tracer.emit(COMPONENT, self.node, "kubelet.image.pulling", f"pull {image}", {"image": image},
                         to=self.cri, obj=objref(pod))
        self._event(pod, "Pulling", f'Pulling image "{image}"', name)
        waiting = self.rng.uniform(0.002, 0.015)
        took = self.runtime.pull_time(image)
        yield waiting + took
        if not self._alive(ep):
            return False, "", ""
        err = self.runtime.pull_error(image)
        if err is not None:
            self.image_backoff.next(key, self.env.now, self.env.now)
            self.tracer.emit(RUNTIME, self.node, "kubelet.image.failed", f"pull {image} failed: {err}",
                             {"image": image, "error": err}, to=self.me, obj=objref(pod))
            self._event(pod, "Failed", f'Failed to pull image "{image}": {err}', name, "Warning")
            return False, "ErrImagePull", err
        size = self.runtime.pull_image(image)
        self.tracer.emit(RUNTIME, self.node, "kubelet.image.pulled",
                         f"pulled {image} ({size} bytes) in {took:.3f}s" + (" (layers were cached)" if present else ""),
                         {"image": image, "size_bytes": size, "duration": round(took, 3), "cached": present},
                         to=self.me, obj=objref(pod))
        self._event(pod, "Pulled", f'Successfully pulled image "{image}" in {clock.go_duration(took)} '
                                   f"({clock.go_duration(took + waiting)} including waiting). Image size: {size} bytes.", name)
        return True, "", ""

    def _sync_terminating(self, ps: PodState, ep: int):
        """syncTerminatingPod + syncTerminatedPod + the status manager's final delete."""
        if ps.terminating:
            return (False, False)
        ps.terminating = True
        pod = ps.pod
        for key in [k for k in ps.workers if k[1] != "readiness"]:
            del ps.workers[key]  # StopLivenessAndStartup
        self._set_status(ps)
        grace = pod["metadata"].get("deletionGracePeriodSeconds")
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        grace = max(MIN_GRACE, int(grace))
        futs = []
        for c in pod["spec"].get("containers", []):
            cur = self._current(ps, c["name"])
            if cur is not None and cur.running:
                futs.append(self._kill(ps, cur, f"Stopping container {c['name']}", grace))
        for f in futs:
            yield f
            if not self._alive(ep):
                return (False, False)
        yield self.rng.uniform(0.05, 0.2)   # StopPodSandbox, CNI DEL
        if not self._alive(ep):
            return (False, False)
        sb = self.runtime.stop_pod_sandbox(ps.uid)
        ps.finished = True
        ps.workers.clear()
        st = self._status(ps, terminal=True)
        self.tracer.emit(COMPONENT, self.node, "kubelet.pod.terminated",
                         f"{ps.key}: containers stopped, sandbox removed, Pod {st['phase']}; deleting it (grace 0)",
                         {"phase": st["phase"], "pod_ip": sb["ip"] if sb else None}, obj=objref(pod))
        yield self._write_status(ps, st)
        if not self._alive(ep):
            return (False, False)
        m = pod["metadata"]
        # status_manager.go: once the Pod can be deleted, Delete with grace 0 and a UID precondition.
        yield self.client.delete("pods", m["name"], m["namespace"], grace_period_seconds=0,
                                 preconditions={"uid": ps.uid})
        return (False, False)

    # ---- status: generateAPIPodStatus and the status manager -------------------------------------------
    def _container_status(self, ps: PodState, c: dict, policy: str) -> tuple[dict, bool]:
        name = c["name"]
        cids = ps.containers.get(name, [])
        cur = self.runtime.containers.get(cids[-1]) if cids else None
        prev = self.runtime.containers.get(cids[-2]) if len(cids) > 1 else None
        reason = ps.reasons.get(name)
        st: dict = {"name": name}
        last = {"terminated": _terminated(prev)} if prev is not None and not prev.running else {}
        ready = started = False
        if cur is None:
            w = {"reason": reason[0], "message": reason[1]} if reason else {"reason": "ContainerCreating"}
            state = {"waiting": w}
        elif cur.running:
            state = {"running": {"startedAt": clock.rfc3339(cur.started_at)}}
            sw = ps.workers.get((name, "startup"))
            started = sw is None or (sw.container_id == cur.id and sw.result == prober.SUCCESS)
            rw = ps.workers.get((name, "readiness"))
            ready = started and (rw is None or (rw.container_id == cur.id and rw.result == prober.SUCCESS))
        else:
            state = {"terminated": _terminated(cur)}
            if reason and _should_restart(policy, cur) and not ps.pod["metadata"].get("deletionTimestamp"):
                last = state
                state = {"waiting": {"reason": reason[0], "message": reason[1]}}
        st["state"] = state
        st["lastState"] = last
        st["ready"] = ready
        st["restartCount"] = max(0, len(cids) - 1)
        if cur is not None:
            st["image"] = images.canonical(cur.image)
            st["imageID"] = images.split(cur.image)[0] + "@" + images.digest_of(cur.image)
            st["containerID"] = f"containerd://{cur.id}"
        else:
            st["image"] = c["image"]
            st["imageID"] = ""
        st["started"] = started
        return st, ready

    def _phase(self, statuses: list[dict], policy: str, terminal: bool) -> str:
        """getPhase (kubelet_pods.go)."""
        pending = running = stopped = succeeded = failed = 0
        for s in statuses:
            state = s["state"]
            if "running" in state:
                running += 1
            elif "terminated" in state:
                stopped += 1
                if state["terminated"]["exitCode"] == 0:
                    succeeded += 1
                else:
                    failed += 1
            elif s.get("lastState", {}).get("terminated"):
                stopped += 1
            else:
                pending += 1
        if pending > 0 and not terminal:
            return "Pending"
        if running > 0 and not terminal:
            return "Running"
        if terminal:
            return "Failed" if failed or pending else "Succeeded"
        if stopped > 0:
            if policy == "Always":
                return "Running"
            if stopped == succeeded:
                return "Succeeded"
            if policy == "Never":
                return "Failed"
            return "Running"
        return "Pending"

    def _status(self, ps: PodState, terminal: bool = False) -> dict:
        pod = ps.pod
        policy = pod["spec"].get("restartPolicy") or "Always"
        statuses, all_ready = [], True
        for c in pod["spec"].get("containers", []):
            s, ready = self._container_status(ps, c, policy)
            statuses.append(s)
            all_ready = all_ready and ready
        terminal = terminal or ps.finished
        phase = self._phase(statuses, policy, terminal and ps.finished)
        sb = self.runtime.sandboxes.get(ps.uid)
        now = clock.rfc3339(self.env.now)
        cur_api = self.api.get(f"/registry/pods/{pod['metadata']['namespace']}/{pod['metadata']['name']}") or pod
        conds = [{"type": "PodReadyToStartContainers", "status": "True" if sb else "False"},
                 {"type": "Initialized", "status": "True"}]
        unready = [s["name"] for s in statuses if not s["ready"]]
        for t in ("Ready", "ContainersReady"):
            if phase in ("Succeeded", "Failed"):
                conds.append({"type": t, "status": "False", "reason": "PodCompleted"})
            elif all_ready:
                conds.append({"type": t, "status": "True"})
            else:
                # status/generate.go: fmt.Sprintf("containers with unready status: %s", unreadyContainers)
                conds.append({"type": t, "status": "False", "reason": "ContainersNotReady",
                              "message": f"containers with unready status: [{' '.join(unready)}]"})
        out = []
        for cnd in conds:
            full = {"type": cnd["type"], "status": cnd["status"], "lastProbeTime": None, "lastTransitionTime": now}
            for k in ("reason", "message"):
                if k in cnd:
                    full[k] = cnd[k]
            # A condition's lastTransitionTime only moves when its status changes.
            old = ps.conditions.get(cnd["type"])
            if old is not None and old[0] == full["status"]:
                full["lastTransitionTime"] = old[1]
            ps.conditions[cnd["type"]] = (full["status"], full["lastTransitionTime"])
            out.append(full)
        # Conditions the kubelet does not own (PodScheduled, DisruptionTarget, ...) stay as they are.
        others = [x for x in cur_api.get("status", {}).get("conditions", []) if x["type"] not in KUBELET_CONDITIONS]
        if not any(x["type"] == "PodScheduled" for x in others):
            others.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
        out += others
        status = {"phase": phase, "conditions": out, "hostIP": self.node_ip, "hostIPs": [{"ip": self.node_ip}]}
        if sb is not None:
            status["podIP"] = sb["ip"]
            status["podIPs"] = [{"ip": sb["ip"]}]
        elif "podIP" in cur_api.get("status", {}) and ps.finished:
            status["podIP"] = cur_api["status"]["podIP"]
            status["podIPs"] = cur_api["status"].get("podIPs", [{"ip": cur_api["status"]["podIP"]}])
        status["startTime"] = ps.start_time or clock.rfc3339(self.env.now)
        status["containerStatuses"] = statuses
        status["qosClass"] = pod.get("status", {}).get("qosClass", "BestEffort")
        return status

    def _set_status(self, ps: PodState) -> None:
        """statusManager.SetPodStatus: remember it; the manager writes it if it changed."""
        if ps.start_time is None:
            return  # nothing to report before the pod worker first ran
        self._write_status(ps, self._status(ps))

    def _write_status(self, ps: PodState, status: dict):
        fut = self.env.future()
        raw = codec.fingerprint(status)
        if raw == ps.sent and not ps.in_flight:
            fut.resolve(None)
            return fut
        ps.want = status
        if ps.in_flight:
            ps.waiters = getattr(ps, "waiters", []) + [fut]
            return fut
        self.env.process(self._status_writer(ps, self.epoch, fut))
        return fut

    def _status_writer(self, ps: PodState, ep: int, fut):
        """The status manager's sync for one Pod: one PATCH at a time, always the latest status."""
        ps.in_flight = True
        waiters = [fut]
        while ps.want is not None and self._alive(ep):
            status, ps.want = ps.want, None
            raw = codec.fingerprint(status)
            if raw == ps.sent:
                continue
            if ps.statuses_sent:
                self.tracer.emit(COMPONENT, self.node, "kubelet.status", f"status {status['phase']}, podIP {status.get('podIP')}",
                                 {"phase": status["phase"], "pod_ip": status.get("podIP"),
                                  "conditions": [{"type": c["type"], "status": c["status"]} for c in status["conditions"]]},
                                 to=ref("apiserver", getattr(self.api, "instance", "apiserver")), obj=objref(ps.pod))
            ps.statuses_sent += 1
            ps.sent = raw
            m = ps.pod["metadata"]
            resp = yield self.client.patch("pods", m["name"], {"metadata": {"uid": ps.uid}, "status": status},
                                           m["namespace"], subresource="status", patch_type="merge")
            if resp is not None and not getattr(resp, "ok", True):
                ps.sent = None
                if resp.code == 404:
                    break
            waiters += getattr(ps, "waiters", [])
            ps.waiters = []
        ps.in_flight = False
        for w in waiters + getattr(ps, "waiters", []):
            if not w.done:
                w.resolve(None)
        ps.waiters = []

    # ---- probes -------------------------------------------------------------------------------------------
    def _start_workers(self, ps: PodState, restarted: bool = False) -> None:
        """prober_manager.AddPod: a worker per container and probe; after a kubelet restart each first waits
        a random part of its period (worker.go) so they do not all fire at once."""
        ps.workers.clear()
        for c in ps.pod["spec"].get("containers", []):
            for kind in prober.TYPES:
                spec = c.get(f"{kind}Probe")
                if not spec:
                    continue
                w = prober.Worker(kind, c["name"], spec)
                ps.workers[(c["name"], kind)] = w
                first = self.rng.uniform(0, w.spec["periodSeconds"]) if restarted else 0.0
                self._probe_tick(ps, w, self.epoch, first)

    def _probe_tick(self, ps: PodState, w: prober.Worker, ep: int, delay: float) -> None:
        def tick():
            if ep != self.epoch or ps.gone or ps.workers.get((w.container, w.kind)) is not w:
                return
            self._do_probe(ps, w)
            self._probe_tick(ps, w, ep, float(w.spec["periodSeconds"]))
        self.env.schedule(delay, tick)

    def _do_probe(self, ps: PodState, w: prober.Worker) -> None:
        """worker.go doProbe."""
        cur = self._current(ps, w.container)
        if cur is None:
            return
        if not cur.running:
            if w.container_id and w.result != prober.FAILURE and w.kind == "readiness":
                w.result = prober.FAILURE
            return
        if w.container_id != cur.id:
            w.reset_for(cur.id)
        if w.on_hold:
            return
        if w.kind == "startup" and w.result == prober.SUCCESS:
            return  # the container has started: no more startup probes
        if w.kind != "startup":
            sw = ps.workers.get((w.container, "startup"))
            if sw is not None and not (sw.container_id == cur.id and sw.result == prober.SUCCESS):
                return
        if int(self.env.now - cur.started_at) < int(w.spec["initialDelaySeconds"]):
            return
        spec_c = next((c for c in ps.pod["spec"]["containers"] if c["name"] == w.container), {})
        sb = self.runtime.sandboxes.get(ps.uid) or {}
        result, output = prober.run_probe(w.spec, self.runtime, cur.id, spec_c, sb.get("ip", ""), self.env.now)
        label = prober.LABEL[w.kind]
        if result == prober.FAILURE:
            # prober.go: recordContainerEvent(Warning, ContainerUnhealthy, "%s probe failed: %s", probeType, output)
            self._event(ps.pod, "Unhealthy", f"{label} probe failed: {output}", w.container, "Warning")
        before = w.result
        counted = w.record(result)
        if result == prober.FAILURE or (counted and w.result != before):
            self.tracer.emit(COMPONENT, self.node, "kubelet.probe",
                             f"{label} probe of {w.container}: {result}" + (f" ({output})" if output else "")
                             + (f" -> {w.result}" if counted and w.result != before else ""),
                             {"container": w.container, "probe": w.kind, "result": w.result if counted else result,
                              "message": output}, obj=objref(ps.pod))
        if counted and (w.result != before or (w.kind != "readiness" and w.result == prober.FAILURE)):
            # handleProbeSync: the pod worker syncs at once (a readiness change also updates the status).
            self._trigger(ps, 0.0, "pleg")

    # ---- events ----------------------------------------------------------------------------------------------
    def _event_name(self, obj_name: str) -> str:
        ns = clock.unix_nano(self.env.now)
        self._event_ns = max(ns, self._event_ns + 1)
        return f"{obj_name}.{self._event_ns:x}"

    def _event(self, pod: dict, reason: str, message: str, container: str = "", etype: str = "Normal"):
        """record.EventRecorder with the EventCorrelator's aggregation of identical events."""
        if not self.running:
            return None
        fp = sys.intern(f"spec.containers{{{container}}}") if container else ""
        m = pod["metadata"]
        # (interned: the cache keeps the same few texts for every Pod of a node - "Created container pause")
        key = (m.get("uid", ""), fp, reason, sys.intern(message), etype)
        hit = self._event_cache.get(key)
        ts = clock.rfc3339(self.env.now)
        if hit is not None:
            self._event_cache.move_to_end(key)
            hit[1] += 1
            return self.client.patch("events", hit[0], {"count": hit[1], "lastTimestamp": ts, "message": message},
                                     m["namespace"], patch_type="strategic")
        ev = recorder.core_event(self.env.now, pod, reason, message, etype, COMPONENT, self.node, fp)
        ev["metadata"]["name"] = self._event_name(m["name"])
        self._event_cache[key] = [ev["metadata"]["name"], 1]
        if len(self._event_cache) > EVENT_CACHE_ENTRIES:
            self._event_cache.popitem(last=False)
        # The event broadcaster writes asynchronously; the pod worker does not wait for it.
        return self.client.create("events", ev, m["namespace"])

    # ---- for kubectl logs --------------------------------------------------------------------------------
    def logs(self, namespace: str, name: str, container: str = "", previous: bool = False) -> list[str] | None:
        ps = next((p for p in self.pods.values() if p.pod["metadata"]["namespace"] == namespace
                   and p.pod["metadata"]["name"] == name), None)
        if ps is None:
            return None
        cname = container or ps.pod["spec"]["containers"][0]["name"]
        cids = ps.containers.get(cname, [])
        idx = -2 if previous else -1
        if len(cids) < (2 if previous else 1):
            return None
        return self.runtime.logs(cids[idx])


def _should_restart(policy: str, c: Container) -> bool:
    """kubecontainer.ShouldContainerBeRestarted for an exited container."""
    if c.running:
        return False
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return c.exit_code != 0
    return True


def _terminated(c: Container) -> dict:
    t = {"exitCode": c.exit_code, "reason": c.reason}
    if c.message:
        t["message"] = c.message
    t["startedAt"] = clock.rfc3339(c.started_at) if c.started_at is not None else None
    t["finishedAt"] = clock.rfc3339(c.finished_at) if c.finished_at is not None else None
    t["containerID"] = f"containerd://{c.id}"
    return t


def clock_seconds(ts: str) -> float:
    """Virtual seconds of an RFC 3339 timestamp on the simulator's epoch."""
    import datetime as _dt
    s = ts.replace("Z", "+00:00")
    d = _dt.datetime.fromisoformat(s)
    return (d - clock.EPOCH).total_seconds()
