"""How the old and new values of a change are shown: in messages (:func:`show`) and in JSON (:func:`jsonable`)."""

from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Any

from pydantic import BaseModel

__all__ = ["Shown", "jsonable", "show"]


class Shown(str):
    """A value already written for people (e.g. a duration "15m"): messages show it unquoted."""


def show(value: Any) -> str:
    """A value as a message shows it."""
    if isinstance(value, Shown):
        return str(value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(show(v) for v in value) or "none"
    if isinstance(value, BaseModel):
        return show(value.model_dump(mode="json", by_alias=True, exclude_defaults=True))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Shown):
        return str(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value
