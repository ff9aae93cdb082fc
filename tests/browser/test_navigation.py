"""From the architecture diagram to the panels: a click on a component - or Enter on it, reached with the
keyboard - brings its panel into view; the panels can be laid out side by side, and the choice is kept."""
from __future__ import annotations

import re

from playwright.sync_api import expect


# The panel's heading is on screen (the page may be too short to scroll it to the very top).
VISIBLE = """(sel) => { const r = document.querySelector(sel + ' h2').getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight; }"""


SAME_ROW = """() => Math.abs(document.querySelector('#apiserver-panel').getBoundingClientRect().top
    - document.querySelector('#etcd-panel').getBoundingClientRect().top) < 1"""


def wait_visible(page, selector: str) -> None:
    try:
        page.wait_for_function(VISIBLE, arg=selector, timeout=10_000)
    except Exception:
        where = page.evaluate("""(sel) => { const r = document.querySelector(sel + ' h2').getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, scrollY: window.scrollY, inner: window.innerHeight,
                    page: document.documentElement.scrollHeight, active: document.activeElement && document.activeElement.id}; }""", selector)
        raise AssertionError(f"{selector} heading not on screen: {where}") from None


def in_view(page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.top < window.innerHeight && r.bottom > 0; }""", selector)


def test_components_open_their_panels_and_panels_go_side_by_side(stack, new_page):
    _, page, errors = new_page("en-US")
    page.goto(stack.base_url + "/")
    # When an earlier run exists the page restores it first; the panels above the target grow meanwhile.
    expect(page.locator("#run-status")).to_have_attribute("data-status", re.compile(r"^(idle|succeeded|failed|cancelled)$"),
                                                          timeout=30_000)
    sched = page.locator('#arch .comp[data-component="scheduler"]')
    expect(sched).to_have_attribute("data-panel", "scheduler-panel")
    expect(sched).to_have_attribute("aria-label", "Open the panel of kube-scheduler")
    assert not in_view(page, "#scheduler-panel")
    sched.click()
    expect(page.locator("#scheduler-panel")).to_have_class(re.compile(r"\bspotlight\b"))
    wait_visible(page, "#scheduler-panel")

    page.evaluate("window.scrollTo(0, 0)")
    page.locator('#arch .comp[data-component="etcd"]').focus()
    page.keyboard.press("Enter")
    wait_visible(page, "#etcd-panel")
    expect(page.locator("#etcd-panel-title")).to_be_focused()

    # Side by side: the API server and etcd panels share a row; the choice survives a reload.
    toggle = page.locator("#panels-layout")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    api, etcd = page.locator("#apiserver-panel"), page.locator("#etcd-panel")
    assert api.bounding_box()["y"] != etcd.bounding_box()["y"]
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(SAME_ROW)
    page.reload()
    expect(page.locator("#panels-layout")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(SAME_ROW)
    page.locator("#panels-layout").click()
    errors.check()
