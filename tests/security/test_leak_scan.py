"""Nothing secret reaches a browser, an event or a log: a stack of its own in production mode (DEBUG off, a
real SECRET_KEY, an instructor password, and a KUBECONFIG with a canary certificate, key and token in the
environment of every process) serves every endpoint, its error pages, two runs over HTTP and WebSocket, and
then everything it said and logged is scanned for certificates, private keys, kubeconfig fields, bearer
tokens, the password and the secret key. The session-wide stack's logs are scanned too.
"""
import base64
import json
import re
import secrets
import tempfile
from pathlib import Path

import pytest
import requests

from tests.server.conftest import Viewer, start_run, wait_finished
from tests.stack import RunningStack, started

# Shown on purpose by the simulator, as the lesson does: the curl line of the apiserver-security scenario
# ("Authorization: Bearer not-a-real-token") and the kube-root-ca.crt ConfigMap, whose PEM body reads
# "(the cluster CA)". Neither has key material, and the patterns below say so precisely.
PLACEHOLDER_TOKENS = {"not-a-real-token"}

PATTERNS = {
    # A PEM block with a base64 body (a real certificate or key), not the placeholder "(the cluster CA)".
    "PEM block": re.compile(r"-----BEGIN [A-Z0-9 ]+-----(?:\\n|\s)*[A-Za-z0-9+/=]{16,}"),
    "private key": re.compile(r"BEGIN [A-Z ]*PRIVATE KEY"),
    "kubeconfig field": re.compile(r"(?:client-key-data|client-certificate-data|certificate-authority-data)\b"),
    "bearer token": re.compile(r"Bearer\s+([A-Za-z0-9\-._~+/]+=*)"),
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."),
    "bootstrap token": re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"),
}


def fake_pem(label: str) -> str:
    body = base64.b64encode(secrets.token_bytes(96)).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


class Canary:
    """A kubeconfig shaped like kind's, with random material no test output may ever contain."""

    def __init__(self):
        self.ca, self.cert, self.key = fake_pem("CERTIFICATE"), fake_pem("CERTIFICATE"), fake_pem("RSA PRIVATE KEY")
        self.token = secrets.token_urlsafe(32)
        b64 = {name: base64.b64encode(pem.encode()).decode() for name, pem in
               (("ca", self.ca), ("cert", self.cert), ("key", self.key))}
        self.secrets = [self.token, *b64.values(), *(pem.split("\n")[1] for pem in (self.ca, self.cert, self.key))]
        self.kubeconfig = (
            "apiVersion: v1\nkind: Config\ncurrent-context: kind-challenge-cluster\nclusters:\n"
            f"- name: kind-challenge-cluster\n  cluster:\n    certificate-authority-data: {b64['ca']}\n"
            "    server: https://127.0.0.1:6443\ncontexts:\n- name: kind-challenge-cluster\n  context:\n"
            "    cluster: kind-challenge-cluster\n    user: kind-challenge-cluster\nusers:\n"
            f"- name: kind-challenge-cluster\n  user:\n    client-certificate-data: {b64['cert']}\n"
            f"    client-key-data: {b64['key']}\n    token: {self.token}\n")


def scan(text: str, secret_values: list[str]) -> list[str]:
    found = []
    for name, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            if name == "bearer token" and m.group(1) in PLACEHOLDER_TOKENS:
                continue
            found.append(f"{name}: {text[max(0, m.start() - 60):m.end() + 60]!r}")
    for value in secret_values:
        if value and value in text:
            i = text.index(value)
            found.append(f"a secret value: {text[max(0, i - 60):i + 20]!r}...")
    return found


class LeakStack(RunningStack):
    def __init__(self, root: Path, canary: Canary):
        super().__init__(root)
        (root / "kubeconfig").write_text(canary.kubeconfig)
        self.secret_key = secrets.token_urlsafe(50)
        self.stack.env.update({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": self.secret_key,
                               "KUBECONFIG": str(root / "kubeconfig")})


@pytest.fixture(scope="module")
def leak_stack():
    canary = Canary()
    root = Path(tempfile.mkdtemp(prefix="k8sdash-leak-"))
    with started(LeakStack(root, canary), "the leak-scan stack") as running:
        yield running, canary


def test_the_scanner_finds_what_it_looks_for():
    canary = Canary()
    found = "\n".join(scan(canary.kubeconfig + canary.key + "Authorization: Bearer " + canary.token, canary.secrets))
    for what in ("PEM block", "private key", "kubeconfig field", "bearer token", "a secret value"):
        assert what in found, what
    assert not scan('"ca.crt":"-----BEGIN CERTIFICATE-----\\n(the cluster CA)\\n-----END CERTIFICATE-----\\n" '
                    "-H 'Authorization: Bearer not-a-real-token'", canary.secrets)


def collect(stack) -> list[tuple[str, str]]:
    """(where, what) for everything the stack says to a browser: pages, API, error pages, events, sockets."""
    base = stack.base_url
    said: list[tuple[str, str]] = []

    def keep(label, r):
        headers = "\n".join(f"{k}: {v}" for k, v in r.headers.items())
        said.append((f"{label} -> {r.status_code}", headers + "\n\n" + r.text))
        return r

    anonymous = stack.session(login=False)
    instructor = stack.session()
    run_ids = []
    for body in ({"scenario": "apiserver-security", "params": {"credential": "token"}},
                 {"scenario": "pod-create"}):
        run = start_run(instructor, stack, seed=9, **body)
        viewer = Viewer(stack, run["id"])
        viewer.subscribe(0)
        messages = viewer.until_finished(timeout=120)
        viewer.close()
        said.append((f"socket /ws/runs/{run['id']}/", "\n".join(json.dumps(m) for m in messages)))
        wait_finished(instructor, stack, run["id"])
        run_ids.append(run["id"])
    run_id = run_ids[0]

    for who, s in (("anonymous", anonymous), ("instructor", instructor)):
        for path in ("/", "/accounts/login/", "/jsi18n/", "/healthz", "/api/scenarios", "/api/events/catalog",
                     "/api/classroom/focus", "/api/runs", f"/api/runs/{run_id}", f"/api/runs/{run_id}/events",
                     f"/api/runs/{run_id}/events?download=1", "/static/js/app.js",
                     # error pages, DEBUG off
                     "/no/such/page", "/api/no/such/endpoint", "/api/runs/not-a-run", "/api/runs?limit=x",
                     f"/api/runs/{run_id}/events?since=-1", "/admin/", "/accounts/login/?next=//evil.example/"):
            keep(f"{who} GET {path}", s.get(base + path, timeout=30))
    for label, r in (
        ("anonymous POST /api/runs", anonymous.post(base + "/api/runs", json={"scenario": "pod-create"}, timeout=10)),
        ("no CSRF POST /api/runs", requests.post(base + "/api/runs", json={}, cookies=instructor.cookies, timeout=10)),
        ("bad JSON", instructor.post(base + "/api/runs", data=b"{oops", headers={"Content-Type": "application/json"},
                                     timeout=10)),
        ("bad field", instructor.post(base + "/api/runs", json={"scenario": "pod-create", "speed": "warp"}, timeout=10)),
        ("DELETE /api/runs", instructor.delete(base + "/api/runs", timeout=10)),
        ("finished run control", instructor.post(f"{base}/api/runs/{run_id}/control", json={"action": "pause"}, timeout=10)),
        ("foreign Host", requests.get(base + "/", headers={"Host": "evil.example"}, timeout=10)),
        ("login without CSRF", requests.post(base + "/accounts/login/", data={"username": "x", "password": "y"}, timeout=10)),
        ("wrong password", anonymous.post(base + "/accounts/login/", data={
            "username": stack.instructor_user, "password": stack.instructor_password + "-wrong",
            "csrfmiddlewaretoken": anonymous.cookies.get("csrftoken")}, timeout=10)),
    ):
        keep(label, r)
    return said


def log_texts(stack) -> list[tuple[str, str]]:
    return [(f"log {p.name}", p.read_text(errors="replace")) for p in sorted((stack.root / "var" / "log").glob("*.log"))]


def test_nothing_secret_in_responses_events_error_pages_or_logs(leak_stack):
    stack, canary = leak_stack
    said = collect(stack)
    # The error pages really are production ones (no technical 404 page listing the URL patterns).
    not_found = next(text for where, text in said if where.startswith("anonymous GET /no/such/page"))
    assert "URLconf" not in not_found and "Not Found" in not_found
    assert sum(where.startswith("socket") and '"type": "event"' in t for where, t in said) == 2  # both runs' events
    everything = said + log_texts(stack)
    values = canary.secrets + [stack.instructor_password, stack.secret_key]
    leaks = [f"{where}: {hit}" for where, text in everything for hit in scan(text, values)]
    assert not leaks, "\n".join(leaks[:20])


def test_the_session_stacks_logs_hold_no_secret(stack):
    from django.conf import settings

    values = [stack.instructor_password, settings.SECRET_KEY]  # the stack's key: the same environment
    leaks = [f"{where}: {hit}" for where, text in log_texts(stack) for hit in scan(text, values)]
    assert not leaks, "\n".join(leaks[:20])
