"""Plain YAML values → :class:`Flow`, with pydantic errors mapped to FILE:LINE:COL."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..diagnostics import DiagnosticList, quote
from . import flow as m
from .flow import Flow


def build_flow(data: Any, source: Any, diags: DiagnosticList) -> Flow | None:
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"  # never the value: it may be a secret
        diags.add(
            "not-a-flow",
            f"the top of a flow file must be a mapping (id, title, actors, ...), not {kind}",
            source.value(()) or (1, 1),
            help="start from an example in flows/",
        )
        return None
    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        _report(exc, source, diags)
        return None
    flow._file = diags.file
    flow._source = source
    return flow


_TYPE_TAGS = {"str", "int", "float", "bool", "none", "list", "dict", "date", "function-after", "function-before"}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], bool]:
    """Drop pydantic's union-member and validator tags from an error location."""
    out, tagged = [], False
    for part in loc:
        if isinstance(part, str) and (
            part in _TYPE_TAGS
            or part.startswith(("function-", "list[", "dict[", "constrained-", "literal[", "lax-", "json-or-python"))
            or (part[:1].isupper() and part not in ("Location",) and _is_model_name(part))
        ):
            tagged = True
            continue
        out.append(part)
    return tuple(out), tagged


def _is_model_name(name: str) -> bool:
    obj = getattr(m, name, None)
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _report(exc: ValidationError, source: Any, diags: DiagnosticList) -> None:
    errors = []
    for err in exc.errors(include_url=False):
        raw = tuple(err["loc"])
        if err["type"] == "extra_forbidden" and raw:  # the last part is the key written, whatever its name
            loc, tagged = _clean_loc(raw[:-1])
            loc += raw[-1:]
        else:
            loc, tagged = _clean_loc(raw)
        errors.append((loc, tagged, err))
    # A misspelled key shows up twice: as unknown, and its right spelling as missing.
    # Say it once, as the unknown key with its did-you-mean.
    unknown: dict[tuple[Any, ...], set[str]] = {}  # parent -> unknown keys (indexed: linear in the errors)
    for e in errors:
        if e[2]["type"] == "extra_forbidden":
            unknown.setdefault(e[0][:-1], set()).add(str(e[0][-1]))
    def _misspelt(loc: tuple[Any, ...]) -> bool:
        return any(difflib.get_close_matches(key, [str(loc[-1])], n=1, cutoff=0.6) for key in unknown.get(loc[:-1], ()))
    errors = [e for e in errors if not (e[2]["type"] == "missing" and _misspelt(e[0]))]
    # In a union (str | Model), pydantic reports every branch; keep the deepest.
    extended = {e[0][:k] for e in errors for k in range(len(e[0]))}  # proper prefixes of the locations
    seen: set[tuple[Any, ...]] = set()
    for loc, tagged, err in errors:
        if tagged and loc in extended:
            continue
        key = (loc, err["type"]) if not tagged else (loc, "union")
        if key in seen:
            continue
        seen.add(key)
        _one(loc, err, source, diags)


def _where(loc: tuple[Any, ...]) -> str:
    parts = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "the flow"


def _one(loc: tuple[Any, ...], err: ErrorDetails, source: Any, diags: DiagnosticList) -> None:
    typ = err["type"]
    where = _where(loc)
    if typ == "extra_forbidden":
        key = loc[-1]
        allowed = allowed_keys(loc[:-1])
        cut = getattr(source, "after_plain", {}).get(tuple(loc))
        near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        # {when: a, refresh token held}: a comma cut the value (a key with no value, or words); a typo
        # after an unquoted value ({when: x, remdy: y}) still gets its did-you-mean
        bare = err.get("input") is None or " " in str(key)
        hint: str | None
        if cut is not None and (bare or not near):
            hint = (f"an unquoted ',' or ': ' ends the value of {quote(cut)} in {{...}}, so what follows became a "
                    f"key; quote the value: {cut}: \"..., {str(key)[:40]}\"")
        else:
            hint = f"did you mean {quote(near[0])}?" if near else (
                f"allowed keys here: {', '.join(allowed)}" if allowed else None
            )
        diags.add("unknown-key", f"unknown key {quote(key)} in {_where(loc[:-1])}", source.key(loc), help=hint)
        return
    if typ == "missing":
        parent = loc[:-1]
        diags.add(
            "missing-key",
            f"{_where(parent)} needs '{loc[-1]}'",
            source.value(parent) or (1, 1),
            help=_field_help(loc),
        )
        return
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    elif msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, "):]
    help = None
    if typ in ("enum", "literal_error"):
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",") if o.strip()]
        near = difflib.get_close_matches(str(err.get("input")), options, n=1, cutoff=0.5)
        if near:
            help = f"did you mean {quote(near[0])}?"
    elif typ == "string_pattern_mismatch":
        if loc and loc[-1] in ("version",) or (len(loc) >= 2 and loc[-1] == "version"):
            msg = f"{quote(err.get('input'))} is not a semantic version"
            help = 'write MAJOR.MINOR.PATCH in quotes, e.g. version: "1.2.0"'
        elif loc and loc[-1] == "by":
            msg = f"{quote(err.get('input'))} is not a route"
            help = "write sender -> receiver with actor ids, e.g. by: client -> auth"
        elif loc and loc[-1] == "path":
            msg = f"{quote(err.get('input'))} is not a path"
            help = "a path starts with '/', e.g. /token; a full URL belongs in the actor's base_url"
        elif len(loc) == 2 and loc[0] == "public":
            msg = f"'{err.get('input')}' is not a response field or header"
            help = "name a body field (sub, body.user.id) or a header (headers.X-Request-Id)"
        else:
            msg = f"{quote(err.get('input'))} is not a valid id" if _is_id(loc) else msg
            help = "ids start with a letter or _ and hold letters, digits, _ and -" if _is_id(loc) else None
    elif typ in ("string_type",) and isinstance(err.get("input"), (int, float)) and not isinstance(err.get("input"), bool):
        help = f'quote it: "{err.get("input")}"'
    elif typ.startswith("date"):
        help = "write the date as YYYY-MM-DD"
    diags.add("invalid-value", f"{where}: {msg}", source.value(loc), help=help)


def _is_id(loc: tuple[Any, ...]) -> bool:
    return bool(loc) and (loc[-1] in ("id", "from", "to", "replaced_by", "parallel") or isinstance(loc[-1], int))


def _field_help(loc: tuple[Any, ...]) -> str | None:
    model = _model_at(loc[:-1])
    if model is None:
        return None
    f = model.model_fields.get(str(loc[-1]))
    if f is None:
        for fi in model.model_fields.values():
            if fi.alias == loc[-1]:
                f = fi
    return f.description if f and f.description else None


def _unwrap(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        out = []
        for a in typing.get_args(tp):
            out += _unwrap(a)
        return out
    return [tp]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    cur: list[Any] = [Flow]
    for part in loc:
        nxt: list[Any] = []
        for tp in cur:
            for t in _unwrap(tp):
                origin = typing.get_origin(t)
                if isinstance(t, type) and issubclass(t, BaseModel) and isinstance(part, str):
                    for name, fi in t.model_fields.items():
                        if (fi.alias or name) == part:
                            nxt.append(fi.annotation)
                elif origin is list and isinstance(part, int):
                    nxt.append(typing.get_args(t)[0])
                elif origin is dict and isinstance(part, str):
                    nxt.append(typing.get_args(t)[1])
        cur = nxt
        if not cur:
            return None
    for tp in cur:
        for t in _unwrap(tp):
            if isinstance(t, type) and issubclass(t, BaseModel):
                return t
    return None


def allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model = _model_at(loc)
    if model is None:
        return []
    return [fi.alias or name for name, fi in model.model_fields.items()]

