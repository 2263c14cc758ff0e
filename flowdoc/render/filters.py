"""The filters of page templates (``md``, ``date``, ``inputs_linked``, ``plain_cell``,
``value_cell``, ``blockquote``) and the tidying of a rendered page. Every escape comes from
:mod:`flowdoc.escape`."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from .. import escape

__all__ = ["blockquote", "cell", "code_cell", "code_cells", "date", "inputs_linked", "md_prose", "plain_cell", "tidy",
           "value_cell"]


def md_prose(text: Any) -> str:
    return "" if text is None else escape.md_text(str(text))


def cell(value: Any) -> str:
    """Author text for a table cell; an empty cell reads "—"."""
    return escape.md_cell(value) if value not in (None, "") else "—"


def code_cell(value: Any) -> str:
    """Code for a table cell; an empty cell reads "—"."""
    return escape.md_code_cell(value) if value not in (None, "") else "—"


def code_cells(values: Any) -> str:
    """Each value as ``code_cell``, joined by ", " (``params|map("code_cell")|join(", ")`` in one filter)."""
    return ", ".join([code_cell(v) for v in values])


def date(v: Any) -> str:
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    return "" if v is None else escape.md_text(str(v))


_PLACEHOLDER = re.compile(r"«([A-Za-z0-9][A-Za-z0-9_.\-]{0,200})»")


def inputs_linked(markdown: str, names: Any) -> str:
    """Escaped Markdown with each «NAME» of an input as a link to the page's Inputs table."""
    known = set(names or ())
    if "«" not in markdown or not known:
        return markdown
    return _PLACEHOLDER.sub(lambda m: f"[{m.group(0)}](#inputs)" if m.group(1) in known else m.group(0), markdown)


def plain_cell(value: Any) -> str:
    """A table cell of generated text (a response, a URL in words): like ``cell``, but a URL in
    it (an example value) is not made a link."""
    if value in (None, ""):
        return "—"
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "<br>".join(escape.md_text(line.strip(), autolink=False) for line in lines)


def value_cell(value: Any, names: Any) -> str:
    """A value for a table cell: code, with each «NAME» of an input as a link to the Inputs table."""
    if value in (None, ""):
        return "—"
    text, known = str(value), set(names or ())
    out, last = [], 0
    for m in _PLACEHOLDER.finditer(text):
        if m.group(1) not in known:
            continue
        if text[last:m.start()].strip():
            out.append(escape.md_code_cell(text[last:m.start()]))
        out.append(f"[{m.group(0)}](#inputs)")
        last = m.end()
    if text[last:].strip():
        out.append(escape.md_code_cell(text[last:]))
    return "".join(out) or "—"


def blockquote(text: str) -> str:
    lines = str(text).strip("\n").split("\n")
    return "\n".join(("> " + line) if line.strip() else ">" for line in lines) + "\n"


def tidy(text: str) -> str:
    """At most one blank line in a row outside code fences; one newline at the end."""
    out: list[str] = []
    fence = ""
    blank = True  # the last line kept is blank, or none is kept yet: a blank line is dropped
    for line in text.split("\n"):
        if fence:
            out.append(line)
            if line.startswith(fence) and not line[len(fence):].strip(" `~\t"):
                fence = ""
        elif not line or line.isspace():
            if not blank:
                blank = True
                out.append("")
        else:
            if line[0] in " `~":  # only such a line can open a fence
                fence = _fence_opened(line)
            blank = False
            out.append(line)
    return _trim_end("\n".join(out)) + "\n"


def _fence_opened(line: str) -> str:
    """The fence a line opens (three or more backticks or tildes after at most three spaces), or ""."""
    stripped = line.lstrip(" ")
    if stripped.startswith(("```", "~~~")) and len(line) - len(stripped) < 4:
        return stripped[: len(stripped) - len(stripped.lstrip(stripped[0]))]
    return ""


def _trim_end(text: str) -> str:
    """``text`` without the blank lines at its end (each line looked at once)."""
    end = len(text)
    while True:
        cut = text.rfind("\n", 0, end)
        if text[cut + 1:end].strip():
            return text[:end]
        if cut == -1:
            return ""
        end = cut
