"""Scenario "service-networking": a Deployment whose Pods have a readiness probe, exposed by a ClusterIP
Service on a kind cluster of one control-plane node and two workers. The endpoints controllers list the
ready Pods; kube-proxy on every node turns them into iptables rules (KUBE-SERVICES -> KUBE-SVC-... ->
KUBE-SEP-... with statistic probabilities); scaling up adds a KUBE-SEP chain; one Pod failing its
readiness probe moves to notReadyAddresses and its chain disappears.

How one Pod is made to fail: the Pods run the documentation's readiness example (a shell that creates
/tmp/ready; the probe runs `cat /tmp/ready`), and the scenario does what an instructor would type,
`kubectl exec <pod> -- rm /tmp/ready`. The simulator has no pods/exec subresource (API server -> kubelet
-> CRI Exec), so the scenario sends kubectl's GET of the Pod for real, announces the exec request as
kubectl sends it, and runs the command in the container through the node's runtime (`exec_sync`, the
CRI's ExecSync, which the exec probes use as well). No API server answer follows that one request.
"""
from __future__ import annotations

from urllib.parse import urlencode

from ..apiserver import registry
from ..cluster import Cluster, default_topology
from ..kernel import Future
from ..kubeproxy import iptables
from ..trace import ref
from .script import ScriptSteps, kubectl, objects, running_pods, until

ID = "service-networking"
NAME = "web"
CONTAINER = "web"
IMAGE = "busybox:1.36"
READY_FILE = "/tmp/ready"
PORT = 80
PAUSE = 2.0   # virtual seconds of calm between the acts

CATALOG = {
    "id": ID,
    "title": {"en": "Services: endpoints and kube-proxy's iptables rules",
              "ko": "Service: 엔드포인트와 kube-proxy의 iptables 규칙"},
    "description": {
        "en": "Expose a Deployment with a ClusterIP Service and follow how a Pod becomes a destination: the "
              "endpoints controllers list the ready Pods, and kube-proxy on every node writes the iptables rules "
              "that spread connections over them. Scale up, then let one Pod fail its readiness probe.",
        "ko": "Deployment를 ClusterIP Service로 노출하고, Pod가 트래픽의 목적지가 되는 과정을 따라갑니다. 엔드포인트 "
              "컨트롤러가 준비된 Pod를 목록으로 만들고, 모든 노드의 kube-proxy가 연결을 나눠 보내는 iptables 규칙을 "
              "씁니다. 복제본을 늘린 뒤 Pod 하나가 readiness 프로브에 실패하게 만들어 봅니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "replicas", "type": "int", "default": 3, "min": 2, "max": 5,
         "label": {"en": "Replicas at first", "ko": "처음 복제본 수"}},
        {"name": "add", "type": "int", "default": 1, "min": 1, "max": 3,
         "label": {"en": "Pods added by the scale-up", "ko": "확장할 때 추가할 Pod 수"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "A Deployment with a readiness probe", "ko": "readiness 프로브가 있는 Deployment"},
         "narration": {
             "en": "kubectl creates a Deployment whose Pods each create a file, /tmp/ready, when they start. The "
                   "kubelet runs the readiness probe `cat /tmp/ready` every two seconds; while it succeeds the Pod's "
                   "Ready condition is True. Ready means 'send me traffic', which is a different question from "
                   "'am I running'.",
             "ko": "kubectl이 Deployment를 만듭니다. 각 Pod는 시작할 때 /tmp/ready 파일을 만듭니다. kubelet은 2초마다 "
                   "readiness 프로브 `cat /tmp/ready`를 실행하고, 성공하는 동안 Pod의 Ready 조건은 True입니다. "
                   "Ready는 '트래픽을 보내도 된다'는 뜻으로, '실행 중인가'와는 다른 질문입니다."}},
        {"n": 2,
         "title": {"en": "kubectl expose: a ClusterIP Service", "ko": "kubectl expose: ClusterIP Service"},
         "narration": {
             "en": "kubectl expose reads the Deployment and creates a Service with its selector, app=web, on port 80. "
                   "The API server gives the Service a virtual IP from the service range (10.96.0.0/16 in kind). No "
                   "machine owns that address; it exists only as rules. kube-proxy hears about the Service at once and, "
                   "with no endpoints yet, writes a REJECT rule so that connections fail fast instead of hanging.",
             "ko": "kubectl expose가 Deployment를 읽어, 같은 셀렉터(app=web)와 80번 포트를 가진 Service를 만듭니다. API "
                   "서버는 서비스 대역(kind에서는 10.96.0.0/16)에서 가상 IP를 하나 배정합니다. 이 주소를 가진 기계는 "
                   "없고, 규칙으로만 존재합니다. kube-proxy는 곧바로 Service를 알게 되지만 아직 엔드포인트가 없어서, "
                   "연결이 멈춰 있지 않고 바로 실패하도록 REJECT 규칙을 씁니다."}},
        {"n": 3,
         "title": {"en": "The endpoints controllers list the ready Pods", "ko": "엔드포인트 컨트롤러가 준비된 Pod를 기록"},
         "narration": {
             "en": "Two controllers in the controller-manager match the Service's selector against the Pods. The "
                   "endpoints controller writes an Endpoints object named web, with each ready Pod's IP and port "
                   "under addresses. The EndpointSlice controller writes the newer form, an EndpointSlice labelled "
                   "kubernetes.io/service-name=web, with a ready condition per endpoint. kube-proxy reads the slices.",
             "ko": "컨트롤러 매니저의 두 컨트롤러가 Service의 셀렉터를 Pod들과 맞춰 봅니다. 엔드포인트 컨트롤러는 web이라는 "
                   "Endpoints 객체를 만들고 준비된 Pod의 IP와 포트를 addresses에 적습니다. EndpointSlice 컨트롤러는 "
                   "더 새로운 형식인 EndpointSlice(레이블 kubernetes.io/service-name=web)를 만들고 엔드포인트마다 ready "
                   "조건을 붙입니다. kube-proxy가 읽는 것은 이 슬라이스입니다."}},
        {"n": 4,
         "title": {"en": "kube-proxy writes the iptables rules", "ko": "kube-proxy가 iptables 규칙 작성"},
         "narration": {
             "en": "On every node kube-proxy rewrites its NAT rules in one iptables-restore. KUBE-SERVICES matches the "
                   "ClusterIP and port and jumps to the Service's chain, KUBE-SVC-<hash>. That chain picks an endpoint "
                   "chain, KUBE-SEP-<hash>, which rewrites the destination to one Pod's IP (DNAT). With three Pods "
                   "the first rule matches with probability 1/3, the second with 1/2 of what is left, the last always: "
                   "each Pod gets a third. The Service's DNS name is web.default.svc.cluster.local.",
             "ko": "모든 노드에서 kube-proxy가 iptables-restore 한 번으로 NAT 규칙을 다시 씁니다. KUBE-SERVICES는 "
                   "ClusterIP와 포트를 보고 Service의 체인 KUBE-SVC-<해시>로 넘깁니다. 그 체인은 엔드포인트 체인 "
                   "KUBE-SEP-<해시> 중 하나를 고르고, 그 체인이 목적지를 Pod 하나의 IP로 바꿉니다(DNAT). Pod가 셋이면 "
                   "첫 규칙은 1/3 확률로, 두 번째는 남은 것의 1/2 확률로, 마지막은 항상 맞으므로 각 Pod가 1/3씩 받습니다. "
                   "Service의 DNS 이름은 web.default.svc.cluster.local입니다."}},
        {"n": 5,
         "title": {"en": "kubectl scale adds a Pod", "ko": "kubectl scale로 Pod 추가"},
         "narration": {
             "en": "The Deployment is scaled up. The new Pod is scheduled and started and gets an IP, but until its "
                   "probe passes it is listed as not ready: the endpoints controllers already know it, kube-proxy does "
                   "not route to it yet.",
             "ko": "Deployment의 복제본을 늘립니다. 새 Pod가 배치되고 시작되어 IP를 받지만, 프로브를 통과하기 전까지는 "
                   "준비되지 않은 것으로 기록됩니다. 엔드포인트 컨트롤러는 이미 알고 있어도 kube-proxy는 아직 그쪽으로 "
                   "보내지 않습니다."}},
        {"n": 6,
         "title": {"en": "New rules, new probabilities", "ko": "새 규칙, 새 확률"},
         "narration": {
             "en": "The new Pod turns Ready, the EndpointSlice marks it ready, and every kube-proxy rewrites the "
                   "Service chain: one more KUBE-SEP chain, and probabilities recomputed from the top (1/4, 1/3, 1/2 "
                   "and the rest for four Pods) so that the split stays even. Nothing else in the cluster changed.",
             "ko": "새 Pod가 Ready가 되면 EndpointSlice가 그것을 ready로 표시하고, 모든 kube-proxy가 Service 체인을 다시 "
                   "씁니다. KUBE-SEP 체인이 하나 늘고, 몫이 고르게 유지되도록 확률을 처음부터 다시 계산합니다(Pod가 넷이면 "
                   "1/4, 1/3, 1/2, 나머지). 클러스터의 다른 것은 바뀌지 않았습니다."}},
        {"n": 7,
         "title": {"en": "One Pod's readiness probe starts failing", "ko": "Pod 하나의 readiness 프로브가 실패하기 시작"},
         "narration": {
             "en": "Someone runs kubectl exec to delete /tmp/ready in one Pod. The container keeps running, but the "
                   "next probes fail and the kubelet records Unhealthy warnings. One failure is not enough: only after "
                   "failureThreshold (3) failures in a row does the kubelet declare the container not ready.",
             "ko": "누군가 kubectl exec로 Pod 하나의 /tmp/ready 파일을 지웁니다. 컨테이너는 계속 실행되지만 다음 프로브부터 "
                   "실패하고 kubelet은 Unhealthy 경고를 남깁니다. 한 번의 실패로는 부족합니다. failureThreshold(3)번 연속 "
                   "실패해야 kubelet이 컨테이너를 준비되지 않음으로 판단합니다."}},
        {"n": 8,
         "title": {"en": "Out of the endpoints, out of the rules", "ko": "엔드포인트에서, 그리고 규칙에서 빠짐"},
         "narration": {
             "en": "The kubelet reports Ready=False. The endpoints controller moves the Pod's address to "
                   "notReadyAddresses, the EndpointSlice marks it ready: false, and kube-proxy deletes its KUBE-SEP "
                   "chain and recomputes the probabilities for an even split over the Pods that remain. The Pod is not "
                   "restarted - a readiness failure only stops traffic; restarting is the liveness probe's job. When "
                   "the file comes back the Pod would rejoin.",
             "ko": "kubelet이 Ready=False를 보고합니다. 엔드포인트 컨트롤러는 이 Pod의 주소를 notReadyAddresses로 옮기고, "
                   "EndpointSlice는 ready: false로 표시하며, kube-proxy는 그 KUBE-SEP 체인을 지우고 남은 Pod들이 고르게 나눠 받도록 "
                   "확률을 다시 계산합니다. "
                   "Pod는 재시작되지 않습니다. readiness 실패는 트래픽만 끊고, 재시작은 liveness 프로브의 일입니다. 파일이 "
                   "다시 생기면 Pod는 다시 목록에 들어갑니다."}},
    ],
    "questions": [
        {"en": "With four ready Pods, what probability does the first KUBE-SVC rule use, and why is it not 1/4 for "
               "every rule?",
         "ko": "준비된 Pod가 넷일 때 KUBE-SVC 체인의 첫 규칙 확률은 얼마이며, 왜 모든 규칙이 1/4이 아닌가요?"},
        {"en": "Which component decided that the failing Pod gets no more traffic, and which one enforces it on "
               "each node?",
         "ko": "실패한 Pod에 더 이상 트래픽을 보내지 않기로 한 것은 어느 컴포넌트이고, 각 노드에서 이를 실제로 적용하는 "
               "것은 무엇인가요?"},
        {"en": "Why does a readiness failure not restart the container, and what would?",
         "ko": "readiness 실패는 왜 컨테이너를 재시작하지 않으며, 무엇이 재시작을 일으키나요?"},
    ],
}


def topology():
    return default_topology(workers=2)


def manifest(replicas: int) -> dict:
    """web.yaml, as `kubectl create -f web.yaml` sends it: the documentation's readiness example (a shell
    creates the file, the probe reads it; kubernetes.io/docs/tasks/configure-pod-container/
    configure-liveness-readiness-startup-probes) in a Deployment, with the port the Service targets."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": NAME, "labels": {"app": NAME}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": NAME}},
                     "template": {"metadata": {"labels": {"app": NAME}},
                                  "spec": {"containers": [{
                                      "name": CONTAINER, "image": IMAGE,
                                      "command": ["sh", "-c", f"touch {READY_FILE}; sleep infinity"],
                                      "ports": [{"containerPort": PORT}],
                                      "readinessProbe": {"exec": {"command": ["cat", READY_FILE]},
                                                         "periodSeconds": 2}}]}}}}


def service() -> dict:
    """What `kubectl expose deployment web --port=80` sends (kubectl's ServiceGeneratorV2: the Deployment's
    labels and its selector's matchLabels, one unnamed TCP port whose targetPort is the port)."""
    return {"kind": "Service", "apiVersion": "v1",
            "metadata": {"name": NAME, "creationTimestamp": None, "labels": {"app": NAME}},
            "spec": {"ports": [{"protocol": "TCP", "port": PORT, "targetPort": PORT}], "selector": {"app": NAME}},
            "status": {"loadBalancer": {}}}


def exec_path(pod: str, argv: list[str]) -> str:
    """The URL of `kubectl exec <pod> -- <argv>`: PodExecOptions as query parameters (url.Values.Encode
    sorts the keys; false and empty options are omitted)."""
    query = urlencode([("command", a) for a in argv] + [("container", CONTAINER), ("stderr", "true"),
                                                         ("stdout", "true")])
    return f"{registry.path('pods', 'default', pod, 'exec')}?{query}"


class Steps(ScriptSteps):
    """ScriptSteps that also know the step open now (`current`), since here two answers to the same act
    open successive steps (the endpoints, then kube-proxy's rules)."""

    def __init__(self):
        super().__init__()
        self.current = 0

    def __call__(self, type: str, data: dict, to: dict | None) -> int | None:
        n = reactions(self.current, type, data)
        if n is not None and n > self.current:
            self.current = n
        return n

    def open(self, tracer, step: int) -> None:
        self.current = step
        super().open(tracer, step)


def reactions(current: int, type: str, data: dict) -> int | None:
    """Steps 1, 2, 5 and 7 open as kubectl acts; 3 with the controllers' first write of the Service's
    endpoints, 4 and 6 with kube-proxy's next change of rules, 8 with the kubelet's report that the Pod is
    no longer Ready."""
    if current == 2 and type == "apiserver.request" and data.get("method") == "POST" and \
            str(data.get("path", "")).endswith(("/endpoints", "/endpointslices")):
        return 3
    if current in (3, 5) and type == "kube-proxy.sync":
        return current + 1
    if current == 7 and type == "kubelet.status" and any(
            c.get("type") == "Ready" and c.get("status") == "False" for c in data.get("conditions") or []):
        return 8
    return None


def step_policy(params: dict) -> Steps:
    return Steps()


# ---- what the scenario waits for ----------------------------------------------------------------------
def endpoints(cluster: Cluster) -> dict | None:
    return cluster.get(f"/registry/services/endpoints/default/{NAME}")


def addresses(cluster: Cluster, which: str = "addresses") -> list[str]:
    """The IPs in the Endpoints object's `addresses` (or `notReadyAddresses`)."""
    ep = endpoints(cluster) or {}
    return sorted(a["ip"] for s in ep.get("subsets") or [] for a in s.get(which) or [])


def sep_targets(rules: str) -> list[str]:
    """The ip:port each KUBE-SEP chain of the Service default/web DNATs to (in the iptables-save view the
    endpoint chains' comment is the service port name, quoted)."""
    comment = f'--comment "{iptables.service_port_name("default", NAME)}" '
    return sorted(ln.rsplit(" ", 1)[1] for ln in rules.splitlines()
                  if ln.startswith("-A " + iptables.SEP_PREFIX) and comment in ln and "--to-destination" in ln)


def proxies_route_to(cluster: Cluster, ips: list[str]) -> bool:
    """Every running kube-proxy has one KUBE-SEP chain per IP in `ips`, and no other."""
    want = sorted(f"{ip}:{PORT}" for ip in ips)
    return all(sep_targets(p.rules) == want for p in cluster.proxies.values() if p.running)


def _container_id(cluster: Cluster, pod: dict) -> str | None:
    """The id of the Pod's container on its node (what the kubelet would hand to the runtime's Exec)."""
    kubelet = cluster.kubelets[pod["spec"]["nodeName"]]
    ps = kubelet.pods.get(pod["metadata"]["uid"])
    cids = ps.containers.get(CONTAINER) if ps is not None else None
    return cids[-1] if cids else None


def kubectl_exec(cluster: Cluster, pod: str, argv: list[str]):
    """`kubectl exec <pod> -- <argv>`, as far as the simulator goes (see the module docstring): kubectl's GET
    of the Pod, then its exec request (a WebSocket upgrade, so a GET, in kubectl v1.31 -
    k8s.io/kubectl/pkg/cmd/exec/exec.go createExecutor), announced; the command runs in the container."""
    command = f"kubectl exec {pod} -- {' '.join(argv)}"
    k = kubectl(cluster, command)
    resp = yield k.get("pods", pod, namespace="default")
    path = exec_path(pod, argv)
    lb = cluster.lb
    cluster.tracer.emit("kubectl", "kubectl", "kubectl.request", f"{command}: GET {path}",
                        {"method": "GET", "path": path, "user": "kubernetes-admin", "verb": "get",
                         "resource": "pods", "body": None},
                        to=ref("load-balancer" if lb is not cluster.apiserver else "apiserver", lb.instance),
                        obj={"kind": "Pod", "namespace": "default", "name": pod})
    cid = _container_id(cluster, resp.body)
    code, _out, _timed_out = cluster.runtimes[resp.body["spec"]["nodeName"]].exec_sync(cid, argv, 10.0)
    return code


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: Steps = tracer.step_policy
    replicas, scaled = params["replicas"], params["replicas"] + params["add"]

    def ready_ips() -> list[str]:
        return sorted(p["status"]["podIP"] for p in running_pods(cluster, "default", f"{NAME}-"))

    def settled(count: int) -> bool:
        """`count` Pods ready (and no other), all in the Endpoints and in every node's rules."""
        ips = ready_ips()
        return len(ips) == count and len(objects(cluster, f"/registry/pods/default/{NAME}-")) == count and \
            addresses(cluster) == ips and proxies_route_to(cluster, ips)

    def script():
        yield 0.05
        steps.open(tracer, 1)
        yield kubectl(cluster, "kubectl create -f web.yaml").create("deployments", manifest(replicas), namespace="default")
        yield from until(cluster, lambda: len(ready_ips()) == replicas)
        yield PAUSE
        steps.open(tracer, 2)
        k = kubectl(cluster, f"kubectl expose deployment {NAME} --port={PORT}")
        yield k.get("deployments", NAME, namespace="default")
        yield k.create("services", service(), namespace="default")
        yield from until(cluster, lambda: settled(replicas))
        yield PAUSE
        steps.open(tracer, 5)
        yield kubectl(cluster, f"kubectl scale deployment {NAME} --replicas={scaled}").patch(
            "deployments", NAME, {"spec": {"replicas": scaled}}, namespace="default", subresource="scale")
        yield from until(cluster, lambda: settled(scaled))
        yield PAUSE
        # The Pod whose endpoint comes last in the Service chain (kube-proxy orders endpoints by "ip:port"
        # as strings): removing it changes the probability of every rule that remains.
        victim_pod = max(running_pods(cluster, "default", f"{NAME}-"), key=lambda p: f"{p['status']['podIP']}:{PORT}")
        victim, victim_ip = victim_pod["metadata"]["name"], victim_pod["status"]["podIP"]
        steps.open(tracer, 7)
        yield env.process(kubectl_exec(cluster, victim, ["rm", READY_FILE]))
        yield from until(cluster, lambda: addresses(cluster, "notReadyAddresses") == [victim_ip]
                         and proxies_route_to(cluster, addresses(cluster)))
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    svc = cluster.get(f"/registry/services/specs/default/{NAME}") or {}
    ready, not_ready = addresses(cluster), addresses(cluster, "notReadyAddresses")
    return (f"{NAME} {svc.get('spec', {}).get('clusterIP', '?')}:{PORT}: {len(ready)} ready endpoint(s), "
            f"{len(not_ready)} not ready")
