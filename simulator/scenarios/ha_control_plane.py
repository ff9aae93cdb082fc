"""Scenario "ha-control-plane": kind's HA shape (three control-plane nodes behind a load balancer, each with
an API server, a stacked etcd member, a scheduler and a controller-manager; one worker). The node where the
scheduler and controller-manager leaders run stops; the load balancer routes around its API server, etcd
keeps a quorum of two; a Pod created meanwhile waits until a standby scheduler takes over the expired
Lease; the Leases show the new holders and a later Pod is scheduled at once; the node comes back as a
standby.

Leader election as kube-scheduler and kube-controller-manager run it in v1.31 (client-go
tools/leaderelection with a Lease lock in kube-system; --leader-elect-lease-duration 15s,
--leader-elect-renew-deadline 10s, --leader-elect-retry-period 2s), modelled in simulator/leaderelection.py."""
from __future__ import annotations

from ..cluster import Cluster
from ..kernel import Future
from ..topology import ha_topology
from .pod_create import manifest as run_manifest
from .script import ScriptSteps, kubectl, objects, running_pods, until

ID = "ha-control-plane"
PAUSE = 2.0        # virtual seconds of calm between the acts
IMAGE = "nginx"
LEASES = ("kube-scheduler", "kube-controller-manager")
WAITING = "waiting"   # the Pods created while no scheduler leads: waiting-1, waiting-2 ...
LATER = "later"       # the Pod created after the takeover

CATALOG = {
    "id": ID,
    "title": {"en": "HA control plane: leader election", "ko": "HA 컨트롤 플레인: 리더 선출"},
    "description": {
        "en": "Three control-plane nodes behind a load balancer; one scheduler and one controller-manager lead "
              "by holding a Lease. Stop the node they run on and watch the API stay up, etcd keep its quorum and "
              "the standbys take over the Leases once they expire.",
        "ko": "로드 밸런서 뒤에 컨트롤 플레인 노드 세 대가 있고, 스케줄러와 컨트롤러 매니저는 Lease를 쥔 하나만 "
              "리더로 일합니다. 리더가 있는 노드를 멈추면 API는 계속 응답하고, etcd는 쿼럼을 지키며, Lease가 "
              "만료되면 대기하던 인스턴스가 넘겨받는 과정을 지켜봅니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "waiting_pods", "type": "int", "default": 1, "min": 1, "max": 3,
         "label": {"en": "Pods created while no scheduler leads", "ko": "스케줄러 리더가 없는 동안 만들 Pod 수"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "Three of everything, one leader each", "ko": "모든 것이 셋, 리더는 하나씩"},
         "narration": {
             "en": "Three control-plane nodes stand behind a load balancer, each running an API server, an etcd "
                   "member, a scheduler and a controller-manager. All three API servers serve requests, but two "
                   "schedulers acting at once would place the same Pod twice, so the schedulers - and likewise the "
                   "controller-managers - agree on one leader. kubectl reads the two Leases in kube-system: "
                   "holderIdentity names the leader (hostname_uuid). The leader renews every 2 seconds, a Lease "
                   "left unrenewed for 15 seconds (leaseDurationSeconds) counts as abandoned, and the standbys "
                   "check it every 2 seconds plus a random jitter. Think of a duty roster: only the name on it may "
                   "act, and it keeps its place only by signing again and again.",
             "ko": "로드 밸런서 뒤에 컨트롤 플레인 노드 세 대가 있고, 각 노드에서 API 서버, etcd 멤버, 스케줄러, "
                   "컨트롤러 매니저가 돕니다. API 서버는 셋 모두 요청을 처리하지만, 스케줄러 둘이 동시에 움직이면 같은 "
                   "Pod를 두 번 배치할 수 있습니다. 그래서 스케줄러끼리, 컨트롤러 매니저끼리 리더 하나를 정합니다. "
                   "kubectl이 kube-system의 Lease 두 개를 읽습니다. holderIdentity가 리더(호스트이름_UUID)입니다. "
                   "리더는 2초마다 갱신하고, 15초(leaseDurationSeconds) 동안 갱신되지 않은 Lease는 버려진 것으로 "
                   "보며, 대기자들은 2초에 약간의 무작위 간격을 더해 확인합니다. 당번표를 떠올려 보세요. 이름이 "
                   "적힌 사람만 일할 수 있고, 계속 서명해야 그 자리를 지킬 수 있습니다."}},
        {"n": 2,
         "title": {"en": "The leaders' node fails", "ko": "리더가 있는 노드가 멈춤"},
         "narration": {
             "en": "The control-plane node where both leaders run stops: its kubelet, API server, etcd member, "
                   "scheduler and controller-manager all go at once. The leaders stop renewing but release nothing - "
                   "a crashed process cannot hand over. The load balancer's health check of that API server fails "
                   "and it leaves the rotation. If the stopped etcd member was the Raft leader, the other two elect "
                   "a new one within a second or two: two of three is still a quorum.",
             "ko": "두 리더가 도는 컨트롤 플레인 노드가 멈춥니다. kubelet, API 서버, etcd 멤버, 스케줄러, 컨트롤러 "
                   "매니저가 한꺼번에 사라집니다. 리더들은 갱신을 멈추지만 Lease를 반납하지는 않습니다. 갑자기 죽은 "
                   "프로세스는 인수인계를 할 수 없기 때문입니다. 로드 밸런서는 그 API 서버의 헬스 체크가 실패하자 "
                   "분배 대상에서 뺍니다. 멈춘 etcd 멤버가 Raft 리더였다면 남은 둘이 1~2초 안에 새 리더를 뽑습니다. "
                   "셋 중 둘이면 여전히 쿼럼입니다."}},
        {"n": 3,
         "title": {"en": "The API answers, but nobody schedules", "ko": "API는 응답하지만 스케줄하는 이가 없음"},
         "narration": {
             "en": "kubectl run creates a Pod. The load balancer sends the request to a healthy API server, etcd "
                   "commits it with two of its three members, and kubectl gets 201 Created. Yet the Pod stays "
                   "Pending: the standby schedulers see it through their informers and hold it in their queues, but "
                   "they may not schedule until one of them holds the Lease. For up to about 15 seconds after the "
                   "failure the cluster accepts work it cannot place.",
             "ko": "kubectl run으로 Pod를 만듭니다. 로드 밸런서가 요청을 정상 API 서버로 보내고, etcd가 세 멤버 중 "
                   "둘로 커밋하며, kubectl은 201 Created를 받습니다. 그런데 Pod는 Pending으로 남습니다. 대기 중인 "
                   "스케줄러들도 인포머로 Pod를 보고 큐에 넣어 두지만, Lease를 쥐기 전에는 스케줄할 수 없습니다. 장애 "
                   "뒤 길게는 15초 남짓 동안 클러스터는 일을 받기만 하고 배치하지는 못합니다."}},
        {"n": 4,
         "title": {"en": "A standby takes the Lease", "ko": "대기자가 Lease를 넘겨받음"},
         "narration": {
             "en": "Each standby remembers when it last saw the Lease record change, by its own clock. Once 15 "
                   "seconds pass without a renewal it writes its own identity into holderIdentity, adds one to "
                   "leaseTransitions and sends the update with the resourceVersion it read. Should two standbys try "
                   "at the same moment, the compare-and-swap lets only one win; the other gets 409 Conflict. The "
                   "winner records the event LeaderElection '... became leader' and starts its loops.",
             "ko": "대기자들은 Lease 기록이 마지막으로 바뀐 때를 각자의 시계로 기억합니다. 갱신 없이 15초가 지나면 "
                   "holderIdentity에 자기 이름을 쓰고 leaseTransitions를 하나 올려, 읽었던 resourceVersion과 함께 "
                   "업데이트를 보냅니다. 두 대기자가 동시에 시도해도 비교 후 교체(compare-and-swap) 덕분에 하나만 "
                   "이기고 다른 하나는 409 Conflict를 받습니다. 이긴 쪽은 LeaderElection 이벤트('... became "
                   "leader')를 남기고 자기 루프를 시작합니다."}},
        {"n": 5,
         "title": {"en": "The waiting Pod is scheduled", "ko": "기다리던 Pod가 스케줄됨"},
         "narration": {
             "en": "The new leading scheduler already has the Pending Pod in its queue, so it filters, scores and "
                   "binds it straight away, and the worker's kubelet starts it. The controller-manager's Lease "
                   "changes hands the same way within a few seconds of the scheduler's: the two standbys were "
                   "timing the two Leases independently.",
             "ko": "새로 리더가 된 스케줄러의 큐에는 Pending Pod가 이미 들어 있으므로, 곧바로 필터링, 점수 매기기, "
                   "바인딩을 하고 워커의 kubelet이 Pod를 시작합니다. 컨트롤러 매니저의 Lease도 스케줄러와 몇 초 "
                   "차이로 같은 방식으로 넘어갑니다. 두 대기자는 두 Lease의 시간을 각자 따로 재고 있었습니다."}},
        {"n": 6,
         "title": {"en": "New holders; new work flows", "ko": "새 리더, 새 작업도 정상"},
         "narration": {
             "en": "kubectl reads the Leases again: holderIdentity now names a process on another node, acquireTime "
                   "is new and leaseTransitions is 1. A Pod created now is scheduled within a fraction of a second, "
                   "as before the failure. Nobody changed any configuration: the election itself was the hand-over.",
             "ko": "kubectl이 Lease를 다시 읽습니다. holderIdentity는 이제 다른 노드의 프로세스를 가리키고, "
                   "acquireTime이 새로 바뀌었으며 leaseTransitions는 1입니다. 지금 만든 Pod는 장애 전처럼 1초도 "
                   "안 되어 스케줄됩니다. 누구도 설정을 바꾸지 않았습니다. 선출 자체가 인수인계였습니다."}},
        {"n": 7,
         "title": {"en": "The old node returns as a standby", "ko": "돌아온 노드는 대기자가 됨"},
         "narration": {
             "en": "The failed node starts again. Its etcd member rejoins and catches up from the Raft leader, the "
                   "load balancer takes its API server back into rotation, and its scheduler and controller-manager "
                   "start as candidates. They find both Leases held and freshly renewed by others, so they wait. "
                   "There is no fail-back: leadership moves only when a leader stops renewing.",
             "ko": "멈췄던 노드가 다시 시작됩니다. etcd 멤버는 다시 합류해 Raft 리더로부터 밀린 기록을 따라잡고, 로드 "
                   "밸런서는 그 API 서버를 다시 분배 대상에 넣으며, 스케줄러와 컨트롤러 매니저는 후보로 시작합니다. "
                   "두 Lease 모두 다른 이가 쥐고 방금 갱신한 것을 보고 이들은 기다립니다. 원래대로 되돌아가는 일"
                   "(fail-back)은 없습니다. 리더십은 리더가 갱신을 멈출 때에만 옮겨 갑니다."}},
    ],
    "questions": [
        {"en": "Why do all three API servers serve requests while only one scheduler works at a time?",
         "ko": "API 서버는 셋 모두 요청을 처리하는데, 스케줄러는 왜 한 번에 하나만 일하나요?"},
        {"en": "Why did the Pod created right after the failure stay Pending until a standby took over the Lease?",
         "ko": "장애 직후에 만든 Pod가 대기자가 Lease를 넘겨받을 때까지 Pending으로 남아 있던 이유는 무엇인가요?"},
        {"en": "What would happen to writes if a second control-plane node failed as well?",
         "ko": "두 번째 컨트롤 플레인 노드까지 멈추면 쓰기는 어떻게 될까요?"},
        {"en": "Why did leadership not return to the first node when it came back?",
         "ko": "첫 번째 노드가 돌아왔는데도 리더십이 그 노드로 돌아가지 않은 이유는 무엇인가요?"},
    ],
}


def topology():
    return ha_topology()


def lease(cluster: Cluster, name: str) -> dict:
    """The Lease as etcd stores it (read from the store, not from an API server's cache: the first API
    server is down for part of this scenario)."""
    return objects(cluster, f"/registry/leases/kube-system/{name}")[0]


def holder(cluster: Cluster, name: str) -> str:
    return (lease(cluster, name).get("spec") or {}).get("holderIdentity") or ""


def reactions(phase: int, type: str, data: dict) -> int | None:
    """After the Pods are created leaderless (phase 3): a standby's first write to a leader-election Lease
    opens 4 (renewals are quiet requests, so the first one seen is a takeover; its `leaderelection` event
    follows once the write is stored), the new scheduler's first Pod opens 5."""
    if phase != 3:
        return None
    if type == "apiserver.request" and data.get("method") == "PUT" and \
            str(data.get("path", "")).startswith("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/"):
        return 4
    if type == "leaderelection" and data.get("action") == "acquired":
        return 4
    if type == "scheduler.queue":
        return 5
    return None


def step_policy(params: dict) -> ScriptSteps:
    return ScriptSteps(reactions)


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer, etcd = cluster.env, cluster.tracer, cluster.etcd
    done = env.future()
    steps: ScriptSteps = tracer.step_policy
    waiting = [f"{WAITING}-{i}" for i in range(1, params["waiting_pods"] + 1)]

    def get_leases():
        cmd = "kubectl get lease -n kube-system " + " ".join(LEASES)
        k = kubectl(cluster, cmd)
        for name in LEASES:          # kubectl GETs each named object in turn
            yield k.get("leases", name, namespace="kube-system")

    def run(name: str):
        return kubectl(cluster, f"kubectl run {name} --image={IMAGE}").create(
            "pods", run_manifest(name, IMAGE), namespace="default")

    def is_running(names) -> bool:
        up = {p["metadata"]["name"] for p in running_pods(cluster, "default", "")}
        return set(names) <= up

    def script():
        yield from until(cluster, lambda: etcd.leader is not None)
        yield PAUSE
        steps.open(tracer, 1)
        yield from get_leases()
        yield PAUSE
        before = {name: holder(cluster, name) for name in LEASES}
        node = before["kube-scheduler"].split("_", 1)[0]   # holderIdentity is "<hostname>_<uuid>"
        steps.open(tracer, 2)
        cluster.stop_node(node)
        yield from until(cluster, lambda: etcd.leader is not None)
        yield PAUSE
        steps.open(tracer, 3)
        for name in waiting:
            yield run(name)
        yield from until(cluster, lambda: all(holder(cluster, n) != before[n] for n in LEASES) and is_running(waiting),
                         limit=120.0)
        yield PAUSE
        steps.open(tracer, 6)
        yield from get_leases()
        yield run(LATER)
        yield from until(cluster, lambda: is_running([LATER]))
        yield PAUSE
        steps.open(tracer, 7)
        cluster.start_node(node)
        # A few retry periods: the returning candidates look at the Leases and stay standbys.
        yield 3 * PAUSE
        yield from until(cluster, lambda: etcd.leader is not None and len(etcd.running()) == len(etcd.members))
        yield from get_leases()
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    leaders = ", ".join(f"{name} held by {holder(cluster, name).split('_', 1)[0]}" for name in LEASES)
    n = len(running_pods(cluster, "default", ""))
    return f"{leaders}; {n}/{params['waiting_pods'] + 1} Pods Running"
