"""What a flow states that a server can show, and what it cannot: the elements verify counts.

Each element of a flow is a :class:`Statement` with a stable id: a transition
(``transition:ID``), a failure branch (``failure:T/F``), the state a failure leads to
(``state:T/F``), a lifecycle field (``lifecycle:TOKEN.FIELD``), a troubleshooting row
(``troubleshooting:N``), the key parameters of a request built from an earlier step
(``key_params:ID``). :func:`catalog` decides, from the flow alone, which are observable and why
the others are not (an internal step behind a gateway, an action, prose, a terminal state).
A run then proves observable statements one by one (or finds one it could not observe after all,
e.g. a token that states no lifetime).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.flow import Failure, Flow, Response, TokenLifecycle, Transition
from ._result import NOT_RUN, PROVEN, UNOBSERVABLE, Coverage, Element, ScenarioResult

TRANSITION, FAILURE, STATEMENT = "transition", "failure", "statement"

#: other names a token goes by in responses and requests
ALIASES: dict[str, tuple[str, ...]] = {"authorization_code": ("code",)}

#: lifecycle fields that describe the client or are prose: never observable
_PROSE_FIELDS = {
    "idle_ttl": "an idle lifetime shows only after that long unused",
    "refresh_ahead": "when the client refreshes is the client's behaviour",
    "rotation": "prose",
    "revocation": "prose",
}


@dataclass
class Statement:
    id: str
    kind: str  # transition | failure | statement
    text: str
    observable: bool = True
    reason: str = ""  # why it cannot be observed
    proven_by: list[str] = field(default_factory=list)  # other ids whose proof proves this one


@dataclass(frozen=True)
class TokenClaim:
    """What the lifecycle says of a token a step's response carries."""

    name: str
    source: str  # where the response carries it: body.access_token, location.query.code, cookies.x ...
    format: str | None = None
    ttl: int | None = None
    ttl_ref: str | None = None  # "${inputs.NAME}" when the lifetime on the server under test is an input
    rotates: bool | None = None
    sent: str | None = None  # the request's value of the same token (a rotation sends the old one)

    @property
    def expires_in(self) -> bool:
        """The body's ``expires_in`` states this token's lifetime (RFC 6749 §5.1: the access token's)."""
        return self.name == "access_token"


def names_of(token: str) -> tuple[str, ...]:
    return (token, *ALIASES.get(token, ()))


def token_source(token: str, resp: Response) -> str | None:
    """Where a documented response carries the token (a body field, a capture, a JWT check), or None."""
    names = names_of(token)
    for n in names:
        if n in resp.fields:
            return f"body.{n}"
    for cname, cap in resp.capture.items():
        if cname in names or cap.source.rsplit(".", 1)[-1] in names:
            return cap.source
    for jc in resp.jwt:
        if "${" not in jc.token and jc.token.rsplit(".", 1)[-1] in names:
            return jc.token
    return None


def sent_value(token: str, t: Transition) -> str | None:
    """The value (expression) the step's request sends for the token, if it sends one."""
    req = t.request
    if req is None:
        return None
    params = {**req.query, **(req.form or {}), **(req.json_body if isinstance(req.json_body, dict) else {})}
    for n in names_of(token):
        value = params.get(n)
        if isinstance(value, str):
            return value
    return None


def shows(t: Transition) -> bool:
    """A step whose exchange a client makes and sees."""
    return t.request is not None and t.response is not None and not t.internal


def token_claims(flow: Flow, t: Transition) -> tuple[TokenClaim, ...]:
    """The lifecycle statements the response of ``t`` can show."""
    if flow.lifecycle is None or not shows(t):
        return ()
    out = []
    for name, tok in flow.lifecycle.tokens.items():
        source = token_source(name, t.response)  # type: ignore[arg-type]
        if source is None:
            continue
        out.append(TokenClaim(name, source, tok.format, tok.ttl,
                              "${inputs." + tok.ttl_input + "}" if tok.ttl_input else None,
                              tok.rotates, sent_value(name, t)))
    return tuple(out)


# ------------------------------------------------------------------ the catalog


def catalog(flow: Flow) -> list[Statement]:
    out: list[Statement] = []
    for t in flow.transitions:
        out.append(_transition(t))
    for t in flow.transitions:
        for f in t.failures:
            out.append(_failure(t, f))
            out.append(_state(flow, t, f))
    for t in flow.transitions:
        if shows(t) and t.request.key_params and (t.request.url or t.request.submit_form):  # type: ignore[union-attr]
            out.append(Statement(f"key_params:{t.id}", STATEMENT,
                                 f"'{t.id}' sends {', '.join(t.request.key_params)}"))  # type: ignore[union-attr]
    for t in flow.transitions:
        poll = t.request.poll if t.request is not None and shows(t) else None
        for a in poll.pending if poll is not None else ():
            out.append(Statement(f"poll:{t.id}/{a.error}", STATEMENT,
                                 f"'{t.id}' answers {a.error} while polling" + (f" (+{a.added} s)" if a.added else "")))
    if flow.lifecycle is not None:
        for name, tok in flow.lifecycle.tokens.items():
            out += _lifecycle(flow, name, tok)
    out += _troubleshooting(flow)
    return out


def _transition(t: Transition) -> Statement:
    sid, text = f"transition:{t.id}", t.id
    if t.internal and t.observed_by:
        return Statement(sid, TRANSITION, text, proven_by=[])
    if t.internal:
        return Statement(sid, TRANSITION, text, False, f"internal: {t.sender} → {t.receiver} happens behind the "
                         "server under test (set observed_by to the step that shows it)")
    if t.request is None:
        return Statement(sid, TRANSITION, text, False, "an action with no HTTP exchange (prose)")
    return Statement(sid, TRANSITION, text)


def _failure(t: Transition, f: Failure) -> Statement:
    sid, text = f"failure:{t.id}/{f.id}", f"{t.id}/{f.id}"
    if t.internal or t.request is None:
        return Statement(sid, FAILURE, text, False, f"a failure of the {'internal' if t.internal else 'action'} "
                         f"step '{t.id}'")
    return Statement(sid, FAILURE, text)


def follow_route(flow: Flow, state_id: str) -> list[Transition]:
    """From a state: the actions a person takes, then the first step a client sends ([] if none)."""
    happy = flow.happy_path()
    route: list[Transition] = []
    seen: set[str] = set()
    while state_id not in seen and len(route) < 20:
        seen.add(state_id)
        state = flow.state_map.get(state_id)
        if state is None or state.terminal:
            return []
        cand = [t for t in happy if t.from_ == state_id] or [
            t for t in flow.transitions
            if t.from_ == state_id and not getattr(flow.state_map.get(t.to), "failure", False)
        ]
        if not cand or cand[0].parallel or cand[0].internal:
            return []
        route.append(cand[0])
        if cand[0].request is not None:
            return route
        state_id = cand[0].to
    return []


def _state(flow: Flow, t: Transition, f: Failure) -> Statement:
    sid = f"state:{t.id}/{f.id}"
    target = f.to or t.from_
    text = f"after {f.id} the flow is in '{target}'"
    if t.internal or t.request is None:
        return Statement(sid, STATEMENT, text, False, "the failure itself cannot be observed")
    state = flow.state_map.get(target)
    if state is not None and state.terminal:
        return Statement(sid, STATEMENT, text, False, "a terminal state: no step leaves it")
    if not follow_route(flow, target):
        return Statement(sid, STATEMENT, text, False, "no step a client sends leaves it")
    return Statement(sid, STATEMENT, text)


def _lifecycle(flow: Flow, name: str, tok: TokenLifecycle) -> list[Statement]:
    showing = [t for t in flow.transitions if shows(t) and token_source(name, t.response) is not None]  # type: ignore[arg-type]
    hidden = [t for t in flow.transitions if t.internal and t.response is not None
              and token_source(name, t.response) is not None]
    absent = (f"only internal steps carry it ({', '.join(t.id for t in hidden)})" if hidden
              else "no documented response of this flow carries it")
    out: list[Statement] = []
    for fld in ("ttl", "format", "rotates", "single_use", *_PROSE_FIELDS):
        value = getattr(tok, fld)
        if value is None or (fld == "single_use" and value is False):
            continue
        sid, text = f"lifecycle:{name}.{fld}", f"{name} {fld}: {_shown(fld, value)}"
        if fld in _PROSE_FIELDS:
            out.append(Statement(sid, STATEMENT, text, False, _PROSE_FIELDS[fld]))
        elif fld == "single_use":
            out.append(_single_use(flow, name, sid, text))
        elif not showing:
            out.append(Statement(sid, STATEMENT, text, False, absent))
        elif fld == "rotates" and not any(sent_value(name, t) for t in showing):
            out.append(Statement(sid, STATEMENT, text, False, "no step of this flow redeems it"))
        elif fld == "ttl" and name != "access_token" and tok.format == "opaque":
            out.append(Statement(sid, STATEMENT, text, False, "an opaque token: its lifetime shows only when it "
                                 "has passed"))
        else:
            out.append(Statement(sid, STATEMENT, text))
    return out


def _shown(fld: str, value: object) -> str:
    """A lifecycle value as a reader sees it: ``1 h``, ``true``, text cut at 60 characters."""
    if isinstance(value, bool):
        return str(value).lower()
    if fld in ("ttl", "idle_ttl", "refresh_ahead") and isinstance(value, int):
        return _duration(value)
    text = " ".join(str(value).split())
    return text if len(text) <= 60 else text[:59] + "…"


def _duration(seconds: int) -> str:
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts)


def _single_use(flow: Flow, name: str, sid: str, text: str) -> Statement:
    replays = [f"failure:{t.id}/{f.id}" for t in flow.transitions if shows(t) and sent_value(name, t)
               for f in t.failures if f.provoke.replay]
    if replays:
        return Statement(sid, STATEMENT, text, proven_by=replays)
    return Statement(sid, STATEMENT, text, False, "no failure branch replays it (provoke: {replay: true})")


def _troubleshooting(flow: Flow) -> list[Statement]:
    out = []
    for k, row in enumerate(flow.troubleshooting):
        by = [f"failure:{t.id}/{f.id}" for t in flow.transitions if shows(t)
              for f in t.failures if f.response.error == row.error]
        by += [f"transition:{t.id}" for t in flow.transitions if shows(t) and t.response.error == row.error]  # type: ignore[union-attr]
        text = f"troubleshooting {row.error}" + (f" ({row.status})" if row.status else "")
        if by:
            out.append(Statement(f"troubleshooting:{k}", STATEMENT, text, proven_by=by))
        else:
            out.append(Statement(f"troubleshooting:{k}", STATEMENT, text, False,
                                 "no failure branch or step documents this error (prose)"))
    return out


# ------------------------------------------------------------------ a run's coverage


def coverage(flow: Flow, results: list[ScenarioResult]) -> Coverage:
    """What the scenarios of one flow proved, element by element (see :class:`Coverage`)."""
    proven: set[str] = set()
    unobserved: dict[str, str] = {}
    for res in results:
        proven.update(f"transition:{t}" for t in res.covered_transitions)
        if res.covered_failure:
            proven.add(f"failure:{res.covered_failure}")
        proven.update(res.proven)
        for sid, why in res.unobserved.items():
            unobserved.setdefault(sid, why)
    elements = []
    for st in catalog(flow):
        if not st.observable:
            result, reason = UNOBSERVABLE, st.reason
        elif st.id in proven or any(p in proven for p in st.proven_by):
            result, reason = PROVEN, ""
        elif st.id in unobserved:
            result, reason = UNOBSERVABLE, unobserved[st.id]
        else:
            result, reason = NOT_RUN, ""
        elements.append(Element(st.id, st.kind, st.text, result, reason))
    declared_t = [t.id for t in flow.transitions]
    declared_f = [f"{t.id}/{x.id}" for t in flow.transitions for x in t.failures]
    covered_t = [t for t in declared_t if f"transition:{t}" in proven]
    covered_f = [f for f in declared_f if f"failure:{f}" in proven]
    return Coverage(declared_t, covered_t, declared_f, covered_f, elements)
