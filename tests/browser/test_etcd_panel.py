"""The etcd panel on a seeded pod-create run: the member and its role, the /registry tree with the Pod's
key and its revisions, the watch stream, and a key's value and history by revision on a click - live in
English and, for a viewer who arrives after the end, in Korean."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_scheduler_panel import RUN_TIMEOUT, start_seeded_run
from tests.sim.helpers import fold, run_pod_create

POD_KEY = "/registry/pods/default/nginx"


def expected_etcd() -> tuple[dict, list[dict]]:
    events = run_pod_create(1)
    st = fold(events)
    puts = [ev["data"] for ev in events if ev["type"] == "etcd.put" and ev["data"]["key"] == POD_KEY]
    return st["etcd"], puts


def check_panel(page, etcd: dict, puts: list[dict]) -> None:
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    panel = page.locator("#etcd-panel")
    member = panel.locator('.etcd-member[data-member="etcd-1"]')
    expect(member).to_have_attribute("data-role", "leader")
    expect(panel.locator(".etcd-head")).to_contain_text(str(etcd["revision"]))
    row = panel.locator(f'tr[data-key="{POD_KEY}"]')
    expect(row).to_be_visible()
    k = etcd["keys"][POD_KEY]
    expect(row.locator("td")).to_have_text(["default/nginx", str(k["create_revision"]), str(k["mod_revision"]), str(k["version"])])
    assert k["version"] == len(puts) == 4
    expect(panel.locator(".etcd-watch li").first).to_contain_text(etcd["watch"][-1]["key"])

    row.click()
    detail = panel.locator(".etcd-detail")
    expect(detail).to_have_attribute("data-key", POD_KEY)
    history = detail.locator(".etcd-history li")
    expect(history).to_have_count(len(puts))
    for li, put in zip(history.all(), puts):
        expect(li).to_have_attribute("data-revision", str(put["mod_revision"]))
    # The newest version is open: the Pod bound to its node and Running.
    last = detail.locator(".etcd-history li").last.locator("pre.etcd-value")
    expect(last).to_contain_text('"phase": "Running"')
    expect(last).to_contain_text(f'"nodeName": "{puts[-1]["value"]["spec"]["nodeName"]}"')


def test_etcd_panel_shows_keys_revisions_and_history(stack, new_page):
    etcd, puts = expected_etcd()
    _, live, live_errors = new_page("en-US")
    live.goto(stack.base_url + "/")
    start_seeded_run(stack)
    check_panel(live, etcd, puts)
    expect(live.locator('#etcd-panel .etcd-member[data-member="etcd-1"] .m-role')).to_contain_text("★ leader")
    live.locator("#etcd-panel").scroll_into_view_if_needed()
    screenshot(live, "etcd-panel-en")

    _, late, late_errors = new_page("ko-KR")
    late.goto(stack.base_url + "/")
    check_panel(late, etcd, puts)
    expect(late.locator("#etcd-panel-title")).to_contain_text("etcd 내부")
    expect(late.locator('#etcd-panel .etcd-member[data-member="etcd-1"] .m-role')).to_contain_text("리더")
    expect(late.locator("#etcd-panel .panel-lead")).to_contain_text("리비전")
    screenshot(late, "etcd-panel-ko")
    live_errors.check()
    late_errors.check()
