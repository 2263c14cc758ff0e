"""pytest plugin: documented flows as test items, one per scenario.

    pytest --flowdoc-base-url URL [--flowdoc-flows DIR] [--flowdoc-input NAME=VALUE ...]

Registered as the ``flowdoc`` pytest11 entry point; it does nothing unless ``--flowdoc-base-url``
or ``--flowdoc-flows`` is given. Items are named ``flowdoc::FLOW::SCENARIO`` (so ``-k`` and
``--junitxml`` work as usual); a failure shows the step, expected vs actual and redacted
excerpts. Inputs come from ``--flowdoc-input``, the environment (``FLOWDOC_<NAME>``) and
``--flowdoc-env-file``, as with ``flowdoc verify``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from ..config import load_config
from ..diagnostics import FlowError
from ..report.terminal import failure_text
from . import InputError, Verifier, VerifyError, VerifyOptions, load_flows, parse_input_args
from ._plan import Scenario
from ._result import PASSED, SKIPPED, ScenarioResult
from ._runner import ScenarioRun

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
    g.addoption("--flowdoc-all-versions", action="store_true", default=False,
                help="Verify every version of a flow, not only the latest.")


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


class FlowdocScenario(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kw: Any) -> None:
        super().__init__(**kw)
        self.scenario = scenario
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
        result = ScenarioRun(verifier.ctx, self.scenario).run()
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flowdoc: a scenario of a documented flow (flowdoc verify)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _enabled(config):
        return
    folders = _flow_folders(config)
    paths = config.getoption("flowdoc_flows") or folders[:1]
    try:
        flows = load_flows(paths, search=folders)
        options = VerifyOptions(
            base_url=config.getoption("flowdoc_base_url"),
            inputs=parse_input_args(config.getoption("flowdoc_input")),
            env_file=config.getoption("flowdoc_env_file"),
            timeout=config.getoption("flowdoc_timeout"),
            max_wait=config.getoption("flowdoc_max_wait"),
            ca_bundle=config.getoption("flowdoc_ca_bundle"),
            allow_insecure_http=config.getoption("flowdoc_allow_insecure_http"),
            all_versions=config.getoption("flowdoc_all_versions"),
            flow_folders=folders,
        )
        verifier = Verifier(options)
        plan = verifier.plan(flows)
    except FlowError as exc:
        raise pytest.UsageError(f"flowdoc: invalid flows:\n{exc}") from None
    except (VerifyError, InputError) as exc:
        raise pytest.UsageError(f"flowdoc: {exc}") from None
    config.stash[_verifier_key] = verifier
    config.add_cleanup(verifier.close)
    for w in verifier.warnings(flows):
        config.issue_config_time_warning(pytest.PytestWarning(f"flowdoc: {w}"), stacklevel=2)
    by_flow: dict[str, list[Scenario]] = {}
    for scn in plan:
        by_flow.setdefault(scn.flow_key, []).append(scn)
    for key, scns in by_flow.items():
        file = Path(scns[0].flow.file).resolve() if scns[0].flow.file else Path.cwd()
        coll = FlowdocFlow.from_parent(session, name=f"flowdoc::{key}", nodeid=f"flowdoc::{key}", path=file,
                                       scenarios=scns)
        items.extend(coll.collect())


def _flow_folders(config: pytest.Config) -> list[str]:
    """The configured flows folder (the default flows), then ``flow_folders``: where a required flow
    may live besides the flows given, as ``flowdoc validate`` looks."""
    try:
        cfg = load_config(Path(str(config.rootpath)))
    except Exception:
        return ["flows"]
    return [cfg.flows, *cfg.flow_folders]
