"""A small block-YAML writer that can put ``# comments`` above keys (PyYAML drops comments).

Values are dicts, lists and scalars; wrap a value in :class:`Commented` to write comment lines
above its key or list item. Scalars are written by PyYAML's safe emitter (so quoting follows
YAML's rules), or as JSON strings when that would span lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml


@dataclass
class Commented:
    value: Any
    comments: list[str]


@dataclass
class Quoted:
    """A string always written in quotes (a version such as "1.0.0")."""

    value: str


def scalar(v: Any) -> str:
    if isinstance(v, Quoted):
        return json.dumps(v.value, ensure_ascii=False)
    if isinstance(v, str) and ("\n" in v or "\r" in v or any(ord(c) < 0x20 for c in v)):
        return json.dumps(v, ensure_ascii=False)
    text = yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, width=1 << 30).strip()
    if text.endswith("\n..."):
        text = text[:-4].rstrip()
    elif text.endswith("..."):
        text = text[:-3].rstrip()
    if "\n" in text:
        return json.dumps(v, ensure_ascii=False) if isinstance(v, str) else json.dumps(v)
    return text


def _comments(lines: list[str], comments: list[str], indent: int) -> None:
    for c in comments:
        for part in c.splitlines() or [""]:
            lines.append(" " * indent + ("# " + part if part else "#"))


def _inline(v: Any) -> str | None:
    """The one-line form of a value, or None when it needs a block."""
    if isinstance(v, dict):
        return "{}" if not v else None
    if isinstance(v, list):
        if not v:
            return "[]"
        if all(not isinstance(x, (dict, list, Commented)) for x in v):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        return None
    return scalar(v)


def emit(value: dict, indent: int = 0) -> str:
    lines: list[str] = []
    _mapping(lines, value, indent)
    return "\n".join(lines) + "\n"


def _mapping(lines: list[str], value: dict, indent: int, first_prefix: str | None = None) -> None:
    for i, (k, v) in enumerate(value.items()):
        pad = " " * indent
        if isinstance(v, Commented):
            _comments(lines, v.comments, indent)
            v = v.value
        key = scalar(str(k))
        lead = (first_prefix if (i == 0 and first_prefix is not None) else pad)
        one = _inline(v)
        if one is not None:
            lines.append(f"{lead}{key}: {one}")
        elif isinstance(v, dict):
            lines.append(f"{lead}{key}:")
            _mapping(lines, v, indent + 2)
        else:
            lines.append(f"{lead}{key}:")
            _sequence(lines, v, indent + 2)


def _sequence(lines: list[str], value: list, indent: int) -> None:
    pad = " " * indent
    for item in value:
        if isinstance(item, Commented):
            _comments(lines, item.comments, indent)
            item = item.value
        one = _inline(item)
        if one is not None:
            lines.append(f"{pad}- {one}")
        elif isinstance(item, dict):
            _mapping(lines, item, indent + 2, first_prefix=pad + "- ")
        else:
            lines.append(f"{pad}-")
            _sequence(lines, item, indent + 2)
