"""Scenario "apiserver-security": the API server's three gates - authentication, authorization, admission -
seen from the requests they stop and the ones they let through.

A request with no credentials (anonymous, refused by RBAC: 403); one with a token nobody issued (401); the
user jane, authenticated but allowed nothing (403, and `kubectl auth can-i` says no); the admin creates the
namespace dev, a Role and a RoleBinding, and the same requests pass; a LimitRange fills in the resources of a
Pod that named none (mutating admission); a ResourceQuota refuses a Pod that would exceed it (403 at
validating admission). Nothing a gate refused reaches etcd.
"""
from __future__ import annotations

import weakref

from ..apiserver import Credential, registry
from ..cluster import Cluster, default_topology
from ..kernel import Future
from .script import Kubectl, ScriptSteps, kubectl, objects, running_pods, until

ID = "apiserver-security"
NS = "dev"
USER = "jane"
GROUP = "developers"
# A token nobody issued. (jane's own token, when she uses one, is a line of the API server's
# --token-auth-file: "token,user,uid,groups".)
BOGUS_TOKEN = "not-a-real-token"
JANE_TOKEN = "jane-0123456789abcdef"
# kind's control-plane node, as seen from the node's Docker network (kube-apiserver listens on 6443).
SERVER = "https://172.18.0.2:6443"
ROLE, BINDING, LIMITS, QUOTA = "pod-manager", "jane-pod-manager", "defaults", "dev-quota"
PAUSE = 1.0   # virtual seconds of calm between the acts
RBAC = "rbac.authorization.k8s.io"

CATALOG = {
    "id": ID,
    "title": {"en": "The API server's three gates: authentication, authorization, admission",
              "ko": "API 서버의 세 관문: 인증, 인가, 어드미션"},
    "description": {
        "en": "Send requests that the API server turns away at each gate - no credentials, a fake token, a user "
              "without permission, a Pod over quota - and requests it lets through once the admin has granted a "
              "Role and set namespace defaults. Watch which requests reach etcd.",
        "ko": "자격 증명 없는 요청, 가짜 토큰, 권한 없는 사용자, 할당량을 넘는 Pod처럼 API 서버가 관문마다 돌려보내는 "
              "요청과, 관리자가 Role을 주고 네임스페이스 기본값을 정한 뒤 통과하는 요청을 보냅니다. 어떤 요청이 "
              "etcd까지 가는지 지켜봅니다.",
    },
    "backends": ["sim"],
    "params": [
        {"name": "credential", "type": "str", "default": "certificate", "choices": ["certificate", "token"],
         "label": {"en": "How jane proves who she is", "ko": "jane이 신원을 증명하는 방법"}},
        {"name": "default_cpu", "type": "int", "default": 250, "min": 100, "max": 400,
         "label": {"en": "LimitRange default CPU request (millicores)", "ko": "LimitRange 기본 CPU 요청량(밀리코어)"}},
    ],
    "steps": [
        {"n": 1,
         "title": {"en": "No credentials: an anonymous request", "ko": "자격 증명 없음: 익명 요청"},
         "narration": {
             "en": "Someone sends a Pod to the API server with curl and shows no identification at all. Like a "
                   "government office that lets visitors into the lobby, kube-apiserver accepts such a request as "
                   "the user system:anonymous in the group system:unauthenticated (anonymous access is on by "
                   "default, in kind too). Passing the first gate means nothing here: at the second gate RBAC finds "
                   "no rule letting an anonymous visitor create Pods, and the answer is 403 Forbidden, naming "
                   "system:anonymous. Only a handful of paths such as /version and /healthz are open to everyone. "
                   "Nothing is written to etcd.",
             "ko": "누군가 curl로 신분을 전혀 밝히지 않은 채 Pod를 API 서버에 보냅니다. 방문객을 로비까지는 들여보내는 "
                   "관공서처럼, kube-apiserver는 이 요청을 system:unauthenticated 그룹의 system:anonymous 사용자로 "
                   "받아들입니다(익명 접근은 기본으로 켜져 있고 kind도 마찬가지입니다). 하지만 첫 관문을 지난 것은 "
                   "아무 의미가 없습니다. 두 번째 관문에서 RBAC는 익명 방문자에게 Pod 생성을 허락하는 규칙을 찾지 "
                   "못하고, system:anonymous를 명시한 403 Forbidden이 돌아갑니다. 누구에게나 열린 곳은 /version, "
                   "/healthz 같은 몇몇 경로뿐입니다. etcd에는 아무것도 기록되지 않습니다."}},
        {"n": 2,
         "title": {"en": "A token nobody issued: 401", "ko": "발급된 적 없는 토큰: 401"},
         "narration": {
             "en": "The same request again, now with a bearer token that the cluster never issued. This time the "
                   "first gate refuses: a credential that is presented but cannot be verified is an error, and the "
                   "API server does not quietly downgrade the caller to anonymous (a forged pass is worse than no "
                   "pass). The answer is 401 Unauthorized, with no detail about why. So: 401 means 'I do not know "
                   "who you are', 403 means 'I know who you are, and you may not do this'. With anonymous access "
                   "turned off (--anonymous-auth=false), the request of step 1 would get a 401 as well.",
             "ko": "같은 요청을 이번에는 클러스터가 발급한 적 없는 베어러 토큰을 붙여 보냅니다. 이번에는 첫 관문에서 "
                   "막힙니다. 제시했지만 확인할 수 없는 자격 증명은 오류로 처리되고, API 서버는 이런 요청을 슬쩍 익명으로 "
                   "낮춰 받아 주지 않습니다(위조된 출입증은 출입증이 없는 것보다 나쁩니다). 응답은 이유를 밝히지 않는 "
                   "401 Unauthorized입니다. 정리하면 401은 '누구신지 모르겠습니다', 403은 '누구신지는 알지만 이 일은 "
                   "하실 수 없습니다'입니다. 익명 접근을 끄면(--anonymous-auth=false) 1단계의 요청도 401을 받습니다."}},
        {"n": 3,
         "title": {"en": "jane is known but may do nothing", "ko": "jane은 신원은 확인되지만 권한이 없음"},
         "narration": {
             "en": "jane has her own kubeconfig context. Her identity is real - a client certificate signed by the "
                   "cluster's CA (CN=jane, O=developers), or a token the API server knows - so authentication "
                   "passes and every authenticated user also joins system:authenticated. She first asks "
                   "`kubectl auth can-i list pods -n dev`: kubectl posts a SelfSubjectAccessReview, which every "
                   "signed-in user may do, and the answer is no. Then she tries anyway: listing and creating Pods "
                   "both get 403 Forbidden with kube-apiserver's exact wording. RBAC only allows; anything no rule "
                   "allows is refused. The API server never even looks whether the namespace dev exists (it does "
                   "not yet): the gates run in order, and a refused request stops at the first one that says no.",
             "ko": "jane에게는 자신의 kubeconfig 컨텍스트가 있습니다. 클러스터 CA가 서명한 클라이언트 인증서(CN=jane, "
                   "O=developers)나 API 서버가 아는 토큰으로 신원이 확인되므로 인증은 통과하고, 인증된 사용자는 모두 "
                   "system:authenticated 그룹에도 속하게 됩니다. jane은 먼저 `kubectl auth can-i list pods -n dev`로 "
                   "물어봅니다. kubectl은 SelfSubjectAccessReview를 보내는데, 이는 로그인한 사용자라면 누구나 할 수 "
                   "있는 질문이고 답은 no입니다. 그래도 시도해 보면 Pod 목록 조회와 생성 모두 kube-apiserver의 문구 "
                   "그대로 403 Forbidden을 받습니다. RBAC에는 허용 규칙만 있고, 어떤 규칙도 허용하지 않은 것은 "
                   "거부됩니다. API 서버는 dev 네임스페이스가 있는지조차 보지 않습니다(아직 없습니다). 관문은 순서대로 "
                   "검사하고, 거절된 요청은 처음 '안 된다'고 한 관문에서 멈춥니다."}},
        {"n": 4,
         "title": {"en": "The admin grants a Role", "ko": "관리자가 Role을 부여"},
         "narration": {
             "en": "kubernetes-admin, whose certificate puts it in a group bound to cluster-admin, creates the "
                   "namespace dev, then a Role pod-manager (get, list, watch, create and delete on pods, in dev only) "
                   "and a RoleBinding that gives that Role to the user jane. These are ordinary API objects: they "
                   "pass the same three gates and are stored in etcd. The authorizer reads them from the API "
                   "server's watch cache, so no restart is needed for them to count.",
             "ko": "인증서상 cluster-admin에 묶인 그룹에 속한 kubernetes-admin이 dev 네임스페이스를 만들고, "
                   "pod-manager라는 Role(dev 안에서만 pods에 대한 get, list, watch, create, delete)과 이 Role을 사용자 "
                   "jane에게 주는 RoleBinding을 만듭니다. 이들도 평범한 API 객체라서 같은 세 관문을 지나 etcd에 "
                   "저장됩니다. 인가 모듈은 API 서버의 watch 캐시에서 이를 읽으므로, 재시작 없이 곧바로 효력이 "
                   "생깁니다."}},
        {"n": 5,
         "title": {"en": "The same questions, now allowed", "ko": "같은 질문, 이제는 허용"},
         "narration": {
             "en": "jane asks can-i again and gets yes; the listing that was refused returns 200 with an empty list. "
                   "The authorization step now names the binding that allowed it: RoleBinding jane-pod-manager in "
                   "dev, of Role pod-manager, to User jane. Nothing about jane changed - only what the cluster "
                   "stores about her.",
             "ko": "jane이 can-i를 다시 물으면 yes가 돌아오고, 거절되던 목록 조회는 빈 목록과 함께 200을 받습니다. "
                   "이제 인가 단계는 허용해 준 바인딩을 밝힙니다: dev의 RoleBinding jane-pod-manager, Role "
                   "pod-manager, 대상 User jane. jane 자신은 달라진 것이 없습니다. 클러스터가 jane에 대해 저장한 "
                   "정보만 바뀌었습니다."}},
        {"n": 6,
         "title": {"en": "The admin sets defaults: a LimitRange", "ko": "관리자가 기본값 설정: LimitRange"},
         "narration": {
             "en": "Before more people deploy into dev, the admin creates a LimitRange: any container in dev that "
                   "names no CPU or memory gets a default request and limit. Like a form with pre-filled boxes, it "
                   "does nothing by itself - it waits for the next Pod.",
             "ko": "dev에 여러 사람이 배포하기 전에 관리자가 LimitRange를 만듭니다. dev의 컨테이너가 CPU나 메모리를 "
                   "적지 않으면 기본 요청량과 제한이 들어갑니다. 미리 채워진 칸이 있는 서식처럼, 그 자체로는 아무 일도 "
                   "하지 않고 다음 Pod를 기다립니다."}},
        {"n": 7,
         "title": {"en": "Mutating admission fills in the blanks", "ko": "변경 어드미션이 빈칸을 채움"},
         "narration": {
             "en": "jane runs `kubectl run web --image=nginx -n dev` - the very command refused in step 3. It passes "
                   "authentication and authorization and meets the third gate. The mutating admission plugins may "
                   "change the object: LimitRanger writes the default requests and limits into the container and "
                   "records what it did in the annotation kubernetes.io/limit-ranger; ServiceAccount mounts the "
                   "token volume. Then validation and the validating plugins check the result, and the Pod as "
                   "changed - not as jane wrote it - is stored in etcd.",
             "ko": "jane이 `kubectl run web --image=nginx -n dev`를 실행합니다. 3단계에서 거절된 바로 그 명령입니다. "
                   "인증과 인가를 지나 세 번째 관문에 이릅니다. 변경(mutating) 어드미션 플러그인은 객체를 고칠 수 "
                   "있습니다. LimitRanger가 기본 요청량과 제한을 컨테이너에 적고 그 사실을 kubernetes.io/limit-ranger "
                   "어노테이션에 남기며, ServiceAccount 플러그인은 토큰 볼륨을 마운트합니다. 이어서 검증과 검증"
                   "(validating) 플러그인이 결과를 확인하고, jane이 쓴 그대로가 아니라 고쳐진 Pod가 etcd에 "
                   "저장됩니다."}},
        {"n": 8,
         "title": {"en": "The admin sets a budget: a ResourceQuota", "ko": "관리자가 예산 설정: ResourceQuota"},
         "narration": {
             "en": "The admin caps what dev may use in total with `kubectl create quota`: 4 Pods, 1 CPU and 1Gi of "
                   "memory in requests. The resource quota controller in the controller-manager counts what dev "
                   "already uses - the web Pod's requests - and writes it into the quota's status.",
             "ko": "관리자가 `kubectl create quota`로 dev 전체가 쓸 수 있는 양에 상한을 둡니다: Pod 4개, 요청량 기준 "
                   "CPU 1개와 메모리 1Gi. 컨트롤러 매니저의 리소스 쿼터 컨트롤러가 dev가 이미 쓰고 있는 양(web Pod의 "
                   "요청량)을 세어 쿼터의 status에 적습니다."}},
        {"n": 9,
         "title": {"en": "Validating admission says no: exceeded quota", "ko": "검증 어드미션의 거절: 할당량 초과"},
         "narration": {
             "en": "jane creates a Pod that asks for a whole CPU. jane may create Pods, so the first two gates pass; "
                   "LimitRanger adds the memory defaults; the object is valid. Then the ResourceQuota plugin, the "
                   "last validating check, adds this request to what dev already uses and finds it over the limit: "
                   "403 Forbidden, 'exceeded quota', naming the quota, what was requested, what is used and the "
                   "limit. The same 403 code as RBAC's, but from the third gate, after the object was read. The "
                   "plugin charges a quota only for requests it admits, so neither the Pod nor the quota's usage "
                   "reaches etcd.",
             "ko": "jane이 CPU 하나를 통째로 요청하는 Pod를 만듭니다. jane은 Pod를 만들 수 있으므로 앞의 두 관문은 "
                   "통과하고, LimitRanger가 메모리 기본값을 넣고, 객체도 유효합니다. 그런데 마지막 검증 단계인 "
                   "ResourceQuota 플러그인이 이 요청을 dev가 이미 쓰는 양에 더해 보니 상한을 넘습니다. 쿼터 이름, "
                   "요청량, 사용량, 상한을 밝힌 'exceeded quota' 403 Forbidden이 돌아갑니다. RBAC와 같은 403이지만, "
                   "객체를 읽은 뒤 세 번째 관문에서 나온 거절입니다. 이 플러그인은 받아들인 요청만 쿼터 사용량에 "
                   "더하므로 Pod도, 쿼터 사용량도 etcd에 기록되지 않습니다."}},
    ],
    "questions": [
        {"en": "Why did the request without credentials get 403 while the one with a fake token got 401?",
         "ko": "자격 증명이 없는 요청은 403을, 가짜 토큰을 붙인 요청은 401을 받은 이유는 무엇인가요?"},
        {"en": "What did the admin change so that jane's refused request was allowed, and which object did the "
              "authorizer name when it allowed it?",
         "ko": "jane의 거절된 요청이 허용되도록 관리자는 무엇을 바꿨고, 허용할 때 인가 모듈은 어떤 객체를 밝혔나요?"},
        {"en": "Where did the web Pod's CPU request come from, given that jane never wrote one?",
         "ko": "jane이 적지 않았는데 web Pod의 CPU 요청량은 어디에서 왔나요?"},
        {"en": "Both RBAC and the quota answered 403: at which gate did each refuse, and was anything stored in etcd?",
         "ko": "RBAC와 쿼터 모두 403으로 답했습니다. 각각 어느 관문에서 거절했으며, etcd에 저장된 것이 있었나요?"},
    ],
}

# What each run's kubectl commands printed that no event carries (the SelfSubjectAccessReview answers):
# keyed by the cluster, for outcome() and the tests. Weak, so a finished run's cluster can go.
_answers: "weakref.WeakKeyDictionary[Cluster, list[tuple[str, str]]]" = weakref.WeakKeyDictionary()


def answers(cluster: Cluster) -> list[tuple[str, str]]:
    """(command, what kubectl printed) for the `kubectl auth can-i` commands of the run, in order."""
    return list(_answers.get(cluster, ()))


def jane_credential(params: dict) -> Credential:
    """jane's client certificate (CN=jane, O=developers, signed by the cluster CA "kubernetes"), or her
    static token."""
    if params["credential"] == "token":
        return Credential.bearer(JANE_TOKEN)
    return Credential.x509(USER, GROUP)


def pod(name: str) -> dict:
    """What `kubectl run <name> --image=nginx -n dev` sends (compare `--dry-run=client -o json`)."""
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": NS, "creationTimestamp": None, "labels": {"run": name}},
            "spec": {"containers": [{"name": name, "image": "nginx", "resources": {}}],
                     "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"},
            "status": {}}


def big_pod() -> dict:
    """big.yaml: a Pod that asks for a whole CPU (request = limit, so the LimitRange's smaller default limit
    does not apply to CPU; memory gets the defaults)."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big", "namespace": NS},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "1"}}}]}}


def namespace() -> dict:
    """What `kubectl create namespace dev` sends."""
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": NS, "creationTimestamp": None},
            "spec": {}, "status": {}}


def role() -> dict:
    """What `kubectl create role pod-manager --verb=get,list,watch,create,delete --resource=pods -n dev` sends."""
    return {"kind": "Role", "apiVersion": f"{RBAC}/v1",
            "metadata": {"name": ROLE, "namespace": NS, "creationTimestamp": None},
            "rules": [{"verbs": ["get", "list", "watch", "create", "delete"], "apiGroups": [""], "resources": ["pods"]}]}


def role_binding() -> dict:
    """What `kubectl create rolebinding jane-pod-manager --role=pod-manager --user=jane -n dev` sends."""
    return {"kind": "RoleBinding", "apiVersion": f"{RBAC}/v1",
            "metadata": {"name": BINDING, "namespace": NS, "creationTimestamp": None},
            "subjects": [{"kind": "User", "apiGroup": RBAC, "name": USER}],
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": ROLE}}


def limit_range(default_cpu: int) -> dict:
    """limits.yaml: defaults for containers in dev (the default limit is twice the default request)."""
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": LIMITS, "namespace": NS},
            "spec": {"limits": [{"type": "Container",
                                 "defaultRequest": {"cpu": f"{default_cpu}m", "memory": "128Mi"},
                                 "default": {"cpu": f"{2 * default_cpu}m", "memory": "256Mi"}}]}}


def quota() -> dict:
    """What `kubectl create quota dev-quota --hard=pods=4,requests.cpu=1,requests.memory=1Gi -n dev` sends."""
    return {"kind": "ResourceQuota", "apiVersion": "v1",
            "metadata": {"name": QUOTA, "namespace": NS, "creationTimestamp": None},
            "spec": {"hard": {"pods": "4", "requests.cpu": "1", "requests.memory": "1Gi"}},
            "status": {}}


def topology():
    return default_topology(workers=2)


def step_policy(params: dict) -> ScriptSteps:
    return ScriptSteps()


def start(cluster: Cluster, params: dict) -> Future:
    env, tracer = cluster.env, cluster.tracer
    done = env.future()
    steps: ScriptSteps = tracer.step_policy
    said = _answers.setdefault(cluster, [])
    if params["credential"] == "token":
        # kube-apiserver --token-auth-file line: jane-0123456789abcdef,jane,1001,"developers"
        cluster.authenticator.add_token(JANE_TOKEN, USER, (GROUP,))
    jane_cred = jane_credential(params)
    pods_url = f"{SERVER}/api/v1/namespaces/{NS}/pods"

    def curl(command: str, credential: Credential | None) -> Kubectl:
        return Kubectl(cluster, command, credential, "")

    def jane(command: str) -> Kubectl:
        return Kubectl(cluster, f"kubectl --context={USER} {command}", jane_cred, USER)

    def can_i(verb: str, resource: str):
        command = f"kubectl --context={USER} auth can-i {verb} {resource} -n {NS}"
        resp = yield jane(f"auth can-i {verb} {resource} -n {NS}").can_i(verb, resource, namespace=NS)
        said.append((command, "yes" if resp.ok and resp.body["status"]["allowed"] else "no"))

    def stored(prefix: str) -> bool:
        return bool(objects(cluster, prefix))

    def quota_counted() -> bool:
        q = objects(cluster, registry.key("resourcequotas", NS, QUOTA))
        return bool(q) and "pods" in ((q[0].get("status") or {}).get("used") or {})

    def script():
        yield 0.05
        # Gate 1 lets the visitor in as system:anonymous; gate 2 refuses.
        steps.open(tracer, 1)
        yield curl(f"curl -k -X POST {pods_url} -H 'Content-Type: application/json' -d @web.json", None).create(
            "pods", pod("web"), namespace=NS)
        yield PAUSE
        # Gate 1 refuses a credential it cannot verify.
        steps.open(tracer, 2)
        yield curl(f"curl -k -X POST {pods_url} -H 'Authorization: Bearer {BOGUS_TOKEN}' "
                   f"-H 'Content-Type: application/json' -d @web.json", Credential.bearer(BOGUS_TOKEN)).create(
            "pods", pod("web"), namespace=NS)
        yield PAUSE
        # jane: authenticated, authorized for nothing in dev.
        steps.open(tracer, 3)
        yield from can_i("list", "pods")
        yield jane(f"get pods -n {NS}").list("pods", namespace=NS)
        yield jane(f"run web --image=nginx -n {NS}").create("pods", pod("web"), namespace=NS)
        yield PAUSE
        # The admin: namespace, Role, RoleBinding.
        steps.open(tracer, 4)
        yield kubectl(cluster, f"kubectl create namespace {NS}").create("namespaces", namespace())
        yield kubectl(cluster, f"kubectl create role {ROLE} --verb=get,list,watch,create,delete --resource=pods "
                               f"-n {NS}").create("roles", role(), namespace=NS)
        yield kubectl(cluster, f"kubectl create rolebinding {BINDING} --role={ROLE} --user={USER} -n {NS}").create(
            "rolebindings", role_binding(), namespace=NS)
        # The serviceaccount controller gives the new namespace its "default" ServiceAccount (which the
        # ServiceAccount admission plugin will want for jane's Pod).
        yield from until(cluster, lambda: stored(registry.key("serviceaccounts", NS, "default")))
        yield PAUSE
        steps.open(tracer, 5)
        yield from can_i("list", "pods")
        yield jane(f"get pods -n {NS}").list("pods", namespace=NS)
        yield PAUSE
        steps.open(tracer, 6)
        yield kubectl(cluster, f"kubectl create -f limits.yaml -n {NS}").create(
            "limitranges", limit_range(params["default_cpu"]), namespace=NS)
        yield PAUSE
        steps.open(tracer, 7)
        yield jane(f"run web --image=nginx -n {NS}").create("pods", pod("web"), namespace=NS)
        yield from until(cluster, lambda: bool(running_pods(cluster, NS, "web")))
        yield PAUSE
        steps.open(tracer, 8)
        yield kubectl(cluster, f"kubectl create quota {QUOTA} --hard=pods=4,requests.cpu=1,requests.memory=1Gi "
                               f"-n {NS}").create("resourcequotas", quota(), namespace=NS)
        yield from until(cluster, quota_counted)
        yield PAUSE
        steps.open(tracer, 9)
        yield jane(f"create -f big.yaml -n {NS}").create("pods", big_pod(), namespace=NS)
        yield PAUSE
        done.resolve(env.now)

    env.process(script())
    return done


def outcome(cluster: Cluster, params: dict) -> str:
    pods = sorted(p["metadata"]["name"] for p in objects(cluster, f"/registry/pods/{NS}/"))
    said = [a for _, a in answers(cluster)]
    return f"pods in {NS}: {', '.join(pods) or 'none'}; can-i list pods: {' -> '.join(said)}"
