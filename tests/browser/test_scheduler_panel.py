"""The scheduler panel on a seeded pod-create run: the nodes × plugins table, the filtered-out node with
kube-scheduler's reason, each worker's weighted scores and total, the chosen node - in English and in
Korean, for a viewer who watched it live and for one who arrived after the run had finished."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.sim.helpers import fold, run_pod_create

RUN_TIMEOUT = 60_000


def expected_cycle() -> dict:
    """What the Python reducer says the (only) scheduling cycle of pod-create seed 1 was."""
    return fold(run_pod_create(1))["scheduler"]["cycle"]


def start_seeded_run(stack) -> dict:
    r = stack.session().post(stack.base_url + "/api/runs", timeout=10, json={
        "scenario": "pod-create", "params": {"image": "nginx", "pod_name": "nginx"}, "seed": 1, "speed": "max"})
    assert r.status_code == 201, r.text
    return r.json()


def check_table(page, cyc: dict) -> None:
    panel = page.locator("#scheduler-panel")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    expect(panel).to_have_attribute("data-cycle", "1")
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(3)
    # The control-plane node is filtered out by TaintToleration, with kube-scheduler's reason.
    cp = panel.locator('tr[data-node="control-plane"]')
    expect(cp).to_have_attribute("data-feasible", "false")
    expect(cp.locator("td.f-fail")).to_contain_text("untolerated taint {node-role.kubernetes.io/control-plane: }")
    # Both workers pass every filter and carry a score per plugin and a weighted total.
    for worker in ("worker-1", "worker-2"):
        row = panel.locator(f'tr[data-node="{worker}"]')
        expect(row).to_have_attribute("data-feasible", "true")
        expect(row.locator("td.f-fail")).to_have_count(0)
        expect(row.locator("td.s-total")).to_have_text(str(cyc["totals"][worker]))
        fit = cyc["scores"][worker]["NodeResourcesFit"]
        assert f"{fit['normalized']} ×{fit['weight']}" in row.inner_text()
    chosen = panel.locator("tr.chosen")
    expect(chosen).to_have_count(1)
    expect(chosen).to_have_attribute("data-node", cyc["selected"])


def test_scheduler_panel_explains_the_cycle_live_and_after_the_fact(stack, new_page):
    cyc = expected_cycle()
    assert cyc["selected"] in ("worker-1", "worker-2") and set(cyc["feasible"]) == {"worker-1", "worker-2"}

    _, live, live_errors = new_page("en-US")
    live.goto(stack.base_url + "/")
    start_seeded_run(stack)
    check_table(live, cyc)
    panel = live.locator("#scheduler-panel")
    expect(panel.locator("tr.chosen .chosen-badge")).to_contain_text("chosen")
    expect(panel).to_contain_text("Skipped for this Pod")
    expect(panel).to_contain_text(f"Bound default/nginx to {cyc['selected']}.")
    panel.scroll_into_view_if_needed()
    screenshot(live, "scheduler-panel-en")

    # A Korean viewer arriving after the end rebuilds the same table from the snapshot.
    _, late, late_errors = new_page("ko-KR")
    late.goto(stack.base_url + "/")
    check_table(late, cyc)
    expect(late.locator("#scheduler-panel-title")).to_contain_text("스케줄러 내부")
    expect(late.locator("#scheduler-panel tr.chosen .chosen-badge")).to_contain_text("선택됨")
    expect(late.locator("#scheduler-panel .grp-filter")).to_have_text("필터링")
    screenshot(late, "scheduler-panel-ko")
    live_errors.check()
    late_errors.check()
