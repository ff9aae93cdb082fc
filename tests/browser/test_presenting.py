"""Presenting a run: the presenter's keys drive the live run, a student's page follows the presenter's
run and panel, detaches and follows again; a finished run replays step by step, exports as JSON Lines
and imports again to the same final state."""
from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot

RUN_TIMEOUT = 90_000


def start(teacher, scenario: str, step_mode: bool = False, speed: str = "max") -> str:
    teacher.select_option("#run-scenario", scenario)
    teacher.select_option("#run-speed", speed)
    if step_mode:
        teacher.check("#run-step-mode")
    with teacher.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as info:
        teacher.click("#run-start")
    assert info.value.status == 201, info.value.text()
    return info.value.json()["id"]


def current_step(page):
    return page.locator("#steps li[aria-current=step]")


def test_presenter_keys_drive_the_live_run_and_a_student_follows(stack, new_page):
    _, student, student_errors = new_page("en-US")
    student.goto(stack.base_url + "/")
    expect(student.locator("#follow-bar")).to_have_attribute("data-state", "following")
    _, teacher, teacher_errors = new_page("en-US")
    login(teacher, stack)
    expect(teacher.locator("#follow-bar")).to_be_hidden()   # the presenter follows nobody
    start(teacher, "pod-create", step_mode=True)
    # Step mode holds before step 2.
    expect(teacher.locator("#run-status")).to_have_attribute("data-status", "paused", timeout=RUN_TIMEOUT)
    expect(current_step(teacher)).to_have_attribute("data-step", "1")

    teacher.click("#presenter-toggle")
    teacher.locator("#narration").click()      # focus away from the button, as a clicker user would be
    expect(teacher.locator("body")).to_have_class("presenter")
    expect(teacher.locator("#presenter-hud .hud-step")).to_contain_text("Step 1 of 10")

    # → and the clicker keys move one step at a time; the student's page shows the same step.
    teacher.keyboard.press("ArrowRight")
    expect(current_step(teacher)).to_have_attribute("data-step", "2", timeout=RUN_TIMEOUT)
    expect(current_step(student)).to_have_attribute("data-step", "2", timeout=RUN_TIMEOUT)
    teacher.keyboard.press("PageDown")
    expect(current_step(teacher)).to_have_attribute("data-step", "3", timeout=RUN_TIMEOUT)
    expect(teacher.locator("#run-status")).to_have_attribute("data-status", "paused", timeout=RUN_TIMEOUT)
    # − and + change the live run's speed (the server announces it; every page shows it).
    teacher.keyboard.press("-")
    expect(teacher.locator("#run-status .run-title")).to_contain_text("4×", timeout=10_000)
    expect(student.locator("#run-status .run-title")).to_contain_text("4×", timeout=10_000)
    teacher.keyboard.press("-")
    expect(teacher.locator("#run-status .run-title")).to_contain_text("2×", timeout=10_000)
    # A: the analogy layer; the etcd box is named as the lesson's bank vault.
    teacher.keyboard.press("a")
    expect(teacher.locator("#arch")).to_have_class("analogy")
    expect(teacher.locator('#arch .comp-etcd .comp-analogy')).to_be_visible()
    expect(teacher.locator('#arch .comp-etcd .comp-analogy')).to_have_text("the bank vault of records")
    # ?: the list of keys; Esc closes it (and a second Esc leaves presenter mode).
    teacher.keyboard.press("?")
    expect(teacher.locator("#keys-help")).to_be_visible()
    teacher.keyboard.press("Escape")
    expect(teacher.locator("#keys-help")).to_be_hidden()
    screenshot(teacher, "presenter-mode")

    # 3 shows etcd's panel, on the presenter's page and on the following student's.
    teacher.keyboard.press("3")
    expect(teacher.locator("#etcd-panel")).to_have_class("card panel-card spotlight")
    expect(student.locator("#etcd-panel")).to_have_class("card panel-card spotlight", timeout=10_000)
    # The student detaches: the presenter's next panel does not move their page.
    student.click("#follow-toggle")
    expect(student.locator("#follow-bar")).to_have_attribute("data-state", "detached")
    teacher.keyboard.press("4")
    expect(teacher.locator("#scheduler-panel")).to_have_class("card panel-card spotlight")
    student.wait_for_timeout(1500)
    expect(student.locator("#scheduler-panel")).not_to_have_class("card panel-card spotlight")
    # One click follows again: the presenter's run and panel.
    student.click("#follow-toggle")
    expect(student.locator("#follow-bar")).to_have_attribute("data-state", "following")
    expect(student.locator("#scheduler-panel")).to_have_class("card panel-card spotlight", timeout=10_000)

    # A student's keys do not move the live run; P pauses and resumes it for the presenter.
    student.locator("#narration").click()
    student.keyboard.press("ArrowRight")
    expect(student.locator("#toast")).to_contain_text("instructor")
    teacher.locator("#narration").click()
    teacher.keyboard.press("p")   # resume: the run plays on to the next step and holds there
    expect(current_step(teacher)).to_have_attribute("data-step", "4", timeout=RUN_TIMEOUT)
    teacher.keyboard.press("Escape")
    expect(teacher.locator("body")).not_to_have_class("presenter")
    teacher.click('#controls [data-action="cancel"]')
    expect(teacher.locator("#run-status")).to_have_attribute("data-status", "cancelled", timeout=RUN_TIMEOUT)
    student_errors.check()
    teacher_errors.check()


def state_of(page) -> dict:
    return json.loads(page.evaluate("JSON.stringify(window.k8sDashboard.state)"))


def seek_end(page):
    page.evaluate("""() => { const t = document.getElementById('replay-timeline');
        t.value = t.max; t.dispatchEvent(new Event('input')); }""")


def test_replay_steps_exports_and_imports_to_the_same_final_state(stack, new_page, tmp_path):
    _, teacher, teacher_errors = new_page("en-US")
    login(teacher, stack)
    run_id = start(teacher, "pod-create")
    _, student, student_errors = new_page("ko-KR")
    student.goto(stack.base_url + "/")
    expect(student.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    live = state_of(student)
    last = live["seq"]

    # The past runs list offers the finished run; replaying it starts before the first step.
    item = student.locator(f'#past-runs li[data-run="{run_id}"]')
    expect(item).to_be_visible(timeout=10_000)
    item.locator(".past-replay").click()
    expect(student.locator("#replay-bar")).to_be_visible()
    expect(student.locator("#run-status")).to_have_attribute("data-status", "replay")
    expect(student.locator("#follow-bar")).to_have_attribute("data-state", "detached")
    expect(student.locator("#replay-timeline")).to_have_attribute("max", str(last))
    assert state_of(student)["seq"] == 1

    # The timeline's end is the live run's final state, exactly.
    seek_end(student)
    expect(student.locator("#replay-bar")).to_have_attribute("data-pos", str(last))
    assert state_of(student) == live
    expect(student.locator("#narration .check-questions li").first).to_be_visible()
    # ← goes back a step at a time; → plays the next step and holds at its end.
    student.locator("#narration").click()
    student.keyboard.press("ArrowLeft")
    expect(current_step(student)).to_have_attribute("data-step", "10")
    student.keyboard.press("ArrowLeft")
    expect(current_step(student)).to_have_attribute("data-step", "9")
    pos9 = int(student.locator("#replay-bar").get_attribute("data-pos"))
    student.keyboard.press("+")
    student.keyboard.press("+")
    expect(student.locator("#replay-speed")).to_have_value("4")
    student.keyboard.press("ArrowRight")
    expect(current_step(student)).to_have_attribute("data-step", "10", timeout=30_000)
    expect(student.locator("#replay-bar")).to_have_attribute("data-playing", "false", timeout=30_000)
    assert int(student.locator("#replay-bar").get_attribute("data-pos")) > pos9
    screenshot(student, "replay-ko")

    # Export: the run's events as JSON Lines, as the API keeps them.
    with student.expect_download() as dl:
        student.click("#replay-export")
    path = tmp_path / "run.jsonl"
    dl.value.save_as(path)
    lines = [json.loads(x) for x in path.read_text().splitlines() if x]
    assert [e["seq"] for e in lines] == list(range(1, last + 1))
    assert dl.value.suggested_filename.endswith(".jsonl")

    # Back to live, then import the file: the same final state again.
    student.click("#replay-exit")
    expect(student.locator("#replay-bar")).to_be_hidden()
    expect(student.locator("#follow-bar")).to_have_attribute("data-state", "following")
    student.set_input_files("#replay-import", str(path))
    expect(student.locator("#replay-bar")).to_be_visible()
    seek_end(student)
    assert state_of(student) == live

    # A broken file is refused with its line named, and the replay shown stays as it was.
    broken = path.read_text().splitlines()
    broken[2] = broken[2][:-5]
    student.set_input_files("#replay-import", files=[{"name": "broken.jsonl", "mimeType": "application/jsonl",
                                                      "buffer": ("\n".join(broken) + "\n").encode()}])
    expect(student.locator("#import-error")).to_contain_text("broken.jsonl")
    expect(student.locator("#import-error")).to_contain_text("3")
    assert state_of(student) == live
    student_errors.check()
    teacher_errors.check()


def test_students_follow_the_presenters_replay(stack, new_page):
    _, teacher, teacher_errors = new_page("en-US")
    login(teacher, stack)
    run_id = start(teacher, "pod-create")
    teacher.wait_for_function("id => window.k8sDashboard.run && window.k8sDashboard.run.id === id", arg=run_id)
    expect(teacher.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    _, student, student_errors = new_page("ko-KR")
    student.goto(stack.base_url + "/")
    expect(student.locator("#follow-bar")).to_have_attribute("data-state", "following")

    # The presenter replays the run: the student's page replays it too, at the presenter's position.
    teacher.locator(f'#past-runs li[data-run="{run_id}"] .past-replay').click()
    expect(student.locator("#replay-bar")).to_be_visible(timeout=10_000)
    expect(student.locator("#follow-bar")).to_have_attribute("data-state", "following")
    teacher.locator("#narration").click()
    for _ in range(3):
        teacher.keyboard.press("ArrowRight")
        expect(teacher.locator("#replay-bar")).to_have_attribute("data-playing", "false", timeout=30_000)
    pos = teacher.locator("#replay-bar").get_attribute("data-pos")
    expect(student.locator("#replay-bar")).to_have_attribute("data-pos", pos, timeout=10_000)
    expect(current_step(student)).to_have_attribute("data-step", current_step(teacher).get_attribute("data-step"))
    # The presenter goes back to live: so does the class.
    teacher.click("#replay-exit")
    expect(student.locator("#replay-bar")).to_be_hidden(timeout=10_000)
    expect(student.locator("#run-status")).to_have_attribute("data-status", "succeeded")
    student_errors.check()
    teacher_errors.check()
