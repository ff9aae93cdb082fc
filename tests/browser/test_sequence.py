"""The sequence diagram on a seeded pod-create run: a lifeline per component and one arrow per event that
flows to another component, in order and grouped by step, live and for a viewer who arrives later."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_scheduler_panel import RUN_TIMEOUT, start_seeded_run
from tests.sim.helpers import fold, run_pod_create


def test_sequence_diagram_draws_every_message_in_order(stack, new_page):
    events = run_pod_create(1)
    arrows = fold(events)["sequence"]
    assert arrows and len(arrows) == sum(1 for e in events if (e.get("to") or {}).get("component"))

    for locale in ("en-US", "ko-KR"):
        _, page, errors = new_page(locale)
        page.goto(stack.base_url + "/")
        if locale == "en-US":
            start_seeded_run(stack)
        expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
        msgs = page.locator("#sequence-panel .msg")
        expect(msgs).to_have_count(len(arrows))
        seqs = [int(s) for s in msgs.evaluate_all("els => els.map((e) => e.dataset.seq)")]
        assert seqs == [a["seq"] for a in arrows]
        names = page.locator("#sequence-panel .lane-name").evaluate_all("els => els.map((e) => e.textContent)")
        assert names[:7] == ["kubectl", "kube-apiserver", "etcd", "controller-manager", "kube-scheduler", "kubelet",
                             "container runtime" if locale == "en-US" else "컨테이너 런타임"]
        first = page.locator(f'#sequence-panel .msg[data-seq="{arrows[0]["seq"]}"]')
        expect(first).to_have_attribute("data-type", "kubectl.request")
        labels = page.locator("#sequence-panel .step-label").evaluate_all("els => els.map((e) => e.textContent)")
        # Steps whose work stays inside one component (authentication, admission, scoring) draw no arrow.
        want = []
        for a in arrows:
            if a["step"] is not None and (not want or want[-1] != a["step"]):
                want.append(a["step"])
        fmt = "step {}" if locale == "en-US" else "{}단계"
        assert labels == [fmt.format(n) for n in want] and want[0] == 1 and want[-1] == 10
        if locale == "en-US":
            page.locator("#sequence-panel").scroll_into_view_if_needed()
            screenshot(page, "sequence-en")
        errors.check()
