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
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from .docs import (
    Assumption,
    ChangelogEntry,
    Deprecation,
    Lifecycle,
    Links,
    LinkUrl,
    PathSpec,
    Requirement,
    Status,
    TokenLifecycle,
    Trouble,
)
from .exchange import (
    CAPTURE_SOURCE,
    CLIENT_SECRET_AUTH,
    ENDPOINTS,
    POLL_INTERVAL,
    SLOW_DOWN_STEP,
    TEXT_HELP,
    Capture,
    ClientAuth,
    DurationRef,
    EndpointName,
    Failure,
    FailureResponse,
    HttpMethod,
    JwtCheck,
    LintOff,
    Poll,
    PollAnswer,
    Provoke,
    Redirect,
    Request,
    RequestPatch,
    Response,
    Retry,
    StatusCode,
)
from .expr import Guard as _ExprGuard
from .types import (
    ID_PATTERN,
    Base,
    Duration,
    Id,
    SemVer,
    Text,
    Value,
    parse_duration,
)
from .version import Version

FORMAT_VERSION: Final = 1

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
        name = self.__pydantic_private__["_name"]  # type: ignore[index]  # as self._name, minus pydantic's lookup
        return self.env or "FLOWDOC_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


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
            inp.__pydantic_private__["_name"] = name  # type: ignore[index]  # as inp._name = name, minus the checks
        return self

    # ------------------------------------------------------------ lookups
    # (private attributes are read from pydantic's dict of them: ``self._file`` goes through
    # pydantic's ``__getattr__``, a cost every report, plan and run pays many times a flow)
    @property
    def file(self) -> str:
        return self.__pydantic_private__["_file"]  # type: ignore[index, no-any-return]

    @property
    def source(self) -> Any:
        """The :class:`~flowdoc.load.yamlsafe.SourceMap` of the file, if loaded from one."""
        return self.__pydantic_private__["_source"]  # type: ignore[index]

    def pos(self, *path: Any) -> tuple[int, int] | None:
        source = self.source
        return source.value(path) if source is not None else None

    def key_pos(self, *path: Any) -> tuple[int, int] | None:
        source = self.source
        return source.key(path) if source is not None else None

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


__all__ = [
    "Actor", "ActorKind", "Assumption", "Base", "CAPTURE_SOURCE", "CLIENT_SECRET_AUTH", "Capture",
    "ChangelogEntry", "ClientAuth", "Deprecation", "Duration", "DurationRef", "ENDPOINTS", "EndpointName",
    "FORMAT_VERSION", "Failure", "FailureResponse", "Flow", "GenerateKind", "Generator", "Guard",
    "HttpMethod", "ID_PATTERN", "Id", "Input", "JwtCheck", "Lifecycle", "LinkUrl", "Links", "LintOff",
    "POLL_INTERVAL", "PathSpec", "Poll", "PollAnswer", "Provoke", "PublicName", "ROUTE", "Redirect",
    "Request", "RequestPatch", "Requirement", "Response", "Retry", "SLOW_DOWN_STEP", "SemVer", "State",
    "Status", "StatusCode", "TEXT_HELP", "Text", "TokenLifecycle", "Transition", "Trouble", "Value",
    "latest_versions", "parallel_groups", "parse_duration",
]
