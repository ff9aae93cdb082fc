"""The API server panel: on a seeded pod-create run, kubectl's POST passes every gate and is stored
(201); and, drawn from the recorded run of refused requests, each one is shown stopped at its own gate
with Kubernetes' status code and message."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_scheduler_panel import RUN_TIMEOUT, start_seeded_run
from tests.sim.helpers import fold, run_api

STAGES = ["authn", "authz", "mutating", "validation", "validating", "etcd"]


def test_kubectl_request_passes_every_gate_live_and_after_the_fact(stack, new_page):
    _, live, live_errors = new_page("en-US")
    live.goto(stack.base_url + "/")
    start_seeded_run(stack)
    expect(live.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    req = live.locator("#apiserver-panel .api-req.newest")
    expect(req).to_have_attribute("data-code", "201")
    expect(req.locator(".api-line")).to_have_text("POST /api/v1/namespaces/default/pods")
    expect(req.locator(".api-stage")).to_have_count(6)
    for stage in STAGES:
        expect(req.locator(f'.api-stage[data-stage="{stage}"]')).to_have_attribute("data-state", "passed")
    expect(req.locator('[data-stage="mutating"] .plugin[data-plugin="ServiceAccount"]')).to_contain_text("✎3")
    expect(live.locator("#apiserver-panel .api-incluster")).to_contain_text("201 Created")
    live.locator("#apiserver-panel").scroll_into_view_if_needed()
    screenshot(live, "apiserver-panel-en")

    _, late, late_errors = new_page("ko-KR")
    late.goto(stack.base_url + "/")
    req = late.locator("#apiserver-panel .api-req.newest")
    expect(req).to_have_attribute("data-code", "201", timeout=RUN_TIMEOUT)
    expect(req.locator('.api-stage[data-stage="authn"] .s-label')).to_contain_text("인증")
    expect(late.locator("#apiserver-panel-title")).to_have_text("API 서버 내부")
    live_errors.check()
    late_errors.check()


DRAW = """async ([snapshot]) => {
  document.body.innerHTML = '<section id="p"><div class="panel-body"></div></section>';
  const { ApiServerPanel } = await import("/static/js/apipanel.js");
  const panel = new ApiServerPanel(document.getElementById("p"));
  panel.render(snapshot);
  return [...document.querySelectorAll(".api-req")].map((r) => ({
    code: r.dataset.code, stopped: r.dataset.stopped,
    states: Object.fromEntries([...r.querySelectorAll(".api-stage")].map((s) => [s.dataset.stage, s.dataset.state])),
    message: (r.querySelector(".api-message") || {}).textContent || "",
  }));
}"""


def test_refused_requests_are_shown_stopped_at_their_gate(js):
    st = fold(run_api(1))
    reqs = st["apiserver"]["requests"]
    shown = []
    for part in (reqs[:4], reqs[4:5]):   # 401, 403, 422, 201 (the panel shows the newest four), then 409
        st["apiserver"]["requests"] = part
        shown += js.evaluate(DRAW, [st])
    by_code = {r["code"]: r for r in shown}
    assert set(by_code) == {"401", "403", "422", "201", "409"}
    assert by_code["401"]["states"] == dict(zip(STAGES, ["stopped"] + ["skipped"] * 5))
    assert by_code["403"]["states"]["authn"] == "passed" and by_code["403"]["states"]["authz"] == "stopped"
    assert by_code["403"]["states"]["etcd"] == "skipped"
    assert 'User "jane" cannot create resource "pods"' in by_code["403"]["message"]
    assert by_code["422"]["states"]["validation"] == "stopped" and by_code["422"]["states"]["mutating"] == "passed"
    assert by_code["409"]["states"]["etcd"] == "stopped" and 'pods "ok" already exists' in by_code["409"]["message"]
    assert all(s == "passed" for s in by_code["201"]["states"].values())
