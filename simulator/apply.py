"""`python -m simulator apply -f FILE`: manifests in, objects out.

1. Every document of every file is read and checked (simulator.manifests) before anything happens; an
   invalid one ends the command with exit code 2, naming file, document and field.
2. A cluster is made: the files' Nodes, exactly (the control plane then runs off those nodes, as a managed
   control plane does), or, when the files hold no Node, kind's default cluster (control-plane + 2 workers).
3. The documents are created in file order, one request after the other as kubectl sends them, each as the
   admin user (kind's kubeconfig: kubernetes-admin in kubeadm:cluster-admins), a POST to the collection.
   A Node document is joined by its kubelet (which registers the Node object made from the manifest).
   The control plane runs meanwhile: the scheduler may bind the first Pod while the second is being sent.
4. The control plane runs until idle (nothing but Lease renewals written for 5 simulated seconds, at most
   600) or, with --for S, for S simulated seconds after the last document was created.
5. A Kubernetes List is printed, as `kubectl get -o json|yaml` prints one.

What the List holds: every object created in the store while the command ran - the files' objects, what
the control plane made from them (ReplicaSets, Pods, Endpoints, EndpointSlices, node Leases ...) and every
Event - in creation order (etcd create_revision), each at its latest resourceVersion. The objects the
bootstrapped cluster already held (kube-system Pods, default RBAC, the default Namespaces, kind's Nodes)
are left out unless --all is given.

"Nothing half-applied": the cluster lives only inside this command, so what a failed command leaves behind
is only what it prints. Static checks run on every document before the first request. A request the API
server still refuses (a Namespace a later document would create, a quota, an object that already exists)
is reported as kubectl reports it (`Error from server (NotFound): error when creating "FILE": ...`); the
remaining documents are still sent, as kubectl does, so that every error is reported at once; the command
then exits 1 and prints no List.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field

import yaml

from . import manifests
from .apiserver import Request, registry
from .cluster import ADMIN, Cluster, NodeSpec
from .trace import ref

IDLE_QUIET = 5.0       # seconds with nothing but Lease renewals written
IDLE_LIMIT = 600.0     # never run more than 10 simulated minutes when waiting for idle
NODE_JOIN_LIMIT = 60.0  # a node's kubelet must have registered within this (simulated) time

# kubelet defaults for a node whose manifest leaves a resource out (cluster.NodeSpec's defaults: a kind
# node on a 4-CPU, 8 GB machine); "pods" is the kubelet's --max-pods default, 110.
NODE_DEFAULTS = {"cpu": NodeSpec.__dataclass_fields__["cpu"].default,
                 "memory": NodeSpec.__dataclass_fields__["memory"].default,
                 "pods": "110"}
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
ZONE_LABEL = "topology.kubernetes.io/zone"


@dataclass
class Outcome:
    code: int                              # 0 applied, 1 a request failed, 2 invalid input
    items: list[dict] | None = None        # the List's items when code == 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    idle: bool | None = None               # --until-idle: whether idle was reached

    def as_list(self) -> dict:
        return k8s_list(self.items or [])


def k8s_list(items: list[dict]) -> dict:
    # What `kubectl get -o json` prints for several objects: a v1 List with an empty resourceVersion
    # (k8s.io/kubectl/pkg/cmd/get/get.go, the "list" it builds for non-table output).
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


# ---- nodes ----------------------------------------------------------------------------------------------------
def _q(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def node_spec(doc: manifests.Doc, used_ips: set[str], used_cidrs: set[str]) -> NodeSpec:
    """The NodeSpec a Node manifest describes. Resources: status.allocatable, else status.capacity, else
    the kubelet's defaults (pods 110). Labels and taints exactly as written (no kind defaults, no implicit
    control-plane taint). An InternalIP and spec.podCIDR are used when given, else the next free ones."""
    obj = doc.obj
    labels = {k: _q(v) for k, v in (obj["metadata"].get("labels") or {}).items()}
    status = obj.get("status") or {}
    alloc, cap = status.get("allocatable") or {}, status.get("capacity") or {}
    res = {k: _q(alloc.get(k, cap.get(k, d))) for k, d in NODE_DEFAULTS.items()}
    ip = next((a.get("address") for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), None)
    if not ip:
        n = 2
        while f"172.18.0.{n}" in used_ips:
            n += 1
        ip = f"172.18.0.{n}"
    used_ips.add(ip)
    cidr = (obj.get("spec") or {}).get("podCIDR")
    if not cidr:
        n = 0
        while f"10.244.{n}.0/24" in used_cidrs:
            n += 1
        cidr = f"10.244.{n}.0/24"
    used_cidrs.add(cidr)
    return NodeSpec(doc.name, "control-plane" if CONTROL_PLANE_LABEL in labels else "worker", ip, cidr,
                    cpu=res["cpu"], memory=res["memory"], pods=res["pods"], labels=labels,
                    taints=[dict(t) for t in (obj.get("spec") or {}).get("taints") or []],
                    zone=labels.get(ZONE_LABEL, ""), kind_defaults=False)


def node_object(cluster: Cluster, spec: NodeSpec, doc: manifests.Doc) -> dict:
    """The Node the kubelet registers for a Node manifest: what the kubelet itself reports (conditions,
    nodeInfo, images, its well-known labels; cluster._node) with the manifest's metadata, spec and
    resources laid over it."""
    base = cluster._node(spec)
    obj = doc.obj
    meta = base["metadata"]
    for k in ("uid", "creationTimestamp", "resourceVersion"):
        meta.pop(k, None)  # the API server sets these when the kubelet registers the Node
    meta["labels"] = {**meta.get("labels", {}), **spec.labels}
    ann = {k: _q(v) for k, v in (obj["metadata"].get("annotations") or {}).items()}
    if ann:
        meta["annotations"] = {**meta.get("annotations", {}), **ann}
    node_spec_ = {k: v for k, v in base["spec"].items() if k != "providerID"}  # no cloud: no providerID
    node_spec_.update({k: v for k, v in (obj.get("spec") or {}).items() if k not in ("podCIDRs",)})
    node_spec_["podCIDR"] = spec.pod_cidr
    node_spec_["podCIDRs"] = [spec.pod_cidr]
    if spec.taints:
        node_spec_["taints"] = [dict(t) for t in spec.taints]
    else:
        node_spec_.pop("taints", None)
    base["spec"] = node_spec_
    status = obj.get("status") or {}
    given_cap = {k: _q(v) for k, v in (status.get("capacity") or {}).items()}
    given_alloc = {k: _q(v) for k, v in (status.get("allocatable") or {}).items()}
    kubelet_cap = base["status"]["capacity"]
    # allocatable: what the manifest says is allocatable, else its capacity; capacity the other way round.
    base["status"]["allocatable"] = {**kubelet_cap, **given_cap, **given_alloc}
    base["status"]["capacity"] = {**kubelet_cap, **given_alloc, **given_cap}
    for k, v in (("cpu", spec.cpu), ("memory", spec.memory), ("pods", spec.pods)):
        base["status"]["allocatable"][k] = v
        base["status"]["capacity"].setdefault(k, v)
    if status.get("addresses"):
        base["status"]["addresses"] = [dict(a) for a in status["addresses"]]
    return base


# ---- requests -------------------------------------------------------------------------------------------------
def create_request(doc: manifests.Doc) -> Request:
    """kubectl create: POST to the collection, the name in the body only."""
    k = doc.kind
    ns = doc.namespace
    return Request("POST", registry.path(k.resource, ns), "create", k.resource, ns, doc.name,
                   api_group=k.group, body=json.loads(json.dumps(doc.obj)), credential=ADMIN,
                   client=ref("kubectl", "kubectl"), traced=True)


def server_error(doc: manifests.Doc, status: dict | None, code: int) -> str:
    """The line kubectl prints for a failed create (k8s.io/kubectl/pkg/cmd/util/helpers.go
    StandardErrorMessage, after AddSourceToErr("creating", source, err))."""
    status = status or {}
    reason = status.get("reason") or "Unknown"
    message = status.get("message") or f"the server responded with the status code {code}"
    if reason == "Invalid" or code == 422:
        # IsInvalid: "The Pod "x" is invalid: " then the causes (one line each when there are several).
        details = status.get("details") or {}
        causes = details.get("causes") or []
        kind, name = details.get("kind", doc.kind.kind), details.get("name", doc.name)
        if len(causes) > 1:
            return f'The {kind} "{name}" is invalid: \n' + "\n".join(
                f'* {c.get("field", "")}: {c.get("message", "")}' for c in causes)
        if causes:
            return f'The {kind} "{name}" is invalid: {causes[0].get("field", "")}: {causes[0].get("message", "")}'
        return f"The {kind} \"{name}\" is invalid: {message}"
    return f'Error from server ({reason}): error when creating "{doc.file}": {message}'


def _wait(cluster: Cluster, fut):
    cluster.env.run(until=fut)
    if not fut.done:  # nothing left to run and no answer: a component is missing
        raise RuntimeError("the API server never answered")
    return fut.value


def _join_node(cluster: Cluster, doc: manifests.Doc, spec: NodeSpec) -> str | None:
    """Start the node's kubelet, which registers the Node; run until the Node is in the API."""
    if cluster.apiserver.get(registry.key("nodes", "", spec.name)) is not None:
        return f'Error from server (AlreadyExists): error when creating "{doc.file}": nodes "{spec.name}" already exists'
    cluster.add_node(spec, node_object(cluster, spec, doc))
    env = cluster.env
    deadline = env.now + NODE_JOIN_LIMIT
    key = registry.key("nodes", "", spec.name)
    while cluster.apiserver.get(key) is None and env.pending() and env.peek() <= deadline:
        env.step()
    if cluster.apiserver.get(key) is None:
        return f'error: node "{spec.name}" ({doc.file} document {doc.index}): its kubelet did not register the Node'
    return None


# ---- the command ----------------------------------------------------------------------------------------------
def apply(docs: list[manifests.Doc], seed: int = 1, for_seconds: float | None = None,
          include_all: bool = False, run_id: str | None = None) -> Outcome:
    """Create `docs` (already checked) in a fresh cluster, run it, and collect the objects."""
    node_docs = [d for d in docs if d.kind.resource == "nodes"]
    cluster = Cluster(seed, run_id or f"apply-{seed}", topology=[] if node_docs else None)
    store = cluster.etcd.store
    start_revision = store.revision
    used_ips = {n.ip for n in cluster.topology}
    used_cidrs = {n.pod_cidr for n in cluster.topology}
    specs = {id(d): node_spec(d, used_ips, used_cidrs) for d in node_docs}
    errors: list[str] = []
    for doc in docs:
        if doc.kind.resource == "nodes":
            err = _join_node(cluster, doc, specs[id(doc)])
            if err:
                errors.append(err)
            continue
        resp = _wait(cluster, cluster.request(create_request(doc)))
        if not resp.ok:
            errors.append(server_error(doc, resp.status, resp.code) + _hint(doc, resp.status, docs))
    if errors:
        return Outcome(1, None, errors)
    out = Outcome(0)
    if for_seconds is not None:
        cluster.run(until=cluster.env.now + for_seconds)
    else:
        out.idle = cluster.run_until_idle(quiet=IDLE_QUIET, limit=IDLE_LIMIT)
        if not out.idle:
            out.warnings.append(f"warning: the cluster was still busy after {IDLE_LIMIT:g} simulated seconds; "
                                "printing the objects as they are at that moment")
    out.items = collect(cluster, 0 if include_all else start_revision)
    return out


def _hint(doc: manifests.Doc, status: dict | None, docs: list[manifests.Doc]) -> str:
    """A namespace that is missing now but that a later document creates: say so (kubectl does not, but
    its user then has to find out that file order matters)."""
    details = (status or {}).get("details") or {}
    if (status or {}).get("reason") != "NotFound" or details.get("kind") != "namespaces":
        return ""
    later = next((d for d in docs if d.kind.resource == "namespaces" and d.name == details.get("name")), None)
    if later is None:
        return ""
    return f" (the Namespace is created by {later.file} document {later.index}, after this one: put it first)"


def collect(cluster: Cluster, after_revision: int) -> list[dict]:
    """Every object in etcd created after `after_revision`, oldest first, as the API returns it."""
    kvs = [kv for kv in cluster.etcd.store.range("/registry/", prefix=True) if kv.create_revision > after_revision]
    kvs.sort(key=lambda kv: (kv.create_revision, kv.key))
    items = []
    for kv in kvs:
        obj = json.loads(kv.value)
        resource = registry.resource_of(kv.key)
        info = registry.RESOURCES.get(resource)
        if info is not None:
            obj.setdefault("apiVersion", info.api_version)
            obj.setdefault("kind", info.kind)
        # The API server fills resourceVersion from the key's mod_revision on every read.
        obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
        items.append(obj)
    return items


# ---- printing -------------------------------------------------------------------------------------------------
def _go_numbers(v):
    # Objects reach kubectl's printer as unstructured JSON: whole numbers print without a fraction.
    if isinstance(v, dict):
        return {k: _go_numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_go_numbers(x) for x in v]
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


def to_json(obj: dict) -> str:
    """kubectl's JSON printer (k8s.io/cli-runtime/pkg/printers/json.go): json.MarshalIndent with four
    spaces, map keys in sorted order, and Go's HTML-safe escaping of <, > and &."""
    text = json.dumps(_go_numbers(obj), indent=4, sort_keys=True, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)  # these characters can only occur inside strings
    return text + "\n"


class _KubectlDumper(yaml.SafeDumper):
    """YAML as sigs.k8s.io/yaml (go-yaml v2) writes it: sorted keys, sequences not indented under their
    key, double quotes where quoting is needed ("" rather than ''), literal blocks for multi-line text."""

    def choose_scalar_style(self):
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def _str(dumper: yaml.SafeDumper, s: str):
    if "\n" in s and not any(line != line.rstrip() for line in s.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", s)


_KubectlDumper.add_representer(str, _str)


def to_yaml(obj: dict) -> str:
    return yaml.dump(_go_numbers(obj), Dumper=_KubectlDumper, default_flow_style=False, sort_keys=True,
                     allow_unicode=True, width=80, indent=2)


def run(paths: list[str], seed: int = 1, for_seconds: float | None = None, output: str = "json",
        include_all: bool = False, stdout=None, stderr=None, stdin=None) -> int:
    """The command: check, apply, print. Returns the exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        docs = manifests.load(paths, stdin=stdin)
    except manifests.ManifestErrors as e:
        for err in e.errors:
            stderr.write(str(err) + "\n")
        return 2
    if not docs:
        stderr.write("error: no objects passed to apply\n")  # kubectl's message for files without objects
        return 2
    outcome = apply(docs, seed=seed, for_seconds=for_seconds, include_all=include_all)
    for line in outcome.errors + outcome.warnings:
        stderr.write(line + "\n")
    if outcome.code != 0:
        return outcome.code
    lst = outcome.as_list()
    stdout.write(to_yaml(lst) if output == "yaml" else to_json(lst))
    return 0
