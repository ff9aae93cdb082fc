"""Decoding a request body into the Go types: the JSON type errors the API server answers with 400.

kube-apiserver decodes a body with k8s.io/apimachinery/pkg/runtime/serializer/json, which unmarshals into
the typed object with sigs.k8s.io/json (a case-sensitive copy of encoding/json:
vendor/sigs.k8s.io/json/internal/golang/encoding/json/decode.go). A JSON value of the wrong type for a
field is an UnmarshalTypeError; the create and update handlers turn the decode error into a 400
BadRequest (k8s.io/apiserver/pkg/endpoints/handlers/rest.go transformDecodeError):

    Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go
    struct field DeploymentSpec.spec.replicas of type int32

What the decoder does, and this module models (decode.go literalStore, object, array, addErrorContext):
- the value is named by its JSON type: "string", "number", "bool", "object", "array"; an integer field
  given a fraction or an out-of-range number is "number 1.5";
- the field is "<innermost struct>.<json names of the struct fields from the root>", map keys and list
  indexes left out (only struct fields are pushed on the errorContext's FieldStack);
- the type is the Go type's reflect String(): int32, string, bool, map[string]string, []v1.Container,
  v1.PodSpec, v1.Protocol (named string types keep their name);
- null is no error anywhere; unknown fields are no error (strict field validation is another matter);
- only the first type error is reported (saveError keeps the first) but decoding goes on, except that an
  error from a type's own UnmarshalJSON (resource.Quantity, intstr.IntOrString, metav1.Time) ends
  decoding at once and is returned instead;
- keys are decoded in the order the body holds them; kubectl's body is json.Marshal of a map, so sorted.

Only the fields the simulator's kinds use are typed here; any other field is accepted as it is.
"""
from __future__ import annotations

import math
from typing import Union

from .. import quantity as qty


class Struct:
    """A Go struct: its reflect name (package.Type) and its fields by JSON name."""

    def __init__(self, name: str, fields: dict | None = None):
        self.name = name
        self.fields: dict[str, "GoType"] = fields or {}

    @property
    def short(self) -> str:   # reflect.Type.Name(): without the package
        return self.name.split(".", 1)[-1]


class ListOf:
    def __init__(self, elem: "GoType"):
        self.elem = elem


class MapOf:
    def __init__(self, elem: "GoType", name: str = ""):
        self.elem = elem
        self.name = name       # a named map type (v1.ResourceList), else map[string]<elem>


# Scalars are strings: "int32", "int64", "string", "bool", "bytes" ([]byte: a base64 string), a named
# string type as "string:v1.Protocol", and the types with their own UnmarshalJSON: "Quantity",
# "IntOrString", "Time" (metav1.Time and metav1.MicroTime). "any" is not checked.
GoType = Union[str, Struct, ListOf, MapOf]


def type_name(t: GoType) -> str:
    if isinstance(t, Struct):
        return t.name
    if isinstance(t, ListOf):
        return "[]" + type_name(t.elem)
    if isinstance(t, MapOf):
        return t.name or "map[string]" + type_name(t.elem)
    if t == "bytes":
        return "[]uint8"
    if t == "Quantity":
        return "resource.Quantity"
    if t == "IntOrString":
        return "intstr.IntOrString"
    if t == "Time":
        return "v1.Time"
    return t.split(":", 1)[1] if ":" in t else t


# ---- the types ------------------------------------------------------------------------------------------------
# k8s.io/api core/v1, apps/v1, batch/v1, discovery/v1, rbac/v1, coordination/v1, scheduling/v1, policy/v1
# (types.go of each), k8s.io/apimachinery/pkg/apis/meta/v1 types.go.
STRS = ListOf("string")
LABELS = MapOf("string")
RESOURCE_LIST = MapOf("Quantity", "v1.ResourceList")

OWNER_REF = Struct("v1.OwnerReference", {"apiVersion": "string", "kind": "string", "name": "string",
                                         "uid": "string:types.UID", "controller": "bool",
                                         "blockOwnerDeletion": "bool"})
OBJECT_META = Struct("v1.ObjectMeta", {
    "name": "string", "generateName": "string", "namespace": "string", "uid": "string:types.UID",
    "resourceVersion": "string", "generation": "int64", "creationTimestamp": "Time",
    "deletionTimestamp": "Time", "deletionGracePeriodSeconds": "int64", "labels": LABELS,
    "annotations": LABELS, "ownerReferences": ListOf(OWNER_REF), "finalizers": STRS})
LABEL_SELECTOR = Struct("v1.LabelSelector", {
    "matchLabels": LABELS,
    "matchExpressions": ListOf(Struct("v1.LabelSelectorRequirement", {
        "key": "string", "operator": "string:v1.LabelSelectorOperator", "values": STRS}))})

CONTAINER_PORT = Struct("v1.ContainerPort", {"name": "string", "hostPort": "int32", "containerPort": "int32",
                                             "protocol": "string:v1.Protocol", "hostIP": "string"})
PROBE = Struct("v1.Probe", {
    # ProbeHandler is embedded: its fields are the Probe's (and the error names the Probe).
    "exec": Struct("v1.ExecAction", {"command": STRS}),
    "httpGet": Struct("v1.HTTPGetAction", {"path": "string", "port": "IntOrString", "host": "string",
                                           "scheme": "string:v1.URIScheme"}),
    "tcpSocket": Struct("v1.TCPSocketAction", {"port": "IntOrString", "host": "string"}),
    "initialDelaySeconds": "int32", "timeoutSeconds": "int32", "periodSeconds": "int32",
    "successThreshold": "int32", "failureThreshold": "int32", "terminationGracePeriodSeconds": "int64"})
CONTAINER = Struct("v1.Container", {
    "name": "string", "image": "string", "command": STRS, "args": STRS, "workingDir": "string",
    "ports": ListOf(CONTAINER_PORT),
    "env": ListOf(Struct("v1.EnvVar", {"name": "string", "value": "string"})),
    "resources": Struct("v1.ResourceRequirements", {"limits": RESOURCE_LIST, "requests": RESOURCE_LIST}),
    "restartPolicy": "string:v1.ContainerRestartPolicy",
    "volumeMounts": ListOf(Struct("v1.VolumeMount", {"name": "string", "readOnly": "bool", "mountPath": "string",
                                                     "subPath": "string"})),
    "livenessProbe": PROBE, "readinessProbe": PROBE, "startupProbe": PROBE,
    "terminationMessagePath": "string", "terminationMessagePolicy": "string:v1.TerminationMessagePolicy",
    "imagePullPolicy": "string:v1.PullPolicy", "stdin": "bool", "stdinOnce": "bool", "tty": "bool"})
TOLERATION = Struct("v1.Toleration", {"key": "string", "operator": "string:v1.TolerationOperator",
                                      "value": "string", "effect": "string:v1.TaintEffect",
                                      "tolerationSeconds": "int64"})
POD_SPEC = Struct("v1.PodSpec", {
    "volumes": ListOf(Struct("v1.Volume", {"name": "string"})),
    "initContainers": ListOf(CONTAINER), "containers": ListOf(CONTAINER),
    "restartPolicy": "string:v1.RestartPolicy", "terminationGracePeriodSeconds": "int64",
    "activeDeadlineSeconds": "int64", "dnsPolicy": "string:v1.DNSPolicy", "nodeSelector": LABELS,
    "serviceAccountName": "string", "serviceAccount": "string", "automountServiceAccountToken": "bool",
    "nodeName": "string", "hostNetwork": "bool", "hostPID": "bool", "hostIPC": "bool",
    "imagePullSecrets": ListOf(Struct("v1.LocalObjectReference", {"name": "string"})),
    "hostname": "string", "subdomain": "string", "schedulerName": "string", "tolerations": ListOf(TOLERATION),
    "priorityClassName": "string", "priority": "int32", "enableServiceLinks": "bool",
    "preemptionPolicy": "string:v1.PreemptionPolicy", "overhead": RESOURCE_LIST})
POD_TEMPLATE = Struct("v1.PodTemplateSpec", {"metadata": OBJECT_META, "spec": POD_SPEC})


def _kind(name: str, fields: dict) -> Struct:
    return Struct(name, {"apiVersion": "string", "kind": "string", "metadata": OBJECT_META, **fields})


SERVICE_PORT = Struct("v1.ServicePort", {"name": "string", "protocol": "string:v1.Protocol", "appProtocol": "string",
                                         "port": "int32", "targetPort": "IntOrString", "nodePort": "int32"})
CORE_ENDPOINT_PORT = Struct("v1.EndpointPort", {"name": "string", "port": "int32", "protocol": "string:v1.Protocol",
                                                "appProtocol": "string"})
ENDPOINT_ADDRESS = Struct("v1.EndpointAddress", {"ip": "string", "hostname": "string", "nodeName": "string"})
TAINT = Struct("v1.Taint", {"key": "string", "value": "string", "effect": "string:v1.TaintEffect", "timeAdded": "Time"})
ROLLING_UPDATE = Struct("v1.RollingUpdateDeployment", {"maxUnavailable": "IntOrString", "maxSurge": "IntOrString"})
POLICY_RULE = Struct("v1.PolicyRule", {"verbs": STRS, "apiGroups": STRS, "resources": STRS, "resourceNames": STRS,
                                       "nonResourceURLs": STRS})

KINDS: dict[str, Struct] = {
    "Pod": _kind("v1.Pod", {"spec": POD_SPEC}),
    "Deployment": _kind("v1.Deployment", {"spec": Struct("v1.DeploymentSpec", {
        "replicas": "int32", "selector": LABEL_SELECTOR, "template": POD_TEMPLATE,
        "strategy": Struct("v1.DeploymentStrategy", {"type": "string:v1.DeploymentStrategyType",
                                                     "rollingUpdate": ROLLING_UPDATE}),
        "minReadySeconds": "int32", "revisionHistoryLimit": "int32", "paused": "bool",
        "progressDeadlineSeconds": "int32"})}),
    "ReplicaSet": _kind("v1.ReplicaSet", {"spec": Struct("v1.ReplicaSetSpec", {
        "replicas": "int32", "minReadySeconds": "int32", "selector": LABEL_SELECTOR, "template": POD_TEMPLATE})}),
    "DaemonSet": _kind("v1.DaemonSet", {"spec": Struct("v1.DaemonSetSpec", {
        "selector": LABEL_SELECTOR, "template": POD_TEMPLATE, "minReadySeconds": "int32",
        "revisionHistoryLimit": "int32"})}),
    "StatefulSet": _kind("v1.StatefulSet", {"spec": Struct("v1.StatefulSetSpec", {
        "replicas": "int32", "selector": LABEL_SELECTOR, "template": POD_TEMPLATE, "serviceName": "string",
        "podManagementPolicy": "string:v1.PodManagementPolicyType", "revisionHistoryLimit": "int32",
        "minReadySeconds": "int32"})}),
    "ReplicationController": _kind("v1.ReplicationController", {"spec": Struct("v1.ReplicationControllerSpec", {
        "replicas": "int32", "minReadySeconds": "int32", "selector": LABELS, "template": POD_TEMPLATE})}),
    "Job": _kind("v1.Job", {"spec": Struct("v1.JobSpec", {
        "parallelism": "int32", "completions": "int32", "activeDeadlineSeconds": "int64", "backoffLimit": "int32",
        "selector": LABEL_SELECTOR, "manualSelector": "bool", "template": POD_TEMPLATE,
        "ttlSecondsAfterFinished": "int32", "completionMode": "string:v1.CompletionMode", "suspend": "bool"})}),
    "Service": _kind("v1.Service", {"spec": Struct("v1.ServiceSpec", {
        "ports": ListOf(SERVICE_PORT), "selector": LABELS, "clusterIP": "string", "clusterIPs": STRS,
        "type": "string:v1.ServiceType", "externalIPs": STRS, "sessionAffinity": "string:v1.ServiceAffinity",
        "loadBalancerIP": "string", "externalName": "string",
        "externalTrafficPolicy": "string:v1.ServiceExternalTrafficPolicy",
        "internalTrafficPolicy": "string:v1.ServiceInternalTrafficPolicy", "healthCheckNodePort": "int32",
        "publishNotReadyAddresses": "bool", "ipFamilies": ListOf("string:v1.IPFamily"),
        "ipFamilyPolicy": "string:v1.IPFamilyPolicy", "allocateLoadBalancerNodePorts": "bool"})}),
    "Endpoints": _kind("v1.Endpoints", {"subsets": ListOf(Struct("v1.EndpointSubset", {
        "addresses": ListOf(ENDPOINT_ADDRESS), "notReadyAddresses": ListOf(ENDPOINT_ADDRESS),
        "ports": ListOf(CORE_ENDPOINT_PORT)}))}),
    "EndpointSlice": _kind("v1.EndpointSlice", {
        "addressType": "string:v1.AddressType",
        "endpoints": ListOf(Struct("v1.Endpoint", {
            "addresses": STRS, "hostname": "string", "nodeName": "string", "zone": "string",
            "conditions": Struct("v1.EndpointConditions", {"ready": "bool", "serving": "bool", "terminating": "bool"})})),
        "ports": ListOf(Struct("v1.EndpointPort", {"name": "string", "protocol": "string:v1.Protocol",
                                                   "port": "int32", "appProtocol": "string"}))}),
    "ConfigMap": _kind("v1.ConfigMap", {"data": LABELS, "binaryData": MapOf("bytes"), "immutable": "bool"}),
    "Secret": _kind("v1.Secret", {"data": MapOf("bytes"), "stringData": LABELS, "type": "string:v1.SecretType",
                                  "immutable": "bool"}),
    "Namespace": _kind("v1.Namespace", {"spec": Struct("v1.NamespaceSpec", {"finalizers": ListOf("string:v1.FinalizerName")})}),
    "Node": _kind("v1.Node", {
        "spec": Struct("v1.NodeSpec", {"podCIDR": "string", "podCIDRs": STRS, "providerID": "string",
                                       "unschedulable": "bool", "taints": ListOf(TAINT)}),
        "status": Struct("v1.NodeStatus", {
            "capacity": RESOURCE_LIST, "allocatable": RESOURCE_LIST,
            "addresses": ListOf(Struct("v1.NodeAddress", {"type": "string:v1.NodeAddressType", "address": "string"}))})}),
    "ServiceAccount": _kind("v1.ServiceAccount", {"automountServiceAccountToken": "bool",
                                                  "imagePullSecrets": ListOf(Struct("v1.LocalObjectReference", {"name": "string"}))}),
    "ResourceQuota": _kind("v1.ResourceQuota", {"spec": Struct("v1.ResourceQuotaSpec", {
        "hard": RESOURCE_LIST, "scopes": ListOf("string:v1.ResourceQuotaScope")})}),
    "LimitRange": _kind("v1.LimitRange", {"spec": Struct("v1.LimitRangeSpec", {"limits": ListOf(Struct("v1.LimitRangeItem", {
        "type": "string:v1.LimitType", "max": RESOURCE_LIST, "min": RESOURCE_LIST, "default": RESOURCE_LIST,
        "defaultRequest": RESOURCE_LIST, "maxLimitRequestRatio": RESOURCE_LIST}))})}),
    "PersistentVolume": _kind("v1.PersistentVolume", {"spec": Struct("v1.PersistentVolumeSpec", {
        "capacity": RESOURCE_LIST, "accessModes": ListOf("string:v1.PersistentVolumeAccessMode"),
        "storageClassName": "string",
        "persistentVolumeReclaimPolicy": "string:v1.PersistentVolumeReclaimPolicy"})}),
    "PersistentVolumeClaim": _kind("v1.PersistentVolumeClaim", {"spec": Struct("v1.PersistentVolumeClaimSpec", {
        "accessModes": ListOf("string:v1.PersistentVolumeAccessMode"),
        "resources": Struct("v1.VolumeResourceRequirements", {"limits": RESOURCE_LIST, "requests": RESOURCE_LIST}),
        "volumeName": "string", "storageClassName": "string"})}),
    "PriorityClass": _kind("v1.PriorityClass", {"value": "int32", "globalDefault": "bool", "description": "string",
                                                "preemptionPolicy": "string:v1.PreemptionPolicy"}),
    "PodDisruptionBudget": _kind("v1.PodDisruptionBudget", {"spec": Struct("v1.PodDisruptionBudgetSpec", {
        "minAvailable": "IntOrString", "maxUnavailable": "IntOrString", "selector": LABEL_SELECTOR})}),
    "Lease": _kind("v1.Lease", {"spec": Struct("v1.LeaseSpec", {
        "holderIdentity": "string", "leaseDurationSeconds": "int32", "acquireTime": "Time", "renewTime": "Time",
        "leaseTransitions": "int32"})}),
    "Role": _kind("v1.Role", {"rules": ListOf(POLICY_RULE)}),
    "ClusterRole": _kind("v1.ClusterRole", {"rules": ListOf(POLICY_RULE)}),
    "RoleBinding": _kind("v1.RoleBinding", {
        "subjects": ListOf(Struct("v1.Subject", {"kind": "string", "apiGroup": "string", "name": "string",
                                                 "namespace": "string"})),
        "roleRef": Struct("v1.RoleRef", {"apiGroup": "string", "kind": "string", "name": "string"})}),
    "Event": _kind("v1.Event", {"reason": "string", "message": "string", "count": "int32", "type": "string",
                                "firstTimestamp": "Time", "lastTimestamp": "Time", "eventTime": "Time",
                                "action": "string", "reportingComponent": "string", "reportingInstance": "string",
                                "source": Struct("v1.EventSource", {"component": "string", "host": "string"})}),
}
KINDS["ClusterRoleBinding"] = Struct("v1.ClusterRoleBinding", {**KINDS["RoleBinding"].fields})

_INT_RANGE = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}


# ---- decoding -------------------------------------------------------------------------------------------------
class DecodeError(Exception):
    """What sigs.k8s.io/json returns: the message, and (for the simulator's own reports) the path with
    list indexes and map keys, as field.Path prints it."""

    def __init__(self, message: str, path: str):
        super().__init__(message)
        self.message = message
        self.path = path


def _json_kind(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    return "array"


def _number_text(v) -> str:
    # The literal as JSON holds it (Python writes floats the way encoding/json's strconv does, mostly).
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def _int_problem(v, t: str) -> str | None:
    """None when v fits the integer type, else the value as UnmarshalTypeError names it."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return _json_kind(v)
    if isinstance(v, float):
        # YAML 3.0 reaches the server as 3 (sigs.k8s.io/yaml writes float64(3) as "3"); 1.5 stays 1.5.
        if not math.isfinite(v) or not v.is_integer():
            return "number " + _number_text(v)
        v = int(v)
    lo, hi = _INT_RANGE[t]
    return None if lo <= v <= hi else "number " + _number_text(v)


class _Decoder:
    def __init__(self):
        self.saved: DecodeError | None = None

    def fail(self, value_desc: str, t: GoType, ctx: tuple[Struct | None, tuple[str, ...]], path: str) -> None:
        if self.saved is None:   # saveError: the first one is reported
            self.saved = DecodeError(_type_error(value_desc, t, ctx), path)

    def value(self, v, t: GoType, ctx, path: str) -> None:
        if v is None or t == "any":
            return   # null sets nothing and is no error
        if isinstance(t, Struct):
            if not isinstance(v, dict):
                return self.fail(_json_kind(v), t, ctx, path)
            for k in sorted(v):
                ft = t.fields.get(k)
                if ft is None:
                    continue   # an unknown field: ignored by the decoder itself
                self.value(v[k], ft, (t, ctx[1] + (k,)), f"{path}.{k}" if path else k)
            return
        if isinstance(t, MapOf):
            if not isinstance(v, dict):
                return self.fail(_json_kind(v), t, ctx, path)
            for k in sorted(v):
                self.value(v[k], t.elem, ctx, f"{path}.{k}" if path else k)   # the key is not on the FieldStack
            return
        if isinstance(t, ListOf):
            if not isinstance(v, list):
                return self.fail(_json_kind(v), t, ctx, path)
            for i, x in enumerate(v):
                self.value(x, t.elem, ctx, f"{path}[{i}]")
            return
        if t in _INT_RANGE:
            bad = _int_problem(v, t)
            if bad is not None:
                self.fail(bad, t, ctx, path)
        elif t == "bool":
            if not isinstance(v, bool):
                self.fail(_json_kind(v), t, ctx, path)
        elif t == "string" or t.startswith("string:") or t == "bytes":
            if not isinstance(v, str):
                self.fail(_json_kind(v), t, ctx, path)
        elif t == "IntOrString":
            # intstr.IntOrString.UnmarshalJSON: a quoted value is the string, anything else is
            # json.Unmarshal into the int32 - whose error ends the decoding (returned, not saved).
            if not isinstance(v, str):
                bad = _int_problem(v, "int32")
                if bad is not None:
                    raise DecodeError(_type_error(bad, "int32", ctx), path)
        elif t == "Time":
            # metav1.Time.UnmarshalJSON: json.Unmarshal into a string first.
            if not isinstance(v, str):
                raise DecodeError(_type_error(_json_kind(v), "string", ctx), path)
        elif t == "Quantity":
            # resource.Quantity.UnmarshalJSON: the value, quotes removed, must parse as a quantity; a
            # number is parsed from its text. (A string that does not parse is left to validation here.)
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise DecodeError(qty.ERR_FORMAT_WRONG, path)


def _type_error(value_desc: str, t: GoType, ctx) -> str:
    struct, stack = ctx
    name = type_name(t)
    if struct is not None or stack:
        return (f"json: cannot unmarshal {value_desc} into Go struct field "
                f"{struct.short if struct else ''}.{'.'.join(stack)} of type {name}")
    return f"json: cannot unmarshal {value_desc} into Go value of type {name}"


def _fits(v, t: GoType) -> bool:
    """True when _Decoder.value would find nothing wrong with v as t: the same checks without the field
    paths and messages, which only a failure needs (building them for every field of every request body
    was most of the cost). False sends the body through _Decoder for the exact error. Each type's check
    is a closure made once (_fits_fn), so a field costs one call, not a walk down a chain of type tests."""
    return v is None or _fits_fn(t)(v)


_FITS: dict = {}   # id(type) or scalar name -> its check (the types are module-level schema objects)


def _always(v) -> bool:
    return True


def _is_str(v) -> bool:
    return isinstance(v, str)


def _fits_fn(t: GoType):
    key = t if isinstance(t, str) else id(t)
    fn = _FITS.get(key)
    if fn is None:
        fn = _FITS[key] = _make_fits(t)
    return fn


def _make_fits(t: GoType):
    if t == "any":
        return _always
    if isinstance(t, Struct):
        fields, checks = t.fields, {}

        def struct(v) -> bool:
            if not isinstance(v, dict):
                return False
            for k, x in v.items():
                if x is None:
                    continue
                f = checks.get(k)
                if f is None:
                    ft = fields.get(k)
                    if ft is None:
                        continue
                    f = checks[k] = _fits_fn(ft)   # fields are looked up lazily: types may be recursive
                if not f(x):
                    return False
            return True
        return struct
    if isinstance(t, (MapOf, ListOf)):
        elem, is_map = t.elem, isinstance(t, MapOf)

        def container(v) -> bool:
            if not isinstance(v, dict if is_map else list):
                return False
            f = _fits_fn(elem)
            return all(x is None or f(x) for x in (v.values() if is_map else v))
        return container
    if t in _INT_RANGE:
        return lambda v: _int_problem(v, t) is None
    if t == "bool":
        return lambda v: isinstance(v, bool)
    if t == "string" or t.startswith("string:") or t == "bytes" or t == "Time":
        return _is_str
    if t == "IntOrString":
        return lambda v: isinstance(v, str) or _int_problem(v, "int32") is None
    if t == "Quantity":
        return lambda v: not isinstance(v, bool) and isinstance(v, (int, float, str))
    return _always


def check(kind: str, obj) -> DecodeError | None:
    """The decode error for `obj` as a `kind`, or None (also for a kind without a typed schema here)."""
    t = KINDS.get(kind)
    if t is None or not isinstance(obj, dict):
        return None
    if _fits(obj, t):
        return None
    d = _Decoder()
    try:
        d.value(obj, t, (None, ()), "")
    except DecodeError as e:
        return e
    return d.saved


def bad_request_message(kind: str, api_version, err: DecodeError, into: str | None = None) -> str:
    """transformDecodeError: the gvk the body named (its kind, the version part of its apiVersion), then
    the kind of the object it was decoded into."""
    version = api_version.rsplit("/", 1)[-1] if isinstance(api_version, str) else ""
    return f'{kind} in version "{version}" cannot be handled as a {into or kind}: {err.message}'
