"""The live cluster on the page's API: its run and address; kubeconfig downloads, which a student gets only
once the instructor opens them, and which then work with the real kubectl in the student's own namespace."""
from __future__ import annotations

import subprocess

from tests.kubestack import KUBECTL


def test_live_endpoint_downloads_and_a_student_kubeconfig_that_works(kube):
    anon = kube.session(login=False)
    info = anon.get(kube.base_url + "/api/live", timeout=10).json()
    assert info["enabled"] and info["server"] == f"https://127.0.0.1:{kube.kubeapi_port}"
    assert info["run"]["scenario"] == "live-cluster" and info["run"]["status"] == "running"
    assert info["can_download"] is False
    assert anon.post(kube.base_url + "/api/live/kubeconfig", timeout=10).status_code == 401

    out = kube.manage("create_viewers", "Kim.Student")
    password = out.split()[-1]
    student = kube.session(username="Kim.Student", password=password)
    r = student.post(kube.base_url + "/api/live/kubeconfig", timeout=10)
    assert r.status_code == 403 and r.json()["error"]["message"] == "the instructor has not opened kubeconfig downloads"
    assert student.post(kube.base_url + "/api/live", json={"downloads": True}, timeout=10).status_code == 403

    teacher = kube.session()
    bad = teacher.post(kube.base_url + "/api/live", json={"downloads": "yes"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "downloads"
    opened = teacher.post(kube.base_url + "/api/live", json={"downloads": True}, timeout=10)
    assert opened.status_code == 202 and opened.json()["downloads"] is True

    r = student.post(kube.base_url + "/api/live/kubeconfig", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Disposition"] == 'attachment; filename="kubeconfig-kim-student.yaml"'
    path = kube.root / "kim.yaml"
    path.write_text(r.text)
    env = {"KUBECONFIG": str(path), "HOME": str(kube.root)}
    run = subprocess.run([KUBECTL, "run", "mine", "--image=nginx"], capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0 and run.stdout.strip() == "pod/mine created", run.stderr
    got = subprocess.run([KUBECTL, "get", "pod", "mine", "-o", "jsonpath={.metadata.namespace}"], capture_output=True,
                         text=True, timeout=60, env=env)
    assert got.stdout == "student-kim-student"
    # A second download replaces the token: the first file stops working within seconds.
    again = student.post(kube.base_url + "/api/live/kubeconfig", timeout=10)
    assert again.status_code == 200 and again.text != r.text
    import time
    time.sleep(6)
    stale = subprocess.run([KUBECTL, "get", "pods"], capture_output=True, text=True, timeout=60, env=env)
    assert stale.returncode == 1 and "Unauthorized" in stale.stderr
    teacher.post(kube.base_url + "/api/live", json={"downloads": False}, timeout=10)


def test_no_token_or_key_reaches_the_run_or_the_logs(kube):
    """Tokens stay with their owners: not in the live run's events, not in any process's log (requirement 9)."""
    import re

    import yaml

    configs = [yaml.safe_load(p.read_text()) for p in kube.root.glob("*.yaml")]
    tokens = [c["users"][0]["user"]["token"] for c in configs if c.get("kind") == "Config"]
    assert tokens
    s = kube.session()
    live = s.get(kube.base_url + "/api/live", timeout=10).json()["run"]
    events = s.get(f"{kube.base_url}/api/runs/{live['id']}/events", timeout=30).text
    logs = "".join(p.read_text(errors="replace") for p in (kube.root / "var" / "log").glob("*.log"))
    key = (kube.root / "kubeapi" / "ca.key").read_text().split("\n")[1]
    for text in (events, logs):
        for token in tokens:
            assert token not in text
        assert key not in text and not re.search(r"Bearer\s+[A-Za-z0-9_-]{20,}", text)
