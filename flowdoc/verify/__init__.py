"""Verify: run documented flows against a live server as conformance tests.

The pipeline is model → verify → report::

    from flowdoc.verify import VerifyOptions, load_flows, verify_flows
    flows = load_flows(["flows/"])                       # raises FlowError on invalid files
    result = verify_flows(flows, VerifyOptions(inputs={"issuer": "https://auth.test"}))
    result.exit_code                                     # 0 passed, 1 failed, 2 usage, 3 unreachable

Scenarios: every flow's happy path, each further declared path, and one scenario per failure
branch (the route to the branch's step, then the provoked request, then one step from the
state the branch leads to). Every text in a :class:`RunResult` is redacted.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Mapping

import httpx

from .._version import __version__
from ..catalog import FlowSet
from ..check.assumptions import assumptions_off
from ..diagnostics import Diagnostic, FlowError, escape_control
from ..model.flow import Flow, latest_versions
from ..proofs import Proof
from ._inputs import InputError, InputSources, missing_message, parse_env_file, parse_input_args
from ._iterations import RepeatedRuns
from ._plan import PlanError, RunInputs, Scenario, flow_key, plan_flow, requirements_of, select
from ._pool import PooledTransport, RunContext
from ._probe import plan_probes
from ._proofs import ProofRecorder, env_name_of
from ._redact import Redactor
from ._result import (
    ERROR,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    FAILED,
    FLAKY,
    PASSED,
    SKIPPED,
    CheckFailure,
    Coverage,
    FailureDetail,
    FlowResult,
    RunResult,
    ScenarioAggregate,
    ScenarioResult,
    StepRecord,
)
from ._runner import ScenarioRun
from ._statements import coverage

__all__ = [
    "ERROR",
    "FAILED",
    "MAX_REPEAT",
    "FLAKY",
    "PASSED",
    "SKIPPED",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CheckFailure",
    "Coverage",
    "FailureDetail",
    "FlowResult",
    "InputError",
    "RunResult",
    "Scenario",
    "ScenarioAggregate",
    "ScenarioResult",
    "StepRecord",
    "Verifier",
    "VerifyError",
    "VerifyOptions",
    "load_flows",
    "parse_env_file",
    "parse_input_args",
    "verify_flows",
]


_HTTP_LOGGERS = ("httpx", "httpcore")


class _RedactingFilter(logging.Filter):
    def __init__(self, redact: Callable[[str], str]):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a malformed record: drop its arguments
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        return True


#: the most iterations ``--repeat`` runs (``flowdoc verify``, ``--flowdoc-repeat``, the library)
MAX_REPEAT = 10_000


class VerifyError(ValueError):
    """A usage problem found before anything is sent (exit code 2)."""


@dataclass
class VerifyOptions:
    base_url: str | None = None  # for actors without a base_url
    inputs: dict[str, str] = field(default_factory=dict)  # --input NAME=VALUE
    env: Mapping[str, str] | None = None  # default: os.environ
    env_file: str | None = None
    scenarios: list[str] = field(default_factory=list)  # --scenario (ids, names or flow ids)
    timeout: float = 10.0  # seconds, each whole exchange (connect, headers, body, redirects followed)
    ca_bundle: str | None = None
    allow_insecure_http: bool = False
    all_versions: bool = False
    jobs: int = 1  # scenarios run concurrently
    max_wait: float = 120.0  # longest wait (TTL) a scenario may ask for
    probe: bool = False  # --probe: one more scenario per documented parameter, left out
    strict: bool = False  # --strict: a probe finding fails its scenario (else a warning)
    #: folders searched for a required flow that is neither among the flows given nor beside the
    #: requiring file (``[tool.flowdoc] flows`` and ``flow_folders``, as validate searches)
    flow_folders: list[str] = field(default_factory=list)
    record: bool = False  # keep every exchange for proof files (--proof DIR; see Verifier.proofs)
    #: --repeat N: run the selected plan N times, one iteration after another, over the same connections
    #: (proof files from the first iteration; see flowdoc.verify._iterations)
    repeat: int = 1


#: ("plan", [Scenario]) / ("start", Scenario) / ("done", ScenarioResult); with repeat > 1 also
#: ("iterations", N) before "plan" and ("iteration", i) as each iteration starts
Event = Callable[[str, object], None]


def load_flows(paths: Iterable[str | os.PathLike[str]], *,
               search: Iterable[str | os.PathLike[str]] = ()) -> list[Flow]:
    """Load flow files and folders (every version); raise FlowError if any is invalid.
    ``search``: folders where a required flow may live too (the configured flow folders)."""
    paths = list(paths)
    res = FlowSet.from_paths(paths, search=search)
    if res.invalid or not res.files:
        if not res.errors:
            raise FlowError([Diagnostic(" ".join(map(str, paths)), None, None, "no-flows", "no flow files found")])
        raise FlowError(res.errors)
    return res.flows


class Verifier:
    """A verify session: one connection pool, one JWKS cache, one redactor for every run."""

    def __init__(self, options: VerifyOptions | None = None, *, transport: httpx.BaseTransport | None = None):
        self.options = options = options or VerifyOptions()
        if options.timeout <= 0:
            raise VerifyError("--timeout must be positive")
        if options.jobs < 1:
            raise VerifyError("--jobs must be at least 1")
        if options.repeat < 1:
            raise VerifyError("--repeat must be at least 1")
        if options.repeat > MAX_REPEAT:  # results are kept per run: a bound for the library and pytest too
            raise VerifyError(f"--repeat must be at most {MAX_REPEAT}")
        try:
            env_file = parse_env_file(options.env_file) if options.env_file else {}
        except InputError as exc:
            raise VerifyError(str(exc)) from None
        self.inputs = InputSources(dict(options.inputs), os.environ if options.env is None else options.env, env_file)
        self.redactor = Redactor()
        if transport is None:
            verify: ssl.SSLContext | bool = True
            if options.ca_bundle:
                try:
                    verify = ssl.create_default_context(cafile=options.ca_bundle)
                except (OSError, ssl.SSLError) as exc:
                    raise VerifyError(f"cannot use --ca-bundle {options.ca_bundle}: {exc}") from None
            transport = PooledTransport(lambda: verify, options.jobs)
        self._transport = transport
        self._needed: dict[int, tuple[Any, ...]] = {}
        self._run_inputs = RunInputs()  # each step's inputs found once per session
        self._warnings: tuple[Any, ...] | None = None  # scenario -> the inputs it references (computed once)
        self._catalog: tuple[list[Flow], FlowSet] | None = None  # the last flows given and their set
        # httpx logs request URLs (which may carry codes) at INFO: scrub them too
        self.recorder = ProofRecorder() if options.record else None
        self._log_filter = _RedactingFilter(self.redactor.redact)
        for name in _HTTP_LOGGERS:
            logging.getLogger(name).addFilter(self._log_filter)
        self.ctx = RunContext(
            redactor=self.redactor,
            inputs=self.inputs,
            base_url=options.base_url.rstrip("/") if options.base_url else None,
            timeout=float(options.timeout),
            allow_insecure_http=options.allow_insecure_http,
            max_wait=float(options.max_wait),
            transport=transport,
            user_agent=f"flowdoc-verify/{__version__}",
            strict=options.strict,
            recorder=self.recorder.exchanged if self.recorder is not None else None,
        )

    def __enter__(self) -> "Verifier":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for name in _HTTP_LOGGERS:
            logging.getLogger(name).removeFilter(self._log_filter)
        self.ctx.close()
        self._transport.close()

    # ---------------------------------------------------------------- planning
    def select_flows(self, flows: Iterable[Flow]) -> list[Flow]:
        flows = list(flows)
        return flows if self.options.all_versions else latest_versions(flows)  # as FlowSet.latest()

    def catalog(self, flows: Iterable[Flow] | FlowSet) -> FlowSet:
        """Where requirements are found: the set itself when given one (as validate loaded it), else the
        flows given, beside their files, then in the ``flow_folders`` of the options."""
        if isinstance(flows, FlowSet):
            return flows
        flows = list(flows)
        last = self._catalog
        if last is None or len(last[0]) != len(flows) or any(a is not b for a, b in zip(last[0], flows, strict=True)):
            self._catalog = last = (flows, FlowSet.from_flows(flows, search=self.options.flow_folders))
        return last[1]  # the same flows again (a run after its plan, runs repeated): the same set

    def plan(self, flows: Iterable[Flow] | FlowSet) -> list[Scenario]:
        """Scenarios of the selected flows (latest versions unless all_versions), filtered. A required
        flow is looked for as validate looks: see :meth:`catalog`."""
        catalog = self.catalog(flows)
        chosen = self.select_flows(catalog.flows)
        versions: dict[str, int] = {}
        for f in chosen:
            versions[f.id] = versions.get(f.id, 0) + 1
        out: list[Scenario] = []
        try:
            for f in chosen:
                key = flow_key(f, versions[f.id] > 1)
                out += plan_flow(f, key, catalog)
                if self.options.probe:
                    out += plan_probes(f, key, requirements_of(f, catalog))
            return select(out, self.options.scenarios)
        except PlanError as exc:
            raise VerifyError(str(exc)) from None

    def check_inputs(self, scenarios: Iterable[Scenario]) -> None:
        """Every input a planned scenario needs has a value; raise VerifyError naming all that lack one."""
        problems: dict[str, tuple[Flow, set[str]]] = {}
        unset: dict[int, frozenset[str]] = {}  # per flow: its declared inputs that have no value
        for scn in scenarios:
            flows = [scn.flow, *(rf for _n, _r, rf in scn.requirements)]
            for flow in flows:
                if id(flow) not in unset:
                    unset[id(flow)] = frozenset(n for n in flow.inputs if self.inputs.lookup(flow, n) is None)
            if not any(unset[id(flow)] for flow in flows) or self.skipped_by_assumption(scn):
                continue  # every input has a value, or skipped naming the behaviour: its inputs are not needed
            for flow, names in self._inputs_needed(scn):
                for name in names & unset[id(flow)]:
                    problems.setdefault(flow.id + "@" + str(flow.version), (flow, set()))[1].add(name)
        if problems:
            raise VerifyError("; ".join(missing_message(f, names) for f, names in problems.values()))

    def _inputs_needed(self, scn: Scenario) -> list[tuple[Flow, set[str]]]:
        """(flow, the inputs one run of it needs) for the scenario's flow and each flow it requires."""
        needed = self._needed.get(id(scn))
        if needed is None:
            parts = [(scn.flow, list(scn.route) + ([scn.target] if scn.target else [])
                      + scn.through + scn.follow_route, scn.failure)]
            parts += [(rf, rf.happy_path(), None) for _n, _r, rf in scn.requirements]
            needed = self._needed[id(scn)] = (scn, [(flow, self._run_inputs(flow, transitions, failure))
                                                    for flow, transitions, failure in parts])
        return needed[1]  # type: ignore[no-any-return]

    def skipped_by_assumption(self, scn: Scenario) -> bool:
        """The scenario's failure branch relies on a server behaviour an input switches off."""
        if scn.failure is None or not scn.failure.assumes:
            return False

        def value(name: str) -> Any:
            found = self.inputs.lookup(scn.flow, name)
            return None if found is None else found[0]

        off = assumptions_off(scn.flow, value)
        return any(name in off for name in scn.failure.assumes)

    def _register_secrets(self, plan: Iterable[Scenario]) -> None:
        """Secret inputs are redacted from the first byte of output, used or not."""
        seen: set[int] = set()
        for scn in plan:
            for flow in [scn.flow, *(rf for _n, _r, rf in scn.requirements)]:
                if id(flow) in seen:
                    continue
                seen.add(id(flow))
                for name, inp in flow.inputs.items():
                    if inp.secret:
                        found = self.inputs.lookup(flow, name)
                        if found is not None:
                            self.redactor.add(found[0], self.inputs.label(flow, name), numbered=False,
                                              declared=True)

    def discovery_findings(self) -> list[str]:
        """Where a server's discovery document contradicts a flow (found while the run read it)."""
        return [self.redactor.redact(escape_control(f"{d.location}: {d.severity}[{d.code}]: {d.message}"))
                for d in self.ctx.discovery.findings()]

    def warnings(self, flows: Iterable[Flow]) -> list[str]:
        flows = list(flows)
        key = tuple(id(f) for f in flows)
        if self._warnings is None or self._warnings[0] != key:
            self._warnings = (key, self.inputs.warnings(self.select_flows(flows)))
        return list(self._warnings[1])

    # ---------------------------------------------------------------- running
    def run(self, flows: Iterable[Flow] | FlowSet, *, on_event: Event | None = None,
            scenarios: list[Scenario] | None = None) -> RunResult:
        catalog = self.catalog(flows)
        flows = list(catalog.flows)
        started_wall = datetime.now(timezone.utc).isoformat(timespec="seconds")
        t0 = time.monotonic()
        plan = scenarios if scenarios is not None else self.plan(catalog)
        self.check_inputs(plan)
        self._register_secrets(plan)
        emit = on_event or (lambda kind, payload: None)
        repeat = self.options.repeat
        if repeat > 1:
            emit("iterations", repeat)
        emit("plan", plan)
        if self.recorder is not None:
            self.recorder.planned(plan)
        if repeat == 1:
            results = self._run_plan(plan, emit, None)
            return self._assemble(flows, plan, results, started_wall, time.monotonic() - t0)
        runs = RepeatedRuns(repeat)
        for i in range(1, repeat + 1):
            emit("iteration", i)
            for scn, res in zip(plan, self._run_plan(plan, emit, i), strict=True):
                runs.add(scn, res)
        return self._assemble(flows, [scn for scn, _res in runs.runs], [res for _scn, res in runs.runs],
                              started_wall, time.monotonic() - t0, runs)

    def _run_plan(self, plan: list[Scenario], emit: Event, iteration: int | None) -> list[ScenarioResult]:
        """Every scenario of the plan once (``--jobs`` at a time), results in plan order."""

        def one(scn: Scenario) -> ScenarioResult:
            emit("start", scn)
            res = self.run_scenario(scn, iteration=iteration)
            emit("done", res)
            return res

        if self.options.jobs > 1 and len(plan) > 1:
            with ThreadPoolExecutor(min(self.options.jobs, len(plan)), thread_name_prefix="flowdoc-verify") as pool:
                return list(pool.map(one, plan))
        return [one(s) for s in plan]

    def run_scenario(self, scn: Scenario, *, iteration: int | None = None) -> ScenarioResult:
        """Run one planned scenario (its inputs checked and secrets registered first by the caller).
        ``iteration``: of a repeated run (1-based); only the first one's exchanges go to proof files."""
        later = iteration is not None and iteration > 1
        res = ScenarioRun(self.ctx, scn, record=not later).run()
        res.iteration = iteration
        if self.recorder is not None and not later:
            self.recorder.finished(scn, res)
        return res

    # ---------------------------------------------------------------- proofs
    def env_name(self, flows: Iterable[Flow]) -> str:
        """The default environment name of proof files: the host of the issuer (or base URL)."""
        for flow in flows:
            found = self.inputs.lookup(flow, "issuer") if "issuer" in flow.inputs else None
            name = env_name_of(str(found[0])) if found is not None else None
            if name:
                return name
        return env_name_of(self.options.base_url) or "unnamed"

    def proofs(self, environment: str, day: date | None = None) -> list[tuple[str, Proof]]:
        """(file name, :class:`~flowdoc.proofs.Proof`) per flow and version run, redacted
        (``VerifyOptions.record`` must be on)."""
        if self.recorder is None:
            raise VerifyError("proofs need VerifyOptions(record=True)")
        return self.recorder.proofs(self.redactor, environment, day)

    def _assemble(self, flows: list[Flow], plan: list[Scenario], results: list[ScenarioResult],
                  started: str, duration: float, repeated: RepeatedRuns | None = None) -> RunResult:
        """The result: ``plan[i]`` is the scenario ``results[i]`` ran (with ``repeated``, one entry per run)."""
        by_key: dict[str, FlowResult] = {}
        for scn, res in zip(plan, results, strict=True):
            fr = by_key.get(scn.flow_key)
            if fr is None:
                f = scn.flow
                fr = by_key[scn.flow_key] = FlowResult(f.id, scn.flow_key, f.version, f.title, f.file, [],
                                                       Coverage([], [], [], []))
            fr.scenarios.append(res)
        flow_of = {scn.flow_key: scn.flow for scn in plan}
        for key, fr in by_key.items():
            fr.coverage = repeated.coverage(key, flow_of[key]) if repeated else coverage(flow_of[key], fr.scenarios)
        opts = self.options
        extra = {"repeat": repeated.iterations} if repeated else {}
        return RunResult(
            flows=list(by_key.values()),
            warnings=[self.redactor.redact(w) for w in self.warnings(flows)] + self.discovery_findings(),
            duration=duration,
            started=started,
            options={
                "base_url": opts.base_url,
                "timeout": opts.timeout,
                "jobs": opts.jobs,
                "all_versions": opts.all_versions,
                "scenarios": list(opts.scenarios),
                "inputs": sorted(opts.inputs),  # names only
                "allow_insecure_http": opts.allow_insecure_http,
                "probe": opts.probe,
                "strict": opts.strict,
                **extra,
            },
            iterations=repeated.iterations if repeated else 1,
            redact=self.redactor.redact,
        )


def verify_flows(flows: Iterable[Flow], options: VerifyOptions | None = None, *,
                 on_event: Event | None = None) -> RunResult:
    """Plan and run the scenarios of ``flows``; raise VerifyError for usage problems."""
    with Verifier(options) as v:
        return v.run(flows, on_event=on_event)
