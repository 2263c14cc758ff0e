"""flowdoc ``${...}`` values → Arazzo runtime expressions, and the small text helpers both ways.

A flow value is a literal, or text with ``${inputs.X}``, ``${steps.T.NAME}``, a generated value
or a required flow's value. Arazzo writes ``$inputs.X`` for a whole value and ``{$inputs.X}``
inside text. What Arazzo cannot say (a generated PKCE pair, a value of a step that was left out)
raises :class:`Unexpressible` with the reason, so the caller can leave the step out and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..model.expr import RESPONSE_PARTS, ExprError, as_text, iter_refs
from ..model.flow import Flow

# characters with a meaning in ECMA-262 and Python regular expressions
_REGEX_SPECIAL = frozenset("\\^$.*+?()[]{}|/-")


class Unexpressible(Exception):
    """Arazzo has no way to say this; ``kind`` is a stable short name, the message says why."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class LeftOut(Exception):
    """A step that cannot run in Arazzo, with every reason found."""

    def __init__(self, reasons: list[Unexpressible]):
        seen: dict[tuple[str, str], Unexpressible] = {}
        for r in reasons:
            seen.setdefault((r.kind, r.reason), r)
        self.reasons = list(seen.values())
        super().__init__("; ".join(r.reason for r in self.reasons))


def json_pointer(parts: list[str] | tuple[str, ...]) -> str:
    """``("a", "b/c")`` → ``/a/b~1c`` (RFC 6901)."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def unpointer(pointer: str) -> list[str]:
    """``/a/b~1c`` → ``["a", "b/c"]``; the inverse of :func:`json_pointer`."""
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def regex_literal(text: str) -> str:
    """Escape text for an anchored regex that reads the same in ECMA-262 and Python."""
    out = []
    for ch in text:
        if ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def regex_unliteral(pattern: str) -> str | None:
    """The text an anchored literal pattern ``^...$`` matches exactly, or None if it is no such literal."""
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        return None
    body, out, i = pattern[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if body[i + 1:i + 2] == "u" and len(body) >= i + 6:
                try:
                    out.append(chr(int(body[i + 2:i + 6], 16)))
                except ValueError:
                    return None
                i += 6
                continue
            nxt = body[i + 1:i + 2]
            if nxt not in _REGEX_SPECIAL:
                return None
            out.append(nxt)
            i += 2
        elif ch in _REGEX_SPECIAL:
            return None
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def case_insensitive(text: str) -> str:
    """A regex for ``text`` in any letter case, without flags (``json`` → ``[Jj][Ss][Oo][Nn]``)."""
    out = []
    for ch in text:
        if ch.isalpha() and ch.lower() != ch.upper():
            out.append(f"[{ch.upper()}{ch.lower()}]")
        else:
            out.append(regex_literal(ch))
    return "".join(out)


def jsonpath_member(parts: list[str] | tuple[str, ...]) -> str:
    """``("a", "b-c")`` → ``@.a['b-c']`` for a JSONPath filter."""
    out = ["@"]
    for p in parts:
        if p.isidentifier() and p.isascii():
            out.append("." + p)
        else:
            out.append("['" + p.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(out)


@dataclass
class Scope:
    """What one workflow can refer to while its steps are translated, in order."""

    flow: Flow
    #: transition id → step id of its latest ordinary exchange in this workflow
    steps: dict[str, str] = field(default_factory=dict)
    #: step id → its outputs (name → expression); auto outputs are added here
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    #: step id → transition id, for reasons
    left_out: dict[str, str] = field(default_factory=dict)
    #: input name → JSON Schema of the workflow input
    inputs: dict[str, dict] = field(default_factory=dict)
    input_schema: Callable[[str], dict] | None = None

    def step_output(self, transition: str, rest: tuple[str, ...]) -> str:
        """``$steps.S.outputs.NAME`` for ``${steps.T.<rest>}``; adds an output for a response part."""
        step = self.steps.get(transition)
        if step is None:
            why = "was left out" if transition in self.left_out.values() else "does not run before it"
            raise Unexpressible("depends", f"needs a value of step '{transition}', which {why}")
        outs = self.outputs.setdefault(step, {})
        if len(rest) == 1 and rest[0] in outs:
            return f"$steps.{step}.outputs.{rest[0]}"
        t = self.flow.transition_map.get(transition)
        caps = t.response.capture if t is not None and t.response is not None else {}
        if len(rest) == 1 and rest[0] in caps:
            raise Unexpressible("depends", f"needs the value '{rest[0]}' that step '{transition}' captures, "
                                "which Arazzo cannot capture")
        if rest and rest[0] in RESPONSE_PARTS:
            name = "_".join(rest)
            outs[name] = response_expression(rest)
            return f"$steps.{step}.outputs.{name}"
        raise Unexpressible("depends", f"step '{transition}' has no value '{'.'.join(rest)}'")


def response_expression(parts: tuple[str, ...] | list[str]) -> str:
    """A capture source (``body.a.b``, ``headers.X``, ``status``) → Arazzo runtime expression."""
    head, rest = parts[0], list(parts[1:])
    if head == "status" and not rest:
        return "$statusCode"
    if head == "body":
        return "$response.body" + ("#" + json_pointer(rest) if rest else "")
    if head == "headers" and len(rest) == 1:
        return f"$response.header.{rest[0]}"
    if head == "location":
        raise Unexpressible("redirect", "reads the Location of a redirect, which Respect follows")
    if head == "cookies":
        raise Unexpressible("cookie", "reads a cookie; Arazzo cannot take a value out of Set-Cookie")
    if head == "form":
        raise Unexpressible("html-form", "reads an HTML form from the page")
    raise Unexpressible("capture", f"'{'.'.join(parts)}' has no Arazzo runtime expression")


class Translator:
    """Translate flow values for one step of one workflow (with the failure's input overrides)."""

    def __init__(self, scope: Scope, overrides: dict[str, Any] | None = None,
                 problems: list[Unexpressible] | None = None):
        self.scope = scope
        self.overrides = overrides or {}
        #: when a list: what cannot be expressed is collected here (and a placeholder returned)
        self.problems = problems

    def ref(self, path: tuple[str, ...]) -> tuple[bool, Any]:
        """A reference → (is_literal, value)."""
        try:
            return self._ref(path)
        except Unexpressible as exc:
            if self.problems is None:
                raise
            self.problems.append(exc)
            return False, "$unexpressible"

    def _ref(self, path: tuple[str, ...]) -> tuple[bool, Any]:
        flow, root = self.scope.flow, path[0]
        if root == "inputs" and len(path) == 2:
            name = path[1]
            if name in self.overrides:
                return self._override(name)
            if name not in flow.inputs:
                raise Unexpressible("input", f"refers to input '{name}', which the flow does not declare")
            self._use_input(name)
            return False, f"$inputs.{name}"
        if root == "steps" and len(path) >= 3:
            return False, self.scope.step_output(path[1], path[2:])
        if root in flow.generate:
            kind = flow.generate[root].kind.value
            raise Unexpressible("generated", f"uses the generated value ${{{'.'.join(path)}}} ({kind}); "
                                "Arazzo cannot generate values")
        if root in flow.requires and len(path) == 2:
            name = f"{root}_{path[1]}"
            self._use_input(name)
            return False, f"$inputs.{name}"
        raise Unexpressible("reference", f"'${{{'.'.join(path)}}}' has no Arazzo counterpart")

    def _override(self, name: str) -> tuple[bool, Any]:
        raw = self.overrides[name]
        inner = Translator(self.scope, problems=self.problems)
        if isinstance(raw, str) and "${" in raw:
            return False, inner.value(raw)
        return True, raw

    def _use_input(self, name: str) -> None:
        if name not in self.scope.inputs and self.scope.input_schema is not None:
            self.scope.inputs[name] = self.scope.input_schema(name)

    def value(self, v: Any) -> Any:
        """A flow value → an Arazzo value (literal, ``$expr`` or text with ``{$expr}``)."""
        if isinstance(v, dict):
            return {k: self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, str) or "$" not in v:
            return v
        try:
            refs = list(iter_refs(v))
        except ExprError as exc:
            self._problem(Unexpressible("reference", str(exc)))
            return v
        if len(refs) == 1 and refs[0].start == 0 and refs[0].end == len(v):
            return self.ref(refs[0].path)[1]
        parts, last = [], 0
        for r in refs:
            parts.append(v[last:r.start].replace("$${", "${"))
            literal, got = self.ref(r.path)
            parts.append(as_text(got) if literal else "{" + got + "}")
            last = r.end
        parts.append(v[last:].replace("$${", "${"))
        out = "".join(parts)
        if out.startswith("$"):
            self._problem(Unexpressible("literal", f"the value '{out[:40]}' starts with '$', which Arazzo reads "
                                        "as a runtime expression (Arazzo has no escape for it)"))
        return out

    def _problem(self, problem: Unexpressible) -> None:
        if self.problems is None:
            raise problem
        self.problems.append(problem)

    def text(self, v: Any) -> Any:
        """Like :meth:`value`, for a value sent as text (numbers and booleans become strings)."""
        out = self.value(v)
        return as_text(out) if isinstance(out, (bool, int, float)) or out is None else out
