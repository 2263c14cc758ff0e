"""The diff engine's comparison of one step's HTTP exchange: its request, its response (body, headers,
redirect, captures, JWT checks) and its failure branches.

Parameters and headers are matched by name (headers case-insensitively), JWT checks by the token they
check, failures by id and then, among the rest, by status, error and outcome (a renamed branch).
"""

from __future__ import annotations

from typing import Any, Iterable

from ..model.flow import FailureResponse, JwtCheck, Redirect, Request, Response, Transition
from . import changes as C
from .compare import Recorder, pairs, same

__all__ = ["ExchangeDiffer"]

_PARAM_KINDS = {
    "params": "path parameter",
    "query": "query parameter",
    "form": "form parameter",
    "json": "JSON field",
    "headers": "header",
}

#: Request attributes that say where a request goes: attribute, change kind.
_ENDPOINT = (("method", "endpoint-method-changed"), ("path", "endpoint-path-changed"), ("url", "request-url-changed"))
#: Request details for testers (change kind request-options-changed).
_REQUEST_OPTIONS = ("submit_form", "follow_redirects", "timeout", "retry", "key_params", "client_id", "client_secret")
#: What a JWT check expects: attribute, change kind.
_JWT_CHECKS = (("iss", "jwt-iss-changed"), ("aud", "jwt-aud-changed"), ("nonce", "jwt-nonce-changed"))


class ExchangeDiffer(Recorder):
    """Compares the requests, responses and failures of two versions of a step."""

    # ---------------------------------------------------------- the exchange
    def exchange(self, path: tuple, subject: str, a: Transition, b: Transition) -> None:
        """The request a step sends, and the response it expects."""
        ra, rb = a.request, b.request
        if ra is None and rb is not None:
            self.add("request-added", path + ("request",), subject, None, C.Shown(f"{rb.method} {rb.path}"))
        elif ra is not None and rb is None:
            self.add("request-removed", path + ("request",), subject, C.Shown(f"{ra.method} {ra.path}"), None)
        elif ra is not None and rb is not None:
            rsubject = f"{subject} ({rb.method} {rb.path})"
            self.request(path + ("request",), rsubject, ra, rb)
            if a.response is not None and b.response is not None:
                self.response(path + ("response",), rsubject, a.response, b.response)

    # --------------------------------------------------------------- request
    def request(self, path: tuple, subject: str, a: Request, b: Request) -> None:
        for fld, kind in _ENDPOINT:
            self.changed(kind, path, subject, a, b, fld)
        if a.auth != b.auth:
            self.changed("client-auth-changed", path, subject, a, b, "auth")
        else:
            self.changed("bearer-token-changed", path, subject, a, b, "token")
        self.params(path, subject, a, b)
        self.options("request-options-changed", path, subject, a, b, _REQUEST_OPTIONS)

    def params(self, path: tuple, subject: str, a: Request, b: Request) -> None:
        pa, pb = _params(a), _params(b)
        removed = {(loc, k): v for loc, d in pa.items() for k, v in d.items() if k not in pb.get(loc, {})}
        added = {(loc, k): v for loc, d in pb.items() for k, v in d.items() if k not in pa.get(loc, {})}
        # a parameter that left one place and arrived in another has moved
        for (loc_a, k), (_name_a, va) in list(removed.items()):
            dest = next(((loc_b, kb) for (loc_b, kb) in added if kb == k), None)
            if dest is None:
                continue
            name_b, vb = added.pop(dest)
            del removed[(loc_a, k)]
            self.add("param-location-changed", path + (dest[0], name_b), subject, va, vb, name=f"'{name_b}'",
                     old_kind=_place(loc_a), new_kind=_place(dest[0]))
        for (loc, _k), (name, va) in removed.items():
            self.add("param-removed", path + (loc, name), subject, va, None, where_kind=_PARAM_KINDS[loc],
                     name=f"'{name}'")
        for (loc, _k), (name, vb) in added.items():
            self.add("param-required-added", path + (loc, name), subject, None, vb, where_kind=_PARAM_KINDS[loc],
                     name=f"'{name}'")
        for loc, d in pb.items():
            for k, (name, vb) in d.items():
                if k in pa.get(loc, {}) and not same(pa[loc][k][1], vb):
                    self.add("param-value-changed", path + (loc, name), subject, pa[loc][k][1], vb,
                             where_kind=_PARAM_KINDS[loc], name=f"'{name}'")
        self.json_body(path, subject, a.json_body, b.json_body)

    def json_body(self, path: tuple, subject: str, ja: Any, jb: Any) -> None:
        """A JSON body that is not an object is compared whole."""
        if (not isinstance(ja, dict) or not isinstance(jb, dict)) and (ja is not None or jb is not None):
            if ja != jb and not (isinstance(ja, dict) and jb is None) and not (ja is None and isinstance(jb, dict)):
                self.add("param-value-changed", path + ("json",), subject, ja, jb, where_kind="JSON body",
                         name="(whole body)")

    # -------------------------------------------------------------- response
    def response(self, path: tuple, subject: str, a: Response, b: Response) -> None:
        if sorted(a.statuses) != sorted(b.statuses):
            self.add("status-changed", path + ("status",), subject, _status(a.status), _status(b.status))
        self.changed("error-code-changed", path, subject, a, b, "error")
        self.options("content-type-changed", path, subject, a, b,
                     {"content_type": "the content type", "form": "'an HTML form'"})
        self.body(path, subject, a.fields, a.body, b.fields, b.body)
        self.keyed(path + ("headers",), subject, "response header", a.headers, b.headers, fold_case=True)
        self.redirect(path + ("redirect",), subject, a.redirect, b.redirect)
        self.captures(path, subject, a, b)
        self.jwts(path + ("jwt",), subject, a.jwt, b.jwt)
        self.text(path + ("description",), subject, "response description", a.description, b.description)

    def captures(self, path: tuple, subject: str, a: Response, b: Response) -> None:
        for name, ca, cb in pairs(a.capture, b.capture):
            where, label = path + ("capture", name), f"'{name}'"
            if cb is None:
                self.add("capture-removed", where, subject, ca.source, None, name=label)
            elif ca is None:
                self.add("capture-added", where, subject, None, cb.source, name=label)
            elif ca.source != cb.source:
                self.add("capture-source-changed", where, subject, ca.source, cb.source, name=label)

    def body(self, path: tuple, subject: str, fa: list[str], ba: dict, fb: list[str], bb: dict) -> None:
        """Documented body fields: ``fields`` (present) and ``body`` (present with this value)."""

        def documented(fields: list[str], body: dict) -> dict[str, tuple]:
            out = {f: (path + ("fields", f), f, False, None) for f in fields}
            out.update({k: (path + ("body", k), k, True, v) for k, v in body.items()})
            return out

        self.documented(subject, "response field", documented(fa, ba), documented(fb, bb))

    def keyed(self, path: tuple, subject: str, kind: str, a: dict, b: dict, *, fold_case: bool = False) -> None:
        """Headers and redirect query parameters: ``null`` means present with any value."""

        def documented(d: dict) -> dict[str, tuple]:
            return {(k.lower() if fold_case else k): (path + (k,), k, v is not None, v) for k, v in d.items()}

        self.documented(subject, kind, documented(a), documented(b))

    def documented(self, subject: str, kind: str, a: dict[str, tuple], b: dict[str, tuple]) -> None:
        """Documented values of a response, by key: (path, name, pinned, value); unpinned means 'present, any
        value'."""
        for _key, x, y in pairs(a, b):
            if y is None:
                where, name, _pinned, va = x
                self.add("response-field-removed", where, subject, va, None, where_kind=kind, name=f"'{name}'")
            elif x is None:
                where, name, pinned, vb = y
                detail = "is new" + (f", with value {C.show(vb)}" if pinned else "")
                self.add("response-field-added", where, subject, None, vb, where_kind=kind, name=f"'{name}'",
                         detail=detail)
            else:
                self.value(y[0], subject, kind, y[1], x[3], y[3], x[2], y[2])

    def value(self, where: tuple, subject: str, kind: str, name: str, va: Any, vb: Any, pinned_a: bool,
              pinned_b: bool) -> None:
        """A documented value; unpinned means 'present, any value'."""
        if pinned_a and pinned_b and not same(va, vb):
            self.add("response-value-changed", where, subject, va, vb, where_kind=kind, name=f"'{name}'")
        elif pinned_a and not pinned_b:
            self.add("response-value-changed", where, subject, va, "any value", where_kind=kind, name=f"'{name}'")
        elif pinned_b and not pinned_a:
            self.add("response-field-added", where, subject, None, vb, where_kind=kind, name=f"'{name}'",
                     detail=f"is now documented as {C.show(vb)}")

    def redirect(self, path: tuple, subject: str, a: Redirect | None, b: Redirect | None) -> None:
        ta = a.to if a else None
        tb = b.to if b else None
        if (a is None) != (b is None) or ta != tb:
            self.add("redirect-changed", path, subject, ta if a else None, tb if b else None)
        if a is not None and b is not None:
            self.keyed(path + ("query",), subject, "redirect query parameter", a.query, b.query)

    # ------------------------------------------------------------------- JWT
    def jwts(self, path: tuple, subject: str, a: list[JwtCheck], b: list[JwtCheck]) -> None:
        for tok, ja, jb in pairs({j.token: j for j in a}, {j.token: j for j in b}):
            p, name = path + (tok,), f"'{tok}'"
            if jb is None:
                self.add("jwt-check-removed", p, subject, name=name)
            elif ja is None:
                self.add("jwt-check-added", p, subject, name=name)
            else:
                self.jwt(p, subject, name, ja, jb)

    def jwt(self, p: tuple, subject: str, name: str, ja: JwtCheck, jb: JwtCheck) -> None:
        for claim in [c for c in jb.required if c not in ja.required]:
            self.add("jwt-claim-required-added", p + ("required", claim), subject, None, claim, name=name)
        for claim in [c for c in ja.required if c not in jb.required]:
            self.add("jwt-claim-required-removed", p + ("required",), subject, claim, None, name=name)
        for claim, vb in jb.claims.items():
            if claim not in ja.claims:
                self.add("jwt-claim-added", p + ("claims", claim), subject, None, vb, name=name, claim=f"'{claim}'")
            elif not same(ja.claims[claim], vb):
                self.add("jwt-claim-changed", p + ("claims", claim), subject, ja.claims[claim], vb, name=name,
                         claim=f"'{claim}'")
        for claim, va in ja.claims.items():
            if claim not in jb.claims:
                self.add("jwt-claim-changed", p + ("claims",), subject, va, "any value", name=name, claim=f"'{claim}'")
        for fld, kind in _JWT_CHECKS:
            self.changed(kind, p, subject, ja, jb, fld, name=name)
        self.options("jwt-options-changed", p, subject, ja, jb, {"jwks": "key set (jwks)", "exp": "expiry check"},
                     name=name)

    # -------------------------------------------------------------- failures
    def failures(self, path: tuple, a: Transition, b: Transition) -> None:
        pairs, gone, new = _match_failures(a.failures, b.failures)
        tsub = f"transition '{b.id}'"
        for f in gone:
            self.add("failure-branch-removed", path + ("failures", f.id), f"failure '{f.id}' of {tsub}",
                     old=_failure_label(f.response))
        for fa, fb in pairs:
            self.failure(path + ("failures", fb.id), f"failure '{fb.id}' of {tsub}", fa, fb,
                         (fa.to or a.from_, fb.to or b.from_), ((fa.through or [a.id])[-1], (fb.through or [b.id])[-1]))
        for f in new:
            self.add("failure-branch-added", path + ("failures", f.id), f"failure '{f.id}' of {tsub}",
                     new=C.Shown(f"{_failure_label(f.response)} when {f.when}"))

    def failure_response(self, p: tuple, subject: str, ra, rb) -> None:
        sa = ra.status if ra.outcome == "response" else C.Shown(ra.outcome)
        sb = rb.status if rb.outcome == "response" else C.Shown(rb.outcome)
        if sa != sb:
            self.add("status-changed", p + ("response", "status"), subject, sa, sb)
        self.changed("error-code-changed", p + ("response",), subject, ra, rb, "error")
        self.options("content-type-changed", p + ("response",), subject, ra, rb, {"content_type": "the content type"})
        self.body(p + ("response",), subject, ra.fields, ra.body, rb.fields, rb.body)
        self.keyed(p + ("response", "headers"), subject, "response header", ra.headers, rb.headers, fold_case=True)
        self.redirect(p + ("response", "redirect"), subject, ra.redirect, rb.redirect)
        self.jwts(p + ("response", "jwt"), subject, ra.jwt, rb.jwt)

    def failure(self, p: tuple, subject: str, fa, fb, targets: tuple[str, str], ends: tuple[str, str]) -> None:
        """Two versions of a failure branch; ``targets``: the states each leads to; ``ends``: the steps
        where each shows (its own, or the last of ``through``)."""
        ra, rb = fa.response, fb.response
        if ends[0] != ends[1]:  # answers of two different steps: where it shows is the change
            self.add("failure-moved", p + ("through",), subject, *ends)
        else:
            self.failure_response(p, subject, ra, rb)
        if targets[0] != targets[1]:
            self.add("failure-target-changed", p + ("to",), subject, *targets)
        self.changed("failure-retry-changed", p, subject, fa, fb, "retry")
        if fa.provoke.model_dump(exclude={"description"}) != fb.provoke.model_dump(exclude={"description"}):
            self.add("provoke-changed", p + ("provoke",), subject)
        if fa.id != fb.id:
            self.text(p + ("id",), subject, "id", fa.id, fb.id)
        self.texts(p, subject, fa, fb, {"title": "title", "when": "condition (when)", "remedy": "remedy"})
        self.text(p + ("provoke", "description"), subject, "provoke description", fa.provoke.description,
                  fb.provoke.description)
        self.text(p + ("response", "description"), subject, "response description", ra.description, rb.description)


# ------------------------------------------------------------------ helpers


def _status(s: int | list[int]) -> C.Shown:
    return C.Shown(", ".join(str(x) for x in s) if isinstance(s, list) else str(s))


def _place(loc: str) -> str:
    return {"params": "path", "query": "query", "form": "form body", "json": "JSON body", "headers": "headers"}[loc]


def _params(r: Request) -> dict[str, dict[str, tuple[str, Any]]]:
    """Parameters by place; each key normalised (headers case-insensitive) → (name as written, value)."""
    out: dict[str, dict[str, tuple[str, Any]]] = {
        "params": {k: (k, v) for k, v in r.params.items()},
        "query": {k: (k, v) for k, v in r.query.items()},
        "form": {k: (k, v) for k, v in (r.form or {}).items()},
        "json": {k: (k, v) for k, v in r.json_body.items()} if isinstance(r.json_body, dict) else {},
        "headers": {k.lower(): (k, v) for k, v in r.headers.items()},
    }
    return out


def _failure_label(r: FailureResponse) -> C.Shown:
    if r.outcome != "response":
        return C.Shown(r.outcome)
    return C.Shown("/".join(map(str, r.statuses)) + (f" {r.error}" if r.error else ""))


def _match_failures(a: Iterable, b: Iterable):
    """Pair failures by id; then, among the rest, by the same status, error and outcome (a renamed branch)."""
    a, b = list(a), list(b)
    bid = {f.id: f for f in b}
    ids_a = {f.id for f in a}
    matched = [(f, bid[f.id]) for f in a if f.id in bid]
    paired_b = {fb.id for _fa, fb in matched}
    rest_a = [f for f in a if f.id not in bid]
    rest_b = [f for f in b if f.id not in paired_b and f.id not in ids_a]
    gone = []
    for fa in rest_a:
        sig = (fa.response.statuses, fa.response.error, fa.response.outcome)
        match = next((fb for fb in rest_b if (fb.response.statuses, fb.response.error, fb.response.outcome) == sig),
                     None)
        if match is None:
            gone.append(fa)
        else:
            rest_b.remove(match)
            matched.append((fa, match))
    return matched, gone, rest_b
