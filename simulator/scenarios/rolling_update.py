"""Scenario "rolling-update": a Deployment of nginx on a kind cluster of one control-plane node and two
workers; `kubectl set image` rolls it to a new image - a second ReplicaSet grows while the first shrinks,
within maxSurge and maxUnavailable - and `kubectl rollout undo` rolls it back to the first ReplicaSet."""
from __future__ import annotations

from ..cluster import Cluster, default_topology
from ..controllers.deployment import (HASH_LABEL, REVISION, deployment_complete, equal_ignore_hash,
                                      resolve_fenceposts, rollback)
from ..kernel import Future
from .script import ScriptSteps, kubectl, objects, until

ID = "rolling-update"
NAME = "web"
CONTAINER = "nginx"
OLD_IMAGE = "nginx:1.25"
NEW_IMAGES = ["nginx:1.26", "nginx:1.27"]
# An int or a percentage, as in spec.strategy.rollingUpdate (both 0 is refused by validation with 422).
BOUNDS = ["0", "1", "2", "25%", "50%"]
PAUSE = 2.0   # virtual seconds of calm between the acts

CATALOG = {
    "id": ID,
    "title": {"en": "Rolling update and rollback", "ko": "롤링 업데이트와 롤백"},
    "description": {
        "en": "Change a Deployment's image and watch a new ReplicaSet replace the old one a few Pods at a time, "
              "never above maxSurge extra Pods and never below maxUnavailable missing ones; then undo it.",
        "ko": "Deployment의 이미지를 바꾸면 새 ReplicaSet이 기존 ReplicaSet을 몇 개씩 교체합니다. 초과 Pod는 "
              "maxSurge를 넘지 않고, 부족한 Pod는 maxUnavailable을 넘지 않습니다. 마지막에는 되돌립니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "replicas", "type": "int", "default": 4, "min": 2, "max": 8,
         "label": {"en": "Replicas", "ko": "복제본 수"}},
        {"name": "max_surge", "type": "str", "default": "25%", "choices": BOUNDS,
         "label": {"en": "maxSurge (Pods above the desired count)", "ko": "maxSurge (원하는 수보다 더 만들 수 있는 Pod)"}},
        {"name": "max_unavailable", "type": "str", "default": "25%", "choices": BOUNDS,
         "label": {"en": "maxUnavailable (Pods that may be missing)", "ko": "maxUnavailable (모자라도 되는 Pod)"}},
        {"name": "new_image", "type": "str", "default": NEW_IMAGES[0], "choices": NEW_IMAGES,
         "label": {"en": "Image to roll out (from nginx:1.25)", "ko": "새로 배포할 이미지 (기존 nginx:1.25)"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "kubectl creates the Deployment", "ko": "kubectl이 Deployment 생성"},
         "narration": {
             "en": "kubectl sends a Deployment of nginx:1.25 whose strategy is RollingUpdate, with the two numbers "
                   "that govern an update: maxSurge, how many Pods may exist above the desired count, and "
                   "maxUnavailable, how many may be missing. Percentages are taken of the replica count; surge "
                   "rounds up, unavailable rounds down, so 25% of 4 is one of each.",
             "ko": "kubectl이 nginx:1.25로 된 Deployment를 보냅니다. 전략은 RollingUpdate이고, 업데이트를 다스리는 두 "
                   "숫자가 들어 있습니다. maxSurge는 원하는 수보다 몇 개 더 있어도 되는지, maxUnavailable은 몇 개까지 "
                   "모자라도 되는지입니다. 퍼센트는 복제본 수를 기준으로 계산하며 surge는 올림, unavailable은 내림이라 "
                   "4개의 25%는 각각 1개가 됩니다."}},
        {"n": 2,
         "title": {"en": "Revision 1: the first ReplicaSet", "ko": "리비전 1: 첫 ReplicaSet"},
         "narration": {
             "en": "The Deployment controller hashes the Pod template and creates ReplicaSet web-<hash> with the "
                   "annotation deployment.kubernetes.io/revision: \"1\". The ReplicaSet controller creates the Pods, "
                   "each labelled with the same pod-template-hash, and the kubelets start them. A Pod counts as "
                   "available once its readiness probe passes.",
             "ko": "Deployment 컨트롤러가 Pod 템플릿의 해시를 구해 web-<해시> ReplicaSet을 만들고 "
                   "deployment.kubernetes.io/revision: \"1\" 어노테이션을 붙입니다. ReplicaSet 컨트롤러가 같은 "
                   "pod-template-hash 레이블을 단 Pod들을 만들고 kubelet이 실행합니다. Pod는 readiness 프로브를 "
                   "통과해야 '사용 가능(available)'으로 셉니다."}},
        {"n": 3,
         "title": {"en": "kubectl set image", "ko": "kubectl set image"},
         "narration": {
             "en": "kubectl reads the Deployment, changes the container's image in its copy and sends only the "
                   "difference as a strategic merge patch. The Pod template changed, so the Deployment's generation "
                   "goes up. No Pod is touched by kubectl: the change is again only a written wish.",
             "ko": "kubectl이 Deployment를 읽어 자기 사본에서 컨테이너 이미지를 바꾸고, 달라진 부분만 strategic merge "
                   "patch로 보냅니다. Pod 템플릿이 바뀌었으니 Deployment의 generation이 올라갑니다. kubectl은 Pod를 "
                   "하나도 건드리지 않습니다. 이번에도 바뀐 것은 기록된 '바람'뿐입니다."}},
        {"n": 4,
         "title": {"en": "Revision 2: a new ReplicaSet", "ko": "리비전 2: 새 ReplicaSet"},
         "narration": {
             "en": "No ReplicaSet has the new template, so the Deployment controller creates one with a new "
                   "pod-template-hash and revision 2, just big enough that all Pods together stay within "
                   "replicas + maxSurge. In the same pass it may already scale the old ReplicaSet down, as far as "
                   "maxUnavailable allows: with 4 replicas and 25%/25%, one new Pod is added and one old Pod goes "
                   "at once. The new Pods must pull the new image and pass their readiness probe before they count.",
             "ko": "새 템플릿을 가진 ReplicaSet이 없으므로 Deployment 컨트롤러가 새 pod-template-hash와 리비전 2로 "
                   "ReplicaSet을 만듭니다. 크기는 전체 Pod 수가 replicas + maxSurge를 넘지 않을 만큼입니다. 같은 "
                   "처리에서 maxUnavailable이 허락하는 만큼 기존 ReplicaSet을 줄이기도 합니다. 복제본 4개에 25%/25%라면 "
                   "새 Pod 하나가 추가되고 기존 Pod 하나가 동시에 빠집니다. 새 Pod는 새 이미지를 받고 readiness "
                   "프로브를 통과해야 사용 가능한 Pod로 셉니다."}},
        {"n": 5,
         "title": {"en": "Old down, new up, a few at a time", "ko": "기존은 줄이고 새것은 늘리고, 몇 개씩"},
         "narration": {
             "en": "The first new Pod turns Ready. Each time that happens the controller may scale the old ReplicaSet "
                   "down again, but never below replicas - maxUnavailable available Pods, and each old Pod that goes "
                   "makes room to scale the new one up. The two ReplicaSets trade places step by step, like a relay "
                   "where the next runner must hold the baton before the last one lets go. The old ReplicaSet ends "
                   "at 0 replicas but is kept, for a rollback.",
             "ko": "첫 새 Pod가 Ready가 됩니다. 그럴 때마다 컨트롤러는 기존 ReplicaSet을 다시 줄일 수 있지만, 사용 가능한 "
                   "Pod가 replicas - maxUnavailable 아래로 내려가게 하지는 않습니다. 기존 Pod 하나가 빠지면 그만큼 새 "
                   "ReplicaSet을 늘릴 자리가 생깁니다. 다음 주자가 바통을 잡아야 앞 주자가 손을 놓는 이어달리기처럼 두 "
                   "ReplicaSet이 한 걸음씩 자리를 바꿉니다. 기존 ReplicaSet은 복제본 0개가 되지만 롤백을 위해 남겨 둡니다."}},
        {"n": 6,
         "title": {"en": "kubectl rollout undo", "ko": "kubectl rollout undo"},
         "narration": {
             "en": "Rolling back is done by kubectl, not by a controller: it reads the Deployment, lists its "
                   "ReplicaSets, picks the one of the previous revision and patches the Deployment's Pod template "
                   "back to that ReplicaSet's template (without the pod-template-hash label).",
             "ko": "롤백은 컨트롤러가 아니라 kubectl이 합니다. Deployment를 읽고 그 ReplicaSet 목록을 가져와 직전 "
                   "리비전의 ReplicaSet을 고른 뒤, Deployment의 Pod 템플릿을 그 템플릿으로(pod-template-hash 레이블은 "
                   "빼고) 되돌리는 패치를 보냅니다."}},
        {"n": 7,
         "title": {"en": "The old ReplicaSet comes back as revision 3", "ko": "기존 ReplicaSet이 리비전 3으로 복귀"},
         "narration": {
             "en": "The template now equals the first ReplicaSet's, so the Deployment controller makes no new "
                   "ReplicaSet: it reuses the old one, gives it the next revision number, 3, and rolls forward to it "
                   "under the same maxSurge and maxUnavailable rules. Revision 1 disappears from the history because "
                   "it became revision 3.",
             "ko": "이제 템플릿이 첫 ReplicaSet과 같으므로 Deployment 컨트롤러는 ReplicaSet을 새로 만들지 않습니다. "
                   "기존 것을 다시 쓰면서 다음 리비전 번호 3을 붙이고, 같은 maxSurge·maxUnavailable 규칙으로 그쪽으로 "
                   "교체합니다. 리비전 1은 3이 되었으므로 이력에서 사라집니다."}},
    ],
    "questions": [
        {"en": "With 4 replicas and maxSurge 25%, maxUnavailable 25%, how many Pods can exist at most, and how "
               "many must stay available, during the update?",
         "ko": "복제본 4개에 maxSurge 25%, maxUnavailable 25%라면 업데이트 중 Pod는 최대 몇 개까지 있을 수 있고, "
               "최소 몇 개는 사용 가능해야 하나요?"},
        {"en": "Why did the rollback not create a third ReplicaSet?",
         "ko": "롤백할 때 세 번째 ReplicaSet이 생기지 않은 이유는 무엇인가요?"},
        {"en": "Which revision number does the Deployment show after the undo, and why is it not 1?",
         "ko": "되돌린 뒤 Deployment의 리비전 번호는 무엇이며, 왜 1이 아닌가요?"},
        {"en": "What would change if maxSurge were 0?",
         "ko": "maxSurge가 0이면 무엇이 달라질까요?"},
    ],
}


def topology():
    return default_topology(workers=2)


def _bound(v: str):
    """A parameter as the API takes it: an int, or a percentage string."""
    return v if v.endswith("%") else int(v)


def bounds(params: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) in Pods for the replica count (util.ResolveFenceposts)."""
    return resolve_fenceposts(_bound(params["max_surge"]), _bound(params["max_unavailable"]), params["replicas"])


def manifest(params: dict) -> dict:
    """web.yaml, as `kubectl create -f web.yaml` sends it: nginx with a readiness probe on port 80 (so a
    Pod is available only once nginx answers), and the rolling-update bounds of the parameters."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": NAME, "labels": {"app": NAME}},
            "spec": {"replicas": params["replicas"], "selector": {"matchLabels": {"app": NAME}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": _bound(params["max_surge"]),
                                                    "maxUnavailable": _bound(params["max_unavailable"])}},
                     "template": {"metadata": {"labels": {"app": NAME}},
                                  "spec": {"containers": [{
                                      "name": CONTAINER, "image": OLD_IMAGE, "ports": [{"containerPort": 80}],
                                      "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2}}]}}}}


def set_image_patch(image: str) -> dict:
    """The body of `kubectl set image deployment/web nginx=<image>`: kubectl's two-way strategic merge patch
    (k8s.io/kubectl/pkg/cmd/set/set_image.go -> strategicpatch.CreateTwoWayMergePatch), which names the
    list order of the containers it keeps with $setElementOrder."""
    return {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": CONTAINER}],
                                           "containers": [{"image": image, "name": CONTAINER}]}}}}


def reactions(phase: int, type: str, data: dict) -> int | None:
    """Steps 1, 3 and 6 open as kubectl acts; the others open with the answer that begins them: the
    Deployment controller's POST of a ReplicaSet (2 and 4), the first Pod of the new template turning
    Ready, which is what lets the controller go on (5: after `set image` only new Pods are starting), and
    the controller's first write to a ReplicaSet after the undo (7: the revision annotation, then the
    scale). `phase` is the step the script opened last (1, 3 or 6)."""
    if type == "apiserver.request":
        method, path = data.get("method"), str(data.get("path", ""))
        if phase in (1, 3) and method == "POST" and path.endswith("/replicasets"):
            return phase + 1
        if phase == 6 and method == "PUT" and "/replicasets/" in path and not path.endswith("/status"):
            return 7
    if phase == 3 and type == "kubelet.probe" and data.get("probe") == "readiness" and data.get("result") == "Success":
        return 5
    return None


def step_policy(params: dict) -> ScriptSteps:
    return ScriptSteps(reactions)


def replicasets(cluster: Cluster) -> list[dict]:
    return objects(cluster, f"/registry/replicasets/default/{NAME}-")


def deployment(cluster: Cluster) -> dict | None:
    return cluster.get(f"/registry/deployments/default/{NAME}")


def rolled_out(cluster: Cluster, replicas: int) -> bool:
    """What `kubectl rollout status` waits for (the controller observed the change; every replica updated
    and available; no old replica left), and no old Pod still terminating."""
    d = deployment(cluster)
    if d is None or not deployment_complete(d, d.get("status") or {}):
        return False
    pods = objects(cluster, f"/registry/pods/default/{NAME}-")
    return len(pods) == replicas and all(not p["metadata"].get("deletionTimestamp") for p in pods)


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: ScriptSteps = tracer.step_policy
    replicas, image = params["replicas"], params["new_image"]

    def script():
        yield 0.05
        steps.open(tracer, 1)
        resp = yield kubectl(cluster, "kubectl create -f web.yaml").create("deployments", manifest(params),
                                                                            namespace="default")
        if resp.code != 201:   # maxSurge and maxUnavailable both 0: 422 Invalid, nothing to roll
            done.resolve(env.now)
            return
        yield from until(cluster, lambda: rolled_out(cluster, replicas))
        yield PAUSE
        steps.open(tracer, 3)
        k = kubectl(cluster, f"kubectl set image deployment/{NAME} {CONTAINER}={image}")
        yield k.get("deployments", NAME, namespace="default")
        yield k.patch("deployments", NAME, set_image_patch(image), namespace="default", patch_type="strategic")
        yield from until(cluster, lambda: rolled_out(cluster, replicas)
                         and deployment(cluster)["spec"]["template"]["spec"]["containers"][0]["image"] == image)
        yield PAUSE
        steps.open(tracer, 6)
        k = kubectl(cluster, f"kubectl rollout undo deployment/{NAME}")
        yield env.process(rollback(k, NAME, namespace="default"))
        yield from until(cluster, lambda: rolled_out(cluster, replicas)
                         and deployment(cluster)["spec"]["template"]["spec"]["containers"][0]["image"] == OLD_IMAGE)
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    d = deployment(cluster)
    if d is None:
        return "Deployment refused"
    rev = (d["metadata"].get("annotations") or {}).get(REVISION, "?")
    tpl = d["spec"]["template"]
    image = tpl["spec"]["containers"][0]["image"]
    (current,) = [rs for rs in replicasets(cluster) if equal_ignore_hash(rs["spec"]["template"], tpl)] or [None]
    h = current["metadata"]["labels"][HASH_LABEL] if current else "?"
    ready = (d.get("status") or {}).get("availableReplicas", 0)
    return f"revision {rev}: {ready}/{params['replicas']} available, {image}, ReplicaSet {NAME}-{h}"
