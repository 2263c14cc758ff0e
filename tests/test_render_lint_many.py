"""`flowdoc render` and `flowdoc lint` take several flows (files and folders), and a flow whose
`requires` lives in another folder is linted and rendered alone: requirements are looked for in
the configured flow folders ([tool.flowdoc] flows and flow_folders)."""

from __future__ import annotations

import json
import shutil

import pytest
from flowdoc.catalog import FlowSet
from tests.helpers import FLOWS, run





@pytest.fixture
def project(tmp_path, monkeypatch):
    """flows/signin/ holds the sign-in flow, flows/refresh/ the flow that requires it."""
    (tmp_path / "flows" / "signin").mkdir(parents=True)
    (tmp_path / "flows" / "refresh").mkdir()
    shutil.copy(FLOWS / "authorization-code-pkce.yaml", tmp_path / "flows" / "signin")
    shutil.copy(FLOWS / "silent-refresh-rotation.yaml", tmp_path / "flows" / "refresh")
    (tmp_path / "pyproject.toml").write_text('[tool.flowdoc]\nflows = "flows"\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_required_flow_in_another_folder_is_found_in_the_flows_folder(project):
    alone = "flows/refresh/silent-refresh-rotation.yaml"
    assert [d.code for d in FlowSet.from_paths([alone]).errors] == ["undefined-flow"]  # beside it: nothing
    r = run("lint", alone)
    assert r.exit_code == 0, r.output
    r = run("render", alone, "--format", "markdown")
    assert r.exit_code == 0, r.output
    assert "authorization-code-pkce" in r.stdout  # the page links the flow it requires


def test_flow_folders_outside_the_flows_folder(project):
    shared = project / "shared"
    shutil.move(str(project / "flows" / "signin"), shared)
    alone = "flows/refresh/silent-refresh-rotation.yaml"
    r = run("validate", alone)
    assert r.exit_code == 2 and "error[undefined-flow]" in r.stdout
    (project / "pyproject.toml").write_text('[tool.flowdoc]\nflows = "flows"\nflow_folders = ["shared"]\n')
    for cmd in ("validate", "lint", "render"):
        r = run(cmd, alone)
        assert r.exit_code == 0, (cmd, r.output)


def test_render_takes_several_flows_and_folders(project, tmp_path):
    a, b = "flows/signin/authorization-code-pkce.yaml", "flows/refresh"
    r = run("render", a, b)
    assert r.exit_code == 0, r.output
    heads = [line for line in r.stdout.splitlines() if line.startswith("%% ")]
    assert heads == [f"%% {a}", "%% flows/refresh/silent-refresh-rotation.yaml"]
    assert r.stdout.count("sequenceDiagram") == 2
    out = tmp_path / "out"
    r = run("render", a, b, "--view", "state", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["authorization-code-pkce.state.mmd",
                                                     "silent-refresh-rotation.state.mmd"]
    assert (out / "authorization-code-pkce.state.mmd").read_text().startswith("stateDiagram-v2")
    r = run("render", "flows", "--format", "markdown", "-o", str(tmp_path / "pages"))
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == ["authorization-code-pkce.md",
                                                                      "silent-refresh-rotation.md"]


def test_one_invalid_flow_renders_nothing(project, tmp_path):
    bad = project / "flows" / "refresh" / "broken.yaml"
    bad.write_text("id: broken\ntitle: Broken\nactors: {}\n")
    out = tmp_path / "out"
    r = run("render", "flows", "-o", str(out))
    assert r.exit_code == 2
    assert "flows/refresh/broken.yaml:" in r.stderr and "nothing was rendered" in r.stderr
    assert not out.exists()


def test_several_flows_to_one_file_or_as_svg_to_stdout_are_refused(project, tmp_path):
    f = tmp_path / "one.md"
    f.write_text("mine")
    r = run("render", "flows", "-o", str(f))
    assert r.exit_code == 2 and "this is a file" in r.stderr
    assert f.read_text() == "mine"
    r = run("render", "flows", "--format", "svg")
    assert r.exit_code == 2 and "need -o FOLDER" in r.stderr


def test_lint_takes_several_flows_and_reports_each(project):
    r = run("lint", "--format", "json", "flows/signin", "flows/refresh/silent-refresh-rotation.yaml")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == []
