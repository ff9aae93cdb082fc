"""The Korean page shows no English UI text and the English page no Korean: every string the page's
gettext catalogs hold is shown translated on the Korean page, and nothing Korean leaks into the English
one - with a finished run on screen, the instructor's controls, the key list and the past runs open."""
from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "dashboard" / "locale" / "ko" / "LC_MESSAGES"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Text that is the same in both languages, or data rather than UI: the tools' own output (terminals,
# the log's English summary column, etcd keys, the sequence diagram's request lines).
DATA = "#event-log .sum, .term-grid, .etcd-tree, .etcd-watch, .etcd-detail, #sequence-panel svg, .lang-switch"


def msgids(po: Path) -> list[str]:
    out, cur, inside = [], [], False
    for line in po.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            cur, inside = [json.loads(line[6:])], True
        elif line.startswith('"') and inside:
            cur.append(json.loads(line))
        else:
            if inside and "".join(cur):
                out.append("".join(cur))
            inside = False
    return out


def english_ui_strings() -> list[str]:
    """Source strings of at least two words that a user would read (not bare names like "kubelet")."""
    strings = msgids(LOCALE / "django.po") + msgids(LOCALE / "djangojs.po")
    keep = []
    for s in strings:
        words = re.findall(r"[A-Za-z]{3,}", re.sub(r"%\(\w+\)s|\{\{.*?\}\}", " ", s))
        if len(words) >= 2:
            keep.append(s)
    return keep


def visible_text(page) -> str:
    return page.evaluate("""(skip) => {
        const hidden = new Set(document.querySelectorAll(skip));
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const out = [];
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          let el = n.parentElement, skipIt = false;
          for (let e = el; e; e = e.parentElement) if (hidden.has(e)) { skipIt = true; break; }
          if (skipIt || !el.checkVisibility()) continue;
          out.push(n.textContent);
        }
        for (const el of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
          if (hidden.has(el) || !el.checkVisibility()) continue;
          for (const a of ['title', 'aria-label', 'placeholder']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
        }
        return out.join('\\n');
    }""", DATA)


def finished_page(stack, new_page, locale):
    _, page, errors = new_page(locale)
    login(page, stack)
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=90_000)
    expect(page.locator("#past-runs .past-replay").first).to_be_visible(timeout=10_000)
    return page, errors


def test_korean_page_shows_no_english_ui_text_and_english_page_no_korean(stack, new_page):
    s = stack.session()
    r = s.post(stack.base_url + "/api/runs", json={"scenario": "deployment-reconcile", "speed": "max"}, timeout=10)
    assert r.status_code == 201, r.text

    ko, ko_errors = finished_page(stack, new_page, "ko-KR")
    ko.keyboard.press("?")
    expect(ko.locator("#keys-help")).to_be_visible()
    text = visible_text(ko)
    english = [x for x in english_ui_strings() if x in text]
    assert not english, f"English UI text on the Korean page: {english}"
    assert len(HANGUL.findall(text)) > 500
    screenshot(ko, "language-ko")
    ko.keyboard.press("Escape")
    ko_errors.check()

    en, en_errors = finished_page(stack, new_page, "en-US")
    en.keyboard.press("?")
    expect(en.locator("#keys-help")).to_be_visible()
    en_text = visible_text(en)
    korean = sorted({line.strip() for line in en_text.splitlines() if HANGUL.search(line)})
    assert not korean, f"Korean text on the English page: {korean}"
    # The same strings are found on the English page: the check above would see them untranslated.
    assert len([x for x in english_ui_strings() if x in en_text]) >= 40
    en_errors.check()
