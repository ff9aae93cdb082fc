"""The catalog's scenarios in the browser: the instructor picks one from the form (its parameters drawn
from the catalog), it runs on the real stack, and a Korean student page shows its steps, done, and the
check questions at the end - in Korean."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from simulator import scenarios
from tests.browser.conftest import SCREENSHOT_DIR, login, screenshot

RUN_TIMEOUT = 90_000
HANGUL = re.compile(r"[\uac00-\ud7a3]")


# Every scenario of the catalog but the two whose runs are the instructor's own (custom) or large (scale).
SCENARIOS = [e["id"] for e in scenarios.catalog() if e["id"] not in ("pod-create", "scale", "custom")]


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_scenario_runs_and_ends_with_its_questions_in_korean(stack, new_page, scenario_id):
    entry = next(e for e in scenarios.catalog() if e["id"] == scenario_id)
    _, student, errors = new_page("ko-KR")
    _, teacher, teacher_errors = new_page("en-US")
    student.goto(stack.base_url + "/")
    login(teacher, stack)
    teacher.select_option("#run-scenario", scenario_id)
    # The form shows this scenario's own parameters, labelled from the catalog.
    expect(teacher.locator("#run-params [data-param]")).to_have_count(len(entry["params"]))
    for p in entry["params"]:
        expect(teacher.locator(f'label[for="param-{p["name"]}"]')).to_have_text(p["label"]["en"])
    teacher.select_option("#run-speed", "max")
    with teacher.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as info:
        teacher.click("#run-start")
    assert info.value.status == 201, info.value.text()
    # The student's page moves to the new run (until then it shows the previous, finished one).
    student.wait_for_function("id => window.k8sDashboard.run && window.k8sDashboard.run.id === id",
                              arg=info.value.json()["id"], timeout=RUN_TIMEOUT)

    n = len(entry["steps"])
    expect(student.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    expect(student.locator("#steps li")).to_have_count(n)
    expect(student.locator('#steps li[data-state="done"]')).to_have_count(n)
    expect(student.locator("#steps li").first.locator(".step-title")).to_have_text(entry["steps"][0]["title"]["ko"])
    questions = student.locator("#narration .check-questions li")
    expect(questions).to_have_count(len(entry["questions"]))
    assert questions.all_text_contents() == [q["ko"] for q in entry["questions"]]
    expect(student.locator("#narration .check-questions h3")).to_have_text("이해했는지 확인해 보세요")
    assert HANGUL.search(student.locator("#narration").inner_text())
    # The diagram is drawn for this run's cluster: a frame per node (control-plane nodes side by side when
    # there are several, behind the load balancer), every drawn component one the cluster has.
    nodes = student.evaluate("Object.entries(window.k8sDashboard.state.nodes).map(([n, v]) => [n, v.role])")
    frames = student.locator("#arch .frame[data-node]")
    expect(frames).to_have_count(len(nodes))
    assert sorted(frames.evaluate_all("fs => fs.map(f => f.dataset.node)")) == sorted(n for n, _ in nodes)
    cps = sum(1 for _, role in nodes if role == "control-plane")
    expect(student.locator('#arch .comp[data-component="apiserver"]')).to_have_count(cps)
    expect(student.locator('#arch .comp[data-component="load-balancer"]')).to_have_count(1 if cps > 1 else 0)
    expect(student.locator('#arch .comp.absent:not([data-component="cloud-controller-manager"])')).to_have_count(0)
    # The boxes drawn for this cluster still open their panels.
    student.locator('#arch .comp[data-component="etcd"]').last.click()
    expect(student.locator("#etcd-panel")).to_have_class(re.compile(r"\bspotlight\b"))
    if scenario_id == "ha-control-plane":
        # Replayed to the moment the first control-plane node went down: its API server, scheduler and
        # controller-manager (and etcd member) are drawn stopped; the other nodes' are not.
        from tests.server.conftest import fetch_events

        evs = fetch_events(stack.session(), stack, info.value.json()["id"])
        down = max(e["seq"] for e in evs if e["type"] == "etcd.member.stopped"
                   or (e["type"] == "component.lifecycle" and e["data"]["state"] == "stopped"))
        student.locator(f'#past-runs li[data-run="{info.value.json()["id"]}"] .past-replay').click()
        expect(student.locator("#replay-bar")).to_be_visible()
        student.evaluate("""seq => { const t = document.getElementById('replay-timeline');
            t.value = seq; t.dispatchEvent(new Event('input')); }""", down)
        stopped = student.locator("#arch .comp.down")
        expect(stopped).to_have_count(5)   # kubelet, etcd member, API server, scheduler, controller-manager
        assert sorted(stopped.evaluate_all("cs => cs.map(c => c.dataset.component)")) == [
            "apiserver", "controller-manager", "etcd", "kubelet", "scheduler"]
        expect(student.locator('#arch .comp.down[data-component="apiserver"] .comp-role')).to_have_text("중지됨")
        screenshot(student, "scenario-ha-control-plane-down-ko")
    screenshot(student, f"scenario-{scenario_id}-ko")
    errors.check()
    teacher_errors.check()


def test_scale_run_is_drawn_by_the_cluster_map(stack, new_page):
    _, page, errors = new_page("en-US")
    login(page, stack)
    page.select_option("#run-scenario", "scale")
    # The form's bounds are the installation's (DASHBOARD_MAX_NODES / _PODS, by default Kubernetes' own).
    expect(page.locator("#param-nodes")).to_have_attribute("max", "5000")
    expect(page.locator("#param-pods")).to_have_attribute("max", "150000")
    page.fill("#param-nodes", "40")
    page.fill("#param-pods", "400")
    page.select_option("#run-speed", "max")
    with page.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as info:
        page.click("#run-start")
    page.wait_for_function("id => window.k8sDashboard.run && window.k8sDashboard.run.id === id",
                           arg=info.value.json()["id"])
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    # Too many nodes for boxes: the cluster map shows them all, with every Pod bound.
    expect(page.locator("#cluster-map")).to_be_visible()
    expect(page.locator("#cluster-map-words")).to_contain_text("40")
    nodes = page.evaluate("Object.keys(window.k8sDashboard.state.nodes).length")
    assert nodes == 40
    bound = page.evaluate("""Object.values(window.k8sDashboard.state.nodes).reduce((n, v) => n + (v.bound || 0), 0)
                             + Object.values(window.k8sDashboard.state.pods).filter((p) => p.node).length""")
    assert bound >= 400
    screenshot(page, "scenario-scale")
    page.locator("#arch-card").screenshot(path=str(SCREENSHOT_DIR / "ui-scenario-scale-diagram.png"))
    errors.check()
