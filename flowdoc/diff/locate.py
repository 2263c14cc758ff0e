"""Where a change stands in a flow file: a change's path (ids) → a YAML path (list positions) → line, column."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..model.flow import Flow

_LIST_KEYS = ("id", "token", "error")  # what identifies an item of a list of models


def yaml_path(flow: Flow, path: tuple) -> tuple:
    """The YAML path of ``path`` in ``flow``, cut where the flow has no such element (e.g. a removed step)."""
    cur: Any = flow
    out: list[Any] = []
    for seg in path:
        if isinstance(cur, BaseModel):
            name = next((n for n, fi in type(cur).model_fields.items() if (fi.alias or n) == seg), None)
            if name is None:
                break
            cur = getattr(cur, name)
        elif isinstance(cur, dict):
            key = seg if seg in cur else next((k for k in cur if str(k).lower() == str(seg).lower()), None)
            if key is None:
                break
            cur, seg = cur[key], key
        elif isinstance(cur, list):
            idx = _index(cur, seg)
            if idx is None:
                break
            cur, seg = cur[idx], idx
        else:
            break
        out.append(seg)
    return tuple(out)


def _index(items: list, seg: Any) -> int | None:
    if isinstance(seg, int) and not isinstance(seg, bool):
        return seg if 0 <= seg < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, BaseModel):
            if any(getattr(item, k, None) == seg for k in _LIST_KEYS):
                return i
        elif item == seg:
            return i
    return None


def position(flow: Flow | None, path: tuple) -> tuple[int, int] | None:
    """(line, column) of the element at ``path`` in the flow's file, or of its nearest enclosing element."""
    if flow is None or flow.source is None:
        return None
    return flow.pos(*yaml_path(flow, path))
