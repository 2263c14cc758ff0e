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
