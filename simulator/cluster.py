"""The cluster model: a kind-like cluster (1 control-plane node + N workers), already bootstrapped, with
every component wired to the others only through the API server and etcd, as in a real cluster.

Kubernetes version modelled: v1.31 (kind v0.24's default node image, kindest/node:v1.31.0).
"""
from __future__ import annotations

import hashlib

import json
import random
from dataclasses import dataclass, field

from . import clock, ids
from .apiserver import ApiServer, Credential, Request, Response
from .apiserver import authz, defaults
from .apiserver.authn import Authenticator
from .apiserver.lb import LoadBalancer
from .controller_manager import SERVICE_ACCOUNTS, ControllerManager
from .controllers import endpoints
from .etcd import EtcdCluster
from .kernel import Environment, Future
from .kubelet import ContainerRuntime, Kubelet
from .kubelet import images as img
from .kubeproxy.proxy import KubeProxy
from .leaderelection import LeaderElector
from .scheduler import Scheduler
from .trace import PodPhaseCounter, Tracer, ref

K8S_VERSION = "v1.31.0"
K8S_COMMIT = "9edcffcde5595e8a5b1a35f88c421764e575afce"   # v1.31.0's (`kubectl version -o json`)
BOOT_T = -900.0  # the bootstrapped objects were created 15 minutes before the scenario starts

# kubectl on the instructor's machine uses kind's admin kubeconfig: a client certificate with
# CN=kubernetes-admin, O=kubeadm:cluster-admins (kubeadm v1.29+; before that O=system:masters).
ADMIN = Credential.x509("kubernetes-admin", "kubeadm:cluster-admins")

PRELOADED = ["registry.k8s.io/pause:3.10", "docker.io/kindest/kindnetd:v20250512-df8de77b",
             f"registry.k8s.io/kube-proxy:{K8S_VERSION}"]
# kubeadm v1.31 ships CoreDNS v1.11.3 (cmd/kubeadm/app/constants/constants.go CoreDNSVersion).
# The DaemonSets kind installs: its CNI (kindnet) and kube-proxy, one Pod per node.
DAEMONSETS = [("kindnet", "docker.io/kindest/kindnetd:v20250512-df8de77b",
               {"limits": {"cpu": "100m", "memory": "50Mi"}, "requests": {"cpu": "100m", "memory": "50Mi"}}),
              ("kube-proxy", f"registry.k8s.io/kube-proxy:{K8S_VERSION}", {})]
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
    labels: dict = field(default_factory=dict)   # added to (or, without kind defaults, instead of) kind's labels
    taints: list = field(default_factory=list)   # added to kind's control-plane taint (none on workers)
    zone: str = ""                                # topology.kubernetes.io/zone, when set
    kind_defaults: bool = True                    # kind's labels, annotations, images and control-plane taint


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
    """A cluster: its control plane (one instance of each component per control-plane node, etcd members
    stacked on them as kubeadm does) and its nodes (kubelet, kube-proxy, container runtime each).

    A topology without any control-plane node gives a control plane hosted off the nodes (one instance of
    each component, on a host named "control-plane" that runs no kubelet): that is what `simulator apply`
    uses when the manifests bring their own Nodes.
    """

    def __init__(self, seed: int, run_id: str, topology: list[NodeSpec] | None = None, *,
                 scheduler_pace: str = "classroom"):
        self.seed = seed
        self.env = Environment()
        self.tracer = Tracer(self.env, run_id)
        self.topology = list(default_topology() if topology is None else topology)
        cps = [n.name for n in self.topology if n.role == "control-plane"]
        self.hosted_control_plane = not cps
        self.control_plane_hosts = cps or ["control-plane"]
        k = len(self.control_plane_hosts)
        # Names keep the single-instance run's RNG streams ("apiserver", not "apiserver-1") so that adding
        # HA did not change every existing trace.
        def rng(base: str, i: int) -> random.Random:
            return component_rng(seed, base if i == 0 else f"{base}-{i + 1}")
        self.etcd = EtcdCluster(self.env, component_rng(seed, "etcd"), self.tracer,
                                members=[f"etcd-{i + 1}" for i in range(k)])
        self.authenticator = Authenticator()
        self.apiservers = [ApiServer(self.env, rng("apiserver", i), self.tracer, self.etcd, self.authenticator,
                                     instance=f"apiserver-{i + 1}", node=host, etcd_member=f"etcd-{i + 1}")
                           for i, host in enumerate(self.control_plane_hosts)]
        for a in self.apiservers:
            a.start_compaction(300.0)  # kube-apiserver --etcd-compaction-interval=5m
        self.apiserver = self.apiservers[0]
        # Clients outside the control plane (kubectl, kubelets, kube-proxy) reach the API servers through
        # the load balancer in front of them (kind's HA "external-load-balancer" container); the scheduler
        # and controller-manager of a control-plane node talk to their local API server (kubeadm writes
        # the local endpoint into scheduler.conf and controller-manager.conf).
        self.lb = LoadBalancer(self.env, component_rng(seed, "load-balancer"), self.tracer, self.apiservers) if k > 1 else self.apiserver
        # Leader-elected: each instance schedules only while its LeaderElector holds the Lease.
        self.schedulers = [Scheduler(self.env, rng("scheduler", i), self.tracer, self.apiservers[i],
                                     instance=f"scheduler-{i + 1}", node=host, leading=False, pace=scheduler_pace)
                           for i, host in enumerate(self.control_plane_hosts)]
        self.scheduler = self.schedulers[0]
        self.controller_managers = [ControllerManager(self.env, rng("controller-manager", i), self.tracer, self.apiservers[i],
                                                      instance=f"controller-manager-{i + 1}", node=host)
                                    for i, host in enumerate(self.control_plane_hosts)]
        self.controller_manager = self.controller_managers[0]
        self.runtimes: dict[str, ContainerRuntime] = {}
        self.kubelets: dict[str, Kubelet] = {}
        self.proxies: dict = {}
        for n in self.topology:
            self._make_node_agents(n)
        self._boot_rng = component_rng(seed, "bootstrap")
        # The identity each leader-elected component holds its Lease with: "<hostname>_<uuid>" (set in _bootstrap).
        self.identities: dict[str, str] = {}
        self.tracer.enabled = False
        self._bootstrap()
        self.tracer.enabled = True
        self._last_write = 0.0
        self.etcd.store.watch("/registry/", prefix=True, callback=self._on_write)
        self.electors: list = []
        self._electors_of: dict[int, list] = {}
        for i in range(k):
            self._elect("kube-scheduler", i, self.schedulers[i])
            self._elect("kube-controller-manager", i, self.controller_managers[i])
        for n in self.topology:
            self._start_node_agents(n.name)

    def _make_node_agents(self, n: NodeSpec) -> None:
        preload = PRELOADED + (CP_IMAGES if n.role == "control-plane" else [])
        rt = ContainerRuntime(n.name, n.pod_cidr, component_rng(self.seed, f"container-runtime/{n.name}"), preload)
        self.runtimes[n.name] = rt
        self.kubelets[n.name] = Kubelet(self.env, component_rng(self.seed, f"kubelet/{n.name}"), self.tracer,
                                        self.lb, n.name, n.ip, rt)
        self.proxies[n.name] = KubeProxy(self.env, component_rng(self.seed, f"kube-proxy/{n.name}"), self.tracer,
                                         self.lb, n.name)

    def _start_node_agents(self, name: str) -> None:
        self.kubelets[name].start()
        if name in self.proxies:
            self.proxies[name].start()

    def _elect(self, lease: str, i: int, component) -> None:
        component.start()
        el = LeaderElector(self.env, component_rng(self.seed, f"leaderelection/{lease}/{i}"), self.tracer,
                           self.apiservers[i], lease, self.identities[f"{lease}/{i}"], component)
        self.electors.append(el)
        self._electors_of.setdefault(i, []).append(el)
        el.start()

    # ---- nodes coming and going ---------------------------------------------------------------------
    def add_node(self, spec: NodeSpec, node: dict | None = None):
        """A new node joins: its kubelet registers the Node (or adopts `node`, a Node object created from a
        manifest) and starts, with its kube-proxy. Returns the kubelet."""
        self.topology.append(spec)
        self._make_node_agents(spec)
        kubelet = self.kubelets[spec.name]
        kubelet.register(node if node is not None else self._node(spec))
        self._start_node_agents(spec.name)
        return kubelet

    def stop_node(self, name: str) -> None:
        """The node goes down: its kubelet stops heartbeating and its kube-proxy stops; on a control-plane
        node its API server, etcd member, scheduler and controller-manager stop too (their Leases expire
        and a standby on another control-plane node takes over)."""
        self.kubelets[name].stop()
        self.proxies[name].stop()
        if name in self.control_plane_hosts and not self.hosted_control_plane:
            i = self.control_plane_hosts.index(name)
            for el in self._electors_of.get(i, []):
                el.stop()
            for comp in (self.schedulers[i], self.controller_managers[i], self.apiservers[i]):
                comp.stop()
                self._lifecycle(comp, "stopped", name)
            self.etcd.stop_member(self.etcd.members[i])

    def start_node(self, name: str) -> None:
        if name in self.control_plane_hosts and not self.hosted_control_plane:
            i = self.control_plane_hosts.index(name)
            self.etcd.start_member(self.etcd.members[i])
            for comp in (self.apiservers[i], self.schedulers[i], self.controller_managers[i]):
                comp.start()
                self._lifecycle(comp, "started", name)
            for el in self._electors_of.get(i, []):
                el.start()
        self._start_node_agents(name)

    def _lifecycle(self, comp, state: str, node: str) -> None:
        self.tracer.emit(comp.COMPONENT, comp.instance, "component.lifecycle", f"{comp.COMPONENT} {comp.instance} {state}",
                         {"state": state, "node": node})

    # ---- running --------------------------------------------------------------------------------------
    def _on_write(self, ev) -> None:
        # Lease renewals are the cluster's pulse, not activity.
        if not ev.kv.key.startswith("/registry/leases/"):
            self._last_write = self.env.now

    def busy(self) -> bool:
        comps = [*self.schedulers, *self.controller_managers, *self.kubelets.values(), *self.proxies.values()]
        return any(getattr(c, "busy", None) is not None and c.busy() for c in comps)

    def summarize(self, detail_pods: int = 50) -> None:
        """The tracer's summary level, for a large run: the first `detail_pods` Pods in full detail, the
        rest counted, and each summary.interval carrying the Pods by phase (counted from the store)."""
        self.tracer.summarize(detail_pods=detail_pods)
        self.tracer.pod_phases = PodPhaseCounter(self.etcd.store)

    def run_until_idle(self, quiet: float = 5.0, limit: float = 600.0) -> bool:
        """Run until nothing but Lease renewals has been written for `quiet` virtual seconds and no
        component is busy; stop at `limit` virtual seconds from now. True when idle was reached."""
        env = self.env
        deadline = env.now + limit
        self._last_write = env.now
        while env.pending() and env.peek() <= deadline:
            if env.peek() > self._last_write + quiet and not self.busy():
                env.now = max(env.now, self._last_write + quiet)
                return True
            env.step()
        return not env.pending()

    def client(self, credential: Credential | None = None, who: dict | None = None):
        from .client import Client
        return Client(self.lb, credential or ADMIN, who or ref("kubectl", "kubectl"))

    # ---- the audit log ----------------------------------------------------------------------------
    def enable_audit(self, policy, path) -> "AuditLog":
        """Every API server writes its audit log to `path` under `policy` (an audit.Policy), as kind's
        control plane does when made with the project's policy (dashboard/realcluster/kind/). In-cluster
        clients are named as they name themselves: the binary's User-Agent (client-go's
        DefaultKubernetesUserAgent: <binary>/<version> (<os>/<arch>) kubernetes/<commit>) from their node's
        address."""
        from .apiserver.audit import AuditLog

        log = AuditLog(path, policy)
        ip_of = {n.name: n.ip for n in self.topology}
        node_of = {(c["component"], c["instance"]): c["node"] for c in self.components_summary()}
        binaries = {"kubelet": "kubelet", "kube-proxy": "kube-proxy", "scheduler": "kube-scheduler",
                    "controller-manager": "kube-controller-manager"}

        def client(who: dict) -> tuple[list, str]:
            comp = who.get("component", "")
            node = node_of.get((comp, who.get("instance", "")))
            agent = f"{binaries[comp]}/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT[:7]}" if comp in binaries else ""
            return ([ip_of[node]] if node in ip_of else []), agent

        for a in self.apiservers:
            a.audit, a.audit_client = log, client
        return log

    # ---- the API, for scenarios and tests ----------------------------------------------------------
    def request(self, req: Request) -> Future:
        return self.lb.handle(req)

    def call(self, req: Request) -> Response:
        """Serve one request to completion (running the clock) and return the response."""
        fut = self.lb.handle(req)
        self.env.run(until=fut)
        return fut.value

    def reader(self):
        """An API server to read through: the first one still running (the first of all when none is), so a
        summary taken while a control-plane node is down still sees the cluster."""
        return next((a for a in self.apiservers if a.running), self.apiserver)

    def get(self, key: str) -> dict | None:
        return self.reader().get(key)

    def run(self, until: float | None = None) -> None:
        """Run to virtual time `until`; without it, until the cluster is idle (leases renew forever, so
        "until nothing is scheduled" would never come)."""
        if until is None:
            self.run_until_idle()
            return
        while self.env.pending() and self.env.peek() <= until:
            self.env.step()

    # ---- what the scenario.started event shows ----------------------------------------------------
    def nodes_summary(self) -> list[dict]:
        out = []
        for n in self.topology:
            node = self.reader().get(f"/registry/minions/{n.name}")
            if node is None:
                continue
            alloc = node["status"]["allocatable"]
            out.append({"name": n.name, "role": n.role, "labels": node["metadata"]["labels"],
                        "taints": node["spec"].get("taints", []),
                        "allocatable": {"cpu": alloc["cpu"], "memory": alloc["memory"], "pods": alloc["pods"]},
                        "ready": True})
        return out

    def leases_summary(self) -> list[dict]:
        """The leader-election Leases (kube-system/kube-scheduler, kube-system/kube-controller-manager) and
        who holds each: which instance's loops act."""
        out = []
        for name in ("kube-controller-manager", "kube-scheduler"):
            lease = self.reader().get(f"/registry/leases/kube-system/{name}")
            if lease is not None:
                out.append({"lease": f"kube-system/{name}", "holder": (lease.get("spec") or {}).get("holderIdentity")})
        return out

    def components_summary(self) -> list[dict]:
        comps = [{"component": "kubectl", "instance": "kubectl", "node": None}]
        if self.lb is not self.apiserver:
            comps.append({"component": "load-balancer", "instance": "load-balancer", "node": None})
        for i, host in enumerate(self.control_plane_hosts):
            node = None if self.hosted_control_plane else host
            comps += [{"component": "apiserver", "instance": self.apiservers[i].instance, "node": node},
                      {"component": "etcd", "instance": self.etcd.members[i], "node": node},
                      {"component": "scheduler", "instance": self.schedulers[i].instance, "node": node},
                      # No cloud-controller-manager: kind runs none (there is no cloud provider). The
                      # dashboard still draws the lesson's box, greyed out, because this list does not name it.
                      {"component": "controller-manager", "instance": self.controller_managers[i].instance, "node": node}]
        for n in self.topology:
            for c in ("kubelet", "kube-proxy", "container-runtime"):
                comps.append({"component": c, "instance": n.name, "node": n.name})
        return comps

    # ---- bootstrap: what `kind create cluster` leaves in etcd ----------------------------------------
    def _put(self, key: str, obj: dict) -> None:
        # Stored as the API server would have stored it: defaulted (SetObjectDefaults_<Kind>). Without that
        # a controller writing one of these objects back (the deployment controller updating coredns's
        # status) would be refused by validation ("terminationMessagePolicy: Required value").
        defaults.set_defaults(obj.get("kind", ""), obj)
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
        # (and the controllers' accounts, which kube-controller-manager's client builder makes at start-up)
        for sa in ("coredns", "kube-proxy", "kindnet", *sorted(set(SERVICE_ACCOUNTS.values()))):
            self._put(f"/registry/serviceaccounts/kube-system/{sa}", {
                "kind": "ServiceAccount", "apiVersion": "v1", "metadata": self._meta(sa, "kube-system")})
        self._put("/registry/services/specs/default/kubernetes", {
            "kind": "Service", "apiVersion": "v1",
            "metadata": self._meta("kubernetes", "default", labels={"component": "apiserver", "provider": "kubernetes"}),
            "spec": {"ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
                     "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "type": "ClusterIP", "sessionAffinity": "None"}})
        # The API server keeps the `kubernetes` Service's endpoints itself (its EndpointReconciler, lease
        # mode: every API server's advertise address, port 6443).
        ips = [n.ip for n in self.topology if n.role == "control-plane"] or ["172.18.0.2"]
        self._put("/registry/services/endpoints/default/kubernetes", {
            "kind": "Endpoints", "apiVersion": "v1",
            "metadata": self._meta("kubernetes", "default", labels={"endpointslice.kubernetes.io/skip-mirror": "true"}),
            "subsets": [{"addresses": [{"ip": ip} for ip in ips], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]})
        self._put("/registry/endpointslices/default/kubernetes", {
            "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
            "metadata": self._meta("kubernetes", "default", labels={"kubernetes.io/service-name": "kubernetes"}),
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]})
        if self.hosted_control_plane:
            self._bootstrap_leases()
            return
        # kubeadm's CoreDNSService (cmd/kubeadm/app/phases/addons/dns/manifests.go), clusterIP the tenth
        # address of the Service CIDR 10.96.0.0/16.
        self._put("/registry/services/specs/kube-system/kube-dns", {
            "kind": "Service", "apiVersion": "v1",
            "metadata": self._meta("kube-dns", "kube-system",
                                   labels={"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                           "kubernetes.io/name": "CoreDNS"},
                                   annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}),
            "spec": {"ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53},
                               {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53},
                               {"name": "metrics", "protocol": "TCP", "port": 9153, "targetPort": 9153}],
                     "selector": {"k8s-app": "kube-dns"}, "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                     "type": "ClusterIP"}})
        self._bootstrap_pods()
        self._bootstrap_leases()
        self._bootstrap_kube_dns_endpoints()

    def _bootstrap_kube_dns_endpoints(self) -> None:
        """The Endpoints and EndpointSlice the endpoints / endpointslice controllers wrote for kube-dns when
        the CoreDNS Pods became ready, 15 minutes ago - computed with those controllers' own functions,
        so the controller-manager's first sync (from its informers' initial LIST) finds them up to date
        and kube-proxy's first rules already carry the CoreDNS endpoints. Drawn from their own random
        stream so that the bootstrap's other names and uids (and those of nodes added later) are
        unchanged."""
        rng = component_rng(self.seed, "bootstrap/kube-dns-endpoints")
        svc = self._stored("/registry/services/specs/kube-system/kube-dns")
        pods = [p for p in self._stored_range("/registry/pods/kube-system/")
                if endpoints.map_selector_matches(svc["spec"]["selector"], p["metadata"].get("labels"))]
        zones = {n.name: n.zone for n in self.topology if n.zone}
        meta = lambda name, labels, **extra: {"name": name, "namespace": "kube-system", "labels": labels,  # noqa: E731
                                              "uid": ids.uid(rng), "creationTimestamp": clock.rfc3339(BOOT_T), **extra}
        ep = {"kind": "Endpoints", "apiVersion": "v1", "metadata": meta("kube-dns", endpoints.endpoints_labels(svc))}
        subsets = endpoints.endpoint_subsets(svc, pods)
        if subsets:
            ep["subsets"] = subsets
        self._put("/registry/services/endpoints/kube-system/kube-dns", ep)
        owner = {"apiVersion": "v1", "kind": "Service", "name": "kube-dns", "uid": svc["metadata"]["uid"],
                 "controller": True, "blockOwnerDeletion": True}
        for d in endpoints.desired_slices(svc, pods, zones.get):
            name = f"kube-dns-{ids.rand_string(rng, 5)}"
            self._put(f"/registry/endpointslices/kube-system/{name}", {
                "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
                "metadata": meta(name, endpoints.slice_labels(svc), generateName="kube-dns-", ownerReferences=[owner]),
                "addressType": "IPv4", "endpoints": d["endpoints"], "ports": d["ports"]})

    def _stored(self, key: str) -> dict:
        return json.loads(self.etcd.store.get(key).value)

    def _stored_range(self, prefix: str) -> list[dict]:
        return [json.loads(kv.value) for kv in self.etcd.store.range(prefix, prefix=True)]

    def _bootstrap_leases(self) -> None:
        for n in self.topology:
            self._put(f"/registry/leases/kube-node-lease/{n.name}", {
                "kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": self._meta(n.name, "kube-node-lease"),
                "spec": {"holderIdentity": n.name, "leaseDurationSeconds": 40, "renewTime": clock.rfc3339_micro(-2.0)}})
        for name in ("kube-controller-manager", "kube-scheduler"):
            for i, host in enumerate(self.control_plane_hosts):
                self.identities[f"{name}/{i}"] = f"{host}_{ids.uid(self._boot_rng)}"
            # The first control-plane node's instance won the first election when the cluster was created.
            self._put(f"/registry/leases/kube-system/{name}", {
                "kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "metadata": self._meta(name, "kube-system"),
                "spec": {"holderIdentity": self.identities[f"{name}/0"], "leaseDurationSeconds": 15,
                         "acquireTime": clock.rfc3339_micro(BOOT_T), "renewTime": clock.rfc3339_micro(-1.0),
                         "leaseTransitions": 0}})

    def _bootstrap_rbac(self) -> None:
        # The API server's RBAC bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), as
        # simulator.apiserver.authz defines it, plus kubeadm's kubeadm:cluster-admins binding.
        for obj in authz.bootstrap_cluster_roles():
            obj = dict(obj)
            obj["metadata"] = {**self._meta(obj["metadata"]["name"]), **{k: v for k, v in obj["metadata"].items() if k != "name"}}
            self._put(f"/registry/clusterroles/{obj['metadata']['name']}", obj)
        for obj in authz.bootstrap_cluster_role_bindings():
            obj = dict(obj)
            obj["metadata"] = {**self._meta(obj["metadata"]["name"]), **{k: v for k, v in obj["metadata"].items() if k != "name"}}
            self._put(f"/registry/clusterrolebindings/{obj['metadata']['name']}", obj)

    def _node(self, n: NodeSpec) -> dict:
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux"}
        spec: dict = {"podCIDR": n.pod_cidr, "podCIDRs": [n.pod_cidr], "providerID": f"kind://docker/kind/{n.name}"}
        if n.role == "control-plane" and n.kind_defaults:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            # kubeadm taints control-plane nodes so ordinary Pods stay off them.
            spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
        if n.zone:
            labels["topology.kubernetes.io/zone"] = n.zone
        labels.update(n.labels)
        if n.taints:
            spec["taints"] = spec.get("taints", []) + [dict(t) for t in n.taints]
        images = PRELOADED + (CP_IMAGES if n.role == "control-plane" else [])
        cap = {"cpu": n.cpu, "ephemeral-storage": "102626232Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
               "memory": n.memory, "pods": n.pods}
        t = clock.rfc3339(BOOT_T)
        # With node Leases the kubelet rewrites its status only on a change or every 5 minutes
        # (nodeStatusReportFrequency): the last such report was a minute ago.
        hb = clock.rfc3339(-60.0)
        return {
            "kind": "Node", "apiVersion": "v1",
            "metadata": self._meta(n.name, labels=labels, annotations={
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
            "spec": spec,
            "status": {
                "capacity": cap, "allocatable": dict(cap),
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": hb, "lastTransitionTime": t},
                    {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": hb, "lastTransitionTime": t},
                    {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": hb, "lastTransitionTime": t},
                    {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": hb, "lastTransitionTime": t},
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
        # Running and ready since boot, as the kubelet reports them (kubectl's READY counts these). The
        # container IDs are derived from the names, not drawn from an RNG, so no other stream shifts.
        statuses = [{"name": c["name"], "state": {"running": {"startedAt": clock.rfc3339(BOOT_T)}}, "lastState": {},
                     "ready": True, "restartCount": 0, "image": c["image"], "imageID": "",
                     "containerID": "containerd://" + hashlib.sha256(f"{name}/{c['name']}".encode()).hexdigest(),
                     "started": True} for c in containers]
        return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
                "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": clock.rfc3339(BOOT_T),
                           "qosClass": "BestEffort" if best_effort else "Burstable",
                           "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": clock.rfc3339(BOOT_T)}
                                          for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")],
                           "containerStatuses": statuses}}

    def _bootstrap_pods(self) -> None:
        if self.hosted_control_plane:
            return  # the control plane runs elsewhere; the nodes carry only what is applied to them
        # kubeadm's static Pod manifests (cmd/kubeadm/app/phases/controlplane/manifests.go, etcd/local.go):
        # one set per control-plane node, as mirror Pods owned by their Node.
        static = [("etcd", "registry.k8s.io/etcd:3.5.21-0", {"cpu": "100m", "memory": "100Mi"}),
                  ("kube-apiserver", f"registry.k8s.io/kube-apiserver:{K8S_VERSION}", {"cpu": "250m"}),
                  ("kube-controller-manager", f"registry.k8s.io/kube-controller-manager:{K8S_VERSION}", {"cpu": "200m"}),
                  ("kube-scheduler", f"registry.k8s.io/kube-scheduler:{K8S_VERSION}", {"cpu": "100m"})]
        for cp in self.control_plane_hosts:
            node_uid = self._uid_of(f"/registry/minions/{cp}")
            for comp, image, req in static:
                p = self._pod(f"{comp}-{cp}", cp, [{"name": comp, "image": image, "resources": {"requests": req}}],
                              "system-node-critical", {"component": comp, "tier": "control-plane"}, host_network=True,
                              owner={"apiVersion": "v1", "kind": "Node", "name": cp, "uid": node_uid, "controller": True})
                self._put(f"/registry/pods/kube-system/{p['metadata']['name']}", p)
        cp = self.control_plane_hosts[0]
        rs_hash = ids.rand_string(self._boot_rng, 10)
        dep, rs = self._coredns_workload(rs_hash)
        for _ in range(2):
            name = f"coredns-{rs_hash}-{ids.rand_string(self._boot_rng, 5)}"
            p = self._pod(name, cp, [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                                      "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}}}],
                          "system-cluster-critical", {"k8s-app": "kube-dns", "pod-template-hash": rs_hash},
                          owner={"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
                                 "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True},
                          tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                       {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
            self._put(f"/registry/pods/kube-system/{name}", p)
        daemonsets = {}
        for ds, image, res in DAEMONSETS:
            obj = self._daemonset(ds, image, res)
            daemonsets[ds] = obj
        for n in self.topology:
            if not n.kind_defaults:
                continue
            for ds, image, res in DAEMONSETS:
                name = f"{ds}-{ids.rand_string(self._boot_rng, 5)}"
                d = daemonsets[ds]["metadata"]
                p = self._pod(name, n.name, [{"name": ds if ds != "kindnet" else "kindnet-cni", "image": image, "resources": res}],
                              "system-node-critical", {"k8s-app": ds}, host_network=True,
                              owner={"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds, "uid": d["uid"],
                                     "controller": True, "blockOwnerDeletion": True})
                self._put(f"/registry/pods/kube-system/{name}", p)
        n_nodes = sum(1 for n in self.topology if n.kind_defaults)
        for obj in daemonsets.values():
            obj["status"] = {"currentNumberScheduled": n_nodes, "desiredNumberScheduled": n_nodes, "numberAvailable": n_nodes,
                             "numberMisscheduled": 0, "numberReady": n_nodes, "observedGeneration": 1, "updatedNumberScheduled": n_nodes}
            self._put(f"/registry/daemonsets/kube-system/{obj['metadata']['name']}", obj)

    def _uid_of(self, key: str) -> str:
        kv = self.etcd.store.get(key)
        return json.loads(kv.value)["metadata"]["uid"] if kv else ""

    def _coredns_workload(self, rs_hash: str) -> tuple[dict, dict]:
        """The coredns Deployment kubeadm creates (cmd/kubeadm/app/phases/addons/dns/manifests.go) and the
        ReplicaSet its controller made: 2 replicas, maxUnavailable 1, on the control plane."""
        template = {"metadata": {"labels": {"k8s-app": "kube-dns"}},
                    "spec": {"priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns",
                             "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                             {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                             "nodeSelector": {"kubernetes.io/os": "linux"},
                             "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                                             "imagePullPolicy": "IfNotPresent", "args": ["-conf", "/etc/coredns/Corefile"],
                                             "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
                                             "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                                       {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                                       {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}]}],
                             "dnsPolicy": "Default", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                             "terminationGracePeriodSeconds": 30}}
        dep = {"kind": "Deployment", "apiVersion": "apps/v1",
               "metadata": self._meta("coredns", "kube-system", labels={"k8s-app": "kube-dns"}, generation=1,
                                      annotations={"deployment.kubernetes.io/revision": "1"}),
               "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": template,
                        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                        "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
               "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
                          "conditions": [
                              {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                               "message": "Deployment has minimum availability.",
                               "lastUpdateTime": clock.rfc3339(BOOT_T), "lastTransitionTime": clock.rfc3339(BOOT_T)},
                              {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                               "message": f'ReplicaSet "coredns-{rs_hash}" has successfully progressed.',
                               "lastUpdateTime": clock.rfc3339(BOOT_T), "lastTransitionTime": clock.rfc3339(BOOT_T)}]}}
        rs_template = json.loads(json.dumps(template))
        rs_template["metadata"]["labels"]["pod-template-hash"] = rs_hash
        rs = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
              "metadata": self._meta(f"coredns-{rs_hash}", "kube-system", labels={"k8s-app": "kube-dns", "pod-template-hash": rs_hash},
                                     generation=1,
                                     annotations={"deployment.kubernetes.io/desired-replicas": "2",
                                                  "deployment.kubernetes.io/max-replicas": "3",
                                                  "deployment.kubernetes.io/revision": "1"},
                                     ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "coredns",
                                                       "uid": dep["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]),
              "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns", "pod-template-hash": rs_hash}},
                       "template": rs_template},
              "status": {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2, "observedGeneration": 1}}
        self._put("/registry/deployments/kube-system/coredns", dep)
        self._put(f"/registry/replicasets/kube-system/coredns-{rs_hash}", rs)
        return dep, rs

    def _daemonset(self, name: str, image: str, res: dict) -> dict:
        return {"kind": "DaemonSet", "apiVersion": "apps/v1",
                "metadata": self._meta(name, "kube-system", labels={"k8s-app": name}, generation=1),
                "spec": {"selector": {"matchLabels": {"k8s-app": name}},
                         "template": {"metadata": {"labels": {"k8s-app": name}},
                                      "spec": {"containers": [{"name": name if name != "kindnet" else "kindnet-cni", "image": image,
                                                               "resources": res}],
                                               "hostNetwork": True, "priorityClassName": "system-node-critical",
                                               "tolerations": [{"operator": "Exists"}]}},
                         "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}}}
