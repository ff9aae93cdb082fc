// What each event type means, in the viewer's language, keyed by the type names of simulator/events.py.
// The English `summary` of an event says what happened to which object; these lines say why it matters.

export const EVENT_TEXT = {
  "scenario.started": { en: "Scenario begins: the cluster is ready", ko: "시나리오 시작: 클러스터 준비 완료" },
  "scenario.step": { en: "A new step begins", ko: "새 단계 시작" },
  "scenario.completed": { en: "Scenario finished", ko: "시나리오 종료" },
  "run.cancelled": { en: "The instructor stopped this run", ko: "강사가 실행을 중단함" },
  "run.failed": { en: "The run failed", ko: "실행 실패" },
  "kubectl.request": { en: "kubectl sends the manifest to the API server over HTTPS", ko: "kubectl이 매니페스트를 HTTPS로 API 서버에 보냄" },
  "apiserver.authn": { en: "Authentication: who is making this request?", ko: "인증: 요청한 사람이 누구인지 확인" },
  "apiserver.authz": { en: "Authorization (RBAC): may this user do this?", ko: "인가(RBAC): 이 사용자에게 권한이 있는지 확인" },
  "apiserver.admission": { en: "Admission: a plugin checks or fills in the object", ko: "어드미션: 플러그인이 객체를 검사하거나 기본값을 채움" },
  "apiserver.validation": { en: "Validation: is the object well-formed?", ko: "유효성 검사: 객체 형식이 올바른지 확인" },
  "apiserver.storage": { en: "The API server asks etcd to store the object", ko: "API 서버가 etcd에 객체 저장을 요청" },
  "etcd.put": { en: "etcd saves the key; the revision goes up", ko: "etcd가 키를 저장하고 리비전이 올라감" },
  "etcd.delete": { en: "etcd removes the key", ko: "etcd가 키를 삭제" },
  "apiserver.response": { en: "The API server replies to the caller", ko: "API 서버가 요청자에게 응답" },
  "apiserver.request": { en: "A cluster component calls the API server", ko: "클러스터 컴포넌트가 API 서버를 호출" },
  "apiserver.watch": { en: "Watch: the API server notifies a subscriber of the change", ko: "워치: API 서버가 구독자에게 변경을 알림" },
  "controller-manager.informer": { en: "Controllers see the change through their informers", ko: "컨트롤러가 인포머를 통해 변경을 확인" },
  "scheduler.queue": { en: "The Pod joins the scheduling queue", ko: "Pod가 스케줄링 대기열에 들어감" },
  "scheduler.filter": { en: "Filter: which nodes could run this Pod?", ko: "필터링: 이 Pod를 실행할 수 있는 노드 고르기" },
  "scheduler.score": { en: "Score: rank the nodes that passed", ko: "점수 매기기: 통과한 노드의 순위 정하기" },
  "scheduler.bind": { en: "Bind: the Pod is assigned to the winning node", ko: "바인딩: 1위 노드에 Pod를 배정" },
  "kubelet.pod.sync": { en: "kubelet notices a Pod assigned to its node", ko: "kubelet이 자기 노드에 배정된 Pod를 발견" },
  "container-runtime.sandbox": { en: "The runtime builds the Pod sandbox and its network (CNI)", ko: "런타임이 Pod 샌드박스와 네트워크(CNI)를 준비" },
  "kubelet.image.pulling": { en: "Pulling the container image", ko: "컨테이너 이미지를 내려받는 중" },
  "kubelet.image.pulled": { en: "The image is on the node", ko: "이미지가 노드에 준비됨" },
  "container-runtime.container.created": { en: "The container is created", ko: "컨테이너 생성됨" },
  "container-runtime.container.started": { en: "The container is running", ko: "컨테이너 실행 시작" },
  "kubelet.status": { en: "kubelet reports the Pod's status to the API server", ko: "kubelet이 Pod 상태를 API 서버에 보고" },
};

export function eventMeaning(type, lang) {
  const text = EVENT_TEXT[type];
  if (!text) return type;
  return text[lang] || text.en;
}
