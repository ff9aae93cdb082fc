"""Scenario "deployment-reconcile": a Deployment of 3 on a kind cluster of one control-plane node and two
workers; one of its Pods deleted by hand and replaced; the Deployment scaled down, then up."""
from __future__ import annotations

from ..cluster import Cluster, default_topology
from ..kernel import Future
from .script import ScriptSteps, kubectl, objects, running_pods, until

ID = "deployment-reconcile"
IMAGES = ["nginx", "nginx:alpine", "redis"]
NAME = "web"
PAUSE = 2.0   # virtual seconds of calm between the acts, so the last change can be seen settling

CATALOG = {
    "id": ID,
    "title": {"en": "Reconcile a Deployment", "ko": "Deployment 조정(reconcile)"},
    "description": {
        "en": "Create a Deployment, delete one of its Pods and change its replica count, and watch the "
              "controllers close the gap between what was asked for and what runs.",
        "ko": "Deployment를 만들고, Pod 하나를 지우고, 복제본 수를 바꾸면서 컨트롤러들이 요청한 상태와 실제 "
              "상태의 차이를 메우는 과정을 지켜봅니다.",
    },
    "backends": ["sim", "api"],
    "params": [
        {"name": "image", "type": "str", "default": "nginx", "choices": IMAGES,
         "label": {"en": "Container image", "ko": "컨테이너 이미지"}},
        {"name": "replicas", "type": "int", "default": 3, "min": 1, "max": 6,
         "label": {"en": "Replicas at first", "ko": "처음 복제본 수"}},
        {"name": "scale_down", "type": "int", "default": 1, "min": 0, "max": 6,
         "label": {"en": "Scale down to", "ko": "축소할 복제본 수"}},
        {"name": "scale_up", "type": "int", "default": 5, "min": 1, "max": 8,
         "label": {"en": "Then scale up to", "ko": "이어서 확대할 복제본 수"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "kubectl creates the Deployment", "ko": "kubectl이 Deployment 생성"},
         "narration": {
             "en": "kubectl sends a Deployment to the API server: a Pod template and the number of copies wanted. "
                   "The API server checks it and stores it in etcd. Nothing runs yet - a Deployment is only a "
                   "written wish, like an order slip handed to a factory.",
             "ko": "kubectl이 Pod 템플릿과 원하는 복제본 수를 담은 Deployment를 API 서버에 보냅니다. API 서버는 이를 "
                   "검사해 etcd에 저장합니다. 아직 실행되는 것은 없습니다. Deployment는 공장에 건넨 주문서처럼 "
                   "'이렇게 되어 있어야 한다'는 기록일 뿐입니다."}},
        {"n": 2,
         "title": {"en": "The Deployment controller makes a ReplicaSet", "ko": "Deployment 컨트롤러가 ReplicaSet 생성"},
         "narration": {
             "en": "Inside the controller-manager, the Deployment controller is told about the new Deployment by its "
                   "informer. It owns no Pods directly: it creates a ReplicaSet named after a hash of the Pod template "
                   "and hands it the replica count. A later template change gets a new ReplicaSet; that is how "
                   "rolling updates and rollbacks work.",
             "ko": "컨트롤러 매니저 안의 Deployment 컨트롤러가 인포머를 통해 새 Deployment 소식을 받습니다. 이 "
                   "컨트롤러는 Pod를 직접 갖지 않습니다. Pod 템플릿의 해시를 이름에 붙인 ReplicaSet을 만들고 복제본 "
                   "수를 맡깁니다. 템플릿이 바뀌면 새 ReplicaSet이 생기며, 롤링 업데이트와 롤백이 이 방식으로 "
                   "이루어집니다."}},
        {"n": 3,
         "title": {"en": "The ReplicaSet controller creates the Pods", "ko": "ReplicaSet 컨트롤러가 Pod 생성"},
         "narration": {
             "en": "The ReplicaSet controller counts the Pods its selector matches: none, against the replicas "
                   "wanted. It creates the missing Pods from the template, each with an ownerReference back to the "
                   "ReplicaSet. From here each Pod goes the way of any Pod: the scheduler picks a node and that "
                   "node's kubelet starts the containers.",
             "ko": "ReplicaSet 컨트롤러는 셀렉터에 맞는 Pod 수를 셉니다. 원하는 수에 비해 0개입니다. 부족한 만큼 "
                   "템플릿으로 Pod를 만들고, 각 Pod에는 ReplicaSet을 가리키는 ownerReference가 붙습니다. 그다음은 "
                   "여느 Pod와 같습니다. 스케줄러가 노드를 고르고, 그 노드의 kubelet이 컨테이너를 시작합니다."}},
        {"n": 4,
         "title": {"en": "A Pod is deleted by hand", "ko": "Pod 하나를 직접 삭제"},
         "narration": {
             "en": "Now someone deletes one of the Pods with kubectl. The API server marks it for deletion, the "
                   "kubelet stops its containers (giving them the grace period to exit) and the object disappears "
                   "from etcd. For a moment fewer Pods run than the Deployment asks for.",
             "ko": "이제 누군가 kubectl로 Pod 하나를 지웁니다. API 서버가 삭제 표시를 하고, kubelet이 컨테이너를 "
                   "종료 유예 시간을 주며 멈추고, 객체가 etcd에서 사라집니다. 잠시 동안 Deployment가 원하는 것보다 "
                   "적은 Pod가 실행됩니다."}},
        {"n": 5,
         "title": {"en": "The ReplicaSet controller makes up the difference", "ko": "ReplicaSet 컨트롤러가 부족분을 채움"},
         "narration": {
             "en": "The ReplicaSet controller hears that one of its Pods went away, counts again and finds one too "
                   "few. It creates a replacement with a new name; the scheduler places it, perhaps on another node. "
                   "Nobody told the controller to repair anything: comparing desired and actual state, over and over, "
                   "is its whole job.",
             "ko": "ReplicaSet 컨트롤러는 자기 Pod 하나가 사라졌다는 소식을 듣고 다시 세어 보니 하나가 모자랍니다. "
                   "새 이름으로 대체 Pod를 만들고, 스케줄러가 이를 배치합니다(다른 노드일 수도 있습니다). 누가 "
                   "고치라고 시킨 것이 아닙니다. 원하는 상태와 실제 상태를 계속 비교하는 것이 컨트롤러의 일 "
                   "그 자체입니다."}},
        {"n": 6,
         "title": {"en": "Scaling down", "ko": "복제본 줄이기"},
         "narration": {
             "en": "kubectl scale changes only the replica count, through the Deployment's scale subresource. The "
                   "Deployment controller passes the new count to its ReplicaSet, and the ReplicaSet controller "
                   "deletes the surplus Pods. It ranks them first (pkg/controller/controller_utils.go, ActivePodsWithRanks): "
                   "Pods without a node go first, then those not yet running or not ready, and among healthy ones "
                   "the most recently started.",
             "ko": "kubectl scale은 Deployment의 scale 하위 리소스를 통해 복제본 수만 바꿉니다. Deployment 컨트롤러가 "
                   "새 수를 ReplicaSet에 전하고, ReplicaSet 컨트롤러가 남는 Pod를 지웁니다. 지울 순서는 정해진 "
                   "기준을 따릅니다: 노드가 없는 Pod가 먼저, 다음은 아직 실행 전이거나 Ready가 아닌 Pod, 정상인 "
                   "Pod 중에서는 가장 최근에 시작된 Pod가 먼저입니다."}},
        {"n": 7,
         "title": {"en": "Scaling up", "ko": "복제본 늘리기"},
         "narration": {
             "en": "Scaling up is the same loop in the other direction: a higher count on the ReplicaSet, new Pods "
                   "created, scheduled across the workers and started. When every Pod is Ready, desired and actual "
                   "state match again and the controllers go quiet until the next change.",
             "ko": "늘리는 것도 같은 루프가 반대 방향으로 도는 것입니다. ReplicaSet의 수가 커지고, 새 Pod가 만들어져 "
                   "워커들에 배치되고 시작됩니다. 모든 Pod가 Ready가 되면 원하는 상태와 실제 상태가 다시 같아지고, "
                   "컨트롤러들은 다음 변화가 올 때까지 조용해집니다."}},
    ],
    "questions": [
        {"en": "Which controller created the replacement Pod after the deletion, and how did it know one was missing?",
         "ko": "삭제 뒤 대체 Pod를 만든 컨트롤러는 무엇이며, Pod가 모자란다는 것을 어떻게 알았나요?"},
        {"en": "Why does a Deployment create a ReplicaSet instead of creating Pods itself?",
         "ko": "Deployment는 왜 Pod를 직접 만들지 않고 ReplicaSet을 만들까요?"},
        {"en": "When scaling down, who deletes the extra Pods: kubectl, the Deployment controller or the ReplicaSet controller?",
         "ko": "복제본을 줄일 때 남는 Pod를 지우는 주체는 kubectl, Deployment 컨트롤러, ReplicaSet 컨트롤러 중 무엇인가요?"},
    ],
}


def topology():
    return default_topology(workers=2)


def manifest(image: str, replicas: int) -> dict:
    """What `kubectl create deployment web --image=<image> --replicas=<n>` sends (kubectl's create
    deployment: label app=<name> on the selector and template, one container named after the image)."""
    container = image.split(":")[0].split("/")[-1]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": NAME, "labels": {"app": NAME}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": NAME}},
                     "template": {"metadata": {"labels": {"app": NAME}},
                                  "spec": {"containers": [{"name": container, "image": image, "resources": {}}]}},
                     "strategy": {}},
            "status": {}}


def reactions(phase: int, type: str, data: dict) -> int | None:
    """Steps 1, 4, 6 and 7 open as kubectl acts; the controllers' first answers open 2, 3 and 5."""
    if type != "controller.reconcile":
        return None
    action = str(data.get("action", ""))
    if data.get("controller") == "deployment" and action.startswith("created ReplicaSet"):
        return 2
    if data.get("controller") == "replicaset" and action.startswith("created"):
        return {1: 3, 2: 3, 4: 5}.get(phase)
    return None


def step_policy(params: dict) -> ScriptSteps:
    return ScriptSteps(reactions)


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: ScriptSteps = tracer.step_policy
    image, replicas = params["image"], params["replicas"]
    prefix = f"/registry/pods/default/{NAME}-"

    def running() -> set[str]:
        return {p["metadata"]["name"] for p in running_pods(cluster, "default", f"{NAME}-")}

    def settled(count: int) -> bool:
        """`count` Pods Running and Ready, and no other (none still terminating)."""
        return len(running()) == count and len(objects(cluster, prefix)) == count

    def script():
        yield 0.05
        steps.open(tracer, 1)
        yield kubectl(cluster, f"kubectl create deployment {NAME} --image={image} --replicas={replicas}").create(
            "deployments", manifest(image, replicas), namespace="default")
        yield from until(cluster, lambda: settled(replicas))
        yield PAUSE
        victim = sorted(running())[0]
        steps.open(tracer, 4)
        yield kubectl(cluster, f"kubectl delete pod {victim}").delete("pods", victim, namespace="default")
        yield from until(cluster, lambda: settled(replicas) and victim not in running())
        yield PAUSE
        for step, count in ((6, params["scale_down"]), (7, params["scale_up"])):
            steps.open(tracer, step)
            yield kubectl(cluster, f"kubectl scale deployment {NAME} --replicas={count}").patch(
                "deployments", NAME, {"spec": {"replicas": count}}, namespace="default", subresource="scale")
            yield from until(cluster, lambda count=count: settled(count))
            yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    n = len(running_pods(cluster, "default", f"{NAME}-"))
    return f"{n}/{params['scale_up']} Running"
