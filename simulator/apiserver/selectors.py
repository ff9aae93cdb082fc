r"""Label and field selectors, as list and watch requests carry them.

Label selectors follow k8s.io/apimachinery/pkg/labels/selector.go (v1.31): `Parse` runs its Lexer and its
recursive-descent Parser over comma-separated requirements `k`, `!k`, `k=v`, `k==v`, `k!=v`,
`k in (a,b)`, `k notin (a,b)`, `k>n`, `k<n`, and every requirement goes through `NewRequirement`, which
validates the key (validation.IsQualifiedName) and each value (validation.IsValidLabelValue, and an
integer for `>`/`<`). `k!=v` and `k notin (...)` also match objects without the label.
Field selectors follow k8s.io/apimachinery/pkg/fields/selector.go (ParseSelector): `f=v`, `f==v`, `f!=v`,
terms split on unescaped commas, values unescaped (`\\`, `\,`, `\=`); and each resource supports only the
fields its field label conversion func declares (pkg/apis/<group>/v1/conversion.go; kinds without one get
runtime.DefaultMetaV1FieldSelectorConversion) and its registry's GetAttrs exposes.

Where the error texts end up: kube-apiserver's list/watch handler (k8s.io/apiserver/pkg/endpoints/handlers/
get.go, ListResource) decodes the query into metainternalversion.ListOptions; the conversion
(k8s.io/apimachinery/pkg/apis/meta/v1/conversion.go Convert_string_To_labels_Selector /
Convert_string_To_fields_Selector) returns labels.Parse's / fields.ParseSelector's error unchanged, and the
handler answers errors.NewBadRequest(err.Error()); the field label conversion error (FieldSelector.Transform)
is answered the same way. So a SelectorError's message is the Status `message` verbatim, with no prefix.
(kubectl then prints it after its own `Error from server (BadRequest): Unable to find "/v1, Resource=pods"
that match label selector "...", field selector "": ` — that part is the client's, cli-runtime's
resource/selector.go, not the server's.)
"""
from __future__ import annotations

import re
from typing import Callable, NamedTuple


class SelectorError(ValueError):
    pass


# ---- Go value printing ----------------------------------------------------------------------------------
_GO_ESC = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _go_quote(s: str) -> str:
    """strconv.Quote (what %q prints for a string): printable runes as they are (unicode.IsPrint is
    Python's str.isprintable), `"` and `\\` escaped, the rest as \\a..\\v, \\xHH, \\uHHHH or \\UHHHHHHHH.
    A byte that was not UTF-8 (decoded with surrogateescape) prints as \\xHH, as Go prints a bad byte."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif ch in _GO_ESC:
            out.append(_GO_ESC[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def _blen(s: str) -> int:
    """len() of the Go string: bytes, not characters."""
    try:
        return len(s.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return len(s.encode("utf-8", "surrogatepass"))


# ---- k8s.io/apimachinery/pkg/util/validation/validation.go (v1.31) --------------------------------------
def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """RegexError: the examples are joined as Go does it, hence the double spaces (`'MyName',  or ...`)."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, e in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{e}', "
    return msg + f"regex used for validation is '{fmt}')"


def _max_len_error(n: int) -> str:
    return f"must be no more than {n} characters"


_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
_QNAME_RE = re.compile(_QNAME_FMT)
_LABEL_VALUE_FMT = f"({_QNAME_FMT})?"
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                    "and must start and end with an alphanumeric character")
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                          "'.', and must start and end with an alphanumeric character")
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)


def _is_dns1123_subdomain(value: str) -> list[str]:
    """IsDNS1123Subdomain."""
    errs = []
    if _blen(value) > 253:
        errs.append(_max_len_error(253))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def _is_qualified_name(value: str) -> list[str]:
    """IsQualifiedName: [DNS-subdomain prefix '/'] name. Unlike an early return, an empty prefix still gets
    the name checked, and an empty name gets both the "non-empty" and the regex message, as upstream."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in _is_dns1123_subdomain(prefix)]
    else:
        return ["a qualified name " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif _blen(name) > 63:
        errs.append("name part " + _max_len_error(63))
    if not _QNAME_RE.fullmatch(name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def _is_valid_label_value(value: str) -> list[str]:
    """IsValidLabelValue."""
    errs = []
    if _blen(value) > 63:
        errs.append(_max_len_error(63))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


# ---- k8s.io/apimachinery/pkg/util/validation/field (errors.go, path.go) and util/errors -----------------
# Parse is called without a field path: the Path is nil, which prints as "<nil>"; NewRequirement's children
# of a nil Path print as "key", "values", "values[0]", "values[0][<key>]".
def _invalid(path: str, value: str, detail: str) -> str:
    """field.Invalid(...).Error() for a string value: `<path>: Invalid value: "<v>": <detail>`."""
    return f"{path}: Invalid value: {_go_quote(value)}: {detail}"


def _go_strings(vals: list[str]) -> str:
    """%#v of a []string."""
    return "[]string{" + ", ".join(_go_quote(v) for v in vals) + "}"


def _aggregate(msgs: list[str]) -> str | None:
    """ErrorList.ToAggregate().Error(): duplicates dropped; one error prints alone, more as `[a, b]`."""
    uniq = list(dict.fromkeys(msgs))
    if not uniq:
        return None
    return uniq[0] if len(uniq) == 1 else "[" + ", ".join(uniq) + "]"


def _parse_int64(s: str) -> int | None:
    """strconv.ParseInt(s, 10, 64): optional sign, ASCII digits, in range; anything else is an error."""
    if not re.fullmatch(r"[+-]?[0-9]+", s):
        return None
    n = int(s)
    return n if -(1 << 63) <= n < (1 << 63) else None


# ---- labels: Requirement (k8s.io/apimachinery/pkg/labels/selector.go) -----------------------------------
# selection.Operator values (k8s.io/apimachinery/pkg/selection/operator.go)
IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "in", "notin", "=", "==", "!="
GREATER_THAN, LESS_THAN, EXISTS, DOES_NOT_EXIST = "gt", "lt", "exists", "!"
_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)


class LabelRequirement(NamedTuple):
    """One parsed requirement: key, operator (a selection.Operator string) and its values, sorted and
    without duplicates (the parser collects them in a sets.String and passes values.List())."""
    key: str
    op: str
    values: tuple[str, ...]

    def matches(self, labels: dict) -> bool:
        """Requirement.Matches."""
        k, op = self.key, self.op
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return k in labels and labels[k] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return k not in labels or labels[k] not in self.values
        if op == EXISTS:
            return k in labels
        if op == DOES_NOT_EXIST:
            return k not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if k not in labels or not isinstance(labels[k], str) or len(self.values) != 1:
                return False
            have, want = _parse_int64(labels[k]), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        """Requirement.String()."""
        if self.op in (EXISTS, DOES_NOT_EXIST):
            return ("!" if self.op == DOES_NOT_EXIST else "") + self.key
        sym = {IN: " in ", NOT_IN: " notin ", GREATER_THAN: ">", LESS_THAN: "<"}.get(self.op, self.op)
        vals = ",".join(self.values)
        return f"{self.key}{sym}({vals})" if self.op in (IN, NOT_IN) else f"{self.key}{sym}{vals}"


def _new_requirement(key: str, op: str, vals: list[str]) -> LabelRequirement:
    """NewRequirement: every rule it checks, each failure a field.Error, all of them aggregated."""
    errs = []
    key_msgs = _is_qualified_name(key)   # never fails here: parseKeyAndInferOperator checked the key first
    if key_msgs:
        errs.append(_invalid("key", key, "; ".join(key_msgs)))
    if op in (IN, NOT_IN):
        if not vals:
            errs.append(f"values: Invalid value: {_go_strings(vals)}: for 'in', 'notin' operators, values set can't be empty")
    elif op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(vals) != 1:
            errs.append(f"values: Invalid value: {_go_strings(vals)}: exact-match compatibility requires one single value")
    elif op in (EXISTS, DOES_NOT_EXIST):
        if vals:
            errs.append(f"values: Invalid value: {_go_strings(vals)}: values set must be empty for exists and does not exist")
    elif op in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            errs.append(f"values: Invalid value: {_go_strings(vals)}: for 'Gt', 'Lt' operators, exactly one value is required")
        for i, v in enumerate(vals):
            if _parse_int64(v) is None:
                errs.append(_invalid(f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(_go_quote(o) for o in _BINARY_OPERATORS + (EXISTS, DOES_NOT_EXIST))
        errs.append(f"operator: Unsupported value: {_go_quote(op)}: supported values: {supported}")
    for i, v in enumerate(vals):
        msgs = _is_valid_label_value(v)
        if msgs:
            errs.append(_invalid(f"values[{i}][{key}]", v, "; ".join(msgs)))
    agg = _aggregate(errs)
    if agg is not None:
        raise _ParseError(agg)
    return LabelRequirement(key, op, tuple(vals))


# ---- labels: Lexer -----------------------------------------------------------------------------------------
# Token kinds. The lexer works on the bytes of the string: a byte that is one of ' ', '\t', '\r', '\n' is
# whitespace, one of = ! ( ) , > < a special symbol, anything else (any other byte, so also every byte of
# a multi-byte UTF-8 character) belongs to an identifier; a NUL byte reads as the end of the input. Walking
# a Python str by characters classifies the same way, as no ASCII byte occurs inside a multi-byte character.
_ERROR, _EOS, _IDENT = "ErrorToken", "EndOfStringToken", "IdentifierToken"
_CLOSED_PAR, _COMMA, _BANG, _DOUBLE_EQ, _EQ, _GT = ")", ",", "!", "==", "=", ">"
_IN_TOK, _LT, _NOT_EQ, _NOTIN_TOK, _OPEN_PAR = "in", "<", "!=", "notin", "("
_STRING2TOKEN = {t: t for t in (_CLOSED_PAR, _COMMA, _BANG, _DOUBLE_EQ, _EQ, _GT, _IN_TOK, _LT, _NOT_EQ,
                                _NOTIN_TOK, _OPEN_PAR)}
_WHITESPACE = frozenset(" \t\r\n")
_SPECIAL = frozenset("=!(),><")
_NUL = "\x00"


class _Lexer:
    def __init__(self, s: str):
        self.s, self.pos = s, 0

    def read(self) -> str:
        if self.pos < len(self.s):
            ch = self.s[self.pos]
            self.pos += 1
            return ch
        return _NUL

    def unread(self) -> None:
        self.pos -= 1

    def scan_id_or_keyword(self) -> tuple[str, str]:
        buf = []
        while True:
            ch = self.read()
            if ch == _NUL:
                break
            if ch in _SPECIAL or ch in _WHITESPACE:
                self.unread()
                break
            buf.append(ch)
        s = "".join(buf)
        return (_STRING2TOKEN[s], s) if s in _STRING2TOKEN else (_IDENT, s)

    def scan_special_symbol(self) -> tuple[str, str]:
        """The longest run of special symbols that is still a token (`!=` over `!`, `==` over `=`)."""
        last: tuple[str, str] | None = None
        buf = ""
        while True:
            ch = self.read()
            if ch == _NUL:
                break
            if ch not in _SPECIAL:
                self.unread()
                break
            buf += ch
            if buf in _STRING2TOKEN:
                last = (_STRING2TOKEN[buf], buf)
            elif last is not None:
                self.unread()
                break
        if last is None:
            return _ERROR, f"error expected: keyword found '{buf}'"
        return last

    def lex(self) -> tuple[str, str]:
        ch = self.read()
        while ch in _WHITESPACE:
            ch = self.read()
        if ch == _NUL:
            return _EOS, ""
        self.unread()
        return self.scan_special_symbol() if ch in _SPECIAL else self.scan_id_or_keyword()


# ---- labels: Parser ----------------------------------------------------------------------------------------
class _ParseError(Exception):
    pass


_KEY_AND_OPERATOR, _VALUES = 0, 1   # ParserContext: in Values, `in` and `notin` are plain identifiers


class _Parser:
    def __init__(self, selector: str):
        lexer = _Lexer(selector)
        self.items: list[tuple[str, str]] = []
        while True:
            tok, lit = lexer.lex()
            self.items.append((tok, lit))
            if tok == _EOS:
                break
        self.position = 0

    def _at(self, i: int, context: int) -> tuple[str, str]:
        tok, lit = self.items[min(i, len(self.items) - 1)]
        if context == _VALUES and tok in (_IN_TOK, _NOTIN_TOK):
            tok = _IDENT
        return tok, lit

    def lookahead(self, context: int) -> tuple[str, str]:
        return self._at(self.position, context)

    def consume(self, context: int) -> tuple[str, str]:
        self.position += 1
        return self._at(self.position - 1, context)

    def parse(self) -> list[LabelRequirement]:
        reqs: list[LabelRequirement] = []
        while True:
            tok, lit = self.lookahead(_VALUES)
            if tok in (_IDENT, _BANG):
                try:
                    reqs.append(self.parse_requirement())
                except _ParseError as e:
                    raise SelectorError(f"unable to parse requirement: {e}") from None
                t, l = self.consume(_VALUES)
                if t == _EOS:
                    return reqs
                if t == _COMMA:
                    t2, l2 = self.lookahead(_VALUES)
                    if t2 not in (_IDENT, _BANG):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{l}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> LabelRequirement:
        key, op = self.parse_key_and_infer_operator()
        if op in (EXISTS, DOES_NOT_EXIST):
            return _new_requirement(key, op, [])
        op = self.parse_operator()
        values = self.parse_values() if op in (IN, NOT_IN) else self.parse_exact_value()
        return _new_requirement(key, op, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.consume(_VALUES)
        if tok == _BANG:
            op = DOES_NOT_EXIST
            tok, lit = self.consume(_VALUES)
        if tok != _IDENT:
            raise _ParseError(f"found '{lit}', expected: identifier")
        msgs = _is_qualified_name(lit)         # validateLabelKey(literal, p.path) with a nil path
        if msgs:
            raise _ParseError(_invalid("<nil>", lit, "; ".join(msgs)))
        if self.lookahead(_VALUES)[0] in (_EOS, _COMMA) and op != DOES_NOT_EXIST:
            op = EXISTS
        return lit, op

    def parse_operator(self) -> str:
        tok, lit = self.consume(_KEY_AND_OPERATOR)
        ops = {_IN_TOK: IN, _EQ: EQUALS, _DOUBLE_EQ: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN,
               _NOTIN_TOK: NOT_IN, _NOT_EQ: NOT_EQUALS}
        if tok not in ops:   # `!` too: it is unary
            raise _ParseError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return ops[tok]

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(_VALUES)
        if tok != _OPEN_PAR:
            raise _ParseError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(_VALUES)
        if tok in (_IDENT, _COMMA):
            s = self.parse_identifiers_list()
            if self.consume(_VALUES)[0] != _CLOSED_PAR:   # unreachable: the list ends only before a ')'
                raise _ParseError(f"found '{lit}', expected: ')'")
            return s
        if tok == _CLOSED_PAR:                            # "()" is the set {""}, never an empty set
            self.consume(_VALUES)
            return {""}
        raise _ParseError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        s: set[str] = set()
        while True:
            tok, lit = self.consume(_VALUES)
            if tok == _IDENT:
                s.add(lit)
                tok2, lit2 = self.lookahead(_VALUES)
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSED_PAR:
                    return s
                raise _ParseError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:                 # "(," or ",," or ",)": an empty value
                if not s:
                    s.add("")
                tok2 = self.lookahead(_VALUES)[0]
                if tok2 == _CLOSED_PAR:
                    s.add("")
                    return s
                if tok2 == _COMMA:
                    # v1.31 consumes the second comma here, so `(a,,)` then meets ')' where it wants a value
                    # and fails (fixed upstream only behind a feature gate, kubernetes/kubernetes#133419).
                    self.consume(_VALUES)
                    s.add("")
                continue
            raise _ParseError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        if self.lookahead(_VALUES)[0] in (_EOS, _COMMA):  # `k=` is the value ""
            return {""}
        tok, lit = self.consume(_VALUES)
        if tok == _IDENT:
            return {lit}
        raise _ParseError(f"found '{lit}', expected: identifier")


def parse_label_requirements(selector: str) -> list[LabelRequirement]:
    """labels.Parse: the requirements sorted by key (ByKey, for a deterministic String()), or a
    SelectorError with the exact text kube-apiserver puts in the 400 Status message."""
    reqs = _Parser(selector or "").parse()
    return sorted(reqs, key=lambda r: r.key)


def parse_labels(selector: str) -> Callable[[dict], bool]:
    """Compile a label selector into a predicate over a labels dict."""
    reqs = tuple(parse_label_requirements(selector))
    return lambda labels: all(r.matches(labels) for r in reqs)


def label_match(selector: str) -> Callable[[dict], bool]:
    """A predicate over objects."""
    pred = parse_labels(selector)
    return lambda obj: pred(obj.get("metadata", {}).get("labels") or {})


def selector_from_label_selector(sel: dict | None) -> Callable[[dict], bool]:
    """metav1.LabelSelector (matchLabels + matchExpressions) as a predicate over a labels dict. An empty
    selector matches everything; None matches nothing (metav1.LabelSelectorAsSelector)."""
    if sel is None:
        return lambda labels: False
    ml = sel.get("matchLabels") or {}
    exprs = sel.get("matchExpressions") or []

    def pred(labels: dict) -> bool:
        if any(labels.get(k) != v for k, v in ml.items()):
            return False
        for e in exprs:
            k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
            if op == "In" and not (k in labels and labels[k] in vals):
                return False
            if op == "NotIn" and k in labels and labels[k] in vals:
                return False
            if op == "Exists" and k not in labels:
                return False
            if op == "DoesNotExist" and k in labels:
                return False
        return True
    return pred


def _s(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _meta(o, f):
    return _s(o.get("metadata", {}).get(f))


_COMMON = {"metadata.name": lambda o: _meta(o, "name"), "metadata.namespace": lambda o: _meta(o, "namespace")}
FIELDS: dict[str, dict[str, Callable[[dict], str]]] = {
    # pkg/registry/core/pod/strategy.go ToSelectableFields / pkg/apis/core/v1/conversion.go
    "pods": {**_COMMON,
             "spec.nodeName": lambda o: _s(o.get("spec", {}).get("nodeName")),
             "spec.restartPolicy": lambda o: _s(o.get("spec", {}).get("restartPolicy")),
             "spec.schedulerName": lambda o: _s(o.get("spec", {}).get("schedulerName")),
             "spec.serviceAccountName": lambda o: _s(o.get("spec", {}).get("serviceAccountName")),
             "spec.hostNetwork": lambda o: _s(bool(o.get("spec", {}).get("hostNetwork", False))),
             "status.phase": lambda o: _s(o.get("status", {}).get("phase")),
             "status.podIP": lambda o: _s(o.get("status", {}).get("podIP")),
             # accepted by the conversion func but not among the selectable fields: always ""
             "status.podIPs": lambda o: "",
             "status.nominatedNodeName": lambda o: _s(o.get("status", {}).get("nominatedNodeName"))},
    "nodes": {"metadata.name": lambda o: _meta(o, "name"),
              "spec.unschedulable": lambda o: _s(bool(o.get("spec", {}).get("unschedulable", False)))},
    "namespaces": {"metadata.name": lambda o: _meta(o, "name"),
                   "status.phase": lambda o: _s(o.get("status", {}).get("phase"))},
    "events": {**_COMMON,
               **{f"involvedObject.{k}": (lambda o, k=k: _s(o.get("involvedObject", {}).get(k)))
                  for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
               "reason": lambda o: _s(o.get("reason")), "reportingComponent": lambda o: _s(o.get("reportingComponent")),
               "source": lambda o: _s(o.get("source", {}).get("component")), "type": lambda o: _s(o.get("type"))},
    "secrets": {**_COMMON, "type": lambda o: _s(o.get("type"))},
    "replicasets": {**_COMMON, "status.replicas": lambda o: _s(o.get("status", {}).get("replicas", 0))},
    "replicationcontrollers": {**_COMMON, "status.replicas": lambda o: _s(o.get("status", {}).get("replicas", 0))},
    # pkg/apis/batch/v1/conversion.go, pkg/registry/batch/job/strategy.go JobToSelectableFields
    "jobs": {**_COMMON, "status.successful": lambda o: _s(o.get("status", {}).get("succeeded") or 0)},
    "services": {**_COMMON, "spec.clusterIP": lambda o: _s(o.get("spec", {}).get("clusterIP")),
                 "spec.type": lambda o: _s(o.get("spec", {}).get("type"))},
}


# pkg/apis/core/v1/conversion.go: the Pod conversion func renames the field old clients send.
_FIELD_ALIASES: dict[str, dict[str, str]] = {"pods": {"spec.host": "spec.nodeName"}}


def _unsupported_field(resource: str, label: str) -> str:
    """The error of the kind's field label conversion func (runtime.Scheme.ConvertFieldLabel)."""
    if resource == "jobs":                       # pkg/apis/batch/v1/conversion.go
        return f"field label {_go_quote(label)} not supported for batchv1.Job"
    if resource in FIELDS:                       # pkg/apis/core/v1/conversion.go and the like
        return f"field label not supported: {label}"
    # k8s.io/apimachinery/pkg/runtime/conversion.go DefaultMetaV1FieldSelectorConversion: kinds that
    # register no conversion func (ConfigMap, Deployment, ...)
    return (f"{_go_quote(label)} is not a known field selector: only {_go_quote('metadata.name')}, "
            f"{_go_quote('metadata.namespace')}")


# ---- fields: k8s.io/apimachinery/pkg/fields/selector.go ---------------------------------------------------
_FIELD_OPERATORS = ("!=", "==", "=")   # "==" before "=", so that no "=" is left at the start of the value


def _split_terms(selector: str) -> list[str]:
    """splitTerms: split on the commas that no backslash escapes (the backslash stays in the term)."""
    if not selector:
        return []
    terms, start, in_slash = [], 0, False
    for i, c in enumerate(selector):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """splitTerm: at the first position where an operator starts (no escaping on the left-hand side)."""
    for i in range(len(term)):
        for op in _FIELD_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def _unescape_value(s: str) -> str:
    """UnescapeValue: `\\\\`, `\\,` and `\\=` stand for themselves; any other escape, a lone trailing
    backslash, or a bare `,`/`=` is an error. UnescapedRune prints the rune with %v, i.e. as a number."""
    if not any(c in s for c in "\\,="):
        return s
    out, in_slash = [], False
    for c in s:
        if in_slash:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_fields(selector: str) -> list[tuple[str, str, str]]:
    """fields.ParseSelector: (field, operator, unescaped value) per term, the terms sorted as strings and
    empty ones skipped. Neither side is trimmed: `a = b` is the field "a " and the value " b"."""
    parts = sorted(_split_terms(selector or ""))
    items = []
    for part in parts:
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{selector}'; can't understand '{part}'")
        lhs, op, rhs = split
        items.append((lhs, op, _unescape_value(rhs)))
    return items


def field_match(resource: str, selector: str) -> Callable[[dict], bool]:
    """ParseSelector, then Transform with the kind's field label conversion (in the sorted term order, so the
    first unsupported field in that order is the one reported), then a predicate over objects."""
    fields = FIELDS.get(resource, _COMMON)
    aliases = _FIELD_ALIASES.get(resource, {})
    reqs = []
    for f, op, v in parse_fields(selector):
        f = aliases.get(f, f)
        get = fields.get(f)
        if get is None:
            raise SelectorError(_unsupported_field(resource, f))
        reqs.append((get, v, op == "!="))
    return lambda obj: all((g(obj) != v) if neg else (g(obj) == v) for g, v, neg in reqs)


def single_value(selector: str, field: str) -> str | None:
    """The value a field selector pins a field to (`spec.nodeName=x` -> "x"), for index lookups:
    RequiresExactMatch, the first `=`/`==` term on the field in the sorted term order. None when the
    selector does not parse (field_match reports that)."""
    try:
        terms = parse_fields(selector)
    except SelectorError:
        return None
    for f, op, v in terms:
        if f == field and op != "!=":
            return v
    return None
