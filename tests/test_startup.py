"""Start-up does no work it does not need: ``--help``/``--version`` load no command and no model,
``import flowdoc`` builds nothing until a name is used. (The times are in benchmarks/bench_startup.py.)"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

from flowdoc.cli import COMMANDS, SUMMARIES, cli
from tests.helpers import ROOT

HEAVY = ("pydantic", "yaml", "httpx", "jinja2", "markdown", "mkdocs", "joserfc", "flowdoc.model",
         "flowdoc.catalog", "flowdoc.load", "flowdoc.check", "flowdoc.verify", "flowdoc.publish")


def modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = textwrap.dedent(code) + textwrap.dedent("""
        import json, sys
        print(json.dumps(sorted(sys.modules)))
    """)
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def heavy(mods: list[str]) -> list[str]:
    return [m for m in mods if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_every_command_has_the_summary_its_help_starts_with():
    """--help lists SUMMARIES instead of loading each command; they must say what the commands say."""
    assert set(SUMMARIES) == set(COMMANDS)
    for name, module in COMMANDS.items():
        command = importlib.import_module(f"flowdoc.cli.{module}").command
        assert command.help.strip().splitlines()[0] == SUMMARIES[name], name


@pytest.mark.parametrize("option", ["--help", "--version", "-h"])
def test_help_and_version_load_no_command_and_no_model(option):
    mods = modules_after(f"""
        import sys
        from flowdoc.cli import cli
        try:
            cli([{option!r}], prog_name="flowdoc")
        except SystemExit as exc:
            assert exc.code == 0, exc.code
    """)
    assert "flowdoc.cli" in mods and "click" in mods
    assert [m for m in mods if m.startswith("flowdoc.cli.")] == []
    assert heavy(mods) == []


def test_help_is_what_click_writes_with_every_command_loaded():
    """The same --help as a plain click group holding the loaded commands would print."""
    eager = click.Group(name=cli.name, commands={name: importlib.import_module(f"flowdoc.cli.{mod}").command
                                                  for name, mod in COMMANDS.items()},
                        help=cli.help, epilog=cli.epilog, params=cli.params,
                        context_settings=cli.context_settings)
    for width in (60, 80, 120):
        lazy_out = CliRunner().invoke(cli, ["--help"], terminal_width=width, prog_name="flowdoc").output
        eager_out = CliRunner().invoke(eager, ["--help"], terminal_width=width, prog_name="flowdoc").output
        assert lazy_out == eager_out
        assert "verify    Verify that a server behaves" in lazy_out


def test_import_flowdoc_builds_nothing_until_a_name_is_used():
    mods = modules_after("import flowdoc; assert flowdoc.__version__")
    assert heavy(mods) == []
    mods = modules_after("""
        import flowdoc
        from flowdoc import FlowSet, Version
        flow = flowdoc.load_flow("flows/client-credentials.yaml")
        assert isinstance(flow, flowdoc.Flow) and flow.id == "client-credentials"
        assert flowdoc.validate(["flows"]) == [] and flowdoc.lint(["flows"]) == []
        assert FlowSet.from_paths(["flows"]).by_id["client-credentials"]
        assert Version.parse("1.2.0") < Version.parse("1.10.0")
        assert issubclass(flowdoc.FlowError, Exception) and flowdoc.Diagnostic
        assert set(flowdoc.__all__) <= set(dir(flowdoc))
        try:
            flowdoc.no_such_name
        except AttributeError as exc:
            assert "no_such_name" in str(exc)
        else:
            raise AssertionError("no AttributeError")
    """)
    assert "flowdoc.model" in mods


def test_the_lazy_names_are_the_modules_names():
    import flowdoc
    import flowdoc.api
    import flowdoc.catalog
    import flowdoc.model

    assert flowdoc.FlowSet is flowdoc.catalog.FlowSet and flowdoc.Flow is flowdoc.model.Flow
    assert flowdoc.load_flow is flowdoc.api.load_flow
