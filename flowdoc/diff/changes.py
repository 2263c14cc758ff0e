"""The kinds of semantic change between two versions of a flow: one class per kind.

Each kind has a stable ``id``, a ``level`` and an explanation of that level,
written from the point of view of a developer who built a client from the
*old* page:

* ``breaking`` — that client breaks;
* ``warning``  — that client may break, or should act;
* ``info``     — that client keeps working.

``adds`` marks additions: they need at least a minor version bump even when
they break nothing. The engine (:mod:`flowdoc.diff.engine`) creates instances;
an instance carries the ``path`` of what changed (YAML keys, with ids in place
of list positions: ``("transitions", "exchange_code", "request", "form",
"code_verifier")``), the old and new values and a message.
"""

from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

Level = Literal["breaking", "warning", "info"]
Bump = Literal["major", "minor", "patch"]

#: Levels from the most to the least severe.
LEVELS: tuple[Level, ...] = ("breaking", "warning", "info")
LEVEL_RANK: dict[str, int] = {"info": 0, "warning": 1, "breaking": 2}
BUMP_RANK: dict[str, int] = {"patch": 0, "minor": 1, "major": 2}

#: Every change kind, by id, in the order they are defined.
CHANGE_KINDS: dict[str, type["Change"]] = {}


class Shown(str):
    """A value already written for people (e.g. a duration "15m"): messages show it unquoted."""


def show(value: Any) -> str:
    """A value as a message shows it."""
    if isinstance(value, Shown):
        return str(value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(show(v) for v in value) or "none"
    if isinstance(value, BaseModel):
        return show(value.model_dump(mode="json", by_alias=True, exclude_defaults=True))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Shown):
        return str(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


class Change:
    """One semantic change. Subclasses set the class attributes; see :data:`CHANGE_KINDS`."""

    id: ClassVar[str]
    level: ClassVar[Level]
    #: An addition (a new step, branch, field ...): needs at least a minor bump.
    adds: ClassVar[bool] = False
    #: What this kind of change is, in one line.
    summary: ClassVar[str]
    #: Why it has its level: what happens to a client built from the old page.
    why: ClassVar[str]
    #: The message; placeholders: {subject}, {old}, {new} (shown values) and the engine's context.
    template: ClassVar[str]

    __slots__ = ("path", "subject", "old", "new", "context", "message")

    def __init__(self, path: tuple, subject: str = "the flow", old: Any = None, new: Any = None, **context: Any):
        self.path = tuple(path)
        self.subject = subject
        self.old = old
        self.new = new
        self.context = context
        fields = {"old": show(old), "new": show(new), **context}
        self.message = self.template.format(subject=subject, **fields)

    # ------------------------------------------------------------------ API
    @property
    def bump(self) -> Bump:
        """The smallest version bump this change needs on its own."""
        if self.level == "breaking":
            return "major"
        if self.level == "warning" or self.adds:
            return "minor"
        return "patch"

    @property
    def where(self) -> str:
        """The path as text: ``transitions.exchange_code.request.form.code_verifier``."""
        return ".".join(str(p) for p in self.path)

    def explain(self) -> str:
        """The message, then why it has its level."""
        return f"{self.message}\n{self.level}: {self.why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "level": self.level,
            "message": self.message,
            "path": [p for p in self.path],
            "old": jsonable(self.old),
            "new": jsonable(self.new),
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Change) and (self.id, self.path, self.message) == (other.id, other.path, other.message)

    def __hash__(self) -> int:
        return hash((self.id, self.path, self.message))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.level} {self.where}: {self.message}>"


def kind(cls: type[Change]) -> type[Change]:
    """Register a change kind under its id."""
    if cls.id in CHANGE_KINDS:  # pragma: no cover - a programming error
        raise ValueError(f"change id {cls.id!r} is defined twice")
    assert cls.level in LEVELS, cls
    CHANGE_KINDS[cls.id] = cls
    return cls


# ======================================================================= flow


@kind
class FlowIdChanged(Change):
    id = "flow-id-changed"
    level = "breaking"
    summary = "The flow's id changed."
    why = "Links, requirements of other flows and page URLs use the id; they no longer find the flow."
    template = "the flow id changed from {old} to {new}"


@kind
class FlowDeprecated(Change):
    id = "flow-deprecated"
    level = "warning"
    summary = "The flow became deprecated."
    why = "Clients keep working for now, but must migrate before the flow is removed."
    template = "the flow is deprecated{detail}"


@kind
class FlowUndeprecated(Change):
    id = "flow-undeprecated"
    level = "info"
    summary = "A deprecated flow is current again, or this version replaces the deprecated one."
    why = "Nothing a client relies on is taken away by the status itself."
    template = "{detail}"


@kind
class FlowStatusChanged(Change):
    id = "flow-status-changed"
    level = "info"
    summary = "The status changed between draft and current."
    why = "The status tells readers how settled the page is; requests and responses are compared separately."
    template = "the status changed from {old} to {new}"


@kind
class SunsetBroughtForward(Change):
    id = "sunset-brought-forward"
    level = "warning"
    summary = "A sunset date was set, or moved earlier."
    why = "Clients have less time to migrate before the flow stops working."
    template = "the sunset date {detail}"


@kind
class SunsetPostponed(Change):
    id = "sunset-postponed"
    level = "info"
    summary = "The sunset date moved later, or was withdrawn."
    why = "Clients get more time; nothing breaks earlier than before."
    template = "the sunset date {detail}"


@kind
class ReplacementChanged(Change):
    id = "replacement-changed"
    level = "info"
    summary = "The deprecation notice (replacement, migration guide, reason) changed."
    why = "It changes where readers are sent, not what the flow does."
    template = "the deprecation's {what} changed from {old} to {new}"


@kind
class TextChanged(Change):
    id = "text-changed"
    level = "info"
    summary = "Prose changed: a title, summary, description, condition or remedy."
    why = "Words explain the flow; requests, responses and states are compared on their own."
    template = "{subject}: the {what} {verb}"


@kind
class MetadataChanged(Change):
    id = "metadata-changed"
    level = "info"
    summary = "Tags or links changed."
    why = "They help readers find pages; they do not change the exchange."
    template = "the {what} changed from {old} to {new}"


# ===================================================================== actors


@kind
class ActorAdded(Change):
    id = "actor-added"
    level = "info"
    adds = True
    summary = "A participant was added."
    why = "A new participant on its own changes no request; steps involving it are reported separately."
    template = "{subject} was added"


@kind
class ActorRemoved(Change):
    id = "actor-removed"
    level = "warning"
    summary = "A participant was removed."
    why = "A client may still talk to it; the steps it took part in are reported separately."
    template = "{subject} was removed"


@kind
class ActorKindChanged(Change):
    id = "actor-kind-changed"
    level = "info"
    summary = "A participant's kind changed (e.g. service → gateway)."
    why = "The kind is how the participant is drawn and described; the exchange is compared separately."
    template = "{subject}: the kind changed from {old} to {new}"


@kind
class ActorBaseUrlChanged(Change):
    id = "actor-base-url-changed"
    level = "warning"
    summary = "Where requests to a participant go (base_url) changed."
    why = "A client configured from the old page may send its requests to the old address."
    template = "{subject}: the base URL changed from {old} to {new}"


# ===================================================================== inputs


@kind
class InputRequiredAdded(Change):
    id = "input-required-added"
    level = "breaking"
    adds = True
    summary = "A new input with no default: every client must now supply it."
    why = "A client built from the old page does not have this value, so it cannot run the flow."
    template = "{subject} is new and required (no default)"


@kind
class InputOptionalAdded(Change):
    id = "input-optional-added"
    level = "info"
    adds = True
    summary = "A new input with a default."
    why = "The default applies to clients that do not supply it."
    template = "{subject} is new, with default {new}"


@kind
class TestInputAdded(Change):
    id = "test-input-added"
    level = "info"
    summary = "A new input no client needs: only the recipes that provoke failures use it, or nothing does."
    why = "Clients never send it; only flowdoc verify and testers supply it."
    template = "{subject} is new; clients need not supply it (only failure recipes use it)"


@kind
class InputRemoved(Change):
    id = "input-removed"
    level = "info"
    summary = "An input is no longer used."
    why = "Clients may keep supplying it; it is ignored."
    template = "{subject} was removed"


@kind
class InputBecameRequired(Change):
    id = "input-became-required"
    level = "breaking"
    summary = "An input lost its default: every client must now supply it."
    why = "A client that relied on the default no longer has a value for it."
    template = "{subject} no longer has a default (was {old}); clients must supply it"


@kind
class InputDefaultChanged(Change):
    id = "input-default-changed"
    level = "warning"
    summary = "The default value of an input changed."
    why = "Clients relying on the default now send a different value."
    template = "{subject}: the default changed from {old} to {new}"


@kind
class InputChanged(Change):
    id = "input-changed"
    level = "info"
    summary = "How an input is supplied changed (secret, environment variable, a default added)."
    why = "Existing clients still supply the value as before."
    template = "{subject}: {what} changed from {old} to {new}"


# =================================================================== generate


@kind
class GeneratorAdded(Change):
    id = "generator-added"
    level = "warning"
    adds = True
    summary = "The client must now generate a fresh value (PKCE pair, state, nonce, TOTP code)."
    why = "A client built from the old page does not generate it; where it is sent, the parameter change is reported too."
    template = "{subject} is new: the client generates a {new} value on every run"


@kind
class GeneratorRemoved(Change):
    id = "generator-removed"
    level = "info"
    summary = "A generated value is no longer needed."
    why = "Generating it anyway does no harm."
    template = "{subject} is no longer generated"


@kind
class GeneratorChanged(Change):
    id = "generator-changed"
    level = "warning"
    summary = "How a value is generated changed (kind, PKCE method, entropy, TOTP settings)."
    why = "A client generating it the old way may produce values the server rejects."
    template = "{subject}: {what} changed from {old} to {new}"


# =================================================================== requires


@kind
class RequirementAdded(Change):
    id = "requirement-added"
    level = "breaking"
    adds = True
    summary = "Another flow must now run first."
    why = "A client built from the old page starts without the values that flow provides."
    template = "{subject} is new: flow {new} must run first"


@kind
class RequirementRemoved(Change):
    id = "requirement-removed"
    level = "info"
    summary = "Another flow no longer needs to run first."
    why = "Running it anyway does no harm."
    template = "{subject} was removed: flow {old} no longer needs to run first"


@kind
class RequirementChanged(Change):
    id = "requirement-changed"
    level = "warning"
    summary = "The flow that must run first, or the values taken from it, changed."
    why = "A client may take its values from the wrong flow or step."
    template = "{subject}: {what} changed from {old} to {new}"


# ===================================================================== states


@kind
class StateAdded(Change):
    id = "state-added"
    level = "info"
    adds = True
    summary = "A state was added."
    why = "Steps into the new state are reported on their own."
    template = "{subject} was added"


@kind
class StateRemoved(Change):
    id = "state-removed"
    level = "warning"
    summary = "A state was removed."
    why = "A client that tracks the flow's states may expect it."
    template = "{subject} was removed"


@kind
class InitialStateChanged(Change):
    id = "initial-state-changed"
    level = "breaking"
    summary = "The flow starts in another state."
    why = "A client starts the flow where the old page said."
    template = "the flow now starts in {new} (was {old})"


@kind
class StateKindChanged(Change):
    id = "state-kind-changed"
    level = "warning"
    summary = "A state became or stopped being terminal or a failure."
    why = "A client may stop too early, or wait for steps that no longer come."
    template = "{subject} {detail}"


# ================================================================ transitions


@kind
class TransitionAdded(Change):
    id = "transition-added"
    level = "warning"
    adds = True
    summary = "A step was added off the happy path (an alternative branch)."
    why = "A client may meet the new branch and not know how to handle it."
    template = "{subject} was added ({new})"


@kind
class TransitionRemoved(Change):
    id = "transition-removed"
    level = "breaking"
    summary = "A step was removed."
    why = "A client built from the old page still takes it."
    template = "{subject} was removed ({old})"


@kind
class HappyPathStepAdded(Change):
    id = "happy-path-step-added"
    level = "breaking"
    adds = True
    summary = "The happy path has a new step."
    why = "A client built from the old page skips it, so it never reaches the end of the flow."
    template = "{subject} is now a step of the happy path ({new})"


@kind
class HappyPathActionAdded(Change):
    id = "happy-path-action-added"
    level = "info"
    adds = True
    summary = "The happy path has a new step without an HTTP exchange a client sends (an action or an internal step)."
    why = "A client built from the old page sends the same requests; the page now describes one more thing that happens."
    template = "{subject} is now a step of the happy path, with no request of the client's ({new})"


@kind
class HappyPathStepRemoved(Change):
    id = "happy-path-step-removed"
    level = "warning"
    summary = "A step left the happy path but still exists."
    why = "A client still takes it; whether that still works depends on the server."
    template = "{subject} is no longer a step of the happy path"


@kind
class TransitionStatesChanged(Change):
    id = "transition-states-changed"
    level = "warning"
    summary = "A step now leaves or reaches another state."
    why = "A client following the old state machine may take the step at the wrong time."
    template = "{subject}: {what} changed from {old} to {new}"


@kind
class TransitionActorsChanged(Change):
    id = "transition-actors-changed"
    level = "breaking"
    summary = "Who sends a step, or who receives it, changed."
    why = "A client sends the request from or to the old participant."
    template = "{subject}: now {new} (was {old})"


@kind
class GuardAdded(Change):
    id = "guard-added"
    level = "warning"
    summary = "A step now has a condition (guard)."
    why = "A client takes the step in cases the new condition excludes."
    template = "{subject}: new condition {new}"


@kind
class GuardRemoved(Change):
    id = "guard-removed"
    level = "info"
    summary = "A step's condition (guard) was removed."
    why = "The step is allowed in more cases; clients that check the old condition still work."
    template = "{subject}: the condition {old} was removed"


@kind
class GuardChanged(Change):
    id = "guard-changed"
    level = "warning"
    summary = "A step's condition (guard) changed."
    why = "A client decides when to take the step by the old condition."
    template = "{subject}: the condition changed from {old} to {new}"


@kind
class TransitionOptionsChanged(Change):
    id = "transition-options-changed"
    level = "info"
    summary = "How a step is run changed: a wait, a parallel group, internal or not."
    why = "Timing and grouping are documented for testers; the exchange itself is compared separately."
    template = "{subject}: {what} changed from {old} to {new}"


@kind
class RequestAdded(Change):
    id = "request-added"
    level = "breaking"
    summary = "A step that was an action now sends an HTTP request."
    why = "A client built from the old page sends no request here."
    template = "{subject} now sends {new}"


@kind
class RequestRemoved(Change):
    id = "request-removed"
    level = "breaking"
    summary = "A step no longer sends its HTTP request."
    why = "A client still sends the old request, which the server no longer documents."
    template = "{subject} no longer sends {old}"


# ==================================================================== request


@kind
class EndpointMethodChanged(Change):
    id = "endpoint-method-changed"
    level = "breaking"
    summary = "The HTTP method of a request changed."
    why = "A client sends the old method, which the endpoint no longer accepts."
    template = "{subject}: the method changed from {old} to {new}"


@kind
class EndpointPathChanged(Change):
    id = "endpoint-path-changed"
    level = "breaking"
    summary = "The path of a request changed."
    why = "A client sends the request to the old path."
    template = "{subject}: the path changed from {old} to {new}"


@kind
class RequestUrlChanged(Change):
    id = "request-url-changed"
    level = "warning"
    summary = "Where the actual URL of a request comes from changed (e.g. another step's Location)."
    why = "A client may build the URL from the old source."
    template = "{subject}: the URL now comes from {new} (was {old})"


@kind
class ClientAuthChanged(Change):
    id = "client-auth-changed"
    level = "breaking"
    summary = "How the client authenticates a request changed (basic, post, bearer, none)."
    why = "A client authenticates the old way, which the server rejects."
    template = "{subject}: client authentication changed from {old} to {new}"


@kind
class BearerTokenChanged(Change):
    id = "bearer-token-changed"
    level = "warning"
    summary = "Which token is presented as the bearer token changed."
    why = "A client may present a token the server no longer accepts here."
    template = "{subject}: the bearer token is now {new} (was {old})"


@kind
class ParamRequiredAdded(Change):
    id = "param-required-added"
    level = "breaking"
    adds = True
    summary = "A request now carries a parameter (query, form, JSON, header or path value) it did not."
    why = "A client built from the old page does not send it, and the server requires it."
    template = "{subject}: new {where_kind} {name} = {new}"


@kind
class ParamRemoved(Change):
    id = "param-removed"
    level = "warning"
    summary = "A request no longer carries a parameter."
    why = "A client still sends it; servers often ignore unknown parameters, but some reject them."
    template = "{subject}: {where_kind} {name} was removed (was {old})"


@kind
class ParamValueChanged(Change):
    id = "param-value-changed"
    level = "breaking"
    summary = "The value of a request parameter changed."
    why = "A client sends the old value, which the server no longer accepts."
    template = "{subject}: {where_kind} {name} changed from {old} to {new}"


@kind
class ParamLocationChanged(Change):
    id = "param-location-changed"
    level = "breaking"
    summary = "A parameter moved (e.g. from the query to the form body)."
    why = "A client sends it in the old place, where the server no longer reads it."
    template = "{subject}: {name} moved from the {old_kind} to the {new_kind}"


@kind
class RequestOptionsChanged(Change):
    id = "request-options-changed"
    level = "info"
    summary = "A request detail for testers changed (form submission, redirects, timeout, retries, shown parameters)."
    why = "It changes how the request is run or drawn, not what the server expects."
    template = "{subject}: {what} changed from {old} to {new}"


# =================================================================== response


@kind
class StatusChanged(Change):
    id = "status-changed"
    level = "breaking"
    summary = "The HTTP status of a response or failure changed."
    why = "A client branches on the status; the old status no longer comes."
    template = "{subject}: the status changed from {old} to {new}"


@kind
class ErrorCodeChanged(Change):
    id = "error-code-changed"
    level = "breaking"
    summary = "The OAuth error code of a response or failure changed."
    why = "A client matches the error code; the old code no longer comes."
    template = "{subject}: the error code changed from {old} to {new}"


@kind
class ResponseFieldRemoved(Change):
    id = "response-field-removed"
    level = "breaking"
    summary = "A response no longer carries a field, header or redirect parameter."
    why = "A client reads it and finds nothing."
    template = "{subject}: {where_kind} {name} is no longer returned"


@kind
class ResponseFieldAdded(Change):
    id = "response-field-added"
    level = "info"
    adds = True
    summary = "A response carries a new field, header or redirect parameter, or documents its value."
    why = "Clients that do not read it are unaffected."
    template = "{subject}: {where_kind} {name} {detail}"


@kind
class ResponseValueChanged(Change):
    id = "response-value-changed"
    level = "breaking"
    summary = "The documented value of a response field, header or redirect parameter changed."
    why = "A client compares it with the old value."
    template = "{subject}: {where_kind} {name} changed from {old} to {new}"


@kind
class ContentTypeChanged(Change):
    id = "content-type-changed"
    level = "breaking"
    summary = "What a response body is changed (content type, an HTML form or not)."
    why = "A client parses the body the old way."
    template = "{subject}: {what} changed from {old} to {new}"


@kind
class RedirectChanged(Change):
    id = "redirect-changed"
    level = "breaking"
    summary = "Where a response redirects changed, or it stopped or started redirecting."
    why = "A client (or its callback) expects the old redirect."
    template = "{subject}: the redirect changed from {old} to {new}"


@kind
class CaptureAdded(Change):
    id = "capture-added"
    level = "info"
    adds = True
    summary = "A value is newly kept from a response."
    why = "Clients that do not keep it are unaffected until a step uses it (reported there)."
    template = "{subject}: new capture {name} from {new}"


@kind
class CaptureRemoved(Change):
    id = "capture-removed"
    level = "breaking"
    summary = "A value is no longer kept from a response."
    why = "Later steps, and flows that require this one, relied on it."
    template = "{subject}: capture {name} (from {old}) was removed"


@kind
class CaptureSourceChanged(Change):
    id = "capture-source-changed"
    level = "warning"
    summary = "Where a kept value is read from changed."
    why = "A client may read it from the old place."
    template = "{subject}: capture {name} is now read from {new} (was {old})"


# ======================================================================== JWT


@kind
class JwtCheckAdded(Change):
    id = "jwt-check-added"
    level = "warning"
    adds = True
    summary = "A JWT in a response is newly validated."
    why = "A client built from the old page does not validate it; it should start to."
    template = "{subject}: the JWT {name} is now validated"


@kind
class JwtCheckRemoved(Change):
    id = "jwt-check-removed"
    level = "info"
    summary = "A JWT in a response is no longer validated."
    why = "Clients that still validate it keep working as long as the token passes."
    template = "{subject}: the JWT {name} is no longer validated"


@kind
class JwtClaimRequiredAdded(Change):
    id = "jwt-claim-required-added"
    level = "warning"
    adds = True
    summary = "A JWT must now carry a claim."
    why = "Clients should check it; validation of tokens without it now fails."
    template = "{subject}: the JWT {name} must carry claim {new}"


@kind
class JwtClaimRequiredRemoved(Change):
    id = "jwt-claim-required-removed"
    level = "breaking"
    summary = "A JWT no longer has to carry a claim."
    why = "A client that reads the claim, or rejects tokens without it, breaks when it is absent."
    template = "{subject}: the JWT {name} no longer has to carry claim {old}"


@kind
class JwtClaimAdded(Change):
    id = "jwt-claim-added"
    level = "warning"
    adds = True
    summary = "A JWT claim now has an exact expected value."
    why = "Clients should check the value; tokens with another value are now rejected."
    template = "{subject}: the JWT {name} claim {claim} must equal {new}"


@kind
class JwtClaimChanged(Change):
    id = "jwt-claim-changed"
    level = "breaking"
    summary = "The expected value of a JWT claim changed or is no longer fixed."
    why = "A client compares the claim with the old value."
    template = "{subject}: the JWT {name} claim {claim} changed from {old} to {new}"


@kind
class JwtIssChanged(Change):
    id = "jwt-iss-changed"
    level = "breaking"
    summary = "The expected issuer (iss) of a JWT changed."
    why = "A client checks the old issuer and rejects the new tokens."
    template = "{subject}: the JWT {name} issuer changed from {old} to {new}"


@kind
class JwtAudChanged(Change):
    id = "jwt-aud-changed"
    level = "breaking"
    summary = "The expected audience (aud) of a JWT changed."
    why = "A client checks the old audience and rejects the new tokens."
    template = "{subject}: the JWT {name} audience changed from {old} to {new}"


@kind
class JwtNonceChanged(Change):
    id = "jwt-nonce-changed"
    level = "warning"
    summary = "The nonce check of a JWT was added, removed or changed."
    why = "A client that does not send or check the nonce as documented may be rejected or left unprotected."
    template = "{subject}: the JWT {name} nonce check changed from {old} to {new}"


@kind
class JwtOptionsChanged(Change):
    id = "jwt-options-changed"
    level = "warning"
    summary = "Where a JWT's keys come from (jwks) or whether expiry is checked changed."
    why = "A client may validate with the wrong keys or accept expired tokens."
    template = "{subject}: the JWT {name} {what} changed from {old} to {new}"


# =================================================================== failures


@kind
class FailureBranchAdded(Change):
    id = "failure-branch-added"
    level = "warning"
    adds = True
    summary = "A step documents a new way to fail."
    why = "A client built from the old page does not handle this failure."
    template = "{subject} was added: {new}"


@kind
class FailureBranchRemoved(Change):
    id = "failure-branch-removed"
    level = "info"
    summary = "A documented failure no longer happens."
    why = "Handling it anyway does no harm."
    template = "{subject} was removed (was {old})"


@kind
class FailureTargetChanged(Change):
    id = "failure-target-changed"
    level = "warning"
    summary = "Where a failure leads (its state) changed."
    why = "A client recovers from the failure the old way."
    template = "{subject} now leads to {new} (was {old})"


@kind
class FailureRetryChanged(Change):
    id = "failure-retry-changed"
    level = "warning"
    summary = "Whether a client may retry after a failure changed."
    why = "A client retries when it must not, or gives up when it could retry."
    template = "{subject}: retry changed from {old} to {new}"


@kind
class ProvokeChanged(Change):
    id = "provoke-changed"
    level = "info"
    summary = "How testers provoke a failure changed."
    why = "It is a test recipe; the failure itself is compared separately."
    template = "{subject}: how to provoke it changed"


@kind
class PathAdded(Change):
    id = "path-added"
    level = "info"
    adds = True
    summary = "A named scenario (path) was added."
    why = "Scenarios illustrate the flow; the steps are compared on their own."
    template = "{subject} was added"


@kind
class PathRemoved(Change):
    id = "path-removed"
    level = "info"
    summary = "A named scenario (path) was removed."
    why = "Scenarios illustrate the flow; the steps are compared on their own."
    template = "{subject} was removed"


@kind
class PathChanged(Change):
    id = "path-changed"
    level = "info"
    summary = "The steps of a named scenario (path) changed."
    why = "Scenarios illustrate the flow; a new step on the happy path is reported separately."
    template = "{subject}: the steps changed from {old} to {new}"


# ================================================================== lifecycle


@kind
class TokenAdded(Change):
    id = "token-added"
    level = "info"
    adds = True
    summary = "The lifecycle documents a new token."
    why = "Clients that do not use the token are unaffected."
    template = "{subject} was added"


@kind
class TokenRemoved(Change):
    id = "token-removed"
    level = "warning"
    summary = "The lifecycle no longer documents a token."
    why = "A client may still expect the token to be issued."
    template = "{subject} was removed"


@kind
class TtlShortened(Change):
    id = "ttl-shortened"
    level = "warning"
    summary = "A token lives shorter."
    why = "A client that caches the token for the old lifetime uses it after it has expired."
    template = "{subject}: {what} shortened from {old_d} to {new_d}"


@kind
class TtlLengthened(Change):
    id = "ttl-lengthened"
    level = "info"
    summary = "A token lives longer."
    why = "A client built for the old lifetime refreshes early, which still works."
    template = "{subject}: {what} lengthened from {old_d} to {new_d}"


@kind
class TtlChanged(Change):
    id = "ttl-changed"
    level = "info"
    summary = "A token's lifetime became documented, or is no longer documented."
    why = "The token's behaviour is unchanged as far as the pages say."
    template = "{subject}: {what} {detail}"


@kind
class TokenFormatChanged(Change):
    id = "token-format-changed"
    level = "breaking"
    summary = "A token changed format (JWT ↔ opaque)."
    why = "A client that decodes the token, or treats it as opaque, reads it the old way."
    template = "{subject}: the format changed from {old} to {new}"


@kind
class RotationEnabled(Change):
    id = "rotation-enabled"
    level = "breaking"
    summary = "A token now rotates or is single-use."
    why = "A client that reuses the token, or keeps the old one, is rejected (and may have its grant revoked)."
    template = "{subject}: {what} is now {new} (was {old})"


@kind
class RotationChanged(Change):
    id = "rotation-changed"
    level = "warning"
    summary = "How a token is rotated changed, or it no longer rotates."
    why = "A client handles the token by the old rotation rule."
    template = "{subject}: {what} changed from {old} to {new}"


@kind
class StorageChanged(Change):
    id = "storage-changed"
    level = "warning"
    summary = "The storage advice for a platform changed or was removed."
    why = "Clients keep tokens where the old page said, which may no longer be considered safe."
    template = "storage advice for {name} {detail}"


@kind
class StorageAdded(Change):
    id = "storage-added"
    level = "info"
    adds = True
    summary = "Storage advice for a new platform."
    why = "Existing clients on other platforms are unaffected."
    template = "storage advice for {name} was added: {new}"


@kind
class ReauthConditionAdded(Change):
    id = "reauth-condition-added"
    level = "warning"
    adds = True
    summary = "A new condition forces the user to sign in again."
    why = "A client does not expect to send the user back to sign-in in this case."
    template = "new re-authentication condition: {new}"


@kind
class ReauthConditionRemoved(Change):
    id = "reauth-condition-removed"
    level = "info"
    summary = "A condition no longer forces a new sign-in."
    why = "Clients that still send the user to sign in are unaffected."
    template = "re-authentication condition removed: {old}"


@kind
class CachingChanged(Change):
    id = "caching-changed"
    level = "info"
    summary = "A caching or refresh-ahead rule was added or removed."
    why = "Caching advice is guidance; lifetimes are compared separately."
    template = "caching rule {verb}: {value}"


@kind
class LifecycleChanged(Change):
    id = "lifecycle-changed"
    level = "info"
    summary = "Another token detail changed (refresh-ahead, revocation, a format becoming documented)."
    why = "It refines the advice; lifetimes, format and rotation are compared separately."
    template = "{subject}: {what} changed from {old} to {new}"


@kind
class TroubleshootingChanged(Change):
    id = "troubleshooting-changed"
    level = "info"
    summary = "A troubleshooting entry was added, removed or changed."
    why = "Troubleshooting helps readers; it does not change the exchange."
    template = "troubleshooting entry {name} {verb}"


__all__ = ["BUMP_RANK", "CHANGE_KINDS", "LEVELS", "LEVEL_RANK", "Bump", "Change", "Level", "Shown", "jsonable", "show"] + [
    c.__name__ for c in CHANGE_KINDS.values()
]
