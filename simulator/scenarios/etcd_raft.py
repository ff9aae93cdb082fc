"""Scenario "etcd-raft": kind's HA shape (three control-plane nodes, each with a stacked etcd member, and a
worker). A write committed by a quorum; the leader's member stopped and a new leader elected in a higher
term; a second member stopped, so no quorum and a write that fails; a member back and writes commit again."""
from __future__ import annotations

from ..cluster import Cluster
from ..kernel import Future
from ..topology import ha_topology
from .script import ScriptSteps, kubectl, until

ID = "etcd-raft"
PAUSE = 2.0   # virtual seconds of calm between the acts

CATALOG = {
    "id": ID,
    "title": {"en": "etcd and Raft: leader, quorum, election", "ko": "etcd와 Raft: 리더, 쿼럼, 선거"},
    "description": {
        "en": "Three etcd members keep the cluster's records in agreement. Stop the leader and watch an election; "
              "stop a second member and see writes refused without a majority; bring one back.",
        "ko": "세 개의 etcd 멤버가 클러스터의 기록을 합의로 지킵니다. 리더를 멈추면 선거가 열리고, 두 번째 멤버까지 "
              "멈추면 과반이 없어 쓰기가 거절됩니다. 멤버 하나를 되살려 다시 확인합니다.",
    },
    "backends": ["sim"],
    "params": [],
    "steps": [
        {"n": 1,
         "title": {"en": "A write goes through the leader", "ko": "쓰기는 리더를 거친다"},
         "narration": {
             "en": "kubectl creates a ConfigMap. Whichever API server receives it sends the write to etcd, and "
                   "inside etcd only the Raft leader may append it to the log. The leader ships the entry to both "
                   "followers and commits it as soon as a majority - two of three, itself included - has it on disk. "
                   "Like a bank vault that opens only when two of its three keyholders turn their keys.",
             "ko": "kubectl이 ConfigMap을 만듭니다. 요청을 받은 API 서버가 etcd에 쓰기를 보내고, etcd 안에서는 Raft "
                   "리더만 이를 로그에 추가할 수 있습니다. 리더는 항목을 두 팔로워에게 보내고, 자신을 포함한 과반(셋 중 "
                   "둘)이 디스크에 기록하면 바로 커밋합니다. 열쇠 셋 중 둘이 돌아가야 열리는 은행 금고와 같습니다."}},
        {"n": 2,
         "title": {"en": "The leader's member stops", "ko": "리더 멤버가 멈춤"},
         "narration": {
             "en": "The etcd member that leads stops, as if its control-plane node crashed. Its log, term and vote "
                   "stay on disk. The API server on that node loses its local member too, fails its health check, "
                   "and the load balancer sends requests to the other two API servers.",
             "ko": "리더인 etcd 멤버가 멈춥니다. 컨트롤 플레인 노드가 고장 난 상황과 같습니다. 로그, 텀, 투표 기록은 "
                   "디스크에 남아 있습니다. 같은 노드의 API 서버도 자기 멤버를 잃어 헬스 체크에 실패하고, 로드 밸런서는 "
                   "나머지 두 API 서버로 요청을 보냅니다."}},
        {"n": 3,
         "title": {"en": "An election in a higher term", "ko": "더 높은 텀의 선거"},
         "narration": {
             "en": "The followers stop hearing heartbeats. When one's randomized election timeout runs out it first "
                   "checks with a pre-vote that it could win, then raises the term by one and asks for votes. With "
                   "the other follower's vote it has two of three: it leads the new term. Every entry committed "
                   "before is still there, because a candidate with a shorter log cannot win.",
             "ko": "팔로워들에게 하트비트가 오지 않습니다. 무작위로 정해진 선거 타임아웃이 먼저 끝난 멤버가 프리보트로 "
                   "이길 수 있는지 확인한 뒤, 텀을 하나 올리고 투표를 요청합니다. 다른 팔로워의 표를 얻으면 셋 중 둘이 "
                   "되어 새 텀의 리더가 됩니다. 로그가 더 짧은 후보는 이길 수 없으므로 이전에 커밋된 항목은 모두 "
                   "남아 있습니다."}},
        {"n": 4,
         "title": {"en": "Two of three still make a quorum", "ko": "셋 중 둘이면 여전히 쿼럼"},
         "narration": {
             "en": "A second ConfigMap is written. The new leader and the one remaining follower are a majority of "
                   "the three members, so the write commits as before. A three-member cluster survives one failure.",
             "ko": "두 번째 ConfigMap을 씁니다. 새 리더와 남은 팔로워 하나가 세 멤버의 과반이므로 쓰기는 전처럼 "
                   "커밋됩니다. 멤버 셋인 클러스터는 하나가 고장 나도 버팁니다."}},
        {"n": 5,
         "title": {"en": "A second member stops: no quorum", "ko": "두 번째 멤버도 멈춤: 쿼럼 없음"},
         "narration": {
             "en": "Another member stops. One member alone is not a majority of three: it cannot be elected, and "
                   "the leader it follows can no longer reach anyone, so it steps down. The cluster has no leader "
                   "and cannot commit anything.",
             "ko": "멤버 하나가 더 멈춥니다. 혼자 남은 멤버는 셋의 과반이 아니어서 리더로 뽑힐 수 없고, 아무와도 "
                   "연락이 닿지 않는 리더는 물러납니다. 리더가 없는 클러스터는 아무것도 커밋할 수 없습니다."}},
        {"n": 6,
         "title": {"en": "A write without quorum fails", "ko": "쿼럼 없는 쓰기는 실패"},
         "narration": {
             "en": "kubectl tries to create a third ConfigMap. The API server passes authentication, authorization "
                   "and admission, but etcd has no leader to take the entry. The request waits until its deadline runs "
                   "out ('context deadline exceeded') and the API server answers kubectl with a 500 error. Nothing "
                   "is stored. This is why production control planes run an odd number of members on separate machines.",
             "ko": "kubectl이 세 번째 ConfigMap을 만들려고 합니다. API 서버는 인증, 인가, 어드미션을 통과시키지만 etcd가 "
                   "항목을 받아 줄 리더가 없습니다. 요청은 기한이 다할 때까지 기다리다 끝나고('context deadline exceeded'), "
                   "API 서버는 kubectl에 500 오류로 답합니다. 아무것도 저장되지 않습니다. 운영 환경의 컨트롤 플레인이 홀수 개의 "
                   "멤버를 서로 다른 머신에 두는 이유입니다."}},
        {"n": 7,
         "title": {"en": "A member comes back", "ko": "멤버 하나가 돌아옴"},
         "narration": {
             "en": "The first stopped member restarts from its persisted log. Two of three are running again: an "
                   "election in yet a higher term gives the cluster a leader, and the returning member catches up "
                   "with the entries it missed.",
             "ko": "처음 멈춘 멤버가 디스크의 로그로 다시 시작합니다. 셋 중 둘이 다시 실행되므로 한 단계 더 높은 텀의 "
                   "선거로 리더가 생기고, 돌아온 멤버는 놓친 항목을 따라잡습니다."}},
        {"n": 8,
         "title": {"en": "Writes commit again", "ko": "쓰기가 다시 커밋됨"},
         "narration": {
             "en": "kubectl creates the ConfigMap once more and this time gets 201 Created: a leader and a majority "
                   "are back. What was committed before the outage was never lost.",
             "ko": "kubectl이 ConfigMap을 다시 만들고 이번에는 201 Created를 받습니다. 리더와 과반이 돌아왔습니다. "
                   "장애 전에 커밋된 내용은 하나도 사라지지 않았습니다."}},
    ],
    "questions": [
        {"en": "How many of the three members must be running for a write to commit, and why that number?",
         "ko": "쓰기가 커밋되려면 세 멤버 중 몇 개가 실행 중이어야 하며, 왜 그 수인가요?"},
        {"en": "What happened to the term when the new leader was elected?",
         "ko": "새 리더가 뽑혔을 때 텀은 어떻게 바뀌었나요?"},
        {"en": "Would a fourth member make this cluster survive two failures? Why or why not?",
         "ko": "멤버를 넷으로 늘리면 두 개의 고장을 견딜 수 있을까요? 그 이유는 무엇인가요?"},
    ],
}


def topology():
    return ha_topology()


def configmap(name: str) -> dict:
    """What `kubectl create configmap <name> --from-literal=lesson=raft` sends."""
    return {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name, "creationTimestamp": None},
            "data": {"lesson": "raft"}}


def reactions(phase: int, type: str, data: dict) -> int | None:
    """The script opens every step but 3, which the first new leader after the leader stopped opens."""
    return 3 if type == "etcd.raft.leader" and phase == 2 else None


def step_policy(params: dict) -> ScriptSteps:
    return ScriptSteps(reactions)


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer, etcd = cluster.env, cluster.tracer, cluster.etcd
    done = env.future()
    steps: ScriptSteps = tracer.step_policy

    def create(name: str):
        return kubectl(cluster, f"kubectl create configmap {name} --from-literal=lesson=raft").create(
            "configmaps", configmap(name), namespace="default")

    def script():
        yield from until(cluster, lambda: etcd.leader is not None)
        yield PAUSE
        steps.open(tracer, 1)
        yield create("first")
        yield PAUSE
        leader = etcd.leader
        steps.open(tracer, 2)
        etcd.stop_member(leader)
        yield from until(cluster, lambda: etcd.leader is not None)
        yield PAUSE
        steps.open(tracer, 4)
        yield create("second")
        yield PAUSE
        steps.open(tracer, 5)
        etcd.stop_member(next(m for m in etcd.members if m not in (leader, etcd.leader)))
        yield PAUSE
        steps.open(tracer, 6)
        yield create("third")          # fails: no quorum
        yield PAUSE
        steps.open(tracer, 7)
        etcd.start_member(leader)
        yield from until(cluster, lambda: etcd.leader is not None)
        yield PAUSE
        steps.open(tracer, 8)
        yield create("third")
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    return f"leader {cluster.etcd.leader}, term {cluster.etcd.term}, {len(cluster.etcd.running())} of 3 members running"
