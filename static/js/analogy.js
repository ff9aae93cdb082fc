// The analogy layer: the lessons explain the cluster as an office building, etcd as a bank vault, the API
// server as a government office and the controllers as a robot factory. With the layer on (key A), each
// box of the diagram carries its everyday name instead of its role caption. Content in both languages,
// picked like the scenario catalog's text.

export const ANALOGY = {
  kubectl: { en: "a visitor with a request form", ko: "신청서를 든 방문객" },
  "load-balancer": { en: "the building's main entrance", ko: "건물 정문 안내" },
  apiserver: { en: "government office: ID, permit, papers", ko: "관공서 창구: 신분·권한·서류 확인" },
  etcd: { en: "the bank vault of records", ko: "기록을 지키는 은행 금고" },
  scheduler: { en: "the desk that assigns seats", ko: "자리 배정 담당 창구" },
  "controller-manager": { en: "robot factory: wish vs. reality", ko: "로봇 공장: 목표와 현실 맞추기" },
  "cloud-controller-manager": { en: "liaison to the landlord", ko: "건물주와의 연락 담당" },
  kubelet: { en: "the floor manager", ko: "층마다 있는 관리인" },
  "kube-proxy": { en: "the floor's mail router", ko: "층의 우편 분류 담당" },
  "container-runtime": { en: "the room set-up crew", ko: "사무실을 꾸리는 설치 팀" },
};

export const FRAME_ANALOGY = {
  cluster: { en: "the office building", ko: "오피스 빌딩" },
  // Every node frame, by its role.
  "control-plane": { en: "the management floor", ko: "관리층" },
  worker: { en: "a working floor", ko: "업무층" },
};
