"""The kubelet of one node: it watches the Pods bound to its node (fieldSelector spec.nodeName=<node>),
and for each new one runs syncPod (pkg/kubelet/kubelet.go, kuberuntime/kuberuntime_manager.go):
status Pending/ContainerCreating -> RunPodSandbox (+ CNI ADD) -> pull the image (per imagePullPolicy)
-> CreateContainer -> StartContainer -> the PLEG notices the running container -> status Running.

Event messages are the kubelet's own:
- pkg/kubelet/images/image_manager.go: `Pulling image "%s"`,
  `Successfully pulled image "%s" in %v (%v including waiting). Image size: %v bytes.`,
  `Container image "%s" already present on machine`
- pkg/kubelet/kuberuntime/kuberuntime_container.go: `Created container %v`, `Started container %v`
  (v1.31's wording, from kubernetes/kubernetes#73892; #130471 (2025) later added a colon to the Created
  message and #134043 dropped the container name from both)
"""
from __future__ import annotations

import random

from .. import clock, recorder
from ..apiserver import ApiServer, Credential, Request
from ..apiserver.defaults import default_pull_policy
from ..apiserver.registry import objref
from ..kernel import Environment
from ..component import Component
from ..trace import Tracer, ref
from . import images
from .runtime import COMPONENT as RUNTIME, ContainerRuntime

COMPONENT = "kubelet"


class Kubelet(Component):
    COMPONENT = COMPONENT

    def __init__(self, env: Environment, rng: random.Random, tracer: Tracer, apiserver: ApiServer,
                 node: str, node_ip: str, runtime: ContainerRuntime, cni: str = "kindnet"):
        # A kubelet is named after its node.
        super().__init__(env, rng, tracer, node, node)
        self.api = apiserver
        self.node_ip = node_ip
        self.runtime = runtime
        self.cni = cni
        self.cri = ref(RUNTIME, node)
        # kubeadm TLS bootstrap gives each kubelet CN=system:node:<name>, O=system:nodes.
        self.credential = Credential.x509(f"system:node:{node}", "system:nodes")
        self.pods: dict[str, dict] = {}
        self._last_conditions: dict[str, dict[str, dict]] = {}  # pod uid -> type -> condition last reported

    def start(self) -> None:
        self.api.watch("pods", self.me, self._on_pod, node_name=self.node)

    def _on_pod(self, kind: str, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if kind == "ADDED" and uid not in self.pods:
            self.pods[uid] = pod
            # config source -> syncLoop -> HandlePodAdditions -> pod worker
            self.env.schedule(self.rng.uniform(0.015, 0.03), lambda: self._handle_add(pod))

    def _handle_add(self, pod: dict) -> None:
        key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        self.tracer.emit(COMPONENT, self.node, "kubelet.pod.sync", f"SyncLoop ADD {key}", {"op": "ADD", "pod": key},
                         obj=objref(pod))
        self.env.process(self._sync_pod(pod))

    def _event(self, pod: dict, reason: str, message: str, container: str = "", etype: str = "Normal"):
        fp = f"spec.containers{{{container}}}" if container else ""
        ev = recorder.core_event(self.env.now, pod, reason, message, etype, COMPONENT, self.node, fp)
        # The event broadcaster writes asynchronously; the pod worker does not wait for it.
        return recorder.post_core(self.api, self.me, self.credential, ev)

    def _patch_status(self, pod: dict, status: dict):
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        return self.api.handle(Request("PATCH", f"/api/v1/namespaces/{ns}/pods/{name}/status", "patch", "pods", ns, name,
                                       subresource="status", body={"status": status}, credential=self.credential,
                                       client=self.me))

    def _conditions(self, pod: dict, sandbox_ready: bool, containers_ready: bool) -> list[dict]:
        now = clock.rfc3339(self.env.now)
        sched = next((c for c in pod.get("status", {}).get("conditions", []) if c["type"] == "PodScheduled"), None)
        ready = "True" if containers_ready else "False"
        conds = [
            {"type": "PodReadyToStartContainers", "status": "True" if sandbox_ready else "False", "lastProbeTime": None, "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": now},
            {"type": "Ready", "status": ready, "lastProbeTime": None, "lastTransitionTime": now},
            {"type": "ContainersReady", "status": ready, "lastProbeTime": None, "lastTransitionTime": now},
        ]
        if not containers_ready:
            names = ", ".join(f"[{c['name']}]" for c in pod["spec"]["containers"])
            for c in conds[2:]:
                c["reason"] = "ContainersNotReady"
                c["message"] = f"containers with unready status: {names}"
        conds.append(sched or {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
        # A condition's lastTransitionTime only moves when its status changes (status manager).
        prev = self._last_conditions.setdefault(pod["metadata"]["uid"], {})
        for c in conds:
            old = prev.get(c["type"])
            if old is not None and old["status"] == c["status"]:
                c["lastTransitionTime"] = old["lastTransitionTime"]
            prev[c["type"]] = c
        return conds

    def _sync_pod(self, pod: dict):
        start = clock.rfc3339(self.env.now)
        containers = pod["spec"]["containers"]
        # 1. First status: Pending, containers waiting in ContainerCreating (status manager, async).
        self._patch_status(pod, {
            "phase": "Pending", "conditions": self._conditions(pod, False, False), "hostIP": self.node_ip,
            "hostIPs": [{"ip": self.node_ip}], "startTime": start,
            "containerStatuses": [{"name": c["name"], "state": {"waiting": {"reason": "ContainerCreating"}},
                                   "lastState": {}, "ready": False, "restartCount": 0, "image": c["image"],
                                   "imageID": "", "started": False} for c in containers],
            "qosClass": pod["status"].get("qosClass", "BestEffort")})
        # 2. Volumes (the projected service-account token), then RunPodSandbox and CNI ADD.
        yield self.rng.uniform(0.15, 0.35)
        yield self.rng.uniform(0.3, 0.7)
        sb = self.runtime.run_pod_sandbox(pod["metadata"]["uid"])
        self.tracer.emit(COMPONENT, self.node, "container-runtime.sandbox",
                         f"RunPodSandbox: sandbox {sb['id'][:13]} ready, CNI {self.cni} gave {sb['ip']}",
                         {"pod_ip": sb["ip"], "cni": self.cni}, to=self.cri, obj=objref(pod))
        statuses = []
        for c in containers:
            image, name = c["image"], c["name"]
            policy = c.get("imagePullPolicy") or default_pull_policy(image)
            # 3. The image, per imagePullPolicy (images/image_manager.go EnsureImageExists).
            present = self.runtime.has_image(image)
            if policy == "IfNotPresent" and present or policy == "Never" and present:
                yield self.rng.uniform(0.01, 0.03)
                self.tracer.emit(RUNTIME, self.node, "kubelet.image.pulled", f"image {image} already present on {self.node}",
                                 {"image": image, "size_bytes": images.size_of(image), "duration": 0.0, "cached": True},
                                 to=self.me, obj=objref(pod))
                self._event(pod, "Pulled", f'Container image "{image}" already present on machine', name)
            else:
                self.tracer.emit(COMPONENT, self.node, "kubelet.image.pulling", f"pull {image}", {"image": image},
                                 to=self.cri, obj=objref(pod))
                self._event(pod, "Pulling", f'Pulling image "{image}"', name)
                waiting = self.rng.uniform(0.002, 0.015)
                took = self.runtime.pull_time(image)
                yield waiting + took
                size = self.runtime.pull_image(image)
                self.tracer.emit(RUNTIME, self.node, "kubelet.image.pulled",
                                 f"pulled {image} ({size} bytes) in {took:.3f}s" + (" (layers were cached)" if present else ""),
                                 {"image": image, "size_bytes": size, "duration": round(took, 3), "cached": present},
                                 to=self.me, obj=objref(pod))
                self._event(pod, "Pulled", f'Successfully pulled image "{image}" in {clock.go_duration(took)} '
                                           f"({clock.go_duration(took + waiting)} including waiting). Image size: {size} bytes.", name)
            # 4. CreateContainer, StartContainer (kuberuntime_container.go startContainer).
            yield self.rng.uniform(0.3, 0.8)
            cid = self.runtime.create_container(pod["metadata"]["uid"], name, image)
            self.tracer.emit(RUNTIME, self.node, "container-runtime.container.created", f"CreateContainer {name}: {cid[:13]}",
                             {"container": name, "container_id": cid, "image": image}, obj=objref(pod))
            self._event(pod, "Created", f"Created container {name}", name)
            yield self.rng.uniform(0.7, 1.8)
            self.runtime.start_container(cid)
            self.tracer.emit(RUNTIME, self.node, "container-runtime.container.started", f"StartContainer {name}: running",
                             {"container": name, "container_id": cid}, obj=objref(pod))
            self._event(pod, "Started", f"Started container {name}", name)
            statuses.append({"name": name, "state": {"running": {"startedAt": clock.rfc3339(self.env.now)}},
                             "lastState": {}, "ready": True, "restartCount": 0, "image": images.canonical(image),
                             "imageID": images.canonical(image).rsplit(":", 1)[0] + "@" + images.digest_of(image),
                             "containerID": f"containerd://{cid}", "started": True})
        # 5. The PLEG relists (every 1 s) and sees the container running; the status manager reports it.
        yield self.rng.uniform(0.2, 1.0)
        conds = self._conditions(pod, True, True)
        self.tracer.emit(COMPONENT, self.node, "kubelet.status", f"status Running, podIP {sb['ip']}",
                         {"phase": "Running", "pod_ip": sb["ip"],
                          "conditions": [{"type": c["type"], "status": c["status"]} for c in conds]},
                         to=self.api.me, obj=objref(pod))
        yield self._patch_status(pod, {
            "phase": "Running", "conditions": conds, "hostIP": self.node_ip, "hostIPs": [{"ip": self.node_ip}],
            "podIP": sb["ip"], "podIPs": [{"ip": sb["ip"]}], "startTime": start, "containerStatuses": statuses,
            "qosClass": pod["status"].get("qosClass", "BestEffort")})
