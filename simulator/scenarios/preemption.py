"""Scenario "preemption": two PriorityClasses; a low-priority Deployment fills both workers; a high-priority
Pod that fits nowhere makes kube-scheduler's PostFilter (DefaultPreemption) pick a victim, nominate its node
and delete it; the preemptor is bound there once the victim is gone, and the victim's ReplicaSet makes a
replacement that stays Pending."""
from __future__ import annotations

import json

from ..cluster import Cluster, default_topology
from ..kernel import Future
from .script import ScriptSteps, kubectl, objects, running_pods, until

ID = "preemption"
PAUSE = 2.0   # virtual seconds of calm between the acts
LOW, HIGH = ("low", 1000), ("high", 1000000)
BATCH = "batch"   # the low-priority Deployment
VIP = "vip"       # the high-priority Pod
LOW_CPU = 3       # per batch replica: one fits on a 4-CPU worker, two do not

CATALOG = {
    "id": ID,
    "title": {"en": "Priority and preemption", "ko": "우선순위와 선점(preemption)"},
    "description": {
        "en": "Low-priority Pods fill the workers; a high-priority Pod that fits nowhere makes the scheduler evict "
              "one of them, nominate its node, and bind the newcomer there once the victim is gone.",
        "ko": "낮은 우선순위 Pod가 워커를 가득 채운 상태에서, 들어갈 곳이 없는 높은 우선순위 Pod가 오면 스케줄러가 "
              "그중 하나를 내보내고 그 노드를 지명(nominate)한 뒤, 희생된 Pod가 사라지면 새 Pod를 그곳에 바인딩합니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "high_cpu", "type": "int", "default": 2, "min": 1, "max": 3,
         "label": {"en": "CPUs requested by the high-priority Pod", "ko": "높은 우선순위 Pod가 요청하는 CPU 수"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "Two PriorityClasses", "ko": "PriorityClass 두 개"},
         "narration": {
             "en": "kubectl creates the PriorityClasses low (1000) and high (1000000). A PriorityClass is a "
                   "cluster-wide name for a number; when a Pod names one, the Priority admission plugin copies the "
                   "number into the Pod's spec.priority. The scheduler orders its queue by that number, and only a "
                   "Pod of strictly higher priority may take another's place.",
             "ko": "kubectl이 PriorityClass low(1000)와 high(1000000)를 만듭니다. PriorityClass는 숫자에 붙인 "
                   "클러스터 전체의 이름입니다. Pod가 이 이름을 쓰면 Priority 어드미션 플러그인이 그 숫자를 Pod의 "
                   "spec.priority에 넣습니다. 스케줄러는 이 숫자로 큐의 순서를 정하고, 우선순위가 더 높은 Pod만 다른 "
                   "Pod의 자리를 빼앗을 수 있습니다."}},
        {"n": 2,
         "title": {"en": "Low-priority Pods fill the workers", "ko": "낮은 우선순위 Pod가 워커를 채움"},
         "narration": {
             "en": "A Deployment of two replicas with priorityClassName low, each requesting 3 of a worker's 4 CPUs. "
                   "Two cannot share a worker, so there is one on each. Together they leave less than one CPU free on "
                   "any node - the cluster is full for anything bigger.",
             "ko": "priorityClassName이 low인 복제본 2개짜리 Deployment로, 각 Pod가 워커의 CPU 4개 중 3개를 요청합니다. "
                   "둘이 한 워커에 들어갈 수 없으므로 워커마다 하나씩 놓입니다. 이제 어느 노드에도 CPU가 1개 미만만 "
                   "남아, 그보다 큰 Pod는 들어갈 곳이 없습니다."}},
        {"n": 3,
         "title": {"en": "A high-priority Pod fits nowhere", "ko": "높은 우선순위 Pod가 들어갈 곳이 없음"},
         "narration": {
             "en": "The Pod vip, priorityClassName high, requests more CPU than any node has free. The filters reject "
                   "every node: the control plane for its taint, both workers with Insufficient cpu. Before giving up, "
                   "the scheduler runs its PostFilter plugins.",
             "ko": "priorityClassName이 high인 Pod vip는 어느 노드의 남은 CPU보다 많이 요청합니다. 필터가 모든 노드를 "
                   "거절합니다. 컨트롤 플레인은 테인트 때문에, 두 워커는 Insufficient cpu 때문입니다. 포기하기 전에 "
                   "스케줄러는 PostFilter 플러그인을 실행합니다."}},
        {"n": 4,
         "title": {"en": "DefaultPreemption picks a victim", "ko": "DefaultPreemption이 희생 Pod를 고름"},
         "narration": {
             "en": "DefaultPreemption asks, node by node: if the lower-priority Pods here were gone, would vip fit? "
                   "On both workers, yes, by removing one batch Pod. Between candidates it prefers, in order: the fewest "
                   "PodDisruptionBudget violations, the lowest-priority victims, the fewest victims, and the victims "
                   "started most recently. It marks "
                   "the victim with the DisruptionTarget condition, deletes it (with its grace period), records a "
                   "Preempted event, and writes the chosen node into vip's status.nominatedNodeName. The ReplicaSet "
                   "sees its Pod terminating and at once creates a replacement. vip itself is not bound yet: the "
                   "space is only promised while the victim shuts down.",
             "ko": "DefaultPreemption은 노드마다 묻습니다. 여기서 우선순위가 낮은 Pod가 없어지면 vip가 들어갈까? 두 "
                   "워커 모두 batch Pod 하나만 빼면 됩니다. 후보가 여럿이면 PodDisruptionBudget 위반이 적은 노드, 희생 Pod의 "
                   "우선순위가 낮은 노드, 희생 수가 적은 노드, 희생 Pod가 가장 최근에 시작된 노드 순으로 고릅니다. 희생 Pod에 "
                   "DisruptionTarget 조건을 붙이고 유예 시간을 주어 삭제하며, Preempted 이벤트를 남기고, 고른 노드를 "
                   "vip의 status.nominatedNodeName에 적습니다. ReplicaSet은 자기 Pod가 종료 중인 것을 보고 곧바로 대체 "
                   "Pod를 만듭니다. vip는 아직 바인딩되지 않았습니다. 희생 Pod가 내려가는 동안 자리를 약속받았을 "
                   "뿐입니다."}},
        {"n": 5,
         "title": {"en": "The victim is gone; vip is bound", "ko": "희생 Pod가 사라지고 vip가 바인딩됨"},
         "narration": {
             "en": "The kubelet stops the victim's container and deletes the Pod for good. That deletion wakes the "
                   "Pods waiting in the scheduling queue. vip, the highest priority, goes first: the nominated node now "
                   "has room, so it is bound there and its kubelet starts it.",
             "ko": "kubelet이 희생 Pod의 컨테이너를 멈추고 Pod를 완전히 삭제합니다. 이 삭제가 스케줄링 큐에서 "
                   "기다리던 Pod들을 깨웁니다. 우선순위가 가장 높은 vip가 먼저 나섭니다. 지명된 노드에 이제 자리가 "
                   "있으므로 그곳에 바인딩되고, 그 노드의 kubelet이 vip를 시작합니다."}},
        {"n": 6,
         "title": {"en": "The replacement waits", "ko": "대체 Pod는 기다린다"},
         "narration": {
             "en": "kubectl get pods -o wide shows the result, with its NODE and NOMINATED NODE columns: vip Running on "
                   "the node it was nominated for, one batch Pod still running "
                   "on the other worker, and the replacement Pending. It has the same low priority as the Pod it "
                   "replaces, so it cannot preempt anyone: its FailedScheduling message ends with \"No preemption "
                   "victims found for incoming pod\". It will run when room appears - another node, or vip leaving.",
             "ko": "kubectl get pods -o wide로 NODE와 NOMINATED NODE 열까지 함께 결과를 봅니다. vip는 지명된 노드에서 "
                   "Running, batch Pod 하나는 다른 워커에서 "
                   "계속 실행 중이고, 대체 Pod는 Pending입니다. 대체 Pod는 원래 Pod와 같은 낮은 우선순위라 누구도 "
                   "선점할 수 없어서, FailedScheduling 메시지가 \"No preemption victims found for incoming pod\"로 "
                   "끝납니다. 새 노드가 생기거나 vip가 떠나 자리가 나면 그때 실행됩니다."}},
    ],
    "questions": [
        {"en": "Which node was written into vip's nominatedNodeName, and why was vip not bound at that moment?",
         "ko": "vip의 nominatedNodeName에는 어느 노드가 적혔으며, 그 순간 바로 바인딩되지 않은 이유는 무엇인가요?"},
        {"en": "Why could the replacement batch Pod not preempt vip in turn?",
         "ko": "대체된 batch Pod는 왜 거꾸로 vip를 선점할 수 없었나요?"},
        {"en": "What would happen to vip with preemptionPolicy: Never?",
         "ko": "vip에 preemptionPolicy: Never를 설정했다면 어떻게 되었을까요?"},
    ],
}


def topology():
    return default_topology(workers=2)


def priority_class(name: str, value: int, description: str) -> dict:
    """What `kubectl create priorityclass <name> --value=<v> --description=<d>` sends
    (staging/src/k8s.io/kubectl/pkg/cmd/create/create_priorityclass.go: --preemption-policy defaults to
    PreemptLowerPriority; globalDefault false is omitted)."""
    return {"kind": "PriorityClass", "apiVersion": "scheduling.k8s.io/v1",
            "metadata": {"name": name, "creationTimestamp": None},
            "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority"}


def batch_deployment() -> dict:
    """batch.yaml, sent as is by `kubectl create -f batch.yaml`."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": BATCH},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": BATCH}},
                     "template": {"metadata": {"labels": {"app": BATCH}},
                                  "spec": {"priorityClassName": LOW[0],
                                           "containers": [{"name": "nginx", "image": "nginx",
                                                           "resources": {"requests": {"cpu": str(LOW_CPU)}}}]}}}}


def vip_pod(cpu: int) -> dict:
    """vip.yaml, sent as is by `kubectl create -f vip.yaml`."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": VIP, "labels": {"app": VIP}},
            "spec": {"priorityClassName": HIGH[0],
                     "containers": [{"name": "nginx", "image": "nginx", "resources": {"requests": {"cpu": str(cpu)}}}]}}


class PreemptionSteps(ScriptSteps):
    """The script opens steps 1-3 and 6; the scheduler's nomination opens 4 (and names the victims), the
    victim's removal from etcd opens 5."""

    def __init__(self):
        super().__init__()
        self.victim_keys: set[str] = set()

    def __call__(self, type: str, data: dict, to: dict | None) -> int | None:
        if type == "scheduler.postfilter" and data.get("nominatedNodeName") and self.phase >= 3:
            self.victim_keys.update(f"/registry/pods/default/{v}" for v in data.get("victims") or [])
            return 4
        if type == "etcd.delete" and data.get("key") in self.victim_keys:
            return 5
        return None


def step_policy(params: dict) -> PreemptionSteps:
    return PreemptionSteps()


def _pod(cluster: Cluster, name: str) -> dict | None:
    kv = cluster.etcd.store.get(f"/registry/pods/default/{name}")
    return json.loads(kv.value) if kv else None


def pending(cluster: Cluster) -> list[dict]:
    """batch Pods the scheduler has marked PodScheduled=False (reason Unschedulable)."""
    return [p for p in objects(cluster, f"/registry/pods/default/{BATCH}-")
            if not p["spec"].get("nodeName") and any(
                c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
                for c in (p.get("status") or {}).get("conditions") or [])]


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: PreemptionSteps = tracer.step_policy

    def script():
        yield 0.05
        steps.open(tracer, 1)
        for (name, value), what in ((LOW, "batch work that may be preempted"), (HIGH, "work that must run")):
            yield kubectl(cluster, f'kubectl create priorityclass {name} --value={value} --description="{what}"').create(
                "priorityclasses", priority_class(name, value, what))
        yield PAUSE
        steps.open(tracer, 2)
        yield kubectl(cluster, f"kubectl create -f {BATCH}.yaml").create("deployments", batch_deployment(), namespace="default")
        yield from until(cluster, lambda: len(running_pods(cluster, "default", f"{BATCH}-")) == 2)
        yield PAUSE
        steps.open(tracer, 3)
        yield kubectl(cluster, f"kubectl create -f {VIP}.yaml").create("pods", vip_pod(params["high_cpu"]), namespace="default")
        # Steps 4 and 5 open as the scheduler and the kubelet act; the script waits for the outcome.
        yield from until(cluster, lambda: len(running_pods(cluster, "default", VIP)) == 1 and len(pending(cluster)) == 1)
        yield PAUSE
        steps.open(tracer, 6)
        yield kubectl(cluster, "kubectl get pods -o wide").list("pods", "default")
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    vip = _pod(cluster, VIP) or {"spec": {}, "status": {}}
    running = len(running_pods(cluster, "default", f"{BATCH}-"))
    return (f"{VIP} on {vip['spec'].get('nodeName') or 'no node'} (nominated "
            f"{(vip.get('status') or {}).get('nominatedNodeName') or 'none'}); "
            f"{BATCH} {running} Running, {len(pending(cluster))} Pending")
