"""Checks of a response against its documentation: one signature, one registry, one list.

Every check is ``check(ctx, expected, got) -> Iterable[CheckFailure]`` registered with ``@check``;
:func:`run_checks` runs the registry in order for both kinds of exchange, a step's documented
``Response`` and a failure branch's ``FailureResponse``, both seen as one :class:`Expected`.
A check that reads the body runs only when the status is one documented (a wrong status says
enough); ``captures`` runs only when every other check passed. A new check is one more function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from ..model.expr import as_text, lookup
from ..model.flow import Capture, FailureResponse, JwtCheck, Redirect, Response
from ._extract import MISSING, captured, source_part
from ._jwt import JwksCache, JwksError, verify_jwt
from ._received import LOOKED_IN, Received
from ._redact import Redactor
from ._result import CheckFailure
from ._statements import TokenClaim


@dataclass(frozen=True)
class Expected:
    """What the documentation says of a response."""

    statuses: tuple[int, ...]
    failure: bool = False  # a failure branch's response (else a step's documented success)
    error: str | None = None
    fields: tuple[str, ...] = ()
    body: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, Any] = field(default_factory=dict)
    content_type: str | None = None
    redirect: Redirect | None = None
    text: tuple[str, ...] = ()
    form: bool = False
    capture: Mapping[str, Capture] = field(default_factory=dict)
    jwt: tuple[JwtCheck, ...] = ()
    tokens: tuple[TokenClaim, ...] = ()  # lifecycle statements of the tokens it carries

    @classmethod
    def of_step(cls, spec: Response, tokens: tuple[TokenClaim, ...] = ()) -> "Expected":
        return cls(tuple(spec.statuses), False, spec.error, tuple(spec.fields), spec.body, spec.headers,
                   spec.content_type, spec.redirect, tuple(spec.text), spec.form, spec.capture, tuple(spec.jwt), tokens)

    @classmethod
    def of_failure(cls, spec: FailureResponse) -> "Expected":
        """A failure branch's answer: the same checks as a success (no captures, no lifecycle)."""
        return cls(tuple(spec.statuses), True, spec.error, tuple(spec.fields), spec.body, spec.headers,
                   spec.content_type, spec.redirect, tuple(spec.text), jwt=tuple(spec.jwt))

    @property
    def reads_json(self) -> bool:
        """The response is read as JSON (fields, values, or captures from the body)."""
        return bool(self.fields or self.body) or any(c.source.startswith("body.") for c in self.capture.values())


@dataclass
class CheckContext:
    """What checks may use besides the response: rendering and the run's shared resources."""

    render: Callable[[Any], Any]  # ${...} as the exchange sees them
    redactor: Redactor
    jwks: JwksCache
    jar: httpx.Cookies | None = None  # the scenario's cookies
    issuer: Callable[[], str] = lambda: ""  # the receiver's base URL: the default issuer of a JWT check
    #: a check proved a statement (reason None), or found it cannot be observed here (the reason)
    observe: Callable[..., None] = lambda statement, reason=None: None


CheckFn = Callable[[CheckContext, Expected, Received], Iterable[CheckFailure]]


@dataclass(frozen=True)
class Check:
    id: str
    fn: CheckFn
    needs_status: bool  # runs only when the status is one documented
    last: bool  # runs only when every check before it passed
    #: the part of :class:`Expected` the check compares: where the documentation says nothing of it
    #: (empty, None, False), the check finds nothing and is not run
    uses: str | None = None


CHECKS: list[Check] = []


def check(id: str, *, needs_status: bool = True, last: bool = False,
          uses: str | None = None) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS.append(Check(id, fn, needs_status, last, uses))
        return fn

    return register


@dataclass
class Verdict:
    failures: list[CheckFailure] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # ids of the checks that failed, in order

    @property
    def ok(self) -> bool:
        return not self.failures


def run_checks(ctx: CheckContext, expected: Expected, got: Received) -> Verdict:
    verdict = Verdict()
    status_ok = got.status in expected.statuses
    for c in CHECKS:
        if (c.needs_status and not status_ok) or (c.last and verdict.failures) or (
                c.uses is not None and not getattr(expected, c.uses)):
            continue
        found = list(c.fn(ctx, expected, got))
        if found:
            verdict.failures += found
            verdict.failed.append(c.id)
    return verdict


def _fmt(v: Any) -> str:
    if v is MISSING or v is None:
        return "(absent)"
    return v if isinstance(v, str) else repr(v)


def _codes(found: list[tuple[str, str]]) -> str:
    return ", ".join(f"{code} ({where})" for where, code in found)


# ------------------------------------------------------------------ the checks, in the order they run


@check("status", needs_status=False)
def status(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    if got.status not in exp.statuses:
        yield CheckFailure("status", " or ".join(map(str, exp.statuses)), str(got.status))


@check("body-json")
def body_json(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    """A body that claims to be JSON (or must be) and is not: named, before the checks that read it."""
    if got.json_problem is not None:
        yield CheckFailure("body", "valid JSON in UTF-8", got.json_problem)
    elif exp.reads_json and got.json is None:
        kind = got.content_type.split(";")[0].strip() or "no Content-Type"
        yield CheckFailure("body", "JSON", f"not JSON ({kind}, {len(got.body)} bytes)")


@check("error", needs_status=False)
def error(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    """The documented OAuth error code (body, Location or WWW-Authenticate). A step's success
    answered with another status names the error codes it carried instead."""
    if not exp.failure and got.status not in exp.statuses:
        found = got.error_codes()
        if found:
            yield CheckFailure("error", exp.error or "(none documented)", _codes(found))
    elif exp.error:
        found = got.error_codes()
        if not any(code == exp.error for _where, code in found):
            yield CheckFailure("error", exp.error, (_codes(found) + f"; no {exp.error} in " if found
                                                    else "no error code in ") + LOOKED_IN)


@check("content-type", uses="content_type")
def content_type(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    if exp.content_type:
        media = got.content_type.split(";")[0].strip().lower()
        if media != exp.content_type.split(";")[0].strip().lower():
            yield CheckFailure("Content-Type", exp.content_type, got.content_type or "(absent)")


@check("fields", uses="fields")
def fields(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    body = got.json
    for name in exp.fields:
        if not isinstance(body, (dict, list)) or not _has(body, tuple(name.split("."))):
            yield CheckFailure(f"field {name}", "present in the body", "(absent)")


def _has(body: Any, parts: tuple[str, ...]) -> bool:
    try:
        lookup(body, parts)
    except KeyError:
        return False
    return True


@check("body", uses="body")
def body_values(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    body = got.json
    for key, want in exp.body.items():
        try:
            value = lookup(body, tuple(key.split("."))) if isinstance(body, dict) else MISSING
        except KeyError:
            value = MISSING
        w = ctx.render(want)
        if value is MISSING or value != w:
            yield CheckFailure(f"body {key}", _fmt(w), _fmt(value))


@check("headers", uses="headers")
def headers(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    for name, want in exp.headers.items():
        values = got.headers.get_list(name)
        if want is None:
            if not values:
                yield CheckFailure(f"header {name}", "present", "(absent)")
            continue
        w = as_text(ctx.render(want))
        if w not in values:
            yield CheckFailure(f"header {name}", w, ", ".join(values) if values else "(absent)")


@check("redirect", uses="redirect")
def redirect(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    if exp.redirect is None:
        return
    to, loc = exp.redirect.to, got.location
    if loc is None:
        yield CheckFailure("Location", "a redirect" + (f" to {ctx.render(to)}" if to else ""), "no Location header")
        return
    if to:
        want = as_text(ctx.render(to))
        if not _redirects_to(got, want, loc):
            shown = urlunsplit(urlsplit(loc)._replace(query="", fragment=""))
            yield CheckFailure("redirect", f"Location {want}", f"Location {shown}")
    yield from _location_query(ctx, exp.redirect.query, got.location_query)


def _redirects_to(got: Received, want: str, loc: str) -> bool:
    """``Location`` goes where documented: a relative ``to`` is a path (prefix when it ends in /)
    on the request's origin; an absolute one, that origin, path (prefix) and query parameters."""
    w, g = urlsplit(want), urlsplit(loc)
    if not w.scheme:
        req = urlsplit(got.url)
        same = (g.scheme, g.netloc) == (req.scheme, req.netloc)
        return same and (g.path == w.path or (w.path.endswith("/") and g.path.startswith(w.path)))
    ok = (g.scheme, g.netloc.lower()) == (w.scheme, w.netloc.lower()) and (
        g.path == w.path or w.path == "" or (w.path.endswith("/") and g.path.startswith(w.path))
    )
    if w.query:
        gq = dict(parse_qsl(g.query, keep_blank_values=True))
        ok = ok and all(gq.get(k) == v for k, v in parse_qsl(w.query, keep_blank_values=True))
    return ok


def _location_query(ctx: CheckContext, query: Mapping[str, Any], lq: Mapping[str, str]) -> Iterable[CheckFailure]:
    for k, v in query.items():
        if v is None:
            if k not in lq:
                yield CheckFailure(f"Location query {k}", "present", "(absent)")
            continue
        want = as_text(ctx.render(v))
        if lq.get(k) != want:
            yield CheckFailure(f"Location query {k}", want, _fmt(lq.get(k, MISSING)))


@check("text", uses="text")
def page_text(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    """Each documented text is in what a reader sees: an HTML page's visible text (tags, scripts and
    styles left out, spaces folded, any case), else the body as text."""
    if not exp.text:
        return
    seen = got.visible_text.casefold()
    for want in exp.text:
        w = " ".join(as_text(ctx.render(want)).split())
        if w.casefold() not in seen:
            where = "the page's visible text" if got.page is not None else "the body"
            yield CheckFailure(f"text {w!r}", f"in {where}", "not found")


@check("form", uses="form")
def form(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    if exp.form and (got.page is None or not got.page.forms):
        yield CheckFailure("form", "an HTML page with a form", "no form in the body")


@check("jwt", uses="jwt")
def jwt(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    for jc in exp.jwt:
        yield from _jwt(ctx, jc, got)


def _jwt(ctx: CheckContext, jc: JwtCheck, got: Received) -> Iterable[CheckFailure]:
    where = jc.token
    token = ctx.render(where) if "${" in where else source_part(got, where, ctx.jar)
    if token is MISSING:
        return [CheckFailure(f"JWT {where}", "present", "(absent)")]
    if isinstance(token, str):
        ctx.redactor.add(token, where.split(".")[-1].strip("${}") or "jwt")
    def text(v: Any) -> str | None:
        return as_text(ctx.render(v)) if v is not None else None

    iss = text(jc.iss)
    try:
        jwks_url = as_text(ctx.render(jc.jwks)) if jc.jwks else ctx.jwks.jwks_uri(iss or ctx.issuer())
    except JwksError as exc:
        return [CheckFailure(f"JWT {where}", "the issuer's JWKS", ctx.redactor.redact(str(exc)))]
    _claims, problems = verify_jwt(
        token, jwks_url=jwks_url, cache=ctx.jwks, iss=iss, aud=text(jc.aud), nonce=text(jc.nonce),
        check_exp=jc.exp, claims={k: ctx.render(v) for k, v in jc.claims.items()}, required=list(jc.required),
    )
    return [CheckFailure(f"JWT {where}: {p.what}", p.expected, p.actual) for p in problems]


@check("captures", last=True, uses="capture")
def captures(ctx: CheckContext, exp: Expected, got: Received) -> Iterable[CheckFailure]:
    """Every value the step captures is in the response."""
    for name, value in captured(got, exp.capture, ctx.jar).items():
        if value is MISSING:
            yield CheckFailure(f"capture {name}", f"{exp.capture[name].source} in the response", "(absent)")
