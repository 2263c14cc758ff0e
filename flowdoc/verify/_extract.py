"""Reading values out of a response: ``body.x``, ``headers.NAME``, ``location``, its query and
fragment parameters, ``cookies.NAME``, ``form``, ``status``; captures and step values built on them.

Every reader returns :data:`MISSING` when the part is absent; nothing here raises for a hostile body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import httpx

from ..model.expr import lookup
from ..model.flow import Capture
from ._outcomes import MissingValue
from ._received import Received
from ._redact import Redactor

MISSING: Any = object()

Reader = Callable[[Received, tuple[str, ...], "httpx.Cookies | None"], Any]
_READERS: dict[str, Reader] = {}


def _reader(head: str) -> Callable[[Reader], Reader]:
    def register(fn: Reader) -> Reader:
        _READERS[head] = fn
        return fn

    return register


@_reader("status")
def _status(got: Received, rest: tuple[str, ...], jar: httpx.Cookies | None) -> Any:
    return got.status


@_reader("body")
def _body(got: Received, rest: tuple[str, ...], jar: httpx.Cookies | None) -> Any:
    body = got.json if got.json is not None else got.text
    return lookup(body, rest) if rest else body


@_reader("headers")
def _headers(got: Received, rest: tuple[str, ...], jar: httpx.Cookies | None) -> Any:
    value = got.headers.get(rest[0]) if rest else None
    return MISSING if value is None else value


@_reader("location")
def _location(got: Received, rest: tuple[str, ...], jar: httpx.Cookies | None) -> Any:
    if not rest:
        return got.location if got.location is not None else MISSING
    if rest[0] == "query" and len(rest) == 2:
        return got.location_query.get(rest[1], MISSING)
    if rest[0] == "fragment" and len(rest) == 2:
        return got.location_fragment.get(rest[1], MISSING)
    return MISSING


@_reader("cookies")
def _cookies(got: Received, rest: tuple[str, ...], jar: httpx.Cookies | None) -> Any:
    """A cookie this response set, else one the scenario's jar holds."""
    name = ".".join(rest)
    if name in got.cookies:
        return got.cookies[name]
    if jar is not None:
        value = jar.get(name)
        return value if value is not None else MISSING
    return MISSING


@_reader("form")
def _form(got: Received, rest: tuple[str, ...], jar: httpx.Cookies | None) -> Any:
    form = got.form_capture()
    if form is None:
        return MISSING
    if not rest:
        return form
    if rest[0] in ("action", "method") and len(rest) == 1:
        return form[rest[0]]
    if rest[0] == "fields" and len(rest) == 2:
        return form["fields"].get(rest[1], MISSING)
    return MISSING


def response_part(got: Received, parts: tuple[str, ...], jar: httpx.Cookies | None = None) -> Any:
    """The part of a response ``parts`` names (see the module doc); MISSING when absent."""
    read = _READERS.get(parts[0])
    if read is None:
        return MISSING
    try:
        return read(got, parts[1:], jar)
    except (KeyError, IndexError, TypeError):
        return MISSING


def source_part(got: Received, source: str, jar: httpx.Cookies | None = None) -> Any:
    """``response_part`` of a dotted source such as ``body.access_token``."""
    return response_part(got, tuple(source.split(".")), jar)


# ------------------------------------------------------------------ captures


def captured(got: Received, capture: Mapping[str, Capture], jar: httpx.Cookies | None) -> dict[str, Any]:
    """Every capture of a documented response: name -> value (MISSING when the response lacks it)."""
    return {name: source_part(got, cap.source, jar) for name, cap in capture.items()}


def register_secret_captures(redactor: Redactor, got: Received, capture: Mapping[str, Capture],
                             jar: httpx.Cookies | None) -> None:
    """What the flow captures as secret is redacted, even when the step then fails."""
    for name, cap in capture.items():
        value = source_part(got, cap.source, jar) if cap.secret else MISSING
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            redactor.add(value, name)


# ------------------------------------------------------------------ steps


@dataclass
class StepData:
    """What a step left for later ones: its response and its captures."""

    got: Received | None
    captures: dict[str, Any]


def step_value(step: StepData, parts: tuple[str, ...], jar: httpx.Cookies | None) -> Any:
    """``${steps.ID.<parts>}``: a capture (and a path into it), else a part of the step's response."""
    name = parts[0]
    if name in step.captures:
        value = step.captures[name]
        if len(parts) > 1:
            try:
                return lookup(value, parts[1:])
            except KeyError:
                raise MissingValue(f"capture '{name}' has no '{'.'.join(parts[1:])}'") from None
        return value
    if step.got is None:
        raise MissingValue(f"'{'.'.join(parts)}' is not available: the step sent no request")
    value = response_part(step.got, parts, jar)
    if value is MISSING:
        raise MissingValue(f"the response of the step has no '{'.'.join(parts)}'")
    return value
