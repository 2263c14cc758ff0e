"""Output of ``flowdoc diff``: text, markdown, json and GitHub workflow annotations.

Every change is placed at the line of the changed element in the NEW file (for a removed element: the
nearest enclosing element that still exists), through the YAML source map.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

from ..diagnostics import Diagnostic, format_github
from ..model.flow import Flow
from . import highest_level, required_bump
from .changes import KINDS, LEVEL_RANK, LEVELS, Change
from .locate import position

FORMATS = ("text", "markdown", "json", "github")

#: How a change level shows as a diagnostic severity (GitHub: error / warning / notice).
SEVERITY = {"breaking": "error", "warning": "warning", "info": "info"}

_COLORS = {"breaking": "\x1b[31;1m", "warning": "\x1b[33;1m", "info": "\x1b[36m"}
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"


def by_level(changes: Iterable[Change]) -> list[Change]:
    """Most severe first; document order within a level."""
    return sorted(changes, key=lambda c: -LEVEL_RANK[c.level])


def counts(changes: Iterable[Change]) -> dict[str, int]:
    n = Counter(c.level for c in changes)
    return {lvl: n.get(lvl, 0) for lvl in LEVELS}


def summary_line(changes: list[Change], old: Flow, new: Flow) -> str:
    head = f"{new.id} {old.version or '(no version)'} → {new.version or '(no version)'}"
    if not changes:
        return f"{head}: no semantic changes"
    n = counts(changes)
    parts = [f"{n['breaking']} breaking", f"{n['warning']} warning{'s' if n['warning'] != 1 else ''}", f"{n['info']} info"]
    return f"{head}: {', '.join(parts)}; needs at least a {required_bump(changes)} version bump"


def located(changes: Iterable[Change], new: Flow, file: str) -> list[tuple[Change, str, int | None, int | None]]:
    out = []
    for c in changes:
        pos = position(new, c.path)
        out.append((c, file, pos[0] if pos else None, pos[1] if pos else None))
    return out


def as_diagnostics(changes: Iterable[Change], new: Flow, file: str) -> list[Diagnostic]:
    """Changes as diagnostics at their place in the new file (code = change id)."""
    return [
        Diagnostic(f, line, col, c.id, f"{c.message} ({c.level})", SEVERITY[c.level])  # type: ignore[arg-type]
        for c, f, line, col in located(changes, new, file)
    ]


def format_text(changes: list[Change], old: Flow, new: Flow, file: str, *, color: bool = False,
                explain: bool = False) -> str:
    lines = []
    for c, f, line, col in located(by_level(changes), new, file):
        where = f"{f}:{line}:{col}" if line is not None else f
        if color:
            lines.append(f"{_BOLD}{where}{_RESET}: {_COLORS[c.level]}{c.level}[{c.id}]{_RESET}: {c.message}")
        else:
            lines.append(f"{where}: {c.level}[{c.id}]: {c.message}")
        if explain:
            lines.append(f"    why: {c.why}")
    lines.append(summary_line(changes, old, new))
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")


def format_markdown(changes: list[Change], old: Flow, new: Flow, file: str) -> str:
    out = [f"## {_md(new.title)} (`{new.id}`): {old.version or '?'} → {new.version or '?'}", ""]
    if not changes:
        out += ["No semantic changes.", ""]
        return "\n".join(out)
    n = counts(changes)
    out += [
        f"**Needs at least a {required_bump(changes)} version bump**: {n['breaking']} breaking, "
        f"{n['warning']} warning{'s' if n['warning'] != 1 else ''}, {n['info']} info.",
        "",
    ]
    titles = {"breaking": "Breaking changes", "warning": "Warnings (may break)", "info": "Other changes"}
    rows = located(changes, new, file)
    for level in LEVELS:
        mine = [r for r in rows if r[0].level == level]
        if not mine:
            continue
        out += [f"### {titles[level]}", "", "| Change | What changed | Where |", "|---|---|---|"]
        for c, _f, line, _col in mine:
            where = f"`{_md(c.where)}`" + (f" (line {line})" if line is not None else "")
            out.append(f"| `{c.id}` | {_md(c.message)} | {where} |")
        out.append("")
    return "\n".join(out)


def _side(flow: Flow, label: str) -> dict[str, Any]:
    return {"file": label, "id": flow.id, "version": flow.version}


def format_json(changes: list[Change], old: Flow, new: Flow, file: str, *, old_label: str = "",
                new_label: str = "") -> str:
    doc = {
        "old": _side(old, old_label or old.file),
        "new": _side(new, new_label or new.file),
        "required_bump": required_bump(changes),
        "highest_level": highest_level(changes),
        "counts": counts(changes),
        "changes": [
            {**c.to_dict(), "file": f, "line": line, "col": col} for c, f, line, col in located(changes, new, file)
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def format_github_annotations(changes: list[Change], old: Flow, new: Flow, file: str) -> str:
    text = format_github(as_diagnostics(by_level(changes), new, file))
    summary = Diagnostic(file, None, None, "flowdoc-diff", summary_line(changes, old, new), "info")
    return (text + "\n" if text else "") + format_github([summary]) + "\n"


def render(fmt: str, changes: list[Change], old: Flow, new: Flow, *, file: str, old_label: str = "",
           new_label: str = "", color: bool = False) -> str:
    """``file`` is where annotations point (the new file's path); the labels name the two sides."""
    if fmt == "text":
        return format_text(changes, old, new, file, color=color)
    if fmt == "markdown":
        return format_markdown(changes, old, new, file)
    if fmt == "json":
        return format_json(changes, old, new, file, old_label=old_label, new_label=new_label)
    if fmt == "github":
        return format_github_annotations(changes, old, new, file)
    raise ValueError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")


def kinds_table(fmt: str = "text") -> str:
    """Every change kind: id, level, what it is and why it has its level."""
    if fmt == "markdown":
        out = ["| Id | Level | Change | Why this level |", "|---|---|---|---|"]
        out += [f"| `{k.id}` | {k.level} | {_md(k.summary)} | {_md(k.why)} |" for k in KINDS]
        return "\n".join(out) + "\n"
    if fmt == "json":
        return json.dumps([{"id": k.id, "level": k.level, "adds": k.adds, "summary": k.summary, "why": k.why}
                           for k in KINDS], indent=2) + "\n"
    return "".join(f"{k.id}\t{k.level}\t{k.summary} {k.why}\n" for k in KINDS)
