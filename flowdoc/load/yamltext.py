"""The text of a flow file before and around YAML: bytes to text (size, binary, encoding, empty),
and libyaml's syntax errors reported with a position and a fix (tabs, quotes, a ': ' or ',' that
cuts an unquoted value)."""

from __future__ import annotations

from typing import Any

import yaml

from ..diagnostics import DiagnosticList

MAX_BYTES = 4 * 1024 * 1024
Pos = tuple[int, int]  # 1-based line, column


class YamlError(Exception):
    """The file could not be read as YAML; diagnostics are in the list."""


def _pos(mark: Any) -> Pos:
    return (mark.line + 1, mark.column + 1)


def report_syntax(exc: yaml.MarkedYAMLError, text: str, diags: DiagnosticList) -> None:
    mark = exc.problem_mark or exc.context_mark
    pos = _pos(mark) if mark is not None else None
    problem = exc.problem or "invalid YAML"
    message = problem
    if exc.context:
        ctx_pos = _pos(exc.context_mark) if exc.context_mark is not None else None
        where = f" that starts at line {ctx_pos[0]}, column {ctx_pos[1]}" if ctx_pos and ctx_pos != pos else ""
        message = f"{problem} {exc.context}{where}"
    help = None
    if mark is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in line[: mark.column + 1] or "\t" in problem or "'\\t'" in problem:
            help = "YAML does not allow tabs for indentation; indent with spaces"
        elif "quoted scalar" in (exc.context or ""):
            help = "close the quote, or escape a quote inside the value"
        elif "end of stream" in problem:
            help = "a bracket, brace or quote is not closed"
        else:
            help = _colon_help(problem, exc.context or "", line, mark.column)
    if "nesting depth" in problem:  # newer libyaml stops very deep documents itself
        diags.add("yaml-too-deep", f"the document nests too deep ({problem})", pos,
                  help="flatten the structure; flow files need only a few levels")
        return
    diags.add("yaml-syntax", message, pos, help=help)


def _colon_help(problem: str, context: str, line: str, column: int) -> str | None:
    """A ': ' inside an unquoted value: in {...} or [...] it ends the value; in a block it starts a
    mapping the line cannot hold. Either way the value wants quotes."""
    at_colon = line[column:column + 1] == ":" or line[max(column - 1, 0):column] == ":"
    if ("flow mapping" in context or "flow sequence" in context) and (at_colon or "expected ','" in problem):
        return ("an unquoted ': ' or ',' inside a value of {...} or [...] ends the value; quote the value, "
                    'e.g. {when: "error: the token expired, or was revoked"}')
    if "mapping values are not allowed" in problem:
        return 'a value holding ": " must be quoted, e.g. remedy: "Retry later: wait 5 s"'
    return None


def too_large(size: int, diags: DiagnosticList) -> None:
    diags.add(
        "file-too-large",
        f"the file is {size / 1048576:.1f} MiB; flow files are limited to {MAX_BYTES // 1048576} MiB",
        help="split the flow, or check that this is the right file",
    )


def decode(data: bytes, diags: DiagnosticList) -> str:
    """Bytes of a flow file to text, or :class:`YamlError`."""
    if len(data) > MAX_BYTES:
        too_large(len(data), diags)
        raise YamlError()
    if b"\x00" in data[:8192] or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        diags.add("not-text", "the file is binary or not UTF-8 text", help="flow files are UTF-8 YAML")
        raise YamlError()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        diags.add(
            "encoding",
            f"invalid UTF-8 byte 0x{data[exc.start]:02x}",
            (line, col),
            help="save the file as UTF-8",
        )
        raise YamlError() from None
    if text.lstrip()[:1] in ("", "#") and all(not ln.strip() or ln.lstrip().startswith("#")
                                              for ln in text.splitlines()):  # (every line break is a space)
        diags.add("empty-file", "the file is empty", help="start from an example in flows/")
        raise YamlError()
    return text
