"""Validation of ``assumes``: the server behaviours a flow relies on, and the places that name them.

A flow lists the behaviours it assumes beyond the standards (``assumes: [{id, text, input}]``); a
failure branch (``assumes: [ID]``), a JWT check or a request's documented path (``assumes: ID``),
or a token's format in the lifecycle (``format_assumes: ID``) names the ones it relies on. Every
name must be listed, every ``input`` declared, and each id used once. :func:`assumptions_off` says
which behaviours a run's inputs switch off (verify skips what relies on them, naming the behaviour).
"""

from __future__ import annotations

from typing import Any, Callable

from ..diagnostics import DiagnosticList, quote
from ..model.flow import Flow


def check_assumptions(flow: Flow, diags: DiagnosticList, near: Callable[[str, Any], str | None]) -> None:
    """``near(word, options)``: a did-you-mean hint (graph.Hints.near)."""
    known: dict[str, int] = {}
    for i, a in enumerate(flow.assumes):
        if a.id in known:
            diags.add("duplicate-id", f"assumption id '{a.id}' is used twice", flow.pos("assumes", i, "id"),
                      help="each behaviour a flow assumes has its own id")
        known.setdefault(a.id, i)
        if a.input is not None and a.input not in flow.inputs:
            diags.add("undefined-input", f"assumption '{a.id}' is switched by undeclared input {quote(a.input)}",
                      flow.pos("assumes", i, "input"),
                      help=near(a.input, flow.inputs) or "declare it under inputs, e.g. {default: true}")

    def named(name: str, where: tuple, owner: str) -> None:
        if name not in known:
            hint = near(name, known) or "list the behaviour under 'assumes' ({id, text, input})"
            diags.add("undefined-assumption", f"{owner} assumes {quote(name)}, which the flow's 'assumes' does not "
                      "list", flow.pos(*where), help=hint)

    for i, t in enumerate(flow.transitions):
        for j, f in enumerate(t.failures):
            for k, name in enumerate(f.assumes):
                named(name, ("transitions", i, "failures", j, "assumes", k), f"failure '{f.id}'")
        if t.request is not None and t.request.assumes is not None:
            named(t.request.assumes, ("transitions", i, "request", "assumes"), f"the request of '{t.id}'")
        if t.response is not None:
            for k, jc in enumerate(t.response.jwt):
                if jc.assumes is not None:
                    named(jc.assumes, ("transitions", i, "response", "jwt", k, "assumes"),
                          f"a JWT check of '{t.id}'")
    for name, tok in (flow.lifecycle.tokens.items() if flow.lifecycle is not None else ()):
        if tok.format_assumes is not None:
            named(tok.format_assumes, ("lifecycle", "tokens", name, "format_assumes"), f"the format of token '{name}'")


_FALSE = frozenset({"false", "no", "off", "0", ""})


def assumptions_off(flow: Flow, lookup: Callable[[str], Any]) -> dict[str, str]:
    """The behaviours ``flow`` assumes that the run's inputs switch off: id -> the reason to show.

    ``lookup(name)``: the input's value (None when it has none; then its default counts).
    """
    off: dict[str, str] = {}
    for a in flow.assumes:
        if a.input is None:
            continue
        value = lookup(a.input)
        if value is None:
            inp = flow.inputs.get(a.input)
            value = inp.default if inp is not None else None
        if value is None:
            continue
        if value is False or (isinstance(value, str) and value.strip().lower() in _FALSE) or value == 0:
            off[a.id] = (f"the server under test does not have the behaviour '{a.id}' the flow assumes "
                         f"(input {a.input}={str(value).lower()[:20]}): {' '.join(a.text.split())}")
    return off
