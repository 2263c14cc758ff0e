"""Discovery cross-check: where a server's metadata (OpenID Connect Discovery, RFC 8414) contradicts a flow.

:func:`cross_check` compares what a flow's requests to an authorization server state with what the
server's metadata says it supports, and reports each contradiction at the flow statement's
FILE:LINE:COL:

* ``discovery-endpoint``: a request names an endpoint (``endpoint: token_endpoint``) the metadata lacks;
* ``discovery-grant-type``: ``grant_type`` not in ``grant_types_supported``;
* ``discovery-response-type``: ``response_type`` not in ``response_types_supported``;
* ``discovery-pkce``: ``code_challenge_method`` not in ``code_challenge_methods_supported`` (absent:
  RFC 8414 reads it as "no PKCE");
* ``discovery-auth-method``: the client authentication (``auth``) at the token, introspection or
  revocation endpoint not in ``*_endpoint_auth_methods_supported`` (token endpoint default:
  ``client_secret_basic``);
* ``discovery-signing-alg``: a JWT check of an ID token where ``id_token_signing_alg_values_supported``
  lists no algorithm a JWKS can verify (only ``HS256`` or ``none``);
* ``discovery-scope`` (warning): a scope not in ``scopes_supported`` (servers may leave scopes out).

Only requests whose values are written in the flow, or are one ``${inputs.NAME}`` reference the
caller can resolve, are compared; failure branches (which provoke refusals) are not. A field the
metadata leaves out is no contradiction, except as said above. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from ..diagnostics import Diagnostic, Severity, quote
from ..model.expr import ExprError, iter_refs
from ..model.flow import Flow, Request, Transition

#: algorithms a JWKS can verify (flowdoc's JWT checks accept only these)
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
SERVER_KINDS = frozenset({"authorization-server", "identity-provider"})
_AUTH_FIELDS = {
    "token_endpoint": "token_endpoint_auth_methods_supported",
    "introspection_endpoint": "introspection_endpoint_auth_methods_supported",
    "revocation_endpoint": "revocation_endpoint_auth_methods_supported",
}
_MAX_LIST = 200  # values of one metadata list that are read (a hostile document may list millions)

Resolve = Callable[[str], "str | None"]  # an input's value by name, or None when unknown


def server_actors(flow: Flow) -> set[str]:
    """The actors a discovery document describes by default: authorization servers and identity providers."""
    return {aid for aid, a in flow.actors.items() if a.kind.value in SERVER_KINDS}


def cross_check(flow: Flow, meta: Any, *, actors: Iterable[str] | None = None, resolve: Resolve = lambda n: None,
                source: str = "discovery") -> list[Diagnostic]:
    """Each contradiction between ``meta`` and the requests ``flow`` sends to ``actors``."""
    if not isinstance(meta, dict):
        return []
    chosen = set(actors) if actors is not None else server_actors(flow)
    out: list[Diagnostic] = []
    for i, t in enumerate(flow.transitions):
        if t.request is None or t.receiver not in chosen:
            continue
        for code, message, path, severity in _request_findings(flow, t, meta, resolve):
            line, col = flow.pos("transitions", i, *path) or flow.pos("transitions", i, "request") or (None, None)
            out.append(Diagnostic(flow.file or flow.id, line, col, code, f"{message} ({source})", severity))
    return out


def _request_findings(flow: Flow, t: Transition, meta: dict, resolve: Resolve) -> Iterator[tuple]:
    req = t.request
    assert req is not None
    yield from _endpoint(t, req, meta)
    values = _Values(flow, resolve)
    grant = values.of(req.form, "grant_type")
    if grant is not None:
        yield from _listed(meta, "grant_types_supported", [grant], ("request", "form", "grant_type"),
                           "discovery-grant-type", f"'{t.id}' uses the grant type {quote(grant)}")
    rtype = values.of(req.query, "response_type")
    if rtype is not None and isinstance(meta.get("response_types_supported"), list):
        wanted = frozenset(rtype.split())
        offered = [frozenset(str(x).split()) for x in meta["response_types_supported"][:_MAX_LIST]]
        if wanted not in offered:
            yield ("discovery-response-type", f"'{t.id}' asks for response_type {quote(rtype)}, which the server's "
                   f"response_types_supported does not list", ("request", "query", "response_type"), "error")
    yield from _pkce(t, values.of(req.query, "code_challenge_method"), meta)
    yield from _auth(t, req, meta, grant)
    yield from _scopes(t, req, values, meta)
    yield from _signing(t, meta)


def _endpoint(t: Transition, req: Request, meta: dict) -> Iterator[tuple]:
    if req.endpoint and not isinstance(meta.get(req.endpoint), str):
        yield ("discovery-endpoint", f"'{t.id}' requests the server's {req.endpoint}, which its metadata does not "
               f"name (verify requests the documented path {quote(req.path)})", ("request", "endpoint"), "error")


def _listed(meta: dict, key: str, values: list[str], path: tuple, code: str, what: str) -> Iterator[tuple]:
    offered = meta.get(key)
    if not isinstance(offered, list):
        return
    offered = {str(x) for x in offered[:_MAX_LIST]}
    for v in values:
        if v not in offered:
            yield (code, f"{what}, which the server's {key} does not list "
                   f"({', '.join(sorted(offered)[:12]) or 'none'})", path, "error")


def _pkce(t: Transition, method: str | None, meta: dict) -> Iterator[tuple]:
    if method is None:
        return
    path = ("request", "query", "code_challenge_method")
    if "code_challenge_methods_supported" not in meta:
        yield ("discovery-pkce", f"'{t.id}' sends a PKCE challenge ({method}), and the server's metadata has no "
               "code_challenge_methods_supported (RFC 8414: the server does not support PKCE)", path, "error")
        return
    yield from _listed(meta, "code_challenge_methods_supported", [method], path, "discovery-pkce",
                       f"'{t.id}' uses the PKCE method {quote(method)}")


def _auth(t: Transition, req: Request, meta: dict, grant: str | None) -> Iterator[tuple]:
    if req.auth == "bearer":
        return
    endpoint = req.endpoint or ("token_endpoint" if grant is not None else None)
    key = _AUTH_FIELDS.get(endpoint or "")
    if key is None:
        return
    offered = meta.get(key)
    if offered is None and endpoint == "token_endpoint":
        offered = ["client_secret_basic"]  # RFC 8414's default
    if not isinstance(offered, list):
        return
    offered = [str(x) for x in offered[:_MAX_LIST]]
    if req.auth not in offered:
        yield ("discovery-auth-method", f"'{t.id}' authenticates the client with {req.auth} at the {endpoint}, which "
               f"the server's {key} does not list ({', '.join(offered) or 'none'})", ("request", "auth"), "error")


def _scopes(t: Transition, req: Request, values: "_Values", meta: dict) -> Iterator[tuple]:
    offered = meta.get("scopes_supported")
    if not isinstance(offered, list):
        return
    offered_set = {str(x) for x in offered[:_MAX_LIST * 5]}
    for where, params in (("query", req.query), ("form", req.form)):
        scope = values.of(params, "scope")
        if scope is None:
            continue
        missing = [s for s in scope.split() if s not in offered_set]
        if missing:
            yield ("discovery-scope", f"'{t.id}' asks for the scope {', '.join(map(quote, missing))}, which the "
                   "server's scopes_supported does not list (a server may leave scopes out: check it accepts them)",
                   ("request", where, "scope"), "warning")


def _signing(t: Transition, meta: dict) -> Iterator[tuple]:
    offered = meta.get("id_token_signing_alg_values_supported")
    if not isinstance(offered, list) or t.response is None:
        return
    algs = [str(x) for x in offered[:_MAX_LIST]]
    for k, jc in enumerate(t.response.jwt):
        if "id_token" in jc.token and not ASYMMETRIC.intersection(algs):
            yield ("discovery-signing-alg", f"'{t.id}' checks the ID token's signature against the server's JWKS, "
                   f"and its id_token_signing_alg_values_supported lists no public-key algorithm "
                   f"({', '.join(algs) or 'none'})", ("response", "jwt", k, "token"), "error")


class _Values:
    """A request parameter's value as text: written in the flow, or one resolvable reference."""

    def __init__(self, flow: Flow, resolve: Resolve):
        self.flow = flow
        self.resolve = resolve

    def of(self, params: dict | None, name: str) -> str | None:
        if not params or name not in params:
            return None
        value = params[name]
        if value is None or isinstance(value, bool):
            return None
        text = str(value)
        if "${" not in text:
            return text
        try:
            refs = list(iter_refs(text))
        except ExprError:
            return None
        if len(refs) != 1 or refs[0].start != 0 or refs[0].end != len(text):
            return None
        return self._ref(refs[0].path)

    def _ref(self, path: tuple) -> str | None:
        if len(path) == 2 and path[0] == "inputs":
            found = self.resolve(path[1])
            if found is not None:
                return found
            inp = self.flow.inputs.get(path[1])
            return None if inp is None or inp.default is None else str(inp.default)
        gen = self.flow.generate.get(path[0]) if path else None
        if gen is not None and len(path) == 2 and path[1] == "method" and gen.kind.value == "pkce":
            return gen.method
        return None


def severity_counts(diags: Iterable[Diagnostic]) -> dict[Severity, int]:
    counts: dict[Severity, int] = {"error": 0, "warning": 0, "info": 0}
    for d in diags:
        counts[d.severity] += 1
    return counts
