"""flowdoc render: outputs, -o (atomic), invalid flows, templates from the option and the config."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flowdoc.cli import COMMANDS  # noqa: E402
from flowdoc.render import render_diagram, render_page  # noqa: E402
from tests.helpers import run
import flowdoc  # noqa: E402

CC = str(ROOT / "flows" / "client-credentials.yaml")



def test_registered_and_help():
    assert COMMANDS["render"] == "render"
    r = run("render", "--help")
    assert r.exit_code == 0
    for word in ("--view", "sequence", "flowchart", "--format", "markdown", "-o", "--templates"):
        assert word in r.output


@pytest.mark.parametrize("view", ["sequence", "state", "flowchart"])
@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_diagram_to_stdout(view, fmt):
    r = run("render", CC, "--view", view, "--format", fmt)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == render_diagram(flowdoc.load_flow(CC), view, fmt)


def test_default_is_the_mermaid_sequence():
    r = run("render", CC)
    assert r.exit_code == 0 and r.stdout.startswith("sequenceDiagram\n")


def test_markdown_page_to_file(tmp_path):
    out = tmp_path / "docs" / "cc.md"
    r = run("render", CC, "--format", "markdown", "-o", out)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert out.read_text(encoding="utf-8") == render_page(flowdoc.load_flow(CC))
    assert [p.name for p in out.parent.iterdir()] == ["cc.md"]  # no temporary file left


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_svg_to_file(tmp_path):
    out = tmp_path / "state.svg"
    r = run("render", CC, "--view", "state", "--format", "svg", "-o", out)
    assert r.exit_code == 0, r.stderr
    assert out.read_text(encoding="utf-8").lstrip().startswith("<?xml")


BROKEN = """\
id: broken
title: A broken flow
actors:
  app: {name: App, kind: client}
states:
  - {id: start, initial: true}
  - {id: done, terminal: true}
transitions:
  - id: go
    from: start
    to: nowhere
    by: app -> app
    title: Go
"""


def test_invalid_flow_reports_diagnostics_and_writes_nothing(tmp_path):
    flow = tmp_path / "broken.yaml"
    flow.write_text(BROKEN)
    out = tmp_path / "out.md"
    out.write_text("previous content")
    for fmt in ("markdown", "mermaid"):
        r = run("render", flow, "--format", fmt, "-o", out)
        assert r.exit_code == 2
        assert f"{flow}:11:9: error[undefined-state]" in r.stderr
        assert "nothing was rendered" in r.stderr
        assert r.stdout == ""
        assert out.read_text() == "previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.yaml", "out.md"]


def test_yaml_error_has_a_position(tmp_path):
    flow = tmp_path / "bad.yaml"
    flow.write_text("id: x\ntitle: [unclosed\n")
    r = run("render", flow)
    assert r.exit_code == 2
    assert f"{flow}:" in r.stderr and "Traceback" not in r.stderr


def test_missing_file_is_exit_2(tmp_path):
    r = run("render", tmp_path / "nope.yaml")
    assert r.exit_code == 2


def test_templates_option_overrides_a_section(tmp_path):
    tpl = tmp_path / "tpl" / "sections"
    tpl.mkdir(parents=True)
    (tpl / "summary.md.j2").write_text("Our own summary.\n")
    r = run("render", CC, "--format", "markdown", "--templates", tmp_path / "tpl")
    assert r.exit_code == 0, r.stderr
    assert "Our own summary." in r.stdout and "## Steps" in r.stdout


def test_templates_from_pyproject(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.flowdoc]\ntemplates = "my-templates"\n')
    (tmp_path / "my-templates").mkdir()
    (tmp_path / "my-templates" / "page.md.j2").write_text(
        '{% extends "flowdoc/page.md.j2" %}{% block title %}# Custom: {{ page.title|md }}{% endblock %}'
    )
    monkeypatch.chdir(tmp_path)
    r = run("render", CC, "--format", "markdown")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("# Custom: Service-to-service calls")


def test_bad_user_template_is_a_clear_error(tmp_path):
    (tmp_path / "page.md.j2").write_text("{% if %}\n")
    r = run("render", CC, "--format", "markdown", "--templates", tmp_path)
    assert r.exit_code == 2
    assert "template error" in r.stderr and "page.md.j2" in r.stderr
    r = run("render", CC, "--format", "markdown", "--templates", tmp_path / "missing")
    assert r.exit_code == 2
