"""The lesson's three terminals on a seeded pod-create run: `kubectl get pods -w` shows Pending →
ContainerCreating → Running with READY/STATUS/RESTARTS/AGE, `kubectl get events -w` the Scheduled …
Started lines, `etcdctl watch --prefix --keys-only` each PUT with its key; and kubectl's HumanDuration."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_scheduler_panel import RUN_TIMEOUT, start_seeded_run


def screen(page, term: str) -> list[str]:
    return page.locator(f'#terminals-panel .term[data-term="{term}"] .term-screen').inner_text().splitlines()


def test_terminals_print_what_the_real_tools_print(stack, new_page):
    _, page, errors = new_page("ko-KR")
    page.goto(stack.base_url + "/")
    start_seeded_run(stack)
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    # The run's status can arrive a moment before its last events: wait for the final lines.
    expect(page.locator('#terminals-panel .term[data-term="pods"] .term-screen')).to_have_attribute("data-lines", "4")
    expect(page.locator('#terminals-panel .term[data-term="events"] .term-screen')).to_have_attribute("data-lines", "5")

    pods = screen(page, "pods")
    assert re.fullmatch(r"NAME {3,}READY {3,}STATUS {3,}RESTARTS {3,}AGE", pods[0]), pods[0]
    rows = [line.split() for line in pods[1:]]
    assert [r[2] for r in rows] == ["Pending", "Pending", "ContainerCreating", "Running"]
    assert [r[1] for r in rows] == ["0/1", "0/1", "0/1", "1/1"] and all(r[0] == "nginx" and r[3] == "0" for r in rows)
    assert rows[0][4] == "0s" and re.fullmatch(r"\d+s", rows[-1][4])
    # Columns stay aligned under the header: STATUS starts in the same column on every line.
    col = pods[0].index("STATUS")
    assert all(line[col:].split()[0] in ("STATUS", "Pending", "ContainerCreating", "Running") for line in pods)

    events = screen(page, "events")
    assert re.fullmatch(r"LAST SEEN {3,}TYPE {3,}REASON {3,}OBJECT {3,}MESSAGE", events[0]), events[0]
    reasons = [line.split()[2] for line in events[1:]]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    assert "pod/nginx" in events[1] and "Successfully assigned default/nginx to worker-" in events[1]

    etcd = screen(page, "etcd")
    assert etcd[0] == "PUT" and etcd[1] == "/registry/pods/default/nginx"
    assert etcd.count("/registry/pods/default/nginx") == 4 and set(etcd[0::2]) == {"PUT"}
    page.locator("#terminals-panel").scroll_into_view_if_needed()
    screenshot(page, "terminals-ko")
    errors.check()


HUMAN = """async (cases) => {
  const { humanDuration } = await import("/static/js/terminals.js");
  return cases.map((s) => humanDuration(s));
}"""


def test_age_columns_use_kubectls_human_duration(js):
    # Cases worked out from k8s.io/apimachinery/pkg/util/duration.HumanDuration.
    cases = {-5: "<invalid>", -1: "0s", 0: "0s", 59: "59s", 119: "119s", 120: "2m", 125: "2m5s", 599: "9m59s",
             600: "10m", 10799: "179m", 10800: "3h", 11100: "3h5m", 28800: "8h", 172799: "47h", 172800: "2d",
             176400: "2d1h", 691200: "8d", 63072000: "2y", 63158400: "2y1d", 252288000: "8y"}
    got = js.evaluate(HUMAN, list(cases))
    assert dict(zip(cases, got)) == cases
