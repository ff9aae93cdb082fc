"""Kubernetes protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`) decoded into the
dict the same request would have carried as JSON.

kubectl (client-go typed clients) encodes the objects it builds itself (`kubectl create deployment|namespace|
configmap|secret|service|serviceaccount|role|rolebinding|clusterrole|clusterrolebinding|job|cronjob|quota|
priorityclass|pdb|ingress|token`, `kubectl auth can-i|whoami`, `kubectl autoscale`) as protobuf, and gives up
when the server answers 415, so the API server has to read it.

Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go): the 4-byte magic `k8s\\x00`,
then a `runtime.Unknown` (k8s.io/apimachinery/pkg/runtime/generated.proto): typeMeta=1 {apiVersion=1, kind=2},
raw=2 (the object's own message), contentEncoding=3, contentType=4. Messages are proto2, generated with
gogo-protobuf: a non-pointer Go field is always written (zero values included), a pointer field only when
non-nil, so "on the wire" means "set" only for pointers. To give what `encoding/json` would have given for the
same Go object, the table below records per field whether it is a pointer (`p`), lacks `omitempty` (`r`), is
`omitzero` (`z`) or is an embedded struct whose JSON is inlined (`i`):
- non-pointer scalars with omitempty are dropped when zero; pointers are kept whenever present;
- non-pointer structs are always written (JSON omitempty does not apply to structs), e.g. "status": {};
- fields without omitempty that are absent (empty lists and maps, nil pointers) become null, as in Go.
Well-known types: resource.Quantity {string=1} -> "500m" (api/resource/generated.proto); intstr.IntOrString
{type=1, intVal=2, strVal=3} -> 80 or "http" (util/intstr/generated.proto); metav1.Time / MicroTime
{seconds=1, nanos=2} -> RFC 3339 (meta/v1/time_proto.go: empty bytes = zero time = null, seconds only for
Time, microseconds for MicroTime); []byte -> base64; FieldsV1 {raw=1} -> the raw JSON.

The table is our own, written from the Go types (field number, JSON name, pointer-ness and omitempty are all in
each field's struct tags) of kubernetes/kubernetes staging/src/k8s.io/: api/core/v1/types.go,
apimachinery/pkg/apis/meta/v1/types.go (ObjectMeta, OwnerReference, LabelSelector, DeleteOptions; ObjectMeta's
creationTimestamp is `omitempty,omitzero`), api/apps/v1, api/batch/v1, api/rbac/v1, api/authorization/v1,
api/authentication/v1, api/autoscaling/v1 and v2, api/policy/v1, api/networking/v1, api/scheduling/v1
types.go, and checked against bodies captured from kubectl v1.37 (tests/kubeapi/protobuf_bodies.json).
A field number the table lacks raises ProtobufError naming the message and number: a gap to fill, not data
to drop silently.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import struct

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


# Message name -> "number jsonName type [flags]" fields, ';'-separated. Types: s string, i integer (any
# varint int), b bool, y bytes, f double, time, mtime, qty, ios, fields (FieldsV1), or a message name;
# "[T]" repeated, "{T}" map from string. Flags: p pointer, r no omitempty, z omitzero, i inline. Paths are
# under kubernetes/kubernetes staging/src/k8s.io/.
_SRC = """
# apimachinery/pkg/apis/meta/v1/types.go
TypeMeta: 1 apiVersion s; 2 kind s
ObjectMeta: 1 name s; 2 generateName s; 3 namespace s; 4 selfLink s; 5 uid s; 6 resourceVersion s; 7 generation i;
  8 creationTimestamp time z; 9 deletionTimestamp time p; 10 deletionGracePeriodSeconds i p; 11 labels {s};
  12 annotations {s}; 13 ownerReferences [OwnerReference]; 14 finalizers [s]; 17 managedFields [ManagedFieldsEntry]
OwnerReference: 5 apiVersion s r; 1 kind s r; 3 name s r; 4 uid s r; 6 controller b p; 7 blockOwnerDeletion b p
ManagedFieldsEntry: 1 manager s; 2 operation s; 3 apiVersion s; 4 time time p; 6 fieldsType s; 7 fieldsV1 fields p;
  8 subresource s
LabelSelector: 1 matchLabels {s}; 2 matchExpressions [LabelSelectorRequirement]
LabelSelectorRequirement: 1 key s r; 2 operator s r; 3 values [s]
DeleteOptions: 1 gracePeriodSeconds i p; 2 preconditions Preconditions p; 3 orphanDependents b p;
  4 propagationPolicy s p; 5 dryRun [s]; 6 ignoreStoreReadErrorWithClusterBreakingPotential b p
Preconditions: 1 uid s p; 2 resourceVersion s p
Condition: 1 type s r; 2 status s r; 3 observedGeneration i; 4 lastTransitionTime time r; 5 reason s r; 6 message s r

# api/apps/v1/types.go
Deployment: 1 metadata ObjectMeta; 2 spec DeploymentSpec; 3 status DeploymentStatus
DeploymentSpec: 1 replicas i p; 2 selector LabelSelector p; 3 template PodTemplateSpec r; 4 strategy DeploymentStrategy;
  5 minReadySeconds i; 6 revisionHistoryLimit i p; 7 paused b; 9 progressDeadlineSeconds i p
DeploymentStrategy: 1 type s; 2 rollingUpdate RollingUpdateDeployment p
RollingUpdateDeployment: 1 maxUnavailable ios p; 2 maxSurge ios p
DeploymentStatus: 1 observedGeneration i; 2 replicas i; 3 updatedReplicas i; 7 readyReplicas i; 4 availableReplicas i;
  5 unavailableReplicas i; 9 terminatingReplicas i p; 6 conditions [DeploymentCondition]; 8 collisionCount i p
DeploymentCondition: 1 type s r; 2 status s r; 6 lastUpdateTime time; 7 lastTransitionTime time; 4 reason s; 5 message s

# api/core/v1/types.go. PodStatus.observedGeneration (1.33+) is numbered from the bodies kubectl sends.
PodTemplateSpec: 1 metadata ObjectMeta; 2 spec PodSpec
Pod: 1 metadata ObjectMeta; 2 spec PodSpec; 3 status PodStatus
PodStatus: 17 observedGeneration i; 1 phase s; 3 message s; 4 reason s; 11 nominatedNodeName s; 5 hostIP s; 6 podIP s;
  9 qosClass s; 14 resize s
PodSpec: 1 volumes [Volume]; 20 initContainers [Container]; 2 containers [Container] r; 3 restartPolicy s;
  4 terminationGracePeriodSeconds i p; 5 activeDeadlineSeconds i p; 6 dnsPolicy s; 7 nodeSelector {s};
  8 serviceAccountName s; 9 serviceAccount s; 21 automountServiceAccountToken b p; 10 nodeName s; 11 hostNetwork b;
  12 hostPID b; 13 hostIPC b; 27 shareProcessNamespace b p; 14 securityContext PodSecurityContext p;
  15 imagePullSecrets [LocalObjectReference]; 16 hostname s; 17 subdomain s; 18 affinity Affinity p;
  19 schedulerName s; 22 tolerations [Toleration]; 23 hostAliases [HostAlias]; 24 priorityClassName s;
  25 priority i p; 26 dnsConfig PodDNSConfig p; 28 readinessGates [PodReadinessGate]; 29 runtimeClassName s p;
  30 enableServiceLinks b p; 31 preemptionPolicy s p; 32 overhead {qty};
  33 topologySpreadConstraints [TopologySpreadConstraint]; 35 setHostnameAsFQDN b p; 36 os PodOS p; 37 hostUsers b p;
  38 schedulingGates [PodSchedulingGate]; 40 resources ResourceRequirements p; 41 hostnameOverride s p
Container: 1 name s r; 2 image s; 3 command [s]; 4 args [s]; 5 workingDir s; 6 ports [ContainerPort];
  19 envFrom [EnvFromSource]; 7 env [EnvVar]; 8 resources ResourceRequirements; 23 resizePolicy [ContainerResizePolicy];
  24 restartPolicy s p; 9 volumeMounts [VolumeMount]; 21 volumeDevices [VolumeDevice]; 10 livenessProbe Probe p;
  11 readinessProbe Probe p; 22 startupProbe Probe p; 12 lifecycle Lifecycle p; 13 terminationMessagePath s;
  20 terminationMessagePolicy s; 14 imagePullPolicy s; 15 securityContext SecurityContext p; 16 stdin b;
  17 stdinOnce b; 18 tty b
ContainerPort: 1 name s; 2 hostPort i; 3 containerPort i r; 4 protocol s; 5 hostIP s
EnvVar: 1 name s r; 2 value s; 3 valueFrom EnvVarSource p
EnvVarSource: 1 fieldRef ObjectFieldSelector p; 2 resourceFieldRef ResourceFieldSelector p;
  3 configMapKeyRef ConfigMapKeySelector p; 4 secretKeyRef SecretKeySelector p
ObjectFieldSelector: 1 apiVersion s; 2 fieldPath s r
ResourceFieldSelector: 1 containerName s; 2 resource s r; 3 divisor qty
ConfigMapKeySelector: 1 localObjectReference LocalObjectReference i; 2 key s r; 3 optional b p
SecretKeySelector: 1 localObjectReference LocalObjectReference i; 2 key s r; 3 optional b p
EnvFromSource: 1 prefix s; 2 configMapRef ConfigMapEnvSource p; 3 secretRef SecretEnvSource p
ConfigMapEnvSource: 1 localObjectReference LocalObjectReference i; 2 optional b p
SecretEnvSource: 1 localObjectReference LocalObjectReference i; 2 optional b p
LocalObjectReference: 1 name s
ObjectReference: 1 kind s; 2 namespace s; 3 name s; 4 uid s; 5 apiVersion s; 6 resourceVersion s; 7 fieldPath s
ResourceRequirements: 1 limits {qty}; 2 requests {qty}; 3 claims [ResourceClaim]
ResourceClaim: 1 name s r; 2 request s
ContainerResizePolicy: 1 resourceName s r; 2 restartPolicy s r
VolumeMount: 1 name s r; 2 readOnly b; 7 recursiveReadOnly s p; 3 mountPath s r; 4 subPath s; 5 mountPropagation s p;
  6 subPathExpr s
VolumeDevice: 1 name s r; 2 devicePath s r
Probe: 1 handler ProbeHandler i; 2 initialDelaySeconds i; 3 timeoutSeconds i; 4 periodSeconds i; 5 successThreshold i;
  6 failureThreshold i; 7 terminationGracePeriodSeconds i p
ProbeHandler: 1 exec ExecAction p; 2 httpGet HTTPGetAction p; 3 tcpSocket TCPSocketAction p; 4 grpc GRPCAction p
ExecAction: 1 command [s]
HTTPGetAction: 1 path s; 2 port ios r; 3 host s; 4 scheme s; 5 httpHeaders [HTTPHeader]
HTTPHeader: 1 name s r; 2 value s r
TCPSocketAction: 1 port ios r; 2 host s
GRPCAction: 1 port i r; 2 service s p r
Lifecycle: 1 postStart LifecycleHandler p; 2 preStop LifecycleHandler p; 3 stopSignal s p
LifecycleHandler: 1 exec ExecAction p; 2 httpGet HTTPGetAction p; 3 tcpSocket TCPSocketAction p; 4 sleep SleepAction p
SleepAction: 1 seconds i r
SecurityContext: 1 capabilities Capabilities p; 2 privileged b p; 3 seLinuxOptions SELinuxOptions p;
  10 windowsOptions WindowsSecurityContextOptions p; 4 runAsUser i p; 8 runAsGroup i p; 5 runAsNonRoot b p;
  6 readOnlyRootFilesystem b p; 7 allowPrivilegeEscalation b p; 9 procMount s p; 11 seccompProfile SeccompProfile p;
  12 appArmorProfile AppArmorProfile p
Capabilities: 1 add [s]; 2 drop [s]
SELinuxOptions: 1 user s; 2 role s; 3 type s; 4 level s
WindowsSecurityContextOptions: 1 gmsaCredentialSpecName s p; 2 gmsaCredentialSpec s p; 3 runAsUserName s p;
  4 hostProcess b p
SeccompProfile: 1 type s r; 2 localhostProfile s p
AppArmorProfile: 1 type s r; 2 localhostProfile s p
PodSecurityContext: 1 seLinuxOptions SELinuxOptions p; 8 windowsOptions WindowsSecurityContextOptions p;
  2 runAsUser i p; 6 runAsGroup i p; 3 runAsNonRoot b p; 4 supplementalGroups [i]; 12 supplementalGroupsPolicy s p;
  5 fsGroup i p; 7 sysctls [Sysctl]; 9 fsGroupChangePolicy s p; 10 seccompProfile SeccompProfile p;
  11 appArmorProfile AppArmorProfile p; 13 seLinuxChangePolicy s p
Sysctl: 1 name s r; 2 value s r
Affinity: 1 nodeAffinity NodeAffinity p; 2 podAffinity PodAffinity p; 3 podAntiAffinity PodAntiAffinity p
NodeAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution NodeSelector p;
  2 preferredDuringSchedulingIgnoredDuringExecution [PreferredSchedulingTerm]
NodeSelector: 1 nodeSelectorTerms [NodeSelectorTerm] r
NodeSelectorTerm: 1 matchExpressions [NodeSelectorRequirement]; 2 matchFields [NodeSelectorRequirement]
NodeSelectorRequirement: 1 key s r; 2 operator s r; 3 values [s]
PreferredSchedulingTerm: 1 weight i r; 2 preference NodeSelectorTerm r
PodAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution [PodAffinityTerm];
  2 preferredDuringSchedulingIgnoredDuringExecution [WeightedPodAffinityTerm]
PodAntiAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution [PodAffinityTerm];
  2 preferredDuringSchedulingIgnoredDuringExecution [WeightedPodAffinityTerm]
WeightedPodAffinityTerm: 1 weight i r; 2 podAffinityTerm PodAffinityTerm r
PodAffinityTerm: 1 labelSelector LabelSelector p; 2 namespaces [s]; 3 topologyKey s r;
  4 namespaceSelector LabelSelector p; 5 matchLabelKeys [s]; 6 mismatchLabelKeys [s]
Toleration: 1 key s; 2 operator s; 3 value s; 4 effect s; 5 tolerationSeconds i p
HostAlias: 1 ip s; 2 hostnames [s]
PodDNSConfig: 1 nameservers [s]; 2 searches [s]; 3 options [PodDNSConfigOption]
PodDNSConfigOption: 1 name s; 2 value s p
PodReadinessGate: 1 conditionType s r
TopologySpreadConstraint: 1 maxSkew i r; 2 topologyKey s r; 3 whenUnsatisfiable s r; 4 labelSelector LabelSelector p;
  5 minDomains i p; 6 nodeAffinityPolicy s p; 7 nodeTaintsPolicy s p; 8 matchLabelKeys [s]
PodOS: 1 name s r
PodSchedulingGate: 1 name s r
Volume: 1 name s r; 2 volumeSource VolumeSource i
VolumeSource: 1 hostPath HostPathVolumeSource p; 2 emptyDir EmptyDirVolumeSource p; 6 secret SecretVolumeSource p;
  10 persistentVolumeClaim PersistentVolumeClaimVolumeSource p; 16 downwardAPI DownwardAPIVolumeSource p;
  19 configMap ConfigMapVolumeSource p; 26 projected ProjectedVolumeSource p
HostPathVolumeSource: 1 path s r; 2 type s p
EmptyDirVolumeSource: 1 medium s; 2 sizeLimit qty p
SecretVolumeSource: 1 secretName s; 2 items [KeyToPath]; 3 defaultMode i p; 4 optional b p
ConfigMapVolumeSource: 1 localObjectReference LocalObjectReference i; 2 items [KeyToPath]; 3 defaultMode i p;
  4 optional b p
KeyToPath: 1 key s r; 2 path s r; 3 mode i p
PersistentVolumeClaimVolumeSource: 1 claimName s r; 2 readOnly b
DownwardAPIVolumeSource: 1 items [DownwardAPIVolumeFile]; 2 defaultMode i p
DownwardAPIProjection: 1 items [DownwardAPIVolumeFile]
DownwardAPIVolumeFile: 1 path s r; 2 fieldRef ObjectFieldSelector p; 3 resourceFieldRef ResourceFieldSelector p;
  4 mode i p
ProjectedVolumeSource: 1 sources [VolumeProjection] r; 2 defaultMode i p
VolumeProjection: 1 secret SecretProjection p; 2 downwardAPI DownwardAPIProjection p; 3 configMap ConfigMapProjection p;
  4 serviceAccountToken ServiceAccountTokenProjection p
SecretProjection: 1 localObjectReference LocalObjectReference i; 2 items [KeyToPath]; 4 optional b p
ConfigMapProjection: 1 localObjectReference LocalObjectReference i; 2 items [KeyToPath]; 4 optional b p
ServiceAccountTokenProjection: 1 audience s; 2 expirationSeconds i p; 3 path s r

Namespace: 1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status NamespaceStatus
NamespaceSpec: 1 finalizers [s]
NamespaceStatus: 1 phase s
ConfigMap: 1 metadata ObjectMeta; 4 immutable b p; 2 data {s}; 3 binaryData {y}
Secret: 1 metadata ObjectMeta; 5 immutable b p; 2 data {y}; 4 stringData {s}; 3 type s
ServiceAccount: 1 metadata ObjectMeta; 2 secrets [ObjectReference]; 3 imagePullSecrets [LocalObjectReference];
  4 automountServiceAccountToken b p
ResourceQuota: 1 metadata ObjectMeta; 2 spec ResourceQuotaSpec; 3 status ResourceQuotaStatus
ResourceQuotaSpec: 1 hard {qty}; 2 scopes [s]; 3 scopeSelector ScopeSelector p
ScopeSelector: 1 matchExpressions [ScopedResourceSelectorRequirement]
ScopedResourceSelectorRequirement: 1 scopeName s r; 2 operator s r; 3 values [s]
ResourceQuotaStatus: 1 hard {qty}; 2 used {qty}
Service: 1 metadata ObjectMeta; 2 spec ServiceSpec; 3 status ServiceStatus
ServiceSpec: 1 ports [ServicePort]; 2 selector {s}; 3 clusterIP s; 18 clusterIPs [s]; 4 type s; 5 externalIPs [s];
  7 sessionAffinity s; 8 loadBalancerIP s; 9 loadBalancerSourceRanges [s]; 10 externalName s;
  11 externalTrafficPolicy s; 12 healthCheckNodePort i; 13 publishNotReadyAddresses b;
  14 sessionAffinityConfig SessionAffinityConfig p; 19 ipFamilies [s]; 17 ipFamilyPolicy s p;
  20 allocateLoadBalancerNodePorts b p; 21 loadBalancerClass s p; 22 internalTrafficPolicy s p;
  23 trafficDistribution s p
ServicePort: 1 name s; 2 protocol s; 6 appProtocol s p; 3 port i r; 4 targetPort ios; 5 nodePort i
SessionAffinityConfig: 1 clientIP ClientIPConfig p
ClientIPConfig: 1 timeoutSeconds i p
ServiceStatus: 1 loadBalancer LoadBalancerStatus; 2 conditions [Condition]
LoadBalancerStatus: 1 ingress [LoadBalancerIngress]
LoadBalancerIngress: 1 ip s; 2 hostname s; 3 ipMode s p

# api/autoscaling/v1/types.go
Scale: 1 metadata ObjectMeta; 2 spec ScaleSpec; 3 status ScaleStatus
ScaleSpec: 1 replicas i
ScaleStatus: 1 replicas i r; 2 selector s

# api/authorization/v1/types.go
SelfSubjectAccessReview: 1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec r; 3 status SubjectAccessReviewStatus
SelfSubjectAccessReviewSpec: 1 resourceAttributes ResourceAttributes p; 2 nonResourceAttributes NonResourceAttributes p
ResourceAttributes: 1 namespace s; 2 verb s; 3 group s; 4 version s; 5 resource s; 6 subresource s; 7 name s;
  8 fieldSelector FieldSelectorAttributes p; 9 labelSelector LabelSelectorAttributes p
FieldSelectorAttributes: 1 rawSelector s; 2 requirements [FieldSelectorRequirement]
FieldSelectorRequirement: 1 key s r; 2 operator s r; 3 values [s]
LabelSelectorAttributes: 1 rawSelector s; 2 requirements [LabelSelectorRequirement]
NonResourceAttributes: 1 path s; 2 verb s
SubjectAccessReviewStatus: 1 allowed b r; 4 denied b; 2 reason s; 3 evaluationError s
SelfSubjectRulesReview: 1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec r; 3 status SubjectRulesReviewStatus
SelfSubjectRulesReviewSpec: 1 namespace s
SubjectRulesReviewStatus: 1 resourceRules [ResourceRule] r; 2 nonResourceRules [NonResourceRule] r; 3 incomplete b r;
  4 evaluationError s
ResourceRule: 1 verbs [s] r; 2 apiGroups [s]; 3 resources [s]; 4 resourceNames [s]
NonResourceRule: 1 verbs [s] r; 2 nonResourceURLs [s]

# api/authentication/v1/types.go (TokenRequestSpec's expirationSeconds, boundObjectRef: no omitempty)
SelfSubjectReview: 1 metadata ObjectMeta; 2 status SelfSubjectReviewStatus
SelfSubjectReviewStatus: 1 userInfo UserInfo
UserInfo: 1 username s; 2 uid s; 3 groups [s]; 4 extra {ExtraValue}
ExtraValue: 1 items [s]
TokenRequest: 1 metadata ObjectMeta; 2 spec TokenRequestSpec r; 3 status TokenRequestStatus
TokenRequestSpec: 1 audiences [s] r; 4 expirationSeconds i p r; 3 boundObjectRef BoundObjectReference p r
BoundObjectReference: 1 kind s; 2 apiVersion s; 3 name s; 4 uid s
TokenRequestStatus: 1 token s r; 2 expirationTimestamp time r

# api/rbac/v1/types.go
Role: 1 metadata ObjectMeta; 2 rules [PolicyRule] r
ClusterRole: 1 metadata ObjectMeta; 2 rules [PolicyRule] r; 3 aggregationRule AggregationRule p
AggregationRule: 1 clusterRoleSelectors [LabelSelector]
PolicyRule: 1 verbs [s] r; 2 apiGroups [s]; 3 resources [s]; 4 resourceNames [s]; 5 nonResourceURLs [s]
RoleBinding: 1 metadata ObjectMeta; 2 subjects [Subject]; 3 roleRef RoleRef r
ClusterRoleBinding: 1 metadata ObjectMeta; 2 subjects [Subject]; 3 roleRef RoleRef r
Subject: 1 kind s r; 2 apiGroup s; 3 name s r; 4 namespace s
RoleRef: 1 apiGroup s r; 2 kind s r; 3 name s r

# api/batch/v1/types.go
Job: 1 metadata ObjectMeta; 2 spec JobSpec; 3 status JobStatus
JobSpec: 1 parallelism i p; 2 completions i p; 3 activeDeadlineSeconds i p; 11 podFailurePolicy PodFailurePolicy p;
  16 successPolicy SuccessPolicy p; 7 backoffLimit i p; 12 backoffLimitPerIndex i p; 13 maxFailedIndexes i p;
  4 selector LabelSelector p; 5 manualSelector b p; 6 template PodTemplateSpec r; 8 ttlSecondsAfterFinished i p;
  9 completionMode s p; 10 suspend b p; 14 podReplacementPolicy s p; 15 managedBy s p
PodFailurePolicy: 1 rules [PodFailurePolicyRule] r
PodFailurePolicyRule: 1 action s r; 2 onExitCodes PodFailurePolicyOnExitCodesRequirement p;
  3 onPodConditions [PodFailurePolicyOnPodConditionsPattern]
PodFailurePolicyOnExitCodesRequirement: 1 containerName s p; 2 operator s r; 3 values [i] r
PodFailurePolicyOnPodConditionsPattern: 1 type s r; 2 status s
SuccessPolicy: 1 rules [SuccessPolicyRule] r
SuccessPolicyRule: 1 succeededIndexes s p; 2 succeededCount i p
JobStatus: 1 conditions [JobCondition]; 2 startTime time p; 3 completionTime time p; 4 active i; 5 succeeded i;
  6 failed i; 11 terminating i p; 7 completedIndexes s; 10 failedIndexes s p; 9 ready i p
JobCondition: 1 type s r; 2 status s r; 3 lastProbeTime time; 4 lastTransitionTime time; 5 reason s; 6 message s
CronJob: 1 metadata ObjectMeta; 2 spec CronJobSpec; 3 status CronJobStatus
CronJobSpec: 1 schedule s r; 8 timeZone s p; 2 startingDeadlineSeconds i p; 3 concurrencyPolicy s; 4 suspend b p;
  5 jobTemplate JobTemplateSpec r; 6 successfulJobsHistoryLimit i p; 7 failedJobsHistoryLimit i p
JobTemplateSpec: 1 metadata ObjectMeta; 2 spec JobSpec
CronJobStatus: 1 active [ObjectReference]; 4 lastScheduleTime time p; 5 lastSuccessfulTime time p

# api/scheduling/v1, api/policy/v1, api/networking/v1 types.go
PriorityClass: 1 metadata ObjectMeta; 2 value i r; 3 globalDefault b; 4 description s; 5 preemptionPolicy s p
PodDisruptionBudget: 1 metadata ObjectMeta; 2 spec PodDisruptionBudgetSpec; 3 status PodDisruptionBudgetStatus
PodDisruptionBudgetSpec: 1 minAvailable ios p; 2 selector LabelSelector p; 3 maxUnavailable ios p;
  4 unhealthyPodEvictionPolicy s p
PodDisruptionBudgetStatus: 1 observedGeneration i; 2 disruptedPods {time}; 3 disruptionsAllowed i r;
  4 currentHealthy i r; 5 desiredHealthy i r; 6 expectedPods i r; 7 conditions [Condition]
Eviction: 1 metadata ObjectMeta; 2 deleteOptions DeleteOptions p
Ingress: 1 metadata ObjectMeta; 2 spec IngressSpec; 3 status IngressStatus
IngressSpec: 4 ingressClassName s p; 1 defaultBackend IngressBackend p; 2 tls [IngressTLS]; 3 rules [IngressRule]
IngressBackend: 4 service IngressServiceBackend p; 3 resource TypedLocalObjectReference p
IngressServiceBackend: 1 name s r; 2 port ServiceBackendPort
ServiceBackendPort: 1 name s; 2 number i
TypedLocalObjectReference: 1 apiGroup s p r; 2 kind s r; 3 name s r
IngressTLS: 1 hosts [s]; 2 secretName s
IngressRule: 1 host s; 2 ingressRuleValue IngressRuleValue i
IngressRuleValue: 1 http HTTPIngressRuleValue p
HTTPIngressRuleValue: 1 paths [HTTPIngressPath] r
HTTPIngressPath: 1 path s; 3 pathType s p; 2 backend IngressBackend r
IngressStatus: 1 loadBalancer IngressLoadBalancerStatus
IngressLoadBalancerStatus: 1 ingress [IngressLoadBalancerIngress]
IngressLoadBalancerIngress: 1 ip s; 2 hostname s

# api/autoscaling/v2/types.go (status.currentMetrics has no omitempty)
HorizontalPodAutoscaler: 1 metadata ObjectMeta; 2 spec HorizontalPodAutoscalerSpec;
  3 status HorizontalPodAutoscalerStatus
HorizontalPodAutoscalerSpec: 1 scaleTargetRef CrossVersionObjectReference r; 2 minReplicas i p; 3 maxReplicas i r;
  4 metrics [MetricSpec]
CrossVersionObjectReference: 1 kind s r; 2 name s r; 3 apiVersion s
MetricSpec: 1 type s r; 4 resource ResourceMetricSource p; 7 containerResource ContainerResourceMetricSource p
ResourceMetricSource: 1 name s r; 2 target MetricTarget r
ContainerResourceMetricSource: 1 name s r; 2 target MetricTarget r; 3 container s r
MetricTarget: 1 type s r; 2 value qty p; 3 averageValue qty p; 4 averageUtilization i p
HorizontalPodAutoscalerStatus: 1 observedGeneration i p; 2 lastScaleTime time p; 3 currentReplicas i;
  4 desiredReplicas i r; 5 currentMetrics [MetricStatus] r
MetricStatus: 1 type s r; 4 resource ResourceMetricStatus p
ResourceMetricStatus: 1 name s r; 2 current MetricValueStatus r
MetricValueStatus: 1 value qty p; 2 averageValue qty p; 3 averageUtilization i p
"""

_SCALARS = {"s", "i", "b", "y", "f", "time", "mtime", "qty", "ios", "fields"}
_OMITTABLE = ("s", "i", "b", "y", "f")  # kinds that are not Go structs, so omitempty drops their zero value


def _parse_schema(src: str) -> dict[str, dict[int, tuple[str, str, str, str]]]:
    """name -> {number: (json name, kind, shape: '' | 'list' | 'map', flags)}, in declaration order."""
    schema: dict[str, dict] = {}
    for block in src.replace("\n  ", " ").strip().splitlines():
        if not block.strip() or block.startswith("#"):
            continue
        name, _, body = block.partition(":")
        fields = schema[name.strip()] = {}
        for spec in body.split(";"):
            num, jname, typ, *flags = spec.split()
            shape = "list" if typ.startswith("[") else "map" if typ.startswith("{") else ""
            fields[int(num)] = (jname, typ.strip("[]{}"), shape, "".join(flags))
    for name, fields in schema.items():
        for jname, kind, _, _ in fields.values():
            if kind not in _SCALARS and kind not in schema:
                raise AssertionError(f"{name}.{jname}: no message {kind}")
    return schema


SCHEMA = _parse_schema(_SRC)

# (apiVersion, kind) in the envelope -> root message.
ROOTS = {(gv, kind): kind for gv, kinds in {
    "v1": ("Namespace", "ConfigMap", "Secret", "Service", "ServiceAccount", "Pod", "ResourceQuota"),
    "apps/v1": ("Deployment",), "batch/v1": ("Job", "CronJob"), "autoscaling/v1": ("Scale",),
    "autoscaling/v2": ("HorizontalPodAutoscaler",), "policy/v1": ("PodDisruptionBudget", "Eviction"),
    "authorization.k8s.io/v1": ("SelfSubjectAccessReview", "SelfSubjectRulesReview"),
    "authentication.k8s.io/v1": ("SelfSubjectReview", "TokenRequest"),
    "rbac.authorization.k8s.io/v1": ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"),
    "scheduling.k8s.io/v1": ("PriorityClass",), "networking.k8s.io/v1": ("Ingress",),
}.items() for kind in kinds}
# DeleteOptions is registered in every group version (metav1.AddToGroupVersion) and in meta.k8s.io/v1.
ROOTS.update({(gv, "DeleteOptions"): "DeleteOptions" for gv in {gv for gv, _ in ROOTS} | {"meta.k8s.io/v1"}})

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if result >> 64:
                raise ProtobufError("varint overflows 64 bits")
            return result, i
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint too long")


def _fields(buf: bytes):
    """(field number, wire type, value) for each field of a message: ints for varints, bytes otherwise."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ProtobufError("field number 0")
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt in (1, 5):
            size = 8 if wt == 1 else 4
            val, i = buf[i:i + size], i + size
        elif wt == 2:
            size, i = _varint(buf, i)
            val, i = buf[i:i + size], i + size
        else:
            raise ProtobufError(f"unsupported wire type {wt} (field {num})")
        if i > len(buf):
            raise ProtobufError(f"truncated field {num}")
        yield num, wt, val


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _time(buf: bytes, micro: bool):
    if not buf:  # metav1.Time/MicroTime marshal the zero time as no bytes at all
        return None
    f = _submsg(buf, "MicroTime" if micro else "Time", {1: 0, 2: 0})
    secs, nanos = _signed(f.get(1, 0)), _signed(f.get(2, 0))
    try:
        t = _EPOCH + _dt.timedelta(seconds=secs, microseconds=(nanos // 1000) if micro else 0)
    except OverflowError as e:
        raise ProtobufError(f"Time out of range: {secs}s") from e
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{text}.{t.microsecond:06d}Z" if micro else f"{text}Z"


def _submsg(buf: bytes, name: str, wire: dict[int, int]) -> dict:
    """The fields of a small fixed message (last one wins), checked against {number: wire type}."""
    out = {}
    for num, wt, val in _fields(buf):
        if num not in wire:
            raise ProtobufError(f"{name}: unknown field number {num}")
        if wt != wire[num]:
            raise ProtobufError(f"{name}: field {num} has wire type {wt}, expected {wire[num]}")
        out[num] = val
    return out


def _value(kind: str, wt: int, val, where: str):
    if kind in ("i", "b"):
        if wt != 0:
            raise ProtobufError(f"{where}: wire type {wt}, expected varint")
        return _signed(val) if kind == "i" else bool(val)
    if kind == "f":
        if wt != 1:
            raise ProtobufError(f"{where}: wire type {wt}, expected 64-bit")
        return struct.unpack("<d", val)[0]
    if wt != 2:
        raise ProtobufError(f"{where}: wire type {wt}, expected length-delimited")
    if kind == "s":
        try:
            return val.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtobufError(f"{where}: invalid UTF-8 string") from e
    if kind == "y":
        return base64.b64encode(val).decode("ascii")
    if kind in ("time", "mtime"):
        return _time(val, kind == "mtime")
    if kind == "qty":
        return _value("s", 2, _submsg(val, "Quantity", {1: 2}).get(1, b""), where + ".string")
    if kind == "ios":
        f = _submsg(val, "IntOrString", {1: 0, 2: 0, 3: 2})
        if f.get(1, 0) == 1:
            return _value("s", 2, f.get(3, b""), where + ".strVal")
        return _signed(f.get(2, 0))
    if kind == "fields":
        raw = _submsg(val, "FieldsV1", {1: 2}).get(1, b"")
        try:
            return json.loads(raw) if raw else None
        except ValueError as e:
            raise ProtobufError(f"{where}: FieldsV1 is not JSON") from e
    return _message(val, kind)


def _zero(kind: str, shape: str, flags: str):
    """What encoding/json writes for a field the wire did not carry."""
    if shape or "p" in flags:
        return None
    return {"s": "", "i": 0, "b": False, "y": None, "f": 0.0, "time": None, "mtime": None, "qty": "0", "ios": 0,
            "fields": None}.get(kind) if kind in _SCALARS else _message(b"", kind)


def _message(buf: bytes, name: str) -> dict:
    schema = SCHEMA[name]
    got: dict[int, object] = {}
    for num, wt, val in _fields(buf):
        f = schema.get(num)
        if f is None:
            raise ProtobufError(f"{name}: unknown field number {num}")
        jname, kind, shape, _flags = f
        where = f"{name}.{jname}"
        if shape == "map":
            if wt != 2:
                raise ProtobufError(f"{where}: wire type {wt}, expected map entry")
            key, value = "", _zero(kind, "", "")
            for enum, ewt, evalue in _fields(val):
                if enum == 1:
                    key = _value("s", ewt, evalue, where + ".key")
                elif enum == 2:
                    value = _value(kind, ewt, evalue, where + ".value")
                else:
                    raise ProtobufError(f"{where}: map entry field {enum}")
            got.setdefault(num, {})[key] = value
        elif shape == "list" and wt == 2 and kind in ("i", "b"):  # packed repeated scalars
            i = 0
            while i < len(val):
                v, i = _varint(val, i)
                got.setdefault(num, []).append(_value(kind, 0, v, where))
        elif shape == "list":
            got.setdefault(num, []).append(_value(kind, wt, val, where))
        else:
            got[num] = _value(kind, wt, val, where)
    out: dict = {}
    for num, (jname, kind, shape, flags) in schema.items():
        plain = not shape and "p" not in flags and "r" not in flags  # a non-pointer field with omitempty
        if num in got:
            value = got[num]
            if plain and (kind in _OMITTABLE and not value or "z" in flags and value is None):
                continue  # omitempty drops a zero scalar; omitzero a zero Time (decoded as None)
        elif "r" in flags or (plain and kind not in _OMITTABLE and "z" not in flags):
            value = _zero(kind, shape, flags)  # no omitempty, or a struct: omitempty never drops a struct
        else:
            continue
        if "i" in flags:
            out.update(value or {})
        else:
            out[jname] = value
    return out


def decode(body: bytes) -> dict:
    """A Kubernetes protobuf request body -> the JSON-shaped object (kind and apiVersion first)."""
    if not isinstance(body, (bytes, bytearray)) or body[:4] != MAGIC:
        raise ProtobufError("not a Kubernetes protobuf body (missing k8s\\x00 prefix)")
    unknown = _submsg(bytes(body[4:]), "Unknown", {1: 2, 2: 2, 3: 2, 4: 2})
    type_meta = _message(unknown.get(1, b""), "TypeMeta")
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    encoding = unknown.get(3, b"")
    if encoding:
        raise ProtobufError(f"unsupported contentEncoding {encoding!r}")
    root = ROOTS.get((api_version, kind))
    if root is None:
        raise ProtobufError(f"no protobuf schema for {api_version or '?'}/{kind or '?'}")
    return {"kind": kind, "apiVersion": api_version, **_message(unknown.get(2, b""), root)}
