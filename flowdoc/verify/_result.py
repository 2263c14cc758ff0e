"""Results of a verify run. Every text in them is already redacted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

from .._version import __version__

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"

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
    unreachable: bool = False
    usage_error: bool = False
    reason: str = ""  # why skipped / errored

    def to_dict(self) -> dict:
        out = asdict(self)
        out["duration"] = _ms(self.duration)
        for step in out["steps"]:
            step["duration"] = _ms(step["duration"])
        return out


def _ms(seconds: float) -> float:
    """Durations in reports: seconds to the millisecond."""
    return round(seconds, 3)


@dataclass
class Coverage:
    transitions: list[str]
    transitions_covered: list[str]
    failures: list[str]
    failures_covered: list[str]

    @property
    def transitions_missed(self) -> list[str]:
        return [t for t in self.transitions if t not in self.transitions_covered]

    @property
    def failures_missed(self) -> list[str]:
        return [f for f in self.failures if f not in self.failures_covered]

    @staticmethod
    def _pct(a: int, b: int) -> float:
        return 100.0 if b == 0 else round(100.0 * a / b, 1)

    @property
    def transition_pct(self) -> float:
        return self._pct(len(self.transitions_covered), len(self.transitions))

    @property
    def failure_pct(self) -> float:
        return self._pct(len(self.failures_covered), len(self.failures))

    def to_dict(self) -> dict:
        return {
            "transitions": {
                "declared": len(self.transitions),
                "exercised": len(self.transitions_covered),
                "percent": self.transition_pct,
                "missed": self.transitions_missed,
            },
            "failures": {
                "declared": len(self.failures),
                "exercised": len(self.failures_covered),
                "percent": self.failure_pct,
                "missed": self.failures_missed,
            },
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

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "file": self.file,
            "status": self.status,
            "coverage": self.coverage.to_dict(),
            "scenarios": [s.to_dict() for s in self.scenarios],
        }


@dataclass
class RunResult:
    flows: list[FlowResult]
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0
    started: str = ""
    options: dict = field(default_factory=dict)
    #: replaces the run's secrets in one text; writers apply it to each text before they serialize
    #: (see :func:`flowdoc.verify._redact.scrub`), never to their output
    redact: Callable[[str], str] = field(default=lambda s: s, repr=False, compare=False)

    @property
    def scenarios(self) -> list[ScenarioResult]:
        return [s for f in self.flows for s in f.scenarios]

    def count(self, status: str) -> int:
        return sum(1 for s in self.scenarios if s.status == status)

    @property
    def exit_code(self) -> int:
        scen = self.scenarios
        if any(s.usage_error for s in scen):
            return EXIT_USAGE
        if any(s.unreachable for s in scen):
            return EXIT_UNREACHABLE
        if any(s.status in (FAILED, ERROR) for s in scen):
            return EXIT_FAILED
        return EXIT_OK

    def to_dict(self) -> dict:
        return {
            "flowdoc": __version__,
            "started": self.started,
            "duration": _ms(self.duration),
            "exit_code": self.exit_code,
            "summary": {
                "scenarios": len(self.scenarios),
                "passed": self.count(PASSED),
                "failed": self.count(FAILED),
                "errors": self.count(ERROR),
                "skipped": self.count(SKIPPED),
            },
            "warnings": list(self.warnings),
            "options": dict(self.options),
            "flows": [f.to_dict() for f in self.flows],
        }
