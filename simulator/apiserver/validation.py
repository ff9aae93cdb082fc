"""Pod validation (pkg/apis/core/validation/validation.go), the part this model needs.

Error texts follow k8s.io/apimachinery/pkg/util/validation and .../validation/field/errors.go."""
from __future__ import annotations

import re

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + r")*"
_LABEL_RE = re.compile(f"^{DNS1123_LABEL}$")
_SUBDOMAIN_RE = re.compile(f"^{DNS1123_SUBDOMAIN}$")

SUBDOMAIN_ERR = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 f"validation is '{DNS1123_SUBDOMAIN}')")
LABEL_ERR = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             f"and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             f"'{DNS1123_LABEL}')")


def is_dns1123_label(s: str) -> bool:
    return len(s) <= 63 and bool(_LABEL_RE.match(s))


def is_dns1123_subdomain(s: str) -> bool:
    return len(s) <= 253 and bool(_SUBDOMAIN_RE.match(s))


def _invalid(field: str, value, detail: str) -> dict:
    return {"reason": "FieldValueInvalid", "message": f'Invalid value: "{value}": {detail}', "field": field}


def _required(field: str) -> dict:
    return {"reason": "FieldValueRequired", "message": "Required value", "field": field}


def validate_pod(pod: dict) -> list[dict]:
    """Returns StatusCauses (empty when valid)."""
    errs: list[dict] = []
    name = pod.get("metadata", {}).get("name", "")
    if not name:
        errs.append(_required("metadata.name"))
    elif not is_dns1123_subdomain(name):  # ValidatePodName = NameIsDNSSubdomain
        errs.append(_invalid("metadata.name", name, SUBDOMAIN_ERR))
    containers = pod.get("spec", {}).get("containers") or []
    if not containers:
        errs.append(_required("spec.containers"))
    for i, c in enumerate(containers):
        cname = c.get("name", "")
        if not cname:
            errs.append(_required(f"spec.containers[{i}].name"))
        elif not is_dns1123_label(cname):
            errs.append(_invalid(f"spec.containers[{i}].name", cname, LABEL_ERR))
        if not c.get("image"):
            errs.append(_required(f"spec.containers[{i}].image"))
    return errs
