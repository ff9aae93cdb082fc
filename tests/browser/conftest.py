"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser build)."""
from __future__ import annotations

import mimetypes
import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SCREENSHOT_DIR = Path(os.environ.get("UI_SCREENSHOT_DIR", "/tmp"))
VIEWPORT = {"width": 1600, "height": 1000}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        # A missing browser is a broken set-up, never a green run: `make test` installs Debian's chromium.
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium; `make test` does this)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageErrors:
    """Uncaught exceptions and console errors of a page: a test fails if the page's scripts break."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("response", lambda r: self.errors.append(f"HTTP {r.status} {r.request.method} {r.url}") if r.status >= 400 else None)

    def ignore(self, status: int, url_part: str):
        """Drop the failed request (and its console line) that a test provoked on purpose."""
        self.errors = [e for e in self.errors
                       if not (e.startswith(f"HTTP {status} ") and url_part in e)
                       and f"status of {status}" not in e]

    def check(self):
        assert not self.errors, "\n".join(self.errors)


@pytest.fixture
def new_page(browser):
    """new_page(locale="en-US") -> (context, page, errors); contexts are closed after the test."""
    contexts = []

    def make(locale: str = "en-US"):
        ctx = browser.new_context(locale=locale, viewport=VIEWPORT)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        return ctx, page, PageErrors(page)

    yield make
    for ctx in contexts:
        ctx.close()


def login(page, stack):
    page.goto(stack.base_url + "/accounts/login/?next=/")
    page.fill("#id_username", stack.instructor_user)
    page.fill("#id_password", stack.instructor_password)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(stack.base_url + "/")


def screenshot(page, name: str) -> Path:
    path = SCREENSHOT_DIR / f"ui-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


STATIC = Path(__file__).resolve().parents[2] / "static"
ORIGIN = "http://reducer.test"


@pytest.fixture
def js(new_page):
    """A blank page that serves static/ from the work tree, for testing the ES modules without a server."""
    _, page, errors = new_page()

    def serve(route):
        path = route.request.url[len(ORIGIN):].split("?")[0]
        if path.startswith("/static/"):
            f = STATIC / path[len("/static/"):]
            if f.is_file():
                return route.fulfill(path=str(f), content_type=mimetypes.guess_type(f.name)[0] or "text/javascript")
        if path == "/":
            return route.fulfill(body="<!DOCTYPE html><html lang=en><body></body></html>", content_type="text/html")
        return route.fulfill(status=404, body="")

    page.route(ORIGIN + "/**", serve)
    page.goto(ORIGIN + "/")
    yield page
    errors.check()
