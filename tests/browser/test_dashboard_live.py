"""The dashboard in a real browser against the real stack (redis, Celery worker, Daphne).

Personas: the instructor (logged in, drives the run) and an anonymous student (watches, read-only).
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot

RUN_TIMEOUT = 60_000


def start_run(page, speed="max", step_mode=False, **params):
    page.select_option("#run-scenario", "pod-create")
    for name, value in params.items():
        field = page.locator(f'[data-param="{name}"]')
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.select_option("#run-speed", speed)
    page.set_checked("#run-step-mode", step_mode)
    with page.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as info:
        page.click("#run-start")
    return info.value


def expect_pod_running(page):
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    expect(page.locator("#pod-status .pod-line")).to_have_attribute("data-phase", "Running")
    expect(page.locator('#arch .pod[data-phase="Running"]')).to_have_count(1)
    steps = page.locator("#steps li")
    expect(steps).to_have_count(10)
    expect(page.locator('#steps li[data-state="done"]')).to_have_count(10)


def last_seq(page) -> int:
    return int(page.get_attribute("#last-seq", "data-seq"))


def test_instructor_runs_pod_create_and_students_follow(stack, new_page):
    _, student, student_errors = new_page("ko-KR")        # watching before the run starts
    _, teacher, teacher_errors = new_page("en-US")
    student.goto(stack.base_url + "/")
    login(teacher, stack)
    expect(teacher.locator("#run-panel")).to_be_visible()

    response = start_run(teacher, speed="max", image="nginx:alpine", pod_name="web")
    assert response.status == 201, response.text()
    run = response.json()

    expect_pod_running(teacher)
    expect(teacher.locator("#pod-status .pod-line")).to_have_attribute("data-pod", "default/web")
    # A page that joined after the run's first events got a snapshot, and fetches the log's history
    # afterwards (asynchronously): wait for it rather than read it at once.
    teacher.wait_for_function("document.querySelectorAll('#event-log li.log-line').length >= 20")
    screenshot(teacher, "instructor-done")

    # The student's page switched to the new run by itself (classroom channel) and saw every event.
    expect_pod_running(student)
    api = stack.session(login=False).get(f"{stack.base_url}/api/runs/{run['id']}").json()
    assert api["status"] == "succeeded"
    assert last_seq(teacher) == last_seq(student) == api["last_seq"]
    assert student.locator("#event-log li.log-line").count() == min(api["last_seq"], 300)
    screenshot(student, "student-ko-done")

    # A student who arrives afterwards gets the same end state (snapshot) and the history in the log.
    _, late, late_errors = new_page("en-US")
    late.goto(stack.base_url + "/")
    expect_pod_running(late)
    assert last_seq(late) == api["last_seq"]
    expect(late.locator("#event-log li.log-line").last).to_have_attribute("data-seq", str(api["last_seq"]))
    screenshot(late, "late-student-en")

    for page in (student, late):
        expect(page.locator("#run-panel")).to_have_count(0)
        expect(page.locator("#run-start")).to_have_count(0)
        expect(page.locator("button[data-action]")).to_have_count(0)
        expect(page.locator("#viewer-note")).to_be_visible()
    for errors in (teacher_errors, student_errors, late_errors):
        errors.check()


def test_page_language_follows_the_browser(stack, new_page):
    catalog = stack.session(login=False).get(stack.base_url + "/api/scenarios").json()["scenarios"]
    pod_create = next(s for s in catalog if s["id"] == "pod-create")

    _, ko, ko_errors = new_page("ko-KR")
    ko.goto(stack.base_url + "/")
    expect(ko.locator("html")).to_have_attribute("lang", "ko")
    expect(ko.locator("#steps-title")).to_have_text("진행 단계")
    expect(ko.locator("#log-title")).to_have_text("이벤트 기록")
    expect(ko.locator(".login-link")).to_have_text("강사 로그인")
    screenshot(ko, "anonymous-ko")

    _, en, en_errors = new_page("en-US")
    en.goto(stack.base_url + "/")
    expect(en.locator("html")).to_have_attribute("lang", "en")
    expect(en.locator("#steps-title")).to_have_text("Steps")
    expect(en.locator(".login-link")).to_have_text("Instructor login")

    # When a run exists its steps are listed with the catalog's titles in the page's language.
    runs = stack.session(login=False).get(stack.base_url + "/api/runs?limit=1").json()["runs"]
    if runs and runs[0]["scenario"] == "pod-create":
        expect(ko.locator("#steps li .step-title").first).to_have_text(pod_create["steps"][0]["title"]["ko"])
        expect(en.locator("#steps li .step-title").first).to_have_text(pod_create["steps"][0]["title"]["en"])

    # The switch in the header changes the language for this browser (Django's set_language).
    en.click('.lang-switch button[value="ko"]')
    expect(en.locator("html")).to_have_attribute("lang", "ko")
    expect(en.locator("#steps-title")).to_have_text("진행 단계")
    ko_errors.check()
    en_errors.check()


def test_bad_parameter_is_reported_next_to_its_field(stack, new_page):
    _, page, errors = new_page("en-US")
    login(page, stack)
    response = start_run(page, speed="max", pod_name="Not_A_DNS_Name!")
    assert response.status == 400
    body = response.json()
    assert body["error"]["field"] == "params.pod_name"
    alert = page.locator("#run-error")
    expect(alert).to_be_visible()
    label = page.locator('label[for="param-pod_name"]').inner_text()
    expect(alert).to_contain_text(label)
    expect(alert).to_contain_text(body["error"]["message"])
    expect(page.locator('[data-param="pod_name"]')).to_have_attribute("aria-invalid", "true")
    screenshot(page, "bad-param")
    errors.ignore(400, "/api/runs")
    errors.check()

    # Logging out (a POST with the CSRF token) leaves a read-only page.
    page.click("form.logout button")
    expect(page.locator(".login-link")).to_be_visible()
    expect(page.locator("#run-panel")).to_have_count(0)
    expect(page.locator("#viewer-note")).to_be_visible()


def test_step_mode_and_cancel_from_the_control_buttons(stack, new_page):
    _, page, errors = new_page("en-US")
    login(page, stack)
    response = start_run(page, speed="max", step_mode=True)
    assert response.status == 201, response.text()

    # Step mode holds the run before each step after the first.
    current = page.locator('#steps li[data-state="current"]')
    expect(current).to_have_attribute("data-step", "1", timeout=RUN_TIMEOUT)
    page.wait_for_timeout(500)
    expect(current).to_have_attribute("data-step", "1")
    page.click('button[data-action="step"]')
    expect(current).to_have_attribute("data-step", "2", timeout=RUN_TIMEOUT)
    expect(page.locator('#steps li[data-step="1"]')).to_have_attribute("data-state", "done")
    screenshot(page, "step-mode")

    page.click('button[data-action="cancel"]')
    expect(page.locator("#run-status")).to_have_attribute("data-status", "cancelled", timeout=RUN_TIMEOUT)
    expect(page.locator("#event-log li.log-line").last).to_have_attribute("data-type", "run.cancelled")
    expect(page.locator('button[data-action="cancel"]')).to_be_disabled()
    assert re.search(r"\S", page.inner_text("#run-status .status-pill"))
    errors.check()


def test_dropped_socket_resumes_without_losing_or_repeating_events(stack, new_page):
    _, page, errors = new_page("en-US")
    login(page, stack)
    response = start_run(page, speed="2")
    assert response.status == 201, response.text()
    run_id = response.json()["id"]

    # Cut the run's WebSocket twice while events are flowing; the page must reconnect with `since`.
    cut_at = []
    for _ in range(2):
        page.wait_for_function("() => window.k8sDashboard.state.seq > 0 && window.k8sDashboard.conn === 'live'")
        page.wait_for_timeout(500)
        cut_at.append(page.evaluate("() => { const s = window.k8sDashboard; s.stream.ws.close(); return s.state.status; }"))
    expect_pod_running(page)
    assert cut_at[0] == "running", "the run ended before the socket was cut; nothing was resumed"

    api = stack.session(login=False).get(f"{stack.base_url}/api/runs/{run_id}").json()
    seqs = [int(s) for s in page.eval_on_selector_all("#event-log li.log-line", "els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(1, api["last_seq"] + 1))
    errors.check()


def test_form_errors_speak_the_pages_language(stack, new_page):
    _, page, errors = new_page("ko-KR")
    login(page, stack)
    page.select_option("#run-scenario", "deployment-reconcile")
    page.fill("#param-replicas", "99")
    with page.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as info:
        page.click("#run-start")
    assert info.value.status == 400 and info.value.json()["error"]["message"] == "must be between 1 and 6"
    alert = page.locator("#run-error")
    expect(alert).to_contain_text("1에서 6 사이여야 합니다")
    expect(alert).to_contain_text(page.locator('label[for="param-replicas"]').inner_text())
    errors.ignore(400, "/api/runs")
    errors.check()
