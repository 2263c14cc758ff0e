"""Lifecycle statements a response shows: a token's format, its lifetime, its rotation.

* ``format: jwt`` / ``opaque``: the value is (or is not) a signed JWT (``header.payload.signature``
  with a JSON header naming an ``alg``);
* ``ttl``: the body's ``expires_in`` (for the access token, RFC 6749 §5.1) and a JWT's
  ``exp - iat`` are the documented lifetime, within :func:`tolerance` (1 %, at least 2 s); the
  lifetime is the token's ``ttl_input`` when the flow names one (a test server with short
  lifetimes), else ``ttl``;
* ``rotates: true``: a step that sends the token gets a different one back; ``rotates: false``:
  the same one (or none).

The JWT payload is read without its signature (the ``jwt`` checks verify signatures); a value
that does not parse is opaque.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Iterable

from ..model.flow import parse_duration
from ._checks import CheckContext, Expected, check
from ._extract import MISSING, source_part
from ._limits import parse_json
from ._received import Received
from ._result import CheckFailure
from ._statements import TokenClaim


def tolerance(ttl: float) -> float:
    """How far a stated lifetime may be from the documented one: 1 %, and at least 2 s (clocks,
    rounding, and the time between issuing and answering)."""
    return max(2.0, ttl * 0.01)


def jwt_claims(value: Any) -> dict[str, Any] | None:
    """The payload of a value shaped like a JWS compact JWT, unverified; None if it is not one."""
    if not isinstance(value, str) or value.count(".") != 2 or len(value) > 64 * 1024:
        return None
    head, payload, _sig = value.split(".")
    header, claims = _b64json(head), _b64json(payload)
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str) or not isinstance(claims, dict):
        return None
    return claims


def _b64json(part: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (ValueError, binascii.Error):
        return None
    value, problem = parse_json(raw)
    return None if problem else value


@check("lifecycle", last=True)
def lifecycle(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    """The lifecycle statements of the tokens the response carries (see the module doc)."""
    for claim in exp.tokens:
        value = source_part(got, claim.source, ctx.jar)
        if value is MISSING or value in (None, ""):
            continue
        yield from _format(ctx, claim, value)
        yield from _ttl(ctx, claim, value, got)
        yield from _rotation(ctx, claim, value)


def _format(ctx: CheckContext, c: TokenClaim, value: Any) -> Iterable[CheckFailure]:
    if c.format is None:
        return
    is_jwt = jwt_claims(value) is not None
    if is_jwt != (c.format == "jwt"):
        yield CheckFailure(f"lifecycle {c.name} format", c.format,
                           "a JWT" if is_jwt else "an opaque token (not a JWT)")
    else:
        ctx.observe(f"lifecycle:{c.name}.format")


def _documented_ttl(ctx: CheckContext, c: TokenClaim) -> float | None:
    if c.ttl_ref is None:
        return float(c.ttl) if c.ttl is not None else None
    value = ctx.render(c.ttl_ref)
    try:
        return float(value) if isinstance(value, (int, float)) else float(parse_duration(str(value).strip()))
    except (TypeError, ValueError):
        try:
            return float(str(value))
        except ValueError:
            return float(c.ttl) if c.ttl is not None else None


def _ttl(ctx: CheckContext, c: TokenClaim, value: Any, got: Received) -> Iterable[CheckFailure]:
    ttl = _documented_ttl(ctx, c)
    if ttl is None:
        return
    stated: list[tuple[str, float]] = []
    body = got.json
    if c.expires_in and isinstance(body, dict) and _number(body.get("expires_in")):
        stated.append(("expires_in", float(body["expires_in"])))
    claims = jwt_claims(value)
    if claims is not None and _number(claims.get("exp")) and _number(claims.get("iat")):
        stated.append(("exp - iat", float(claims["exp"]) - float(claims["iat"])))
    if not stated:
        ctx.observe(f"lifecycle:{c.name}.ttl", "the server states no lifetime for it (no expires_in, not a JWT)")
        return
    tol = tolerance(ttl)
    bad = [(what, secs) for what, secs in stated if abs(secs - ttl) > tol]
    for what, secs in bad:
        yield CheckFailure(f"lifecycle {c.name} ttl ({what})", f"{ttl:g} s (± {tol:g} s)", f"{secs:g} s")
    if not bad:
        ctx.observe(f"lifecycle:{c.name}.ttl")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _rotation(ctx: CheckContext, c: TokenClaim, value: Any) -> Iterable[CheckFailure]:
    if c.rotates is None or c.sent is None:
        return
    old = ctx.render(c.sent)
    if c.rotates and value == old:
        yield CheckFailure(f"lifecycle {c.name} rotates", f"a new {c.name} (rotated)", f"the {c.name} that was sent")
    elif not c.rotates and value != old:
        yield CheckFailure(f"lifecycle {c.name} rotates", f"the same {c.name} back (no rotation)",
                           f"a new {c.name}")
    else:
        ctx.observe(f"lifecycle:{c.name}.rotates")
