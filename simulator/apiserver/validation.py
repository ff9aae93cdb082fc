"""API validation (the registry strategies' Validate / ValidateUpdate), for the kinds this model serves:

  pkg/apis/core/validation/validation.go   ObjectMeta, Pod, PodSpec, Service, Namespace, Node, ConfigMap,
                                           Secret, ServiceAccount, ResourceQuota, LimitRange, Endpoints
  pkg/apis/core/validation/events.go       Event (legacy v1 rules)
  pkg/apis/apps/validation/validation.go   Deployment, ReplicaSet (+ pkg/registry/apps/deployment/strategy.go:
                                           the selector is immutable in apps/v1)
  pkg/apis/scheduling/validation           PriorityClass
  pkg/apis/rbac/validation                 Role, ClusterRole, RoleBinding, ClusterRoleBinding
  pkg/apis/discovery/validation            EndpointSlice
  pkg/apis/coordination/validation         Lease

`validate(kind, obj, old=None)` returns metav1.StatusCauses, one per field.Error, in upstream's order:
{"reason": "FieldValueInvalid", "message": <ErrorBody>, "field": "spec.replicas"}. As in
errors.NewInvalid, the cause's message is the error body without the field
(`Invalid value: -1: must be greater than or equal to 0`); status.invalid() prefixes the field.
Error texts follow k8s.io/apimachinery/pkg/util/validation and .../validation/field/errors.go; a bad value
is printed as Go prints it (%q for strings, %v for numbers, %#v for maps and structs).
"""
from __future__ import annotations

import ipaddress
import json
import re

from .. import quantity as qty

# ---- k8s.io/apimachinery/pkg/util/validation ------------------------------------------------------------
DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + r")*"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_LABEL_RE = re.compile(f"^{DNS1123_LABEL}$")
_SUBDOMAIN_RE = re.compile(f"^{DNS1123_SUBDOMAIN}$")
_DNS1035_RE = re.compile(f"^{DNS1035_LABEL}$")
_QNAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(f"^{_QNAME}$")
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE}$")
_CONFIG_KEY = r"[-._a-zA-Z0-9]+"
_CONFIG_KEY_RE = re.compile(f"^{_CONFIG_KEY}$")
_PERCENT_RE = re.compile(r"^[0-9]+%$")

SUBDOMAIN_ERR = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 f"validation is '{DNS1123_SUBDOMAIN}')")
LABEL_ERR = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             f"and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             f"'{DNS1123_LABEL}')")
DNS1035_ERR = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               f"validation is '{DNS1035_LABEL}')")
QNAME_ERR = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             f"'{_QNAME}')")
LABEL_VALUE_ERR = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   f"'12345', regex used for validation is '{_LABEL_VALUE}')")
CONFIG_KEY_ERR = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                  f"or 'KEY_NAME',  or 'key-name', regex used for validation is '{_CONFIG_KEY}')")
PERCENT_ERR = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
               "regex used for validation is '[0-9]+%')")
PORT_RANGE_ERR = "must be between 1 and 65535, inclusive"
IMMUTABLE = "field is immutable"
NONNEG = "must be greater than or equal to 0"
POSITIVE = "must be greater than zero"


def is_dns1123_label(s: str) -> bool:
    return len(s) <= 63 and bool(_LABEL_RE.match(s))


def is_dns1123_subdomain(s: str) -> bool:
    return len(s) <= 253 and bool(_SUBDOMAIN_RE.match(s))


def dns1123_label_msgs(s: str) -> list[str]:
    out = []
    if len(s) > 63:
        out.append("must be no more than 63 characters")
    if not _LABEL_RE.match(s):
        out.append(LABEL_ERR)
    return out


def dns1123_subdomain_msgs(s: str) -> list[str]:
    out = []
    if len(s) > 253:
        out.append("must be no more than 253 characters")
    if not _SUBDOMAIN_RE.match(s):
        out.append(SUBDOMAIN_ERR)
    return out


def dns1035_label_msgs(s: str) -> list[str]:
    out = []
    if len(s) > 63:
        out.append("must be no more than 63 characters")
    if not _DNS1035_RE.match(s):
        out.append(DNS1035_ERR)
    return out


def path_segment_msgs(s: str) -> list[str]:
    """path.IsValidPathSegmentName (RBAC object names)."""
    if s in (".", ".."):
        return [f"may not be '{s}'"]
    out = []
    for c in ("/", "%"):
        if c in s:
            out.append(f"may not contain '{c}'")
    return out


def qualified_name_msgs(s: str) -> list[str]:
    """IsQualifiedName: [prefix/]name (k8s.io/apimachinery/pkg/util/validation/validation.go). An empty prefix
    does not stop the name's checks, and an empty name fails both the non-empty and the pattern check."""
    parts = s.split("/")
    out = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            out.append("prefix part must be non-empty")
        else:
            out += ["prefix part " + m for m in dns1123_subdomain_msgs(prefix)]
    else:
        return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                f"validation is '{_QNAME}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        out.append("name part must be non-empty")
    elif len(name) > 63:
        out.append("name part must be no more than 63 characters")
    if not _QNAME_RE.match(name):
        out.append(QNAME_ERR)
    return out


def label_value_msgs(s: str) -> list[str]:
    out = []
    if len(s) > 63:
        out.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(s):
        out.append(LABEL_VALUE_ERR)
    return out


def port_name_msgs(s: str) -> list[str]:
    """IsValidPortName (IANA_SVC_NAME)."""
    out = []
    if len(s) > 15:
        out.append("must be no more than 15 characters")
    if not re.match(r"^[-a-z0-9]+$", s):
        out.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", s):
        out.append("must contain at least one letter (a-z)")
    if "--" in s:
        out.append("must not contain consecutive hyphens")
    if s.startswith("-") or s.endswith("-"):
        out.append("must not begin or end with a hyphen")
    return out


def port_num_msgs(n) -> list[str]:
    return [] if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 65535 else [PORT_RANGE_ERR]


def config_key_msgs(s: str) -> list[str]:
    out = []
    if len(s) > 253:
        out.append("must be no more than 253 characters")
    if not _CONFIG_KEY_RE.match(s):
        out.append(CONFIG_KEY_ERR)
    if s == ".":
        out.append("must not be '.'")
    elif s == "..":
        out.append("must not be '..'")
    elif s.startswith(".."):
        out.append("must not start with '..'")
    return out


# ---- Go value printing (field.Error.ErrorBody) ----------------------------------------------------------
def go_quote(s: str) -> str:
    """strconv.Quote, near enough: JSON escaping without \\u for printable non-ASCII."""
    return json.dumps(s, ensure_ascii=False)


def go_map(m: dict | None) -> str:
    if m is None:
        return "map[string]string(nil)"
    return "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(str(v))}" for k, v in sorted(m.items())) + "}"


def go_strings(xs: list | None) -> str:
    if xs is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(str(x)) for x in xs) + "}"


def go_label_selector(sel: dict | None) -> str:
    """%#v of a metav1.LabelSelector (the pointer is dereferenced)."""
    if sel is None:
        return "null"
    ml = sel.get("matchLabels")
    exprs = sel.get("matchExpressions")
    if exprs is None:
        ex = "[]v1.LabelSelectorRequirement(nil)"
    else:
        ex = "[]v1.LabelSelectorRequirement{" + ", ".join(
            f'v1.LabelSelectorRequirement{{Key:{go_quote(e.get("key", ""))}, Operator:{go_quote(e.get("operator", ""))}, '
            f'Values:{go_strings(e.get("values"))}}}' for e in exprs) + "}"
    return f"v1.LabelSelector{{MatchLabels:{go_map(ml)}, MatchExpressions:{ex}}}"


def go_int_or_string(v) -> str:
    if isinstance(v, str):
        return f'intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(v)}}}'
    return f'intstr.IntOrString{{Type:0, IntVal:{int(v or 0)}, StrVal:""}}'


class Raw(str):
    """A value already in Go's printed form."""


def go_value(v) -> str:
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return '"null"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return go_quote(v)
    if isinstance(v, dict):
        return go_map(v)
    if isinstance(v, list):
        return go_strings(v)
    return go_quote(str(v))


# ---- field errors -> StatusCauses -----------------------------------------------------------------------
def _cause(reason: str, field: str, message: str) -> dict:
    return {"reason": reason, "message": message, "field": field}


def _invalid(field: str, value, detail: str) -> dict:
    return _cause("FieldValueInvalid", field, f"Invalid value: {go_value(value)}: {detail}")


def _required(field: str, detail: str = "") -> dict:
    return _cause("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def _not_supported(field: str, value, supported: list[str]) -> dict:
    return _cause("FieldValueNotSupported", field,
                  f"Unsupported value: {go_value(value)}: supported values: " + ", ".join(go_quote(s) for s in supported))


def _duplicate(field: str, value) -> dict:
    return _cause("FieldValueDuplicate", field, f"Duplicate value: {go_value(value)}")


def _forbidden(field: str, detail: str) -> dict:
    return _cause("FieldValueForbidden", field, "Forbidden" + (f": {detail}" if detail else ""))


def _not_found(field: str, value) -> dict:
    return _cause("FieldValueNotFound", field, f"Not found: {go_value(value)}")


def _too_long(field: str, max_bytes: int) -> dict:
    return _cause("FieldValueTooLong", field, f"Too long: must have at most {max_bytes} bytes")


def _too_many(field: str, n: int, max_items: int) -> dict:
    return _cause("FieldValueTooMany", field, f"Too many: {n}: must have at most {max_items} items")


def _nonneg(field: str, v) -> list[dict]:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
        return [_invalid(field, v, NONNEG)]
    return []


def _immutable(field: str, new, old, shown=None) -> list[dict]:
    if new != old:
        return [_invalid(field, new if shown is None else shown, IMMUTABLE)]
    return []


# ---- ObjectMeta -----------------------------------------------------------------------------------------
def _validate_labels(labels, field: str) -> list[dict]:
    errs = []
    for k, v in (labels or {}).items():
        errs += [_invalid(field, k, m) for m in qualified_name_msgs(k)]
        errs += [_invalid(field, v, m) for m in label_value_msgs(str(v))]
    return errs


def _validate_annotations(ann, field: str) -> list[dict]:
    errs = []
    total = 0
    for k, v in (ann or {}).items():
        errs += [_invalid(field, k, m) for m in qualified_name_msgs(k.lower())]
        total += len(k) + len(str(v))
    if total > 256 * 1024:
        errs.append(_too_long(field, 256 * 1024))
    return errs


def _mask_trailing_dash(s: str) -> str:
    return s[:-1] + "a" if len(s) > 1 and s.endswith("-") else s


def validate_object_meta(meta: dict, namespaced: bool, name_fn, field: str = "metadata") -> list[dict]:
    """ValidateObjectMetaAccessor."""
    errs: list[dict] = []
    gen = meta.get("generateName") or ""
    if gen:
        errs += [_invalid(f"{field}.generateName", gen, m) for m in name_fn(_mask_trailing_dash(gen))]
    name = meta.get("name") or ""
    if not name:
        errs.append(_required(f"{field}.name", "name or generateName is required"))
    else:
        errs += [_invalid(f"{field}.name", name, m) for m in name_fn(name)]
    ns = meta.get("namespace") or ""
    if namespaced:
        if not ns:
            errs.append(_required(f"{field}.namespace"))
        else:
            errs += [_invalid(f"{field}.namespace", ns, m) for m in dns1123_label_msgs(ns)]
    elif ns:
        errs.append(_forbidden(f"{field}.namespace", "not allowed on this type"))
    errs += _nonneg(f"{field}.generation", meta.get("generation"))
    errs += _validate_labels(meta.get("labels"), f"{field}.labels")
    errs += _validate_annotations(meta.get("annotations"), f"{field}.annotations")
    for i, f in enumerate(meta.get("finalizers") or []):
        msgs = qualified_name_msgs(f)
        errs += [_invalid(f"{field}.finalizers[{i}]", f, m) for m in msgs]
    return errs


def validate_object_meta_update(new: dict, old: dict, field: str = "metadata") -> list[dict]:
    """ValidateObjectMetaUpdate: name, namespace, uid, creationTimestamp never change."""
    errs: list[dict] = []
    for f in ("name", "namespace", "uid", "creationTimestamp"):
        nv, ov = new.get(f), old.get(f)
        if f in ("uid", "creationTimestamp") and not nv:
            continue  # the registry copies them from the stored object
        errs += _immutable(f"{field}.{f}", nv or "", ov or "")
    errs += _nonneg(f"{field}.generation", new.get("generation"))
    errs += _validate_labels(new.get("labels"), f"{field}.labels")
    errs += _validate_annotations(new.get("annotations"), f"{field}.annotations")
    return errs


# ---- resources ------------------------------------------------------------------------------------------
_STANDARD_CONTAINER_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_INTEGER_RESOURCES = {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                      "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"}


def _is_extended(name: str) -> bool:
    return "/" in name and not name.startswith("kubernetes.io/") and not name.startswith("requests.")


def _overcommit_allowed(name: str) -> bool:
    return not (name.startswith("hugepages-") or _is_extended(name))


def _quantity_value(name: str, value, field: str) -> tuple[list[dict], qty.Quantity | None]:
    q = qty.try_parse(value)
    if q is None:
        # the decoder refuses a malformed quantity before validation runs (400); reported here as a field error
        return [_invalid(field, str(value), qty.ERR_FORMAT_WRONG)], None
    errs = []
    if q.value < 0:
        errs.append(_invalid(field, str(q), NONNEG))
    if (name in _INTEGER_RESOURCES or name.startswith("count/") or _is_extended(name)) and not q.is_integer():
        errs.append(_invalid(field, str(q), "must be an integer"))
    return errs, q


def _container_resource_name(name: str, field: str) -> list[dict]:
    if name in _STANDARD_CONTAINER_RESOURCES or name.startswith("hugepages-") or "/" in name:
        if "/" in name:
            return [_invalid(field, name, m) for m in qualified_name_msgs(name)]
        return []
    return [_invalid(field, name, "must be a standard resource type or fully qualified")]


def validate_resource_requirements(res: dict | None, field: str) -> list[dict]:
    """ValidateResourceRequirements."""
    errs: list[dict] = []
    res = res or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    lim_q: dict[str, qty.Quantity] = {}
    for k, v in limits.items():
        p = f"{field}.limits[{k}]"
        errs += _container_resource_name(k, p)
        e, q = _quantity_value(k, v, p)
        errs += e
        if q is not None:
            lim_q[k] = q
    for k, v in requests.items():
        p = f"{field}.requests[{k}]"
        errs += _container_resource_name(k, p)
        e, q = _quantity_value(k, v, p)
        errs += e
        if q is None:
            continue
        if k in lim_q:
            if q.cmp(lim_q[k]) != 0 and not _overcommit_allowed(k):
                errs.append(_invalid(f"{field}.requests", str(q), f"must be equal to {k} limit of {lim_q[k]}"))
            elif q.cmp(lim_q[k]) > 0:
                errs.append(_invalid(f"{field}.requests", str(q), f"must be less than or equal to {k} limit of {lim_q[k]}"))
        elif not _overcommit_allowed(k):
            errs.append(_required(f"{field}.limits", "Limit must be set for non overcommitable resources"))
    return errs


# ---- Pod ------------------------------------------------------------------------------------------------
_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
_RESTART_POLICIES = ["Always", "OnFailure", "Never"]
_DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_VOLUME_SOURCES = ("hostPath", "emptyDir", "secret", "configMap", "projected", "downwardAPI", "persistentVolumeClaim",
                   "nfs", "csi", "ephemeral", "iscsi", "glusterfs", "rbd", "cephfs", "flexVolume", "cinder", "fc",
                   "azureFile", "azureDisk", "vsphereVolume", "quobyte", "photonPersistentDisk", "portworxVolume",
                   "scaleIO", "storageos", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "flocker", "image")


def _validate_volumes(vols, field: str) -> tuple[list[dict], set[str]]:
    errs: list[dict] = []
    names: set[str] = set()
    for i, v in enumerate(vols or []):
        p = f"{field}[{i}]"
        v = v or {}
        name = v.get("name", "")
        if not name:
            errs.append(_required(f"{p}.name"))
        else:
            errs += [_invalid(f"{p}.name", name, m) for m in dns1123_label_msgs(name)]
            if name in names:
                errs.append(_duplicate(f"{p}.name", name))
            names.add(name)
        sources = [s for s in _VOLUME_SOURCES if s in v]
        if not sources:
            errs.append(_required(p, "must specify a volume type"))
        for extra in sources[1:]:
            errs.append(_forbidden(f"{p}.{extra}", "may not specify more than 1 volume type"))
        if "hostPath" in v and not (v.get("hostPath") or {}).get("path"):
            errs.append(_required(f"{p}.hostPath.path"))
    return errs, names


def _validate_ports(ports, field: str) -> list[dict]:
    errs: list[dict] = []
    names: set[str] = set()
    for i, port in enumerate(ports or []):
        p = f"{field}[{i}]"
        port = port or {}
        name = port.get("name") or ""
        if name:
            msgs = port_name_msgs(name)
            if msgs:
                errs += [_invalid(f"{p}.name", name, m) for m in msgs]
            elif name in names:
                errs.append(_duplicate(f"{p}.name", name))
            else:
                names.add(name)
        cp = port.get("containerPort")
        if not cp:
            errs.append(_required(f"{p}.containerPort"))
        else:
            errs += [_invalid(f"{p}.containerPort", cp, m) for m in port_num_msgs(cp)]
        hp = port.get("hostPort")
        if hp:
            errs += [_invalid(f"{p}.hostPort", hp, m) for m in port_num_msgs(hp)]
        proto = port.get("protocol") or ""
        if not proto:
            errs.append(_required(f"{p}.protocol"))
        elif proto not in _PROTOCOLS:
            errs.append(_not_supported(f"{p}.protocol", proto, _PROTOCOLS))
    return errs


def _validate_probe(probe, field: str, success_must_be_one: bool) -> list[dict]:
    if not isinstance(probe, dict):
        return []
    errs = []
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
    if not handlers:
        errs.append(_required(field, "must specify a handler type"))
    for extra in handlers[1:]:
        errs.append(_forbidden(f"{field}.{extra}", "may not specify more than 1 handler type"))
    for f in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        errs += _nonneg(f"{field}.{f}", probe.get(f))
    if success_must_be_one and probe.get("successThreshold") not in (None, 1):
        errs.append(_invalid(f"{field}.successThreshold", probe["successThreshold"], "must be 1"))
    hg = probe.get("httpGet")
    if isinstance(hg, dict):
        errs += _port_num_or_name(hg.get("port"), f"{field}.httpGet.port")
    ts = probe.get("tcpSocket")
    if isinstance(ts, dict):
        errs += _port_num_or_name(ts.get("port"), f"{field}.tcpSocket.port")
    return errs


def _port_num_or_name(port, field: str) -> list[dict]:
    """ValidatePortNumOrName."""
    if isinstance(port, str):
        if port.isdigit():
            port = int(port)
        else:
            return [_invalid(field, port, m) for m in port_name_msgs(port)]
    if port is None:
        return [_invalid(field, 0, PORT_RANGE_ERR)]
    return [_invalid(field, port, m) for m in port_num_msgs(port)]


def _validate_container(c: dict, p: str, volumes: set[str], regular: bool) -> list[dict]:
    errs: list[dict] = []
    name = c.get("name") or ""
    if not name:
        errs.append(_required(f"{p}.name"))
    else:
        errs += [_invalid(f"{p}.name", name, m) for m in dns1123_label_msgs(name)]
    image = c.get("image") or ""
    if not image:
        errs.append(_required(f"{p}.image"))
    tmp = c.get("terminationMessagePolicy") or ""
    if not tmp:
        errs.append(_required(f"{p}.terminationMessagePolicy"))
    elif tmp not in ("File", "FallbackToLogsOnError"):
        errs.append(_not_supported(f"{p}.terminationMessagePolicy", tmp, ["File", "FallbackToLogsOnError"]))
    errs += _validate_ports(c.get("ports"), f"{p}.ports")
    for j, env in enumerate(c.get("env") or []):
        en = (env or {}).get("name") or ""
        if not en:
            errs.append(_required(f"{p}.env[{j}].name"))
    mount_paths: set[str] = set()
    for j, m in enumerate(c.get("volumeMounts") or []):
        mp = f"{p}.volumeMounts[{j}]"
        m = m or {}
        mname = m.get("name") or ""
        if not mname:
            errs.append(_required(f"{mp}.name"))
        elif mname not in volumes:
            errs.append(_not_found(f"{mp}.name", mname))
        path = m.get("mountPath") or ""
        if not path:
            errs.append(_required(f"{mp}.mountPath"))
        elif path in mount_paths:
            errs.append(_invalid(f"{mp}.mountPath", path, "must be unique"))
        mount_paths.add(path)
    pp = c.get("imagePullPolicy") or ""
    if not pp:
        errs.append(_required(f"{p}.imagePullPolicy"))
    elif pp not in _PULL_POLICIES:
        errs.append(_not_supported(f"{p}.imagePullPolicy", pp, _PULL_POLICIES))
    errs += validate_resource_requirements(c.get("resources"), f"{p}.resources")
    if regular:
        errs += _validate_probe(c.get("livenessProbe"), f"{p}.livenessProbe", True)
        errs += _validate_probe(c.get("readinessProbe"), f"{p}.readinessProbe", False)
        errs += _validate_probe(c.get("startupProbe"), f"{p}.startupProbe", True)
    return errs


def validate_tolerations(tols, field: str) -> list[dict]:
    """ValidateTolerations."""
    errs: list[dict] = []
    for i, t in enumerate(tols or []):
        p = f"{field}[{i}]"
        t = t or {}
        key, op, effect = t.get("key") or "", t.get("operator") or "", t.get("effect") or ""
        if key:
            errs += [_invalid(f"{p}.key", key, m) for m in qualified_name_msgs(key)]
        if not key and op != "Exists":
            errs.append(_invalid(f"{p}.operator", op,
                                 'operator must be Exists when `key` is empty, which means "match all values and all keys"'))
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(_invalid(f"{p}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if op in ("Equal", ""):
            msgs = label_value_msgs(t.get("value") or "")
            if msgs:
                errs.append(_invalid(f"{p}.operator", t.get("value") or "", ";".join(msgs)))
        elif op == "Exists":
            if t.get("value"):
                errs.append(_invalid(f"{p}.operator", Raw(
                    f'core.Toleration{{Key:{go_quote(key)}, Operator:"Exists", Value:{go_quote(t.get("value"))}, '
                    f'Effect:{go_quote(effect)}, TolerationSeconds:(*int64)(nil)}}'),
                    "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(_not_supported(f"{p}.operator", op, ["Equal", "Exists"]))
        if effect and effect not in _TAINT_EFFECTS:
            errs.append(_not_supported(f"{p}.effect", effect, _TAINT_EFFECTS))
    return errs


def validate_pod_spec(spec: dict, field: str = "spec") -> list[dict]:
    """ValidatePodSpec, in its order."""
    spec = spec or {}
    errs, vols = _validate_volumes(spec.get("volumes"), f"{field}.volumes")
    containers = spec.get("containers") or []
    if not containers:
        errs.append(_required(f"{field}.containers"))
    names: set[str] = set()
    for i, c in enumerate(containers):
        p = f"{field}.containers[{i}]"
        c = c or {}
        errs += _validate_container(c, p, vols, regular=True)
        cname = c.get("name") or ""
        if cname in names:
            errs.append(_duplicate(f"{p}.name", cname))
        names.add(cname)
        image = c.get("image") or ""
        if image and image != image.strip():
            errs.append(_invalid(f"{p}.image", image, "must not have leading or trailing whitespace"))
    for i, c in enumerate(spec.get("initContainers") or []):
        p = f"{field}.initContainers[{i}]"
        c = c or {}
        errs += _validate_container(c, p, vols, regular=False)
        cname = c.get("name") or ""
        if cname in names:
            errs.append(_duplicate(f"{p}.name", cname))
        names.add(cname)
    rp = spec.get("restartPolicy") or ""
    if not rp:
        errs.append(_required(f"{field}.restartPolicy"))
    elif rp not in _RESTART_POLICIES:
        errs.append(_not_supported(f"{field}.restartPolicy", rp, _RESTART_POLICIES))
    dp = spec.get("dnsPolicy") or ""
    if not dp:
        errs.append(_required(f"{field}.dnsPolicy"))
    elif dp not in _DNS_POLICIES:
        errs.append(_not_supported(f"{field}.dnsPolicy", dp, _DNS_POLICIES))
    errs += _validate_labels(spec.get("nodeSelector"), f"{field}.nodeSelector")
    san = spec.get("serviceAccountName") or ""
    if san:
        errs += [_invalid(f"{field}.serviceAccountName", san, m) for m in dns1123_subdomain_msgs(san)]
    node = spec.get("nodeName") or ""
    if node:
        errs += [_invalid(f"{field}.nodeName", node, m) for m in dns1123_subdomain_msgs(node)]
    ads = spec.get("activeDeadlineSeconds")
    if ads is not None and not (1 <= ads <= 2147483647):
        errs.append(_invalid(f"{field}.activeDeadlineSeconds", ads, "must be between 1 and 2147483647, inclusive"))
    hn = spec.get("hostname") or ""
    if hn:
        errs += [_invalid(f"{field}.hostname", hn, m) for m in dns1123_label_msgs(hn)]
    errs += validate_tolerations(spec.get("tolerations"), f"{field}.tolerations")
    pcn = spec.get("priorityClassName") or ""
    if pcn:
        errs += [_invalid(f"{field}.priorityClassName", pcn, m) for m in dns1123_subdomain_msgs(pcn)]
    pp = spec.get("preemptionPolicy")
    if pp is not None and pp not in ("PreemptLowerPriority", "Never"):
        errs.append(_not_supported(f"{field}.preemptionPolicy", pp, ["PreemptLowerPriority", "Never"]))
    tgps = spec.get("terminationGracePeriodSeconds")
    if tgps is not None and not isinstance(tgps, int):
        errs.append(_invalid(f"{field}.terminationGracePeriodSeconds", tgps, "must be an integer"))
    return errs


POD_UPDATABLE = ("pod updates may not change fields other than `spec.containers[*].image`,"
                 "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                 "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                 "previously negative)")


def _spec_diff(old: dict, new: dict) -> str:
    """A short stand-in for cmp.Diff(oldPod.Spec, mungedPodSpec): the top-level fields that differ."""
    lines = ["  core.PodSpec{"]
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            if k in old:
                lines.append(f"- \t{k[0].upper() + k[1:]}: {json.dumps(old[k], sort_keys=True)},")
            if k in new:
                lines.append(f"+ \t{k[0].upper() + k[1:]}: {json.dumps(new[k], sort_keys=True)},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


def _validate_pod_update(new: dict, old: dict) -> list[dict]:
    """ValidatePodUpdate: a Pod's spec is immutable except for the container images, activeDeadlineSeconds,
    additions to the tolerations and a negative grace period set to 1."""
    errs = validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    # Both sides as decoded objects: the stored object is defaulted when read from etcd, too.
    from .defaults import set_defaults_pod
    ns = json.loads(json.dumps(new.get("spec") or {}))
    old_copy = {"spec": json.loads(json.dumps(old.get("spec") or {}))}
    set_defaults_pod(old_copy)
    os_ = old_copy["spec"]
    for kind in ("containers", "initContainers"):
        nc, oc = ns.get(kind) or [], os_.get(kind) or []
        if len(nc) == len(oc):
            for i, c in enumerate(nc):
                if "image" in oc[i]:
                    if not c.get("image"):
                        errs.append(_required(f"spec.{kind}[{i}].image"))
                    c["image"] = oc[i]["image"]
    ads_new, ads_old = ns.get("activeDeadlineSeconds"), os_.get("activeDeadlineSeconds")
    if ads_new is not None and (ads_old is None or ads_new <= ads_old):
        ns["activeDeadlineSeconds"] = ads_old
        if ads_old is None:
            ns.pop("activeDeadlineSeconds")
    elif ads_new is None and ads_old is not None:
        errs.append(_invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"))
        ns["activeDeadlineSeconds"] = ads_old
    elif ads_new is not None and ads_old is not None and ads_new > ads_old:
        errs.append(_invalid("spec.activeDeadlineSeconds", ads_new, "must be less than or equal to previous value"))
        ns["activeDeadlineSeconds"] = ads_old
    old_tols = os_.get("tolerations") or []
    if all(t in (ns.get("tolerations") or []) for t in old_tols):
        if "tolerations" in os_:
            ns["tolerations"] = old_tols
        else:
            ns.pop("tolerations", None)
    tg_new, tg_old = ns.get("terminationGracePeriodSeconds"), os_.get("terminationGracePeriodSeconds")
    if tg_old is not None and tg_old < 0 and tg_new == 1:
        ns["terminationGracePeriodSeconds"] = tg_old
    errs += validate_tolerations((new.get("spec") or {}).get("tolerations"), "spec.tolerations")
    if ns != os_:
        errs.append(_forbidden("spec", POD_UPDATABLE + "\n" + _spec_diff(os_, ns)))
    return errs


def _validate_pod(pod: dict, old: dict | None) -> list[dict]:
    if old is not None:
        return _validate_pod_update(pod, old)
    errs = validate_object_meta(pod.get("metadata") or {}, True, dns1123_subdomain_msgs)
    errs += validate_pod_spec(pod.get("spec") or {}, "spec")
    return errs


def validate_pod(pod: dict) -> list[dict]:
    """Returns StatusCauses (empty when valid). Kept for the API server's Pod create path: only the fields
    a create needs (the defaulted fields are not required, so an undefaulted Pod passes)."""
    errs: list[dict] = []
    name = pod.get("metadata", {}).get("name", "")
    if not name:
        errs.append(_required("metadata.name", "name or generateName is required"))
    else:
        errs += [_invalid("metadata.name", name, m) for m in dns1123_subdomain_msgs(name)]
    containers = pod.get("spec", {}).get("containers") or []
    if not containers:
        errs.append(_required("spec.containers"))
    for i, c in enumerate(containers):
        cname = c.get("name", "")
        if not cname:
            errs.append(_required(f"spec.containers[{i}].name"))
        else:
            errs += [_invalid(f"spec.containers[{i}].name", cname, m) for m in dns1123_label_msgs(cname)]
        if not c.get("image"):
            errs.append(_required(f"spec.containers[{i}].image"))
    return errs


# ---- label selectors ------------------------------------------------------------------------------------
def validate_label_selector(sel: dict | None, field: str) -> list[dict]:
    """unversioned ValidateLabelSelector."""
    if sel is None:
        return []
    errs = []
    for i, e in enumerate(sel.get("matchExpressions") or []):
        p = f"{field}.matchExpressions[{i}]"
        op = e.get("operator")
        vals = e.get("values") or []
        if op in ("In", "NotIn"):
            if not vals:
                errs.append(_required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if vals:
                errs.append(_forbidden(f"{p}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(_invalid(f"{p}.operator", op or "", "not a valid selector operator"))
        errs += [_invalid(f"{p}.key", e.get("key", ""), m) for m in qualified_name_msgs(e.get("key", ""))]
    errs += _validate_labels(sel.get("matchLabels"), f"{field}.matchLabels")
    return errs


def selector_matches(sel: dict | None, labels: dict | None) -> bool:
    """metav1.LabelSelectorAsSelector(sel).Matches(labels). A nil selector selects nothing."""
    if sel is None:
        return False
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def _selector_empty(sel: dict | None) -> bool:
    return sel is not None and not sel.get("matchLabels") and not sel.get("matchExpressions")


# ---- Deployment / ReplicaSet ----------------------------------------------------------------------------
def _template_for_replicaset(spec: dict, field: str) -> list[dict]:
    """ValidatePodTemplateSpecForReplicaSet."""
    tmpl = spec.get("template")
    if not isinstance(tmpl, dict):
        return [_required(field)]
    errs = []
    sel = spec.get("selector")
    tmeta = tmpl.get("metadata") or {}
    if not _selector_empty(sel) and not selector_matches(sel, tmeta.get("labels")):
        errs.append(_invalid(f"{field}.metadata.labels", Raw(go_map(tmeta.get("labels"))),
                             "`selector` does not match template `labels`"))
    errs += _validate_labels(tmeta.get("labels"), f"{field}.labels")
    errs += _validate_annotations(tmeta.get("annotations"), f"{field}.annotations")
    tspec = tmpl.get("spec") or {}
    errs += validate_pod_spec(tspec, f"{field}.spec")
    if tspec.get("restartPolicy") and tspec.get("restartPolicy") != "Always":
        errs.append(_not_supported(f"{field}.spec.restartPolicy", tspec["restartPolicy"], ["Always"]))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(_forbidden(f"{field}.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported"))
    return errs


def _selector_errs(spec: dict, field: str) -> list[dict]:
    sel = spec.get("selector")
    if sel is None:
        return [_required(field)]
    errs = validate_label_selector(sel, field)
    if _selector_empty(sel):
        errs.append(_invalid(field, Raw(go_label_selector(sel)), "empty selector is invalid for deployment"))
    return errs


def _int_or_percent_value(v) -> int:
    if isinstance(v, str):
        return int(v[:-1]) if _PERCENT_RE.match(v) else 0
    return int(v or 0)


def _positive_int_or_percent(v, field: str) -> list[dict]:
    if isinstance(v, str):
        if not _PERCENT_RE.match(v):
            return [_invalid(field, Raw(go_int_or_string(v)), PERCENT_ERR)]
        return []
    if isinstance(v, int) and not isinstance(v, bool):
        return _nonneg(field, v)
    return [_invalid(field, Raw(go_int_or_string(v)), "must be an integer or percentage (e.g '5%')")]


def _validate_deployment_spec(spec: dict) -> list[dict]:
    errs = _nonneg("spec.replicas", spec.get("replicas"))
    errs += _selector_errs(spec, "spec.selector")
    errs += _template_for_replicaset(spec, "spec.template")
    strategy = spec.get("strategy") or {}
    t = strategy.get("type")
    if t == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.append(_forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
    elif t == "RollingUpdate":
        ru = strategy.get("rollingUpdate")
        if ru is None:
            errs.append(_required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil"))
        else:
            mu, ms = ru.get("maxUnavailable"), ru.get("maxSurge")
            errs += _positive_int_or_percent(mu, "spec.strategy.rollingUpdate.maxUnavailable")
            errs += _positive_int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge")
            if _int_or_percent_value(mu) == 0 and _int_or_percent_value(ms) == 0:
                errs.append(_invalid("spec.strategy.rollingUpdate.maxUnavailable", Raw(go_int_or_string(mu)),
                                     "may not be 0 when `maxSurge` is 0"))
            if isinstance(mu, str) and _PERCENT_RE.match(mu) and int(mu[:-1]) > 100:
                errs.append(_invalid("spec.strategy.rollingUpdate.maxUnavailable", Raw(go_int_or_string(mu)),
                                     "must not be greater than 100%"))
    else:
        errs.append(_not_supported("spec.strategy", t or "", ["Recreate", "RollingUpdate"]))
    mrs = spec.get("minReadySeconds") or 0
    errs += _nonneg("spec.minReadySeconds", mrs)
    if spec.get("revisionHistoryLimit") is not None:
        errs += _nonneg("spec.revisionHistoryLimit", spec["revisionHistoryLimit"])
    pds = spec.get("progressDeadlineSeconds")
    if pds is not None:
        if pds <= 0:
            errs.append(_invalid("spec.progressDeadlineSeconds", pds, POSITIVE))
        if pds <= mrs:
            errs.append(_invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"))
    return errs


def _validate_deployment(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    if old is None:
        errs = validate_object_meta(meta, True, dns1123_subdomain_msgs)
    else:
        errs = validate_object_meta_update(meta, old.get("metadata") or {})
    spec = obj.get("spec") or {}
    errs += _validate_deployment_spec(spec)
    if old is not None:
        # pkg/registry/apps/deployment/strategy.go ValidateUpdate: apps/v1 disallows mutating the selector
        new_sel, old_sel = spec.get("selector"), (old.get("spec") or {}).get("selector")
        if _norm_sel(new_sel) != _norm_sel(old_sel):
            errs.append(_invalid("spec.selector", Raw(go_label_selector(new_sel)), IMMUTABLE))
    return errs


def _norm_sel(sel):
    if sel is None:
        return None
    return ({k: v for k, v in (sel.get("matchLabels") or {}).items()}, sel.get("matchExpressions") or [])


def _validate_replicaset(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    spec = obj.get("spec") or {}
    errs += _nonneg("spec.replicas", spec.get("replicas"))
    errs += _nonneg("spec.minReadySeconds", spec.get("minReadySeconds") or 0)
    errs += _selector_errs(spec, "spec.selector")
    errs += _template_for_replicaset(spec, "spec.template")
    if old is not None:
        new_sel, old_sel = spec.get("selector"), (old.get("spec") or {}).get("selector")
        if _norm_sel(new_sel) != _norm_sel(old_sel):
            errs.append(_invalid("spec.selector", Raw(go_label_selector(new_sel)), IMMUTABLE))
    return errs


# ---- Service --------------------------------------------------------------------------------------------
_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
NODE_PORT_RANGE = (30000, 32767)


def _validate_service(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1035_label_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    spec = obj.get("spec") or {}
    t = spec.get("type") or ""
    headless = spec.get("clusterIP") == "None"
    ports = spec.get("ports") or []
    if not ports and not headless and t != "ExternalName":
        errs.append(_required("spec.ports"))
    if t == "ExternalName":
        if spec.get("clusterIPs") or (spec.get("clusterIP") and spec.get("clusterIP") != ""):
            errs.append(_forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        cname = (spec.get("externalName") or "").rstrip(".")
        if cname:
            errs += [_invalid("spec.externalName", cname, m) for m in dns1123_subdomain_msgs(cname)]
        else:
            errs.append(_required("spec.externalName"))
    names: set[str] = set()
    for i, p in enumerate(ports):
        pp = f"spec.ports[{i}]"
        p = p or {}
        name = p.get("name") or ""
        if len(ports) > 1 and not name:
            errs.append(_required(f"{pp}.name"))
        elif name:
            errs += [_invalid(f"{pp}.name", name, m) for m in dns1123_label_msgs(name)]
            if name in names:
                errs.append(_duplicate(f"{pp}.name", name))
            names.add(name)
        errs += [_invalid(f"{pp}.port", p.get("port", 0), m) for m in port_num_msgs(p.get("port"))]
        proto = p.get("protocol") or ""
        if not proto:
            errs.append(_required(f"{pp}.protocol"))
        elif proto not in _PROTOCOLS:
            errs.append(_not_supported(f"{pp}.protocol", proto, _PROTOCOLS))
        if p.get("targetPort") is not None:
            errs += _port_num_or_name(p.get("targetPort"), f"{pp}.targetPort")
    if spec.get("selector") is not None:
        errs += _validate_labels(spec.get("selector"), "spec.selector")
    sa = spec.get("sessionAffinity") or ""
    if not sa:
        errs.append(_required("spec.sessionAffinity"))
    elif sa not in ("ClientIP", "None"):
        errs.append(_not_supported("spec.sessionAffinity", sa, ["ClientIP", "None"]))
    if not t:
        errs.append(_required("spec.type"))
    elif t not in _SERVICE_TYPES:
        errs.append(_not_supported("spec.type", t, _SERVICE_TYPES))
    if t == "ClusterIP":
        for i, p in enumerate(ports):
            if (p or {}).get("nodePort"):
                errs.append(_forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    seen_np: set = set()
    for i, p in enumerate(ports):
        np_ = (p or {}).get("nodePort")
        if np_:
            key = (p.get("protocol"), np_)
            if key in seen_np:
                errs.append(_duplicate(f"spec.ports[{i}].nodePort", np_))
            seen_np.add(key)
    seen: set = set()
    for i, p in enumerate(ports):
        key = ((p or {}).get("protocol"), (p or {}).get("port"))
        if key in seen:
            errs.append(_duplicate(f"spec.ports[{i}]", Raw(
                f'core.ServicePort{{Name:"", Protocol:{go_quote(key[0] or "")}, AppProtocol:(*string)(nil), '
                f'Port:{int(key[1] or 0)}, TargetPort:{go_int_or_string(0)}, NodePort:0}}')))
        seen.add(key)
    if t in ("NodePort", "LoadBalancer"):
        # the NodePort allocator (pkg/registry/core/service/portallocator) refuses a port outside the range
        lo, hi = NODE_PORT_RANGE
        for i, p in enumerate(ports):
            np_ = (p or {}).get("nodePort")
            if np_ and not (lo <= np_ <= hi):
                errs.append(_invalid(f"spec.ports[{i}].nodePort", np_,
                                     f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}"))
    etp = spec.get("externalTrafficPolicy")
    if etp and etp not in ("Cluster", "Local"):
        errs.append(_not_supported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]))
    itp = spec.get("internalTrafficPolicy")
    if itp and itp not in ("Cluster", "Local"):
        errs.append(_not_supported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]))
    if old is not None:
        ocip = (old.get("spec") or {}).get("clusterIP") or ""
        ncip = spec.get("clusterIP") or ""
        if ocip and ncip and ncip != ocip and t != "ExternalName" and (old.get("spec") or {}).get("type") != "ExternalName":
            errs.append(_invalid("spec.clusterIPs[0]", Raw(go_strings(spec.get("clusterIPs") or [ncip])), "may not change once set"))
    return errs


# ---- Namespace, Node ------------------------------------------------------------------------------------
def _validate_namespace(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, False, dns1123_label_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    for i, f in enumerate((obj.get("spec") or {}).get("finalizers") or []):
        if f != "kubernetes" and "/" not in f:
            errs.append(_invalid(f"spec.finalizers[{i}]", f, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


def _validate_node(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, False, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    spec = obj.get("spec") or {}
    seen: dict[str, set] = {}
    for i, t in enumerate(spec.get("taints") or []):
        p = f"spec.taints[{i}]"
        t = t or {}
        key = t.get("key") or ""
        errs += [_invalid(f"{p}.key", key, m) for m in qualified_name_msgs(key)]
        msgs = label_value_msgs(t.get("value") or "")
        if msgs:
            errs.append(_invalid(f"{p}.value", t.get("value") or "", ";".join(msgs)))
        eff = t.get("effect") or ""
        if not eff:
            errs.append(_required(f"{p}.effect"))
        elif eff not in _TAINT_EFFECTS:
            errs.append(_not_supported(f"{p}.effect", eff, _TAINT_EFFECTS))
        if key in seen.get(eff, set()):
            errs.append(_cause("FieldValueDuplicate", p,
                               f'Duplicate value: core.Taint{{Key:{go_quote(key)}, Value:{go_quote(t.get("value") or "")}, '
                               f'Effect:{go_quote(eff)}, TimeAdded:<nil>}}: taints must be unique by key and effect pair'))
            continue
        seen.setdefault(eff, set()).add(key)
    for f in ("podCIDR",):
        v = spec.get(f)
        if v:
            try:
                ipaddress.ip_network(v, strict=False)
            except ValueError:
                errs.append(_invalid(f"spec.{f}", v, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
    if old is not None:
        oc = (old.get("spec") or {}).get("podCIDR") or ""
        if oc and spec.get("podCIDR") != oc:
            errs.append(_forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'))
    st = obj.get("status") or {}
    for f in ("capacity", "allocatable"):
        for k, v in (st.get(f) or {}).items():
            e, _ = _quantity_value(k, v, f"status.{f}[{k}]")
            errs += e
    return errs


# ---- ConfigMap, Secret, ServiceAccount ------------------------------------------------------------------
MAX_SECRET_SIZE = 1024 * 1024


def _data_keys(obj: dict) -> tuple[list[dict], int]:
    errs = []
    total = 0
    data, binary = obj.get("data") or {}, obj.get("binaryData") or {}
    for k, v in data.items():
        errs += [_invalid(f"data[{k}]", k, m) for m in config_key_msgs(k)]
        if k in binary:
            errs.append(_invalid(f"data[{k}]", k, "duplicate of key present in binaryData"))
        total += len(str(v))
    for k, v in binary.items():
        errs += [_invalid(f"binaryData[{k}]", k, m) for m in config_key_msgs(k)]
        if k in data:
            errs.append(_invalid(f"binaryData[{k}]", k, "duplicate of key present in data"))
        total += len(str(v))
    return errs, total


def _immutable_data(obj: dict, old: dict | None) -> list[dict]:
    if old is None or old.get("immutable") is not True:
        return []
    errs = []
    if obj.get("immutable") is not True:
        errs.append(_forbidden("immutable", "field is immutable when `immutable` is set"))
    if (obj.get("data") or {}) != (old.get("data") or {}):
        errs.append(_forbidden("data", "field is immutable when `immutable` is set"))
    if (obj.get("binaryData") or {}) != (old.get("binaryData") or {}):
        errs.append(_forbidden("binaryData", "field is immutable when `immutable` is set"))
    return errs


def _validate_configmap(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    e, total = _data_keys(obj)
    errs += e
    if total > MAX_SECRET_SIZE:
        errs.append(_too_long("[]", MAX_SECRET_SIZE))
    return errs + _immutable_data(obj, old)


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": [".dockercfg"],
    "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
    "kubernetes.io/ssh-auth": ["ssh-privatekey"],
    "kubernetes.io/tls": ["tls.crt", "tls.key"],
}


def _validate_secret(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    e, total = _data_keys(obj)
    errs += e
    t = obj.get("type") or "Opaque"
    data = {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
    if t == "kubernetes.io/service-account-token":
        if not (meta.get("annotations") or {}).get("kubernetes.io/service-account.name"):
            errs.append(_required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif t == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.append(_required("data[username]"))
            errs.append(_required("data[password]"))
    for k in _SECRET_REQUIRED_KEYS.get(t, []):
        if k not in data:
            errs.append(_required(f"data[{k}]"))
    if total > MAX_SECRET_SIZE:
        errs.append(_too_long("data", MAX_SECRET_SIZE))
    if old is not None:
        errs += _immutable("type", t, old.get("type") or "Opaque")
    return errs + _immutable_data(obj, old)


def _validate_simple(namespaced: bool, name_fn):
    def fn(obj: dict, old: dict | None) -> list[dict]:
        meta = obj.get("metadata") or {}
        if old is None:
            return validate_object_meta(meta, namespaced, name_fn)
        return validate_object_meta_update(meta, old.get("metadata") or {})
    return fn


# ---- ResourceQuota, LimitRange --------------------------------------------------------------------------
_QUOTA_SCOPES = ["BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass",
                 "Terminating"]


def _validate_resource_quota(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    spec = obj.get("spec") or {}
    for k, v in (spec.get("hard") or {}).items():
        p = f"spec.hard[{k}]"
        errs += [_invalid(p, k, m) for m in qualified_name_msgs(k)] if "/" in k and not k.startswith("count/") else []
        e, _ = _quantity_value(k, v, p)
        errs += e
    for i, s in enumerate(spec.get("scopes") or []):
        if s not in _QUOTA_SCOPES:
            errs.append(_not_supported(f"spec.scopes[{i}]", s, _QUOTA_SCOPES))
    for i, e in enumerate(((spec.get("scopeSelector") or {}).get("matchExpressions")) or []):
        if e.get("scopeName") not in _QUOTA_SCOPES:
            errs.append(_not_supported(f"spec.scopeSelector.matchExpressions[{i}].scopeName", e.get("scopeName") or "", _QUOTA_SCOPES))
        if e.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            errs.append(_not_supported(f"spec.scopeSelector.matchExpressions[{i}].operator", e.get("operator") or "",
                                       ["DoesNotExist", "Exists", "In", "NotIn"]))
    return errs


def _validate_limit_range(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    for i, item in enumerate((obj.get("spec") or {}).get("limits") or []):
        p = f"spec.limits[{i}]"
        item = item or {}
        t = item.get("type") or ""
        if t not in ("Container", "Pod", "PersistentVolumeClaim"):
            errs.append(_not_supported(f"{p}.type", t, ["Container", "PersistentVolumeClaim", "Pod"]))
        parsed: dict[str, dict[str, qty.Quantity]] = {}
        for f in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            parsed[f] = {}
            for k, v in (item.get(f) or {}).items():
                e, q = _quantity_value(k, v, f"{p}.{f}[{k}]")
                errs += e
                if q is not None:
                    parsed[f][k] = q
        if t == "Pod":
            for f in ("default", "defaultRequest"):
                if item.get(f):
                    errs.append(_forbidden(f"{p}.{f}", "may not be specified when `type` is 'Pod'"))
        keys = sorted(set().union(*[set(v) for v in parsed.values()]))
        for k in keys:
            mn, mx, de, dr = (parsed["min"].get(k), parsed["max"].get(k), parsed["default"].get(k),
                              parsed["defaultRequest"].get(k))
            if mn is not None and mx is not None and mn > mx:
                errs.append(_invalid(f"{p}.min[{k}]", str(mn), f"min value {mn} is greater than max value {mx}"))
            if dr is not None and mn is not None and mn > dr:
                errs.append(_invalid(f"{p}.defaultRequest[{k}]", str(dr), f"min value {mn} is greater than default request value {dr}"))
            if dr is not None and mx is not None and dr > mx:
                errs.append(_invalid(f"{p}.defaultRequest[{k}]", str(dr), f"default request value {dr} is greater than max value {mx}"))
            if dr is not None and de is not None and dr > de:
                errs.append(_invalid(f"{p}.defaultRequest[{k}]", str(dr), f"default request value {dr} is greater than default limit value {de}"))
            if de is not None and mn is not None and mn > de:
                errs.append(_invalid(f"{p}.default[{k}]", str(mn), f"min value {mn} is greater than default value {de}"))
            if de is not None and mx is not None and de > mx:
                errs.append(_invalid(f"{p}.default[{k}]", str(de), f"default value {de} is greater than max value {mx}"))
            ratio = parsed["maxLimitRequestRatio"].get(k)
            if ratio is not None and ratio.value < 1:
                errs.append(_invalid(f"{p}.maxLimitRequestRatio[{k}]", str(ratio), f"ratio {ratio} is less than 1"))
    return errs


# ---- PriorityClass, Lease -------------------------------------------------------------------------------
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
HIGHEST_USER_PRIORITY = 1000000000


def _validate_priority_class(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    if old is not None:
        errs = validate_object_meta_update(meta, old.get("metadata") or {})
        if obj.get("value") != old.get("value"):
            errs.append(_forbidden("value", "may not be changed in an update."))
        errs += _immutable("preemptionPolicy", obj.get("preemptionPolicy"), old.get("preemptionPolicy"))
        return errs
    errs = validate_object_meta(meta, False, dns1123_subdomain_msgs)
    name = meta.get("name") or ""
    value = obj.get("value", 0)
    if name.startswith("system-"):
        known = SYSTEM_PRIORITY_CLASSES.get(name)
        if known is None:
            err = f"{name} is not a known system priority class"
        elif known != value:
            err = f"value of {name} PriorityClass must be {known}"
        elif obj.get("globalDefault"):
            err = f"globalDefault of {name} PriorityClass must be false"
        else:
            err = ""
        if err:
            errs.append(_forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for "
                                                    "system use only. error: " + err))
    elif isinstance(value, int) and value > HIGHEST_USER_PRIORITY:
        errs.append(_forbidden("value", f"maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"))
    pp = obj.get("preemptionPolicy")
    if pp is not None and pp not in ("PreemptLowerPriority", "Never"):
        errs.append(_not_supported("preemptionPolicy", pp, ["PreemptLowerPriority", "Never"]))
    return errs


def _validate_lease(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    spec = obj.get("spec") or {}
    lds = spec.get("leaseDurationSeconds")
    if lds is not None and lds <= 0:
        errs.append(_invalid("spec.leaseDurationSeconds", lds, "must be greater than 0"))
    errs += _nonneg("spec.leaseTransitions", spec.get("leaseTransitions"))
    return errs


# ---- RBAC -----------------------------------------------------------------------------------------------
RBAC_GROUP = "rbac.authorization.k8s.io"


def _validate_rules(rules, namespaced: bool) -> list[dict]:
    errs = []
    for i, r in enumerate(rules or []):
        p = f"rules[{i}]"
        r = r or {}
        if not r.get("verbs"):
            errs.append(_required(f"{p}.verbs", "verbs must contain at least one value"))
        if r.get("nonResourceURLs"):
            if namespaced:
                errs.append(_invalid(f"{p}.nonResourceURLs", r["nonResourceURLs"], "namespaced rules cannot apply to non-resource URLs"))
            if r.get("apiGroups") or r.get("resources") or r.get("resourceNames"):
                errs.append(_invalid(f"{p}.nonResourceURLs", r["nonResourceURLs"],
                                     "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not r.get("apiGroups"):
            errs.append(_required(f"{p}.apiGroups", "resource rules must supply at least one api group"))
        if not r.get("resources"):
            errs.append(_required(f"{p}.resources", "resource rules must supply at least one resource"))
    return errs


def _validate_role(namespaced: bool):
    def fn(obj: dict, old: dict | None) -> list[dict]:
        meta = obj.get("metadata") or {}
        errs = validate_object_meta(meta, namespaced, path_segment_msgs) if old is None else \
            validate_object_meta_update(meta, old.get("metadata") or {})
        errs += _validate_rules(obj.get("rules"), namespaced)
        return errs
    return fn


def _validate_binding(namespaced: bool):
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]

    def fn(obj: dict, old: dict | None) -> list[dict]:
        meta = obj.get("metadata") or {}
        errs = validate_object_meta(meta, namespaced, path_segment_msgs) if old is None else \
            validate_object_meta_update(meta, old.get("metadata") or {})
        ref = obj.get("roleRef") or {}
        if ref.get("apiGroup") != RBAC_GROUP:
            errs.append(_not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [RBAC_GROUP]))
        if ref.get("kind") not in kinds:
            errs.append(_not_supported("roleRef.kind", ref.get("kind") or "", kinds))
        if not ref.get("name"):
            errs.append(_required("roleRef.name"))
        else:
            errs += [_invalid("roleRef.name", ref["name"], m) for m in path_segment_msgs(ref["name"])]
        for i, s in enumerate(obj.get("subjects") or []):
            p = f"subjects[{i}]"
            s = s or {}
            if not s.get("name"):
                errs.append(_required(f"{p}.name"))
            k = s.get("kind")
            if k == "ServiceAccount":
                if s.get("name"):
                    errs += [_invalid(f"{p}.name", s["name"], m) for m in dns1123_subdomain_msgs(s["name"])]
                if s.get("apiGroup"):
                    errs.append(_not_supported(f"{p}.apiGroup", s["apiGroup"], [""]))
                if not namespaced and not s.get("namespace"):
                    errs.append(_required(f"{p}.namespace"))
            elif k in ("User", "Group"):
                if s.get("apiGroup") != RBAC_GROUP:
                    errs.append(_not_supported(f"{p}.apiGroup", s.get("apiGroup") or "", [RBAC_GROUP]))
            else:
                errs.append(_not_supported(f"{p}.kind", k or "", ["ServiceAccount", "User", "Group"]))
        if old is not None:
            oref = old.get("roleRef") or {}
            if (ref.get("apiGroup"), ref.get("kind"), ref.get("name")) != (oref.get("apiGroup"), oref.get("kind"), oref.get("name")):
                errs.append(_invalid("roleRef", Raw(f'rbac.RoleRef{{APIGroup:{go_quote(ref.get("apiGroup") or "")}, '
                                                    f'Kind:{go_quote(ref.get("kind") or "")}, Name:{go_quote(ref.get("name") or "")}}}'),
                                     "cannot change roleRef"))
        return errs
    return fn


# ---- EndpointSlice, Endpoints, Event --------------------------------------------------------------------
def _validate_endpoint_slice(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    at = obj.get("addressType") or ""
    if old is None and at not in ("IPv4", "IPv6", "FQDN"):
        errs.append(_not_supported("addressType", at, ["FQDN", "IPv4", "IPv6"]))
    if old is not None:
        errs += _immutable("addressType", at, old.get("addressType") or "")
    eps = obj.get("endpoints") or []
    if len(eps) > 1000:
        errs.append(_too_many("endpoints", len(eps), 1000))
    for i, ep in enumerate(eps):
        p = f"endpoints[{i}]"
        addrs = (ep or {}).get("addresses") or []
        if not addrs:
            errs.append(_required(f"{p}.addresses", "must contain at least 1 address"))
        elif len(addrs) > 100:
            errs.append(_too_many(f"{p}.addresses", len(addrs), 100))
        for j, a in enumerate(addrs):
            if at in ("IPv4", "IPv6"):
                try:
                    ip = ipaddress.ip_address(a)
                    ok = (ip.version == 4) == (at == "IPv4")
                except ValueError:
                    ok = False
                if not ok:
                    errs.append(_invalid(f"{p}.addresses[{j}]", a, f"must be a valid {at} address"))
    for i, port in enumerate(obj.get("ports") or []):
        p = f"ports[{i}]"
        port = port or {}
        name = port.get("name") or ""
        if name:
            errs += [_invalid(f"{p}.name", name, m) for m in dns1123_label_msgs(name)]
        proto = port.get("protocol") or ""
        if proto and proto not in _PROTOCOLS:
            errs.append(_not_supported(f"{p}.protocol", proto, _PROTOCOLS))
        if port.get("port") is not None:
            errs += [_invalid(f"{p}.port", port["port"], m) for m in port_num_msgs(port["port"])]
    return errs


def _validate_endpoints(obj: dict, old: dict | None) -> list[dict]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, True, dns1123_subdomain_msgs) if old is None else \
        validate_object_meta_update(meta, old.get("metadata") or {})
    for i, sub in enumerate(obj.get("subsets") or []):
        for kind in ("addresses", "notReadyAddresses"):
            for j, a in enumerate((sub or {}).get(kind) or []):
                ip = (a or {}).get("ip") or ""
                try:
                    ipaddress.ip_address(ip)
                except ValueError:
                    errs.append(_invalid(f"subsets[{i}].{kind}[{j}].ip", ip, "must be a valid IP address"))
        for j, port in enumerate((sub or {}).get("ports") or []):
            errs += [_invalid(f"subsets[{i}].ports[{j}].port", port.get("port", 0), m) for m in port_num_msgs(port.get("port"))]
            proto = port.get("protocol") or ""
            if not proto:
                errs.append(_required(f"subsets[{i}].ports[{j}].protocol"))
            elif proto not in _PROTOCOLS:
                errs.append(_not_supported(f"subsets[{i}].ports[{j}].protocol", proto, _PROTOCOLS))
    return errs


def _validate_event(obj: dict, old: dict | None) -> list[dict]:
    """events.go legacyValidateEvent (core/v1 Events get no further validation)."""
    errs = []
    ns = (obj.get("metadata") or {}).get("namespace") or ""
    inv_ns = (obj.get("involvedObject") or {}).get("namespace") or ""
    if not obj.get("eventTime"):
        if not inv_ns:
            if ns not in ("", "default"):
                errs.append(_invalid("involvedObject.namespace", inv_ns, "does not match event.namespace"))
        elif ns != inv_ns:
            errs.append(_invalid("involvedObject.namespace", inv_ns, "does not match event.namespace"))
    else:
        if not obj.get("reportingController") and not obj.get("reportingComponent"):
            errs.append(_required("reportingComponent"))
    errs += [_invalid("namespace", ns, m) for m in dns1123_subdomain_msgs(ns)] if ns else []
    return errs


_BY_KIND = {
    "Pod": _validate_pod,
    "Deployment": _validate_deployment,
    "ReplicaSet": _validate_replicaset,
    "Service": _validate_service,
    "Namespace": _validate_namespace,
    "Node": _validate_node,
    "ConfigMap": _validate_configmap,
    "Secret": _validate_secret,
    "ServiceAccount": _validate_simple(True, dns1123_subdomain_msgs),
    "ResourceQuota": _validate_resource_quota,
    "LimitRange": _validate_limit_range,
    "PriorityClass": _validate_priority_class,
    "Lease": _validate_lease,
    "Role": _validate_role(True),
    "ClusterRole": _validate_role(False),
    "RoleBinding": _validate_binding(True),
    "ClusterRoleBinding": _validate_binding(False),
    "EndpointSlice": _validate_endpoint_slice,
    "Endpoints": _validate_endpoints,
    "Event": _validate_event,
}


def validate(kind: str, obj: dict, old: dict | None = None) -> list[dict]:
    """The StatusCauses for a create (old None) or an update of `kind` (empty when valid). Kinds without
    rules here get the ObjectMeta checks only."""
    if not isinstance(obj, dict):
        return [_required("metadata.name", "name or generateName is required")]
    fn = _BY_KIND.get(kind)
    if fn is not None:
        return fn(obj, old)
    meta = obj.get("metadata") or {}
    if old is None:
        return validate_object_meta(meta, bool(meta.get("namespace")), dns1123_subdomain_msgs)
    return validate_object_meta_update(meta, old.get("metadata") or {})
