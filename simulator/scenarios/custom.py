"""Scenario "custom": the instructor's own manifests (multi-document YAML, as pasted or uploaded) on kind's
default cluster (a control-plane node and two workers).

Before anything runs, every document is read and checked as `kubectl create -f -` and the API server would
check it (simulator.manifests.load, the same checks as `python -m simulator apply`): a bad document is a
parameter error naming the document and the field, and nothing is enqueued. Then kubectl sends the documents
one after the other (a POST to each object's collection; a Node document is registered by a kubelet of its
own, as a node joins), the controllers, the scheduler and the kubelets react, and the run ends when the
cluster has settled - nothing but Lease renewals written for a few seconds - or after a bounded time. What the
API server refused (409, 404, 403, ...) is reported in the outcome as kubectl prints it."""
from __future__ import annotations

import io
import json

from .. import manifests
from ..apply import node_object, node_spec, server_error
from ..apiserver import registry
from ..cluster import Cluster, default_topology
from ..controller_manager import is_controller_user
from ..kernel import Future
from .script import ScriptSteps, kubectl, until

ID = "custom"
MAX_LENGTH = 200_000
MAX_DOCUMENTS = 50          # objects, counting the items of a `kind: List`
MAX_PODS = 100              # Pods asked for in all (Pods + the replicas of Deployments and ReplicaSets): kind's
                            # two workers hold 220; the scale scenario is the one for large numbers
QUIET = 5.0                 # settled: nothing but Lease renewals written for this long (as `simulator apply`)
SETTLE_LIMIT = 180.0        # ... or at most this long after the last document (a crash loop never settles)
NODE_JOIN_LIMIT = 60.0
PAUSE = 1.0
COMMAND = "kubectl create -f -"   # the pasted text is kubectl's standard input; kubectl calls it "STDIN"

# Kinds the simulator runs: the ones its API server validates and whose controllers it has. A DaemonSet,
# StatefulSet, Job, Ingress, PersistentVolumeClaim ... would be stored and then nothing would act on it,
# which would teach the wrong thing; Events, Leases and Endpoints are written by the control plane itself.
SUPPORTED = ("Namespace", "Node", "Pod", "Deployment", "ReplicaSet", "Service", "ConfigMap", "Secret",
             "ServiceAccount", "ResourceQuota", "LimitRange", "PriorityClass", "Role", "ClusterRole", "RoleBinding",
             "ClusterRoleBinding")

DEFAULT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
"""

CATALOG = {
    "id": ID,
    "title": {"en": "Your own manifests", "ko": "직접 작성한 매니페스트"},
    "description": {
        "en": "Paste or upload Kubernetes YAML (several documents separated by ---) and watch the cluster run it: "
              "kubectl sends each object, the API server checks and stores it, and the controllers, the scheduler "
              "and the kubelets do the rest. Invalid documents are refused before anything runs.",
        "ko": "쿠버네티스 YAML(--- 로 구분한 여러 문서)을 붙여 넣거나 올리고, 클러스터가 이를 실행하는 모습을 "
              "지켜봅니다. kubectl이 객체를 하나씩 보내면 API 서버가 검사해 저장하고, 나머지는 컨트롤러, 스케줄러, "
              "kubelet이 처리합니다. 잘못된 문서는 실행 전에 거절됩니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "manifests", "type": "str", "default": DEFAULT, "max_length": MAX_LENGTH, "multiline": True,
         "label": {"en": "Manifests (YAML, documents separated by ---)", "ko": "매니페스트 (YAML, 문서는 --- 로 구분)"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "kubectl sends the documents", "ko": "kubectl이 문서를 보냄"},
         "narration": {
             "en": "kubectl create -f reads the documents in order and sends each one as its own request: a POST to "
                   "the object's collection, such as /apis/apps/v1/namespaces/default/deployments. For each, the API "
                   "server authenticates the admin user, authorizes the verb, runs admission (defaults, limits, "
                   "quotas), validates the fields and stores the object in etcd. One refused object does not stop "
                   "the others; kubectl reports every error at the end. A Node document is different: a node joins "
                   "when its own kubelet registers it, so here a kubelet with that name, those labels and that "
                   "capacity starts and registers it.",
             "ko": "kubectl create -f는 문서를 순서대로 읽어 하나씩 별도의 요청으로 보냅니다. 예를 들어 "
                   "/apis/apps/v1/namespaces/default/deployments처럼 객체의 컬렉션으로 보내는 POST입니다. API 서버는 "
                   "요청마다 관리자 사용자를 인증하고, 동작을 인가하고, 어드미션(기본값, 제한, 쿼터)을 거쳐 필드를 "
                   "검증한 뒤 etcd에 저장합니다. 객체 하나가 거절되어도 나머지는 계속 보내며, kubectl은 오류를 마지막에 "
                   "모두 알려 줍니다. Node 문서는 다릅니다. 노드는 자기 kubelet이 등록해야 합류하므로, 여기서는 그 이름과 "
                   "레이블, 수용량을 가진 kubelet이 시작되어 Node를 등록합니다."}},
        {"n": 2,
         "title": {"en": "The controllers react", "ko": "컨트롤러가 반응"},
         "narration": {
             "en": "Stored objects are only wishes. The controller-manager's informers hear about them through watches, "
                   "and each controller compares what is asked for with what exists: a Deployment gets a ReplicaSet, "
                   "a ReplicaSet gets its Pods, a Service gets Endpoints listing the ready Pods it selects. If your "
                   "documents hold no workload, there is nothing to do here.",
             "ko": "저장된 객체는 아직 바람일 뿐입니다. 컨트롤러 매니저의 인포머가 watch로 소식을 듣고, 각 컨트롤러가 "
                   "요청된 것과 실제로 있는 것을 비교합니다. Deployment에는 ReplicaSet이, ReplicaSet에는 Pod가, "
                   "Service에는 선택한 준비된 Pod 목록인 Endpoints가 생깁니다. 문서에 워크로드가 없다면 여기서 할 일은 "
                   "없습니다."}},
        {"n": 3,
         "title": {"en": "The scheduler places the Pods", "ko": "스케줄러가 Pod를 배치"},
         "narration": {
             "en": "Every Pod without a node goes through the scheduler: filters drop the nodes that cannot take it "
                   "(resources, taints, node selectors, affinity, ports), scores rank the rest, and the best one is "
                   "bound. A Pod no node can take stays Pending with a FailedScheduling event that says why, in the "
                   "form \"0/3 nodes are available: ...\".",
             "ko": "노드가 정해지지 않은 Pod는 모두 스케줄러를 거칩니다. 필터가 받을 수 없는 노드(자원, 테인트, 노드 "
                   "셀렉터, 어피니티, 포트)를 빼고, 점수로 나머지의 순위를 매겨 가장 좋은 노드에 바인딩합니다. 어느 "
                   "노드에도 들어갈 수 없는 Pod는 Pending으로 남고, \"0/3 nodes are available: ...\" 형식으로 이유를 "
                   "적은 FailedScheduling 이벤트가 남습니다."}},
        {"n": 4,
         "title": {"en": "The kubelets start the containers", "ko": "kubelet이 컨테이너 시작"},
         "narration": {
             "en": "The kubelet of each chosen node sees the Pod bound to it, has the runtime create the sandbox (and "
                   "the Pod's IP), pull the images it does not have yet and start the containers, then reports the "
                   "status. A wrong image name shows up here as ErrImagePull and then ImagePullBackOff; a container "
                   "that keeps exiting as CrashLoopBackOff.",
             "ko": "선택된 노드의 kubelet이 자기에게 배정된 Pod를 보고, 런타임에 샌드박스(와 Pod IP)를 만들게 하고, "
                   "없는 이미지를 내려받아 컨테이너를 시작한 뒤 상태를 보고합니다. 이미지 이름이 틀리면 여기서 "
                   "ErrImagePull, 이어서 ImagePullBackOff가 나타나고, 계속 종료되는 컨테이너는 CrashLoopBackOff가 "
                   "됩니다."}},
        {"n": 5,
         "title": {"en": "The cluster settles", "ko": "클러스터가 안정됨"},
         "narration": {
             "en": "When nothing but the nodes' Lease renewals has been written for a few seconds, the cluster has "
                   "done all it will do on its own, and kubectl get pods -A lists the result. The outcome counts the "
                   "objects created and the Pods by phase, and repeats any error the API server returned - a real "
                   "cluster would have answered the same.",
             "ko": "몇 초 동안 노드의 Lease 갱신 말고는 아무것도 기록되지 않으면, 클러스터는 스스로 할 수 있는 일을 "
                   "모두 마친 것입니다. kubectl get pods -A로 결과를 확인합니다. 실행 결과에는 만들어진 객체 수와 "
                   "단계(phase)별 Pod 수, 그리고 API 서버가 돌려준 오류가 있다면 그 내용이 적힙니다. 실제 클러스터도 "
                   "똑같이 답했을 것입니다."}},
    ],
    "questions": [
        {"en": "Which of your documents did the API server store directly, and which objects did controllers create from them?",
         "ko": "여러분의 문서 중 API 서버가 그대로 저장한 것은 무엇이고, 컨트롤러가 그것으로부터 만든 객체는 무엇인가요?"},
        {"en": "If one document had been refused, would the documents after it still have been created? Why?",
         "ko": "문서 하나가 거절되었다면 그 뒤의 문서들은 그래도 만들어졌을까요? 그 이유는 무엇인가요?"},
        {"en": "Why is a document with an invalid field refused before it reaches etcd, and which component refuses it?",
         "ko": "잘못된 필드가 있는 문서는 왜 etcd에 닿기 전에 거절되며, 어느 구성 요소가 거절하나요?"},
    ],
}


# ---- checking ----------------------------------------------------------------------------------------------
def _message(e: manifests.ManifestError) -> str:
    parts = [f"document {e.index}"] if e.index is not None else []
    if e.field:
        parts.append(e.field)
    parts.append(e.message)
    return ": ".join(parts)


MAX_NODES = 200_000   # values per document once YAML aliases are expanded (a "billion laughs" guard:
                      # go-yaml refuses such documents with "excessive aliasing"; here they would be copied)


def _expanded_size(value, budget: int) -> int:
    """How many values `value` holds with every alias expanded, counting no further than `budget`."""
    n, stack = 0, [value]
    while stack and n <= budget:
        v = stack.pop()
        n += 1
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return n


def _objects_in(value) -> int:
    if isinstance(value, dict) and value.get("kind") == "List" and isinstance(value.get("items"), list):
        return len(value["items"])
    return 0 if value is None else 1


def documents(text: str) -> list[manifests.Doc]:
    """The checked documents, in order; raises ValueError with the message check_manifests returns."""
    try:
        parsed = manifests.parse(manifests.STDIN, text)
    except manifests.ManifestError as e:
        raise ValueError(_message(e)) from None
    total = 0
    for index, _line, value in parsed:
        if _expanded_size(value, MAX_NODES) > MAX_NODES:
            raise ValueError(f"document {index}: YAML: excessive aliasing: more than {MAX_NODES} values once "
                             "its aliases are expanded")
        total += _objects_in(value)
        if total > MAX_DOCUMENTS:
            raise ValueError(f"document {index}: too many objects: at most {MAX_DOCUMENTS} in all")
    try:
        docs = manifests.load(["-"], stdin=io.StringIO(text))
    except manifests.ManifestErrors as e:
        first = _message(e.errors[0])
        more = len(e.errors) - 1
        raise ValueError(first + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")) from None
    if not docs:
        raise ValueError("no objects passed to create")   # kubectl's words for a stream without objects
    pods = 0
    for d in docs:
        if d.kind.kind not in SUPPORTED:
            raise ValueError(f'document {d.index}: {d.field("kind")}: Unsupported value: "{d.kind.kind}": the simulator '
                             f"does not run {d.kind.kind} objects; supported kinds: {', '.join(SUPPORTED)}")
        if d.kind.kind == "Pod":
            pods += 1
        elif d.kind.kind in ("Deployment", "ReplicaSet"):
            replicas = (d.obj.get("spec") or {}).get("replicas")
            if replicas is None:
                replicas = 1   # the API server's default
            if isinstance(replicas, bool) or not isinstance(replicas, int):
                # The API server cannot even decode it (400): spec.replicas is an int32 in the Go type.
                raise ValueError(f"document {d.index}: {d.field('spec.replicas')}: Invalid value: {json.dumps(replicas)}: "
                                 f"must be an integer")
            pods += replicas
            if pods > MAX_PODS:
                raise ValueError(f"document {d.index}: {d.field('spec.replicas')}: Invalid value: {replicas}: at most "
                                 f"{MAX_PODS} Pods in all in this scenario (the scale scenario runs large numbers)")
        if pods > MAX_PODS:
            raise ValueError(f"document {d.index}: too many Pods: at most {MAX_PODS} in all in this scenario")
    return docs


def check_manifests(text: str) -> str | None:
    """Called by scenarios.validate for the `manifests` parameter: None, or what is wrong, naming the
    document (numbered from 1 in the stream) and the field."""
    try:
        documents(text)
    except ValueError as e:
        return str(e)
    return None


# ---- running -----------------------------------------------------------------------------------------------
def topology():
    return default_topology(workers=2)




def reactions(phase: int, type: str, data: dict) -> int | None:
    """The script opens 1 and 5; the components' first answers open 2, 3 and 4. A controller's first write
    opens 2 (its controller.reconcile event comes only at the end of its sync, after the writes)."""
    if phase < 1:
        return None
    if type == "apiserver.request" and data.get("method") in ("POST", "PUT", "PATCH", "DELETE") \
            and is_controller_user(str(data.get("user", ""))) and "/events" not in str(data.get("path", "")):
        return 2
    if type in ("scheduler.queue", "scheduler.filter", "scheduler.bind"):
        return 3
    if type == "kubelet.pod.sync":
        return 4
    return None


class CustomSteps(ScriptSteps):
    """The step policy, also holding what kubectl reported, for the outcome."""

    def __init__(self, reactions):
        super().__init__(reactions)
        self.created: list[str] = []      # kubectl's "deployment.apps/web created" lines
        self.errors: list[str] = []       # kubectl's error lines
        self.settled: bool | None = None
        self.start_revision = 0


def step_policy(params: dict) -> CustomSteps:
    return CustomSteps(reactions)


def _created_line(doc: manifests.Doc, body: dict | None) -> str:
    """kubectl's success line: <resource>[.<group>]/<name> created."""
    name = ((body or {}).get("metadata") or {}).get("name") or doc.name
    group = f".{doc.kind.group}" if doc.kind.group else ""
    return f"{doc.kind.kind.lower()}{group}/{name} created"


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: CustomSteps = tracer.step_policy
    docs = documents(params["manifests"])
    store = cluster.etcd.store
    steps.start_revision = store.revision
    last_write = [env.now]

    def on_write(ev) -> None:
        if not ev.kv.key.startswith("/registry/leases/"):   # Lease renewals are the cluster's pulse
            last_write[0] = env.now

    store.watch("/registry/", prefix=True, callback=on_write)
    used_ips = {n.ip for n in cluster.topology}
    used_cidrs = {n.pod_cidr for n in cluster.topology}

    def join(doc: manifests.Doc):
        key = registry.key("nodes", "", doc.name)
        if cluster.get(key) is not None:
            steps.errors.append(f'Error from server (AlreadyExists): error when creating "{doc.file}": '
                                f'nodes "{doc.name}" already exists')
            return
        spec = node_spec(doc, used_ips, used_cidrs)
        cluster.add_node(spec, node_object(cluster, spec, doc))
        try:
            yield from until(cluster, lambda: cluster.get(key) is not None, limit=NODE_JOIN_LIMIT)
        except TimeoutError:
            steps.errors.append(f'error: node "{doc.name}" (document {doc.index}): its kubelet did not register the Node')
            return
        steps.created.append(f"node/{doc.name} created")

    def settled() -> bool:
        return env.now - last_write[0] >= QUIET and not cluster.busy()

    def script():
        yield 0.05
        steps.open(tracer, 1)
        client = kubectl(cluster, COMMAND)
        for doc in docs:
            if doc.kind.resource == "nodes":
                yield from join(doc)
                continue
            body = json.loads(json.dumps(doc.obj))
            resp = yield client.create(doc.kind.resource, body, namespace=doc.namespace)
            if getattr(resp, "ok", False):
                steps.created.append(_created_line(doc, resp.body))
            else:
                steps.errors.append(server_error(doc, getattr(resp, "status", None), getattr(resp, "code", 0)))
        try:
            yield from until(cluster, settled, limit=SETTLE_LIMIT)
            steps.settled = True
        except TimeoutError:
            steps.settled = False
        steps.open(tracer, 5)
        yield kubectl(cluster, "kubectl get pods -A").request("list", "pods", query={"limit": "500"})
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def _waiting_reason(pod: dict) -> str | None:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason")
        if reason:
            return reason
    return None


def outcome(cluster: Cluster, params: dict) -> str:
    steps = cluster.tracer.step_policy
    phases: dict[str, int] = {}
    problems: list[str] = []
    for kv in cluster.etcd.store.range("/registry/pods/", prefix=True):
        if kv.create_revision <= steps.start_revision:
            continue   # the cluster's own Pods (kube-system), there before the documents
        pod = json.loads(kv.value)
        phase = (pod.get("status") or {}).get("phase") or "Pending"
        phases[phase] = phases.get(phase, 0) + 1
        reason = _waiting_reason(pod)
        if reason and reason not in ("ContainerCreating", "PodInitializing"):
            problems.append(f"{pod['metadata']['name']}: {reason}")
        elif phase == "Pending" and not (pod.get("spec") or {}).get("nodeName"):
            problems.append(f"{pod['metadata']['name']}: unschedulable")
    total = len(steps.created) + len(steps.errors)
    out = f"{len(steps.created)} of {total} objects created"
    if phases:
        out += "; Pods: " + ", ".join(f"{n} {p}" for p, n in sorted(phases.items()))
    if problems:
        out += "; " + ", ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
    if steps.settled is False:
        out += f"; still changing after {SETTLE_LIMIT:g} s"
    if steps.errors:
        out += "; errors: " + " | ".join(steps.errors[:5]) + (f" | and {len(steps.errors) - 5} more" if len(steps.errors) > 5 else "")
    return out
