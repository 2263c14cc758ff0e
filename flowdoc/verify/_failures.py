"""Running a failure branch: provoke it, check every attempt, run on through later steps, make
sure the answer could not also be the success, and show the state it leads to.

* ``attempts: N``: the earlier attempts answer as the step's branch with the same provocation
  and one attempt (``wrong_otp`` before ``otp_lockout``), or at least not yet as the last one
  is documented;
* ``through: [STEP ...]``: the provoked step answers as it documents (its captures feed the next
  step), each later step too, and the last one answers as the failure documents;
* an answer that also satisfies the documented success of the step where the branch ends, with
  no error code, proves nothing: a conformance failure;
* the state the branch leads to: the actions, then the first step a client sends from it, run
  and answer as documented (a step that needs a value the branch never produced shows the flow
  is not in that state).
"""

from __future__ import annotations

from typing import Any

import httpx

from ..model.flow import Failure, FailureResponse, Transition
from ._checks import Expected, run_checks
from ._host import RunHost
from ._http import Outgoing, Received, TimedOut, Unreachable
from ._outcomes import MissingValue, UsageProblem
from ._result import CheckFailure, StepRecord
from ._values import FlowState


class FailureSteps(RunHost):
    """The failure part of :class:`~flowdoc.verify._runner.ScenarioRun` (a mixin: it uses the
    runner's ``_send``, ``_prepare``, ``_fail`` ...)."""

    def _provoke(self, state: FlowState, t: Transition, f: Failure) -> None:
        pv = f.provoke
        tm = state.flow.transition_map
        for b in pv.before:
            self._run_transition(state, tm[b], role="before", cover=True)
        self._current = t.id
        if pv.wait is not None:
            self._sleep(self._seconds_of(state, pv.wait, f"{t.id}/{f.id}"), f"{t.id}/{f.id}")
        overrides = {k: state.render(v, {}) for k, v in pv.inputs.items()}
        through = self.scn.through
        if pv.replay:
            out = self._prepare(state, t, timeout=pv.timeout)
            self._exchange_step(state, t, out, role="first send (to replay)")
            self._exchange_failure(state, t, f, out, overrides, role="replay")
        elif through:
            out = self._prepare(state, t, pv.request, overrides, timeout=pv.timeout)
            self._exchange_step(state, t, out, role="provoke", overrides=overrides)
            self._run_through(state, t, f, through, overrides)
        else:
            out = self._prepare(state, t, pv.request, overrides, timeout=pv.timeout)
            self._attempts(state, t, f, out, overrides)
            role = "provoke" if pv.attempts == 1 else f"attempt {pv.attempts}/{pv.attempts}"
            self._exchange_failure(state, t, f, out, overrides, role=role)
        self._follow_up(state, t, f)

    def _run_through(self, state: FlowState, t: Transition, f: Failure, through: list[Transition],
                     overrides: dict[str, Any]) -> None:
        for u in through[:-1]:
            self._run_transition(state, u, role=f"through (after {f.id})", cover=False)
        end = through[-1]
        self._wait(state, end.wait, end.id)
        out = self._prepare(state, end, overrides=overrides)
        self._exchange_failure(state, end, f, out, overrides, role=f"ends here (after {t.id})")

    # ---------------------------------------------------------------- attempts
    def _attempts(self, state: FlowState, t: Transition, f: Failure, out: Outgoing,
                  overrides: dict[str, Any]) -> None:
        """Every attempt before the last answers as the first failure does (see the module doc)."""
        n = f.provoke.attempts
        first = _sibling(t, f)
        for i in range(1, n):
            role = f"attempt {i}/{n}"
            try:
                req, got = self._send(t, out, role)
            except TimedOut:
                continue
            ctx = self._check_context(state, t, overrides)
            if first is not None:
                verdict = run_checks(ctx, Expected.of_failure(first.response), got)
                if not verdict.ok:
                    raise self._fail(t, role, f"attempt {i} of {n} was not answered as '{first.id}' documents "
                                     f"({_expected_text(first.response)})", verdict.failures, req, got)
            elif f.response.outcome == "response" and run_checks(ctx, Expected.of_failure(f.response), got).ok:
                raise self._fail(t, role, f"attempt {i} of {n} already answered as '{f.id}' documents the last one",
                                 [CheckFailure("attempts", f"{_expected_text(f.response)} only at attempt {n}",
                                               f"HTTP {got.status} at attempt {i}")], req, got)

    # ---------------------------------------------------------------- the documented failure
    def _exchange_failure(self, state: FlowState, t: Transition, f: Failure, out: Outgoing,
                          overrides: dict[str, Any], *, role: str) -> None:
        """A provoked exchange: the failure's documented response (or timeout, or network error)."""
        spec: FailureResponse = f.response
        try:
            req, got = self._polled_send(state, t, out, role)
        except TimedOut as exc:
            if spec.outcome == "timeout":
                return
            raise self._fail(t, role, str(exc), [CheckFailure("response", _expected_text(spec), "timeout")]) from None
        except Unreachable:
            if spec.outcome == "network-error":
                return
            raise
        if spec.outcome != "response":
            raise self._fail(t, role, f"expected {spec.outcome}, the server answered",
                             [CheckFailure("outcome", spec.outcome, f"HTTP {got.status}")], req, got)
        spec = self._assumed(state.flow, t, spec, role)
        verdict = run_checks(self._check_context(state, t, overrides), Expected.of_failure(spec), got)
        if not verdict.ok:
            raise self._fail(t, role, f"failure '{f.id}' was not answered as documented", verdict.failures, req, got)
        self._not_success(state, t, f, got, overrides, role, req)

    def _not_success(self, state: FlowState, t: Transition, f: Failure, got: Received, overrides: dict[str, Any],
                     role: str, req: httpx.Request) -> None:
        """An answer that is also the step's documented success (and carries no error code) proves nothing."""
        if t.response is None or got.error_codes():
            return
        ctx = self._check_context(state, t, overrides)
        if run_checks(ctx, Expected.of_step(t.response), got).ok:
            raise self._fail(t, role, f"failure '{f.id}': the answer is also the documented success of '{t.id}', "
                             "so it does not show the failure", [
                                 CheckFailure("failure", f"an answer that tells '{f.id}' apart from the success "
                                              f"({_expected_text(f.response)}, not {_success_text(t)})",
                                              f"HTTP {got.status}, which the success documents, and no error code"),
                             ], req, got)

    # ---------------------------------------------------------------- the state it leads to
    def _follow_up(self, state: FlowState, t: Transition, f: Failure) -> None:
        """The state the failure leads to: the step a client sends from it answers as documented."""
        route = self.scn.follow_route
        if not route:
            return
        target = f.to or t.from_
        for u in route[:-1]:
            self._run_transition(state, u, role=f"then (in state '{target}')", cover=False)
        nxt = route[-1]
        try:
            out = self._prepare(state, nxt)
        except MissingValue as exc:
            raise self._fail(nxt, "then", f"failure '{f.id}' leads to state '{target}', but its next step "
                             f"'{nxt.id}' cannot be taken: {exc}", [
                                 CheckFailure(f"state after {f.id}", f"'{target}' (from which '{nxt.id}' can be sent)",
                                              "a state the branch never produced the values for")]) from None
        except UsageProblem as exc:
            self._record(StepRecord(nxt.id, "then", outcome="skipped", ok=True,
                                    note=self.ctx.redactor.redact(f"state check skipped: {exc}")))
            return
        self._wait(state, nxt.wait, nxt.id)
        self._exchange_step(state, nxt, out, role=f"then (in state '{target}')")
        self._covered.append(nxt.id)
        self._observe(state, f"state:{t.id}/{f.id}")


def _sibling(t: Transition, f: Failure) -> Failure | None:
    """The step's branch provoked the same way in one attempt: what the earlier attempts answer."""
    for g in t.failures:
        if g is not f and g.provoke.attempts == 1 and not g.provoke.replay and g.provoke.request == f.provoke.request \
                and g.provoke.inputs == f.provoke.inputs and g.response.outcome == "response":
            return g
    return None


def _expected_text(spec: FailureResponse) -> str:
    if spec.outcome != "response":
        return spec.outcome
    return "HTTP " + "/".join(map(str, spec.statuses)) + (f" {spec.error}" if spec.error else "")


def _success_text(t: Transition) -> str:
    r = t.response
    assert r is not None
    text = "HTTP " + "/".join(map(str, r.statuses))
    if r.redirect is not None and r.redirect.to:
        text += f" to {r.redirect.to}"
    return text
