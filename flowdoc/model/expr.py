"""The small expression language of flow files.

Values
    Any string value may hold references ``${path}``. A path is a dotted name
    rooted at one of:

    * ``inputs.NAME`` — an input of the flow;
    * ``steps.TRANSITION.NAME`` — a value captured by an earlier transition
      (``NAME`` is a capture), or part of its response: ``body.FIELD…``,
      ``headers.NAME``, ``location`` / ``location.query.NAME``, ``cookies.NAME``,
      ``form`` / ``form.action`` / ``form.fields.NAME``, ``status``;
    * a generated value: ``NAME`` or ``NAME.PART`` for an entry of ``generate``
      (``pkce.verifier``, ``pkce.challenge``, ``state``, ``nonce``, ``otp``).

    A string that is exactly one reference keeps the referenced value's type;
    otherwise references are interpolated as text. ``$${`` writes a literal
    ``${``.

Guards
    ``guard.expr`` is a boolean expression over the same paths (without
    ``${}``): comparisons ``== != < <= > >=``, ``in``, ``not``, ``and``, ``or``,
    parentheses, and literals (strings in quotes, numbers, true, false, null).
    Parentheses and ``not`` nest at most :data:`MAX_GUARD_DEPTH` (32) deep and a
    number has at most :data:`MAX_NUMBER_CHARS` characters; longer ``and`` / ``or``
    chains are fine (they are flat).

Both are parsed and evaluated here, by a tiny parser; Python's ``eval`` is
never used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping  # (typing's alias makes isinstance several times slower)
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..diagnostics import quote

RESPONSE_PARTS = ("body", "headers", "location", "cookies", "form", "status")

_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$")

#: Deepest nesting of parentheses and ``not`` in a guard expression.
MAX_GUARD_DEPTH = 32
#: Longest number literal in a guard expression, in characters.
MAX_NUMBER_CHARS = 30


class ExprError(ValueError):
    """An expression that does not parse or cannot be evaluated."""


@dataclass(frozen=True)
class Ref:
    path: tuple[str, ...]
    start: int  # offset in the string
    end: int

    @property
    def text(self) -> str:
        return ".".join(self.path)


def _scan_refs(value: str) -> Iterator[tuple[int, int, str | None]]:
    """``(start, end, inner)`` of each ``${inner}``, and ``(start, end, None)`` of each ``$${`` escape.

    A linear scan, left to right: at each position ``$${`` is an escape, else ``${`` opens a
    reference that ends at the next ``}`` (no ``}`` after it: not a match, the scan goes on).
    """
    i, n = 0, len(value)
    while True:
        i = value.find("$", i)
        if i < 0 or i + 1 >= n:
            return
        if value.startswith("$${", i):
            yield i, i + 3, None
            i += 3
        elif value[i + 1] == "{":
            j = value.find("}", i + 2)
            if j < 0:  # no '}' anywhere after: no reference can close any more
                return
            yield i, j + 1, value[i + 2:j].strip()
            i = j + 1
        else:
            i += 1


def iter_refs(value: str) -> Iterator[Ref]:
    """Yield the ``${...}`` references in a string; raise ExprError on bad ones."""
    if "${" not in value:  # no reference, no escape, nothing unclosed
        return
    rest, last = [], 0
    for start, end, inner in _scan_refs(value):
        rest.append(value[last:start])
        last = end
        if inner is None:
            continue
        if not _PATH.match(inner):
            raise ExprError(f"{quote('${' + inner + '}')} is not a reference; write ${{inputs.NAME}}, "
                            "${steps.ID.NAME} or ${NAME}")
        yield Ref(tuple(inner.split(".")), start, end)
    rest.append(value[last:])
    if "${" in "".join(rest):
        raise ExprError("'${' is not closed; write ${name} or $${ for a literal")


Resolver = Callable[[tuple[str, ...]], Any]


def _parsed(value: str) -> list[Ref]:
    return list(iter_refs(value))


def render(value: Any, resolve: Resolver, refs_of: Callable[[str], Sequence[Ref]] = _parsed) -> Any:
    """Evaluate references in ``value`` (strings inside dicts and lists too). ``refs_of`` gives a
    string's references (default: parsed each time; verify hands a cache of parsed strings)."""
    if isinstance(value, str):
        if "$" not in value:
            return value
        refs = refs_of(value)
        if len(refs) == 1 and refs[0].start == 0 and refs[0].end == len(value):
            return resolve(refs[0].path)
        out, last = [], 0
        for ref in refs:
            out.append(value[last:ref.start])
            v = resolve(ref.path)
            out.append(as_text(v))
            last = ref.end
        out.append(value[last:])
        return "".join(out).replace("$${", "${")
    if isinstance(value, dict):
        return {k: render(v, resolve, refs_of) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, resolve, refs_of) for v in value]
    return value


def as_text(v: Any) -> str:
    """A value as it is sent in a URL, form or header: None is empty, booleans are true/false."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def lookup(data: Any, parts: tuple[str, ...]) -> Any:
    """Walk mappings (and list indexes) by path parts; KeyError when missing."""
    cur = data
    for p in parts:
        if type(cur) is dict or isinstance(cur, Mapping):
            if p not in cur:
                raise KeyError(p)
            cur = cur[p]
        elif isinstance(cur, list) and p.isascii() and p.isdigit() and len(p) < 10 and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise KeyError(p)
    return cur


# ------------------------------------------------------------------- guards

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\(|\))
      | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*)
    )""",
    re.VERBOSE,
)

_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}


def _tokenize(src: str) -> list[tuple[str, Any]]:
    pos = 0
    out: list[tuple[str, Any]] = []
    src = src.rstrip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise ExprError(f"unexpected character {src[pos:].strip()[:1]!r} at column {pos + 1} of the guard")
        pos = m.end()
        if m.group("num"):
            t = m.group("num")
            if len(t) > MAX_NUMBER_CHARS:
                raise ExprError(f"the number at column {m.start('num') + 1} of the guard is longer than "
                                f"{MAX_NUMBER_CHARS} characters")
            out.append(("lit", float(t) if "." in t else int(t)))
        elif m.group("str"):
            out.append(("lit", re.sub(r"\\(.)", r"\1", m.group("str")[1:-1])))
        elif m.group("op"):
            out.append(("op", m.group("op")))
        else:
            name = m.group("name")
            if name in ("true", "false"):
                out.append(("lit", name == "true"))
            elif name == "null":
                out.append(("lit", None))
            elif name in _KEYWORDS:
                out.append(("kw", name))
            else:
                out.append(("ref", tuple(name.split("."))))
    return out


class Guard:
    """A parsed guard expression: ``Guard.parse(src).evaluate(resolve)``."""

    def __init__(self, src: str, ast: tuple[Any, ...]):
        self.src = src
        self.ast = ast

    @classmethod
    def parse(cls, src: str) -> "Guard":
        toks = _tokenize(src)
        if not toks:
            raise ExprError("the guard expression is empty")
        p = _Parser(toks)
        ast = p.or_()
        if p.i != len(toks):
            raise ExprError(f"unexpected {_token(toks[p.i])} in the guard")
        return cls(src, ast)

    def refs(self) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        todo = [self.ast]
        while todo:
            n = todo.pop()
            if n[0] == "ref":
                out.append(n[1])
            elif n[0] != "lit":
                todo.extend(c for c in reversed(n[1:]) if isinstance(c, tuple))
        return out

    def evaluate(self, resolve: Resolver) -> bool:
        return bool(_eval(self.ast, resolve))


class _Parser:
    """Recursive descent; ``(`` and ``not`` nest at most :data:`MAX_GUARD_DEPTH` deep, and
    ``and`` / ``or`` chains are flat nodes, so no guard drives the recursion past that bound."""

    def __init__(self, toks: list[tuple[str, Any]]):
        self.toks, self.i, self.depth = toks, 0, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str, val: Any = None) -> bool:
        t = self.peek()
        if t and t[0] == kind and (val is None or t[1] == val):
            self.i += 1
            return True
        return False

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_GUARD_DEPTH:
            raise ExprError(f"the guard nests parentheses and 'not' more than {MAX_GUARD_DEPTH} deep; "
                            "write it flatter")

    def or_(self) -> tuple[Any, ...]:
        items = [self.and_()]
        while self.take("kw", "or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else ("or", *items)

    def and_(self) -> tuple[Any, ...]:
        items = [self.not_()]
        while self.take("kw", "and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else ("and", *items)

    def not_(self) -> tuple[Any, ...]:
        if self.take("kw", "not"):
            self.nest()
            inner = self.not_()
            self.depth -= 1
            return ("not", inner)
        return self.cmp()

    def cmp(self) -> tuple[Any, ...]:
        left = self.atom()
        t = self.peek()
        if t and t[0] == "op" and t[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            return ("cmp", t[1], left, self.atom())
        if self.take("kw", "in"):
            return ("in", left, self.atom())
        if t == ("kw", "not") and self.i + 1 < len(self.toks) and self.toks[self.i + 1] == ("kw", "in"):
            self.i += 2
            return ("not", ("in", left, self.atom()))
        return left

    def atom(self) -> tuple[Any, ...]:
        t = self.peek()
        if t is None:
            raise ExprError("the guard ends too early")
        if self.take("op", "("):
            self.nest()
            inner = self.or_()
            if not self.take("op", ")"):
                raise ExprError("a '(' in the guard is not closed")
            self.depth -= 1
            return inner
        if t[0] == "lit":
            self.i += 1
            return ("lit", t[1])
        if t[0] == "ref":
            self.i += 1
            return ("ref", t[1])
        raise ExprError(f"unexpected {_token(t)} in the guard")


def _token(tok: tuple[str, Any]) -> str:
    kind, value = tok
    if kind == "ref":
        return quote(".".join(value))
    return quote(value) if kind != "lit" or isinstance(value, str) else quote(as_text(value))


def _kind(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a text", type(None): "null"}.get(
        type(v), f"a {type(v).__name__}")


def _chain(n: tuple[Any, ...], resolve: Resolver) -> Any:
    """``a and b and c`` / ``a or b or c`` as Python does: the first deciding value, or the last."""
    stop = n[0] == "or"  # 'or' stops at a true value, 'and' at a false one
    value: Any = not stop
    for c in n[1:]:
        value = _eval(c, resolve)
        if bool(value) is stop:
            return value
    return value


def _eval(n: tuple[Any, ...], resolve: Resolver) -> Any:
    kind = n[0]
    if kind == "lit":
        return n[1]
    if kind == "ref":
        return resolve(n[1])
    if kind == "not":
        return not _eval(n[1], resolve)
    if kind in ("and", "or"):
        return _chain(n, resolve)
    if kind == "in":
        hay = _eval(n[2], resolve)
        try:
            return _eval(n[1], resolve) in hay
        except TypeError:
            return False
    if kind == "cmp":
        op, a, b = n[1], _eval(n[2], resolve), _eval(n[3], resolve)
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        try:
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        except TypeError as exc:
            # the types only: the values may be secrets (inputs) or a server's answer
            raise ExprError(f"cannot compare {_kind(a)} {op} {_kind(b)}") from exc
    raise ExprError(f"bad expression node {kind}")  # pragma: no cover
