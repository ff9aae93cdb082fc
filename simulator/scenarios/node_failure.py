"""Scenario "node-failure": a Deployment spread over three workers; the kubelet of one worker stops (the
node goes silent); the node lifecycle controller marks it Unknown after the grace period and taints it
unreachable; the Pods' toleration runs out, the taint-eviction controller deletes them and the ReplicaSet
controller's replacements start on the healthy workers; the node comes back and loses its taints.

The timings are v1.31's defaults, modelled in simulator/controllers/nodelifecycle.py:
--node-monitor-period 5 s, --node-monitor-grace-period 40 s (kubernetes/kubernetes#126287 raised it to
50 s in v1.32), the kubelet's node Lease renewed every 10 s, and the 300 s tolerations the
DefaultTolerationSeconds admission plugin adds (plugin/pkg/admission/defaulttolerationseconds)."""
from __future__ import annotations

from ..cluster import Cluster, default_topology
from ..controller_manager import is_controller_user
from ..kernel import Future
from .script import ScriptSteps, kubectl, objects, running_pods, until

ID = "node-failure"
NAME = "web"
IMAGE = "nginx"
WORKERS = 3
PAUSE = 2.0   # virtual seconds of calm between the acts
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION = 300   # --default-unreachable-toleration-seconds

CATALOG = {
    "id": ID,
    "title": {"en": "A worker node fails", "ko": "워커 노드 장애"},
    "description": {
        "en": "A worker stops heartbeating. Follow the node lifecycle controller as it marks the node Unknown "
              "and taints it unreachable, wait out the Pods' toleration, and watch the evicted Pods' "
              "replacements start on the healthy workers.",
        "ko": "워커 하나가 하트비트를 멈춥니다. 노드 라이프사이클 컨트롤러가 노드를 Unknown으로 표시하고 "
              "unreachable 테인트를 붙이는 과정, Pod의 톨러레이션 시간이 다하기를 기다리는 과정, 그리고 축출된 "
              "Pod의 대체 Pod가 정상 워커에서 시작되는 과정을 따라갑니다.",
    },
    # On a real cluster (dashboard/realcluster) the node fails by `docker pause` of its kind container.
    "backends": ["sim", "api"],
    "api_pauses_node": True,
    "params": [
        {"name": "replicas", "type": "int", "default": 3, "min": 2, "max": 6,
         "label": {"en": "Replicas", "ko": "복제본 수"}},
        {"name": "toleration_seconds", "type": "int", "default": DEFAULT_TOLERATION, "min": 0, "max": 600,
         "label": {"en": "Seconds the Pods tolerate an unreachable node (300 is the default)",
                   "ko": "Pod가 연결이 끊긴 노드를 견디는 시간(초, 기본값 300)"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "A Deployment spread over the workers", "ko": "워커들에 흩어진 Deployment"},
         "narration": {
             "en": "kubectl creates a Deployment; the ReplicaSet controller creates its Pods and the scheduler "
                   "spreads them over the three workers. On the way into the API server, the "
                   "DefaultTolerationSeconds admission plugin quietly gives every Pod two tolerations: it will put "
                   "up with a node that is not-ready or unreachable for 300 seconds. That number sets the pace "
                   "of everything that follows.",
             "ko": "kubectl이 Deployment를 만들면 ReplicaSet 컨트롤러가 Pod를 만들고, 스케줄러가 이를 세 워커에 "
                   "나누어 배치합니다. Pod가 API 서버를 통과할 때 DefaultTolerationSeconds 어드미션 플러그인이 "
                   "모든 Pod에 톨러레이션 두 개를 조용히 붙입니다. 노드가 not-ready이거나 unreachable이어도 "
                   "300초 동안은 참고 기다린다는 약속입니다. 이 숫자가 뒤에 이어질 모든 일의 속도를 정합니다."}},
        {"n": 2,
         "title": {"en": "A worker goes silent", "ko": "워커 하나가 연락을 끊음"},
         "narration": {
             "en": "The kubelet on the worker running most of our Pods stops, as if the machine lost power or its "
                   "network. A kubelet shows it is alive by renewing its Lease in kube-node-lease every 10 seconds; "
                   "those renewals now stop, like a floor manager who no longer calls the building's front desk. "
                   "The control plane cannot tell a dead machine from a cut cable, so it does not react at once: "
                   "the node lifecycle controller looks every 5 seconds and allows a silent node 40 seconds "
                   "(--node-monitor-grace-period in v1.31; v1.32 raised it to 50).",
             "ko": "우리 Pod가 가장 많이 떠 있는 워커의 kubelet이 멈춥니다. 전원이 나갔거나 네트워크가 끊긴 "
                   "상황입니다. kubelet은 10초마다 kube-node-lease의 Lease를 갱신해 살아 있음을 알리는데, 이 갱신이 "
                   "끊깁니다. 층 관리인이 관리사무소에 걸던 정기 연락을 멈춘 셈입니다. 컨트롤 플레인은 머신이 죽은 "
                   "것인지 선만 끊긴 것인지 알 수 없으므로 바로 움직이지 않습니다. 노드 라이프사이클 컨트롤러는 5초마다 "
                   "살피며, 조용해진 노드에 40초를 줍니다(v1.31의 --node-monitor-grace-period, v1.32부터는 50초)."}},
        {"n": 3,
         "title": {"en": "The node becomes Unknown (NotReady)", "ko": "노드가 Unknown(NotReady)이 됨"},
         "narration": {
             "en": "Forty seconds after the last heartbeat it saw, the controller sets every condition of the Node "
                   "to Unknown with the message 'Kubelet stopped posting node status.'; kubectl get nodes now shows "
                   "NotReady. It records a NodeNotReady event and marks the node's Pods Ready=False, so Services stop "
                   "sending them traffic. The Pod objects stay: their containers may still be running on a machine "
                   "nobody can reach.",
             "ko": "마지막으로 본 하트비트로부터 40초가 지나면 컨트롤러는 Node의 모든 컨디션을 Unknown으로 바꾸고 "
                   "'Kubelet stopped posting node status.'라는 메시지를 남깁니다. 이제 kubectl get nodes에는 "
                   "NotReady로 나옵니다. NodeNotReady 이벤트를 기록하고 그 노드의 Pod를 Ready=False로 표시하므로 "
                   "Service는 더 이상 그 Pod로 트래픽을 보내지 않습니다. Pod 객체는 그대로입니다. 아무도 닿을 수 "
                   "없는 머신에서 컨테이너가 여전히 돌고 있을 수도 있기 때문입니다."}},
        {"n": 4,
         "title": {"en": "The node is tainted unreachable", "ko": "노드에 unreachable 테인트"},
         "narration": {
             "en": "The controller taints the node node.kubernetes.io/unreachable in two ways: NoSchedule at once, so "
                   "the scheduler sends it nothing new, and NoExecute at its next 5-second pass, which tells the Pods "
                   "already there to leave. A Pod that does not tolerate the taint is evicted immediately; ours "
                   "tolerate it for a while, so the taint-eviction controller only starts a timer for each of them.",
             "ko": "컨트롤러는 노드에 node.kubernetes.io/unreachable 테인트를 두 가지로 붙입니다. 먼저 NoSchedule을 "
                   "붙여 스케줄러가 새 Pod를 보내지 않게 하고, 5초 뒤 다음 점검에서 NoExecute를 붙여 이미 있는 Pod도 "
                   "떠나야 한다고 알립니다. 이 테인트를 용인하지 않는 Pod는 곧바로 축출됩니다. 우리 Pod는 한동안 "
                   "용인하므로 taint-eviction 컨트롤러는 Pod마다 타이머만 걸어 둡니다."}},
        {"n": 5,
         "title": {"en": "Waiting out the toleration", "ko": "톨러레이션 시간 기다리기"},
         "narration": {
             "en": "Now nothing happens for as long as the Pods tolerate the taint: five minutes by default. The wait "
                   "is deliberate. A node that was cut off only briefly comes back, its taint is lifted, the timers "
                   "are cancelled and no Pod was moved for nothing. On this dashboard the quiet stretch is compressed: "
                   "any wait longer than 20 cluster seconds in which nothing happens passes in about three seconds, "
                   "and the clock jumps ahead. The times you read in the events are still the real ones.",
             "ko": "이제 Pod가 테인트를 용인하는 시간, 기본값으로 5분 동안 아무 일도 일어나지 않습니다. 일부러 "
                   "기다리는 것입니다. 잠깐 연결이 끊겼던 노드라면 곧 돌아와 테인트가 걷히고 타이머가 취소되어, "
                   "괜히 Pod를 옮기는 일이 생기지 않습니다. 이 대시보드에서는 이 조용한 시간을 압축해서 보여 줍니다. "
                   "아무 일도 없는 대기가 클러스터 시간으로 20초를 넘으면 약 3초 만에 지나가고 시계가 앞으로 "
                   "건너뜁니다. 이벤트에 찍힌 시각은 여전히 실제 값 그대로입니다."}},
        {"n": 6,
         "title": {"en": "The Pods are evicted", "ko": "Pod 축출"},
         "narration": {
             "en": "When a timer runs out, the taint-eviction controller adds the condition DisruptionTarget "
                   "(DeletionByTaintManager) to the Pod, records TaintManagerEviction 'Marking for deletion Pod ...' "
                   "and deletes it. The Pod gets a deletionTimestamp and shows Terminating, but it cannot finish: "
                   "only the node's kubelet can confirm that the containers have stopped, and that kubelet is silent.",
             "ko": "타이머가 끝나면 taint-eviction 컨트롤러가 Pod에 DisruptionTarget 컨디션(DeletionByTaintManager)을 "
                   "붙이고, TaintManagerEviction 이벤트('Marking for deletion Pod ...')를 남긴 뒤 Pod를 삭제합니다. "
                   "Pod에는 deletionTimestamp가 찍혀 Terminating으로 보이지만 끝까지 지워지지는 못합니다. 컨테이너가 "
                   "멈췄다고 확인해 줄 수 있는 것은 그 노드의 kubelet뿐인데, 그 kubelet이 말이 없기 때문입니다."}},
        {"n": 7,
         "title": {"en": "Replacements on the healthy workers", "ko": "정상 워커에 대체 Pod"},
         "narration": {
             "en": "A Pod being deleted no longer counts for its ReplicaSet, so the ReplicaSet controller finds too "
                   "few and creates replacements. The scheduler's TaintToleration filter rules out the failed node "
                   "(untolerated taint node.kubernetes.io/unreachable) as well as the control-plane node, and the "
                   "replacements start on the remaining workers. With the default toleration the Deployment is whole "
                   "again about six minutes of cluster time after the failure, almost all of it the deliberate wait.",
             "ko": "삭제 중인 Pod는 ReplicaSet의 개수에 들어가지 않으므로, ReplicaSet 컨트롤러는 Pod가 모자란다고 "
                   "보고 대체 Pod를 만듭니다. 스케줄러의 TaintToleration 필터가 고장 난 노드(용인하지 않는 "
                   "node.kubernetes.io/unreachable 테인트)와 컨트롤 플레인 노드를 제외하므로, 대체 Pod는 남은 "
                   "워커에서 시작됩니다. 기본 톨러레이션이라면 장애가 난 뒤 클러스터 시간으로 약 6분 만에 Deployment가 "
                   "다시 온전해지며, 그 대부분은 일부러 기다린 시간입니다."}},
        {"n": 8,
         "title": {"en": "The node comes back", "ko": "노드가 돌아옴"},
         "narration": {
             "en": "The kubelet starts again. It renews its Lease and reports Ready, and the controller removes both "
                   "taints. The kubelet also finds the Pod that was deleted while it was away: it stops the "
                   "containers, confirms, and the Pod finally disappears from etcd. The replacements stay where they "
                   "are - Kubernetes does not move running Pods back to even out the nodes.",
             "ko": "kubelet이 다시 시작됩니다. Lease를 갱신하고 Ready를 보고하면 컨트롤러가 두 테인트를 모두 걷어 "
                   "냅니다. kubelet은 자리를 비운 사이 삭제된 Pod도 발견하고 컨테이너를 멈춘 뒤 확인해 주며, 그제야 "
                   "Pod가 etcd에서 사라집니다. 대체 Pod는 지금 자리에 그대로 남습니다. 쿠버네티스는 노드 간 균형을 "
                   "맞추려고 실행 중인 Pod를 되돌려 옮기지 않습니다."}},
    ],
    "questions": [
        {"en": "Why did the replacement Pods appear minutes after the node stopped, and not at once?",
         "ko": "노드가 멈춘 뒤 대체 Pod가 곧바로가 아니라 몇 분 뒤에야 나타난 이유는 무엇인가요?"},
        {"en": "Which taint kept the scheduler from placing the replacements on the failed node, and who added it?",
         "ko": "스케줄러가 대체 Pod를 고장 난 노드에 배치하지 못하게 막은 테인트는 무엇이며, 누가 붙였나요?"},
        {"en": "Why did the evicted Pod stay Terminating until its node came back?",
         "ko": "축출된 Pod가 노드가 돌아올 때까지 Terminating 상태로 남아 있던 이유는 무엇인가요?"},
        {"en": "How could a Deployment's Pods move sooner after a node failure, and what would that risk?",
         "ko": "노드 장애 뒤 Deployment의 Pod가 더 빨리 옮겨 가게 하려면 어떻게 하면 되며, 그 대가는 무엇인가요?"},
    ],
}


def topology():
    return default_topology(workers=WORKERS)


def manifest(replicas: int, toleration_seconds: int) -> dict:
    """web.yaml, as `kubectl create -f web.yaml` sends it. With the default toleration the template has
    none and DefaultTolerationSeconds adds both; otherwise it tolerates unreachable for the given time
    and the plugin adds only not-ready (it skips a taint key the Pod already tolerates)."""
    spec: dict = {"containers": [{"name": IMAGE, "image": IMAGE}]}
    if toleration_seconds != DEFAULT_TOLERATION:
        spec["tolerations"] = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": toleration_seconds}]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": NAME, "labels": {"app": NAME}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": NAME}},
                     "template": {"metadata": {"labels": {"app": NAME}}, "spec": spec}}}


def step_policy(params: dict) -> ScriptSteps:
    """The script opens steps 1, 2 and 8. In between, the control plane's answers about the failed node
    open 3 to 7, each at the first request of its act (a controller's sync is reported only once its writes
    are done, so the request is what comes first): the node lifecycle controller's status update of the
    node (3) and its taint patch (4), the taint-eviction controller's timer (5) and, once it runs out, its
    first request about a Pod (6), the ReplicaSet controller's new Pod (7)."""
    steps = ScriptSteps()
    steps.victim = None
    seen = [0]   # the highest step opened here (the script opens none while phase is 2)

    def opens(phase: int, type: str, data: dict) -> int | None:
        if phase != 2:
            return None
        node = f"/api/v1/nodes/{steps.victim}"
        if type == "apiserver.request" and is_controller_user(data.get("user") or ""):
            method, path = data.get("method"), str(data.get("path", ""))
            if method == "PUT" and path == node + "/status":
                return 3
            if method == "PATCH" and path == node:       # the NoSchedule taint, then the NoExecute one
                return 4
            if seen[0] >= 5 and ((method == "POST" and path == "/api/v1/namespaces/default/events")
                                 or path.startswith(f"/api/v1/namespaces/default/pods/{NAME}-")):
                return 6
            if seen[0] >= 6 and method == "POST" and path == "/api/v1/namespaces/default/pods":
                return 7
        if type == "controller.reconcile" and data.get("controller") == "taint-eviction-controller" and \
                str(data.get("key", "")).startswith(f"default/{NAME}-") and \
                str(data.get("action", "")).startswith("eviction scheduled"):
            return 5
        return None

    def reactions(phase: int, type: str, data: dict) -> int | None:
        n = opens(phase, type, data)
        if n is not None:
            seen[0] = max(seen[0], n)
        return n

    steps.reactions = reactions
    return steps


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: ScriptSteps = tracer.step_policy
    replicas, toleration = params["replicas"], params["toleration_seconds"]
    prefix = f"/registry/pods/default/{NAME}-"

    def pods() -> list[dict]:
        return objects(cluster, prefix)

    def running() -> list[dict]:
        return running_pods(cluster, "default", f"{NAME}-")

    def node_taints(name: str) -> list[dict]:
        node = objects(cluster, f"/registry/minions/{name}")[0]
        return [t for t in node["spec"].get("taints") or [] if t["key"] == UNREACHABLE]

    def script():
        yield 0.05
        steps.open(tracer, 1)
        yield kubectl(cluster, "kubectl create -f web.yaml").create(
            "deployments", manifest(replicas, toleration), namespace="default")
        yield from until(cluster, lambda: len(running()) == replicas and len(pods()) == replicas)
        yield PAUSE
        # The worker with the most of our Pods (the first by name on a tie) fails.
        per_node: dict[str, int] = {}
        for p in running():
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
        victim = min(per_node, key=lambda n: (-per_node[n], n))
        doomed = {p["metadata"]["name"] for p in running() if p["spec"]["nodeName"] == victim}
        steps.victim = victim
        steps.open(tracer, 2)
        cluster.stop_node(victim)

        def replaced() -> bool:
            live = running()
            gone = {p["metadata"]["name"] for p in pods() if p["metadata"].get("deletionTimestamp")}
            return doomed <= gone and len(live) == replicas and all(p["spec"]["nodeName"] != victim for p in live)

        yield from until(cluster, replaced, limit=1200.0)
        yield PAUSE
        steps.open(tracer, 8)
        cluster.start_node(victim)
        yield from until(cluster, lambda: not node_taints(victim)
                         and not any(p["spec"].get("nodeName") == victim for p in pods()))
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    live = running_pods(cluster, "default", f"{NAME}-")
    nodes = sorted({p["spec"]["nodeName"] for p in live})
    return f"{len(live)}/{params['replicas']} Running on {', '.join(nodes)}"
