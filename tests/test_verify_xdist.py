"""The pytest plugin under pytest-xdist: ``pytest -n 2 --flowdoc-...`` spreads the scenarios over
two workers, and ``--flowdoc-report-json`` is one report, merged by the controller, the same as
``flowdoc verify --report-json`` gives for the same flows (against the real OIDC test server)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import FLOWS, ROOT, run_verify
from tests.support.verify_inputs import secrets_of, verify_inputs

pytestmark = pytest.mark.node


def _pytest_env() -> dict[str, str]:
    """The environment of the pytest run under test: this checkout's flowdoc, none of our FLOWDOC_*."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDOC_")}
    e.update({"PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    return e


def _summary(report: dict) -> tuple[dict, dict]:
    statuses = {s["id"]: s["status"] for f in report["flows"] for s in f["scenarios"]}
    coverage = {f["key"]: (f["coverage"]["transitions"], f["coverage"]["failures"]) for f in report["flows"]}
    return statuses, coverage


def test_the_plugin_under_xdist_merges_one_report(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("client-credentials.yaml", "authorization-code-pkce.yaml"):
        shutil.copy(FLOWS / name, flows / name)
    text = (flows / "client-credentials.yaml").read_text()  # one scenario fails: its result travels too
    (flows / "client-credentials.yaml").write_text(
        text.replace("response: {status: 400, error: invalid_scope}", "response: {status: 418, error: invalid_scope}"))
    inputs = [a.replace("--input", "--flowdoc-input") for a in cli]
    merged, xml = tmp_path / "merged.json", tmp_path / "junit.xml"
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:flowdoc",
            "-p", "flowdoc.verify.pytest_plugin", "-n", "2", "-v", "--flowdoc-base-url", srv.issuer,
            "--flowdoc-flows", str(flows), "--flowdoc-env-file", str(tmp_path / "s.env"), *inputs,
            "--flowdoc-report-json", str(merged), f"--junitxml={xml}", "--rootdir", str(tmp_path)]
    proc = subprocess.run(args, cwd=tmp_path, env=_pytest_env(), capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"\b1 failed, \d+ passed", out), out
    assert re.search(r"\[gw0\].*PASSED", out) and re.search(r"\[gw1\].*PASSED", out), "not spread over 2 workers"

    single = tmp_path / "single.json"
    ref = run_verify(["-q", str(flows), *cli, "--env-file", str(tmp_path / "s.env"), "--report-json", str(single)],
                     cwd=tmp_path, timeout=300)
    assert ref.returncode == 1, ref.stdout + ref.stderr
    got, want = json.loads(merged.read_text()), json.loads(single.read_text())
    assert _summary(got) == _summary(want)
    assert got["summary"] == want["summary"] and got["exit_code"] == want["exit_code"] == 1
    failed = [s for f in got["flows"] for s in f["scenarios"] if s["status"] == "failed"]
    assert [s["id"] for s in failed] == ["client-credentials/bad_scope"]
    assert failed[0]["failure"]["checks"][0]["expected"] == "418" and failed[0]["steps"]
    names = {c.get("name") for c in ET.parse(xml).getroot().iter("testcase")}
    assert {"happy-path", "bad_secret", "bad_scope", "code_reused"} <= names
    for value in secrets_of(srv).values():
        for where in (out, merged.read_text(), xml.read_text()):
            assert value not in where
