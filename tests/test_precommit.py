"""The developer loop: .pre-commit-hooks.yaml run by pre-commit itself (offline), the GitHub Actions
example under docs/ci/, and the published JSON Schema's stable $id."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from flowdoc.cli import cli
from flowdoc.model.flow import FORMAT_VERSION
from flowdoc.model.schema import SCHEMA_ID, flow_json_schema
from tests.helpers import git

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "docs" / "ci" / "github-actions.yml"
OFFLINE = "http://127.0.0.1:9"  # a closed port: any attempt to reach the network fails at once

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is needed")


@pytest.fixture
def project(tmp_path):
    """A hooks repository holding this worktree's .pre-commit-hooks.yaml, and a project using it."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    git(hooks, "init", "-q")
    shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks / ".pre-commit-hooks.yaml")
    git(hooks, "add", ".")
    git(hooks, "commit", "-q", "-m", "hooks")
    rev = git(hooks, "rev-parse", "HEAD")

    proj = tmp_path / "proj"
    (proj / "flows").mkdir(parents=True)
    git(proj, "init", "-q")
    shutil.copy(ROOT / "flows" / "client-credentials.yaml", proj / "flows" / "client-credentials.yaml")
    config = {"repos": [{"repo": str(hooks), "rev": rev, "hooks": [
        {"id": "flowdoc-validate"}, {"id": "flowdoc-lint"}, {"id": "flowdoc-check", "args": ["--merge-base", "main"]},
    ]}]}
    (proj / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(proj, "add", ".")
    git(proj, "commit", "-q", "-m", "first flow")
    git(proj, "checkout", "-q", "-b", "work")

    # `flowdoc` on PATH runs this worktree's code (as `pip install flowdoc` would provide it)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "flowdoc"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m flowdoc \"$@\"\n")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never",
           "http_proxy": OFFLINE, "https_proxy": OFFLINE, "HTTP_PROXY": OFFLINE, "HTTPS_PROXY": OFFLINE,
           "ALL_PROXY": OFFLINE, "no_proxy": "", "NO_PROXY": "", "PIP_NO_INDEX": "1", "GIT_ALLOW_PROTOCOL": "file"}
    return proj, env


def pre_commit(proj, env):
    r = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=proj, env=env,
                       capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


def status(output: str, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}\.+(Passed|Failed|Skipped)", output, re.M)
    assert m, output
    return m.group(1)


def test_good_flows_pass_every_hook_offline(project):
    proj, env = project
    rc, out = pre_commit(proj, env)
    assert rc == 0, out
    assert status(out, "flowdoc validate") == "Passed"
    assert status(out, "flowdoc lint") == "Passed"
    assert status(out, "flowdoc check (versioned since the merge base)") == "Passed"


def test_invalid_flow_fails_validate_with_its_line(project):
    proj, env = project
    bad = (proj / "flows" / "client-credentials.yaml").read_text().replace("      method: POST", "      methd: POST", 1)
    (proj / "flows" / "broken.yaml").write_text(bad.replace("id: client-credentials", "id: broken", 1))
    git(proj, "add", ".")
    rc, out = pre_commit(proj, env)
    assert rc == 1, out
    assert status(out, "flowdoc validate") == "Failed"
    assert re.search(r"flows/broken\.yaml:\d+:\d+: error\[unknown-key\]: unknown key 'methd'", out), out


def test_lint_finding_fails_the_lint_hook(project):
    proj, env = project
    f = proj / "flows" / "client-credentials.yaml"
    f.write_text(f.read_text().replace("title: Call the API with the cached bearer token", "title: Send request"))
    git(proj, "add", ".")
    rc, out = pre_commit(proj, env)
    assert rc == 1
    assert status(out, "flowdoc validate") == "Passed" and status(out, "flowdoc lint") == "Failed"
    assert "warning[vague-label]" in out


def test_change_without_version_bump_fails_check_against_the_merge_base(project):
    proj, env = project
    f = proj / "flows" / "client-credentials.yaml"
    f.write_text(f.read_text().replace("response: {status: 400, error: invalid_scope}",
                                       "response: {status: 403, error: invalid_scope}"))
    git(proj, "add", ".")
    git(proj, "commit", "-q", "-m", "change on the branch")  # committed: HEAD differs from main now
    rc, out = pre_commit(proj, env)
    assert rc == 1, out
    assert status(out, "flowdoc check (versioned since the merge base)") == "Failed"
    assert "error[" in out and "version" in out
    assert re.search(r"against the merge base with main \([0-9a-f]{12}\)", out), out


def test_manifest_hooks_run_the_installed_flowdoc():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["flowdoc-validate", "flowdoc-lint", "flowdoc-check"]
    for h in hooks:
        assert h["language"] == "system" and h["entry"].startswith("flowdoc ")
        assert re.match(h["files"], "flows/a.yaml") and not re.match(h["files"], "mkdocs.yml")
        assert_parses(h["entry"].split()[1:] + h.get("args", []) + ["flows/a.yaml"])


# ---------------------------------------------------------------- the GitHub Actions example


def assert_parses(argv: list[str]) -> None:
    """Parse a flowdoc command line with the CLI's own options (click), without running it."""
    name, rest = argv[0], argv[1:]
    ctx = click.Context(cli, info_name="flowdoc")
    command = cli.get_command(ctx, name)
    assert command is not None, f"unknown command {name}"
    try:
        command.make_context(name, list(rest), parent=ctx, resilient_parsing=False)
    except click.exceptions.Exit:
        pass
    except click.UsageError as exc:
        raise AssertionError(f"flowdoc {' '.join(argv)}: {exc.format_message()}") from None


def _flowdoc_lines(script: str) -> list[list[str]]:
    script = re.sub(r"\\\n\s*", " ", script)
    script = re.sub(r"\$\{\{[^}]*\}\}", "EXPR", script)  # GitHub expressions become one word
    out = []
    for line in script.splitlines():
        line = line.strip()
        if line.startswith("flowdoc "):
            out.append(shlex.split(line.split(" | ")[0].split(" && ")[0], comments=True)[1:])
    return out


def test_workflow_example_is_complete_and_every_flowdoc_line_parses():
    wf = yaml.safe_load(WORKFLOW.read_text())
    on = wf.get("on", wf.get(True))  # PyYAML reads the key `on` as true (YAML 1.1)
    assert {"pull_request", "push"} <= set(on)
    jobs = wf["jobs"]
    assert {"docs", "verify-staging", "deploy"} <= set(jobs)
    for job in jobs.values():
        assert job["runs-on"] and job["steps"]
    runs = [s["run"] for job in jobs.values() for s in job["steps"] if "run" in s]
    lines = [line for script in runs for line in _flowdoc_lines(script)]
    commands = [argv[0] for argv in lines]
    for needed in ("validate", "lint", "check", "verify", "build"):
        assert needed in commands, commands
    for argv in lines:
        assert_parses(argv)
    text = WORKFLOW.read_text()
    assert "--format github" in text and "fetch-depth: 0" in text
    assert "actions/deploy-pages" in text and "secrets.STAGING_CLIENT_SECRET" in text
    assert "--openapi" in text


def test_line_check_catches_a_bad_option():
    with pytest.raises(AssertionError, match="No such option"):
        assert_parses(["lint", "--formt", "github"])
    with pytest.raises(AssertionError, match="unknown command"):
        assert_parses(["publish"])


# ---------------------------------------------------------------- the published schema


def test_schema_has_a_stable_versioned_id():
    assert SCHEMA_ID == f"https://flowdoc.dev/schema/flow-{FORMAT_VERSION}.json"
    committed = json.loads((ROOT / "flowdoc" / "data" / "flow.schema.json").read_text())
    assert committed["$id"] == SCHEMA_ID == flow_json_schema()["$id"]
