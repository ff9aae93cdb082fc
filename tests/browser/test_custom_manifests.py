"""The custom scenario in the browser: manifests pasted into the form (or loaded from a file) are checked
before anything runs - an error names the document and the field - and valid ones run."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot

BAD = """apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: -1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
"""


def test_pasted_manifests_are_checked_then_run(stack, new_page, tmp_path):
    _, page, errors = new_page("en-US")
    login(page, stack)
    page.select_option("#run-scenario", "custom")
    box = page.locator("#param-manifests")
    expect(box).to_be_visible()
    assert "kind: Deployment" in box.input_value()
    box.fill(BAD)
    page.select_option("#run-speed", "max")
    runs_before = len(page.request.get(stack.base_url + "/api/runs?limit=200").json()["runs"])
    with page.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as info:
        page.click("#run-start")
    assert info.value.status == 400
    err = page.locator("#run-error")
    expect(err).to_be_visible()
    expect(err).to_contain_text("document 2")
    expect(err).to_contain_text("spec.replicas")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert len(page.request.get(stack.base_url + "/api/runs?limit=200").json()["runs"]) == runs_before
    screenshot(page, "custom-error")
    errors.ignore(400, "/api/runs")   # provoked on purpose

    # A file loads into the text area; the fixed manifests run to the end.
    good = tmp_path / "app.yaml"
    good.write_text(BAD.replace("replicas: -1", "replicas: 2"))
    page.locator("#run-params input[type=file]").set_input_files(str(good))
    expect(box).to_have_value(re.compile(r"replicas: 2"))
    with page.expect_response(lambda r: r.url.endswith("/api/runs") and r.request.method == "POST") as info:
        page.click("#run-start")
    assert info.value.status == 201, info.value.text()
    page.wait_for_function("id => window.k8sDashboard.run && window.k8sDashboard.run.id === id", arg=info.value.json()["id"])
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=120_000)
    expect(page.locator('#arch .pod[data-phase="Running"]')).to_have_count(2)
    errors.check()
