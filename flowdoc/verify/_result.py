"""Results of a verify run. Every text in them is already redacted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .._version import __version__

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
#: ``--repeat N``: a scenario that passed in some iterations and failed (or errored) in others
FLAKY = "flaky"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


@dataclass
class CheckFailure:
    what: str
    expected: str
    actual: str

    def line(self) -> str:
        return f"{self.what}: expected {self.expected}, got {self.actual}"


@dataclass
class StepRecord:
    transition: str
    role: str  # step | provoke | replay | before | then | attempt N/M | requirement NAME
    method: str = ""
    url: str = ""
    status: int | None = None
    outcome: str = "response"  # response | timeout | network-error | internal | action
    duration: float = 0.0
    ok: bool = True
    note: str = ""


@dataclass
class FailureDetail:
    step: str
    role: str
    message: str
    checks: list[CheckFailure] = field(default_factory=list)
    request: str | None = None
    response: str | None = None

    def summary(self) -> str:
        head = f"step '{self.step}'" + (f" ({self.role})" if self.role not in ("step", "") else "")
        first = self.checks[0].line() if self.checks else self.message
        return f"{head}: {first}"


@dataclass
class ScenarioResult:
    id: str
    flow: str
    flow_version: str | None
    name: str
    kind: str
    title: str
    status: str = PASSED
    duration: float = 0.0
    steps: list[StepRecord] = field(default_factory=list)
    failure: FailureDetail | None = None
    covered_transitions: list[str] = field(default_factory=list)
    covered_failure: str | None = None  # "transition/failure"
    proven: list[str] = field(default_factory=list)  # statements proven (see flowdoc.verify._statements)
    unobserved: dict[str, str] = field(default_factory=dict)  # statements it could not observe: why
    warnings: list[str] = field(default_factory=list)  # e.g. --probe: a parameter the server does without
    unreachable: bool = False
    usage_error: bool = False
    reason: str = ""  # why skipped / errored
    iteration: int | None = None  # --repeat N > 1: the iteration (1-based) of this run; None: not repeated
    #: --repeat: the details (steps, excerpts, what it proved) were dropped once counted, to keep memory
    #: bounded (a passing run after the first iteration, a failure after the scenario's first)
    abridged: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["duration"] = _ms(self.duration)
        for step in out["steps"]:
            step["duration"] = _ms(step["duration"])
        if self.iteration is None:
            del out["iteration"], out["abridged"]
        return out


def _ms(seconds: float) -> float:
    """Durations in reports: seconds to the millisecond."""
    return round(seconds, 3)


PROVEN, UNOBSERVABLE, NOT_RUN = "proven", "unobservable", "not-run"


@dataclass
class Element:
    """One thing a flow states, and what the run made of it."""

    id: str  # transition:ID, failure:T/F, state:T/F, lifecycle:TOKEN.FIELD, troubleshooting:N, key_params:ID
    kind: str  # transition | failure | statement
    text: str
    result: str  # proven | unobservable | not-run
    reason: str = ""  # why it cannot be observed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Coverage:
    """Per flow: of the elements a server can show, which were proven; the others apart.

    Percentages count observable elements only: 100 % means every observable one was proven."""

    transitions: list[str]
    transitions_covered: list[str]
    failures: list[str]
    failures_covered: list[str]
    elements: list[Element] = field(default_factory=list)

    def _of(self, kind: str, result: str | None = None) -> list[Element]:
        return [e for e in self.elements if e.kind == kind and (result is None or e.result == result)]

    def observable(self, kind: str) -> list[Element]:
        return [e for e in self._of(kind) if e.result != UNOBSERVABLE]

    def proven(self, kind: str) -> list[Element]:
        return self._of(kind, PROVEN)

    def unobservable(self, kind: str | None = None) -> list[Element]:
        return [e for e in self.elements if e.result == UNOBSERVABLE and (kind is None or e.kind == kind)]

    def missed(self, kind: str) -> list[str]:
        return [e.text for e in self._of(kind, NOT_RUN)]

    @property
    def transitions_missed(self) -> list[str]:
        return self.missed("transition")

    @property
    def failures_missed(self) -> list[str]:
        return self.missed("failure")

    @staticmethod
    def _pct(a: int, b: int) -> float:
        return 100.0 if b == 0 else round(100.0 * a / b, 1)

    def pct(self, kind: str) -> float:
        return self._pct(len(self.proven(kind)), len(self.observable(kind)))

    @property
    def transition_pct(self) -> float:
        return self.pct("transition")

    @property
    def failure_pct(self) -> float:
        return self.pct("failure")

    def ratio(self, kind: str) -> str:
        """``8/8 (100%)``: proven of observable."""
        proven, observable = len(self.proven(kind)), len(self.observable(kind))
        return f"{proven}/{observable} ({self._pct(proven, observable):g}%)"

    def _part(self, kind: str, declared: int) -> dict[str, Any]:
        return {
            "declared": declared,
            "observable": len(self.observable(kind)),
            "exercised": len(self.proven(kind)),
            "percent": self.pct(kind),
            "missed": self.missed(kind),
            "unobservable": [{"id": e.text, "reason": e.reason} for e in self.unobservable(kind)],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "transitions": self._part("transition", len(self.transitions)),
            "failures": self._part("failure", len(self.failures)),
            "statements": self._part("statement", len(self._of("statement"))),
            "elements": [e.to_dict() for e in self.elements],
        }


@dataclass
class FlowResult:
    id: str
    key: str
    version: str | None
    title: str
    file: str
    scenarios: list[ScenarioResult]
    coverage: Coverage

    @property
    def status(self) -> str:
        states = {s.status for s in self.scenarios}
        for st in (ERROR, FAILED):
            if st in states:
                return st
        return PASSED

    def aggregates(self) -> list[ScenarioAggregate]:
        """Per scenario (in the order they first ran): its runs over the iterations."""
        out: dict[str, ScenarioAggregate] = {}
        for s in self.scenarios:
            agg = out.get(s.id)
            if agg is None:
                agg = out[s.id] = ScenarioAggregate(s.id, self.key, s.name, s.kind, s.title)
            agg.add(s)
        return list(out.values())

    def to_dict(self, repeated: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "file": self.file,
            "status": self.status,
            "coverage": self.coverage.to_dict(),
        }
        if repeated:
            out["aggregate"] = [a.to_dict() for a in self.aggregates()]
        out["scenarios"] = [s.to_dict() for s in self.scenarios]
        return out


@dataclass
class ScenarioAggregate:
    """One scenario over the iterations of a repeated run (``--repeat N``)."""

    id: str
    flow_key: str
    name: str
    kind: str
    title: str
    runs: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    duration: float = 0.0  # all runs together
    failed_iterations: list[int] = field(default_factory=list)  # failed or errored
    first_failure: ScenarioResult | None = None  # the first run that failed or errored (kept whole)

    def add(self, s: ScenarioResult) -> None:
        self.runs += 1
        self.duration += s.duration
        if s.status == PASSED:
            self.passed += 1
        elif s.status == SKIPPED:
            self.skipped += 1
        else:
            if s.status == FAILED:
                self.failed += 1
            else:
                self.errors += 1
            self.failed_iterations.append(s.iteration or 1)
            if self.first_failure is None:
                self.first_failure = s

    @property
    def status(self) -> str:
        """flaky: passed in some iterations, failed or errored in others."""
        if self.passed and (self.failed or self.errors):
            return FLAKY
        if self.errors:
            return ERROR
        if self.failed:
            return FAILED
        return PASSED if self.passed else SKIPPED

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "runs": self.runs,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "failed_iterations": list(self.failed_iterations),
            "duration": _ms(self.duration),
            "mean_duration": _ms(self.duration / self.runs) if self.runs else 0.0,
        }


@dataclass
class RunResult:
    flows: list[FlowResult]
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0
    started: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    #: --repeat N: each scenario ran once per iteration; ``flows[].scenarios`` holds every run
    iterations: int = 1
    #: replaces the run's secrets in one text; writers apply it to each text before they serialize
    #: (see :func:`flowdoc.verify._redact.scrub`), never to their output
    redact: Callable[[str], str] = field(default=lambda s: s, repr=False, compare=False)

    @property
    def scenarios(self) -> list[ScenarioResult]:
        return [s for f in self.flows for s in f.scenarios]

    def count(self, status: str) -> int:
        return sum(1 for s in self.scenarios if s.status == status)

    def warning_count(self) -> int:
        """The warnings of the run; repeated (``--repeat``), one said in every iteration counts once."""
        if self.iterations == 1:
            return sum(len(s.warnings) for s in self.scenarios)
        return len({(s.id, w) for s in self.scenarios for w in s.warnings})

    def aggregates(self) -> list[ScenarioAggregate]:
        """Per scenario: its runs over the iterations (one run each without --repeat)."""
        return [a for f in self.flows for a in f.aggregates()]

    def flaky(self) -> list[ScenarioAggregate]:
        return [a for a in self.aggregates() if a.status == FLAKY] if self.iterations > 1 else []

    @property
    def exit_code(self) -> int:
        """2 a usage error; 1 a flaky scenario (a server reachable in some iterations only is flaky, not
        unreachable); 3 unreachable; 1 a failure; 0 all passed."""
        scen = self.scenarios
        if any(s.usage_error for s in scen):
            return EXIT_USAGE
        if self.flaky():
            return EXIT_FAILED
        if any(s.unreachable for s in scen):
            return EXIT_UNREACHABLE
        if any(s.status in (FAILED, ERROR) for s in scen):
            return EXIT_FAILED
        return EXIT_OK

    def _summary(self) -> dict[str, Any]:
        counts = {
            "passed": self.count(PASSED),
            "failed": self.count(FAILED),
            "errors": self.count(ERROR),
            "skipped": self.count(SKIPPED),
            "warnings": self.warning_count(),
        }
        if self.iterations == 1:
            return {"scenarios": len(self.scenarios), **counts}
        # repeated: the counts are of runs
        return {"scenarios": len(self.aggregates()), "iterations": self.iterations, "runs": len(self.scenarios),
                **counts, "flaky": len(self.flaky())}

    def to_dict(self) -> dict[str, Any]:
        repeated = self.iterations > 1
        return {
            "flowdoc": __version__,
            "started": self.started,
            "duration": _ms(self.duration),
            "exit_code": self.exit_code,
            "summary": self._summary(),
            "warnings": list(self.warnings),
            "options": dict(self.options),
            "flows": [f.to_dict(repeated) for f in self.flows],
        }
