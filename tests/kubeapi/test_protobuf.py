"""dashboard/kubeapi/protobuf.py against request bodies captured from the real kubectl v1.37.1.

protobuf_bodies.json was made once, against a throwaway capture server (no kubectl runs here): for each command
it holds the body kubectl sent and the JSON the same object has, which is kubectl's own `-o json` rendering of
those very bytes (the capture server echoed them back as the protobuf response, so kubectl's Go decoder read
them), checked against `--dry-run=client -o json` where kubectl has it. Where kubectl prints no object
(`auth can-i`, `debug node`) the expectation is written by hand; see each entry's `note`.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.kubeapi import protobuf
from dashboard.kubeapi.protobuf import ProtobufError, decode

FIXTURES = json.loads((Path(__file__).parent / "protobuf_bodies.json").read_text())
BODIES = FIXTURES["protobuf_requests"]


def body_of(command: str) -> bytes:
    return bytes.fromhex(next(f["body_hex"] for f in BODIES if f["command"] == command))


@pytest.mark.parametrize("fixture", BODIES, ids=[f["command"].removeprefix("kubectl ") for f in BODIES])
def test_decodes_kubectl_body_as_its_json(fixture):
    assert fixture["content_type"] == "application/vnd.kubernetes.protobuf"
    assert fixture.get("dry_run_matches", True) is True
    assert decode(bytes.fromhex(fixture["body_hex"])) == fixture["expected"]


def test_fixtures_cover_the_brief():
    kinds = {decode(bytes.fromhex(f["body_hex"]))["kind"] for f in BODIES}
    assert {"Deployment", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "Namespace", "ConfigMap", "Secret",
            "Service", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "Job",
            "Pod"} <= kinds
    # The commands the brief suspected, that send JSON (or a JSON patch) instead.
    sent_json = {r["command"]: r["content_type"] for r in FIXTURES["json_requests"]}
    assert sent_json["kubectl scale deployment web --replicas=5"] == "application/merge-patch+json"
    assert sent_json["kubectl delete deployment web"] == "application/json"
    assert sent_json["kubectl rollout undo deployment web"] == "application/json-patch+json"
    assert sent_json["kubectl expose deployment web --port=80 --target-port=8080"] == "application/json"


def test_gogo_zero_values_follow_json_omitempty():
    web = decode(body_of("kubectl create deployment web --image=nginx:1.27 --replicas=3 --port=80 -- sleep 3600"))
    container = web["spec"]["template"]["spec"]["containers"][0]
    # On the wire: workingDir "", stdin false, terminationMessagePath "" ... all omitempty, so gone;
    # containerPort has no omitempty; resources and status are structs, which JSON never omits.
    assert container == {"name": "nginx", "image": "nginx:1.27", "command": ["sleep", "3600"],
                         "ports": [{"containerPort": 80}], "resources": {}}
    assert web["status"] == {} and web["spec"]["strategy"] == {}
    assert "creationTimestamp" not in web["metadata"]  # omitzero
    # An explicit zero in a pointer field is kept.
    assert decode(body_of("kubectl create deployment zero --image=nginx --replicas=0"))["spec"]["replicas"] == 0
    rich = decode(body_of("kubectl create job rich-run --from=cronjob/rich"))["spec"]
    pod = rich["template"]["spec"]
    assert rich["backoffLimit"] == 0 and rich["suspend"] is False
    assert pod["terminationGracePeriodSeconds"] == 0 and pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["securityContext"]["runAsUser"] == 0
    # No omitempty: absent lists are null, as encoding/json writes them.
    agg = decode(body_of("kubectl create clusterrole agg --aggregation-rule=rbac.example.com/aggregate=true"))
    assert agg["rules"] is None


def test_well_known_types():
    rich = decode(body_of("kubectl create job rich-run --from=cronjob/rich"))["spec"]["template"]["spec"]
    main = rich["containers"][0]
    assert main["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}  # Quantity
    assert main["livenessProbe"]["httpGet"]["port"] == "http"  # IntOrString, string
    assert main["readinessProbe"]["tcpSocket"]["port"] == 8080  # IntOrString, int
    assert main["env"][5]["valueFrom"]["resourceFieldRef"]["divisor"] == "1Mi"
    assert rich["volumes"][0] == {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}  # inline
    secret = decode(body_of("kubectl create secret generic s --from-literal=a=b"))
    assert secret["data"] == {"a": "Yg=="}  # bytes -> base64
    low = decode(body_of("kubectl create priorityclass low --value=-5 --global-default --preemption-policy=Never "
                         "--description=lowprio"))
    assert low["value"] == -5 and low["globalDefault"] is True


def test_time_and_microtime():
    assert protobuf._time(b"", micro=False) is None  # the zero time
    assert protobuf._time(b"\x08\x80\xe2\xcf\xaa\x06\x10\x95\x9a\xef\x3a", micro=False) == "2023-11-14T22:13:20Z"
    assert protobuf._time(b"\x08\x80\xe2\xcf\xaa\x06\x10\x95\x9a\xef\x3a", micro=True) == "2023-11-14T22:13:20.123456Z"
    # ObjectMeta.creationTimestamp = 1700000000 s, deletionTimestamp = the epoch (present, so kept).
    raw = b"\x0a\x0c\x42\x06\x08\x80\xe2\xcf\xaa\x06\x4a\x02\x08\x00"
    body = b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12" + bytes([len(raw)]) + raw
    meta = decode(body)["metadata"]
    assert meta == {"creationTimestamp": "2023-11-14T22:13:20Z", "deletionTimestamp": "1970-01-01T00:00:00Z"}


ENVELOPE = b"k8s\x00\x0a\x0f\x0a\x02v1\x12\x09Namespace"


def test_bad_magic():
    ns = body_of("kubectl create namespace team-a")
    for body in (b"k8x\x00" + ns[4:], ns[4:], b'{"kind": "Namespace"}', b""):
        with pytest.raises(ProtobufError, match="k8s"):
            decode(body)


def test_truncated_body():
    ns = body_of("kubectl create namespace team-a")
    for cut in (5, 10, 20, len(ns) // 2, len(ns) - 5):  # the last 4 bytes are two empty strings (fields 3, 4)
        with pytest.raises(ProtobufError, match="truncated"):
            decode(ns[:cut])


def test_unknown_kind():
    ns = body_of("kubectl create namespace team-a")
    with pytest.raises(ProtobufError, match="v1/Namespaxe"):
        decode(ns.replace(b"Namespace", b"Namespaxe"))
    with pytest.raises(ProtobufError, match="apps/v2/Deployment"):
        decode(body_of("kubectl create deployment zero --image=nginx --replicas=0").replace(b"apps/v1", b"apps/v2"))


def test_unknown_field_number_names_message_and_number():
    with pytest.raises(ProtobufError, match=r"^Namespace: unknown field number 100$"):
        decode(ENVELOPE + b"\x12\x03\xa0\x06\x01")  # Namespace field 100 (varint)
    with pytest.raises(ProtobufError, match=r"^ObjectMeta: unknown field number 100$"):
        decode(ENVELOPE + b"\x12\x05\x0a\x03\xa0\x06\x01")  # Namespace.metadata field 100


def test_malformed_fields():
    with pytest.raises(ProtobufError, match="ObjectMeta.name: wire type 0"):
        decode(ENVELOPE + b"\x12\x04\x0a\x02\x08\x05")  # metadata.name as a varint
    with pytest.raises(ProtobufError, match="wire type 3"):
        decode(ENVELOPE + b"\x12\x01\x0b")  # a (deprecated) group start
    with pytest.raises(ProtobufError, match="contentEncoding"):
        decode(ENVELOPE + b"\x1a\x04gzip")
    with pytest.raises(ProtobufError, match="UTF-8"):
        decode(ENVELOPE + b"\x12\x05\x0a\x03\x0a\x01\xff")  # metadata.name = b"\xff"
    # An empty name is fine (and omitted); absent spec and status are still written, being structs.
    assert decode(ENVELOPE + b"\x12\x04\x0a\x02\x0a\x00") == {"kind": "Namespace", "apiVersion": "v1",
                                                              "metadata": {}, "spec": {}, "status": {}}


def test_only_protobuf_errors_escape():
    """Every prefix and single-byte corruption of real bodies decodes or raises ProtobufError, nothing else."""
    for command in ("kubectl create namespace team-a", "kubectl create deployment web --image=nginx:1.27 "
                    "--replicas=3 --port=80 -- sleep 3600", "kubectl create pdb p2 --selector=app=web "
                    "--max-unavailable=50%"):
        body = body_of(command)
        variants = [body[:n] for n in range(len(body))]
        variants += [body[:i] + bytes([v]) + body[i + 1:] for i in range(4, len(body)) for v in (0x00, 0xFF)]
        for variant in variants:
            try:
                decode(variant)
            except ProtobufError:
                pass
