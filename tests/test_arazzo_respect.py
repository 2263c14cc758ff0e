"""The Arazzo exports run green with Redocly Respect (@redocly/cli, pinned in tests/node) against the
project's real oidc-provider test server on 127.0.0.1, and a changed expectation makes Respect fail.

Respect runs with telemetry, update checks and notifications off, under tests/node/loopback_only.cjs
(every connection to anything but loopback is refused before a packet is sent); secrets go in by
environment (REDOCLY_CLI_RESPECT_INPUT), never on the command line, and never come out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.mermaid import NODE_DIR, ensure_node_modules, node_executable
from tests.support.oidc import start_oidc_server
from tests.support.oidc_browser import authorize, exchange_code
from tests.support.verify_inputs import random_server_env, secrets_of
from tests.helpers import FLOWS, run_flowdoc

pytestmark = pytest.mark.node

REDOCLY = NODE_DIR / "node_modules" / "@redocly" / "cli" / "bin" / "cli.js"
GUARD = NODE_DIR / "loopback_only.cjs"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


@pytest.fixture(scope="module")
def server():
    ensure_node_modules("@redocly/cli", "oidc-provider")
    handle = start_oidc_server(env=random_server_env())
    try:
        yield handle
    finally:
        handle.stop()


def respect(file: Path, servers: dict[str, str], inputs: dict, *, workflows: list[str] | None = None,
            timeout: float = 180) -> tuple[subprocess.CompletedProcess, dict]:
    """Run ``redocly respect FILE`` with the installed CLI; return the process and its JSON log."""
    report = file.parent / f"{file.stem}.respect.json"
    report.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWDOC_", "REDOCLY_"))}
    env.update({"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
                "REDOCLY_SUPPRESS_NOTIFICATIONS": "true", "NO_COLOR": "1",
                "REDOCLY_CLI_RESPECT_INPUT": json.dumps(inputs)})
    cmd = [node_executable(), "--require", str(GUARD), str(REDOCLY), "respect", file.name,
           "--json-output", report.name, "--max-fetch-timeout", "10000"]
    for name, url in servers.items():
        cmd += ["--server", f"{name}={url}"]
    if workflows:
        cmd += ["--workflow", *workflows]
    proc = subprocess.run(cmd, cwd=file.parent, env=env, capture_output=True, text=True, timeout=timeout)
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc, data


def results(data: dict) -> dict[str, str]:
    """workflowId → Respect's verdict for it."""
    out = {}
    for f in data.get("files", {}).values():
        for wf in f.get("executedWorkflows", []):
            steps = wf.get("executedSteps", [])
            ok = steps and all(all(c.get("passed") for c in s.get("checks", [])) for s in steps)
            out[wf["workflowId"]] = "passed" if ok else "failed"
    return out


def export(tmp: Path, fid: str) -> Path:
    out = tmp / f"{fid}.arazzo.yaml"
    proc = run_flowdoc("export", "arazzo", str(FLOWS / f"{fid}.yaml"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def assert_no_secret(srv, *texts: str) -> None:
    for what, value in secrets_of(srv).items():
        for text in texts:
            assert value not in text, f"{what} leaked"
    for text in texts:
        assert not JWT.search(text), "a token leaked"


def test_redocly_cli_is_the_pinned_version():
    pkg = json.loads((NODE_DIR / "node_modules/@redocly/cli/package.json").read_text())
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    assert pkg["version"] == lock["packages"]["node_modules/@redocly/cli"]["version"] == \
        json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["@redocly/cli"]


@pytest.mark.parametrize("host", ["192.0.2.1", "flowdoc.example.invalid"])
def test_the_loopback_guard_refuses_other_hosts(host):
    script = f"fetch('http://{host}:8080/').then(() => console.log('SENT'), (e) => console.log(e.cause?.message))"
    proc = subprocess.run([node_executable(), "--require", str(GUARD), "-e", script], capture_output=True,
                          text=True, timeout=30)
    assert f"loopback_only: connection to {host} refused" in proc.stdout, proc.stdout + proc.stderr


def test_client_credentials_runs_green(server, tmp_path):
    arazzo = export(tmp_path, "client-credentials")
    inputs = {"client_id": "flowdoc-service", "client_secret": server.secrets["flowdoc-service"]}
    proc, data = respect(arazzo, {"auth": server.issuer, "api": server.resource}, inputs)
    verdicts = results(data)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert verdicts == {w: "passed" for w in
                        ("happy-path", "bad_secret", "unknown_client", "bad_scope", "missing_token")}
    assert data["status"] == "success"
    assert_no_secret(server, proc.stdout, proc.stderr, json.dumps(data))


def test_gateway_login_runs_what_arazzo_can_express(server, tmp_path):
    arazzo = export(tmp_path, "gateway-login")
    proc, data = respect(arazzo, {"gateway": server.gateway}, {})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert results(data) == {"no_session": "passed"}


def _signin(server) -> dict:
    alice = server.users["alice"]["password"]
    return exchange_code(server, authorize(server, "alice", alice))


@pytest.mark.parametrize("workflow", ["happy-path", "rotated_token_replayed", "refresh_bad_client"])
def test_silent_refresh_runs_green_with_fresh_sign_in_values(server, tmp_path, workflow):
    """Each workflow spends the refresh token it is given: each run gets a fresh sign-in."""
    arazzo = export(tmp_path, "silent-refresh-rotation")
    tokens = _signin(server)
    inputs = {"client_id": "flowdoc-web", "client_secret": server.secrets["flowdoc-web"],
              "signin_refresh_token": tokens["refresh_token"], "signin_access_token": tokens["access_token"]}
    proc, data = respect(arazzo, {"auth": server.issuer, "api": server.resource}, inputs, workflows=[workflow])
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert results(data) == {workflow: "passed"}
    assert_no_secret(server, proc.stdout, proc.stderr)
    assert tokens["refresh_token"] not in proc.stdout + proc.stderr + json.dumps(data)


@pytest.mark.parametrize("edit, failing", [
    # the documented error code changes: the failure branch must fail
    (lambda d: _criterion(d, "bad_secret", "^invalid_client$", "^invalid_grant$"), "bad_secret"),
    # case matters: token_type 'Bearer' is not 'bearer'
    (lambda d: _criterion(d, "happy-path", "^Bearer$", "^bearer$"), "happy-path"),
    # a status the server does not answer
    (lambda d: _criterion(d, "bad_scope", "$statusCode == 400", "$statusCode == 401"), "bad_scope"),
], ids=["error-code", "case", "status"])
def test_a_changed_expectation_fails_the_run(server, tmp_path, edit, failing):
    arazzo = export(tmp_path, "client-credentials")
    doc = yaml.safe_load(arazzo.read_text())
    edit(doc)
    arazzo.write_text(yaml.safe_dump(doc, sort_keys=False))
    inputs = {"client_id": "flowdoc-service", "client_secret": server.secrets["flowdoc-service"]}
    proc, data = respect(arazzo, {"auth": server.issuer, "api": server.resource}, inputs, workflows=[failing])
    assert proc.returncode != 0
    assert results(data) == {failing: "failed"}


def _criterion(doc: dict, workflow: str, old: str, new: str) -> None:
    wf = next(w for w in doc["workflows"] if w["workflowId"] == workflow)
    for step in wf["steps"]:
        for c in step.get("successCriteria", []):
            if c["condition"] == old:
                c["condition"] = new
                return
    raise AssertionError(f"no criterion {old} in {workflow}")
