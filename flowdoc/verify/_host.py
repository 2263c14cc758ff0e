"""What the mixins of :class:`~flowdoc.verify._runner.ScenarioRun` (the failure, probe and polling parts)
use of the runner: declared for the type checker only, so each part type-checks on its own.

At run time :class:`RunHost` is an empty class; :class:`~flowdoc.verify._runner.ScenarioRun`
provides every attribute and method named here (mypy checks that its definitions agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from ..model.flow import FailureResponse, Response

#: a documented answer: a step's success or a failure's (see ``_assumed``)
Spec = TypeVar("Spec", Response, FailureResponse, Response | None)

if TYPE_CHECKING:
    import threading

    import httpx

    from ..model.flow import Flow, RequestPatch, Transition
    from ._checks import CheckContext
    from ._http import Outgoing, Received
    from ._outcomes import ConformanceFailure
    from ._plan import Scenario
    from ._pool import RunContext
    from ._result import CheckFailure, ScenarioResult, StepRecord
    from ._values import FlowState


class RunHost:
    """The runner's state and steps, as the mixins see them."""

    if TYPE_CHECKING:
        ctx: RunContext
        scn: Scenario
        result: ScenarioResult
        _covered: list[str]
        _current: str | None
        _records_lock: threading.Lock

        def _run_transition(self, state: FlowState, t: Transition, *, role: str, cover: bool) -> None: ...

        def _check_guard(self, state: FlowState, t: Transition, role: str) -> None: ...

        def _observe(self, state: FlowState, statement: str, reason: str | None = None) -> None: ...

        def _seconds_of(self, state: FlowState, wait: Any, where: str) -> float: ...

        def _wait(self, state: FlowState, wait: Any, where: str) -> None: ...

        def _sleep(self, secs: float, where: str) -> None: ...

        def _prepare(self, state: FlowState, t: Transition, patch: RequestPatch | None = None,
                     overrides: dict[str, Any] | None = None, *, timeout: float | None = None) -> Outgoing: ...

        def _check_context(self, state: FlowState, t: Transition, overrides: dict[str, Any]) -> CheckContext: ...

        def _send(self, t: Transition, out: Outgoing, role: str) -> tuple[httpx.Request, Received]: ...

        def _polled_send(self, state: FlowState, t: Transition, out: Outgoing, role: str,
                         *, first: bool = False) -> tuple[httpx.Request, Received]: ...

        def _fail(self, t: Transition, role: str, message: str, checks: list[CheckFailure],
                  req: httpx.Request | None = None, got: Received | None = None) -> ConformanceFailure: ...

        def _exchange_step(self, state: FlowState, t: Transition, out: Outgoing, *, role: str,
                           overrides: dict[str, Any] | None = None) -> Received: ...

        def _record(self, rec: StepRecord) -> None: ...

        def _assumed(self, flow: Flow, t: Transition, spec: Spec, role: str) -> Spec: ...
