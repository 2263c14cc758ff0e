"""One flow transition → one Arazzo step: request parameters, body, client authentication,
success criteria and outputs.

A step is built for a *mode*: ``happy`` (the documented exchange), ``provoke`` (a failure
branch's changed request, checked against the failure's response), ``attempt`` (an earlier try
of a lockout, not checked beyond the documented statuses). Whatever Arazzo cannot express raises
:class:`~._expr.Unexpressible` (the step is left out), or is returned as a note when only a check
is lost and the step still runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..model.flow import Failure, FailureResponse, Request, RequestPatch, Response, Transition
from ._expr import (
    LeftOut,
    Scope,
    Translator,
    Unexpressible,
    case_insensitive,
    json_pointer,
    jsonpath_member,
    regex_literal,
    response_expression,
)
from ._openapi import OpenApiSet

FORM = "application/x-www-form-urlencoded"
_NO_PATCH = RequestPatch()


@dataclass
class Note:
    """A check or detail of a step that Arazzo does not express; the step still runs."""

    kind: str
    reason: str
    effect: str = "check not expressed"


@dataclass
class StepPlan:
    transition: Transition
    mode: str  # happy | provoke | attempt
    step_id: str
    failure: Failure | None = None
    notes: list[Note] = field(default_factory=list)


def refusals(t: Transition, mode: str, failure: Failure | None) -> list[Unexpressible]:
    """Reasons a step cannot run at all, found before anything is translated."""
    if t.internal:
        return [Unexpressible("internal", "happens inside the system under test (no request a client sends)")]
    if not t.is_http:
        return [Unexpressible("action", "is an action with no HTTP exchange")]
    out: list[Unexpressible] = []
    if t.parallel:
        out.append(Unexpressible("parallel", f"runs concurrently in parallel group '{t.parallel}'; "
                                 "Arazzo runs steps one after another"))
    if mode == "happy" and t.wait is not None:
        out.append(Unexpressible("wait", f"waits {t.wait} s first (past a TTL); Arazzo has no wait"))
    req = t.request
    assert req is not None
    if req.submit_form:
        out.append(Unexpressible("html-form", "submits an HTML form read from an earlier page"))
    if req.url:
        out.append(Unexpressible("url-from-response", "requests a URL taken from an earlier response; "
                                 "an Arazzo step calls a fixed operation"))
    return out + (_failure_refusals(failure) if failure is not None else [])


def _failure_refusals(failure: Failure) -> list[Unexpressible]:
    out: list[Unexpressible] = []
    pv = failure.provoke
    if pv.wait is not None:
        out.append(Unexpressible("wait", f"waits {pv.wait} s before the request (past a TTL); Arazzo has no wait"))
    if pv.timeout is not None or failure.response.outcome != "response":
        out.append(Unexpressible("timeout", f"expects a {failure.response.outcome} (client timeout); "
                                 "Arazzo has no step timeout"))
    if pv.request is not None and pv.request.url:
        out.append(Unexpressible("url-from-response", "requests a URL taken from an earlier response"))
    if failure.through:
        out.append(Unexpressible("through", f"shows only at a later step ('{failure.through[-1]}'), after "
                                 "the provoked one answers as it documents"))
    return out


def _response_refusals(resp: Response | FailureResponse,
                       follow: bool | Literal["same-origin"]) -> list[Unexpressible]:
    out: list[Unexpressible] = []
    statuses = resp.statuses
    redirects = [s for s in statuses if s is not None and 300 <= s < 400]
    if not follow and (redirects or resp.redirect is not None):
        what = f"a {redirects[0]} redirect" if redirects else "a redirect"
        out.append(Unexpressible("redirect", f"expects {what}, which Respect follows (Arazzo cannot ask "
                                 "a runner to leave a redirect unfollowed)"))
    if isinstance(resp, Response) and resp.form:
        out.append(Unexpressible("html-form", "expects an HTML page with a form"))
    return out


class StepBuilder:
    def __init__(self, scope: Scope, openapi: OpenApiSet):
        self.scope = scope
        self.openapi = openapi
        self._pending: list[tuple] = []  # operations to describe once the step is built

    def build(self, plan: StepPlan) -> dict:
        """The Arazzo step for ``plan``; raises Unexpressible (and describes nothing) when it cannot run."""
        self._pending = []
        inputs = dict(self.scope.inputs)
        try:
            step = self._build(plan)
        except LeftOut:
            self.scope.inputs.clear()
            self.scope.inputs.update(inputs)  # a step left out asks for no input
            raise
        for kind, args in self._pending:
            getattr(self.openapi, kind)(*args)
        return step

    def _build(self, plan: StepPlan) -> dict:
        t = plan.transition
        problems = refusals(t, plan.mode, plan.failure if plan.mode == "provoke" else None)
        if t.request is None:
            raise LeftOut(problems)
        req: Request = t.request
        patch, overrides, spec = _mode(plan)
        if spec is not None:
            problems += _response_refusals(spec, req.follow_redirects)
        tr = Translator(self.scope, overrides, problems)
        method, path = (patch.method or req.method).lower(), patch.path or req.path
        step: dict[str, Any] = {"stepId": plan.step_id, "description": _describe(t, plan),
                                "operationPath": self.openapi.operation_path(t.receiver, method, path)}
        params, body, security = self._request(t, req, patch, tr)
        for key, value in (("parameters", params), ("requestBody", body), ("x-security", security)):
            if value:
                step[key] = value
        if spec is not None:
            criteria, notes = _criteria(spec, tr, bearer=(patch.auth or req.auth) == "bearer")
            step["successCriteria"] = criteria
            plan.notes.extend(notes)
            self._pending.append(("add_statuses", (t.receiver, method, path, _statuses(spec))))
        if plan.mode == "happy":
            self._happy_extras(step, t, req, plan)
        if req.timeout is not None:
            plan.notes.append(Note("timeout", f"client timeout {req.timeout} s (Respect: --max-fetch-timeout)"))
        if problems:
            plan.notes.clear()
            raise LeftOut(problems)
        return step

    def _happy_extras(self, step: dict, t: Transition, req: Request, plan: StepPlan) -> None:
        outputs = self._outputs(t, plan)
        if outputs:
            step["outputs"] = outputs
        plan.notes.extend(_happy_notes(t))
        if req.retry is not None:
            step["onFailure"] = [{"name": "retry", "type": "retry", "stepId": plan.step_id,
                                  "retryAfter": req.retry.backoff, "retryLimit": req.retry.attempts - 1}]

    # ------------------------------------------------------------------ request
    def _request(self, t: Transition, req: Request, p: RequestPatch,
                 tr: Translator) -> tuple[list[dict], dict | None, list[dict]]:
        omit = {o.lower() for o in p.omit}
        params = _parameters(req, p, tr, omit)
        body, form = _body(req, p, tr, omit)
        security: list[dict] = []
        auth = p.auth or req.auth
        if auth == "client_secret_basic" and "authorization" not in omit:
            cid, secret = _client(req, p, tr)
            security.append({"scheme": {"type": "http", "scheme": "basic"},
                             "values": {"username": cid, "password": secret}})
        elif auth == "client_secret_post":
            body = _post_credentials(req, p, tr, omit, body, form)
        elif auth == "bearer" and "authorization" not in omit:
            token = tr.value(p.token if p.token is not None else req.token)
            value = "Bearer " + ("{" + token + "}" if isinstance(token, str) and token.startswith("$") else str(token))
            params.append({"name": "Authorization", "in": "header", "value": value})
        self._pending.insert(0, ("add_operation", (t.receiver, (p.method or req.method).lower(), p.path or req.path,
                                                   t, body["contentType"] if body else None, auth)))
        return params, body, security

    # ------------------------------------------------------------------ outputs
    def _outputs(self, t: Transition, plan: StepPlan) -> dict[str, str]:
        outs = self.scope.outputs.setdefault(plan.step_id, {})
        assert t.response is not None
        for name, cap in t.response.capture.items():
            try:
                outs[name] = response_expression(tuple(cap.source.split(".")))
            except Unexpressible as exc:
                plan.notes.append(Note(exc.kind, f"capture '{name}' {exc.reason}", "output left out"))
        return outs


def _mode(plan: StepPlan) -> tuple[RequestPatch, dict, Response | FailureResponse | None]:
    """The request patch, input overrides and expected response of a step in its mode."""
    t, f = plan.transition, plan.failure
    if plan.mode == "happy" or f is None:
        return _NO_PATCH, {}, t.response if plan.mode == "happy" else None
    patch = f.provoke.request or _NO_PATCH
    return patch, dict(f.provoke.inputs), f.response if plan.mode == "provoke" else None


def _parameters(req: Request, p: RequestPatch, tr: Translator, omit: set[str]) -> list[dict]:
    params: list[dict] = []
    for name in _path_params(p.path or req.path):
        if name in req.params:
            params.append({"name": name, "in": "path", "value": tr.text(req.params[name])})
        elif not (p.url or req.url or req.submit_form):  # refused already: the URL comes from elsewhere
            _problem(tr, Unexpressible("path-param", f"path parameter '{name}' has no value"))
    for where, values in (("query", {**req.query, **p.query}), ("header", {**req.headers, **p.headers})):
        for k, v in values.items():
            if k.lower() not in omit and v is not None:
                params.append({"name": k, "in": where, "value": tr.text(v)})
    return params


def _client(req: Request, p: RequestPatch, tr: Translator) -> tuple[Any, Any]:
    cid = tr.text(p.client_id if p.client_id is not None else req.client_id)
    secret = tr.text(p.client_secret if p.client_secret is not None else req.client_secret)
    return cid, secret


def _post_credentials(req: Request, p: RequestPatch, tr: Translator, omit: set[str], body: dict | None,
                      form: dict | None) -> dict:
    """client_secret_post: the client id and secret join the form body."""
    if body is not None and form is None:
        _problem(tr, Unexpressible("auth", "client_secret_post with a JSON body"))
    cid, secret = _client(req, p, tr)
    form = dict(form or {})
    for name, value in (("client_id", cid), ("client_secret", secret)):
        if name not in omit:
            form[name] = value
    return {"contentType": FORM, "payload": form}


def _body(req: Request, p: RequestPatch, tr: Translator, omit: set[str]) -> tuple[dict | None, dict | None]:
    if req.form is not None or p.form:
        merged = {**(req.form or {}), **p.form}
        form = {k: tr.text(v) for k, v in merged.items() if k.lower() not in omit and v is not None}
        return {"contentType": FORM, "payload": form}, form
    base, over = req.json_body, p.json_body
    if base is None and over is None:
        return None, None
    value: Any = {**base, **over} if isinstance(base, dict) and isinstance(over, dict) else \
        (over if over is not None else base)
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k.lower() not in omit}
    return {"contentType": "application/json", "payload": tr.value(value)}, None


def _problem(tr: Translator, problem: Unexpressible) -> None:
    assert tr.problems is not None
    tr.problems.append(problem)


def _path_params(path: str) -> list[str]:
    return re.findall(r"\{([^{}/]+)\}", path)


def _describe(t: Transition, plan: StepPlan) -> str:
    if plan.mode == "provoke" and plan.failure is not None:
        f = plan.failure
        return f"{t.title}: failure '{f.id}' ({f.title or f.when}), provoked when {f.when}."
    if plan.mode == "attempt":
        return f"{t.title}: an earlier attempt of failure '{plan.failure.id if plan.failure else ''}'."
    return t.title


def _statuses(spec: Response | FailureResponse) -> list[int]:
    return spec.statuses


def _status_criterion(statuses: list[int]) -> dict:
    if len(statuses) == 1:
        return {"condition": f"$statusCode == {statuses[0]}"}
    return {"context": "$statusCode", "condition": "^(?:" + "|".join(str(s) for s in statuses) + ")$",
            "type": "regex"}


def _criteria(spec: Response | FailureResponse, tr: Translator, *, bearer: bool) -> tuple[list[dict], list[Note]]:
    out: list[dict] = [_status_criterion(_statuses(spec))]
    notes: list[Note] = []
    if spec.content_type:
        media = spec.content_type.split(";")[0].strip()
        out.append({"context": "$response.header.Content-Type",
                    "condition": f"^{case_insensitive(media)}(?:;|$)", "type": "regex"})
    for f in spec.fields:
        out.append({"context": "$response.body", "condition": f"$[?{jsonpath_member(f.split('.'))}]",
                    "type": "jsonpath"})
    for k, want in spec.body.items():
        out.append(_equals(f"$response.body#{json_pointer(k.split('.'))}", want, tr, notes))
    for name, want in spec.headers.items():
        if want is None:
            out.append({"condition": f"$response.header.{name} != null"})
        else:
            out.append(_equals(f"$response.header.{name}", want, tr, notes))
    if spec.error:
        out.append(_error_criterion(spec.error, bearer))
    return out, notes


def _equals(context: str, want: Any, tr: Translator, notes: list[Note]) -> dict:
    # a literal is matched by an escaped regex; only references go through the translator
    if isinstance(want, str) and "${" in want.replace("$${", ""):
        value = tr.value(want)
        notes.append(Note("case-insensitive", f"{context} is compared with a runtime value by a simple "
                          "condition, which Arazzo compares without regard to case"))
        if isinstance(value, str) and value.startswith("$"):
            return {"condition": f"{context} == {value}"}
        return {"condition": f"{context} == '{value}'"}
    value = want.replace("$${", "${") if isinstance(want, str) else want
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        text = "null" if value is None else ("true" if value is True else "false" if value is False else str(value))
        return {"condition": f"{context} == {text}"}
    return {"context": context, "condition": f"^{regex_literal(str(value))}$", "type": "regex"}


def _error_criterion(code: str, bearer: bool) -> dict:
    if bearer:  # RFC 6750 §3: the code is in the WWW-Authenticate challenge
        return {"context": "$response.header.WWW-Authenticate",
                "condition": f'(?:^|[\\s,])error="?{regex_literal(code)}"?(?:$|[\\s,])', "type": "regex"}
    return {"context": "$response.body#/error", "condition": f"^{regex_literal(code)}$", "type": "regex"}


def _happy_notes(t: Transition) -> list[Note]:
    notes: list[Note] = []
    resp = t.response
    assert resp is not None
    for jc in resp.jwt:
        notes.append(Note("jwt", f"JWT checks of {jc.token} (signature against the JWKS, claims); "
                          "Arazzo cannot decode a JWT"))
    if t.guard is not None and t.guard.expr:
        notes.append(Note("guard", f"guard expression '{t.guard.expr}'; Arazzo has no preconditions"))
    return notes
