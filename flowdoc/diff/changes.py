"""The kinds of semantic change between two versions of a flow: one table, :data:`KINDS`.

Each kind (a :class:`ChangeKind` record) has a stable ``id``, a ``level`` and an
explanation of that level, written from the point of view of a developer who built a
client from the *old* page:

* ``breaking`` — that client breaks;
* ``warning``  — that client may break, or should act;
* ``info``     — that client keeps working.

``adds`` marks additions: they need at least a minor version bump even when
they break nothing. The engine (:mod:`flowdoc.diff.engine`) creates :class:`Change`
instances by kind id; an instance carries the ``path`` of what changed (YAML keys, with
ids in place of list positions: ``("transitions", "exchange_code", "request", "form",
"code_verifier")``), the old and new values and a message made from the kind's
``template``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .values import Shown, jsonable, show

Level = Literal["breaking", "warning", "info"]
Bump = Literal["major", "minor", "patch"]

#: Levels from the most to the least severe.
LEVELS: tuple[Level, ...] = ("breaking", "warning", "info")
LEVEL_RANK: dict[str, int] = {"info": 0, "warning": 1, "breaking": 2}
BUMP_RANK: dict[str, int] = {"patch": 0, "minor": 1, "major": 2}


@dataclass(frozen=True)
class ChangeKind:
    """A kind of change: a row of :data:`KINDS`."""

    id: str
    level: Level
    #: The message; placeholders: {subject}, {old}, {new} (shown values) and the engine's context.
    template: str
    #: What this kind of change is, in one line.
    summary: str
    #: Why it has its level: what happens to a client built from the old page.
    why: str
    #: An addition (a new step, branch, field ...): needs at least a minor bump.
    adds: bool = False

    def __post_init__(self) -> None:
        if self.level not in LEVELS:  # pragma: no cover - a programming error
            raise ValueError(f"change {self.id!r}: unknown level {self.level!r}")

    @property
    def bump(self) -> Bump:
        """The smallest version bump a change of this kind needs on its own."""
        if self.level == "breaking":
            return "major"
        if self.level == "warning" or self.adds:
            return "minor"
        return "patch"


class Change:
    """One semantic change: a kind (see :data:`CHANGE_KINDS`), where, the old and new values, a message."""

    __slots__ = ("kind", "path", "subject", "old", "new", "context", "message")

    def __init__(self, kind: ChangeKind, path: tuple, subject: str = "the flow", old: Any = None, new: Any = None,
                 **context: Any):
        self.kind = kind
        self.path = tuple(path)
        self.subject = subject
        self.old = old
        self.new = new
        self.context = context
        fields = {"old": show(old), "new": show(new), **context}
        self.message = kind.template.format(subject=subject, **fields)

    # ------------------------------------------------------------------ API
    @property
    def id(self) -> str:
        return self.kind.id

    @property
    def level(self) -> Level:
        return self.kind.level

    @property
    def adds(self) -> bool:
        return self.kind.adds

    @property
    def summary(self) -> str:
        return self.kind.summary

    @property
    def why(self) -> str:
        return self.kind.why

    @property
    def bump(self) -> Bump:
        """The smallest version bump this change needs on its own."""
        return self.kind.bump

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
        return f"<Change {self.id} {self.level} {self.where}: {self.message}>"


#: Every kind of change, in the order ``flowdoc diff --list-changes`` shows them: the flow, actors,
#: inputs, generated values, requirements, states, transitions, requests, responses, JWT checks,
#: failures and paths, lifecycle. Each row: id, level, message template; what it is; why that level.
KINDS: tuple[ChangeKind, ...] = (
    # flow
    ChangeKind("flow-id-changed", "breaking", "the flow id changed from {old} to {new}",
               "The flow's id changed.",
               "Links, requirements of other flows and page URLs use the id; they no longer find the flow."),
    ChangeKind("flow-deprecated", "warning", "the flow is deprecated{detail}",
               "The flow became deprecated.",
               "Clients keep working for now, but must migrate before the flow is removed."),
    ChangeKind("flow-undeprecated", "info", "{detail}",
               "A deprecated flow is current again, or this version replaces the deprecated one.",
               "Nothing a client relies on is taken away by the status itself."),
    ChangeKind("flow-status-changed", "info", "the status changed from {old} to {new}",
               "The status changed between draft and current.",
               "The status tells readers how settled the page is; requests and responses are compared separately."),
    ChangeKind("sunset-brought-forward", "warning", "the sunset date {detail}",
               "A sunset date was set, or moved earlier.",
               "Clients have less time to migrate before the flow stops working."),
    ChangeKind("sunset-postponed", "info", "the sunset date {detail}",
               "The sunset date moved later, or was withdrawn.",
               "Clients get more time; nothing breaks earlier than before."),
    ChangeKind("replacement-changed", "info", "the deprecation's {what} changed from {old} to {new}",
               "The deprecation notice (replacement, migration guide, reason) changed.",
               "It changes where readers are sent, not what the flow does."),
    ChangeKind("text-changed", "info", "{subject}: the {what} {verb}",
               "Prose changed: a title, summary, description, condition or remedy.",
               "Words explain the flow; requests, responses and states are compared on their own."),
    ChangeKind("metadata-changed", "info", "the {what} changed from {old} to {new}",
               "Tags or links changed.",
               "They help readers find pages; they do not change the exchange."),

    # actors
    ChangeKind("actor-added", "info", "{subject} was added",
               "A participant was added.",
               "A new participant on its own changes no request; steps involving it are reported separately.",
               adds=True),
    ChangeKind("actor-removed", "warning", "{subject} was removed",
               "A participant was removed.",
               "A client may still talk to it; the steps it took part in are reported separately."),
    ChangeKind("actor-kind-changed", "info", "{subject}: the kind changed from {old} to {new}",
               "A participant's kind changed (e.g. service → gateway).",
               "The kind is how the participant is drawn and described; the exchange is compared separately."),
    ChangeKind("actor-base-url-changed", "warning", "{subject}: the base URL changed from {old} to {new}",
               "Where requests to a participant go (base_url) changed.",
               "A client configured from the old page may send its requests to the old address."),

    # inputs
    ChangeKind("input-required-added", "breaking", "{subject} is new and required (no default)",
               "A new input with no default: every client must now supply it.",
               "A client built from the old page does not have this value, so it cannot run the flow.", adds=True),
    ChangeKind("input-optional-added", "info", "{subject} is new, with default {new}",
               "A new input with a default.",
               "The default applies to clients that do not supply it.", adds=True),
    ChangeKind("test-input-added", "info", "{subject} is new; clients need not supply it (only failure recipes use it)",
               "A new input no client needs: only the recipes that provoke failures use it, or nothing does.",
               "Clients never send it; only flowdoc verify and testers supply it."),
    ChangeKind("input-removed", "info", "{subject} was removed",
               "An input is no longer used.",
               "Clients may keep supplying it; it is ignored."),
    ChangeKind("input-became-required", "breaking", "{subject} no longer has a default (was {old}); clients must "
               "supply it",
               "An input lost its default: every client must now supply it.",
               "A client that relied on the default no longer has a value for it."),
    ChangeKind("input-default-changed", "warning", "{subject}: the default changed from {old} to {new}",
               "The default value of an input changed.",
               "Clients relying on the default now send a different value."),
    ChangeKind("input-changed", "info", "{subject}: {what} changed from {old} to {new}",
               "How an input is supplied changed (secret, environment variable, a default added).",
               "Existing clients still supply the value as before."),

    # generate
    ChangeKind("generator-added", "warning", "{subject} is new: the client generates a {new} value on every run",
               "The client must now generate a fresh value (PKCE pair, state, nonce, TOTP code).",
               "A client built from the old page does not generate it; where it is sent, the parameter change is "
               "reported too.", adds=True),
    ChangeKind("generator-removed", "info", "{subject} is no longer generated",
               "A generated value is no longer needed.",
               "Generating it anyway does no harm."),
    ChangeKind("generator-changed", "warning", "{subject}: {what} changed from {old} to {new}",
               "How a value is generated changed (kind, PKCE method, entropy, TOTP settings).",
               "A client generating it the old way may produce values the server rejects."),

    # requires
    ChangeKind("requirement-added", "breaking", "{subject} is new: flow {new} must run first",
               "Another flow must now run first.",
               "A client built from the old page starts without the values that flow provides.", adds=True),
    ChangeKind("requirement-removed", "info", "{subject} was removed: flow {old} no longer needs to run first",
               "Another flow no longer needs to run first.",
               "Running it anyway does no harm."),
    ChangeKind("requirement-changed", "warning", "{subject}: {what} changed from {old} to {new}",
               "The flow that must run first, or the values taken from it, changed.",
               "A client may take its values from the wrong flow or step."),

    # states
    ChangeKind("state-added", "info", "{subject} was added",
               "A state was added.",
               "Steps into the new state are reported on their own.", adds=True),
    ChangeKind("state-removed", "warning", "{subject} was removed",
               "A state was removed.",
               "A client that tracks the flow's states may expect it."),
    ChangeKind("initial-state-changed", "breaking", "the flow now starts in {new} (was {old})",
               "The flow starts in another state.",
               "A client starts the flow where the old page said."),
    ChangeKind("state-kind-changed", "warning", "{subject} {detail}",
               "A state became or stopped being terminal or a failure.",
               "A client may stop too early, or wait for steps that no longer come."),

    # transitions
    ChangeKind("transition-added", "warning", "{subject} was added ({new})",
               "A step was added off the happy path (an alternative branch).",
               "A client may meet the new branch and not know how to handle it.", adds=True),
    ChangeKind("transition-removed", "breaking", "{subject} was removed ({old})",
               "A step was removed.",
               "A client built from the old page still takes it."),
    ChangeKind("happy-path-step-added", "breaking", "{subject} is now a step of the happy path ({new})",
               "The happy path has a new step.",
               "A client built from the old page skips it, so it never reaches the end of the flow.", adds=True),
    ChangeKind("happy-path-action-added", "info", "{subject} is now a step of the happy path, with no request of the "
               "client's ({new})",
               "The happy path has a new step without an HTTP exchange a client sends (an action or an internal step).",
               "A client built from the old page sends the same requests; the page now describes one more thing that "
               "happens.", adds=True),
    ChangeKind("happy-path-step-removed", "warning", "{subject} is no longer a step of the happy path",
               "A step left the happy path but still exists.",
               "A client still takes it; whether that still works depends on the server."),
    ChangeKind("transition-states-changed", "warning", "{subject}: {what} changed from {old} to {new}",
               "A step now leaves or reaches another state.",
               "A client following the old state machine may take the step at the wrong time."),
    ChangeKind("transition-actors-changed", "breaking", "{subject}: now {new} (was {old})",
               "Who sends a step, or who receives it, changed.",
               "A client sends the request from or to the old participant."),
    ChangeKind("guard-added", "warning", "{subject}: new condition {new}",
               "A step now has a condition (guard).",
               "A client takes the step in cases the new condition excludes."),
    ChangeKind("guard-removed", "info", "{subject}: the condition {old} was removed",
               "A step's condition (guard) was removed.",
               "The step is allowed in more cases; clients that check the old condition still work."),
    ChangeKind("guard-changed", "warning", "{subject}: the condition changed from {old} to {new}",
               "A step's condition (guard) changed.",
               "A client decides when to take the step by the old condition."),
    ChangeKind("transition-options-changed", "info", "{subject}: {what} changed from {old} to {new}",
               "How a step is run changed: a wait, a parallel group, internal or not.",
               "Timing and grouping are documented for testers; the exchange itself is compared separately."),
    ChangeKind("request-added", "breaking", "{subject} now sends {new}",
               "A step that was an action now sends an HTTP request.",
               "A client built from the old page sends no request here."),
    ChangeKind("request-removed", "breaking", "{subject} no longer sends {old}",
               "A step no longer sends its HTTP request.",
               "A client still sends the old request, which the server no longer documents."),

    # request
    ChangeKind("endpoint-method-changed", "breaking", "{subject}: the method changed from {old} to {new}",
               "The HTTP method of a request changed.",
               "A client sends the old method, which the endpoint no longer accepts."),
    ChangeKind("endpoint-path-changed", "breaking", "{subject}: the path changed from {old} to {new}",
               "The path of a request changed.",
               "A client sends the request to the old path."),
    ChangeKind("request-url-changed", "warning", "{subject}: the URL now comes from {new} (was {old})",
               "Where the actual URL of a request comes from changed (e.g. another step's Location).",
               "A client may build the URL from the old source."),
    ChangeKind("client-auth-changed", "breaking", "{subject}: client authentication changed from {old} to {new}",
               "How the client authenticates a request changed (basic, post, bearer, none).",
               "A client authenticates the old way, which the server rejects."),
    ChangeKind("bearer-token-changed", "warning", "{subject}: the bearer token is now {new} (was {old})",
               "Which token is presented as the bearer token changed.",
               "A client may present a token the server no longer accepts here."),
    ChangeKind("param-required-added", "breaking", "{subject}: new {where_kind} {name} = {new}",
               "A request now carries a parameter (query, form, JSON, header or path value) it did not.",
               "A client built from the old page does not send it, and the server requires it.", adds=True),
    ChangeKind("param-removed", "warning", "{subject}: {where_kind} {name} was removed (was {old})",
               "A request no longer carries a parameter.",
               "A client still sends it; servers often ignore unknown parameters, but some reject them."),
    ChangeKind("param-value-changed", "breaking", "{subject}: {where_kind} {name} changed from {old} to {new}",
               "The value of a request parameter changed.",
               "A client sends the old value, which the server no longer accepts."),
    ChangeKind("param-location-changed", "breaking", "{subject}: {name} moved from the {old_kind} to the {new_kind}",
               "A parameter moved (e.g. from the query to the form body).",
               "A client sends it in the old place, where the server no longer reads it."),
    ChangeKind("request-options-changed", "info", "{subject}: {what} changed from {old} to {new}",
               "A request detail for testers changed (form submission, redirects, timeout, retries, shown parameters).",
               "It changes how the request is run or drawn, not what the server expects."),

    # response
    ChangeKind("status-changed", "breaking", "{subject}: the status changed from {old} to {new}",
               "The HTTP status of a response or failure changed.",
               "A client branches on the status; the old status no longer comes."),
    ChangeKind("error-code-changed", "breaking", "{subject}: the error code changed from {old} to {new}",
               "The OAuth error code of a response or failure changed.",
               "A client matches the error code; the old code no longer comes."),
    ChangeKind("response-field-removed", "breaking", "{subject}: {where_kind} {name} is no longer returned",
               "A response no longer carries a field, header or redirect parameter.",
               "A client reads it and finds nothing."),
    ChangeKind("response-field-added", "info", "{subject}: {where_kind} {name} {detail}",
               "A response carries a new field, header or redirect parameter, or documents its value.",
               "Clients that do not read it are unaffected.", adds=True),
    ChangeKind("response-value-changed", "breaking", "{subject}: {where_kind} {name} changed from {old} to {new}",
               "The documented value of a response field, header or redirect parameter changed.",
               "A client compares it with the old value."),
    ChangeKind("content-type-changed", "breaking", "{subject}: {what} changed from {old} to {new}",
               "What a response body is changed (content type, an HTML form or not).",
               "A client parses the body the old way."),
    ChangeKind("redirect-changed", "breaking", "{subject}: the redirect changed from {old} to {new}",
               "Where a response redirects changed, or it stopped or started redirecting.",
               "A client (or its callback) expects the old redirect."),
    ChangeKind("capture-added", "info", "{subject}: new capture {name} from {new}",
               "A value is newly kept from a response.",
               "Clients that do not keep it are unaffected until a step uses it (reported there).", adds=True),
    ChangeKind("capture-removed", "breaking", "{subject}: capture {name} (from {old}) was removed",
               "A value is no longer kept from a response.",
               "Later steps, and flows that require this one, relied on it."),
    ChangeKind("capture-source-changed", "warning", "{subject}: capture {name} is now read from {new} (was {old})",
               "Where a kept value is read from changed.",
               "A client may read it from the old place."),

    # JWT
    ChangeKind("jwt-check-added", "warning", "{subject}: the JWT {name} is now validated",
               "A JWT in a response is newly validated.",
               "A client built from the old page does not validate it; it should start to.", adds=True),
    ChangeKind("jwt-check-removed", "info", "{subject}: the JWT {name} is no longer validated",
               "A JWT in a response is no longer validated.",
               "Clients that still validate it keep working as long as the token passes."),
    ChangeKind("jwt-claim-required-added", "warning", "{subject}: the JWT {name} must carry claim {new}",
               "A JWT must now carry a claim.",
               "Clients should check it; validation of tokens without it now fails.", adds=True),
    ChangeKind("jwt-claim-required-removed", "breaking", "{subject}: the JWT {name} no longer has to carry claim {old}",
               "A JWT no longer has to carry a claim.",
               "A client that reads the claim, or rejects tokens without it, breaks when it is absent."),
    ChangeKind("jwt-claim-added", "warning", "{subject}: the JWT {name} claim {claim} must equal {new}",
               "A JWT claim now has an exact expected value.",
               "Clients should check the value; tokens with another value are now rejected.", adds=True),
    ChangeKind("jwt-claim-changed", "breaking", "{subject}: the JWT {name} claim {claim} changed from {old} to {new}",
               "The expected value of a JWT claim changed or is no longer fixed.",
               "A client compares the claim with the old value."),
    ChangeKind("jwt-iss-changed", "breaking", "{subject}: the JWT {name} issuer changed from {old} to {new}",
               "The expected issuer (iss) of a JWT changed.",
               "A client checks the old issuer and rejects the new tokens."),
    ChangeKind("jwt-aud-changed", "breaking", "{subject}: the JWT {name} audience changed from {old} to {new}",
               "The expected audience (aud) of a JWT changed.",
               "A client checks the old audience and rejects the new tokens."),
    ChangeKind("jwt-nonce-changed", "warning", "{subject}: the JWT {name} nonce check changed from {old} to {new}",
               "The nonce check of a JWT was added, removed or changed.",
               "A client that does not send or check the nonce as documented may be rejected or left unprotected."),
    ChangeKind("jwt-options-changed", "warning", "{subject}: the JWT {name} {what} changed from {old} to {new}",
               "Where a JWT's keys come from (jwks) or whether expiry is checked changed.",
               "A client may validate with the wrong keys or accept expired tokens."),

    # failures
    ChangeKind("failure-branch-added", "warning", "{subject} was added: {new}",
               "A step documents a new way to fail.",
               "A client built from the old page does not handle this failure.", adds=True),
    ChangeKind("failure-branch-removed", "info", "{subject} was removed (was {old})",
               "A documented failure no longer happens.",
               "Handling it anyway does no harm."),
    ChangeKind("failure-moved", "warning", "{subject} now shows at {new} (was at {old})",
               "The step where a failure's documented answer shows changed (through: the later steps it runs on "
               "through); the answers of the two steps are not compared.",
               "A client looks for the failure at the old step."),
    ChangeKind("failure-target-changed", "warning", "{subject} now leads to {new} (was {old})",
               "Where a failure leads (its state) changed.",
               "A client recovers from the failure the old way."),
    ChangeKind("failure-retry-changed", "warning", "{subject}: retry changed from {old} to {new}",
               "Whether a client may retry after a failure changed.",
               "A client retries when it must not, or gives up when it could retry."),
    ChangeKind("provoke-changed", "info", "{subject}: how to provoke it changed",
               "How testers provoke a failure changed.",
               "It is a test recipe; the failure itself is compared separately."),
    ChangeKind("path-added", "info", "{subject} was added",
               "A named scenario (path) was added.",
               "Scenarios illustrate the flow; the steps are compared on their own.", adds=True),
    ChangeKind("path-removed", "info", "{subject} was removed",
               "A named scenario (path) was removed.",
               "Scenarios illustrate the flow; the steps are compared on their own."),
    ChangeKind("path-changed", "info", "{subject}: the steps changed from {old} to {new}",
               "The steps of a named scenario (path) changed.",
               "Scenarios illustrate the flow; a new step on the happy path is reported separately."),

    # lifecycle
    ChangeKind("token-added", "info", "{subject} was added",
               "The lifecycle documents a new token.",
               "Clients that do not use the token are unaffected.", adds=True),
    ChangeKind("token-removed", "warning", "{subject} was removed",
               "The lifecycle no longer documents a token.",
               "A client may still expect the token to be issued."),
    ChangeKind("ttl-shortened", "warning", "{subject}: {what} shortened from {old_d} to {new_d}",
               "A token lives shorter.",
               "A client that caches the token for the old lifetime uses it after it has expired."),
    ChangeKind("ttl-lengthened", "info", "{subject}: {what} lengthened from {old_d} to {new_d}",
               "A token lives longer.",
               "A client built for the old lifetime refreshes early, which still works."),
    ChangeKind("ttl-changed", "info", "{subject}: {what} {detail}",
               "A token's lifetime became documented, or is no longer documented.",
               "The token's behaviour is unchanged as far as the pages say."),
    ChangeKind("token-format-changed", "breaking", "{subject}: the format changed from {old} to {new}",
               "A token changed format (JWT ↔ opaque).",
               "A client that decodes the token, or treats it as opaque, reads it the old way."),
    ChangeKind("rotation-enabled", "breaking", "{subject}: {what} is now {new} (was {old})",
               "A token now rotates or is single-use.",
               "A client that reuses the token, or keeps the old one, is rejected (and may have its grant revoked)."),
    ChangeKind("rotation-changed", "warning", "{subject}: {what} changed from {old} to {new}",
               "How a token is rotated changed, or it no longer rotates.",
               "A client handles the token by the old rotation rule."),
    ChangeKind("storage-changed", "warning", "storage advice for {name} {detail}",
               "The storage advice for a platform changed or was removed.",
               "Clients keep tokens where the old page said, which may no longer be considered safe."),
    ChangeKind("storage-added", "info", "storage advice for {name} was added: {new}",
               "Storage advice for a new platform.",
               "Existing clients on other platforms are unaffected.", adds=True),
    ChangeKind("reauth-condition-added", "warning", "new re-authentication condition: {new}",
               "A new condition forces the user to sign in again.",
               "A client does not expect to send the user back to sign-in in this case.", adds=True),
    ChangeKind("reauth-condition-removed", "info", "re-authentication condition removed: {old}",
               "A condition no longer forces a new sign-in.",
               "Clients that still send the user to sign in are unaffected."),
    ChangeKind("caching-changed", "info", "caching rule {verb}: {value}",
               "A caching or refresh-ahead rule was added or removed.",
               "Caching advice is guidance; lifetimes are compared separately."),
    ChangeKind("lifecycle-changed", "info", "{subject}: {what} changed from {old} to {new}",
               "Another token detail changed (refresh-ahead, revocation, a format becoming documented).",
               "It refines the advice; lifetimes, format and rotation are compared separately."),
    ChangeKind("troubleshooting-changed", "info", "troubleshooting entry {name} {verb}",
               "A troubleshooting entry was added, removed or changed.",
               "Troubleshooting helps readers; it does not change the exchange."),
)


#: Every change kind, by id, in table order.
CHANGE_KINDS: dict[str, ChangeKind] = {k.id: k for k in KINDS}
if len(CHANGE_KINDS) != len(KINDS):  # pragma: no cover - a programming error
    raise ValueError("a change id is defined twice")


def change(kind_id: str, path: tuple, subject: str = "the flow", old: Any = None, new: Any = None,
           **context: Any) -> Change:
    """A change of the kind ``kind_id`` (a KeyError names an unknown id)."""
    return Change(CHANGE_KINDS[kind_id], path, subject, old, new, **context)


__all__ = ["BUMP_RANK", "CHANGE_KINDS", "KINDS", "LEVELS", "LEVEL_RANK", "Bump", "Change", "ChangeKind", "Level",
           "Shown", "change", "jsonable", "show"]
