"""flowdoc verify --probe: each documented parameter and credential left out, one at a time, must
be refused; one the server does without is a warning ("documented as required; the server answered
200 without it"), a failure with --strict."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.support.verify_inputs import verify_inputs
from tests.helpers import FLOWS, run_verify

pytestmark = pytest.mark.node

AUDIENCE = ("        scope: ${inputs.scope}\n      optional: [scope]",
            "        scope: ${inputs.scope}\n        audience: ${inputs.resource_url}\n      optional: [scope]")


def _flow(tmp_path, *edits):
    text = (FLOWS / "client-credentials.yaml").read_text()
    for old, new in edits:
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path / "client-credentials.yaml"
    path.write_text(text)
    return path


def _probe(srv, tmp_path, path, *extra):
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    return run_verify([str(path), *cli, "--env-file", str(tmp_path / "s.env"), "--probe", "--jobs", "4", *extra])


def test_every_documented_parameter_of_the_example_is_required_or_marked_optional(oidc_server_verify, tmp_path):
    proc = _probe(oidc_server_verify, tmp_path, FLOWS / "client-credentials.yaml", "--strict",
                  "--report-json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    probes = [s for s in data["flows"][0]["scenarios"] if s["kind"] == "probe"]
    # grant_type, the Basic credentials, the bearer token; scope is optional (the server defaults it)
    assert sorted(s["name"] for s in probes) == ["probe:call_api:Authorization", "probe:request_token:Authorization",
                                                 "probe:request_token:grant_type"]
    refused = {s["name"]: [r["status"] for r in s["steps"] if r["role"].startswith("probe")] for s in probes}
    assert refused == {"probe:call_api:Authorization": [401], "probe:request_token:Authorization": [400],
                       "probe:request_token:grant_type": [400]}
    assert data["summary"]["warnings"] == 0 and data["options"]["probe"] is True


def test_a_parameter_the_server_ignores_is_a_warning_and_a_failure_with_strict(oidc_server_verify, tmp_path):
    path = _flow(tmp_path, AUDIENCE)
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    warned = _probe(oidc_server_verify, tmp_path, path, "--scenario", "probe:request_token:audience",
                    "--junit", str(junit), "--report-json", str(report))
    message = "step 'request_token': 'audience' is documented as required; the server answered 200 without it"
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert "warnings:\n  client-credentials: " + message in warned.stdout
    assert "1 scenario: 1 passed, 0 failed, 0 errors, 0 skipped, 1 warning" in warned.stdout
    assert "warning: " + message in warned.stderr  # the live progress line
    data = json.loads(report.read_text())
    assert data["flows"][0]["scenarios"][0]["warnings"] == [message] and data["summary"]["warnings"] == 1
    case = next(ET.parse(junit).getroot().iter("testcase"))
    assert case.find("failure") is None and ("warning: " + message) in case.find("system-out").text

    strict = _probe(oidc_server_verify, tmp_path, path, "--scenario", "probe:request_token:audience", "--strict")
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "FAILED client-credentials/probe:request_token:audience" in strict.stdout
    assert "step:     request_token (probe (without audience))" in strict.stdout
    assert "'audience' is documented as required; the server answered 200 without it" in strict.stdout


def test_without_optional_the_server_default_shows(oidc_server_verify, tmp_path):
    """The example marks scope optional because the server grants a default scope without it."""
    path = _flow(tmp_path, ("      optional: [scope]\n", ""))
    proc = _probe(oidc_server_verify, tmp_path, path, "--scenario", "probe:request_token:scope")
    assert proc.returncode == 0 and "'scope' is documented as required; the server answered 200 without it" in proc.stdout


def test_a_field_named_by_an_input_is_left_out_by_its_value(oidc_server_verify, tmp_path):
    """The login form's user-name field is ${inputs.login_field} (username here): the probe leaves
    out the field the request really sends, and the server refuses the login without it."""
    name = "probe:submit_credentials:${inputs.login_field}"
    proc = _probe(oidc_server_verify, tmp_path, FLOWS / "authorization-code-pkce.yaml", "--strict", "--scenario", name,
                  "--report-json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (scn,) = json.loads((tmp_path / "r.json").read_text())["flows"][0]["scenarios"]
    assert scn["name"] == name and scn["status"] == "passed"
    assert [(r["role"], r["status"]) for r in scn["steps"] if r["role"].startswith("probe")] == [
        ("probe (without ${inputs.login_field})", 401)]
