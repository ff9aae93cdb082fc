"""Scenario "pod-create": `kubectl run nginx --image=nginx` on a kind cluster of 1 control-plane node and
2 workers, followed through the lesson's ten steps until the Pod is Running."""
from __future__ import annotations

from ..apiserver.validation import is_dns1123_label
from ..cluster import Cluster, component_rng, default_topology
from ..kernel import Future
from .script import kubectl as run_kubectl

ID = "pod-create"
IMAGES = ["nginx", "nginx:alpine", "busybox", "redis"]

CATALOG = {
    "id": ID,
    "title": {"en": "Create a Pod (kubectl run)", "ko": "Pod 생성 (kubectl run)"},
    "description": {
        "en": "Follow one `kubectl run` from the command line to a running container: the API server's checks, "
              "etcd, the scheduler's choice of node, and the kubelet and container runtime on that node.",
        "ko": "`kubectl run` 한 번이 실행 중인 컨테이너가 되기까지를 따라갑니다: API 서버의 검사, etcd 저장, "
              "스케줄러의 노드 선택, 그리고 그 노드의 kubelet과 컨테이너 런타임.",
    },
    "backends": ["sim", "api"],
    "params": [
        {"name": "image", "type": "str", "default": "nginx", "choices": IMAGES,
         "label": {"en": "Container image", "ko": "컨테이너 이미지"}},
        {"name": "pod_name", "type": "str", "default": "nginx", "max_length": 63, "format": "dns-1123-label",
         "label": {"en": "Pod name", "ko": "Pod 이름"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "kubectl sends the request", "ko": "kubectl이 요청을 보냄"},
         "narration": {
             "en": "kubectl turns the command into a Pod manifest (adding the label run=<name>) and sends it to the "
                   "API server as an HTTPS POST, identifying itself with the client certificate in the kubeconfig. "
                   "Like a visitor handing a booking form to the building's front desk.",
             "ko": "kubectl은 명령을 Pod 매니페스트로 바꾸고(레이블 run=<이름>을 붙여서) kubeconfig에 있는 클라이언트 "
                   "인증서로 자신을 밝히며 API 서버에 HTTPS POST로 보냅니다. 방문객이 건물 안내 데스크에 예약 신청서를 "
                   "내미는 것과 비슷합니다."}},
        {"n": 2,
         "title": {"en": "Authentication and authorization", "ko": "인증과 인가"},
         "narration": {
             "en": "The API server first establishes who is asking: the certificate names user kubernetes-admin in group "
                   "kubeadm:cluster-admins. Then RBAC decides whether that user may create Pods in this namespace; a "
                   "ClusterRoleBinding gives that group the cluster-admin role, so the answer is yes. A missing "
                   "credential would make the caller system:anonymous (refused with 403); a bad one is refused with 401.",
             "ko": "API 서버는 먼저 요청자가 누구인지 확인합니다(인증). 인증서에는 사용자 kubernetes-admin, 그룹 "
                   "kubeadm:cluster-admins가 적혀 있습니다. 다음으로 RBAC이 이 사용자가 이 네임스페이스에 Pod를 만들어도 "
                   "되는지 판단합니다(인가). 이 그룹에 cluster-admin 역할을 주는 ClusterRoleBinding이 있으므로 허용됩니다. "
                   "자격 증명이 없으면 system:anonymous로 처리되어 403으로, 잘못된 자격 증명은 401로 거절됩니다."}},
        {"n": 3,
         "title": {"en": "Admission control", "ko": "어드미션 컨트롤"},
         "narration": {
             "en": "Before anything is stored, admission plugins examine the Pod. Mutating plugins fill in what the "
                   "request left out: the default service account and a token volume, a priority, tolerations that "
                   "decide how long the Pod survives a failed node. Then the object is validated against the API's "
                   "rules, and validating plugins such as PodSecurity and ResourceQuota have the final say.",
             "ko": "저장하기 전에 어드미션 플러그인들이 Pod를 살펴봅니다. 변경(mutating) 플러그인은 요청에 빠진 것을 "
                   "채웁니다: 기본 서비스 어카운트와 토큰 볼륨, 우선순위, 노드 장애 시 Pod가 얼마나 버틸지 정하는 "
                   "톨러레이션. 그다음 API 규칙에 따라 객체를 검증하고, PodSecurity·ResourceQuota 같은 검증(validating) "
                   "플러그인이 마지막 판단을 내립니다."}},
        {"n": 4,
         "title": {"en": "etcd stores the Pod", "ko": "etcd가 Pod를 저장"},
         "narration": {
             "en": "The API server writes the Pod to etcd under /registry/pods/<namespace>/<name>, in a transaction that "
                   "only succeeds if the key does not exist yet. etcd gives the write a new revision, and kubectl gets "
                   "201 Created. The Pod now exists, but no node has been chosen: it is Pending.",
             "ko": "API 서버는 Pod를 etcd의 /registry/pods/<네임스페이스>/<이름> 키에 기록합니다. 키가 아직 없을 때만 "
                   "성공하는 트랜잭션을 씁니다. etcd는 이 쓰기에 새 리비전 번호를 매기고, kubectl은 201 Created를 "
                   "받습니다. 이제 Pod는 존재하지만 아직 노드가 정해지지 않은 Pending 상태입니다."}},
        {"n": 5,
         "title": {"en": "The controller-manager notices", "ko": "컨트롤러 매니저가 감지"},
         "narration": {
             "en": "Every component that watches Pods hears about the new one from the API server. The controller-manager's "
                   "informers receive it, but no controller acts: this Pod has no owner such as a ReplicaSet or a Job, "
                   "and no Service or PodDisruptionBudget selects it. Giving it a node is not a controller's job; that "
                   "belongs to the scheduler, which receives the same news. Kubelets do not see it yet: each one watches "
                   "only the Pods bound to its own node.",
             "ko": "Pod를 지켜보는(watch) 모든 컴포넌트가 API 서버로부터 새 Pod 소식을 받습니다. 컨트롤러 매니저의 "
                   "인포머도 이를 받지만, 어떤 컨트롤러도 움직이지 않습니다. 이 Pod에는 ReplicaSet이나 Job 같은 소유자가 "
                   "없고, 이를 선택하는 Service나 PodDisruptionBudget도 없기 때문입니다. 노드를 정해 주는 일은 "
                   "컨트롤러가 아니라 같은 소식을 받은 스케줄러의 몫입니다. kubelet은 아직 모릅니다: 각 kubelet은 자기 "
                   "노드에 배정된 Pod만 지켜봅니다."}},
        {"n": 6,
         "title": {"en": "The scheduler filters and scores", "ko": "스케줄러의 필터링과 점수 매기기"},
         "narration": {
             "en": "The scheduler takes the Pod from its queue. Filtering removes nodes that cannot run it: the "
                   "control-plane node carries a NoSchedule taint this Pod does not tolerate. Scoring rates each "
                   "remaining node from 0 to 100 per plugin, multiplies by the plugin's weight and adds up; the highest "
                   "total wins, and a tie is broken at random. In the office-building picture, the scheduler is the "
                   "seating coordinator who uses conditions and then points to pick the floor (node) where a meeting "
                   "room (Pod) will be set up.",
             "ko": "스케줄러가 대기열에서 Pod를 꺼냅니다. 필터링 단계에서 이 Pod를 실행할 수 없는 노드를 뺍니다: "
                   "컨트롤 플레인 노드에는 이 Pod가 용인(toleration)하지 않는 NoSchedule 테인트가 있습니다. "
                   "점수 단계에서는 남은 노드마다 플러그인별로 0~100점을 매기고 가중치를 곱해 더합니다. 합계가 가장 "
                   "높은 노드가 선택되며, 동점이면 무작위로 고릅니다. 건물에 비유하면 스케줄러는 회의실(Pod)을 열 "
                   "층(노드)을 조건과 점수로 고르는 자리 배정 담당자에 가깝습니다."}},
        {"n": 7,
         "title": {"en": "Binding to the chosen node", "ko": "선택한 노드에 바인딩"},
         "narration": {
             "en": "The scheduler does not start anything itself. It asks the API server to bind the Pod to the chosen "
                   "node (POST .../pods/<name>/binding), and the API server records spec.nodeName in etcd. Once the "
                   "binding has succeeded, the scheduler itself posts a Scheduled event (events.k8s.io/v1). The new "
                   "spec.nodeName is the change the chosen node's kubelet is waiting for.",
             "ko": "스케줄러가 직접 무언가를 실행하지는 않습니다. API 서버에 Pod를 선택한 노드에 바인딩해 달라고 "
                   "요청하고(POST .../pods/<이름>/binding), API 서버는 spec.nodeName을 etcd에 기록합니다. 바인딩이 "
                   "성공하면 스케줄러가 직접 Scheduled 이벤트(events.k8s.io/v1)를 남깁니다. 선택된 노드의 kubelet이 "
                   "기다리던 변화는 바로 이 새 spec.nodeName입니다."}},
        {"n": 8,
         "title": {"en": "The kubelet prepares the Pod", "ko": "kubelet이 Pod를 준비"},
         "narration": {
             "en": "The kubelet on that node now sees the Pod in its watch. It asks the container runtime for a Pod "
                   "sandbox; the CNI plugin gives the sandbox an IP address from the node's Pod range. Then the image is "
                   "pulled from the registry - usually the slowest part, taking longer the larger the image - unless "
                   "the node already has it and the image pull policy (imagePullPolicy) allows reusing it.",
             "ko": "이제 그 노드의 kubelet이 자신의 watch에서 Pod를 봅니다. 컨테이너 런타임에 Pod 샌드박스를 요청하고, "
                   "CNI 플러그인이 노드의 Pod 대역에서 IP 주소를 줍니다. 이어서 레지스트리에서 이미지를 받습니다. 보통 "
                   "가장 오래 걸리는 단계로, 시간은 이미지 크기에 따라 달라집니다. 다만 노드에 이미 이미지가 있고 이미지 "
                   "풀 정책(imagePullPolicy)이 재사용을 허락하면 받지 않습니다."}},
        {"n": 9,
         "title": {"en": "The container runtime starts the container", "ko": "컨테이너 런타임이 컨테이너를 시작"},
         "narration": {
             "en": "The container runtime creates the container from the image inside the sandbox and starts its "
                   "process. The kubelet records Created and Started events.",
             "ko": "컨테이너 런타임이 샌드박스 안에 이미지로 컨테이너를 만들고 그 프로세스를 시작합니다. kubelet은 "
                   "Created, Started 이벤트를 기록합니다."}},
        {"n": 10,
         "title": {"en": "Status: Running", "ko": "상태 갱신: Running"},
         "narration": {
             "en": "The kubelet notices the running container and reports the Pod's status to the API server: phase "
                   "Running, the Pod IP and the Ready condition. The API server stores it in etcd, and everyone watching "
                   "- `kubectl get pods -w` included - sees the Pod Running.",
             "ko": "kubelet은 실행 중인 컨테이너를 확인하고 Pod 상태를 API 서버에 보고합니다: phase Running, "
                   "Pod IP, Ready 조건. API 서버가 이를 etcd에 저장하면 `kubectl get pods -w`를 포함해 지켜보던 모두가 "
                   "Running이 된 Pod를 봅니다."}},
    ],
    "questions": [
        {"en": "Which component chose the node, and which component actually started the container?",
         "ko": "노드를 고른 컴포넌트와 실제로 컨테이너를 시작한 컴포넌트는 각각 무엇인가요?"},
        {"en": "Why was the control-plane node left out of the scheduler's choice?",
         "ko": "스케줄러가 컨트롤 플레인 노드를 후보에서 뺀 이유는 무엇인가요?"},
        {"en": "Which components talk to etcd directly, and how do all the others learn about changes?",
         "ko": "etcd와 직접 통신하는 컴포넌트는 무엇이며, 나머지 컴포넌트들은 변경 사항을 어떻게 알게 되나요?"},
    ],
}


def check_pod_name(v: str) -> str | None:
    if not is_dns1123_label(v):
        return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit"
    return None


# busybox's default command is a shell, which exits at once without a terminal (the Pod would go
# Completed -> CrashLoopBackOff). As in the lesson, it is run with a command that keeps it alive.
COMMANDS = {"busybox": ["sleep", "3600"]}


def command_line(name: str, image: str) -> str:
    cmd = COMMANDS.get(image)
    return f"kubectl run {name} --image={image}" + (f" --command -- {' '.join(cmd)}" if cmd else "")


def manifest(name: str, image: str) -> dict:
    """What `kubectl run <name> --image=<image>` sends (kubectl's run generator; compare
    `kubectl run nginx --image=nginx --dry-run=client -o json`)."""
    container = {"name": name, "image": image, "resources": {}}
    if image in COMMANDS:
        container = {"name": name, "image": image, "command": list(COMMANDS[image]), "resources": {}}
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "creationTimestamp": None, "labels": {"run": name}},
            "spec": {"containers": [container], "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"},
            "status": {}}


def topology():
    return default_topology(workers=2)


def step_policy(params: dict):
    """Which events open which of the lesson's steps."""
    pod_key = f"/registry/pods/default/{params['pod_name']}"

    def policy(type: str, data: dict, to: dict | None) -> int | None:
        if type == "kubectl.request":
            return 1
        if type == "apiserver.authn":
            return 2
        if type == "apiserver.admission":
            return 3
        if type == "apiserver.storage" and data.get("op") == "create" and data.get("key") == pod_key:
            return 4
        if type == "apiserver.watch" and data.get("event") == "ADDED" and data.get("key") == pod_key:
            return 5
        if type == "scheduler.queue":
            return 6
        if type == "scheduler.bind":
            return 7
        if type == "kubelet.pod.sync":
            return 8
        if type == "container-runtime.container.created":
            return 9
        if type == "kubelet.status" and data.get("phase") == "Running":
            return 10
        return None

    return policy


def start(cluster: Cluster, params: dict) -> Future:
    """Run the scenario's actions; the returned future resolves when the Pod is Running."""
    name, image = params["pod_name"], params["image"]
    env = cluster.env
    done = env.future()
    pod_key = f"/registry/pods/default/{name}"

    def on_write(ev) -> None:
        if ev.type == "PUT" and ev.kv.key == pod_key and not done.done:
            if '"phase":"Running"' in ev.kv.value:
                done.resolve(env.now)

    cluster.etcd.store.watch(pod_key, callback=on_write)

    def kubectl():
        rng = component_rng(cluster.seed, "kubectl")
        yield rng.uniform(0.03, 0.06)  # read kubeconfig, build the object, open the TLS connection
        yield run_kubectl(cluster, command_line(name, image)).create("pods", manifest(name, image), namespace="default")

    env.process(kubectl())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    pod = cluster.get(f"/registry/pods/default/{params['pod_name']}")
    return pod["status"]["phase"] if pod else "Missing"

