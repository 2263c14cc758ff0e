"""Check: what a flow claims must be provable — failure branches that can be told apart from
success, parameters drawn on arrows that are sent, troubleshooting rows that agree with the
failure branches, lifetimes and probes that name real inputs and parameters.

Each rule reports with the position of the offending value (FILE:LINE:COL), as graph checks do.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ..diagnostics import DiagnosticList, quote
from ..model.flow import Failure, FailureResponse, Flow, Request, Response, Transition, parse_duration

_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: what each client authentication method sends besides the documented parameters
AUTH_SENDS: dict[str, frozenset[str]] = {
    "client_secret_basic": frozenset({"authorization", "client_id", "client_secret"}),
    "client_secret_post": frozenset({"client_id", "client_secret"}),
    "bearer": frozenset({"authorization"}),
    "none": frozenset(),
}


def check_claims(flow: Flow, diags: DiagnosticList) -> None:
    """Every rule of this module (run by validate, after the graph checks)."""
    for i, t in enumerate(flow.transitions):
        _observed_by(flow, i, t, diags)
        if t.request is not None:
            _key_params(flow, i, t.request, diags)
            _optional(flow, i, t.request, diags)
        for j, f in enumerate(t.failures):
            end = _through(flow, i, t, j, f, diags)
            if end is not None:
                _distinguishable(flow, i, t, j, f, end, diags)
    _troubleshooting(flow, diags)
    _ttl_inputs(flow, diags)


# ------------------------------------------------------------------ parameters


def documented_params(req: Request) -> dict[str, str]:
    """The parameters a request documents, lower-cased name -> where (query, form, json, header,
    path, or the client authentication)."""
    out: dict[str, str] = {}
    for name in _SEGMENT.findall(req.path):
        out[name.lower()] = "path"
    for name in req.params:
        out[name.lower()] = "path"
    for name in req.query:
        out[name.lower()] = "query"
    for name in req.form or {}:
        out[name.lower()] = "form"
    if isinstance(req.json_body, dict):
        for name in req.json_body:
            out[str(name).lower()] = "json"
    for name in req.headers:
        out[name.lower()] = "header"
    for name in AUTH_SENDS.get(req.auth, frozenset()):
        out.setdefault(name, "client authentication")
    for name in req.omit:  # left out: not sent, whatever else says so
        out.pop(name.lower(), None)
    return out


def _param_name(shown: str) -> str:
    """``Authorization: Basic`` → ``authorization``; ``grant_type=x`` → ``grant_type``."""
    return re.split(r"[:=]", shown, maxsplit=1)[0].strip().lower()


def sent_at_runtime(req: Request) -> bool:
    """Whether the request also sends parameters known only when it runs (a URL or a form read earlier)."""
    return bool(req.url or req.submit_form)


def _key_params(flow: Flow, i: int, req: Request, diags: DiagnosticList) -> None:
    if not req.key_params:
        return
    omitted = {o.lower() for o in req.omit}
    runtime = sent_at_runtime(req)  # a request built from an earlier step's URL or form: verify checks what it sends
    known = documented_params(req)
    for k, shown in enumerate(req.key_params):
        name = _param_name(shown)
        if name in omitted or (not runtime and name not in known):
            diags.add("key-param-not-sent",
                      f"key parameter {quote(shown)} is drawn on the arrow of '{flow.transitions[i].id}' but the "
                      "request does not send it", flow.pos("transitions", i, "request", "key_params", k),
                      help="add it to query, form, json or headers, or remove it from key_params")


def _optional(flow: Flow, i: int, req: Request, diags: DiagnosticList) -> None:
    if not req.optional:  # nothing to look up
        return
    known = documented_params(req)
    for k, name in enumerate(req.optional):
        if name.lower() not in known and not sent_at_runtime(req):
            diags.add("undefined-parameter", f"optional parameter {quote(name)} is not a parameter of the request",
                      flow.pos("transitions", i, "request", "optional", k),
                      help="name a query, form, json or header parameter of this request")


# ------------------------------------------------------------------ failure branches


def _through(flow: Flow, i: int, t: Transition, j: int, f: Failure,
             diags: DiagnosticList) -> Transition | None:
    """The step where the failure's response shows (the transition itself, or the last of
    ``through``); None when ``through`` is broken (reported)."""
    tmap, prev = flow.transition_map, t
    if f.through and (f.provoke.replay or f.provoke.attempts > 1):
        diags.add("through-not-runnable", f"failure '{f.id}' runs on through later steps, so it cannot also replay or "
                  "repeat its request (attempts)", flow.pos("transitions", i, "failures", j, "through"))
        return None
    for k, sid in enumerate(f.through):
        here = ("transitions", i, "failures", j, "through", k)  # looked up for a problem only
        nxt = tmap.get(sid)
        if nxt is None:
            diags.add("undefined-step", f"failure '{f.id}' runs on through undefined transition {quote(sid)}",
                      flow.pos(*here))
            return None
        if nxt.from_ != prev.to:
            diags.add("through-broken", f"failure '{f.id}': '{sid}' leaves '{nxt.from_}' but '{prev.id}' ends in "
                      f"'{prev.to}'", flow.pos(*here),
                      help="list the steps in order, each leaving the state the one before reaches")
            return None
        if nxt.internal or nxt.request is None or nxt.parallel:
            diags.add("through-not-runnable", f"failure '{f.id}' runs on through '{sid}', which is not an HTTP step a "
                      "client sends (internal, parallel or an action)",
                      flow.pos(*here))
            return None
        prev = nxt
    return prev


def _distinguishable(flow: Flow, i: int, t: Transition, j: int, f: Failure, end: Transition,
                     diags: DiagnosticList) -> None:
    if end.response is None or f.response.outcome != "response":
        return
    if not indistinguishable(f.response, end.response):
        return
    at = f"'{end.id}'" + (f" (where it ends, after '{t.id}')" if end is not t else "")
    diags.add(
        "failure-indistinguishable",
        f"failure '{f.id}' documents an answer that the success of {at} also gives "
        f"({describe(f.response)}): any answer that proves the step would prove the failure",
        flow.key_pos("transitions", i, "failures", j, "response") or flow.pos("transitions", i, "failures", j),
        help="document what tells it apart (the error code, the status, a body value, the redirect target or a "
             "header), or let it "
             "run on with through: [STEP] to the step where the error shows",
    )


def indistinguishable(fr: FailureResponse, ok: Response) -> bool:
    """Whether an answer can satisfy both the failure's documented response and the success one:
    same status, no error code, no redirect target, query value or header value of its own."""
    if not set(fr.statuses) & set(ok.statuses) or fr.error:
        return False
    if "error" in fr.fields:
        return False
    if _headers_differ(fr.headers, ok.headers) or _values_differ(fr.body, ok.body):
        return False
    if fr.content_type and ok.content_type and _media(fr.content_type) != _media(ok.content_type):
        return False
    if fr.redirect is not None:
        okr = ok.redirect
        if fr.redirect.to and okr is not None and okr.to and fr.redirect.to != okr.to:
            return False
        for key, value in fr.redirect.query.items():
            if key == "error":
                return False
            if okr is not None and key in okr.query and value is not None and okr.query[key] not in (None, value):
                return False
    return True


def _headers_differ(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    other = {k.lower(): v for k, v in theirs.items()}
    for name, value in mine.items():
        have = other.get(name.lower())
        if value is not None and have is not None and have != value:
            return True
    return False


def _values_differ(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """A body field both answers document, with values no answer can have at once (active: false / true)."""
    def fixed(v: Any) -> bool:  # a value a reference could not make equal to another at run time
        return not (isinstance(v, str) and "${" in v)

    return any(key in theirs and fixed(value) and fixed(theirs[key]) and value != theirs[key]
               for key, value in mine.items())


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def describe(fr: FailureResponse) -> str:
    parts = ["/".join(map(str, fr.statuses))]
    if fr.redirect is not None and fr.redirect.to:
        parts.append(f"redirect to {fr.redirect.to}")
    return ", ".join(parts) + ", no error code"


# ------------------------------------------------------------------ troubleshooting, lifecycle, internal steps


def documented_errors(flow: Flow) -> Iterator[tuple[str, int, str]]:
    """(error code, status, where) of every failure branch and step response that documents one."""
    for t in flow.transitions:
        if t.response is not None and t.response.error:
            for status in t.response.statuses:
                yield t.response.error, status, f"step '{t.id}'"
        for f in t.failures:
            if f.response.error:
                for status in f.response.statuses:
                    yield f.response.error, status, f"failure '{f.id}'"


def _troubleshooting(flow: Flow, diags: DiagnosticList) -> None:
    errors: dict[tuple[str, str], list[int]] = {}  # (code, where) -> the statuses documented there (one or a list)
    for code, status, where in documented_errors(flow):
        errors.setdefault((code, where), []).append(status)
    for k, row in enumerate(flow.troubleshooting):
        if row.status is None:
            continue
        for (code, where), statuses in errors.items():
            if code == row.error and row.status not in statuses:
                diags.add("troubleshooting-contradicts",
                          f"troubleshooting row {quote(row.error)} says status {row.status}, but {where} documents "
                          f"{'/'.join(map(str, statuses))} {code}", flow.pos("troubleshooting", k, "status"),
                          help="give the status the failure branch documents (or fix the branch)")
                break


def _ttl_inputs(flow: Flow, diags: DiagnosticList) -> None:
    if flow.lifecycle is None:
        return
    for name, tok in flow.lifecycle.tokens.items():
        if tok.ttl_input is None:
            continue
        here = ("lifecycle", "tokens", name, "ttl_input")  # looked up for a problem only
        inp = flow.inputs.get(tok.ttl_input)
        if inp is None:
            diags.add("undefined-input", f"token {quote(name)}: ttl_input names undeclared input {quote(tok.ttl_input)}",
                      flow.pos(*here))
            continue
        if tok.ttl is None:
            diags.add("ttl-input-without-ttl", f"token {quote(name)} has a ttl_input but no ttl", flow.pos(*here),
                      help="state the documented lifetime as ttl")
            continue
        try:
            default = parse_duration(inp.default) if inp.default is not None else None
        except ValueError:
            default = None
        if default != tok.ttl:
            diags.add("ttl-input-default",
                      f"token {quote(name)}: the default of input {quote(tok.ttl_input)} ({inp.default!r}) is not its "
                      f"ttl ({tok.ttl} s)", flow.pos(*here),
                      help="give the input the documented lifetime as default, so verify checks what the page says")


def _observed_by(flow: Flow, i: int, t: Transition, diags: DiagnosticList) -> None:
    if t.observed_by is None:
        return
    here = ("transitions", i, "observed_by")  # looked up for a problem only
    other = flow.transition_map.get(t.observed_by)
    if not t.internal:
        diags.add("observed-by-not-internal", f"'{t.id}' is not internal: it is observed by its own exchange",
                  flow.pos(*here))
    elif other is None:
        diags.add("undefined-step", f"'{t.id}' is observed by undefined transition {quote(t.observed_by)}",
                  flow.pos(*here))
    elif other.internal or other.request is None:
        diags.add("observed-by-not-runnable", f"'{t.id}' is observed by '{other.id}', which a client cannot send "
                  "(internal or an action)", flow.pos(*here))
