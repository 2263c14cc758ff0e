"""How a scenario stops early: a conformance failure, a usage problem, or a skip."""

from __future__ import annotations

from ._result import CheckFailure, FailureDetail


class Halt(Exception):
    """A scenario ends here (the runner turns each kind into its result)."""


class ConformanceFailure(Halt):
    """The server did not answer as documented (exit code 1)."""

    def __init__(self, step: str, role: str, message: str, checks: list[CheckFailure] | None = None,
                 request: str | None = None, response: str | None = None):
        super().__init__(message)
        self.detail = FailureDetail(step, role, message, checks or [], request, response)


class UsageProblem(Halt):
    """The run cannot proceed as configured (missing input, insecure transport, bad reference)."""


class MissingValue(UsageProblem):
    """A ``${steps.ID...}`` value no step of the scenario produced (the step did not run, or its
    answer lacked it): a usage problem, unless the flow claims a state that needs it."""


class SkipScenario(Halt):
    """The scenario cannot run here (e.g. it would wait longer than --max-wait)."""
