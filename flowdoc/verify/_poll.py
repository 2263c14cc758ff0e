"""Polling a step (``request.poll``, RFC 8628 §3.4–3.5): the request is repeated while the server
answers an intermediate answer, every ``interval`` seconds.

* ``authorization_pending`` (any documented intermediate answer): wait the interval, poll again;
* ``slow_down`` (an answer with ``add_interval``, 5 s by default): the interval grows by that much
  for this and every later poll of the step, as RFC 8628 §3.5 says;
* any other answer ends the polling: the step's response or a failure branch is checked on it.

``starts_after: STEP``: the first poll goes out right after that step (before the steps in between,
the user's approval on another device) and must be an intermediate answer. The interval counts from
the previous poll; polling goes on while the previous poll was within ``max_wait`` (and
``--max-wait``) of the first, so one poll after that shows how it ended; each poll is bounded by
``--timeout``. A server's ``interval`` that is absent counts as 5 s (RFC 8628 §3.2).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from ..model.flow import POLL_INTERVAL, Poll, PollAnswer, Transition
from ._host import RunHost
from ._http import Outgoing, Received
from ._outcomes import ConformanceFailure, MissingValue, SkipScenario
from ._result import CheckFailure
from ._values import FlowState, seconds


@dataclass
class PollClock:
    """One step's polling in one scenario: when it started and last polled, the interval now."""

    started: float
    interval: float
    max_wait: float | None
    last: float | None = None
    polls: int = 0


def pending_answer(poll: Poll, got: Received) -> PollAnswer | None:
    """The intermediate answer ``got`` is, or None (it ends the polling)."""
    codes = {code for _where, code in got.error_codes()}
    for a in poll.pending:
        if got.status in a.statuses and a.error in codes:
            return a
    return None


class PollSteps(RunHost):
    """The polling part of :class:`~flowdoc.verify._runner.ScenarioRun` (a mixin: it uses the runner's
    ``_send``, ``_prepare``, ``_observe``, ``_fail`` ...)."""

    def _poll_clock(self, state: FlowState, t: Transition, poll: Poll) -> PollClock:
        clocks: dict[tuple[int, str], PollClock] = self.__dict__.setdefault("_poll_clocks", {})
        clock = clocks.get((id(state), t.id))
        if clock is None:
            clock = PollClock(time.monotonic(), self._poll_seconds(state, poll.interval, t, POLL_INTERVAL),
                              self._poll_seconds(state, poll.max_wait, t, None) if poll.max_wait is not None else None)
            clocks[(id(state), t.id)] = clock
        return clock

    def _poll_seconds(self, state: FlowState, value: Any, t: Transition, default: float | None) -> float:
        try:
            rendered = state.render(value, {})
        except MissingValue:
            if default is None:
                raise
            return float(default)  # the answer did not say: RFC 8628 §3.2's 5 s
        return max(0.0, seconds(rendered, f"poll of '{t.id}'"))

    def _polled_send(self, state: FlowState, t: Transition, out: Outgoing, role: str,
                     *, first: bool = False) -> tuple[httpx.Request, Received]:
        """Send ``out``, again and again while the answer is an intermediate one; the last exchange.
        ``first``: only the first poll (``starts_after``), which must be an intermediate answer."""
        poll = t.request.poll if t.request is not None else None
        if poll is None:
            return self._send(t, out, role)
        clock = self._poll_clock(state, t, poll)
        while True:
            self._poll_pause(clock, t)
            req, got = self._send(t, out, role if not clock.polls else f"{role} (poll {clock.polls + 1})")
            clock.last, clock.polls = time.monotonic(), clock.polls + 1
            answer = pending_answer(poll, got)
            if answer is None:
                if first:
                    raise self._fail(t, role, f"the first poll of '{t.id}' was answered before the steps it waits "
                                     "for", [CheckFailure("first poll", "an intermediate answer ("
                                                          + ", ".join(a.error for a in poll.pending) + ")",
                                                          f"HTTP {got.status}")], req, got)
                return req, got
            clock.interval += answer.added
            self._observe(state, f"poll:{t.id}/{answer.error}")
            self._note_last(t, f"{answer.error}: poll again in {clock.interval:g} s")
            if first:
                return req, got

    def _poll_pause(self, clock: PollClock, t: Transition) -> None:
        """Wait until the interval has passed since the last poll, within max_wait and --max-wait."""
        if clock.last is None:
            return
        due = clock.last + clock.interval
        now = time.monotonic()
        limits = [w for w in (clock.max_wait, self.ctx.max_wait) if w is not None]
        bound = min(limits) if limits else None
        if clock.interval > self.ctx.max_wait:
            raise SkipScenario(f"'{t.id}' polls every {clock.interval:g} s, more than --max-wait "
                               f"{self.ctx.max_wait:g} s; run it against a server with a short interval")
        # polling goes on while the last poll was within the bound: one poll after it shows how it ended
        if bound is not None and clock.last - clock.started > bound:
            if clock.max_wait is not None and bound == clock.max_wait:
                raise ConformanceFailure(t.id, "step", f"'{t.id}' was still answered with an intermediate answer "
                                         f"after polling {clock.max_wait:g} s (max_wait)",
                                         [CheckFailure("polling", f"an answer that ends it within {clock.max_wait:g} s",
                                                       f"still intermediate after {clock.polls} polls")])
            raise SkipScenario(f"'{t.id}' polls for more than --max-wait {self.ctx.max_wait:g} s; run it against a "
                               "server with a short interval and device code lifetime")
        if due > now:
            time.sleep(due - now)

    def _note_last(self, t: Transition, note: str) -> None:
        with self._records_lock:
            for rec in reversed(self.result.steps):
                if rec.transition == t.id:
                    rec.note = note
                    break

    def _first_polls(self, state: FlowState, after: Transition, role: str) -> None:
        """The polls that start right after ``after`` (``starts_after``): the first one goes out now."""
        if state.flow is not self.scn.flow:
            return
        for p in state.flow.transitions:
            poll = p.request.poll if p.request is not None else None
            if poll is None or poll.starts_after != after.id or not self._polls_later(p):
                continue
            out = self._prepare(state, p)
            self._polled_send(state, p, out, f"{role} (first poll)", first=True)
            self._current = after.id

    def _polls_later(self, p: Transition) -> bool:
        """The scenario takes the polled step later (its route, or the steps a failure runs through)."""
        scn = self.scn
        steps = [*scn.route, *([scn.target] if scn.target is not None else []), *scn.through]
        return any(s is p for s in steps)
