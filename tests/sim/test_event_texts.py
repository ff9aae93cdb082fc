"""static/js/eventtext.js has an English and a Korean line for every event type of simulator/events.py."""
import re
from pathlib import Path

from simulator import events

JS = Path(__file__).resolve().parents[2] / "static" / "js" / "eventtext.js"

_STR = r'"((?:[^"\\\n]|\\.)*)"'
ENTRY = re.compile(r'^\s*"([^"\n]+)":\s*\{\s*en:\s*' + _STR + r',\s*ko:\s*' + _STR + r'\s*\},?\s*$')
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _entries() -> list[tuple[str, str, str]]:
    src = JS.read_text(encoding="utf-8")
    m = re.search(r"^export const EVENT_TEXT = \{\n(.*?)^\};", src, re.S | re.M)
    assert m, "EVENT_TEXT object not found in eventtext.js"
    out, unparsed = [], []
    for line in m.group(1).splitlines():
        if not line.strip() or line.strip().startswith("//"):
            continue
        e = ENTRY.match(line)
        if e:
            out.append(e.groups())
        else:
            unparsed.append(line)
    # A line the regex cannot read would escape every check below: fail on it instead.
    assert not unparsed, f"lines of EVENT_TEXT not in the form \"type\": {{ en: \"...\", ko: \"...\" }}: {unparsed}"
    return out


def test_entries_are_unique():
    types = [t for t, _, _ in _entries()]
    dups = sorted({t for t in types if types.count(t) > 1})
    assert not dups, f"duplicate EVENT_TEXT entries: {dups}"


def test_every_event_type_has_texts_in_both_languages():
    texts = {t: (en, ko) for t, en, ko in _entries()}
    missing = [t for t in events.TYPES if t not in texts]
    assert not missing, f"event types without an EVENT_TEXT entry: {missing}"
    for t in events.TYPES:
        en, ko = texts[t]
        assert en.strip(), (t, "empty en")
        assert ko.strip(), (t, "empty ko")
        assert HANGUL.search(ko), (t, "ko text has no Hangul", ko)


def test_no_texts_for_unknown_types():
    unknown = [t for t, _, _ in _entries() if t not in events.TYPES]
    assert not unknown, f"EVENT_TEXT entries for types not in simulator/events.py: {unknown}"
