"""Diagnostics: one problem found in a flow file, and how to print many of them.

Every stage (load, model, check, lint) reports problems as :class:`Diagnostic`
objects; the CLI only formats them. A diagnostic always names the file, and the
line and column (1-based) whenever the problem has a place in the YAML.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning", "info"]

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


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


@dataclass
class DiagnosticList:
    """Diagnostics collected for one file while it is checked."""

    file: str
    items: list[Diagnostic] = field(default_factory=list)

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

_COLORS = {"error": "\x1b[31;1m", "warning": "\x1b[33;1m", "info": "\x1b[36m"}
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"


def format_text(diags: Iterable[Diagnostic], *, color: bool = False) -> str:
    lines = []
    for d in diags:
        sev = d.severity
        if color:
            head = f"{_BOLD}{d.location}{_RESET}: {_COLORS[sev]}{sev}[{d.code}]{_RESET}: {d.message}"
        else:
            head = f"{d.location}: {sev}[{d.code}]: {d.message}"
        lines.append(head)
        if d.help:
            lines.append(f"    help: {d.help}")
    return "\n".join(lines)


def format_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diags], indent=2, ensure_ascii=False)


def _gh_escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
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

