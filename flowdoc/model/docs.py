"""What a flow documents beside its steps: token lifecycle, troubleshooting, changelog, deprecation, paths,
required flows, assumed server behaviours, links and status."""

from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from ..diagnostics import quote as _quote
from ..escape import link_problem
from .exchange import (
    StatusCode,
)
from .types import (
    Base,
    Duration,
    Id,
    SemVer,
    Text,
)

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
