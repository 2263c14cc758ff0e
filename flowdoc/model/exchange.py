"""The HTTP exchange of a step: request, response, captures, JWT checks, polling and failure branches."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from ..diagnostics import quote as _quote
from .expr import RESPONSE_PARTS
from .types import (
    Base,
    Duration,
    Id,
    Text,
    Value,
)

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
        both = None
        if self.omit:  # what the request sends is gathered for the names it omits only
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
