"""``--repeat N``: the selected plan run N times, one iteration after another, over one connection pool.

Each run is counted as it finishes (its coverage folded into :class:`HeldCoverage`), then only what
the summary, the JUnit and the JSON report need of it is kept: every run of the first iteration and
the first failure of each scenario stay whole; any other run is *abridged* (its steps, excerpts and
the statements it proved dropped), so memory does not grow with exchange bodies however many
iterations run.

Coverage over iterations: a transition, failure branch or statement counts as proven only if it held
in every iteration where it ran. A transition ran in a run that passed, or whose steps reached it; a
failure branch ran in a run that passed, or got as far as provoking it; statements are proven only
by a passing run, so a scenario that failed in one iteration leaves the statements it proved in the
others unproven.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._result import ERROR, FAILED, PASSED, SKIPPED, Coverage, ScenarioResult
from ._statements import coverage

if TYPE_CHECKING:
    from ..model.flow import Flow
    from ._plan import Scenario

__all__ = ["HeldCoverage", "RepeatedRuns", "abridge"]

_TRANSITION, _FAILURE = "transition:", "failure:"
#: step roles that take a scenario along its route (the others provoke, attempt, replay, follow up)
_ROUTE_ROLES = ("step", "before", "requires")


def abridge(res: ScenarioResult) -> None:
    """Drop what only the first run of a scenario (or its first failure) shows: steps, excerpts, proofs."""
    res.steps = []
    res.covered_transitions = []
    res.covered_failure = None
    res.proven = []
    res.unobserved = {}
    if res.failure is not None:
        res.failure.request = res.failure.response = None
    res.abridged = True


def _tokens(res: ScenarioResult) -> set[str]:
    """What one run proved, as the ids :func:`~flowdoc.verify._statements.coverage` reads."""
    out = {_TRANSITION + t for t in res.covered_transitions}
    if res.covered_failure:
        out.add(_FAILURE + res.covered_failure)
    out.update(res.proven)
    return out


def _is_statement(token: str) -> bool:
    return not token.startswith((_TRANSITION, _FAILURE))


class HeldCoverage:
    """One flow's coverage over the iterations, folded in run by run (nothing of a run is kept)."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {}  # scenario -> what it proved in some run
        self.held: dict[str, set[str]] = {}  # scenario -> what every passing run of it proved
        self.failed: set[str] = set()  # scenarios with a failed run: their statements did not hold
        self.broken: set[str] = set()  # ran in some run and did not hold there
        self.unobserved: dict[str, str] = {}

    def add(self, scn: Scenario, res: ScenarioResult) -> None:
        if res.status == SKIPPED:
            return  # it did not run
        tokens = _tokens(res)
        self.seen.setdefault(scn.id, set()).update(tokens)
        for sid, why in res.unobserved.items():
            self.unobserved.setdefault(sid, why)
        if res.status == PASSED:
            held = self.held.get(scn.id)
            self.held[scn.id] = set(tokens) if held is None else held & tokens
            return
        self.failed.add(scn.id)
        reached = {r.transition for r in res.steps if r.role.startswith(_ROUTE_ROLES[:2])}
        self.broken.update(_TRANSITION + t for t in reached if _TRANSITION + t not in tokens)
        provoked = any(not r.role.startswith(_ROUTE_ROLES) for r in res.steps)
        if scn.failure is not None and scn.target is not None and provoked:
            self.broken.add(f"{_FAILURE}{scn.target.id}/{scn.failure.id}")

    def coverage(self, flow: Flow) -> Coverage:
        broken = set(self.broken)
        for sid, seen in self.seen.items():
            if sid in self.held:
                broken |= seen - self.held[sid]
            if sid in self.failed:
                broken |= {t for t in seen if _is_statement(t)}
        kept = set().union(*self.seen.values()) - broken
        base = ScenarioResult("", flow.id, flow.version, "", "", "", unobserved=dict(self.unobserved),
                              covered_transitions=[t[len(_TRANSITION):] for t in kept if t.startswith(_TRANSITION)],
                              proven=sorted(t for t in kept if _is_statement(t)))
        branches = [ScenarioResult("", flow.id, flow.version, "", "", "", covered_failure=t[len(_FAILURE):])
                    for t in sorted(kept) if t.startswith(_FAILURE)]
        return coverage(flow, [base, *branches])


class RepeatedRuns:
    """The runs of a repeated verify, in the order they ran (iteration by iteration, in plan order)."""

    def __init__(self, iterations: int):
        self.iterations = iterations
        self.runs: list[tuple[Scenario, ScenarioResult]] = []
        self._held: dict[str, HeldCoverage] = {}
        self._failed_once: set[str] = set()

    def add(self, scn: Scenario, res: ScenarioResult) -> None:
        """Count a finished run, then keep it whole only if it is of the first iteration or the
        scenario's first failure."""
        self._held.setdefault(scn.flow_key, HeldCoverage()).add(scn, res)
        first_failure = res.status in (FAILED, ERROR) and scn.id not in self._failed_once
        if res.status in (FAILED, ERROR):
            self._failed_once.add(scn.id)
        if (res.iteration or 1) > 1 and not first_failure:
            abridge(res)
        self.runs.append((scn, res))

    def coverage(self, flow_key: str, flow: Flow) -> Coverage:
        held = self._held.get(flow_key)
        return held.coverage(flow) if held is not None else coverage(flow, [])
