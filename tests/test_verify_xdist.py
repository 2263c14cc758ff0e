"""The pytest plugin under pytest-xdist: ``pytest -n 2 --flowdoc-...`` spreads the scenarios over
two workers; ``--flowdoc-report-json`` is one report, merged by the controller, the same as
``flowdoc verify --report-json`` gives for the same flows, and ``--flowdoc-proof DIR`` holds one
proof file per flow and version with the scenarios of both workers, the same file a single
process writes (against the real OIDC test server)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from flowdoc.proofs import load_proof
from tests.helpers import FLOWS, ROOT, run_verify
from tests.support.verify_inputs import secrets_of, verify_inputs

pytestmark = pytest.mark.node


def _pytest_env() -> dict[str, str]:
    """The environment of the pytest run under test: this checkout's flowdoc, none of our FLOWDOC_*."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDOC_")}
    e.update({"PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    return e


JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")


def _flows(tmp_path: Path, *names: str) -> Path:
    """A flows folder with copies of the example flows ``names``; client-credentials' bad_scope
    made to fail (a failed scenario's result and proof travel too)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in names:
        shutil.copy(FLOWS / name, flows / name)
    cc = flows / "client-credentials.yaml"
    if cc.exists():
        cc.write_text(cc.read_text().replace("response: {status: 400, error: invalid_scope}",
                                             "response: {status: 418, error: invalid_scope}"))
    return flows


def _plugin_run(srv, tmp_path: Path, flows: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` with the plugin (and no other flowdoc) against ``srv``, as a user runs it."""
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    inputs = [a.replace("--input", "--flowdoc-input") for a in cli]
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:flowdoc",
            "-p", "flowdoc.verify.pytest_plugin", "-v", "--flowdoc-base-url", srv.issuer,
            "--flowdoc-flows", str(flows), "--flowdoc-env-file", str(tmp_path / "s.env"), *inputs,
            "--rootdir", str(tmp_path), *extra]
    return subprocess.run(args, cwd=tmp_path, env=_pytest_env(), capture_output=True, text=True, timeout=300)


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


def _workers_of(out: str) -> dict[str, set[str]]:
    """flow item (``flowdoc::FLOW@VERSION``) -> the workers that ran its scenarios, from ``-v`` lines."""
    found: dict[str, set[str]] = {}
    for worker, flow in re.findall(r"\[(gw\d+)\][^\n]*?(?:PASSED|FAILED|SKIPPED) (flowdoc::[^:\s]+)::", out):
        found.setdefault(flow, set()).add(worker)
    return found


def load_proof_version(path: Path) -> str:
    return str(yaml.safe_load(path.read_text())["version"])


def _without_date(path: Path) -> dict:
    data = json.loads(path.read_text())
    data.pop("date")  # the day the run ended: the only part of a proof that may differ between two runs
    return data


def test_the_plugin_under_xdist_merges_the_proofs_of_a_flow_split_over_workers(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    flows = _flows(tmp_path, "client-credentials.yaml", "authorization-code-pkce.yaml")
    spread, single = tmp_path / "spread", tmp_path / "single"
    spread.mkdir()
    (spread / "other@1.0.0.proof.json").write_text("kept\n")  # a file of another flow: left as it is
    proc = _plugin_run(srv, tmp_path, flows, "-n", "2", "--flowdoc-proof", str(spread))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and re.search(r"\b1 failed, \d+ passed", out), out
    split = [flow for flow, workers in _workers_of(out).items() if workers == {"gw0", "gw1"}]
    assert split, f"no flow had its scenarios run by both workers:\n{out}"
    assert "flowdoc: 2 proof file(s) written to" in out, out

    ref = _plugin_run(srv, tmp_path, flows, "-p", "no:xdist", "--flowdoc-proof", str(single))
    assert ref.returncode == 1, ref.stdout + ref.stderr
    names = sorted(p.name for p in single.iterdir())
    assert len(names) == 2
    assert sorted(p.name for p in spread.iterdir()) == sorted([*names, "other@1.0.0.proof.json"])
    assert (spread / "other@1.0.0.proof.json").read_text() == "kept\n"
    for name in names:
        assert _without_date(spread / name) == _without_date(single / name), name
        proof = load_proof(spread / name)  # valid, and every scenario of the flow is in it
        assert proof.summary.scenarios == len(proof.scenarios) == len(load_proof(single / name).scenarios) >= 4
    for flow in split:
        (path,) = spread.glob(flow.removeprefix("flowdoc::") + "@*.proof.json")
        proof = load_proof(path)
        ran = re.findall(rf"(?:PASSED|FAILED|SKIPPED) {re.escape(flow)}::(\S+)", out)
        assert sorted(s.name for s in proof.scenarios) == sorted(set(ran))
    cc = load_proof(next(spread.glob("client-credentials@*.proof.json")))
    assert [s.status for s in cc.scenarios if s.name == "bad_scope"] == ["failed"]
    assert cc.summary.failed == 1 and cc.summary.passed == cc.summary.scenarios - 1
    texts = [p.read_text() for p in spread.glob("*@*.proof.json")]
    for value in secrets_of(srv).values():
        for text in [out, *texts]:
            assert value not in text
    assert not any(JWT.search(text) for text in texts)


CRASH_CONFTEST = '''\
import os


def pytest_runtest_teardown(item, nextitem):
    if item.name == "bad_secret" and os.environ.get("PYTEST_XDIST_WORKER"):
        os._exit(3)  # the worker dies after the scenario ran and reported: its proofs are never sent
'''


def test_a_worker_that_dies_leaves_the_proof_file_of_its_flow_as_it_was(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    flows = _flows(tmp_path, "client-credentials.yaml")
    (tmp_path / "conftest.py").write_text(CRASH_CONFTEST)
    proofs = tmp_path / "proofs"
    proofs.mkdir()
    name = f"client-credentials@{load_proof_version(flows / 'client-credentials.yaml')}.proof.json"
    (proofs / name).write_text("the proof of an earlier run\n")
    proc = _plugin_run(srv, tmp_path, flows, "-n", "2", "--flowdoc-proof", str(proofs))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"\[gw\d\] node down|crashed while running", out), out
    assert f"flowdoc: {name} not written: " in out and "ended without sending its proofs" in out, out
    assert (proofs / name).read_text() == "the proof of an earlier run\n"
    assert sorted(p.name for p in proofs.iterdir()) == [name] and "Traceback" not in out
