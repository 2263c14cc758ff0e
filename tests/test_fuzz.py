"""Hypothesis: mutated example flows give clean diagnostics, never an exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdoc.check import check_graph, run_lint
from flowdoc.load import read_flow_text

TEXTS = [p.read_text() for p in sorted(Path("flows").glob("*.yaml"))]
NASTY = [":", "- ", "{", "}", "[", "]", "'", '"', "\t", "&a", "*a", "!!python/object:os.system", "---", "yes",
         "0755", "1.10", "${", "${inputs.x}", "\x00", "\ufeff", "é", "%", "#", "? ", "|", ">", "~", "null", "\n"]


def _check(text: str | bytes) -> None:
    flow, diags = read_flow_text(text, "fuzz.yaml")
    if flow is not None:
        check_graph(flow, diags)
        if not diags.errors:
            run_lint(flow, diags)
    for d in diags.items:
        assert d.file == "fuzz.yaml" and d.code and d.message
        assert d.line is None or (d.line >= 1 and d.col >= 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TEXTS), st.data())
def test_text_mutations(text, data):
    n = data.draw(st.integers(1, 4))
    for _ in range(n):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.sampled_from(NASTY) | st.text(max_size=3))
        if op == "insert":
            text = text[:pos] + piece + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 40)):]
        else:
            text = text[:pos] + piece + text[pos + len(piece):]
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TEXTS), st.data())
def test_line_mutations(text, data):
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["drop", "dup", "dedent", "indent", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "dedent":
            lines[i] = lines[i][2:]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        else:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            break
    _check("\n".join(lines))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(data):
    _check(data)
