"""In Chromium: the instructor opens the live cluster from its card, a kubectl command arrives, and the Pod it
creates shows on the page; a student watching in Korean follows the presenter to it."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot


def test_kubectl_run_appears_on_the_projected_page(kube, new_page):
    _, student, student_errors = new_page("ko-KR")
    _, teacher, teacher_errors = new_page("en-US")
    student.goto(kube.base_url + "/")
    login(teacher, kube)
    card = teacher.locator("#live-card")
    expect(card).to_be_visible()
    expect(teacher.locator("#live-server")).to_have_text(f"https://127.0.0.1:{kube.kubeapi_port}")
    teacher.click("#live-watch")
    expect(teacher.locator("#run-status .run-title")).to_contain_text("Live cluster (kubectl)")
    expect(teacher.locator("#run-status")).to_have_attribute("data-status", "running")
    kube.kubectl("run", "projected", "--image=nginx:alpine")
    line = teacher.locator('#pod-status .pod-line[data-pod="default/projected"]')
    expect(line).to_have_attribute("data-phase", "Running", timeout=60_000)
    # The terminals age the live cluster's objects from its own start (its clock is the wall clock's): the
    # Pod's AGE and the Events' LAST SEEN are seconds, not "<invalid>" (a date in the future) or years.
    pods_term = teacher.locator('.term[data-term="pods"] .term-screen')
    expect(pods_term).to_contain_text("projected")
    row = next(ln for ln in pods_term.inner_text().splitlines() if ln.startswith("projected"))
    assert row.split()[-1].endswith("s") and "<invalid>" not in row and "d" not in row.split()[-1], row
    assert "<invalid>" not in teacher.locator('.term[data-term="events"] .term-screen').inner_text()
    screenshot(teacher, "live-cluster-instructor")
    # The student's page follows the presenter to the live cluster, in Korean.
    expect(student.locator("#run-status .run-title")).to_contain_text("실습 클러스터 (kubectl)", timeout=20_000)
    expect(student.locator('#pod-status .pod-line[data-pod="default/projected"]')).to_have_attribute(
        "data-phase", "Running", timeout=30_000)
    expect(student.locator("#live-card")).to_be_visible()
    expect(student.locator("#live-kubeconfig")).to_be_hidden()
    screenshot(student, "live-cluster-student-ko")
    teacher_errors.check()
    student_errors.check()
    kube.kubectl("delete", "pod", "projected", "--wait=false")
