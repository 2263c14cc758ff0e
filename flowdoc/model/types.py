"""Scalars of the flow format: ids, versions, texts, values, durations and the strict base model."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from ..diagnostics import quote as _quote
from .version import SEMVER_PATTERN

# ------------------------------------------------------------------- scalars

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"

Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=80)]
SemVer = Annotated[
    str, Field(pattern=SEMVER_PATTERN, max_length=100, description='Semantic version, always quoted: "1.2.0"')
]
Text = Annotated[str, Field(min_length=1)]
#: A parameter value: text (may hold ${...} references), a number or a boolean.
Value = Union[str, int, float, bool, None]

_DURATION_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_DIGITS = 12  # more is no lifetime, and int() of thousands of digits is refused
_DURATION_HELP = "write seconds or text like 90s, 15m, 1h30m, 30d"


def _scan_duration(text: str) -> int | None:
    """Seconds of ``1d 2h 3m 4s`` (each unit at most once, in this order; spaces anywhere between
    the parts), or None. A linear scan: each character is looked at once."""
    i, n, total, order = 0, len(text), 0, "dhms"
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            return total if order != "dhms" else None
        j = i
        while j < n and "0" <= text[j] <= "9":
            j += 1
        if j == i or j - i > _DURATION_DIGITS:
            return None
        k = j
        while k < n and text[k].isspace():
            k += 1
        unit = text[k] if k < n else ""
        if not unit or unit not in order:
            return None
        total += int(text[i:j]) * _DURATION_UNITS[unit]
        order = order[order.index(unit) + 1:]
        i = k + 1


def parse_duration(v: Any) -> int:
    """``90``, ``"90s"``, ``"15m"``, ``"1h30m"``, ``"30d"`` → seconds."""
    if isinstance(v, bool):
        raise ValueError("a duration is a number of seconds or text like 90s, 15m, 1h, 30d")
    if isinstance(v, int):
        if v < 0:
            raise ValueError("a duration cannot be negative")
        return v
    if isinstance(v, str):
        seconds = _scan_duration(v)
        if seconds is not None:
            return seconds
    raise ValueError(f"{_quote(v)} is not a duration; {_DURATION_HELP}")


def _duration_schema(s: dict[str, Any]) -> None:
    s.clear()
    s.update(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+\s*d\s*)?(\d+\s*h\s*)?(\d+\s*m\s*)?(\d+\s*s\s*)?$"},
            ],
            "description": "Seconds, or text such as 90s, 15m, 1h, 30d",
        }
    )


Duration = Annotated[int, BeforeValidator(parse_duration), Field(json_schema_extra=_duration_schema)]



class Base(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, validate_default=False)
