"""The expression syntax: references in values, and guard expressions (never eval)."""

from __future__ import annotations

import pytest

from flowdoc.model.expr import ExprError, Guard, iter_refs, lookup, render

CTX = {"inputs": {"client_id": "app", "n": 3, "trusted": False}, "steps": {"token": {"body": {"access_token": "t0k"}}},
       "pkce": {"challenge": "abc"}, "state": "xyz"}


def resolve(path):
    return lookup(CTX, path)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("${inputs.client_id}", "app"),
        ("${inputs.n}", 3),  # a lone reference keeps its type
        ("n=${inputs.n}", "n=3"),
        ("${ inputs.client_id }", "app"),
        ("Bearer ${steps.token.body.access_token}", "Bearer t0k"),
        ("${pkce.challenge}-${state}", "abc-xyz"),
        ("plain", "plain"),
        ("$${inputs.client_id}", "${inputs.client_id}"),
        ("cost $5", "cost $5"),
    ],
)
def test_render(text, expected):
    assert render(text, resolve) == expected


def test_render_nested():
    assert render({"a": ["${state}", {"b": "${inputs.n}"}]}, resolve) == {"a": ["xyz", {"b": 3}]}


@pytest.mark.parametrize("text", ["${}", "${a b}", "${inputs.x", "${__import__('os')}", "${a;b}"])
def test_bad_refs(text):
    with pytest.raises(ExprError):
        list(iter_refs(text))


def test_missing_value_is_keyerror():
    with pytest.raises(KeyError):
        render("${inputs.nope}", resolve)


@pytest.mark.parametrize(
    "src,expected",
    [
        ("inputs.n == 3", True),
        ("inputs.n > 2 and not inputs.trusted", True),
        ("inputs.trusted or inputs.n < 1", False),
        ("state in 'wxyz'", True),
        ("state not in 'abc'", True),
        ("(inputs.n >= 3) and (state != 'no')", True),
        ("inputs.client_id == \"app\"", True),
        ("null == null", True),
        ("-1 < 0", True),
    ],
)
def test_guards(src, expected):
    assert Guard.parse(src).evaluate(resolve) is expected


@pytest.mark.parametrize("src", ["", "a ==", "(a == 1", "a = 1", "__import__('os').system('x')", "a == 1 b", "lambda: 1"])
def test_bad_guards(src):
    with pytest.raises(ExprError):
        Guard.parse(src)


def test_guard_refs():
    assert Guard.parse("inputs.a == steps.t.status or x").refs() == [("inputs", "a"), ("steps", "t", "status"), ("x",)]


# ------------------------------------------------------------------ hostile input (issue 14, 16)

from flowdoc.model.expr import MAX_GUARD_DEPTH  # noqa: E402
from tests.support.hangguard import run_guarded  # noqa: E402


@pytest.mark.parametrize(
    "text,expected",
    [
        # $${ is a literal ${, scanned left to right exactly as before the scanner was rewritten
        ("$$${inputs.client_id}", "$${inputs.client_id}"),
        ("$${${state}}", "${xyz}"),
        ("a$$${state}", "a$${state}"),
        ("$$ {state}", "$$ {state}"),
        ("${state}$${", "xyz${"),
        ("}${state}{", "}xyz{"),
        ("${ state }$$", "xyz$$"),
    ],
)
def test_escape_semantics(text, expected):
    assert render(text, resolve) == expected


@pytest.mark.parametrize("text", ["$$${{", "${a ${state}", "$${" + "${" * 3, "${state} ${"])
def test_unclosed_after_escapes(text):
    with pytest.raises(ExprError):
        list(iter_refs(text))


def test_thirty_thousand_openers_end_at_once():
    # was: the reference regex backtracked over the rest of the string at every '${' (killed)
    out = run_guarded("""
from flowdoc.model.expr import ExprError, iter_refs, render
for value in ["${" * 30000, {"a": ["x ${" * 30000]}]:
    try:
        list(iter_refs(value)) if isinstance(value, str) else render(value, lambda p: "")
    except ExprError as exc:
        print(exc)
""")
    assert out.splitlines() == ["'${' is not closed; write ${name} or $${ for a literal"] * 2


def test_a_long_bad_reference_is_quoted_short():
    with pytest.raises(ExprError) as exc:
        list(iter_refs("${" + "a b" * 10000 + "}"))
    assert len(str(exc.value)) < 200


def test_four_hundred_parentheses_are_a_clear_error():
    # was: RecursionError out of the parser
    with pytest.raises(ExprError, match=f"more than {MAX_GUARD_DEPTH} deep"):
        Guard.parse("(" * 400 + "inputs.n" + ")" * 400)
    with pytest.raises(ExprError, match="deep"):
        Guard.parse("not " * 400 + "true")


def test_nesting_up_to_the_bound_parses():
    d = MAX_GUARD_DEPTH
    assert Guard.parse("(" * d + "inputs.n == 3" + ")" * d).evaluate(resolve) is True
    assert Guard.parse("not " * d + "true").evaluate(resolve) is (d % 2 == 0)
    with pytest.raises(ExprError):
        Guard.parse("(" * (d + 1) + "true" + ")" * (d + 1))


def test_long_and_or_chains_are_flat():
    # 5,000 terms: no recursion in parsing, evaluating or listing the references
    src = " and ".join(["inputs.n == 3"] * 2500) + " or " + " or ".join(["state == 'no'"] * 2500)
    g = Guard.parse(src)
    assert g.evaluate(resolve) is True
    assert len(g.refs()) == 5000
    assert Guard.parse("inputs.trusted and (1 < 'x')").evaluate(resolve) is False  # short-circuits


def test_a_five_thousand_digit_number_in_a_guard():
    with pytest.raises(ExprError, match="longer than"):
        Guard.parse("inputs.n == " + "9" * 5000)


def test_lookup_of_a_non_ascii_digit_is_a_missing_value():
    with pytest.raises(KeyError):
        lookup({"a": [1, 2]}, ("a", "²"))
    with pytest.raises(KeyError):
        lookup({"a": [1, 2]}, ("a", "9" * 5000))


def test_a_failed_comparison_names_types_never_values():
    with pytest.raises(ExprError) as exc:
        Guard.parse("inputs.password < 5").evaluate(lambda p: "hunter2-secret")
    assert "hunter2" not in str(exc.value) and str(exc.value) == "cannot compare a text < a number"


def test_an_unexpected_long_literal_is_quoted_short():
    with pytest.raises(ExprError) as exc:
        Guard.parse("inputs.n == 1 '" + "x" * 5000 + "'")
    assert len(str(exc.value)) < 100
