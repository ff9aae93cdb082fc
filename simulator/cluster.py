"""The cluster model: a kind-like cluster (1 control-plane node + N workers), already bootstrapped, with
every component wired to the others only through the API server and etcd, as in a real cluster.

Kubernetes version modelled: v1.31 (kind v0.24's default node image, kindest/node:v1.31.0).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from . import clock, ids
from .apiserver import ApiServer, Credential, Request, Response
from .apiserver.authn import Authenticator
from .controller_manager import ControllerManager
from .etcd import EtcdCluster
from .kernel import Environment, Future
from .kubelet import ContainerRuntime, Kubelet
from .kubelet import images as img
from .scheduler import Scheduler
from .trace import Tracer

K8S_VERSION = "v1.31.0"
BOOT_T = -900.0  # the bootstrapped objects were created 15 minutes before the scenario starts

# kubectl on the instructor's machine uses kind's admin kubeconfig: a client certificate with
# CN=kubernetes-admin, O=kubeadm:cluster-admins (kubeadm v1.29+; before that O=system:masters).
ADMIN = Credential.x509("kubernetes-admin", "kubeadm:cluster-admins")

PRELOADED = ["registry.k8s.io/pause:3.10", "docker.io/kindest/kindnetd:v20250512-df8de77b",
             f"registry.k8s.io/kube-proxy:{K8S_VERSION}"]
# kubeadm v1.31 ships CoreDNS v1.11.3 (cmd/kubeadm/app/constants/constants.go CoreDNSVersion).
CP_IMAGES = ["registry.k8s.io/coredns/coredns:v1.11.3", "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a"]


@dataclass(frozen=True)
class NodeSpec:
    name: str
    role: str  # "control-plane" / "worker"
    ip: str
    pod_cidr: str
    cpu: str = "4"
    memory: str = "8131616Ki"
    pods: str = "110"


def default_topology(workers: int = 2) -> list[NodeSpec]:
    nodes = [NodeSpec("control-plane", "control-plane", "172.18.0.2", "10.244.0.0/24")]
    for i in range(1, workers + 1):
        nodes.append(NodeSpec(f"worker-{i}", "worker", f"172.18.0.{2 + i}", f"10.244.{i}.0/24"))
    return nodes


def component_rng(seed: int, name: str) -> random.Random:
    """Each component draws from its own stream, derived from the run's seed, so adding a component or a
    draw in one place does not shift every other component's numbers."""
    return random.Random(f"{seed}/{name}")


class Cluster:
    def __init__(self, seed: int, run_id: str, topology: list[NodeSpec] | None = None):
        self.seed = seed
        self.env = Environment()
        self.tracer = Tracer(self.env, run_id)
        self.topology = topology or default_topology()
        self.etcd = EtcdCluster(self.env, component_rng(seed, "etcd"), self.tracer)
        self.authenticator = Authenticator()
        self.apiserver = ApiServer(self.env, component_rng(seed, "apiserver"), self.tracer, self.etcd, self.authenticator)
        self.scheduler = Scheduler(self.env, component_rng(seed, "scheduler"), self.tracer, self.apiserver)
        self.controller_manager = ControllerManager(self.env, component_rng(seed, "controller-manager"), self.tracer, self.apiserver)
        self.runtimes: dict[str, ContainerRuntime] = {}
        self.kubelets: dict[str, Kubelet] = {}
        for n in self.topology:
            preload = PRELOADED + (CP_IMAGES if n.role == "control-plane" else [])
            rt = ContainerRuntime(n.name, n.pod_cidr, component_rng(seed, f"container-runtime/{n.name}"), preload)
            self.runtimes[n.name] = rt
            self.kubelets[n.name] = Kubelet(self.env, component_rng(seed, f"kubelet/{n.name}"), self.tracer,
                                            self.apiserver, n.name, n.ip, rt)
        self._boot_rng = component_rng(seed, "bootstrap")
        self.tracer.enabled = False
        self._bootstrap()
        self.tracer.enabled = True
        self.scheduler.start()
        self.controller_manager.start()
        for k in self.kubelets.values():
            k.start()

    # ---- the API, for scenarios and tests ----------------------------------------------------------
    def request(self, req: Request) -> Future:
        return self.apiserver.handle(req)

    def call(self, req: Request) -> Response:
        """Serve one request to completion (running the clock) and return the response."""
        fut = self.apiserver.handle(req)
        self.env.run(until=fut)
        return fut.value

    def get(self, key: str) -> dict | None:
        return self.apiserver.get(key)

    def run(self, until: float | None = None) -> None:
        while self.env.pending() and (until is None or self.env.peek() <= until):
            self.env.step()

    # ---- what the scenario.started event shows ----------------------------------------------------
    def nodes_summary(self) -> list[dict]:
        out = []
        for n in self.topology:
            node = self.apiserver.get(f"/registry/minions/{n.name}")
            alloc = node["status"]["allocatable"]
            out.append({"name": n.name, "role": n.role, "labels": node["metadata"]["labels"],
                        "taints": node["spec"].get("taints", []),
                        "allocatable": {"cpu": alloc["cpu"], "memory": alloc["memory"], "pods": alloc["pods"]},
                        "ready": True})
        return out

    def components_summary(self) -> list[dict]:
        cp = self.topology[0].name
        comps = [{"component": "kubectl", "instance": "kubectl", "node": None},
                 {"component": "apiserver", "instance": self.apiserver.instance, "node": cp},
                 {"component": "etcd", "instance": self.etcd.leader, "node": cp},
                 {"component": "scheduler", "instance": self.scheduler.instance, "node": cp},
                 # No cloud-controller-manager: kind runs none (there is no cloud provider). The dashboard
                 # still draws the lesson's box, greyed out, because this list does not name it.
                 {"component": "controller-manager", "instance": self.controller_manager.instance, "node": cp}]
        for n in self.topology:
            for c in ("kubelet", "kube-proxy", "container-runtime"):
                comps.append({"component": c, "instance": n.name, "node": n.name})
        return comps

    # ---- bootstrap: what `kind create cluster` leaves in etcd ----------------------------------------
    def _put(self, key: str, obj: dict) -> None:
        self.etcd.put_now(key, obj)

    def _meta(self, name: str, namespace: str | None = None, **extra) -> dict:
        m = {"name": name}
        if namespace:
            m["namespace"] = namespace
        m["uid"] = ids.uid(self._boot_rng)
        m["creationTimestamp"] = clock.rfc3339(BOOT_T)
        m.update(extra)
        return m

    def _bootstrap(self) -> None:
        for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
            self._put(f"/registry/namespaces/{ns}", {
                "kind": "Namespace", "apiVersion": "v1",
                "metadata": self._meta(ns, labels={"kubernetes.io/metadata.name": ns}),
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
        for name, value, desc in (("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
                                  ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node.")):
            self._put(f"/registry/priorityclasses/{name}", {
                "kind": "PriorityClass", "apiVersion": "scheduling.k8s.io/v1", "metadata": self._meta(name),
                "value": value, "globalDefault": False, "description": desc, "preemptionPolicy": "PreemptLowerPriority"})
        self._bootstrap_rbac()
        for n in self.topology:
            self._put(f"/registry/minions/{n.name}", self._node(n))
        for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
            self._put(f"/registry/serviceaccounts/{ns}/default", {
                "kind": "ServiceAccount", "apiVersion": "v1", "metadata": self._meta("default", ns)})
            self._put(f"/registry/configmaps/{ns}/kube-root-ca.crt", {
                "kind": "ConfigMap", "apiVersion": "v1",
                "metadata": self._meta("kube-root-ca.crt", ns, annotations={"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}),
                "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n(the cluster CA)\n-----END CERTIFICATE-----\n"}})
        for sa in ("coredns", "kube-proxy", "kindnet"):
            self._put(f"/registry/serviceaccounts/kube-system/{sa}", {
                "kind": "ServiceAccount", "apiVersion": "v1", "metadata": self._meta(sa, "kube-system")})
        self._put("/registry/services/specs/default/kubernetes", {
            "kind": "Service", "apiVersion": "v1",
            "metadata": self._meta("kubernetes", "default", labels={"component": "apiserver", "provider": "kubernetes"}),
            "spec": {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
                     "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP", "sessionAffinity": "None"}})
        self._put("/registry/services/specs/kube-system/kube-dns", {
            "kind": "Service", "apiVersion": "v1",
            "metadata": self._meta("kube-dns", "kube-system", labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}),
            "spec": {"ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53},
                               {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53}],
                     "selector": {"k8s-app": "kube-dns"}, "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                     "type": "ClusterIP"}})
        self._bootstrap_pods()
        for n in self.topology:
            self._put(f"/registry/leases/kube-node-lease/{n.name}", {
                "kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": self._meta(n.name, "kube-node-lease"),
                "spec": {"holderIdentity": n.name, "leaseDurationSeconds": 40, "renewTime": clock.rfc3339_micro(-2.0)}})
        for name in ("kube-controller-manager", "kube-scheduler"):
            self._put(f"/registry/leases/kube-system/{name}", {
                "kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": self._meta(name, "kube-system"),
                "spec": {"holderIdentity": f"{self.topology[0].name}_{ids.uid(self._boot_rng)}", "leaseDurationSeconds": 15,
                         "renewTime": clock.rfc3339_micro(-1.0)}})

    def _bootstrap_rbac(self) -> None:
        # plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go (subset of the rules).
        roles = {
            "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
            "system:kube-scheduler": [
                {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
                {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete", "get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["bindings", "pods/binding"], "verbs": ["create"]},
                {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch", "update"]},
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create", "get", "update"]},
            ],
            "system:kube-controller-manager": [
                {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["list", "watch"]},
            ],
            "system:node": [  # exists, but bound to nobody: kubelets are authorized by the Node authorizer
                {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch", "update"]},
            ],
            "system:basic-user": [{"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]}],
            "system:discovery": [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}],
            "system:public-info-viewer": [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}],
        }
        for name, rules in roles.items():
            self._put(f"/registry/clusterroles/{name}", {
                "kind": "ClusterRole", "apiVersion": "rbac.authorization.k8s.io/v1",
                "metadata": self._meta(name, labels={"kubernetes.io/bootstrapping": "rbac-defaults"}), "rules": rules})
        bindings = [
            ("cluster-admin", "cluster-admin", [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}]),
            # kubeadm (v1.29+) binds the admin kubeconfig's group instead of using system:masters.
            ("kubeadm:cluster-admins", "cluster-admin", [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "kubeadm:cluster-admins"}]),
            ("system:basic-user", "system:basic-user", [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}]),
            ("system:discovery", "system:discovery", [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}]),
            ("system:kube-controller-manager", "system:kube-controller-manager", [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:kube-controller-manager"}]),
            ("system:kube-scheduler", "system:kube-scheduler", [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:kube-scheduler"}]),
            ("system:node", "system:node", None),
            ("system:public-info-viewer", "system:public-info-viewer", [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"},
                                                                        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:unauthenticated"}]),
        ]
        for name, role, subjects in bindings:
            b = {"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": self._meta(name),
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}}
            if subjects:
                b["subjects"] = subjects
            self._put(f"/registry/clusterrolebindings/{name}", b)

    def _node(self, n: NodeSpec) -> dict:
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux"}
        spec: dict = {"podCIDR": n.pod_cidr, "podCIDRs": [n.pod_cidr], "providerID": f"kind://docker/kind/{n.name}"}
        if n.role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            # kubeadm taints control-plane nodes so ordinary Pods stay off them.
            spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
        images = PRELOADED + (CP_IMAGES if n.role == "control-plane" else [])
        cap = {"cpu": n.cpu, "ephemeral-storage": "102626232Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
               "memory": n.memory, "pods": n.pods}
        t = clock.rfc3339(BOOT_T)
        return {
            "kind": "Node", "apiVersion": "v1",
            "metadata": self._meta(n.name, labels=labels, annotations={
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
            "spec": spec,
            "status": {
                "capacity": cap, "allocatable": dict(cap),
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": t, "lastTransitionTime": t},
                    {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": t, "lastTransitionTime": t},
                    {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": t, "lastTransitionTime": t},
                    {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": t, "lastTransitionTime": t},
                ],
                "addresses": [{"type": "InternalIP", "address": n.ip}, {"type": "Hostname", "address": n.name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"kubeletVersion": K8S_VERSION, "kubeProxyVersion": "", "containerRuntimeVersion": "containerd://2.1.1",
                             "operatingSystem": "linux", "architecture": "amd64", "osImage": "Debian GNU/Linux 12 (bookworm)"},
                "images": [{"names": [img.canonical(i)], "sizeBytes": img.size_of(i)} for i in images],
            },
        }

    def _pod(self, name: str, node: str, containers: list[dict], priority_class: str, labels: dict,
             host_network: bool = False, owner: dict | None = None, tolerations: list | None = None) -> dict:
        meta = self._meta(name, "kube-system", labels=labels)
        if owner:
            meta["ownerReferences"] = [owner]
        prio = 2000001000 if priority_class == "system-node-critical" else 2000000000
        spec = {"containers": containers, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst", "nodeName": node, "hostNetwork": host_network,
                "securityContext": {}, "schedulerName": "default-scheduler", "tolerations": tolerations or [{"operator": "Exists"}],
                "priorityClassName": priority_class, "priority": prio, "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority"}
        ip = self.topology[[x.name for x in self.topology].index(node)].ip if host_network else self.runtimes[node].run_pod_sandbox(meta["uid"])["ip"]
        best_effort = all(not c.get("resources") for c in containers)
        return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
                "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": clock.rfc3339(BOOT_T),
                           "qosClass": "BestEffort" if best_effort else "Burstable",
                           "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": clock.rfc3339(BOOT_T)}
                                          for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")]}}

    def _bootstrap_pods(self) -> None:
        cp = self.topology[0].name
        # kubeadm's static Pod manifests (cmd/kubeadm/app/phases/controlplane/manifests.go, etcd/local.go).
        static = [("etcd", "registry.k8s.io/etcd:3.5.21-0", {"cpu": "100m", "memory": "100Mi"}),
                  ("kube-apiserver", f"registry.k8s.io/kube-apiserver:{K8S_VERSION}", {"cpu": "250m"}),
                  ("kube-controller-manager", f"registry.k8s.io/kube-controller-manager:{K8S_VERSION}", {"cpu": "200m"}),
                  ("kube-scheduler", f"registry.k8s.io/kube-scheduler:{K8S_VERSION}", {"cpu": "100m"})]
        for comp, image, req in static:
            p = self._pod(f"{comp}-{cp}", cp, [{"name": comp, "image": image, "resources": {"requests": req}}],
                          "system-node-critical", {"component": comp, "tier": "control-plane"}, host_network=True,
                          owner={"apiVersion": "v1", "kind": "Node", "name": cp, "uid": "", "controller": True})
            self._put(f"/registry/pods/kube-system/{p['metadata']['name']}", p)
        rs_hash = ids.rand_string(self._boot_rng, 10)
        for _ in range(2):
            name = f"coredns-{rs_hash}-{ids.rand_string(self._boot_rng, 5)}"
            p = self._pod(name, cp, [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                                      "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}}}],
                          "system-cluster-critical", {"k8s-app": "kube-dns", "pod-template-hash": rs_hash},
                          owner={"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"coredns-{rs_hash}", "uid": "", "controller": True},
                          tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                       {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
            self._put(f"/registry/pods/kube-system/{name}", p)
        for n in self.topology:
            for ds, image, res in (("kindnet", "docker.io/kindest/kindnetd:v20250512-df8de77b",
                                    {"limits": {"cpu": "100m", "memory": "50Mi"}, "requests": {"cpu": "100m", "memory": "50Mi"}}),
                                   ("kube-proxy", f"registry.k8s.io/kube-proxy:{K8S_VERSION}", {})):
                name = f"{ds}-{ids.rand_string(self._boot_rng, 5)}"
                p = self._pod(name, n.name, [{"name": ds if ds != "kindnet" else "kindnet-cni", "image": image, "resources": res}],
                              "system-node-critical", {"k8s-app": ds}, host_network=True,
                              owner={"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds, "uid": "", "controller": True})
                self._put(f"/registry/pods/kube-system/{name}", p)
