"""In Chromium: the instructor starts pod-create on the real cluster backend (here the live cluster's API through
the worker's kubeconfig); the page marks what came from the real cluster, walks through the steps a real
cluster cannot show, and titles the terminals with the run's namespace. In Korean for a student."""
from __future__ import annotations

import shutil

from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot


def test_a_real_cluster_run_on_the_page(kube, new_page):
    (kube.root / "api-kubeconfig.yaml").unlink(missing_ok=True)
    _, student, student_errors = new_page("ko-KR")
    _, teacher, teacher_errors = new_page("en-US")
    student.goto(kube.base_url + "/")
    login(teacher, kube)
    teacher.select_option("#run-scenario", "etcd-raft")
    expect(teacher.locator('#run-backend option[value="api"]')).to_be_disabled()
    expect(teacher.locator("#run-backend-note")).to_contain_text("runs only on the simulator")
    teacher.select_option("#run-scenario", "pod-create")
    teacher.select_option("#run-backend", "api")
    expect(teacher.locator("#run-backend-note")).to_contain_text("namespace of its own")
    # No kubeconfig on the worker yet: refused before anything starts, the reason next to the field.
    teacher.click("#run-start")
    expect(teacher.locator("#run-error")).to_contain_text("Problem with “Cluster”: the real cluster cannot be used: "
                                                          "no kubeconfig for the real cluster")
    expect(teacher.locator("#run-backend")).to_have_attribute("aria-invalid", "true")
    screenshot(teacher, "api-backend-refused")
    teacher_errors.ignore(409, "/api/runs")
    shutil.copy(kube.kubeconfig("instructor"), kube.root / "api-kubeconfig.yaml")
    teacher.click("#run-start")
    expect(teacher.locator("#run-status .run-title")).to_contain_text("real cluster", timeout=30_000)
    expect(teacher.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=90_000)
    # Marked events, hidden steps, the run's namespace on the terminals.
    assert teacher.locator("#event-log .log-source").count() > 5
    # (authentication and admission are read from the audit log: only the controllers and the scheduler hidden)
    expect(teacher.locator('#steps li[data-hidden="true"]')).to_have_count(2)
    # The API server panel: the run's create stage by stage from the audit log.
    create = teacher.locator("#apiserver-panel .api-req").filter(has_text="POST /api/v1/namespaces/k8sdash-")
    expect(create.locator(".api-audit")).to_contain_text("audit log")
    expect(create.locator('.api-stage[data-stage="authz"]')).to_have_attribute("data-state", "passed")
    expect(create.locator('.api-stage[data-stage="mutating"] .plugin')).to_contain_text("defaults and admission")
    expect(create.locator('.api-stage[data-stage="validating"] .plugin')).to_have_text("PodSecurity")
    expect(create.locator('.api-stage[data-stage="etcd"]')).to_have_attribute("data-state", "passed")
    expect(teacher.locator('#event-log .log-line[data-type="apiserver.request"] .log-source').first).to_be_visible()
    expect(teacher.locator('.term[data-term="pods"] .term-title')).to_contain_text("kubectl get pods -n k8sdash-")
    expect(teacher.locator('.term[data-term="pods"] .term-screen')).to_contain_text("Running")
    expect(teacher.locator('.term[data-term="etcd"] .term-title')).to_contain_text("run in the etcd Pod")
    expect(teacher.locator(".etcd-real")).to_contain_text("etcdctl watch in the etcd Pod")
    expect(teacher.locator(".sched-real")).to_contain_text("inside kube-scheduler")
    screenshot(teacher, "api-backend-instructor")
    expect(student.locator("#run-status .run-title")).to_contain_text("실제 클러스터", timeout=20_000)
    expect(student.locator("#event-log .log-source").first).to_have_text("실제 클러스터")
    expect(student.locator('#apiserver-panel .api-stage[data-stage="mutating"] .plugin').first).to_contain_text("기본값과 어드미션")
    screenshot(student, "api-backend-student-ko")
    teacher_errors.check()
    student_errors.check()
