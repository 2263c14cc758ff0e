"""Lint: the documentation best practices, as rules with stable ids.

Each rule is a small class with an id, a default severity, a one-line
rationale and a ``check`` generator yielding ``(message, yaml path, help)``.
Rules run only on flows that validated; configure them in ``[tool.flowdoc.lint]``.
"""

from __future__ import annotations

import difflib
import re
from typing import ClassVar, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..diagnostics import Diagnostic, DiagnosticList, Severity, Suppressed, quote
from ..model.flow import Flow, LintOff, Status

Finding = tuple[str, tuple, "str | None"]


class Rule:
    id: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    rationale: ClassVar[str]

    def check(self, flow: Flow) -> Iterator[Finding]:  # pragma: no cover - interface
        raise NotImplementedError


RULES: dict[str, type[Rule]] = {}


def rule(cls: type[Rule]) -> type[Rule]:
    RULES[cls.id] = cls
    return cls


_CREDENTIAL_FIELDS = {"password", "client_secret", "otp", "totp", "code_verifier", "assertion", "client_assertion"}


def _sends_credentials(t) -> bool:
    r = t.request
    if r is None:
        return False
    if r.sends_client_credentials:
        return True
    body = dict(r.form or {})
    if isinstance(r.json_body, dict):
        body.update(r.json_body)
    return any(k in _CREDENTIAL_FIELDS for k in body)


def _sends_grant(t) -> bool:
    r = t.request
    if r is None:
        return False
    body = dict(r.form or {})
    return body.get("grant_type") in ("authorization_code", "refresh_token", "password")


@rule
class ArrowComplete(Rule):
    id = "arrow-complete"
    severity = "error"
    rationale = "Every arrow carries method, endpoint and key parameters, and the response its status and key fields."

    def check(self, flow):
        for i, t in enumerate(flow.transitions):
            r, resp = t.request, t.response
            if r is None or resp is None:
                continue
            if r.method in ("POST", "PUT", "PATCH") and not (r.form or r.json_body or r.submit_form or r.shown_params):
                yield (f"'{t.id}' sends {r.method} {quote(r.path)} with no parameters", ("transitions", i, "request"),
                       "list the key form or JSON parameters the request carries")
            ok = [s for s in resp.statuses if 200 <= s < 300]
            if ok and not (resp.fields or resp.body or resp.capture or resp.form or resp.jwt or resp.text):
                yield (f"the {ok[0]} response of '{t.id}' names no key fields", ("transitions", i, "response"),
                       "list the key body fields under fields: [...] (or what an HTML page says under text: [...])")
            redirects = [s for s in resp.statuses if s in (301, 302, 303, 307, 308)]
            if redirects and resp.redirect is None and "Location" not in resp.headers and "location" not in resp.headers:
                yield (f"the {redirects[0]} redirect of '{t.id}' does not say where it goes",
                       ("transitions", i, "response", "status"), "add redirect: {to: ..., query: {...}}")


_VAGUE = re.compile(
    r"^\s*(?:(?:send|make|do|get|call|perform|execute|handle|process|fetch)\s+(?:an?\s+|the\s+)?"
    r"(?:request|call|token|api|data|auth|authentication|response|it|stuff)s?|request|response|login|auth|"
    r"authenticate|call api|api call|step \d+|todo|tbd|\?+)\s*(?:\.\s*)?$",  # no \s*\s*: linear
    re.IGNORECASE,
)


@rule
class VagueLabel(Rule):
    id = "vague-label"
    severity = "warning"
    rationale = "A label says what happens ('Exchange the code for tokens'), not 'send request' or 'get token'."

    def check(self, flow):
        for i, t in enumerate(flow.transitions):
            if _VAGUE.match(t.title) or len(t.title.split()) < 2:
                yield (f"{quote(t.title)} is too vague a title for '{t.id}'", ("transitions", i, "title"),
                       "say what the step does and with what, e.g. 'Exchange the authorization code for tokens'")


@rule
class InvalidCredentialsDocumented(Rule):
    id = "invalid-credentials-documented"
    severity = "warning"
    rationale = "Where credentials or grants are sent, the rejection (401/400 invalid_client, invalid_grant) is documented."

    def check(self, flow):
        for i, t in enumerate(flow.transitions):
            if t.internal or not (_sends_credentials(t) or _sends_grant(t)):
                continue
            if any(s in (400, 401, 403) for f in t.failures for s in f.response.statuses):
                continue
            yield (f"'{t.id}' sends credentials but documents no failure for rejected credentials",
                   ("transitions", i, "id"),
                   "add a failure with status 401 (invalid_client / wrong password) or 400 invalid_grant")


@rule
class ExpiredTokenDocumented(Rule):
    id = "expired-token-documented"
    severity = "warning"
    rationale = "Where a bearer token is presented, what happens when it has expired is documented."

    def check(self, flow):
        bearer = [(i, t) for i, t in enumerate(flow.transitions) if t.request and t.request.auth == "bearer"]
        if not bearer:
            return
        documented = any(
            401 in f.response.statuses or f.response.error in ("invalid_token", "invalid_grant")
            for _i, t in bearer for f in t.failures
        ) or any(
            t.response is not None and 401 in t.response.statuses and t.request and t.request.auth == "bearer"
            for t in flow.transitions
        )
        if not documented:
            i, t = bearer[0]
            yield (f"'{t.id}' presents a bearer token, but no step documents the expired-token 401",
                   ("transitions", i, "request", "auth"),
                   "add a failure {status: 401, error: invalid_token} and what the client does next")


_AUTHZ = re.compile(r"\b(role|roles|permission|permissions|entitle\w*|admin rights|acl|rbac|abac|policy)\b", re.I)


@rule
class EndsAtToken(Rule):
    id = "ends-at-token"
    severity = "warning"
    rationale = ("An authentication flow ends where the token is issued and hands off to the authorization guide; "
                 "authorization logic belongs there.")

    def check(self, flow):
        for i, s in enumerate(flow.states):
            if s.terminal and not s.failure and not s.handoff:
                yield (f"terminal state '{s.id}' has no handoff note", ("states", i, "id"),
                       "add handoff: 'For scopes and permissions see the Authorization Guide.'")
        for i, t in enumerate(flow.transitions):
            texts = [t.title, t.guard.text if t.guard else ""]
            hit = next((x for x in texts if x and _AUTHZ.search(x)), None)
            if hit:
                yield (f"'{t.id}' holds authorization logic ({quote(_AUTHZ.search(hit).group(0))})", ("transitions", i, "id"),
                       "move roles and permissions to the authorization guide; end this flow at token issuance")


@rule
class LifecycleDocumented(Rule):
    id = "lifecycle-documented"
    severity = "warning"
    rationale = "Every page documents token lifetimes, refresh/rotation, storage per platform and when to re-authenticate."

    def check(self, flow):
        lc = flow.lifecycle
        if lc is None:
            yield ("the flow has no lifecycle section", ("id",),
                   "add lifecycle: {tokens: ..., storage: ..., reauthenticate: [...]}")
            return
        if not lc.tokens or not any(tk.ttl for tk in lc.tokens.values()):
            yield ("the lifecycle names no token lifetime (ttl)", ("lifecycle",), "add tokens: {access_token: {ttl: 1h}}")
        if not lc.storage:
            yield ("the lifecycle gives no storage advice", ("lifecycle",),
                   "add storage: {web: ..., ios: Keychain, android: Keystore}")
        if not lc.reauthenticate:
            yield ("the lifecycle does not say when to re-authenticate", ("lifecycle",),
                   "add reauthenticate: ['the refresh token has expired', ...]")


@rule
class Versioned(Rule):
    id = "versioned"
    severity = "error"
    rationale = "Every page is versioned with a changelog and a date, never silently changed."

    def check(self, flow):
        if flow.version is None:
            yield ("the flow has no version", ("id",), 'add version: "1.0.0"')
        if flow.updated is None:
            yield ("the flow has no 'updated' date", ("id",), "add updated: YYYY-MM-DD")
        if flow.version is not None and not any(c.version == flow.version for c in flow.changelog):
            yield (f"the changelog has no entry for version {flow.version}", ("changelog",) if flow.changelog else ("version",),
                   f'add changelog: [{{version: "{flow.version}", notes: [...]}}]')


@rule
class DeprecationComplete(Rule):
    id = "deprecation-complete"
    severity = "error"
    rationale = "A deprecated flow names its replacement and a migration path."

    def check(self, flow):
        if flow.status is Status.deprecated and flow.deprecation is None:
            yield ("the flow is deprecated but names no replacement", ("status",),
                   "add deprecation: {replaced_by: FLOW-ID, migration: URL}")
        if flow.deprecation is not None and flow.status is not Status.deprecated:
            yield ("the flow has a deprecation block but its status is not deprecated", ("deprecation",),
                   "set status: deprecated, or remove the deprecation block")


@rule
class SummaryPresent(Rule):
    id = "summary-present"
    severity = "warning"
    rationale = "A page opens with a summary a reader can decide on."

    def check(self, flow):
        if not flow.summary:
            yield ("the flow has no summary", ("title",), "add summary: one or two sentences on when to use this flow")


@rule
class FailureInPrimaryDiagram(Rule):
    id = "failures-documented"
    severity = "warning"
    rationale = "Every failure branch sits in the primary diagram: a flow with HTTP steps documents at least one failure."

    def check(self, flow):
        if any(t.request for t in flow.transitions) and not any(t.failures for t in flow.transitions):
            yield ("the flow documents no failure branch", ("transitions",),
                   "add failures: to the steps that can fail (401, 403, invalid_grant, ...)")


_TODO = re.compile(r"\bTODO\b")


@rule
class TodoMarker(Rule):
    id = "todo-marker"
    severity = "warning"
    rationale = "A started flow (flowdoc new) has no TODO left when it is published."

    def check(self, flow: Flow) -> Iterator[Finding]:
        stack: list[tuple[tuple, object]] = [((), flow.model_dump(mode="json", by_alias=True, exclude_unset=True))]
        while stack:
            path, value = stack.pop()
            if isinstance(value, dict):
                stack.extend((path + (k,), v) for k, v in reversed(list(value.items())))
            elif isinstance(value, list):
                stack.extend((path + (i,), v) for i, v in reversed(list(enumerate(value))))
            elif isinstance(value, str) and _TODO.search(value):
                yield (f"TODO left at {'.'.join(map(str, path))}: {value[:80]}", path,
                       "replace the TODO with what your server does")


DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@rule
class PollingDocumented(Rule):
    id = "polling-documented"
    severity = "warning"
    rationale = ("A step the client repeats says so (poll), for how long (max_wait), and how the polling ends "
                 "(the device flow: expired_token).")

    def check(self, flow):
        for i, t in enumerate(flow.transitions):
            r = t.request
            if r is None:
                continue
            device = (r.form or {}).get("grant_type") == DEVICE_CODE_GRANT
            if device and r.poll is None:
                yield (f"'{t.id}' redeems a device code, which the client polls for, but has no poll",
                       ("transitions", i, "request"),
                       "add poll: {interval: ${steps.START.body.interval}, max_wait: ${steps.START.body.expires_in}}")
            if r.poll is None:
                continue
            if r.poll.max_wait is None:
                yield (f"'{t.id}' polls with no max_wait: say how long the client keeps polling",
                       ("transitions", i, "request", "poll"), "e.g. max_wait: ${steps.START.body.expires_in}")
            if device and not any(f.response.error == "expired_token" for f in t.failures):
                yield (f"'{t.id}' polls with a device code but does not document expired_token",
                       ("transitions", i, "request", "poll"),
                       "add a failure branch with response {status: 400, error: expired_token} (RFC 8628 section 3.5)")


class LintConfig(BaseModel):
    """``[tool.flowdoc.lint]``: rules switched off, and severities changed (rule ids of :data:`RULES`)."""

    model_config = ConfigDict(extra="forbid")

    disable: list[str] = Field(default_factory=list, description="Rule ids to switch off")
    severity: dict[str, Literal["error", "warning", "info"]] = Field(
        default_factory=dict, description="Rule id → severity"
    )

    @field_validator("disable")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        _check_rule_ids(v)
        return v

    @field_validator("severity")
    @classmethod
    def _known_sev(cls, v: dict[str, str]) -> dict[str, str]:
        _check_rule_ids(list(v))
        return v


def _check_rule_ids(ids: list[str]) -> None:
    unknown = [r for r in ids if r not in RULES]
    if unknown:
        raise ValueError(f"unknown lint rule {unknown[0]!r}; rules are: {', '.join(RULES)}")


def run_lint(flow: Flow, diags: DiagnosticList, config: LintConfig | None = None) -> None:
    """The rules on one valid flow; findings the flow or one of its steps switches off (``lint:``)
    go to ``diags.suppressed`` with their reason."""
    config = config or LintConfig()
    for rid, cls in RULES.items():
        if rid in config.disable:
            continue
        severity = config.severity.get(rid, cls.severity)
        for message, path, help in cls().check(flow):
            off = suppressed_by(flow, rid, path)
            if off is None:
                diags.add(rid, message, flow.pos(*path), severity=severity, help=help)
                continue
            line, col = flow.pos(*path) or (None, None)
            diags.suppressed.append(Suppressed(Diagnostic(diags.file, line, col, rid, message, severity, help),
                                               off.reason))


def suppressed_by(flow: Flow, rid: str, path: tuple) -> LintOff | None:
    """The ``lint:`` that switches rule ``rid`` off at ``path``: its transition's, else the flow's."""
    if len(path) >= 2 and path[0] == "transitions" and isinstance(path[1], int) and path[1] < len(flow.transitions):
        own = flow.transitions[path[1]].lint
        if own is not None and rid in own.disable:
            return own
    if flow.lint is not None and rid in flow.lint.disable:
        return flow.lint
    return None


def check_suppressions(flow: Flow, diags: DiagnosticList) -> None:
    """Each ``lint: {disable: [...]}`` names rules that exist (validate: an unknown one is an error)."""
    places: list[tuple[tuple, LintOff]] = [(("lint",), flow.lint)] if flow.lint is not None else []
    places += [(("transitions", i, "lint"), t.lint) for i, t in enumerate(flow.transitions) if t.lint is not None]
    for where, off in places:
        for k, rid in enumerate(off.disable):
            if rid in RULES:
                continue
            near = difflib.get_close_matches(rid, list(RULES), n=1, cutoff=0.6)
            diags.add("unknown-lint-rule", f"lint.disable names unknown rule {quote(rid)}",
                      flow.pos(*where, "disable", k),
                      help=f"did you mean {quote(near[0])}?" if near else f"rules are: {', '.join(RULES)}")
