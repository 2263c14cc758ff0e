"""Diagnostics: one problem found in a flow file, and how to print many of them.

Every stage (load, model, check, lint) reports problems as :class:`Diagnostic`
objects; the CLI only formats them. A diagnostic always names the file, and the
line and column (1-based) whenever the problem has a place in the YAML.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning", "info"]

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

#: Longest piece of author text a message quotes; longer ones are cut with an ellipsis.
QUOTE_LIMIT = 60


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``'value'`` for a message: one token of the flow, cut to ``limit`` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


# C0 and C1 controls, DEL, and the Unicode line separators and bidirectional
# controls that reorder or hide text on a terminal or a web page.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
#: What json.dumps leaves raw: DEL, C1 controls, separators and bidi controls (it escapes C0 itself).
_JSON_RAW = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match) -> str:
    c = m.group(0)
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def escape_control(text: str) -> str:
    """Control characters as visible escapes (``\\r``, ``\\x1b``, ``\\u202e``): a message never
    moves the cursor, sets a terminal title or reorders text, whatever a flow key holds."""
    return _CONTROL.sub(_escape_char, text)


@dataclass(frozen=True, order=False)
class Diagnostic:
    file: str
    line: int | None
    col: int | None
    code: str
    message: str
    severity: Severity = "error"
    help: str | None = None

    @property
    def location(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.col or 1}"

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.col or 0, _SEVERITY_ORDER[self.severity], self.code)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Suppressed:
    """A lint finding a flow switched off (``lint: {disable: [...], reason: ...}``), with the reason."""

    diagnostic: Diagnostic
    reason: str

    def to_dict(self) -> dict:
        return {**self.diagnostic.to_dict(), "reason": self.reason}


@dataclass
class DiagnosticList:
    """Diagnostics collected for one file while it is checked (and the lint findings it suppressed)."""

    file: str
    items: list[Diagnostic] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        pos: tuple[int, int] | None = None,
        *,
        severity: Severity = "error",
        help: str | None = None,
    ) -> None:
        line, col = pos if pos else (None, None)
        self.items.append(Diagnostic(self.file, line, col, code, message, severity, help))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]


class FlowError(Exception):
    """Raised by the library when a flow cannot be loaded; carries the diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(format_text(self.diagnostics, color=False) if first else "invalid flow")


# ---------------------------------------------------------------- formatting

#: problems with a path given to a command (it does not exist, or holds no flow file), not with a file read
PATH_CODES = frozenset({"not-found", "no-flows"})


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(diags: Iterable[Diagnostic], nfiles: int) -> str:
    """The closing line of a check: ``2 errors, 1 warning in 1 of 3 files``.

    ``nfiles`` counts the files read; a path that does not exist or holds no flow file is
    counted as such, never as a file (``1 error: 1 path not found``)."""
    diags = list(diags)
    if not diags:
        return f"{_count(nfiles, 'file')} checked, no problems"
    counts = Counter(d.severity for d in diags)
    head = ", ".join(_count(n, sev) for sev, n in sorted(counts.items()))
    missing = len({d.file for d in diags if d.code == "not-found"})
    tail = ([_count(missing, "path") + " not found"] if missing else []) + (
        ["no flow files found"] if any(d.code == "no-flows" for d in diags) else [])
    files_bad = len({d.file for d in diags if d.code not in PATH_CODES})
    if files_bad or nfiles or not tail:
        return "; ".join([f"{head} in {files_bad} of {_count(nfiles, 'file')}"] + tail)
    return f"{head}: " + "; ".join(tail)


_COLORS = {"error": "\x1b[31;1m", "warning": "\x1b[33;1m", "info": "\x1b[36m"}
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"


def format_text(diags: Iterable[Diagnostic], *, color: bool = False) -> str:
    """One problem a line (and its help below), control characters escaped."""
    lines = []
    for d in diags:
        sev = d.severity
        where, code, message = escape_control(d.location), escape_control(d.code), escape_control(d.message)
        if color:
            head = f"{_BOLD}{where}{_RESET}: {_COLORS[sev]}{sev}[{code}]{_RESET}: {message}"
        else:
            head = f"{where}: {sev}[{code}]: {message}"
        lines.append(head)
        if d.help:
            lines.append(f"    help: {escape_control(d.help)}")
    return "\n".join(lines)


def format_suppressed(items: Iterable[Suppressed]) -> str:
    """The findings a flow switched off: where, the rule, the message, and the reason given."""
    lines = []
    for s in items:
        d = s.diagnostic
        lines.append(f"{escape_control(d.location)}: suppressed[{escape_control(d.code)}]: {escape_control(d.message)}")
        lines.append(f"    reason: {escape_control(s.reason)}")
    return "\n".join(lines)


def _json_char(m: re.Match) -> str:
    return f"\\u{ord(m.group(0)):04x}"


def format_json(diags: Iterable[Diagnostic], suppressed: Iterable[Suppressed] | None = None) -> str:
    """JSON; the values are the messages as they are, with every control character a \\u escape.
    A list of diagnostics; with ``suppressed``, ``{"diagnostics": [...], "suppressed": [...]}``."""
    data: object = [d.to_dict() for d in diags]
    if suppressed is not None:
        data = {"diagnostics": data, "suppressed": [s.to_dict() for s in suppressed]}
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _JSON_RAW.sub(_json_char, text)


def _gh_escape(value: str, *, prop: bool = False) -> str:
    value = escape_control(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(diags: Iterable[Diagnostic]) -> str:
    """GitHub workflow commands: each problem shows on the pull request's line."""
    kind = {"error": "error", "warning": "warning", "info": "notice"}
    out = []
    for d in diags:
        props = [f"file={_gh_escape(d.file, prop=True)}"]
        if d.line is not None:
            props.append(f"line={d.line}")
            props.append(f"col={d.col or 1}")
        props.append(f"title={_gh_escape(d.code, prop=True)}")
        msg = d.message + (f" (help: {d.help})" if d.help else "")
        out.append(f"::{kind[d.severity]} {','.join(props)}::{_gh_escape(msg)}")
    return "\n".join(out)

