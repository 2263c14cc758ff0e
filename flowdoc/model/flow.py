"""The flow format: pydantic models of an authentication flow.

One flow file is one :class:`Flow`. Field names here are the YAML keys; the
JSON Schema printed by ``flowdoc schema`` is generated from these classes, so
the docstrings and ``description`` texts double as editor help.
"""

from __future__ import annotations

import datetime as _dt
import re
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Final, Iterable, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from ..diagnostics import quote as _quote
from ..escape import link_problem
from .expr import RESPONSE_PARTS
from .expr import Guard as _ExprGuard
from .version import SEMVER_PATTERN, Version

FORMAT_VERSION: Final = 1

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

def latest_versions(flows: "Iterable[Flow]") -> "list[Flow]":
    """The highest version of each flow id, in the order the ids first appear."""
    best: dict[str, Flow] = {}
    for f in flows:
        if f.id not in best or Version.key(f.version) > Version.key(best[f.id].version):
            best[f.id] = f
    return list(best.values())


def parallel_groups(route: "Iterable[Transition]") -> "list[list[Transition]]":
    """Split a route into steps; consecutive transitions of one parallel group form one step."""
    out: list[list[Transition]] = []
    for t in route:
        if out and t.parallel and out[-1][0].parallel == t.parallel:
            out[-1].append(t)
        else:
            out.append([t])
    return out


class Base(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, validate_default=False)


# -------------------------------------------------------------------- actors


class ActorKind(str, Enum):
    person = "person"
    user_agent = "user-agent"
    client = "client"
    gateway = "gateway"
    authorization_server = "authorization-server"
    identity_provider = "identity-provider"
    resource_server = "resource-server"
    service = "service"
    user_store = "user-store"
    other = "other"


class Actor(Base):
    """A participant: a person, a browser, an app, a gateway, a server."""

    name: Text = Field(description="Display name in diagrams and tables")
    kind: ActorKind
    base_url: str | None = Field(
        None, description="Where requests to this actor go, e.g. ${inputs.issuer}; may reference inputs"
    )
    description: str | None = None


class Input(Base):
    """A named value the flow needs (client id, user name, issuer ...)."""

    description: str | None = None
    default: Value = None
    secret: bool = Field(False, description="Never printed; redacted in every output")
    env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Environment variable (default FLOWDOC_<NAME>)"
    )
    example: str | None = Field(None, description="Shown in docs instead of the value")
    _name: str = PrivateAttr("")

    @property
    def env_var(self) -> str:
        return self.env or "FLOWDOC_" + re.sub(r"[^A-Za-z0-9]", "_", self._name).upper()


class GenerateKind(str, Enum):
    pkce = "pkce"
    random = "random"
    uuid = "uuid"
    totp = "totp"


class Generator(Base):
    """A value made fresh for every run: PKCE pair, state, nonce, TOTP code."""

    kind: GenerateKind
    bytes: int = Field(32, ge=8, le=128, description="Entropy for random values and PKCE verifiers")
    method: Literal["S256", "plain"] = Field("S256", description="PKCE challenge method")
    secret: str | None = Field(None, description="TOTP: the base32 secret, usually ${inputs.totp_secret}")
    digits: int = Field(6, ge=6, le=8)
    period: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _totp_secret(self) -> "Generator":
        if self.kind is GenerateKind.totp and not self.secret:
            raise ValueError("a totp generator needs 'secret', e.g. secret: ${inputs.totp_secret}")
        return self

    @property
    def parts(self) -> tuple[str, ...]:
        return ("verifier", "challenge", "method") if self.kind is GenerateKind.pkce else ()


# -------------------------------------------------------------------- states


class State(Base):
    id: Id
    title: str | None = None
    description: str | None = None
    initial: bool = False
    terminal: bool = False
    failure: bool = Field(False, description="A failure or error state (drawn apart in diagrams)")
    handoff: str | None = Field(
        None, description="On a terminal state: where the reader goes next (e.g. the authorization guide)"
    )

    @property
    def label(self) -> str:
        return self.title or self.id.replace("_", " ").replace("-", " ").capitalize()


# -------------------------------------------------------------- the exchange

StatusCode = Annotated[int, Field(ge=100, le=599)]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
#: The client authentication methods that send the client id and secret (RFC 6749 §2.3.1).
CLIENT_SECRET_AUTH: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
ClientAuth = Literal[(*CLIENT_SECRET_AUTH, "bearer", "none")]  # type: ignore[valid-type]
#: endpoints a request may name by their name in the server's metadata (OpenID Connect Discovery,
#: RFC 8414); verify reads the real URL from the discovery document of the receiver's base URL
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "device_authorization_endpoint", "introspection_endpoint",
             "revocation_endpoint", "userinfo_endpoint", "end_session_endpoint", "jwks_uri")
EndpointName = Literal["authorization_endpoint", "token_endpoint", "device_authorization_endpoint",
                       "introspection_endpoint", "revocation_endpoint", "userinfo_endpoint", "end_session_endpoint",
                       "jwks_uri"]


# ------------------------------------------------------------------ polling (RFC 8628)

#: RFC 8628 §3.5: a client polls every 5 s unless the server says otherwise, and adds 5 s at slow_down
POLL_INTERVAL = 5
SLOW_DOWN_STEP = 5
#: a duration given by a reference to an earlier answer or an input: ``${steps.start.body.interval}``
DurationRef = Annotated[str, Field(pattern=r"^\s*\$\{[^}]+\}\s*$")]


class PollAnswer(Base):
    """An intermediate answer of a polled endpoint: the client waits and polls again."""

    error: Text = Field(description="The error code of the answer (authorization_pending, slow_down, ...)")
    status: StatusCode | list[StatusCode] = Field(400, description="Its status (RFC 8628: 400)")
    add_interval: Duration | None = Field(
        None, description="Seconds added to the interval for this and every later poll (slow_down: 5, RFC 8628 §3.5)"
    )
    description: str | None = None

    @property
    def statuses(self) -> list[int]:
        return list(self.status) if isinstance(self.status, list) else [self.status]

    @property
    def added(self) -> int:
        """Seconds this answer adds to the interval (slow_down: 5 unless given)."""
        if self.add_interval is not None:
            return self.add_interval
        return SLOW_DOWN_STEP if self.error == "slow_down" else 0


def _rfc8628_answers() -> list[PollAnswer]:
    return [PollAnswer(error="authorization_pending", description="the user has not yet approved or denied"),
            PollAnswer(error="slow_down", description="the client polls too often")]


class Poll(Base):
    """The client repeats the request until the answer is no longer an intermediate one (RFC 8628 §3.4)."""

    interval: Duration | DurationRef = Field(
        POLL_INTERVAL,
        description="Seconds between polls, or a reference to an earlier answer (${steps.start.body.interval}); "
        "default 5 (RFC 8628 §3.2)",
    )
    max_wait: Duration | DurationRef | None = Field(
        None, description="How long the client polls at most (e.g. ${steps.start.body.expires_in})"
    )
    until: str | None = Field(None, description="What the polling waits for, in words (the diagram's loop label)")
    starts_after: Id | None = Field(
        None,
        description="The step after which the client starts polling; the steps between it and this one happen "
        "while it polls (the user approves on another device). verify sends the first poll right after that "
        "step and expects an intermediate answer",
    )
    pending: list[PollAnswer] = Field(
        default_factory=_rfc8628_answers,
        description="Intermediate answers: poll again (default RFC 8628: 400 authorization_pending, 400 slow_down "
        "adding 5 s); any other answer ends the polling (the response, or a failure branch)",
    )

    @field_validator("pending")
    @classmethod
    def _distinct(cls, v: list[PollAnswer]) -> list[PollAnswer]:
        seen: set[str] = set()
        for a in v:
            if a.error in seen:
                raise ValueError(f"intermediate answer {_quote(a.error)} is listed twice")
            seen.add(a.error)
        return v


class LintOff(Base):
    """Lint rules switched off for a flow or one transition, with the reason (``flowdoc lint
    --show-suppressed`` lists what they hide)."""

    disable: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="Rule ids (flowdoc lint --list-rules), e.g. [arrow-complete]"
    )
    reason: Text = Field(description="Why, for the reviewer: 'RFC 7009 answers an empty 200'")

    @field_validator("reason")
    @classmethod
    def _said(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("give the reason the rules are switched off")
        return v


class Retry(Base):
    attempts: int = Field(ge=1, le=10)
    backoff: Duration = 1


class Request(Base):
    """The HTTP request a transition sends."""

    method: HttpMethod
    path: str = Field(
        pattern=r"^/", description="Path on the receiver, as documented; {name} marks a variable segment"
    )
    endpoint: EndpointName | None = Field(
        None,
        description="The endpoint by its name in the server's metadata (token_endpoint, authorization_endpoint, "
        "...): verify requests the URL the receiver's discovery document names (with 'url': checks that URL "
        "is at that endpoint); pages show 'path'",
    )
    url: str | None = Field(
        None,
        description="The URL actually requested, when it comes from an earlier step "
        "(e.g. ${steps.authorize.location}); the documented path is checked against it",
    )
    params: dict[str, Value] = Field(default_factory=dict, description="Values of the {name} segments of path")
    query: dict[str, Value] = Field(default_factory=dict)
    headers: dict[str, Value] = Field(default_factory=dict)
    form: dict[str, Value] | None = Field(None, description="application/x-www-form-urlencoded body")
    json_body: Any = Field(None, alias="json", description="JSON body")
    submit_form: str | None = Field(
        None,
        description="Submit an HTML form read by an earlier step (${steps.ID.form}): its action, "
        "method and hidden fields, plus the fields in 'form'",
    )
    auth: ClientAuth = Field("none", description="How the client authenticates")
    token: str | None = Field(None, description="The bearer token, with auth: bearer")
    client_id: str = Field("${inputs.client_id}", description="With client_secret_*: the client id")
    client_secret: str = Field("${inputs.client_secret}", description="With client_secret_*: the secret")
    follow_redirects: bool | Literal["same-origin"] = Field(
        False,
        description="Follow redirects; same-origin: only within the receiver's origin (a browser inside the "
        "authorization server), stopping at a redirect elsewhere (the client's redirect_uri)",
    )
    timeout: Duration | None = None
    retry: Retry | None = None
    key_params: list[str] | None = Field(
        None, description="Parameters to show on the diagram arrow (default: all query and form keys); "
        "each must be sent (checked by validate, or by verify for a url or submit_form request)"
    )
    optional: list[str] = Field(
        default_factory=list,
        description="Documented parameters the server does not insist on (state, nonce, prompt ...): "
        "flowdoc verify --probe expects a rejection without each of the others",
    )
    assumes: Id | None = Field(
        None,
        description="The server behaviour (an id under 'assumes') the documented path relies on, e.g. where a "
        "login page lives; where switched off, verify does not compare the request URL with 'path'",
    )
    poll: Poll | None = Field(
        None, description="Repeat the request while the server answers an intermediate answer (device flow, RFC 8628)"
    )
    omit: list[str] = Field(
        default_factory=list,
        description="Fields, parameters, headers or cookies not sent, e.g. a hidden field of a submitted form "
        "(confirm); diagrams and pages do not show them as sent",
    )

    @model_validator(mode="after")
    def _check(self) -> "Request":
        if self.form is not None and self.json_body is not None:
            raise ValueError("a request has either 'form' or 'json', not both")
        sent = self._named_here()
        both = next((o for o in self.omit if o.lower() in sent), None)
        if both is not None:
            raise ValueError(f"the request sends {_quote(both)} and omits it; remove it from one of the two")
        if self.auth == "bearer" and not self.token:
            raise ValueError("auth: bearer needs 'token', e.g. token: ${steps.login.access_token}")
        if self.token and self.auth != "bearer":
            raise ValueError("'token' is only used with auth: bearer")
        if self.method in ("GET", "HEAD") and (self.form is not None or self.json_body is not None):
            raise ValueError(f"a {self.method} request has no body; move the parameters to 'query'")
        if self.poll is not None and self.retry is not None:
            raise ValueError("a polled request repeats by 'poll'; leave out 'retry'")
        return self

    @property
    def sends_client_credentials(self) -> bool:
        """The request carries the client id and secret (``auth: client_secret_basic`` or ``_post``)."""
        return self.auth in CLIENT_SECRET_AUTH

    def _named_here(self) -> set[str]:
        """Lower-case names the request itself gives a value (query, form, JSON, headers)."""
        given = {**self.query, **(self.form or {}), **self.headers}
        names = [k for k, v in given.items() if v is not None]
        if isinstance(self.json_body, dict):
            names += [str(k) for k in self.json_body]
        return {n.lower() for n in names}

    @property
    def shown_params(self) -> list[str]:
        """The parameters drawn on the arrow: key_params, else every query and body key with a value
        (a null value is not sent, nor is a name under 'omit')."""
        if self.key_params is not None:
            return list(self.key_params)
        keys = [k for k, v in self.query.items() if v is not None]
        if self.form:
            keys += [k for k, v in self.form.items() if k not in keys and v is not None]
        if isinstance(self.json_body, dict):
            keys += [k for k in self.json_body if k not in keys]
        return keys


class Capture(Base):
    source: str = Field(
        alias="from",
        description="body.FIELD, headers.NAME, location.query.NAME, location.fragment.NAME, form, cookies.NAME",
    )
    secret: bool = Field(True, description="Captured values are redacted unless secret: false")


CAPTURE_SOURCE = re.compile(
    r"^(?:status|location(?:\.(?:query|fragment)\.[A-Za-z0-9_.-]+)?|body(?:\.[A-Za-z0-9_-]+)*|"
    r"headers\.[A-Za-z0-9_-]+|cookies\.[A-Za-z0-9_.-]+|form(?:\.action|\.method|\.fields\.[A-Za-z0-9_.-]+)?)$"
)


class JwtCheck(Base):
    """Checks of a JWT in the response (ID token, JWT access token)."""

    token: str = Field(description="Where the JWT is: body.id_token, body.access_token, or a ${...} reference")
    jwks: str | None = Field(None, description="JWKS URL; default: the issuer's jwks_uri from discovery")
    iss: str | None = None
    aud: str | None = None
    nonce: str | None = None
    exp: bool = Field(True, description="Reject an expired token")
    claims: dict[str, Value] = Field(default_factory=dict, description="Claims with an exact expected value")
    required: list[str] = Field(default_factory=list, description="Claims that must be present")
    assumes: Id | None = Field(None, description="The server behaviour (an id under 'assumes') this check relies on")


class Redirect(Base):
    """An expected redirect (Location header)."""

    to: str | None = Field(None, description="URL (or prefix) the Location must start with")
    query: dict[str, Value] = Field(
        default_factory=dict, description="Query parameters: null means 'present', a value means 'equal to'"
    )


TEXT_HELP = ("Texts the answer shows, each found in the visible text of an HTML page (or a text body), "
             "spaces and case as a reader sees them: 'Invalid username or password'")


class Response(Base):
    """The documented response."""

    status: StatusCode | list[StatusCode]
    description: str | None = None
    fields: list[str] = Field(default_factory=list, description="Key body fields (documented and checked present)")
    body: dict[str, Value] = Field(default_factory=dict, description="Body fields with an exact expected value")
    headers: dict[str, Value] = Field(default_factory=dict, description="Headers: null means 'present'")
    content_type: str | None = None
    error: str | None = Field(
        None, description="OAuth error code (RFC 6749/6750): in the JSON body, WWW-Authenticate, the Location's query "
        "or fragment, or an HTML or plain-text error page"
    )
    redirect: Redirect | None = None
    text: list[Text] = Field(default_factory=list, description=TEXT_HELP)
    form: bool = Field(False, description="The body is an HTML page with a form (captured as 'form')")
    if TYPE_CHECKING:  # what the field holds once validated: _sources makes each source a Capture
        capture: dict[str, Capture] = Field(default_factory=dict)
    else:
        capture: dict[str, Union[str, Capture]] = Field(
            default_factory=dict, description="name: source — values later steps use as ${steps.ID.name}"
        )
    jwt: list[JwtCheck] = Field(default_factory=list)

    @field_validator("capture", mode="after")
    @classmethod
    def _sources(cls, v: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, cap in v.items():
            cap = Capture.model_validate({"from": cap}) if isinstance(cap, str) else cap
            if name in RESPONSE_PARTS:
                raise ValueError(f"capture name {_quote(name)} is reserved; choose another name")
            if not CAPTURE_SOURCE.match(cap.source):
                raise ValueError(
                    f"capture {_quote(name)}: {_quote(cap.source)} is not a source; use body.FIELD, headers.NAME, "
                    "location, location.query.NAME, location.fragment.NAME, cookies.NAME, form, form.action "
                    "or form.fields.NAME"
                )
            out[name] = cap
        return out

    @property
    def statuses(self) -> list[int]:
        return list(self.status) if isinstance(self.status, list) else [self.status]


class RequestPatch(Base):
    """Changes to a transition's request that provoke a failure."""

    method: HttpMethod | None = None
    path: str | None = None
    url: str | None = None
    query: dict[str, Value] = Field(default_factory=dict)
    headers: dict[str, Value] = Field(default_factory=dict)
    form: dict[str, Value] = Field(default_factory=dict)
    json_body: Any = Field(None, alias="json")
    auth: ClientAuth | None = None
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    omit: list[str] = Field(default_factory=list, description="Parameters or headers to leave out")


class Provoke(Base):
    """How a tester makes the failure happen."""

    description: str | None = Field(None, description="In words, for the docs (generated when absent)")
    inputs: dict[str, Value] = Field(default_factory=dict, description="Input overrides")
    request: RequestPatch | None = None
    wait: Duration | str | None = Field(None, description="Wait before the request (past a TTL): seconds or ${...}")
    replay: bool = Field(False, description="Send the happy-path request first, then send it again as it was")
    before: list[str] = Field(
        default_factory=list, description="Transitions of the flow to run first (e.g. a refresh that rotates)"
    )
    timeout: float | None = Field(None, gt=0, description="Client timeout in seconds (network timeout branches)")
    attempts: int = Field(1, ge=1, le=20, description="Send the provoking request this many times (lockouts)")


class FailureResponse(Base):
    status: StatusCode | list[StatusCode] | None = None
    error: str | None = Field(
        None, description="OAuth error code (invalid_client, invalid_grant, ...): in the JSON body, WWW-Authenticate, "
        "the Location's query or fragment, or an HTML or plain-text error page"
    )
    description: str | None = None
    fields: list[str] = Field(default_factory=list, description="Key body fields (checked present)")
    body: dict[str, Value] = Field(default_factory=dict, description="Body fields with an exact expected value "
                                   "(introspection of a revoked token: active: false)")
    headers: dict[str, Value] = Field(default_factory=dict, description="Headers: null means 'present'")
    content_type: str | None = None
    redirect: Redirect | None = None
    text: list[Text] = Field(default_factory=list, description=TEXT_HELP)
    jwt: list[JwtCheck] = Field(default_factory=list)
    outcome: Literal["response", "timeout", "network-error"] = "response"

    @model_validator(mode="after")
    def _need_status(self) -> "FailureResponse":
        if self.outcome == "response" and self.status is None:
            raise ValueError("a failure response needs 'status'")
        if self.outcome != "response" and (self.fields or self.body or self.headers or self.text or self.jwt):
            raise ValueError(f"a {self.outcome} has no answer to check: remove fields, body, headers, text and jwt")
        return self

    @property
    def statuses(self) -> list[int]:
        if self.status is None:
            return []
        return list(self.status) if isinstance(self.status, list) else [self.status]


class Failure(Base):
    """A documented failure branch of a transition."""

    id: Id
    title: str | None = None
    when: Text = Field(description="The condition, in words")
    provoke: Provoke = Field(default_factory=Provoke)
    response: FailureResponse
    to: Id | None = Field(None, description="The state the failure leads to (default: the transition's source)")
    through: list[Id] = Field(
        default_factory=list,
        description="Later steps the failure runs on through until its documented response shows (consent "
        "denied: the callback carries error=access_denied); the response is that of the last one",
    )
    remedy: Text
    retry: bool = Field(False, description="Whether the client may retry as is")
    assumes: list[Id] = Field(
        default_factory=list,
        description="Server behaviours (ids under 'assumes') this branch relies on; verify skips it, naming "
        "the behaviour, where an input says the server does not behave so",
    )


class Guard(Base):
    text: Text = Field(description="The condition, in words")
    expr: str | None = Field(None, description="The same condition as an expression a tester can evaluate")

    @field_validator("expr")
    @classmethod
    def _parse(cls, v: str | None) -> str | None:
        if v is not None:
            _ExprGuard.parse(v)
        return v


ROUTE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*->\s*([A-Za-z_][A-Za-z0-9_-]*)\s*$")


class Transition(Base):
    """A step: from one state to another, usually one HTTP exchange."""

    id: Id
    from_: Id = Field(alias="from")
    to: Id
    by: str = Field(pattern=ROUTE.pattern, description="sender -> receiver (actor ids)")
    title: Text = Field(description="What happens, in a few words: 'Exchange the code for tokens'")
    description: str | None = None
    trigger: str | None = Field(None, description="What starts this step (for the guard table)")
    if TYPE_CHECKING:  # what the field holds once validated: _guard makes a text a Guard
        guard: Guard | None = None
    else:
        guard: Union[Text, Guard, None] = Field(None, description="When this step is taken: text, or {text, expr}")
    action: str | None = Field(None, description="For a step with no HTTP exchange: what the actor does")
    request: Request | None = None
    response: Response | None = None
    wait: Duration | str | None = Field(None, description="Wait before this step: seconds, or ${...} seconds")
    parallel: Id | None = Field(None, description="Transitions with the same group id run concurrently")
    internal: bool = Field(
        False,
        description="The exchange happens inside the system under test (e.g. gateway → auth server): "
        "documented, and counted by verify as unobservable unless 'observed_by' names a step that shows it",
    )
    observed_by: Id | None = Field(
        None,
        description="For an internal step: a later step whose documented answer shows that this one took place "
        "(its request and response details stay unobservable)",
    )
    failures: list[Failure] = Field(default_factory=list)
    lint: LintOff | None = Field(None, description="Lint rules off for this step, with the reason")

    @field_validator("guard", mode="after")
    @classmethod
    def _guard(cls, v: Any) -> Any:
        return Guard(text=v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _exchange(self) -> "Transition":
        if self.request is not None and self.response is None:
            raise ValueError("a transition with a 'request' needs the expected 'response'")
        if self.response is not None and self.request is None:
            raise ValueError("a 'response' needs the 'request' that produces it")
        if self.request is not None and self.action:
            raise ValueError("a transition is either an HTTP exchange ('request') or an 'action', not both")
        return self

    @cached_property
    def sender(self) -> str:
        return ROUTE.match(self.by).group(1)  # type: ignore[union-attr]

    @cached_property
    def receiver(self) -> str:
        return ROUTE.match(self.by).group(2)  # type: ignore[union-attr]

    @property
    def is_http(self) -> bool:
        return self.request is not None


# ----------------------------------------------------------------- lifecycle


class TokenLifecycle(Base):
    description: str | None = None
    format: Literal["jwt", "opaque"] | None = None
    format_assumes: Id | None = Field(
        None,
        description="The server behaviour (an id under 'assumes') the format relies on, e.g. JWT access tokens "
        "(RFC 9068); where an input switches it off, verify does not check the format and lists it as "
        "unobservable, naming the behaviour",
    )
    ttl: Duration | None = Field(None, description="Lifetime")
    ttl_input: Id | None = Field(
        None,
        description="An input holding this lifetime in seconds on the server under test (default: ttl); its "
        "default must equal ttl. flowdoc verify checks expires_in and a JWT's exp - iat against it",
    )
    idle_ttl: Duration | None = Field(None, description="Expires after this long unused")
    refresh_ahead: Duration | None = Field(None, description="Refresh this long before it expires")
    rotation: str | None = Field(None, description="How and when it is rotated")
    rotates: bool | None = None
    revocation: str | None = None
    single_use: bool | None = None

    @model_validator(mode="after")
    def _format_assumed(self) -> "TokenLifecycle":
        if self.format_assumes is not None and self.format is None:
            raise ValueError("format_assumes names the behaviour a format relies on: give the format too")
        return self


class Lifecycle(Base):
    tokens: dict[Id, TokenLifecycle] = Field(default_factory=dict)
    storage: dict[str, Text] = Field(
        default_factory=dict, description="Platform → where to keep tokens (ios, android, web, server ...)"
    )
    reauthenticate: list[Text] = Field(default_factory=list, description="Conditions that force a new login")
    caching: list[Text] = Field(default_factory=list, description="Cache and refresh-ahead rules")
    notes: str | None = None


class Trouble(Base):
    error: Text = Field(description="Error code or symptom")
    status: StatusCode | None = None
    cause: Text
    remedy: Text


class ChangelogEntry(Base):
    version: SemVer
    date: _dt.date | None = None
    notes: Union[Text, Annotated[list[Text], Field(min_length=1)]]

    @field_validator("notes", mode="after")
    @classmethod
    def _list(cls, v: Any) -> list[str]:
        return [v] if isinstance(v, str) else v


class Deprecation(Base):
    replaced_by: Id = Field(description="Id of the flow that replaces this one")
    migration: Text = Field(description="Migration guide: URL or text")
    sunset: _dt.date | None = None
    reason: str | None = None


class PathSpec(Base):
    """A named route through the machine (a scenario): transition ids in order."""

    id: Id
    title: str | None = None
    steps: list[Id] = Field(min_length=1)


class Requirement(Base):
    """Another flow that must have run first (e.g. sign-in before a refresh).

    ``flowdoc verify`` runs that flow's happy path first; this flow then uses
    the values it provides as ``${ID.NAME}``.
    """

    flow: Id = Field(description="Id of the flow to run first")
    title: str | None = None
    provides: dict[Id, str] = Field(
        default_factory=dict, description="NAME: steps.STEP.CAPTURE of that flow, used here as ${ID.NAME}"
    )

    @field_validator("provides")
    @classmethod
    def _steps(cls, v: dict[str, str]) -> dict[str, str]:
        for name, src in v.items():
            parts = src.split(".")
            if len(parts) < 3 or parts[0] != "steps":
                raise ValueError(f"provides {_quote(name)}: {_quote(src)} must be steps.STEP.CAPTURE of the required flow")
        return v


def _link(url: str) -> str:
    problem = link_problem(url)
    if problem:
        raise ValueError(f"{problem}; write https://... or a relative URL such as ../guide.md")
    return url


#: A link target: an http(s) or a relative URL (never javascript:, data: ...).
LinkUrl = Annotated[str, AfterValidator(_link)]


class Assumption(Base):
    """A server behaviour the flow relies on, beyond the standards it names (shown on its page)."""

    id: Id
    text: Text = Field(description="The behaviour, in words: 'a wrong password answers 401 invalid_credentials'")
    input: Id | None = Field(
        None,
        description="A boolean input that says whether the server under test behaves so (default: its "
        "default); where it is false, verify skips the branches and checks that name this behaviour",
    )


class Links(Base):
    authorization_guide: LinkUrl | None = None
    related: dict[str, LinkUrl] = Field(default_factory=dict)


class Status(str, Enum):
    draft = "draft"
    current = "current"
    deprecated = "deprecated"


#: a response field (``sub``, ``body.user.id``) or header (``headers.X-Request-Id``) named in ``public``
PublicName = Annotated[str, Field(pattern=r"^(?:headers\.[A-Za-z0-9_-]+|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)$")]


class Flow(Base):
    """An authentication flow, written once; documented, drawn and verified from here."""

    model_config = ConfigDict(extra="forbid", title="flowdoc flow")

    flowdoc: Literal[1] = Field(FORMAT_VERSION, description="Version of the flow format")
    id: Id
    title: Text
    summary: str | None = None
    version: SemVer | None = None
    updated: _dt.date | None = None
    status: Status = Status.current
    deprecation: Deprecation | None = None
    changelog: list[ChangelogEntry] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    links: Links = Field(default_factory=Links)
    actors: dict[Id, Actor] = Field(min_length=1)
    inputs: dict[Id, Input] = Field(default_factory=dict)
    generate: dict[Id, Generator] = Field(default_factory=dict)
    requires: dict[Id, Requirement] = Field(
        default_factory=dict, description="Flows that run first; their values are ${ID.NAME}"
    )
    states: list[State] = Field(min_length=1)
    transitions: list[Transition] = Field(min_length=1)
    paths: list[PathSpec] = Field(default_factory=list, description="Named routes; the first is the happy path")
    lifecycle: Lifecycle | None = None
    troubleshooting: list[Trouble] = Field(default_factory=list)
    assumes: list[Assumption] = Field(
        default_factory=list,
        description="Server behaviours the flow relies on beyond the standards (login form, error codes a server "
        "invents, optional claims); each may name a boolean input that switches it off for a server that differs",
    )
    lint: LintOff | None = Field(None, description="Lint rules off for this flow, with the reason")
    public: list[PublicName] = Field(
        default_factory=list,
        description="Response fields (sub, body.user.id) and headers (headers.X-Request-Id) whose values are not "
        "secret: verify shows them even in answers to requests that carried credentials. A field whose name "
        "says secret (access_token, password, ...) is never shown",
    )

    _file: str = PrivateAttr("")
    _source: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _names(self) -> "Flow":
        for name, inp in self.inputs.items():
            inp._name = name
        return self

    # ------------------------------------------------------------ lookups
    @property
    def file(self) -> str:
        return self._file

    @property
    def source(self) -> Any:
        """The :class:`~flowdoc.load.yamlsafe.SourceMap` of the file, if loaded from one."""
        return self._source

    def pos(self, *path: Any) -> tuple[int, int] | None:
        return self._source.value(path) if self._source is not None else None

    def key_pos(self, *path: Any) -> tuple[int, int] | None:
        return self._source.key(path) if self._source is not None else None

    @cached_property
    def state_map(self) -> dict[str, State]:
        return {s.id: s for s in self.states}

    @cached_property
    def transition_map(self) -> dict[str, Transition]:
        return {t.id: t for t in self.transitions}

    @property
    def initial_state(self) -> State | None:
        return next((s for s in self.states if s.initial), None)

    def secret_inputs(self) -> list[str]:
        return [n for n, i in self.inputs.items() if i.secret]

    def happy_path(self) -> list[Transition]:
        """The declared first path, or one derived from the order of transitions."""
        tm = self.transition_map
        if self.paths:
            return [tm[s] for s in self.paths[0].steps if s in tm]
        start = self.initial_state
        if start is None:
            return []
        out: list[Transition] = []
        used: set[str] = set()
        cur = start.id
        groups_done: set[str] = set()
        # linear: each state's candidates (file order, not into a failure state) are read
        # once, through a cursor that only moves forward (a used transition stays used)
        outgoing: dict[str, list[Transition]] = {}
        groups: dict[str, list[Transition]] = {}
        for t in self.transitions:
            if not getattr(self.state_map.get(t.to), "failure", False):
                outgoing.setdefault(t.from_, []).append(t)
            if t.parallel:
                groups.setdefault(t.parallel, []).append(t)
        cursor: dict[str, int] = {}
        while True:
            st = self.state_map.get(cur)
            if st is None or st.terminal:
                break
            cands, i = outgoing.get(cur, []), cursor.get(cur, 0)
            while i < len(cands) and cands[i].id in used:
                i += 1
            cursor[cur] = i
            if i == len(cands):
                break
            t = cands[i]
            if t.parallel and t.parallel not in groups_done:
                groups_done.add(t.parallel)
                group = groups[t.parallel]
                out.extend(group)
                used.update(g.id for g in group)
            else:
                out.append(t)
                used.add(t.id)
            cur = t.to
        return out
