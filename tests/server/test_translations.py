"""Every piece of UI text has its Korean translation: each gettext("…") literal in static/js and each
{% translate "…" %} in the templates has a non-empty msgstr in dashboard/locale/ko, and the compiled .mo
files say the same as the .po files (a forgotten `msgfmt` would show English to a Korean class)."""
from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "dashboard" / "locale" / "ko" / "LC_MESSAGES"

_JS_GETTEXT = re.compile(r'gettext\(\s*"((?:[^"\\]|\\.)*)"\s*\)')
_TPL_TRANSLATE = re.compile(r'{%\s*translate\s+"((?:[^"\\]|\\.)*)"')


def parse_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of the active (not obsolete, not fuzzy) entries."""
    out: dict[str, str] = {}
    msgid = msgstr = None
    target = None
    fuzzy = False

    def flush():
        if msgid is not None and msgstr is not None and not fuzzy:
            out[msgid] = msgstr

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgid "):
            flush()
            msgid, msgstr, target = ast.literal_eval(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, target = ast.literal_eval(line[7:]), "str"
        elif line.startswith('"') and target:
            if target == "id":
                msgid += ast.literal_eval(line)
            else:
                msgstr += ast.literal_eval(line)
        elif not line.strip():
            flush()
            msgid = msgstr = target = None
            fuzzy = False
    return out


def _js_strings() -> dict[str, str]:
    found = {}
    for f in sorted((ROOT / "static" / "js").glob("*.js")):
        for m in _JS_GETTEXT.finditer(f.read_text(encoding="utf-8")):
            found[ast.literal_eval(f'"{m.group(1)}"')] = f.name
    return found


def test_every_javascript_string_has_a_korean_translation():
    po = parse_po(LOCALE / "djangojs.po")
    strings = _js_strings()
    assert strings, "no gettext() call found: the pattern no longer matches the code"
    missing = sorted(f"{where}: {s!r}" for s, where in strings.items() if not po.get(s))
    assert not missing, "untranslated in djangojs.po:\n" + "\n".join(missing)


def test_every_template_string_has_a_korean_translation():
    po = parse_po(LOCALE / "django.po")
    missing = []
    for f in sorted((ROOT / "templates").rglob("*.html")):
        for m in _TPL_TRANSLATE.finditer(f.read_text(encoding="utf-8")):
            s = ast.literal_eval(f'"{m.group(1)}"')
            if not po.get(s):
                missing.append(f"{f.relative_to(ROOT)}: {s!r}")
    assert not missing, "untranslated in django.po:\n" + "\n".join(missing)


def test_compiled_catalogs_match_their_sources():
    for domain in ("django", "djangojs"):
        po = parse_po(LOCALE / f"{domain}.po")
        with open(LOCALE / f"{domain}.mo", "rb") as fh:
            mo = gettext.GNUTranslations(fh)
        stale = [s for s, t in po.items() if s and mo.gettext(s) != t]
        assert not stale, f"{domain}.mo is older than {domain}.po (run msgfmt): {stale[:5]}"
