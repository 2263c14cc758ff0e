"""YAML pitfalls get hints: an unquoted comma or ': ' inside a flow mapping says to quote the value,
instead of an unknown key with a did-you-mean; detection is one pass over libyaml's events."""

from __future__ import annotations

import time

from tests.flowkit import diagnose

HEAD = """\
id: x
title: A flow
actors: {a: {name: A, kind: client}}
states: [{id: s, initial: true}, {id: e, terminal: true}]
transitions:
"""


def _one(line: str):
    return diagnose(HEAD + line)


def test_an_unquoted_comma_in_a_flow_mapping_says_to_quote_the_value():
    diags = _one("  - {id: t, from: s, to: e, by: a -> a, title: Do it, action: x, "
                 "failures: [{id: f, when: a rotated, refresh token held, remedy: x, response: {status: 400}}]}\n")
    [d] = [d for d in diags if d.code == "unknown-key"]
    assert d.message == "unknown key 'refresh token held' in transitions[0].failures[0]"
    assert "quote the value: when: \"..., refresh token held\"" in d.help
    assert "did you mean" not in d.help
    assert d.line == 6 and d.col


def test_a_comma_followed_by_a_colon_says_to_quote_too():
    diags = _one("  - {id: t, from: s, to: e, by: a -> a, title: Do it, action: x, "
                 "failures: [{id: f, when: the token, expired: yes really, remedy: x, response: {status: 400}}]}\n")
    [d] = [d for d in diags if d.code == "unknown-key"]
    assert "unknown key 'expired'" in d.message and "quote the value: when:" in d.help


def test_a_typo_after_an_unquoted_value_keeps_its_did_you_mean():
    diags = _one("  - {id: t, from: s, to: e, by: a -> a, title: Do it, action: x, "
                 "failures: [{id: f, when: it fails, remdy: x, response: {status: 400}}]}\n")
    d = next(d for d in diags if d.code == "unknown-key")
    assert d.help == "did you mean 'remedy'?"


def test_a_quoted_value_or_block_style_is_no_cut():
    diags = _one("  - {id: t, from: s, to: e, by: a -> a, title: Do it, action: x, "
                 "failures: [{id: f, when: \"a, b\", remdy: x, response: {status: 400}}]}\n")
    assert next(d for d in diags if d.code == "unknown-key").help == "did you mean 'remedy'?"


def test_an_unquoted_colon_in_a_flow_mapping_is_a_syntax_error_with_the_fix():
    line = "  - {id: t, from: s, to: e, by: a -> a, title: error: bad, action: x}"
    [d] = _one(line + "\n")
    assert d.code == "yaml-syntax" and (d.line, d.col) == (6, line.index("error:") + len("error:"))  # at the ':'
    assert "quote the value" in d.help


def test_an_unquoted_colon_in_a_block_value_says_to_quote():
    [d] = diagnose("id: x\ntitle: Retry later: wait 5 s\n")
    assert d.code == "yaml-syntax" and d.line == 2
    assert 'must be quoted, e.g. remedy: "Retry later: wait 5 s"' in d.help


def test_many_cut_values_are_read_in_linear_time():
    """A hang guard, not a benchmark: 20,000 cut values in one mapping are read at once."""
    big = "{" + ", ".join(f"k{i}: a, b{i}" for i in range(20_000)) + "}"
    started = time.monotonic()
    diags = diagnose(HEAD.replace("title: A flow", f"title: A flow\ntags: {big}"))
    assert time.monotonic() - started < 30
    assert diags
