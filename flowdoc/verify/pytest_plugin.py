"""pytest plugin: documented flows as test items, one per scenario.

    pytest --flowdoc-base-url URL [--flowdoc-flows DIR] [--flowdoc-input NAME=VALUE ...]

Registered as the ``flowdoc`` pytest11 entry point; it does nothing unless ``--flowdoc-base-url``
or ``--flowdoc-flows`` is given. Items are named ``flowdoc::FLOW::SCENARIO`` (so ``-k`` and
``--junitxml`` work as usual); a failure shows the step, expected vs actual and redacted
excerpts. ``--flowdoc-repeat N`` (as ``flowdoc verify --repeat N``) makes one item per scenario
per iteration, ``flowdoc::FLOW::SCENARIO[i-N]`` (pytest-repeat's naming), collected iteration by
iteration: the whole plan once, then again (pytest-repeat's ``--repeat-scope session``); proof
files come from the first iteration, and the JSON report counts the runs and names the flaky
scenarios as verify's does. Inputs come from ``--flowdoc-input``, the environment (``FLOWDOC_<NAME>``) and
``--flowdoc-env-file``, as with ``flowdoc verify``.

pytest-xdist is the way to spread verify over many flows (and, with one pytest run per
environment, many environments)::

    pytest -n 8 --flowdoc-flows flows --flowdoc-env-file staging.env \
        --flowdoc-proof proofs/ --flowdoc-report-json report.json

Every worker collects the same items and runs its share of the scenarios with its own
connection pool. What comes out is what one process writes:

* ``--flowdoc-report-json FILE`` is written once, by the controller, from the results every
  worker sends back with its test reports (redacted by the worker that ran the scenario): the
  same report as ``flowdoc verify --report-json``.
* ``--flowdoc-proof DIR``: no worker writes a proof file. Each sends the proofs of the
  scenarios it ran (redacted by its own run's redactor, as ``flowdoc verify --proof`` redacts)
  to the controller when it finishes (pytest-xdist's ``workeroutput``); the controller merges
  them into one file per flow and version with every scenario of every worker, in the plan's
  order, placeholders numbered per file (:func:`flowdoc.proofs.merge_proofs`): the same file a
  single process writes. A flow with a scenario whose worker died before sending its records
  gets no new proof file (the one already in DIR is left as it is) and a warning.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterable, Iterator

import pytest

from ..config import load_config
from ..diagnostics import FlowError
from ..model.flow import Flow
from ..proofs import Proof, merge_proofs, proof_file_name, proof_text, write_proofs
from ..report.json_report import json_report
from ..report.terminal import failure_text
from . import MAX_REPEAT, InputError, Verifier, VerifyError, VerifyOptions, load_flows, parse_input_args
from ._iterations import RepeatedRuns
from ._plan import Scenario
from ._redact import scrub
from ._result import PASSED, SKIPPED, CheckFailure, FailureDetail, RunResult, ScenarioResult, StepRecord

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("flowdoc", "flowdoc: verify documented authentication flows")
    g.addoption("--flowdoc-base-url", default=None, metavar="URL",
                help="Verify the flows against this server (base URL for actors without one).")
    g.addoption("--flowdoc-flows", action="append", default=[], metavar="PATH",
                help="Flow files or folders (default: [tool.flowdoc] flows, or ./flows).")
    g.addoption("--flowdoc-input", action="append", default=[], metavar="NAME=VALUE",
                help="An input value (FLOW.NAME=VALUE for one flow); repeatable.")
    g.addoption("--flowdoc-env-file", default=None, metavar="FILE", help="NAME=VALUE lines with input variables.")
    g.addoption("--flowdoc-timeout", type=float, default=10.0, metavar="S",
                help="Seconds for each whole exchange (connect, headers, body).")
    g.addoption("--flowdoc-max-wait", type=float, default=120.0, metavar="S", help="Longest wait a scenario may take.")
    g.addoption("--flowdoc-ca-bundle", default=None, metavar="FILE", help="CA certificates for TLS verification.")
    g.addoption("--flowdoc-allow-insecure-http", action="store_true", default=False,
                help="Allow credentials over plain http to non-loopback hosts.")
    g.addoption("--flowdoc-proof", default=None, metavar="DIR",
                help="Write a proof file per flow and version into DIR when the session ends (as verify --proof).")
    g.addoption("--flowdoc-env-name", default=None, metavar="NAME",
                help="The environment the proof files name (default: the host of the issuer or base URL).")
    g.addoption("--flowdoc-all-versions", action="store_true", default=False,
                help="Verify every version of a flow, not only the latest.")
    g.addoption("--flowdoc-repeat", type=int, default=1, metavar="N",
                help="Run every scenario N times (1 to 10000): one test item per scenario per iteration, the "
                     "whole plan once per iteration (as flowdoc verify --repeat).")
    g.addoption("--flowdoc-report-json", default=None, metavar="FILE",
                help="Write the full result with coverage as JSON (as flowdoc verify --report-json; one file "
                     "for all pytest-xdist workers).")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("flowdoc_base_url") or config.getoption("flowdoc_flows"))


class ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.id)
        self.result = result


class FlowdocUsageError(Exception):
    pass


class FlowdocFlow(pytest.Collector):
    def __init__(self, *, scenarios: list[Scenario], **kw: Any) -> None:
        super().__init__(**kw)
        self.scenarios = scenarios

    def collect(self) -> Iterator[FlowdocScenario]:
        for scn in self.scenarios:
            yield FlowdocScenario.from_parent(self, name=scn.name, scenario=scn)

    def iteration(self, i: int, n: int) -> Iterator[FlowdocScenario]:
        """The items of iteration ``i`` of ``n`` (``--flowdoc-repeat``), named ``SCENARIO[i-n]``."""
        for scn in self.scenarios:
            yield FlowdocScenario.from_parent(self, name=f"{scn.name}[{i}-{n}]", scenario=scn, iteration=i)


class FlowdocScenario(pytest.Item):
    def __init__(self, *, scenario: Scenario, iteration: int | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.scenario = scenario
        self.iteration = iteration
        self.add_marker("flowdoc")

    def runtest(self) -> None:
        verifier = self.config.stash.get(_verifier_key, None)
        if verifier is None:  # pragma: no cover - created at collection
            raise FlowdocUsageError("the flowdoc verifier was not set up")
        try:
            verifier.check_inputs([self.scenario])
        except VerifyError as exc:
            raise FlowdocUsageError(str(exc)) from None
        verifier._register_secrets([self.scenario])
        result = verifier.run_scenario(self.scenario, iteration=self.iteration)
        self.flowdoc_result = scrub(asdict(result), verifier.redactor.redact)  # sent with the report
        self.user_properties.append(("flowdoc.scenario", result.id))
        if result.status == SKIPPED:
            pytest.skip(result.reason)
        if result.status != PASSED:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: TracebackStyle | None = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            verifier = self.config.stash.get(_verifier_key, None)
            text = failure_text(excinfo.value.result)
            return verifier.redactor.redact(text) if verifier else text
        if isinstance(excinfo.value, FlowdocUsageError):
            return f"flowdoc: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"flowdoc {self.scenario.id}"


_verifier_key = pytest.StashKey[Verifier]()
_flows_key = pytest.StashKey[Iterable[Flow]]()
_plan_key = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flowdoc: a scenario of a documented flow (flowdoc verify)")
    if not _enabled(config) or hasattr(config, "workerinput"):
        return
    if config.getoption("flowdoc_report_json"):
        config.pluginmanager.register(ReportWriter(config), "flowdoc-report-json")
    if config.getoption("flowdoc_proof"):
        config.pluginmanager.register(ProofMerger(), "flowdoc-proofs")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    result = getattr(item, "flowdoc_result", None)
    if call.when == "call" and result is not None:
        report.flowdoc_result = result  # type: ignore[attr-defined]  # plain data: pytest-xdist carries it along
    return report


class ReportWriter:
    """The controller's (or the only process's) collector of scenario results, and the report."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.results: dict[tuple[str, int | None], dict[str, Any]] = {}  # (scenario, iteration) -> result
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.t0 = time.monotonic()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "flowdoc_result", None)
        if isinstance(result, dict) and "id" in result:
            self.results[(result["id"], result.get("iteration"))] = result

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = self.config
        try:
            folders = _flow_folders(config)
            flows = load_flows(config.getoption("flowdoc_flows") or folders[:1], search=folders)
            with Verifier(_options(config, folders)) as verifier:
                ran = {sid for sid, _i in self.results}
                plan = [scn for scn in verifier.plan(flows) if scn.id in ran]
                verifier._register_secrets(plan)
                result = self._assemble(verifier, flows, plan)
                text = json_report(result)
        except (FlowError, VerifyError, InputError) as exc:  # pragma: no cover - collection refused these first
            raise pytest.UsageError(f"flowdoc: {exc}") from None
        Path(config.getoption("flowdoc_report_json")).write_text(text, encoding="utf-8")

    def _assemble(self, verifier: Verifier, flows: list[Flow], plan: list[Scenario]) -> RunResult:
        """The results in plan order (with --flowdoc-repeat: iteration by iteration, as verify runs them)."""
        duration = time.monotonic() - self.t0
        if verifier.options.repeat == 1:
            return verifier._assemble(flows, plan, [_scenario_result(self.results[(s.id, None)]) for s in plan],
                                      self.started, duration)
        runs = RepeatedRuns(verifier.options.repeat)
        order = {scn.id: k for k, scn in enumerate(plan)}
        for sid, i in sorted(self.results, key=lambda key: (key[1] or 1, order.get(key[0], -1))):
            if sid in order:
                runs.add(plan[order[sid]], _scenario_result(self.results[(sid, i)]))
        return verifier._assemble(flows, [scn for scn, _r in runs.runs], [r for _s, r in runs.runs],
                                  self.started, duration, runs)


def _scenario_result(data: dict[str, Any]) -> ScenarioResult:
    """A :class:`ScenarioResult` from the plain data a worker sent (``asdict`` of one)."""
    data = dict(data)
    data["steps"] = [StepRecord(**step) for step in data.get("steps", [])]
    failure = data.get("failure")
    if failure is not None:
        failure = dict(failure)
        failure["checks"] = [CheckFailure(**c) for c in failure.get("checks", [])]
        data["failure"] = FailureDetail(**failure)
    return ScenarioResult(**data)


def _options(config: pytest.Config, folders: list[str]) -> VerifyOptions:
    return VerifyOptions(
        base_url=config.getoption("flowdoc_base_url"),
        inputs=parse_input_args(config.getoption("flowdoc_input")),
        env_file=config.getoption("flowdoc_env_file"),
        timeout=config.getoption("flowdoc_timeout"),
        max_wait=config.getoption("flowdoc_max_wait"),
        ca_bundle=config.getoption("flowdoc_ca_bundle"),
        allow_insecure_http=config.getoption("flowdoc_allow_insecure_http"),
        all_versions=config.getoption("flowdoc_all_versions"),
        flow_folders=folders,
        record=bool(config.getoption("flowdoc_proof")),
        repeat=config.getoption("flowdoc_repeat"),
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _enabled(config):
        return
    folders = _flow_folders(config)
    paths = config.getoption("flowdoc_flows") or folders[:1]
    repeat = config.getoption("flowdoc_repeat")
    if not 1 <= repeat <= MAX_REPEAT:
        raise pytest.UsageError(f"flowdoc: --flowdoc-repeat must be from 1 to {MAX_REPEAT}, not {repeat}")
    try:
        flows = load_flows(paths, search=folders)
        verifier = Verifier(_options(config, folders))
        plan = verifier.plan(flows)
    except FlowError as exc:
        raise pytest.UsageError(f"flowdoc: invalid flows:\n{exc}") from None
    except (VerifyError, InputError) as exc:
        raise pytest.UsageError(f"flowdoc: {exc}") from None
    config.stash[_verifier_key] = verifier
    config.stash[_flows_key] = flows
    config.stash[_plan_key] = [scn.id for scn in plan]
    if verifier.recorder is not None:
        verifier.recorder.planned(plan)
    config.add_cleanup(verifier.close)
    for w in verifier.warnings(flows):
        config.issue_config_time_warning(pytest.PytestWarning(f"flowdoc: {w}"), stacklevel=2)
    by_flow: dict[str, list[Scenario]] = {}
    for scn in plan:
        by_flow.setdefault(scn.flow_key, []).append(scn)
    colls = []
    for key, scns in by_flow.items():
        file = Path(scns[0].flow.file).resolve() if scns[0].flow.file else Path.cwd()
        colls.append(FlowdocFlow.from_parent(session, name=f"flowdoc::{key}", nodeid=f"flowdoc::{key}", path=file,
                                             scenarios=scns))
    for i in range(1, repeat + 1):
        for coll in colls:
            items.extend(coll.collect() if repeat == 1 else coll.iteration(i, repeat))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With --flowdoc-proof: the proof files of the scenarios that ran, written by the only process
    or by pytest-xdist's controller (a worker sends its proofs to the controller instead)."""
    config = session.config
    folder = config.getoption("flowdoc_proof", None) if _enabled(config) else None
    if not folder:
        return
    if hasattr(config, "workerinput"):
        _send_proofs(config)
        return
    merger = config.pluginmanager.get_plugin("flowdoc-proofs")
    if isinstance(merger, ProofMerger) and config.pluginmanager.has_plugin("dsession"):
        proofs, warnings = merger.merged()
    else:
        proofs, warnings = _own_proofs(config), []
    try:
        written = write_proofs(folder, proofs)
    except OSError as exc:
        raise pytest.UsageError(f"flowdoc: cannot write proof files to {folder}: {exc.strerror or exc}") from None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        for line in warnings:
            reporter.write_line(f"flowdoc: {line}", yellow=True)
        if written:
            reporter.write_line(f"flowdoc: {len(written)} proof file(s) written to {folder}")


def _own_proofs(config: pytest.Config) -> list[tuple[str, Proof]]:
    """The proofs of the scenarios this process ran (none when it collected no flows)."""
    verifier = config.stash.get(_verifier_key, None)
    if verifier is None:
        return []
    name = config.getoption("flowdoc_env_name") or verifier.env_name(config.stash.get(_flows_key, []))
    return verifier.proofs(name)


def _send_proofs(config: pytest.Config) -> None:
    """A pytest-xdist worker's proofs, redacted, go to the controller with its ``workeroutput``,
    with a keyed fingerprint of the value of each numbered placeholder (the key is the session's,
    from the controller: the same value seen by two workers gets one number in the merged file)."""
    verifier = config.stash.get(_verifier_key, None)
    if verifier is None or verifier.recorder is None:
        return
    name = config.getoption("flowdoc_env_name") or verifier.env_name(config.stash.get(_flows_key, []))
    key = bytes.fromhex(str(config.workerinput.get("flowdoc_proof_key") or os.urandom(32).hex()))  # type: ignore[attr-defined]

    def fingerprint(value: str) -> str:
        return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    parts = verifier.recorder.proof_parts(verifier.redactor, name, fingerprint=fingerprint)
    config.workeroutput["flowdoc_proofs"] = {  # type: ignore[attr-defined]  # set by pytest-xdist
        "order": config.stash.get(_plan_key, []),
        "files": {file: {"proof": proof_text(proof), "keys": keys} for file, proof, keys in parts},
    }


class ProofMerger:
    """The controller's collector of the proofs its pytest-xdist workers send, merged by file."""

    def __init__(self) -> None:
        self.key = secrets.token_hex(32)  # the session's key of the workers' fingerprints
        self.parts: dict[str, list[tuple[Proof, dict[str, str]]]] = {}
        self.order: list[str] = []
        self.ran: dict[str, set[str]] = {}  # proof file -> the scenarios the test reports say ran
        self.lost: list[str] = []  # the workers that ended without sending their proofs

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "flowdoc_result", None)
        if (isinstance(result, dict) and isinstance(result.get("id"), str) and isinstance(result.get("flow"), str)
                and result.get("iteration") in (None, 1)):  # proofs: the first iteration only
            name = proof_file_name(result["flow"], result.get("flow_version"))
            self.ran.setdefault(name, set()).add(result["id"])

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["flowdoc_proof_key"] = self.key

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        sent = (getattr(node, "workeroutput", None) or {}).get("flowdoc_proofs")
        if not isinstance(sent, dict):
            self.lost.append(str(getattr(getattr(node, "gateway", None), "id", "a worker")))
            return
        self.order = self.order or [str(sid) for sid in sent.get("order", [])]
        for name, part in sent.get("files", {}).items():
            keys = {str(k): str(v) for k, v in part.get("keys", {}).items()}
            self.parts.setdefault(name, []).append((Proof.model_validate_json(part["proof"]), keys))

    def merged(self) -> tuple[list[tuple[str, Proof]], list[str]]:
        """(file name, proof) per flow and version, and why a file that should be is not."""
        proofs, warnings = [], []
        for name in sorted(set(self.parts) | set(self.ran)):
            parts = self.parts.get(name, [])
            missing = self.ran.get(name, set()) - {s.id for part, _keys in parts for s in part.scenarios}
            if missing:
                warnings.append(f"{name} not written: {len(missing)} of its scenarios ran on a worker that ended "
                                f"without sending its proofs ({', '.join(self.lost) or 'unknown'})")
                continue
            try:
                proofs.append((name, merge_proofs([p for p, _k in parts], self.order, [k for _p, k in parts])))
            except ValueError as exc:
                warnings.append(f"{name} not written: {exc}")
        return proofs, warnings


def _flow_folders(config: pytest.Config) -> list[str]:
    """The configured flows folder (the default flows), then ``flow_folders``: where a required flow
    may live besides the flows given, as ``flowdoc validate`` looks."""
    try:
        cfg = load_config(Path(str(config.rootpath)))
    except Exception:
        return ["flows"]
    return [cfg.flows, *cfg.flow_folders]
