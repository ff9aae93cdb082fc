"""The rendering budget on the real page, fed a recorded large run (200 nodes) faster than anyone reads:
while events pour in, a panel out of sight is not drawn (the state still takes every event); scrolled into
view it catches up at once; when the flood stops, every panel shows the final state."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.sim.helpers import run_large

# Feeds events[from..to) at `rate` a second through the page's one entry point, as a socket would.
FEED = """async ([events, from, to, rate]) => {
  const feed = window.k8sDashboard.feed;
  let i = from;
  await new Promise((done) => {
    const start = performance.now();
    const timer = setInterval(() => {
      const due = Math.min(to, from + Math.floor((performance.now() - start) * rate / 1000));
      while (i < due) feed(events[i++]);
      if (i >= to) { clearInterval(timer); done(); }
    }, 10);
  });
  return window.k8sDashboard.state.seq;
}"""

LAST_LOG_SEQ = "() => { const li = document.querySelector('#event-log li[data-seq]:last-child'); return li ? Number(li.dataset.seq) : 0; }"


def stream(repeats: int = 3) -> list[dict]:
    """The recording played `repeats` times end to end as one run (seq and t carried on)."""
    base = run_large()
    out = list(base)
    for k in range(1, repeats):
        out += [{**e, "seq": e["seq"] + k * (len(base) - 1), "t": e["t"] + k * base[-1]["t"]} for e in base[1:]]
    return out


def test_out_of_sight_panels_wait_while_busy_and_catch_up(stack, new_page):
    events = stream()
    assert len(events) > 3000 and [e["seq"] for e in events] == list(range(1, len(events) + 1))
    _, page, errors = new_page("en-US")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(stack.base_url + "/")
    expect(page.locator("#run-status")).to_have_attribute("data-status", re.compile(r"^(idle|succeeded|failed|cancelled)$"),
                                                          timeout=30_000)
    page.evaluate("() => window.scrollTo(0, 0)")
    # 2,400 events at 2,000 a second (1.2 s) with the diagram on screen and the log far below it: past the
    # first frames (before the page knows it is busy) the log is not drawn - not even once a second.
    seq = page.evaluate(FEED, [events, 0, 2400, 2000])
    drawn = page.evaluate(LAST_LOG_SEQ)
    assert seq == 2400 and drawn < 500, f"the log out of sight was drawn while busy (up to event {drawn} of {seq})"
    # Brought into view during the flood, it catches up at once (not a second later).
    page.locator("#event-log-scroll").scroll_into_view_if_needed()
    seq = page.evaluate(FEED, [events, 2400, 2900, 2000])
    drawn = page.evaluate(LAST_LOG_SEQ)
    assert drawn >= 2400, f"the log in view still shows event {drawn} of {seq}"
    # The flood over, everything shows the last event: the log, the status line, the map.
    seq = page.evaluate(FEED, [events, 2900, len(events), 2000])
    assert seq == events[-1]["seq"]
    page.wait_for_function(f"() => ({LAST_LOG_SEQ})() === {seq}", timeout=10_000)
    expect(page.locator("#last-seq")).to_have_attribute("data-seq", str(seq))
    arrows = page.evaluate("() => window.k8sDashboard.state.sequence.length")
    expect(page.locator("#sequence-panel .msg")).to_have_count(arrows)
    expect(page.locator("#cluster-map canvas")).to_have_attribute("data-cells", "200")
    errors.check()
