"""The flowdoc CLI: exit codes, formats, help, colour, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowdoc import __version__
from tests.helpers import run
from tests.flowkit import base, to_yaml

ROOT = Path(__file__).resolve().parent.parent



def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else to_yaml(data))
    return p


def test_version_and_help():
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output
    r = run("--help")
    assert r.exit_code == 0 and "Exit codes" in r.output
    for cmd in ("validate", "lint", "schema"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and "Usage" in r.output


def test_validate_examples_default_folder():
    r = run("validate")
    assert r.exit_code == 0, r.output
    n = len(list((ROOT / "flows").glob("*.yaml")))
    assert n >= 5 and r.stderr.strip().endswith(f"{n} files checked, no problems")


def test_validate_invalid_reports_position(tmp_path, base_flow):
    f = base_flow
    f["transitions"][0]["to"] = "dnoe"
    p = write(tmp_path, "bad.yaml", f)
    r = run("validate", str(p))
    assert r.exit_code == 2
    assert f"{p}:" in r.stdout and "error[undefined-state]" in r.stdout and "did you mean 'done'" in r.stdout
    assert "1 error in 1 of 1 file" in r.stderr


def test_validate_json_format(tmp_path):
    p = write(tmp_path, "bad.yaml", "id: x\nid: y\n")
    r = run("validate", "--format", "json", str(p))
    assert r.exit_code == 2
    data = json.loads(r.stdout)
    dup = next(d for d in data if d["code"] == "duplicate-key")
    assert (dup["file"], dup["line"], dup["col"]) == (str(p), 2, 1)


def test_validate_github_format(tmp_path):
    p = write(tmp_path, "bad.yaml", "id: x\nid: y\n")
    r = run("validate", "--format", "github", str(p))
    assert r.exit_code == 2
    line = next(ln for ln in r.stdout.splitlines() if "duplicate-key" in ln)
    assert line.startswith(f"::error file={p},line=2,col=1,title=duplicate-key::duplicate key 'id'")


def test_lint_exit_codes(tmp_path):
    clean = write(tmp_path, "clean.yaml", base())
    assert run("lint", str(clean)).exit_code == 0
    f = base()
    f.pop("summary")
    findings = write(tmp_path / "", "findings.yaml", f)
    r = run("lint", str(findings))
    assert r.exit_code == 1 and "warning[summary-present]" in r.stdout
    bad = write(tmp_path, "bad.yaml", "- not a flow\n")
    assert run("lint", str(bad)).exit_code == 2


def test_lint_list_rules():
    r = run("lint", "--list-rules")
    assert r.exit_code == 0 and "vague-label" in r.output


def test_lint_reads_pyproject(tmp_path, monkeypatch, base_flow):
    f = base_flow
    f.pop("summary")
    write(tmp_path, "f.yaml", f)
    (tmp_path / "pyproject.toml").write_text('[tool.flowdoc]\nflows = "."\n[tool.flowdoc.lint]\ndisable = ["summary-present"]\n')
    monkeypatch.chdir(tmp_path)
    r = run("lint")
    assert r.exit_code == 0, r.output


def test_bad_config_is_a_clean_error(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.flowdoc.lint]\ndisable = ["nope"]\n')
    monkeypatch.chdir(tmp_path)
    r = run("lint")
    assert r.exit_code == 2 and "unknown lint rule 'nope'" in r.stderr


def test_missing_path_and_empty_folder(tmp_path):
    r = run("validate", str(tmp_path / "nothing.yaml"))
    assert r.exit_code == 2 and "no such file" in r.stdout
    r = run("validate", str(tmp_path))
    assert r.exit_code == 2 and "no flow files" in r.stdout


def test_schema_to_file(tmp_path):
    out = tmp_path / "s.json"
    r = run("schema", "-o", str(out))
    assert r.exit_code == 0
    assert json.loads(out.read_text())["title"] == "flowdoc flow"


def test_no_color_and_force_color(tmp_path):
    p = write(tmp_path, "bad.yaml", "id: x\nid: y\n")
    r = run("validate", str(p), env={"FORCE_COLOR": "1"})
    assert "\x1b[" in r.stdout
    r = run("validate", str(p), env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in r.stdout


@pytest.mark.parametrize("data", [b"\x00\x01binary", b"\xff\xfe\x00x", b"id: [unclosed\n", b"", b"- a\n"])
def test_console_script_never_tracebacks(tmp_path, data):
    p = tmp_path / "x.yaml"
    p.write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "flowdoc", "validate", str(p)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{p}" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["build", "--flows", "{missing}"],
        ["serve", "--flows", "{missing}", "--port", "0"],
        ["validate", "{missing}"],
        ["lint", "{missing}"],
        ["render", "{missing}/x.yaml"],
        ["verify", "{missing}"],
        ["diff", "{missing}/a.yaml", "{missing}/b.yaml"],
    ],
    ids=lambda a: a[0],
)
def test_missing_flows_is_a_usage_error_everywhere(tmp_path, args):
    missing = str(tmp_path / "nothing-here")
    proc = subprocess.run([sys.executable, "-m", "flowdoc", *[a.format(missing=missing) for a in args]],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "nothing-here" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
