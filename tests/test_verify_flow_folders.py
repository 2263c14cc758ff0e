"""`flowdoc verify` of a lone flow whose `requires` lives in another folder: the plan finds the
required flow where validate finds it (the flows given, beside the file, [tool.flowdoc] flows,
flow_folders), and the run signs in with it first, against the real OIDC test server."""

from __future__ import annotations

import json
import shutil

import pytest

from flowdoc.verify import Verifier, VerifyError, VerifyOptions, load_flows
from tests.helpers import FLOWS, run_verify
from tests.support.verify_inputs import verify_inputs

ALONE = "flows/refresh/silent-refresh-rotation.yaml"


@pytest.fixture
def project(tmp_path):
    """flows/refresh/ holds the refresh flow; the sign-in flow it requires is in shared/ (a flow folder)."""
    (tmp_path / "flows" / "refresh").mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    shutil.copy(FLOWS / "silent-refresh-rotation.yaml", tmp_path / "flows" / "refresh")
    shutil.copy(FLOWS / "authorization-code-pkce.yaml", tmp_path / "shared")
    (tmp_path / "pyproject.toml").write_text('[tool.flowdoc]\nflows = "flows"\nflow_folders = ["shared"]\n')
    return tmp_path


def test_the_plan_finds_a_requirement_in_the_flow_folders(project):
    flows = load_flows([project / ALONE], search=[project / "flows", project / "shared"])
    with Verifier(VerifyOptions(flow_folders=[str(project / "shared")])) as v:
        happy = next(s for s in v.plan(flows) if s.id == "silent-refresh-rotation/happy-path")
    assert [(name, rf.id) for name, _req, rf in happy.requirements] == [("signin", "authorization-code-pkce")]
    with Verifier(VerifyOptions()) as v, pytest.raises(VerifyError, match="configured flow folders"):
        v.plan(flows)  # not beside the file, and no flow folders: the plan says where it looked


def test_verify_list_of_a_lone_flow(project):
    r = run_verify([ALONE, "--list"], cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "silent-refresh-rotation/happy-path\thappy" in r.stdout
    (project / "pyproject.toml").write_text('[tool.flowdoc]\nflows = "flows"\n')
    r = run_verify([ALONE, "--list"], cwd=project)  # validate refuses it before any plan, at FILE:LINE:COL
    assert r.returncode == 2 and f"{ALONE}:" in r.stdout and "error[undefined-flow]" in r.stdout
    assert "Traceback" not in r.stderr


@pytest.mark.node
def test_verify_of_a_lone_flow_signs_in_with_the_required_flow(project, oidc_server_verify):
    cli, env_text = verify_inputs(oidc_server_verify)
    (project / "s.env").write_text(env_text)
    r = run_verify([ALONE, *cli, "--env-file", "s.env", "--scenario", "silent-refresh-rotation/happy-path",
                    "--report-json", "r.json"], cwd=project)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    data = json.loads((project / "r.json").read_text())
    [flow] = data["flows"]
    [happy] = flow["scenarios"]
    assert happy["status"] == "passed"
    roles = [(s["role"], s["transition"]) for s in happy["steps"]]
    assert roles[0] == ("requires signin", "start")
    assert ("requires signin", "exchange_code") in roles
