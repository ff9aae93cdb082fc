"""Scenario "scheduling": kube-scheduler's filtering and scoring made visible, one rule per act, on a cluster
of one control-plane node and four workers labelled with zones and a disk type. A nodeSelector; required,
then preferred node affinity; a taint with and without a toleration; a Pod too big for every node, Pending
with FailedScheduling until a bigger node joins; required pod anti-affinity spreading a Deployment one
replica per node; topologySpreadConstraints spreading another across zones."""
from __future__ import annotations

import json

from ..cluster import Cluster, NodeSpec
from ..kernel import Future
from ..topology import REGION, REGION_LABEL, ZONE_LABEL, zone_name
from .script import ScriptSteps, kubectl, objects, running_pods, until

ID = "scheduling"
PAUSE = 2.0   # virtual seconds of calm between the acts
HOSTNAME = "kubernetes.io/hostname"
TAINT = {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}
TAINTED = "worker-3"
BIG_NODE = "worker-5"
ANTI = "cache"     # the Deployment with required pod anti-affinity on kubernetes.io/hostname
SPREAD = "web"     # the Deployment with a topology spread constraint over zones

CATALOG = {
    "id": ID,
    "title": {"en": "Scheduling: filters and scores", "ko": "스케줄링: 필터와 점수"},
    "description": {
        "en": "One scheduling rule per act - nodeSelector, node affinity, taints and tolerations, resources, pod "
              "anti-affinity and topology spread - and, for each Pod, the scheduler's table of which nodes passed "
              "the filters and how the rest were scored.",
        "ko": "nodeSelector, 노드 어피니티, 테인트와 톨러레이션, 리소스, Pod 안티 어피니티, 토폴로지 분산 규칙을 하나씩 "
              "적용하며, Pod마다 스케줄러가 어떤 노드를 필터로 걸러 내고 남은 노드에 어떤 점수를 매겼는지 표로 봅니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "big_cpu", "type": "int", "default": 6, "min": 5, "max": 7,
         "label": {"en": "CPUs requested by the big Pod (workers have 4, the new node 8)",
                   "ko": "큰 Pod가 요청하는 CPU 수 (워커는 4개, 새 노드는 8개)"}},
        {"name": "anti_replicas", "type": "int", "default": 4, "min": 1, "max": 6,
         "label": {"en": "Replicas with pod anti-affinity (4 nodes can take one)",
                   "ko": "안티 어피니티 Deployment의 복제본 수 (받을 수 있는 노드는 4개)"}},
        {"name": "spread_replicas", "type": "int", "default": 6, "min": 1, "max": 9,
         "label": {"en": "Replicas spread across zones", "ko": "존에 분산할 복제본 수"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "nodeSelector: only nodes with the label", "ko": "nodeSelector: 레이블이 있는 노드만"},
         "narration": {
             "en": "The Pod asks for disktype=ssd, a label only worker-1 carries. In the Filter phase the NodeAffinity "
                   "plugin, which also handles nodeSelector, strikes out every other node with \"node(s) didn't match "
                   "Pod's node affinity/selector\"; the control-plane node was already out because of its taint. With "
                   "a single node left there is nothing to compare: worker-1 it is.",
             "ko": "이 Pod는 disktype=ssd 레이블을 요구하는데, 이 레이블은 worker-1에만 있습니다. 필터 단계에서 "
                   "nodeSelector도 함께 처리하는 NodeAffinity 플러그인이 나머지 노드를 \"node(s) didn't match Pod's node "
                   "affinity/selector\"라는 이유로 제외합니다. 컨트롤 플레인 노드는 테인트 때문에 이미 빠졌습니다. "
                   "남은 노드가 하나뿐이니 비교할 것도 없이 worker-1로 갑니다."}},
        {"n": 2,
         "title": {"en": "Required node affinity: a zone", "ko": "필수 노드 어피니티: 존 지정"},
         "narration": {
             "en": "Node affinity says the same kind of thing with more expressive rules. This Pod requires "
                   "topology.kubernetes.io/zone In [region-1b], so only worker-3 and worker-4 pass the filter. Between "
                   "those two the score plugins decide (free resources, images already on the node).",
             "ko": "노드 어피니티는 같은 종류의 조건을 더 풍부한 표현으로 씁니다. 이 Pod는 "
                   "topology.kubernetes.io/zone In [region-1b]를 반드시 요구하므로 worker-3과 worker-4만 필터를 "
                   "통과합니다. 둘 중 어디로 갈지는 점수 플러그인(남은 자원, 노드에 이미 있는 이미지 등)이 정합니다."}},
        {"n": 3,
         "title": {"en": "Preferred node affinity: a score, not a rule", "ko": "선호 노드 어피니티: 규칙이 아닌 점수"},
         "narration": {
             "en": "Now the ssd label is only preferred, with weight 80. Every worker passes the filters; in the Score "
                   "phase NodeAffinity gives the matching node the top normalised score of 100 and the others 0, "
                   "multiplied by the plugin's weight of 2. The scheduler adds up all plugins and picks the highest "
                   "total. Had worker-1 been full, the Pod would simply have run elsewhere.",
             "ko": "이번에는 ssd 레이블을 가중치 80으로 '선호'만 합니다. 모든 워커가 필터를 통과하고, 점수 단계에서 "
                   "NodeAffinity가 조건에 맞는 노드에 정규화 점수 100을, 나머지에 0을 주며 여기에 플러그인 가중치 2가 "
                   "곱해집니다. 스케줄러는 모든 플러그인 점수를 합해 가장 높은 노드를 고릅니다. worker-1이 꽉 차 "
                   "있었다면 이 Pod는 그냥 다른 곳에서 실행되었을 것입니다."}},
        {"n": 4,
         "title": {"en": "A taint keeps Pods away", "ko": "테인트는 Pod를 밀어낸다"},
         "narration": {
             "en": "kubectl taint fetches worker-3 and patches a taint onto it: dedicated=batch:NoSchedule. A Pod "
                   "without a matching toleration is now filtered out there by TaintToleration (\"node(s) had "
                   "untolerated taint {dedicated: batch}\"), so the next Pod lands on another worker. NoSchedule only "
                   "affects new placements: a Pod already running on worker-3 stays; NoExecute would evict it.",
             "ko": "kubectl taint가 worker-3을 조회한 뒤 dedicated=batch:NoSchedule 테인트를 패치합니다. 이제 맞는 "
                   "톨러레이션이 없는 Pod는 TaintToleration 플러그인이 그 노드에서 걸러 내므로(\"node(s) had untolerated "
                   "taint {dedicated: batch}\"), 다음 Pod는 다른 워커로 갑니다. NoSchedule은 새 배치에만 적용됩니다. "
                   "worker-3에서 이미 실행 중인 Pod는 그대로 남고, NoExecute였다면 쫓겨났을 것입니다."}},
        {"n": 5,
         "title": {"en": "A toleration lets a Pod in", "ko": "톨러레이션이 있으면 들어갈 수 있다"},
         "narration": {
             "en": "This Pod tolerates dedicated=batch:NoSchedule and selects workload=batch, a label of worker-3. "
                   "The toleration only lifts the ban - it does not attract the Pod - which is why dedicated nodes "
                   "pair a taint (keep the others out) with a label the intended Pods select (bring these in).",
             "ko": "이 Pod는 dedicated=batch:NoSchedule을 허용하는 톨러레이션을 갖고, worker-3의 레이블인 "
                   "workload=batch를 선택합니다. 톨러레이션은 금지를 풀어 줄 뿐 Pod를 끌어당기지는 않습니다. 그래서 "
                   "전용 노드는 테인트(다른 Pod는 들어오지 못하게)와 해당 Pod가 선택할 레이블(이 Pod는 이리로)을 "
                   "함께 씁니다."}},
        {"n": 6,
         "title": {"en": "Too big for every node: Pending", "ko": "어느 노드에도 너무 큼: Pending"},
         "narration": {
             "en": "A Pod requests more CPUs than any worker has. Every node fails a filter, so the scheduler runs "
                   "PostFilter: DefaultPreemption looks for lower-priority Pods to evict, finds none, and says so. "
                   "The Pod stays Pending with the condition PodScheduled=False, reason Unschedulable, and a "
                   "FailedScheduling event whose message counts the nodes per reason - the first thing to read in "
                   "kubectl describe pod. It waits in the queue of unschedulable Pods, not retried in a busy loop but when "
                   "the cluster changes in a way that could help (or after five minutes at the latest).",
             "ko": "어떤 워커보다도 많은 CPU를 요청하는 Pod입니다. 모든 노드가 필터에서 떨어지자 스케줄러는 "
                   "PostFilter를 실행합니다. DefaultPreemption이 내보낼 낮은 우선순위 Pod를 찾지만 없다고 답합니다. "
                   "Pod는 PodScheduled=False(이유 Unschedulable) 조건과 함께 Pending으로 남고, 이유별로 노드 수를 "
                   "세어 적은 FailedScheduling 이벤트가 기록됩니다. kubectl describe pod에서 가장 먼저 볼 부분입니다. "
                   "Pod는 스케줄 불가 큐에서 기다립니다. 쉬지 않고 재시도하는 것이 아니라, 도움이 될 만한 클러스터 "
                   "변화가 있을 때(늦어도 5분 뒤에) 다시 시도합니다."}},
        {"n": 7,
         "title": {"en": "A bigger node joins", "ko": "더 큰 노드가 합류"},
         "narration": {
             "en": "A new machine with 8 CPUs joins in zone region-1c; its kubelet registers the Node with the API "
                   "server. That Node/Add event is one the waiting Pod's failing plugin cares about, so the scheduling "
                   "queue moves it back to be tried again - now worker-5 passes NodeResourcesFit and the Pod is bound.",
             "ko": "CPU 8개짜리 새 머신이 region-1c 존에 합류하고, 그 kubelet이 API 서버에 Node를 등록합니다. 대기 중인 "
                   "Pod를 막았던 플러그인이 관심을 갖는 Node 추가 이벤트이므로, 스케줄링 큐가 Pod를 다시 시도하도록 "
                   "옮깁니다. 이번에는 worker-5가 NodeResourcesFit을 통과하고 Pod가 바인딩됩니다."}},
        {"n": 8,
         "title": {"en": "Pod anti-affinity: one replica per node", "ko": "Pod 안티 어피니티: 노드마다 하나"},
         "narration": {
             "en": "A Deployment whose Pods refuse to share a kubernetes.io/hostname with another Pod labelled "
                   "app=cache. Each new replica is filtered off the nodes that already run one (InterPodAffinity: "
                   "\"node(s) didn't match pod anti-affinity rules\"), so the replicas end up on different nodes. "
                   "Four workers accept them (worker-3's taint is not tolerated); a fifth replica would stay Pending.",
             "ko": "app=cache 레이블을 가진 다른 Pod와 같은 kubernetes.io/hostname을 공유하지 않겠다는 Deployment입니다. "
                   "새 복제본마다 이미 하나가 실행 중인 노드는 InterPodAffinity가 걸러 내므로(\"node(s) didn't match pod "
                   "anti-affinity rules\") 복제본은 서로 다른 노드에 놓입니다. 받아 줄 수 있는 워커는 넷이며(worker-3의 "
                   "테인트는 허용하지 않음), 다섯 번째 복제본은 Pending으로 남게 됩니다."}},
        {"n": 9,
         "title": {"en": "Topology spread across zones", "ko": "존에 걸친 토폴로지 분산"},
         "narration": {
             "en": "The last Deployment spreads by zone, not by node: maxSkew 1 on topology.kubernetes.io/zone with "
                   "whenUnsatisfiable DoNotSchedule. PodTopologySpread counts the matching Pods in each zone and "
                   "rejects any node whose zone would get more than one above the emptiest. So region-1c's single "
                   "node takes about as many replicas as the two nodes of region-1a together: losing a zone costs a "
                   "third of them, not more.",
             "ko": "마지막 Deployment는 노드가 아니라 존 단위로 퍼집니다. topology.kubernetes.io/zone에 maxSkew 1, "
                   "whenUnsatisfiable DoNotSchedule입니다. PodTopologySpread는 존마다 해당 Pod 수를 세어 가장 적은 존보다 "
                   "2개 이상 많아지게 만드는 노드를 거절합니다. 그래서 노드가 하나뿐인 region-1c도 노드 둘인 region-1a와 "
                   "거의 같은 수를 받습니다. 존 하나가 멈춰도 잃는 것은 3분의 1 정도뿐입니다."}},
    ],
    "questions": [
        {"en": "Which plugin removed worker-2 for the nodeSelector Pod, and in which phase: Filter or Score?",
         "ko": "nodeSelector Pod에서 worker-2를 제외한 플러그인은 무엇이며, 필터와 점수 중 어느 단계였나요?"},
        {"en": "Why did the Pod with the toleration still need a nodeSelector to land on worker-3?",
         "ko": "톨러레이션이 있는 Pod가 worker-3에 놓이려면 왜 nodeSelector까지 필요했나요?"},
        {"en": "Read the big Pod's FailedScheduling message: how many nodes failed for each reason, and why could preemption not help?",
         "ko": "큰 Pod의 FailedScheduling 메시지에서 이유별로 몇 개의 노드가 떨어졌나요? 선점(preemption)은 왜 도움이 되지 않았나요?"},
        {"en": "What is the difference between spreading with pod anti-affinity on the hostname and a topology spread constraint on the zone?",
         "ko": "호스트 이름 기준 Pod 안티 어피니티로 퍼뜨리는 것과 존 기준 토폴로지 분산 제약은 어떻게 다른가요?"},
    ],
}

# kind labels no zones; these workers carry the well-known labels a cloud provider would set.
_WORKERS = [
    ("worker-1", 0, {"disktype": "ssd"}),
    ("worker-2", 0, {}),
    ("worker-3", 1, {"workload": "batch"}),
    ("worker-4", 1, {}),
]


def _worker(name: str, i: int, zone: int, labels: dict, **kw) -> NodeSpec:
    return NodeSpec(name, "worker", f"172.18.0.{2 + i}", f"10.244.{i}.0/24",
                    labels={REGION_LABEL: REGION, **labels}, zone=zone_name(zone), **kw)


def topology():
    return [NodeSpec("control-plane", "control-plane", "172.18.0.2", "10.244.0.0/24")] + [
        _worker(name, i, zone, labels) for i, (name, zone, labels) in enumerate(_WORKERS, start=1)]


def big_node() -> NodeSpec:
    """The machine that joins in step 7: twice a worker's CPUs and memory, in a zone of its own."""
    return _worker(BIG_NODE, 5, 2, {}, cpu="8", memory="16263232Ki")


def pod(name: str, cpu: int | None = None, **spec) -> dict:
    """A Pod manifest as a student writes it in a YAML file for `kubectl create -f` (sent as is)."""
    container = {"name": "nginx", "image": "nginx"}
    if cpu:
        container["resources"] = {"requests": {"cpu": str(cpu)}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {**spec, "containers": [container]}}


def deployment(name: str, replicas: int, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {**spec, "containers": [{"name": "nginx", "image": "nginx"}]}}}}


def _zone_in(zone: str) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE_LABEL, "operator": "In", "values": [zone]}]}]}}}


def _prefer_ssd() -> dict:
    return {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 80, "preference": {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]}}]}}


def _one_per_node() -> dict:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": ANTI}}, "topologyKey": HOSTNAME}]}}


def _across_zones() -> list:
    return [{"maxSkew": 1, "topologyKey": ZONE_LABEL, "whenUnsatisfiable": "DoNotSchedule",
             "labelSelector": {"matchLabels": {"app": SPREAD}}}]


# The single Pods of acts 1-6: (step, name, manifest).
def acts(params: dict) -> list[tuple[int, str, dict]]:
    return [
        (1, "ssd-pod", pod("ssd-pod", nodeSelector={"disktype": "ssd"})),
        (2, "zone-b-pod", pod("zone-b-pod", affinity=_zone_in(zone_name(1)))),
        (3, "prefers-ssd", pod("prefers-ssd", affinity=_prefer_ssd())),
        (4, "plain-pod", pod("plain-pod")),
        (5, "batch-pod", pod("batch-pod", nodeSelector={"workload": "batch"},
                             tolerations=[{"key": TAINT["key"], "operator": "Equal", "value": TAINT["value"],
                                           "effect": TAINT["effect"]}])),
        (6, "huge-pod", pod("huge-pod", cpu=params["big_cpu"])),
    ]


def step_policy(params: dict) -> ScriptSteps:
    return ScriptSteps()


def _pod(cluster: Cluster, name: str) -> dict | None:
    kv = cluster.etcd.store.get(f"/registry/pods/default/{name}")
    return json.loads(kv.value) if kv else None


def unschedulable(p: dict | None) -> bool:
    """PodScheduled=False with reason Unschedulable, as the scheduler's status patch writes it."""
    return p is not None and any(c.get("type") == "PodScheduled" and c.get("status") == "False"
                                 and c.get("reason") == "Unschedulable" for c in (p.get("status") or {}).get("conditions") or [])


def eligible_for_anti(cluster: Cluster) -> int:
    """Nodes a cache replica can use: the workers without the batch taint (the big node included)."""
    return sum(1 for n in cluster.topology if n.role == "worker" and n.name != TAINTED)


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: ScriptSteps = tracer.step_policy

    def running(prefix: str) -> list[dict]:
        return running_pods(cluster, "default", prefix)

    def create(name: str, resource: str, body: dict):
        return kubectl(cluster, f"kubectl create -f {name}.yaml").create(resource, body, namespace="default")

    def script():
        yield 0.05
        for step, name, body in acts(params):
            steps.open(tracer, step)
            if step == 4:
                # kubectl taint (staging/src/k8s.io/kubectl/pkg/cmd/taint/taint.go): the builder GETs the Node,
                # then a strategic merge patch of the taints list computed from the old and new objects.
                k = kubectl(cluster, f"kubectl taint nodes {TAINTED} {TAINT['key']}={TAINT['value']}:{TAINT['effect']}")
                node = (yield k.get("nodes", TAINTED)).body
                taints = [*((node.get("spec") or {}).get("taints") or []), dict(TAINT)]
                yield k.patch("nodes", TAINTED, {"spec": {"taints": taints}}, patch_type="strategic")
                yield PAUSE / 2
            yield create(name, "pods", body)
            if name == "huge-pod":
                yield from until(cluster, lambda: unschedulable(_pod(cluster, "huge-pod")))
            else:
                yield from until(cluster, lambda name=name: len(running(name)) == 1)
            yield PAUSE
        steps.open(tracer, 7)
        cluster.add_node(big_node())
        yield from until(cluster, lambda: len(running("huge-pod")) == 1)
        yield PAUSE
        steps.open(tracer, 8)
        r = params["anti_replicas"]
        yield create(ANTI, "deployments", deployment(ANTI, r, affinity=_one_per_node()))
        fit = min(r, eligible_for_anti(cluster))
        yield from until(cluster, lambda: len(running(f"{ANTI}-")) == fit and sum(
            1 for p in objects(cluster, f"/registry/pods/default/{ANTI}-") if unschedulable(p)) == r - fit)
        yield PAUSE
        steps.open(tracer, 9)
        z = params["spread_replicas"]
        yield create(SPREAD, "deployments", deployment(SPREAD, z, topologySpreadConstraints=_across_zones()))
        yield from until(cluster, lambda: len(running(f"{SPREAD}-")) == z)
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def zones_of(cluster: Cluster, pods: list[dict]) -> dict[str, int]:
    zone = {n.name: n.zone for n in cluster.topology}
    out: dict[str, int] = {}
    for p in pods:
        z = zone.get(p["spec"].get("nodeName"), "")
        out[z] = out.get(z, 0) + 1
    return dict(sorted(out.items()))


def outcome(cluster: Cluster, params: dict) -> str:
    huge = _pod(cluster, "huge-pod") or {"spec": {}}
    cache = running_pods(cluster, "default", f"{ANTI}-")
    web = running_pods(cluster, "default", f"{SPREAD}-")
    per_zone = "/".join(str(n) for n in zones_of(cluster, web).values())
    return (f"huge-pod on {huge['spec'].get('nodeName') or 'no node'}; "
            f"{ANTI} {len(cache)}/{params['anti_replicas']} on {len({p['spec']['nodeName'] for p in cache})} nodes; "
            f"{SPREAD} {len(web)}/{params['spread_replicas']} Running, {per_zone} per zone")
