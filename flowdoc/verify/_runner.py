"""Running one scenario: the requirements, the route, the provoked failure, the state it leads to.

The runner composes the parts: values (``_values``), request building (``_request``, ``_auth``),
the exchange (``_http``), extraction (``_extract``), checks (``_checks``, ``_lifecycle``), failure
branches (``_failures``) and parameter probes (``_probe``). Every exchange is recorded in one
place, :meth:`ScenarioRun._exchanged`; every statement proven, in :meth:`ScenarioRun._observe`.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from urllib.parse import parse_qsl, urlsplit

import httpx

from ..check.assumptions import assumptions_off
from ..model.expr import ExprError, Guard, as_text
from ..model.flow import Flow, RequestPatch, Requirement, Transition, parallel_groups
from . import _lifecycle  # noqa: F401  (registers the lifecycle check)
from ._checks import CheckContext, Expected, run_checks
from ._detect import NO_PUBLIC, Publicity, note_request, register_exchange, register_response
from ._extract import StepData, captured, register_secret_captures, step_value
from ._failures import FailureSteps
from ._host import Spec
from ._http import (
    BadResponse,
    InsecureTransport,
    Outgoing,
    Received,
    TimedOut,
    Unreachable,
    redact_url,
    request_excerpt,
    response_excerpt,
)
from ._outcomes import ConformanceFailure, SkipScenario, UsageProblem
from ._plan import Scenario
from ._poll import PollSteps
from ._pool import RunContext
from ._probe import ProbeStep
from ._request import NO_PATCH, Building, build_request
from ._result import ERROR, FAILED, PASSED, SKIPPED, CheckFailure, FailureDetail, ScenarioResult, StepRecord
from ._statements import TokenClaim, token_claims
from ._values import FlowState, seconds

__all__ = ["Exchange", "ScenarioRun"]


@dataclass
class Exchange:
    """One request sent and what came of it (the request and response are None when none was had)."""

    transition: str
    role: str
    out: Outgoing
    duration: float
    request: httpx.Request | None = None
    got: Received | None = None
    outcome: str = "response"  # response | timeout | network-error
    ok: bool = True
    note: str = ""


def _target(scn: Scenario) -> Transition:
    """The step a failure, probe or unreachable scenario is about (the planner always names it)."""
    if scn.target is None:  # pragma: no cover - the planner sets it for these kinds
        raise UsageProblem(f"scenario '{scn.id}' names no step")
    return scn.target


class ScenarioRun(FailureSteps, ProbeStep, PollSteps):
    def __init__(self, ctx: RunContext, scenario: Scenario, *, record: bool = True):
        self.ctx = ctx
        self.scn = scenario
        self._recorder = ctx.recorder if record else None  # record=False: not for proof files (a repeat)
        self.client = ctx.acquire_client()
        self.exchanger = ctx.exchanger(self.client, registers=False)
        flow = scenario.flow
        self.result = ScenarioResult(
            id=scenario.id, flow=flow.id, flow_version=flow.version, name=scenario.name, kind=scenario.kind,
            title=scenario.title,
        )
        self._records_lock = threading.Lock()
        self._pending_internal: list[Transition] = []
        self._covered: list[str] = []
        self._proven: list[str] = []  # statements proven (ids of flowdoc.verify._statements)
        self._unobserved: dict[str, str] = {}  # statements this run found it cannot observe: why
        self._current: str | None = None
        self._offs: dict[int, dict[str, str]] = {}  # per flow: assumed behaviours switched off, id -> reason
        # which response values are public: per transition, from its flow (the scenario's or a required one)
        self._public: dict[int, Publicity] = {}
        for f in (flow, *(rf for _n, _r, rf in scenario.requirements)):
            pub = Publicity.of_flow(f)
            self._public.update((id(t), pub) for t in f.transitions)

    # ---------------------------------------------------------------- top level
    def run(self) -> ScenarioResult:
        started = time.monotonic()
        res = self.result
        try:
            self._play()
            res.status = PASSED
        except ConformanceFailure as exc:
            res.status, res.failure = FAILED, exc.detail
        except SkipScenario as exc:
            res.status, res.reason = SKIPPED, self.ctx.redactor.redact(str(exc))
        except (UsageProblem, InsecureTransport) as exc:
            self._errored(exc, "setup" if isinstance(exc, UsageProblem) else "transport")
            res.usage_error = True
        except Unreachable as exc:
            self._errored(exc, "network")
            res.unreachable = True
        except Exception as exc:  # a bug or an unexpected answer: never leak values
            self._errored(exc, "internal", f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self.ctx.release_client(self.client)
        res.covered_transitions = list(dict.fromkeys(self._covered))
        if res.status == PASSED and self.scn.failure is not None and self.scn.target is not None:
            res.covered_failure = f"{self.scn.target.id}/{self.scn.failure.id}"
        if res.status == PASSED:
            res.proven = list(dict.fromkeys(self._proven))
            res.unobserved = {k: v for k, v in self._unobserved.items() if k not in res.proven}
        res.duration = time.monotonic() - started
        return res

    def _play(self) -> None:
        scn = self.scn
        if scn.kind == "unreachable":
            raise UsageProblem(f"no route from the initial state reaches transition '{_target(scn).id}'")
        off = self._off(scn.flow)
        for name in scn.failure.assumes if scn.failure is not None else ():
            if name in off:
                raise SkipScenario(off[name])
        provided: dict[str, dict[str, Any]] = {}
        for name, req, rflow in scn.requirements:
            provided[name] = self._run_requirement(name, req, rflow, provided)
        state = self._state(scn.flow, provided)
        self._run_route(state, scn.route, role="step", cover=scn.omit is None)
        if scn.omit is not None:
            self._probe(state, _target(scn), scn.omit)
        elif scn.failure is not None:
            self._provoke(state, _target(scn), scn.failure)

    def _errored(self, exc: Exception, role: str, text: str | None = None) -> None:
        res = self.result
        res.status = ERROR
        res.reason = self.ctx.redactor.redact(text if text is not None else str(exc))
        res.failure = FailureDetail(self._current or "", role, res.reason)

    def _state(self, flow: Flow, provided: dict[str, dict[str, Any]]) -> FlowState:
        return FlowState(flow, provided, inputs=self.ctx.inputs, redactor=self.ctx.redactor, jar=self.client.cookies)

    def _record(self, rec: StepRecord) -> None:
        with self._records_lock:
            self.result.steps.append(rec)

    def _run_requirement(self, name: str, req: Requirement, rflow: Flow, provided: dict[str, dict[str, Any]]) -> dict[str, Any]:
        state = self._state(rflow, {k: v for k, v in provided.items() if k in rflow.requires})
        self._run_route(state, rflow.happy_path(), role=f"requires {name}", cover=False)
        values: dict[str, Any] = {}
        for key, src in req.provides.items():
            parts = tuple(src.split("."))[1:]
            step = state.steps.get(parts[0])
            if step is None:
                raise UsageProblem(f"required flow '{rflow.id}' did not run step '{parts[0]}'")
            values[key] = step_value(step, parts[1:], self.client.cookies)
        return values

    # ---------------------------------------------------------------- routes
    def _run_route(self, state: FlowState, route: list[Transition], *, role: str, cover: bool) -> None:
        for group in parallel_groups(route):
            if len(group) > 1:
                self._run_group(state, group, role=role, cover=cover)
            else:
                self._run_transition(state, group[0], role=role, cover=cover)

    def _run_transition(self, state: FlowState, t: Transition, *, role: str, cover: bool) -> None:
        self._current = t.id
        if t.internal or not t.is_http:
            self._wait(state, t.wait, t.id)
            note = ("no HTTP exchange" if not t.internal else f"shown by '{t.observed_by}'" if t.observed_by
                    else "unobservable: it happens behind the server under test")
            self._record(StepRecord(t.id, role, outcome="internal" if t.internal else "action", note=note))
            if cover and t.internal and t.observed_by:
                self._pending_internal.append(t)
            return
        self._wait(state, t.wait, t.id)
        self._check_guard(state, t, role)
        out = self._prepare(state, t)
        self._key_params_sent(state, t, out, role)
        self._exchange_step(state, t, out, role=role)
        self._first_polls(state, t, role)
        if cover:
            self._cover([t.id])

    def _run_group(self, state: FlowState, group: list[Transition], *, role: str, cover: bool) -> None:
        waits = [self._seconds_of(state, t.wait, t.id) for t in group if t.wait is not None]
        if waits:
            self._sleep(max(waits), group[0].id)
        for t in group:
            self._check_guard(state, t, role)
        outs = [self._prepare(state, t) for t in group]
        barrier = threading.Barrier(len(group))

        def go(t: Transition, out: Outgoing) -> None:
            try:
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass
            self._exchange_step(state, t, out, role=role + " (parallel)")

        with ThreadPoolExecutor(len(group), thread_name_prefix="flowdoc-parallel") as pool:
            futures = [pool.submit(go, t, o) for t, o in zip(group, outs, strict=True)]
            errors = [exc for exc in (fut.exception() for fut in futures) if exc is not None]
        if errors:
            raise errors[0]
        if cover:
            self._cover([t.id for t in group])

    def _cover(self, ids: list[str]) -> None:
        """Steps that passed cover themselves, and the internal steps they show (``observed_by``)."""
        shown = [t for t in self._pending_internal if t.observed_by in ids]
        self._covered.extend(t.id for t in shown)
        self._pending_internal = [t for t in self._pending_internal if t not in shown]
        self._covered.extend(ids)

    def _observe(self, state: FlowState, statement: str, reason: str | None = None) -> None:
        """A statement of the scenario's own flow was proven (no reason) or cannot be observed (why)."""
        if state.flow is not self.scn.flow:
            return
        if reason is None:
            self._proven.append(statement)
        else:
            self._unobserved.setdefault(statement, reason)

    def _key_params_sent(self, state: FlowState, t: Transition, out: Outgoing, role: str) -> None:
        """Each key parameter drawn on the arrow of a request built from an earlier step is sent."""
        req = t.request
        if req is None or not req.key_params or not (req.url or req.submit_form):
            return
        sent = _sent_names(out)
        missing = [k for k in req.key_params if k.split("=", 1)[0].split(":", 1)[0].strip().lower() not in sent]
        if missing:
            raise self._fail(t, role, "a key parameter drawn on the arrow is not sent",
                             [CheckFailure(f"key parameter {k}", "sent (query, form, JSON or header)", "not sent")
                              for k in missing])
        self._observe(state, f"key_params:{t.id}")

    def _check_guard(self, state: FlowState, t: Transition, role: str) -> None:
        """A step's guard expression must hold when the scenario takes it, as the page says."""
        if t.guard is None or not t.guard.expr:
            return
        try:
            ok = Guard.parse(t.guard.expr).evaluate(state.resolver({}))
        except ExprError as exc:
            raise UsageProblem(f"guard of '{t.id}': {exc}") from None
        if not ok:
            self._record(StepRecord(t.id, role, outcome="guard", note=f"guard is false: {t.guard.expr}"))
            raise self._fail(t, role, f"the guard of '{t.id}' does not hold: {t.guard.text}",
                             [CheckFailure("guard", f"{t.guard.expr} to be true", "false")])

    # ---------------------------------------------------------------- waits
    def _seconds_of(self, state: FlowState, wait: Any, where: str) -> float:
        if wait is None:
            return 0.0
        return seconds(state.render(wait, {}), f"wait of '{where}'")

    def _wait(self, state: FlowState, wait: Any, where: str) -> None:
        if wait is not None:
            self._sleep(self._seconds_of(state, wait, where), where)

    def _sleep(self, secs: float, where: str) -> None:
        if secs <= 0:
            return
        if secs > self.ctx.max_wait:
            raise SkipScenario(
                f"'{where}' waits {secs:g} s, more than --max-wait {self.ctx.max_wait:g} s; run it against "
                "a server with short TTLs and pass the TTL inputs (e.g. --input access_token_ttl=3)"
            )
        time.sleep(secs)

    # ---------------------------------------------------------------- requests
    def _base_url(self, state: FlowState, actor_id: str) -> str:
        actor = state.flow.actors.get(actor_id)
        if actor is not None and actor.base_url:
            return as_text(state.render(actor.base_url, {}))
        if self.ctx.base_url:
            return self.ctx.base_url
        raise UsageProblem(f"actor '{actor_id}' of flow '{state.flow.id}' has no base_url: pass --base-url")

    def _prepare(self, state: FlowState, t: Transition, patch: RequestPatch | None = None,
                 overrides: dict[str, Any] | None = None, *, timeout: float | None = None) -> Outgoing:
        self._current = t.id
        if t.request is None:
            raise UsageProblem(f"step '{t.id}' sends no request")
        building = Building(t.id, t.request, patch or NO_PATCH, state.renderer(overrides or {}),
                            lambda: self._base_url(state, t.receiver), self.ctx.redactor,
                            lambda name: self._endpoint(state, t, name),
                            t.request.assumes not in self._off(state.flow))
        return build_request(building, timeout=timeout, default_timeout=self.ctx.timeout)

    def _input(self, flow: Flow, name: str) -> Any:
        found = self.ctx.inputs.lookup(flow, name)
        return None if found is None else found[0]

    def _endpoint(self, state: FlowState, t: Transition, name: str) -> str:
        """An endpoint from the receiver's discovery document (read once per run), cross-checked once."""
        base = self._base_url(state, t.receiver)
        flow = state.flow

        def resolve(name: str) -> str | None:
            value = self._input(flow, name)
            return None if value is None else as_text(value)

        self.ctx.discovery.cross_check(flow, t.receiver, base, resolve)  # also where the endpoint is missing
        return self.ctx.discovery.endpoint(base, name)

    def _check_context(self, state: FlowState, t: Transition, overrides: dict[str, Any]) -> CheckContext:
        return CheckContext(state.renderer(overrides), self.ctx.redactor, self.ctx.jwks, self.client.cookies,
                            lambda: self._base_url(state, t.receiver),
                            lambda statement, reason=None: self._observe(state, statement, reason))

    # ---------------------------------------------------------------- exchanges
    def _send(self, t: Transition, out: Outgoing, role: str) -> tuple[httpx.Request, Received]:
        started = time.monotonic()
        red = self.ctx.redactor
        try:
            req, got = self.exchanger.send(out)
        except TimedOut as exc:
            self._exchanged(Exchange(t.id, role, out, time.monotonic() - started, outcome="timeout", ok=False,
                                     note=str(exc)))
            raise
        except Unreachable as exc:
            self._exchanged(Exchange(t.id, role, out, time.monotonic() - started, outcome="network-error",
                                     ok=False, note=str(exc)))
            raise
        except BadResponse as exc:  # a named problem with the answer: a conformance failure
            if exc.got is not None and exc.request is not None:  # registered by context only, as before
                self._register(t, exc.request, exc.got)
            self._exchanged(Exchange(t.id, role, out, time.monotonic() - started, exc.request, exc.got, ok=False,
                                     note=red.redact(str(exc))))
            raise self._fail(t, role, str(exc), [], exc.request, exc.got) from None
        register_exchange(red, req, got, self._public.get(id(t), NO_PUBLIC))  # what the exchanger left to us
        self._exchanged(Exchange(t.id, role, out, got.elapsed, req, got))
        return req, got

    def _exchanged(self, ex: Exchange) -> None:
        """Every exchange of the scenario, as it happened (secrets of its response already registered)."""
        self._record(StepRecord(ex.transition, ex.role, ex.out.method, redact_url(ex.out.url, self.ctx.redactor),
                                ex.got.status if ex.got is not None else None, ex.outcome, ex.duration, ex.ok,
                                ex.note))
        if self._recorder is not None:
            self._recorder(self.scn, ex)

    def _register(self, t: Transition, req: httpx.Request, got: Received) -> None:
        """The secrets of a response, in whatever shape, are known before anything about it is printed."""
        red = self.ctx.redactor
        credentialed = note_request(red, str(req.url), req.headers.multi_items(), req.content)
        register_response(red, got, credentialed=credentialed, public=self._public.get(id(t), NO_PUBLIC))

    def _fail(self, t: Transition, role: str, message: str, checks: list[CheckFailure],
              req: httpx.Request | None = None, got: Received | None = None) -> ConformanceFailure:
        red = self.ctx.redactor
        with self._records_lock:
            for rec in reversed(self.result.steps):
                if rec.transition == t.id:
                    rec.ok = False
                    break
        for c in checks:
            c.expected, c.actual = red.redact(c.expected), red.redact(c.actual)
        return ConformanceFailure(
            t.id, role, red.redact(message), checks,
            request_excerpt(req, red) if req is not None else None,
            response_excerpt(got, red) if got is not None else None,
        )

    def _exchange_step(self, state: FlowState, t: Transition, out: Outgoing, *, role: str,
                       overrides: dict[str, Any] | None = None) -> Received:
        """A step's exchange: the documented response (and the lifecycle statements of the tokens
        it carries), then its captures for later steps."""
        try:
            req, got = self._polled_send(state, t, out, role)
        except TimedOut as exc:
            raise self._fail(t, role, str(exc),
                             [CheckFailure("response", f"within {out.timeout:g} s", "timeout")]) from None
        spec = self._assumed(state.flow, t, t.response, role)
        assert spec is not None
        register_secret_captures(self.ctx.redactor, got, spec.capture, self.client.cookies)
        expected = Expected.of_step(spec, self._token_claims(state, t))
        verdict = run_checks(self._check_context(state, t, overrides or {}), expected, got)
        if not verdict.ok:
            message = ("a value to capture is missing" if verdict.failed == ["captures"]
                       else "the response differs from the documentation")
            raise self._fail(t, role, message, verdict.failures, req, got)
        state.steps[t.id] = StepData(got, captured(got, spec.capture, self.client.cookies))
        return got

    def _token_claims(self, state: FlowState, t: Transition) -> tuple[TokenClaim, ...]:
        """The lifecycle statements the step's response shows, without the formats of behaviours this
        server does not have (unobservable here, naming the behaviour)."""
        claims = token_claims(state.flow, t)
        off = self._off(state.flow)
        tokens = state.flow.lifecycle.tokens if state.flow.lifecycle is not None and off else {}
        out = []
        for c in claims:
            why = off.get(tokens[c.name].format_assumes or "") if c.name in tokens else None
            if why is not None and c.format is not None:
                self._observe(state, f"lifecycle:{c.name}.format", why)
                c = replace(c, format=None)
            out.append(c)
        return tuple(out)

    def _off(self, flow: Flow) -> dict[str, str]:
        """The behaviours ``flow`` assumes that this run's inputs switch off (id -> reason)."""
        if id(flow) not in self._offs:
            self._offs[id(flow)] = assumptions_off(flow, lambda name: self._input(flow, name))
        return self._offs[id(flow)]

    def _assumed(self, flow: Flow, t: Transition, spec: Spec, role: str) -> Spec:
        """The documented response without the JWT checks of behaviours this server does not have (noted)."""
        off = self._off(flow)
        if spec is None or not off or not any(j.assumes in off for j in spec.jwt):
            return spec
        for j in spec.jwt:
            if j.assumes in off:
                self._record(StepRecord(t.id, role, outcome="skipped", ok=True,
                                        note=f"JWT check of {j.token} not run: {off[j.assumes]}"))
        return spec.model_copy(update={"jwt": [j for j in spec.jwt if j.assumes not in off]})


def _sent_names(out: Outgoing) -> set[str]:
    """Lower-case names of everything a request sends: query, form and JSON keys, headers."""
    names = {k.lower() for k, _v in parse_qsl(urlsplit(out.url).query, keep_blank_values=True)}
    names |= {k.lower() for k in out.form or {}}
    if isinstance(out.json_body, dict):
        names |= {str(k).lower() for k in out.json_body}
    names |= {k.lower() for k, _v in out.headers}
    return names
