"""Scenario "scale": a whole cluster at the sizes Kubernetes supports (kubernetes.io/docs/setup/best-practices/
cluster-large: at most 5,000 nodes, 150,000 Pods, 110 Pods per node). The control plane is hosted off the
nodes, as in managed and other large clusters; `nodes` nodes join in waves (each kubelet registers its Node
and creates its Lease), Deployments of `pods` replicas in all are created, the ReplicaSet controller creates
the Pods in slow-start batches, the scheduler places them looking at only part of the nodes
(percentageOfNodesToScore), the kubelets start them, and the cluster's heartbeat goes on.

The run is large, so the tracer works at its summary level (Cluster.summarize): the first DETAIL_PODS Pods
in full detail, everything else counted per second. While the nodes join, etcd writes are exempt from the
budget so that every Node object reaches the viewers (the cluster map is drawn from them); the exemption
ends before the first Pod exists."""
from __future__ import annotations

import json

from ..cluster import Cluster
from ..kernel import Future
from ..scheduler.scheduler import PACES, num_feasible_nodes_to_find
from ..topology import large_topology
from .script import ScriptSteps, kubectl, until

ID = "scale"
MAX_PODS_PER_NODE = 110      # kubelet --max-pods default (KubeletConfiguration maxPods)
PER_DEPLOYMENT = 500         # replicas per Deployment: the ReplicaSet controller's BurstReplicas
                             # (pkg/controller/replicaset/replica_set.go), so each one is created in one sync
IMAGE = "registry.k8s.io/pause:3.10"  # preloaded on every node: no pulls, the cost is the control plane's
DETAIL_PODS = 50             # Pods the tracer keeps in full detail (Cluster.summarize's default)
JOIN_WAVE = 500              # nodes per wave: cloud providers bring machines up in batches
JOIN_EVERY = 0.5             # virtual seconds between waves
HEARTBEAT = 10.0             # the kubelet renews its node Lease every 10 s (0.25 x nodeLeaseDurationSeconds 40)
RUN_LIMIT = 3000.0           # virtual seconds for all Pods to run (150,000 Pods take about 600)
NS = "default"

CATALOG = {
    "id": ID,
    "title": {"en": "A cluster at full scale", "ko": "최대 규모의 클러스터"},
    "description": {
        "en": "Up to 5,000 nodes and 150,000 Pods, the largest cluster Kubernetes supports. Nodes join, "
              "Deployments ask for thousands of Pods, and the controllers and the scheduler keep up by working in "
              "batches and by not looking at every node for every Pod. The view switches to summaries: a few Pods "
              "in full detail, the rest counted.",
        "ko": "쿠버네티스가 지원하는 가장 큰 클러스터인 노드 5,000개, Pod 150,000개까지 다룹니다. 노드들이 합류하고, "
              "Deployment가 수천 개의 Pod를 요청하면, 컨트롤러와 스케줄러는 일을 묶음으로 처리하고 Pod마다 모든 "
              "노드를 살펴보지는 않는 방식으로 이를 감당합니다. 화면은 요약 모드로 바뀌어 몇몇 Pod만 자세히 "
              "보여 주고 나머지는 개수로 셉니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "nodes", "type": "int", "default": 100, "min": 3, "max": 5000,
         "label": {"en": "Nodes", "ko": "노드 수"}},
        {"name": "pods", "type": "int", "default": 300, "min": 1, "max": 150000,
         "label": {"en": "Pods (at most 110 per node)", "ko": "Pod 수 (노드당 최대 110개)"}},
        {"name": "zones", "type": "int", "default": 3, "min": 1, "max": 5,
         "label": {"en": "Availability zones", "ko": "가용 영역 수"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "The nodes join", "ko": "노드들이 합류"},
         "narration": {
             "en": "The control plane already runs on machines of its own, as in managed and other large clusters. "
                   "Now the worker machines boot, a few hundred at a time. Each kubelet registers its Node with "
                   "the API server (POST /api/v1/nodes), giving its capacity - here at most 110 Pods - and its "
                   "zone label, then creates a Lease in kube-node-lease. From now on that small Lease, renewed "
                   "every 10 seconds, is the node's heartbeat: rewriting the whole Node object that often would "
                   "cost etcd far more with thousands of nodes.",
             "ko": "컨트롤 플레인은 관리형 클러스터나 다른 대규모 클러스터처럼 별도의 머신에서 이미 실행 중입니다. "
                   "이제 워커 머신들이 수백 대씩 부팅됩니다. 각 kubelet은 API 서버에 자기 Node를 등록하며"
                   "(POST /api/v1/nodes) 수용량(여기서는 Pod 최대 110개)과 영역(zone) 레이블을 알립니다. 그다음 "
                   "kube-node-lease 네임스페이스에 Lease를 만듭니다. 이후로는 10초마다 갱신되는 이 작은 Lease가 "
                   "노드의 심장 박동입니다. 노드가 수천 개일 때 Node 객체 전체를 그만큼 자주 다시 쓰면 etcd의 부담이 "
                   "훨씬 커지기 때문입니다."}},
        {"n": 2,
         "title": {"en": "kubectl creates the Deployments", "ko": "kubectl이 Deployment 생성"},
         "narration": {
             "en": "kubectl asks for the Pods as Deployments of the pause image (already on every node, so nothing "
                   "is pulled). More than 500 Pods are split over several Deployments of at most 500, as load "
                   "tests do: a ReplicaSet creates at most 500 Pods per sync, and one ReplicaSet of 150,000 would "
                   "make every sync of its controller walk through all of them.",
             "ko": "kubectl이 pause 이미지로 된 Deployment로 Pod를 요청합니다(모든 노드에 이미 있어 내려받을 것이 "
                   "없습니다). Pod가 500개를 넘으면 부하 테스트에서 하듯 최대 500개짜리 Deployment 여러 개로 나눕니다. "
                   "ReplicaSet은 한 번의 동기화에서 Pod를 최대 500개까지만 만들고, 150,000개짜리 ReplicaSet 하나는 "
                   "컨트롤러가 동기화할 때마다 그 Pod를 전부 훑어야 하기 때문입니다."}},
        {"n": 3,
         "title": {"en": "The Deployment controller makes ReplicaSets", "ko": "Deployment 컨트롤러가 ReplicaSet 생성"},
         "narration": {
             "en": "For each Deployment the Deployment controller creates a ReplicaSet with the replica count. "
                   "This is the same reconcile loop as for three Pods; only the numbers are bigger.",
             "ko": "Deployment 컨트롤러가 Deployment마다 복제본 수를 담은 ReplicaSet을 만듭니다. Pod가 세 개일 때와 "
                   "똑같은 조정 루프이며, 숫자만 커졌을 뿐입니다."}},
        {"n": 4,
         "title": {"en": "Pods in slow-start batches", "ko": "슬로 스타트 묶음으로 Pod 생성"},
         "narration": {
             "en": "The ReplicaSet controller does not fire hundreds of creations at once. It sends 1 Pod, then 2, "
                   "then 4, 8, 16 ... each batch in parallel, doubling only when the whole previous batch succeeded "
                   "(slowStartBatch in pkg/controller/controller_utils.go). If something is wrong - a quota, an "
                   "admission webhook that refuses - it finds out after one failed request, not after 500.",
             "ko": "ReplicaSet 컨트롤러는 수백 개의 생성 요청을 한꺼번에 보내지 않습니다. Pod 1개, 다음엔 2개, "
                   "이어서 4, 8, 16개... 를 각 묶음 안에서는 동시에 보내고, 앞 묶음이 모두 성공했을 때만 크기를 두 "
                   "배로 늘립니다(pkg/controller/controller_utils.go의 slowStartBatch). 쿼터 초과나 요청을 거절하는 "
                   "어드미션 웹훅 같은 문제가 있으면 500번이 아니라 한 번의 실패로 알아챕니다."}},
        {"n": 5,
         "title": {"en": "The scheduler looks at only part of the nodes", "ko": "스케줄러는 노드 일부만 살펴봄"},
         "narration": {
             "en": "Checking every node for every Pod would cost 5,000 checks per Pod. kube-scheduler stops searching "
                   "once it has found enough feasible nodes (numFeasibleNodesToFind in pkg/scheduler/schedule_one.go): "
                   "under 100 nodes it checks them all; otherwise the share is 50% minus one point per 125 nodes, "
                   "at least 5%, and never fewer than 100 nodes. 1,000 nodes: 42%, 420 nodes; 5,000 nodes: 10%, "
                   "500 nodes. The next Pod's search starts where this one's stopped, so every node gets its turn, "
                   "and the default topology spreading scores keep the Pods spread over zones and nodes.",
             "ko": "Pod마다 모든 노드를 검사하면 Pod 하나에 5,000번을 검사해야 합니다. kube-scheduler는 조건에 맞는 "
                   "노드를 충분히 찾으면 검색을 멈춥니다(pkg/scheduler/schedule_one.go의 numFeasibleNodesToFind). "
                   "노드가 100개 미만이면 전부 검사하고, 그 이상이면 비율은 50%에서 노드 125개마다 1%씩 뺀 값이되 최소 "
                   "5%이며, 노드 수로는 최소 100개입니다. 노드 1,000개라면 42%인 420개, 5,000개라면 10%인 500개입니다. "
                   "다음 Pod는 이전 Pod가 멈춘 곳에서 검색을 시작하므로 모든 노드에 차례가 돌아가고, 기본 토폴로지 "
                   "분산 점수가 Pod를 영역과 노드에 고르게 퍼뜨립니다."}},
        {"n": 6,
         "title": {"en": "The kubelets start the Pods", "ko": "kubelet이 Pod 시작"},
         "narration": {
             "en": "Each node's kubelet sees the Pods bound to it, creates their sandboxes and containers and reports "
                   "them Running. Thousands of kubelets work in parallel, so this part does not get slower as the "
                   "cluster grows; the shared parts - the API server, etcd, the scheduler - are what must keep up. "
                   "No node takes more than 110 Pods: the scheduler's NodeResourcesFit filter counts Pods as a "
                   "resource and rejects a full node with \"Too many pods\".",
             "ko": "각 노드의 kubelet이 자기에게 배정된 Pod를 보고 샌드박스와 컨테이너를 만든 뒤 Running으로 "
                   "보고합니다. 수천 개의 kubelet이 동시에 일하므로 이 부분은 클러스터가 커져도 느려지지 않습니다. "
                   "따라잡아야 하는 것은 API 서버, etcd, 스케줄러처럼 모두가 함께 쓰는 부분입니다. 어떤 노드도 "
                   "Pod를 110개 넘게 받지 않습니다. 스케줄러의 NodeResourcesFit 필터가 Pod 수도 자원으로 세어, 꽉 찬 "
                   "노드는 \"Too many pods\"로 제외하기 때문입니다."}},
        {"n": 7,
         "title": {"en": "Every Pod Running; the heartbeat goes on", "ko": "모든 Pod 실행, 심장 박동은 계속"},
         "narration": {
             "en": "All Pods run and the controllers go quiet. The cluster is not silent, though: every node still "
                   "renews its Lease every 10 seconds - with 5,000 nodes, 500 small writes a second to etcd just to "
                   "say \"still here\". The trace leaves these routine renewals out (they would drown everything "
                   "else); the run's outcome tells how many etcd writes these last 10 seconds made. This steady load "
                   "is one reason large clusters give etcd fast disks and machines of its own.",
             "ko": "모든 Pod가 실행되고 컨트롤러들은 조용해집니다. 그래도 클러스터가 완전히 조용하지는 않습니다. "
                   "모든 노드가 여전히 10초마다 Lease를 갱신합니다. 노드가 5,000개라면 '아직 살아 있다'고 알리는 것만으로 "
                   "etcd에 초당 500번의 작은 쓰기가 생깁니다. 이런 일상적인 갱신은 다른 모든 것을 덮어 버리므로 "
                   "트레이스에서는 빼고, 마지막 10초 동안 etcd에 몇 번의 쓰기가 있었는지는 실행 결과에 적습니다. 큰 "
                   "클러스터가 etcd에 빠른 디스크와 전용 머신을 주는 이유 중 하나가 이 꾸준한 부하입니다."}},
    ],
    "questions": [
        {"en": "With 2,000 nodes, how many nodes does the scheduler look for before it stops searching, and why not all of them?",
         "ko": "노드가 2,000개일 때 스케줄러는 노드를 몇 개 찾으면 검색을 멈추며, 왜 전부 보지 않을까요?"},
        {"en": "Why does the ReplicaSet controller create Pods in batches of 1, 2, 4, 8 ... instead of all at once?",
         "ko": "ReplicaSet 컨트롤러는 왜 Pod를 한꺼번에 만들지 않고 1, 2, 4, 8... 개씩 묶어서 만들까요?"},
        {"en": "What stops the scheduler from putting a 111th Pod on a node?",
         "ko": "스케줄러가 한 노드에 111번째 Pod를 넣지 못하게 막는 것은 무엇인가요?"},
        {"en": "Why do kubelets renew a small Lease every 10 seconds instead of rewriting their Node object?",
         "ko": "kubelet은 왜 Node 객체를 다시 쓰는 대신 10초마다 작은 Lease를 갱신할까요?"},
    ],
}


def check_params(params: dict) -> tuple[str, str] | None:
    """The bound no single parameter can express: at most 110 Pods per node (the kubelet's maxPods)."""
    nodes, pods = params.get("nodes"), params.get("pods")
    if isinstance(nodes, int) and isinstance(pods, int) and pods > MAX_PODS_PER_NODE * nodes:
        return ("params.pods", f"must be at most {MAX_PODS_PER_NODE} x nodes ({MAX_PODS_PER_NODE * nodes} for "
                               f"{nodes} nodes): a node runs at most {MAX_PODS_PER_NODE} Pods")
    return None


def topology():
    # No node at first: the control plane is hosted off the nodes (Cluster's hosted_control_plane), and
    # every node joins in step 1.
    return []


def deployments(pods: int) -> list[tuple[str, int]]:
    """(name, replicas): one Deployment per PER_DEPLOYMENT Pods, the last one taking the remainder."""
    n = -(-pods // PER_DEPLOYMENT)
    return [(f"scale-{i + 1}", min(PER_DEPLOYMENT, pods - i * PER_DEPLOYMENT)) for i in range(n)]


def manifest(name: str, replicas: int) -> dict:
    """What `kubectl create deployment <name> --image=registry.k8s.io/pause:3.10 --replicas=<n>` sends."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "pause", "image": IMAGE, "resources": {}}]}},
                     "strategy": {}},
            "status": {}}


def reactions(phase: int, type: str, data: dict) -> int | None:
    """The script opens 1, 2 and 7; the first answers of the components open 3 to 6 (at the summary level
    they are seen through the detailed Pods, and the first ReplicaSet write is within the budget)."""
    if phase < 2:
        return None
    if type == "etcd.put":
        key = data.get("key", "")
        if key.startswith(f"/registry/replicasets/{NS}/") and data.get("version") == 1:
            return 3
        if key.startswith(f"/registry/pods/{NS}/") and data.get("version") == 1:
            return 4
        return None
    if type == "controller.reconcile" and data.get("controller") == "deployment" \
            and str(data.get("action", "")).startswith("created ReplicaSet"):
        return 3
    if type in ("scheduler.queue", "scheduler.filter", "scheduler.bind"):
        return 5
    if type == "kubelet.pod.sync":
        return 6
    return None


class ScaleSteps(ScriptSteps):
    """The step policy, also holding what the run measured for its outcome."""
    heartbeat_writes: int | None = None   # etcd writes during step 7


def step_policy(params: dict) -> ScaleSteps:
    return ScaleSteps(reactions)


def _count(cluster: Cluster, prefix: str) -> int:
    return len(cluster.etcd.store.range(prefix, prefix=True))


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: ScaleSteps = tracer.step_policy
    nodes, pods, zones = params["nodes"], params["pods"], params["zones"]
    # The scheduler at the pace of a real kube-scheduler (milliseconds per Pod), not the classroom's
    # slowed-down one: 150,000 Pods at ~0.25 s each would take ten hours of virtual time.
    for s in cluster.schedulers:
        s.pace = PACES["realistic"]
    # Summary level; while the nodes join, etcd writes (Node objects, their Leases) are all emitted.
    cluster.summarize(detail_pods=DETAIL_PODS)
    tracer.summarize(detail_pods=DETAIL_PODS, priority=("etcd.put",))
    specs = large_topology(nodes + 1, zones=zones)[1:]   # worker-1 ... worker-<nodes>, round-robin over zones
    target = min(pods, MAX_PODS_PER_NODE * nodes)

    def running() -> int:
        return tracer.pod_phases().get("Running", 0)

    def script():
        yield 0.05
        steps.open(tracer, 1)
        for i in range(0, nodes, JOIN_WAVE):
            for spec in specs[i:i + JOIN_WAVE]:
                cluster.add_node(spec)
            yield JOIN_EVERY
        yield from until(cluster, lambda: _count(cluster, "/registry/minions/") >= nodes
                         and _count(cluster, "/registry/leases/kube-node-lease/") >= nodes, every=0.5, limit=120)
        yield 1.0
        # Back to the ordinary budget before any Pod exists (the Pods' detail is decided by first sight).
        tracer.flush()
        tracer.summarize(detail_pods=DETAIL_PODS)
        steps.open(tracer, 2)
        for name, replicas in deployments(pods):   # one command after the other, as a shell loop runs them
            yield kubectl(cluster, f"kubectl create deployment {name} --image={IMAGE} --replicas={replicas}").create(
                "deployments", manifest(name, replicas), namespace=NS)
        yield from until(cluster, lambda: running() >= target, every=0.5, limit=RUN_LIMIT)
        yield 1.0
        steps.open(tracer, 7)
        first = cluster.etcd.store.revision
        yield HEARTBEAT   # one round of Lease renewals from every node
        steps.heartbeat_writes = cluster.etcd.store.revision - first
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    per_node: dict[str, int] = {}
    running = 0
    for kv in cluster.etcd.store.range(f"/registry/pods/{NS}/", prefix=True):
        p = json.loads(kv.value)
        node = p.get("spec", {}).get("nodeName")
        if node:
            per_node[node] = per_node.get(node, 0) + 1
        running += (p.get("status") or {}).get("phase") == "Running"
    nodes = _count(cluster, "/registry/minions/")
    busiest = max(per_node.values(), default=0)
    writes = getattr(cluster.tracer.step_policy, "heartbeat_writes", None)
    heartbeat = f"; {writes} etcd writes in the last {HEARTBEAT:g} s, nearly all Lease renewals" if writes is not None else ""
    return (f"{running}/{params['pods']} Pods Running on {len(per_node)} of {nodes} nodes (at most {busiest} per "
            f"node); the scheduler searched {num_feasible_nodes_to_find(nodes)} of {nodes} nodes per Pod{heartbeat}")
