"""The controller panel: the Lease holders on a live run, and - drawn from a recorded run of a Deployment
scaled down while the leading controller-manager's node fails - each controller's desired vs current,
its last action, its reconcile loop's count, and the Leases held by the standbys that took over."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_scheduler_panel import RUN_TIMEOUT, start_seeded_run
from tests.sim.helpers import fold, run_controllers


def test_live_run_shows_who_holds_each_lease(stack, new_page):
    _, page, errors = new_page("en-US")
    page.goto(stack.base_url + "/")
    start_seeded_run(stack)
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    for lease in ("kube-system/kube-controller-manager", "kube-system/kube-scheduler"):
        holder = page.locator(f'#controllers-panel li[data-lease="{lease}"]')
        expect(holder).to_have_attribute("data-holder", re.compile(r"^control-plane_[0-9a-f-]{36}$"))
    page.locator('#arch .comp[data-component="controller-manager"]').click()
    expect(page.locator("#controllers-panel")).to_have_class(re.compile(r"\bspotlight\b"))
    screenshot(page, "controllers-panel-en")
    errors.check()


DRAW = """async ([snapshot]) => {
  document.body.innerHTML = '<section id="p"><div class="panel-body"></div></section>';
  const { ControllerPanel } = await import("/static/js/ctrlpanel.js");
  new ControllerPanel(document.getElementById("p")).render(snapshot);
  return {
    cards: [...document.querySelectorAll(".ctl")].map((c) => ({
      name: c.dataset.controller, syncs: c.dataset.reconciles,
      desired: (c.querySelector(".desired") || {}).textContent, current: (c.querySelector(".current") || {}).textContent,
      action: c.querySelector(".ctl-action").textContent, turns: c.querySelector(".loop .turns").textContent })),
    leases: Object.fromEntries([...document.querySelectorAll("li[data-lease]")].map((l) => [l.dataset.lease, l.dataset.holder])),
  };
}"""


def test_recorded_controllers_are_drawn_with_their_loops(js):
    st = fold(run_controllers(1))
    shown = js.evaluate(DRAW, [st])
    cards = {c["name"]: c for c in shown["cards"]}
    loops = st["controllers"]["loops"]
    assert set(cards) == {"deployment", "replicaset"}
    for name, c in cards.items():
        assert c["syncs"] == c["turns"] == str(loops[name]["reconciles"])
    assert cards["replicaset"]["desired"] == "1" and cards["replicaset"]["current"] == "3"
    assert "deleted 2 pod(s)" in cards["replicaset"]["action"]
    assert shown["leases"] == st["controllers"]["leases"]
