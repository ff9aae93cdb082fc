"""Label and field selector parsing, against k8s.io/apimachinery v1.31:

  pkg/labels/selector.go           Lexer, Parser (parse, parseRequirement, parseKeyAndInferOperator,
                                   parseOperator, parseValues, parseIdentifiersList, parseExactValue),
                                   NewRequirement, validateLabelKey / validateLabelValue
  pkg/util/validation/validation.go IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain, RegexError
  pkg/util/validation/field        field.Invalid(...).Error(), a nil Path printing "<nil>"
  pkg/fields/selector.go           ParseSelector, splitTerms, splitTerm, UnescapeValue

The expected texts are written out by hand from those sources (the inputs follow selector_test.go's cases
where it has them); they are what kube-apiserver puts in the 400 Status message of a list or watch.
"""
from __future__ import annotations

import pytest

from simulator.apiserver import selectors as sel
from simulator.trace import ref
from tests.sim.test_apiserver_core import Harness, _pod

U = "unable to parse requirement: "
OPS = "in, notin, =, ==, !=, gt, lt"
INT = "for 'Gt', 'Lt' operators, the value must be an integer"
NAME_RULE = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
QNAME_RULE = ("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
              "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
              "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
              "and '/' (e.g. 'example.com/MyName')")
SUBDOMAIN_RULE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                  "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                  "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
              "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
              "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def _key(k: str, why: str) -> str:
    return f'{U}<nil>: Invalid value: "{k}": {why}'


# ---- label selectors: errors ----------------------------------------------------------------------------
LABEL_ERRORS = [
    # previously accepted without a word
    ("app in (web", U + "found '', expected: ',' or ')'"),                        # parseIdentifiersList
    ("a in (b", U + "found '', expected: ',' or ')'"),
    ("!!", U + "found '!', expected: identifier"),                                # parseKeyAndInferOperator
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),                     # parse, after a requirement
    ("a b", U + f"found 'b', expected: {OPS}"),                                   # parseOperator
    ("=x", "found '=', expected: !, identifier, or 'end of string'"),             # parse, at a requirement
    # parse()
    ("(", "found '(', expected: !, identifier, or 'end of string'"),
    (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
    ("x,,y", "found ',', expected: identifier after ','"),
    ("a in (xyz),", "found '', expected: identifier after ','"),
    ("x,=y", "found '=', expected: identifier after ','"),
    ("x==a==b", "found '==', expected: ',' or 'end of string'"),
    ("!x=a", "found '=', expected: ',' or 'end of string'"),
    ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
    ("x=a y=b", "found 'y', expected: ',' or 'end of string'"),
    # parseKeyAndInferOperator
    ("x,!", U + "found '', expected: identifier"),
    ("!=x", "found '!=', expected: !, identifier, or 'end of string'"),
    ("!(x)", U + "found '(', expected: identifier"),
    # parseOperator (`!` is unary, `in`/`notin` only operators here)
    ("x nott in (y)", U + f"found 'nott', expected: {OPS}"),
    ("a (", U + f"found '(', expected: {OPS}"),
    ("x!", U + f"found '!', expected: {OPS}"),
    ("x ! y", U + f"found '!', expected: {OPS}"),
    ("a\x00b", U + f"found 'b', expected: {OPS}"),                # a NUL byte ends an identifier
    ("a, \x00b", "found '', expected: identifier after ','"),        # ... and, where a token starts, the input
    # parseValues
    ("x in a", U + "found 'a' expected: '('"),
    ("x in", U + "found '' expected: '('"),
    ("x notin in", U + "found 'in' expected: '('"),
    ("a notin(", U + "found '', expected: ',', ')' or identifier"),
    ("x in (=)", U + "found '=', expected: ',', ')' or identifier"),
    ("x in ((a))", U + "found '(', expected: ',', ')' or identifier"),
    # parseIdentifiersList
    ("a in (xyz abc)", U + "found 'abc', expected: ',' or ')'"),
    ("x in (a=b)", U + "found '=', expected: ',' or ')'"),
    ("x in (a,=)", U + "found '=', expected: ',', or identifier"),
    ("x in (a,", U + "found '', expected: ',', or identifier"),
    ("x in (,a", U + "found '', expected: ',' or ')'"),
    # v1.31 consumes the second of two commas, so a ')' right after them is where a value is wanted
    ("x in (a,,)", U + "found ')', expected: ',', or identifier"),
    ("x in (,,)", U + "found ')', expected: ',', or identifier"),
    # parseExactValue
    ("x=(a)", U + "found '(', expected: identifier"),
    ("x=!y", U + "found '!', expected: identifier"),
    ("x===a", U + "found '=', expected: identifier"),
    ("x>=1", U + "found '=', expected: identifier"),
    # validateLabelKey (IsQualifiedName), with Parse's nil field path
    ("a$", _key("a$", NAME_RULE)),
    ("-a=b", _key("-a", NAME_RULE)),
    ("!a$", _key("a$", NAME_RULE)),
    ("x in (a),b$ notin (c)", _key("b$", NAME_RULE)),
    ("a/b/c=d", _key("a/b/c", QNAME_RULE)),
    ("/a", _key("/a", "prefix part must be non-empty")),
    ("a/", _key("a/", "name part must be non-empty; " + NAME_RULE)),
    ("/", _key("/", "prefix part must be non-empty; name part must be non-empty; " + NAME_RULE)),
    ("Example.com/a", _key("Example.com/a", "prefix part " + SUBDOMAIN_RULE)),
    ("a" * 64, _key("a" * 64, "name part must be no more than 63 characters")),
    ("a" * 254 + "/b", _key("a" * 254 + "/b", "prefix part must be no more than 253 characters")),
    ("-" * 254 + "/b", _key("-" * 254 + "/b", "prefix part must be no more than 253 characters; prefix part "
                            + SUBDOMAIN_RULE)),
    ('a"b', _key('a\\"b', NAME_RULE)),                        # %q escapes the quote
    ("x\u00a0y", _key("x\\u00a0y", NAME_RULE)),                # a no-break space is no delimiter; %q escapes it
    ("x\x7fy=1", _key("x\\x7fy", NAME_RULE)),
    # NewRequirement: values (IsValidLabelValue) at values[i][key], i over the sorted values
    ("x=a||y=b", f'{U}values[0][x]: Invalid value: "a||y": {VALUE_RULE}'),
    ("x=a$", f'{U}values[0][x]: Invalid value: "a$": {VALUE_RULE}'),
    ("example.com/app!=-a", f'{U}values[0][example.com/app]: Invalid value: "-a": {VALUE_RULE}'),
    ("x=" + "a" * 64, f'{U}values[0][x]: Invalid value: "{"a" * 64}": must be no more than 63 characters'),
    ("x=" + "a" * 63 + "-",
     f'{U}values[0][x]: Invalid value: "{"a" * 63}-": must be no more than 63 characters; {VALUE_RULE}'),
    ("x in (ok,b$,a$)", f'{U}[values[0][x]: Invalid value: "a$": {VALUE_RULE}, '
                        f'values[1][x]: Invalid value: "b$": {VALUE_RULE}]'),
    ("b=$,a=$", f'{U}values[0][b]: Invalid value: "$": {VALUE_RULE}'),     # the first one in the text
    # NewRequirement: `>` and `<` take one integer (strconv.ParseInt(v, 10, 64))
    ("x<a", f'{U}values[0]: Invalid value: "a": {INT}'),
    ("x>", f'{U}values[0]: Invalid value: "": {INT}'),
    ("x>1.5", f'{U}values[0]: Invalid value: "1.5": {INT}'),
    ("x>1_000", f'{U}values[0]: Invalid value: "1_000": {INT}'),
    ("x<99999999999999999999", f'{U}values[0]: Invalid value: "99999999999999999999": {INT}'),
    ("x>-1", f'{U}values[0][x]: Invalid value: "-1": {VALUE_RULE}'),     # an integer, not a label value
    ("x>a$", f'{U}[values[0]: Invalid value: "a$": {INT}, values[0][x]: Invalid value: "a$": {VALUE_RULE}]'),
]


@pytest.mark.parametrize("selector,message", LABEL_ERRORS, ids=[repr(s)[:40] for s, _ in LABEL_ERRORS])
def test_label_selector_errors(selector, message):
    with pytest.raises(sel.SelectorError) as e:
        sel.parse_labels(selector)
    assert str(e.value) == message
    assert isinstance(e.value, ValueError)


# ---- label selectors: what parses, and what it matches --------------------------------------------------
WEB = {"app": "web", "tier": "front"}
LABEL_MATCHES = [
    # selector, Requirements' String() after the sort by key, [(labels, matches)]
    ("", "", [({}, True), (WEB, True)]),
    ("   \t", "", [(WEB, True)]),
    ("x=a,y=b,z=c", "x=a,y=b,z=c", [({"x": "a", "y": "b", "z": "c"}, True), ({"x": "a", "y": "b"}, False)]),
    ("z=c,x=a", "x=a,z=c", [({"x": "a", "z": "c"}, True)]),
    ("x==a", "x==a", [({"x": "a"}, True), ({"x": "b"}, False), ({}, False)]),
    ("x!=a", "x!=a", [({"x": "b"}, True), ({}, True), ({"x": "a"}, False)]),
    ("x=", "x=", [({"x": ""}, True), ({"x": "a"}, False), ({}, False)]),
    ("x= ,z= ", "x=,z=", [({"x": "", "z": ""}, True)]),
    ("x", "x", [({"x": "z"}, True), ({"x": ""}, True), ({"y": "z"}, False)]),
    ("\rx", "x", [({"x": "z"}, True)]),
    ("a ", "a", [({"a": "1"}, True)]),
    ("!x", "!x", [({"y": "z"}, True), ({"x": ""}, False)]),
    ("! x", "!x", [({}, True)]),
    ("x,!y", "x,!y", [({"x": "1"}, True), ({"x": "1", "y": "2"}, False)]),
    ("x>1", "x>1", [({"x": "2"}, True), ({"x": "1"}, False), ({"x": "v2"}, False), ({}, False), ({"x": "+2"}, True)]),
    ("x<1", "x<1", [({"x": "0"}, True), ({"x": "-5"}, True), ({"x": "2"}, False), ({"x": " 0"}, False)]),
    ("x>1,z<5", "x>1,z<5", [({"x": "2", "z": "4"}, True), ({"x": "2", "z": "5"}, False)]),
    ("notin=in", "notin=in", [({"notin": "in"}, True)]),
    ("in in (in)", "in in (in)", [({"in": "in"}, True), ({"in": "x"}, False)]),
    ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)", [({"a": "in"}, True), ({"a": "notin"}, True), ({"a": "w"}, False)]),
    ("foo  in\t (abc)", "foo in (abc)", [({"foo": "abc"}, True)]),
    ("x notin\n (abc)", "x notin (abc)", [({"x": "abd"}, True), ({"x": "abc"}, False), ({}, True)]),
    ("x in (abc,def)", "x in (abc,def)", [({"x": "def"}, True), ({"x": "ab"}, False), ({}, False)]),
    ("x in (def,abc,def)", "x in (abc,def)", [({"x": "abc"}, True)]),         # a set: sorted, no duplicates
    ("x in (abc,)", "x in (,abc)", [({"x": ""}, True), ({"x": "abc"}, True), ({"x": "b"}, False)]),
    ("x in ()", "x in ()", [({"x": ""}, True), ({"x": "a"}, False), ({}, False)]),      # "()" is {""}
    ("x notin ( )", "x notin ()", [({}, True), ({"x": "a"}, True), ({"x": ""}, False)]),
    ("x notin (, a)", "x notin (,a)", [({"x": "b"}, True), ({"x": "a"}, False), ({"x": ""}, False)]),
    ("x in (foo,,baz)", "x in (,baz,foo)", [({"x": ""}, True), ({"x": "baz"}, True)]),
    ("x notin (abc,def),bar,z in (),w", "bar,w,x notin (abc,def),z in ()",
     [({"bar": "1", "w": "", "z": ""}, True), ({"bar": "1", "w": "", "z": "", "x": "abc"}, False),
      ({"bar": "1", "z": ""}, False)]),
    ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash",
     [({"this-is-a-dns.domain.com/key-with-dash": "x"}, True)]),
    ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)",
     [({"0.1.2.domain/99": "10.10.100.1"}, False), ({"0.1.2.domain/99": "1"}, True)]),
    ("a" * 63 + "=" + "b" * 63, "a" * 63 + "=" + "b" * 63, [({"a" * 63: "b" * 63}, True)]),
    ("x=a,x=b", "x=a,x=b", [({"x": "a"}, False)]),                            # every requirement must hold
    ("x in (a),x", "x in (a),x", [({"x": "a"}, True)]),
    ("a,\x00b", "a,b", [({"a": "", "b": ""}, True)]),    # the NUL right after a symbol is read with it
]


@pytest.mark.parametrize("selector,string,cases", LABEL_MATCHES, ids=[repr(c[0])[:40] for c in LABEL_MATCHES])
def test_label_selector_parses_and_matches(selector, string, cases):
    reqs = sel.parse_label_requirements(selector)
    assert ",".join(str(r) for r in reqs) == string
    pred = sel.parse_labels(selector)
    for labels, want in cases:
        assert pred(labels) is want, (selector, labels)
    obj_pred = sel.label_match(selector)
    for labels, want in cases:
        assert obj_pred({"metadata": {"labels": labels}}) is want


def test_signed_integer_for_gt_is_an_invalid_label_value():
    """ParseInt takes the sign, but "+1" is no label value."""
    with pytest.raises(sel.SelectorError) as e:
        sel.parse_labels("x>+1")
    assert str(e.value) == f'{U}values[0][x]: Invalid value: "+1": {VALUE_RULE}'


def test_requirements_are_sorted_by_key_and_values_deduplicated():
    reqs = sel.parse_label_requirements("z notin (b,a,b),!y,x>3,w")
    assert [(r.key, r.op, r.values) for r in reqs] == [
        ("w", "exists", ()), ("x", "gt", ("3",)), ("y", "!", ()), ("z", "notin", ("a", "b"))]
    assert sel.label_match("")({}) and sel.label_match(None)({"metadata": {}})


# ---- field selectors ------------------------------------------------------------------------------------
FIELD_ERRORS = [
    ("pods", "a", "invalid selector: 'a'; can't understand 'a'"),
    ("pods", "b,a=1", "invalid selector: 'b,a=1'; can't understand 'b'"),        # the terms are sorted first
    ("pods", "metadata.name=a,zzz", "invalid selector: 'metadata.name=a,zzz'; can't understand 'zzz'"),
    ("pods", "x=a=b", "invalid field selector: unescaped character in value: 61"),  # UnescapedRune prints %v
    ("pods", "x===a", "invalid field selector: unescaped character in value: 61"),
    ("pods", "x!==a", "invalid field selector: unescaped character in value: 61"),
    ("pods", "x=a\\b", "invalid field selector: invalid escape sequence: \\b"),
    ("pods", "x=a\\", "invalid field selector: invalid escape sequence: \\"),
    # the field label conversion funcs, applied in the sorted term order
    ("pods", "spec.bogus=x", "field label not supported: spec.bogus"),
    ("pods", "spec.b=1,spec.a=1", "field label not supported: spec.a"),
    ("pods", " metadata.name=a", "field label not supported:  metadata.name"),     # nothing is trimmed
    ("pods", "metadata.name =a", "field label not supported: metadata.name "),
    ("pods", "=a", "field label not supported: "),
    ("nodes", "metadata.namespace=a", "field label not supported: metadata.namespace"),
    ("jobs", "status.failed=1", 'field label "status.failed" not supported for batchv1.Job'),
    ("configmaps", "data.x=1", '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ("deployments", "spec.replicas=1",
     '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
]


@pytest.mark.parametrize("resource,selector,message", FIELD_ERRORS, ids=[f"{r}:{s}" for r, s, _ in FIELD_ERRORS])
def test_field_selector_errors(resource, selector, message):
    with pytest.raises(sel.SelectorError) as e:
        sel.field_match(resource, selector)
    assert str(e.value) == message


POD = {"metadata": {"name": "a,b=c\\d", "namespace": "default"},
       "spec": {"nodeName": "n1", "restartPolicy": "Always"}, "status": {"phase": "Running", "podIP": "10.0.0.5"}}
FIELD_MATCHES = [
    ("pods", "", True),
    ("pods", "spec.nodeName=n1", True),
    ("pods", "spec.nodeName==n1", True),
    ("pods", "spec.nodeName!=n1", False),
    ("pods", "spec.nodeName=", False),
    ("pods", "spec.nodeName= n1", False),                       # the value keeps its space
    ("pods", "spec.host=n1", True),                            # renamed to spec.nodeName by the conversion
    ("pods", "metadata.name=a\\,b\\=c\\\\d", True),             # EscapeValue's escapes
    ("pods", "metadata.name!=a\\,b\\=c\\\\d", False),
    ("pods", "status.phase=Running,spec.restartPolicy=Always,", True),   # empty terms are skipped
    ("pods", "status.podIP=10.0.0.5,status.podIPs=", True),    # podIPs: accepted, never a selectable field
    ("pods", "spec.hostNetwork=false", True),
    ("configmaps", "metadata.namespace=default", True),
    ("jobs", "status.successful=0", True),
]


@pytest.mark.parametrize("resource,selector,want", FIELD_MATCHES, ids=[f"{r}:{s}" for r, s, _ in FIELD_MATCHES])
def test_field_selector_matches(resource, selector, want):
    assert sel.field_match(resource, selector)(POD) is want


def test_field_selector_terms_and_single_value():
    assert sel.parse_fields("b=2,a!=1,,c==x\\,y") == [("a", "!=", "1"), ("b", "=", "2"), ("c", "==", "x,y")]
    assert sel.single_value("spec.nodeName=n1", "spec.nodeName") == "n1"
    assert sel.single_value("spec.nodeName==n1,status.phase=Running", "spec.nodeName") == "n1"
    assert sel.single_value("spec.nodeName=b,spec.nodeName=a", "spec.nodeName") == "a"   # sorted terms
    assert sel.single_value("spec.nodeName!=n1", "spec.nodeName") is None
    assert sel.single_value("spec.nodeName=a\\,b", "spec.nodeName") == "a,b"
    assert sel.single_value("spec.nodeName", "spec.nodeName") is None              # does not parse


# ---- through the API server: the 400 Status -------------------------------------------------------------
def test_bad_selectors_are_400_with_the_parse_error_as_message():
    h = Harness()
    h.call(h.client.create("pods", _pod("a")))
    for kw, message in (
            (dict(label_selector="app in (web"), U + "found '', expected: ',' or ')'"),
            (dict(label_selector="a b"), U + f"found 'b', expected: {OPS}"),
            (dict(label_selector="=x"), "found '=', expected: !, identifier, or 'end of string'"),
            (dict(label_selector="a,", field_selector="x"), "found '', expected: identifier after ','"),  # labels first
            (dict(label_selector="app=web", field_selector="x"), "invalid selector: 'x'; can't understand 'x'"),
            (dict(field_selector="spec.nodeName=a=b"), "invalid field selector: unescaped character in value: 61")):
        r = h.call(h.client.list("pods", "default", **kw))
        assert r.code == 400 and r.status["reason"] == "BadRequest" and r.status["message"] == message, kw
    r = h.call(h.client.list("pods", "default", label_selector="app in (web),!x", field_selector="metadata.name=a"))
    assert r.code == 200 and [o["metadata"]["name"] for o in r.body["items"]] == ["a"]
    r = h.call(h.client.list("pods", "default", label_selector="app notin (web)"))
    assert r.code == 200 and r.body["items"] == []
    with pytest.raises(sel.SelectorError) as e:
        h.api.watch("pods", ref("test", "w"), lambda k, o: None, label_selector="!!")
    assert str(e.value) == U + "found '!', expected: identifier"
