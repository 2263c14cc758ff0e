"""flowdoc verify against the real OIDC test server (tests/node/oidc_server.mjs): the example flows,
a broken copy, versions, redaction of every output, and the pytest plugin."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from flowdoc import load_flow
from tests.helpers import FLOWS, ROOT, run_verify
from tests.support.verify_inputs import secrets_of, verify_inputs

pytestmark = pytest.mark.node



def _versions_on_disk() -> dict[str, list[str]]:
    """Each example flow id with the versions of its files, oldest first (read from the files)."""
    out: dict[str, list[str]] = {}
    for p in FLOWS.glob("*.yaml"):
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        out.setdefault(doc["id"], []).append(str(doc["version"]))
    # the examples' versions are MAJOR.MINOR.PATCH without pre-releases
    return {fid: sorted(vs, key=lambda v: tuple(int(x) for x in v.split("."))) for fid, vs in sorted(out.items())}


VERSIONS = _versions_on_disk()
EXAMPLES = sorted(VERSIONS)


@pytest.fixture(scope="module")
def full_run(oidc_server_verify, tmp_path_factory):
    """One run of every example flow (latest versions), with JUnit and JSON reports."""
    srv = oidc_server_verify
    out = tmp_path_factory.mktemp("verify")
    cli, env_text = verify_inputs(srv)
    env_file = out / "secrets.env"
    env_file.write_text(env_text)
    junit, report = out / "junit.xml", out / "report.json"
    proc = run_verify([str(FLOWS), *cli, "--env-file", str(env_file), "--junit", str(junit),
                       "--report-json", str(report), "--jobs", "6", "--timeout", "10"])
    return srv, proc, junit, report


def test_every_example_flow_verifies_with_full_coverage(full_run):
    srv, proc, junit, report = full_run
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["exit_code"] == 0
    flows = {f["id"]: f for f in data["flows"]}
    assert sorted(flows) == EXAMPLES
    for fid, f in flows.items():
        cov = f["coverage"]
        assert cov["transitions"]["percent"] == 100.0, (fid, cov)
        assert cov["failures"]["percent"] == 100.0, (fid, cov)
        assert cov["transitions"]["missed"] == [] and cov["failures"]["missed"] == []
        assert all(s["status"] == "passed" for s in f["scenarios"])
    # only the latest version of each flow, where older versions are beside it
    assert any(len(vs) > 1 for vs in VERSIONS.values())
    assert {fid: f["version"] for fid, f in flows.items()} == {fid: vs[-1] for fid, vs in VERSIONS.items()}
    # the refresh race ran both calls, and silent refresh signed in first
    happy = next(s for s in flows["silent-refresh-rotation"]["scenarios"] if s["name"] == "happy-path")
    roles = [(r["role"], r["transition"]) for r in happy["steps"]]
    assert roles[0] == ("requires signin", "start")
    assert {t for r, t in roles if "parallel" in r} == {"call_orders", "call_profile"}
    # the gateway exchange is internal: run past, and counted apart as unobservable (not in the 100 %)
    gw = next(s for s in flows["gateway-login"]["scenarios"] if s["name"] == "happy-path")
    assert any(r["transition"] == "gateway_exchange" and r["outcome"] == "internal" for r in gw["steps"])
    gcov = flows["gateway-login"]["coverage"]
    assert gcov["transitions"]["declared"] == 9 and gcov["transitions"]["observable"] == 8
    assert gcov["transitions"]["exercised"] == 8
    assert [u["id"] for u in gcov["transitions"]["unobservable"]] == ["gateway_exchange"]
    assert "internal" in gcov["transitions"]["unobservable"][0]["reason"]
    # statements the server shows were proven; the others are listed apart, each with why
    for fid, f in flows.items():
        results = {e["id"]: e for e in f["coverage"]["elements"]}
        assert f["coverage"]["statements"]["percent"] == 100.0, (fid, f["coverage"]["statements"])
        assert all(e["result"] in ("proven", "unobservable") for e in results.values()), fid
        assert all(e["reason"] for e in results.values() if e["result"] == "unobservable"), fid
    proven = {(fid, e["id"]) for fid, f in flows.items() for e in f["coverage"]["elements"] if e["result"] == "proven"}
    assert {("client-credentials", "lifecycle:access_token.ttl"), ("client-credentials", "lifecycle:access_token.format"),
            ("authorization-code-pkce", "lifecycle:id_token.ttl"), ("authorization-code-pkce", "lifecycle:refresh_token.format"),
            ("authorization-code-pkce", "lifecycle:authorization_code.single_use"),
            ("silent-refresh-rotation", "lifecycle:refresh_token.rotates"),
            ("gateway-login", "key_params:authorize"), ("gateway-login", "key_params:callback"),
            ("mfa-step-up", "state:submit_otp/wrong_otp"), ("client-credentials", "troubleshooting:0")} <= proven
    # the consent denied branch: the deny posted to the consent page, the browser followed the server's
    # redirect back through /auth, and the last answer is the redirect to the callback where
    # error=access_denied shows (the flow follows same-origin redirects: no through needed)
    denied = next(s for s in flows["authorization-code-pkce"]["scenarios"] if s["name"] == "access_denied")
    assert [(r["role"], r["transition"], r["status"]) for r in denied["steps"][-1:]] == [
        ("provoke", "give_consent", 303)]
    assert denied["steps"][-1]["url"].endswith("/confirm")
    # a failure branch checks the state it leads to
    wrong = next(s for s in flows["authorization-code-pkce"]["scenarios"] if s["name"] == "wrong_password")
    assert [r["status"] for r in wrong["steps"] if r["transition"] == "submit_credentials"] == [401, 200]
    lock = next(s for s in flows["mfa-step-up"]["scenarios"] if s["name"] == "otp_lockout")
    assert [r["status"] for r in lock["steps"] if r["transition"] == "submit_otp"] == [401, 401, 403]
    # the device flow polls: the first poll right after the device code (pending), then after the user's
    # approval a slow_down, and the tokens at the poll after that; the intermediate answers are proven
    dev = next(s for s in flows["device-authorization"]["scenarios"] if s["name"] == "happy-path")
    polls = [(r["role"], r["status"], r["note"]) for r in dev["steps"] if r["transition"] == "poll_tokens"]
    assert [(role, status) for role, status, _n in polls] == [
        ("step (first poll)", 400), ("step (poll 2)", 400), ("step (poll 3)", 200)], polls
    assert polls[0][2].startswith("authorization_pending") and polls[1][2] == "slow_down: poll again in 6 s"
    assert [r["transition"] for r in dev["steps"]][:2] == ["request_codes", "poll_tokens"]
    assert {("device-authorization", "poll:poll_tokens/authorization_pending"),
            ("device-authorization", "poll:poll_tokens/slow_down")} <= proven
    # the denial and the expiry end the polling as the failure branches document
    for name in ("access_denied", "expired_token"):
        scn = next(s for s in flows["device-authorization"]["scenarios"] if s["name"] == name)
        assert scn["steps"][-1]["transition"] == "poll_tokens" and scn["steps"][-1]["status"] == 400, (name, scn)
    # introspection: active, revoked, then active false; wrong clients are refused
    intro = {s["name"]: s for s in flows["token-introspection-revocation"]["scenarios"]}
    assert set(intro) == {"happy-path", "bad_secret", "wrong_client", "revoke_bad_secret",
                          "unauthenticated_after_revocation"}
    assert [r["transition"] for r in intro["happy-path"]["steps"]] == [
        "get_token", "introspect_active", "revoke", "introspect_revoked"]
    assert all(r["url"].startswith(srv.issuer + "/token") for r in intro["happy-path"]["steps"])


def test_junit_lists_each_scenario(full_run):
    _srv, proc, junit, report = full_run
    root = ET.parse(junit).getroot()
    cases = {(c.get("classname"), c.get("name")) for c in root.iter("testcase")}
    data = json.loads(report.read_text())
    expected = {(f"flowdoc.{f['key']}", s["name"]) for f in data["flows"] for s in f["scenarios"]}
    assert cases == expected
    assert len(cases) == data["summary"]["scenarios"] >= 29
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert ("flowdoc.mfa-step-up", "challenge_expired") in cases
    assert ("flowdoc.silent-refresh-rotation", "refresh_token_expired") in cases


def _scan(srv, outputs: dict[str, str]) -> None:
    for what, value in secrets_of(srv).items():
        for name, text in outputs.items():
            assert value not in text, f"{what} leaked into {name}"
    for name, text in outputs.items():  # no token either: nothing that looks like a JWT
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.", text), name


def test_no_secret_in_any_output(full_run):
    srv, proc, junit, report = full_run
    _scan(srv, {"stdout": proc.stdout, "stderr": proc.stderr, "junit": junit.read_text(), "json": report.read_text()})


def test_no_secret_in_failure_excerpts(oidc_server_verify, tmp_path):
    """Every token response is shown (its documented status is wrong), and still nothing leaks."""
    srv = oidc_server_verify
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in EXAMPLES:
        text = (FLOWS / f"{name}.yaml").read_text()
        text = text.replace("    response:\n      status: 200\n      fields: [access_token",
                            "    response:\n      status: 201\n      fields: [access_token")
        text = text.replace("        response: {status: 401, error: invalid_credentials}",
                            "        response: {status: 402, error: invalid_credentials}")
        text = text.replace("  - error: invalid_credentials\n    status: 401", "  - error: invalid_credentials\n    status: 402")
        (flows / f"{name}.yaml").write_text(text)
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    proc = run_verify([str(flows), *cli, "--env-file", str(tmp_path / "s.env"), "--junit", str(junit),
                       "--report-json", str(report), "--jobs", "6", "--max-wait", "2",
                       "--scenario", "authorization-code-pkce", "--scenario", "client-credentials",
                       "--scenario", "mfa-step-up/happy-path", "--scenario", "mfa-step-up/wrong_password"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = {"stdout": proc.stdout, "stderr": proc.stderr, "junit": junit.read_text(), "json": report.read_text()}
    _scan(srv, out)
    text = out["stdout"]
    # the excerpts are there, with placeholders a reader can follow
    for ph in ("«access_token#", "«refresh_token#", "«id_token#", "code_verifier=«pkce.verifier#", "code=«code#",
               "Basic «basic flowdoc-web:client_secret»",
               "Basic «basic flowdoc-service:client-credentials.client_secret»",
               "&password=«password", "Cookie: _session=«cookie:_session#"):
        assert ph in text, ph
    assert "expected: 201" in text and "actual:   200" in text


def test_changed_status_fails_naming_step_expected_and_actual(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    text = (FLOWS / "client-credentials.yaml").read_text()
    broken = text.replace("        response: {status: 401, error: invalid_client}\n        to: client_rejected\n"
                          "        remedy: Check the secret", "        response: {status: 403, error: invalid_client}\n"
                          "        to: client_rejected\n        remedy: Check the secret", 1)
    broken = broken.replace("  - error: invalid_client\n    status: 401\n", "  - error: invalid_client\n", 1)
    assert broken != text
    (tmp_path / "client-credentials.yaml").write_text(broken)
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    proc = run_verify([str(tmp_path / "client-credentials.yaml"), *cli, "--env-file", str(tmp_path / "s.env"),
                       "--junit", str(tmp_path / "j.xml")])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "FAILED client-credentials/bad_secret" in out
    assert "step:     request_token (provoke)" in out
    assert re.search(r"status:\n\s+expected: 403\n\s+actual:\s+401", out), out
    assert "POST " + srv.issuer + "/token" in out  # the redacted request excerpt
    assert "Authorization: Basic «basic flowdoc-service:" in out  # a placeholder, never base64 of the secret
    assert srv.secrets["flowdoc-service"] not in out + proc.stderr
    case = next(c for c in ET.parse(tmp_path / "j.xml").getroot().iter("testcase") if c.get("name") == "bad_secret")
    assert "expected 403, got 401" in case.find("failure").get("message")


def test_older_versions_run_only_with_all_versions(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    text = (FLOWS / "client-credentials.yaml").read_text()
    newest = VERSIONS["client-credentials"][-1]
    assert f'version: "{newest}"' in text and newest != "0.9.0"
    old = text.replace(f'version: "{newest}"', 'version: "0.9.0"', 1).replace("status: current", "status: deprecated", 1)
    old = old.replace("changelog:\n", f"deprecation: {{replaced_by: client-credentials, migration: use {newest}}}\n"
                      "changelog:\n", 1)
    shutil.copy(FLOWS / "client-credentials.yaml", tmp_path / "client-credentials.yaml")
    (tmp_path / "client-credentials-v1.yaml").write_text(old)
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    base = [str(tmp_path), *cli, "--env-file", str(tmp_path / "s.env"), "--scenario", "happy-path"]
    latest = run_verify([*base, "--report-json", str(tmp_path / "a.json")])
    assert latest.returncode == 0, latest.stdout + latest.stderr
    data = json.loads((tmp_path / "a.json").read_text())
    assert [(f["key"], f["version"]) for f in data["flows"]] == [("client-credentials", newest)]
    both = run_verify([*base, "--all-versions", "--report-json", str(tmp_path / "b.json")])
    assert both.returncode == 0, both.stdout + both.stderr
    data = json.loads((tmp_path / "b.json").read_text())
    assert sorted(f["key"] for f in data["flows"]) == ["client-credentials@0.9.0", f"client-credentials@{newest}"]


def test_scenario_selection_and_list(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    listed = run_verify([str(FLOWS), "--list"])
    assert listed.returncode == 0
    ids = [ln.split("\t")[0] for ln in listed.stdout.splitlines()]
    assert "client-credentials/bad_scope" in ids and "mfa-step-up/otp_lockout" in ids
    one = run_verify([str(FLOWS), *cli, "--env-file", str(tmp_path / "s.env"), "--scenario",
                      "authorization-code-pkce/code_reused", "--report-json", str(tmp_path / "r.json")])
    assert one.returncode == 0, one.stdout + one.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert [s["id"] for s in data["flows"][0]["scenarios"]] == ["authorization-code-pkce/code_reused"]
    unknown = run_verify([str(FLOWS), "--scenario", "no-such-scenario"])
    assert unknown.returncode == 2 and "no scenario 'no-such-scenario'" in unknown.stderr


def test_secret_given_with_input_is_warned_about(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    cli, _ = verify_inputs(srv)
    secret = srv.secrets["flowdoc-service"]
    proc = run_verify([str(FLOWS / "client-credentials.yaml"), *cli, "--input", f"client_secret={secret}",
                       "--scenario", "happy-path"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "secret input 'client_secret' was given with --input" in proc.stderr
    assert secret not in proc.stdout + proc.stderr


def test_pytest_plugin_collects_one_item_per_scenario(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("client-credentials.yaml", "authorization-code-pkce.yaml", "silent-refresh-rotation.yaml"):
        shutil.copy(FLOWS / name, flows / name)
    text = (flows / "client-credentials.yaml").read_text()
    (flows / "client-credentials.yaml").write_text(
        text.replace("response: {status: 400, error: invalid_scope}", "response: {status: 418, error: invalid_scope}"))
    inputs = [a.replace("--input", "--flowdoc-input") for a in cli]
    xml = tmp_path / "out.xml"
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDOC_")}
    e["PYTHONPATH"] = str(ROOT)
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:flowdoc",
            "-p", "flowdoc.verify.pytest_plugin", "--flowdoc-base-url", srv.issuer, "--flowdoc-flows", str(flows),
            "--flowdoc-env-file", str(tmp_path / "s.env"), *inputs, f"--junitxml={xml}", "-q",
            "-k", "client-credentials or code_reused or rotated_token_replayed", "--rootdir", str(tmp_path)]
    proc = subprocess.run(args, cwd=tmp_path, env=e, capture_output=True, text=True, timeout=150)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert re.search(r"1 failed, 6 passed, \d+ deselected", out), out
    assert "FAILED flowdoc::client-credentials::bad_scope" in out
    assert "expected: 418" in out and "actual:   400" in out
    for value in secrets_of(srv).values():
        assert value not in out and value not in xml.read_text()
    names = {c.get("name") for c in ET.parse(xml).getroot().iter("testcase")}
    assert {"happy-path", "bad_secret", "bad_scope", "code_reused", "rotated_token_replayed"} <= names


@pytest.mark.parametrize("expr,holds", [
    ("inputs.scope == 'api:read' and not (inputs.client_id == '')", True),
    ("inputs.scope == 'api:write'", False),
])
def test_guard_expressions_are_evaluated(oidc_server_verify, tmp_path, expr, holds):
    """A guard's expression is checked when the scenario takes the step; a false one fails the scenario."""
    srv = oidc_server_verify
    text = (FLOWS / "client-credentials.yaml").read_text()
    guarded = text.replace("    guard:\n      text: no cached token valid for more than 60 s\n",
                           f"    guard:\n      text: no cached token valid for more than 60 s\n      expr: \"{expr}\"\n", 1)
    guarded = guarded.replace("    title: Call the API with the cached bearer token\n",
                              "    title: Call the API with the cached bearer token\n"
                              "    guard: {text: a token was issued, expr: 'steps.request_token.status == 200 and "
                              "steps.request_token.expires_in > 0'}\n", 1)
    assert guarded.count("expr:") == 2
    (tmp_path / "client-credentials.yaml").write_text(guarded)
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    proc = run_verify([str(tmp_path / "client-credentials.yaml"), *cli, "--env-file", str(tmp_path / "s.env"),
                       "--scenario", "client-credentials/happy-path"])
    if holds:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    else:
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "the guard of 'request_token' does not hold: no cached token valid for more than 60 s" in proc.stdout
        assert re.search(r"guard:\n\s+expected: inputs.scope == 'api:write' to be true\n\s+actual:\s+false",
                         proc.stdout), proc.stdout


def test_implicit_tokens_in_fragment_are_captured_and_redacted(oidc_server_verify, tmp_path):
    """location.fragment.NAME captures; the tokens in a Location fragment never reach the output."""
    srv = oidc_server_verify
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    text = (FLOWS / "authorization-code-pkce.v1.yaml").read_text()
    anchor = "      capture:\n        callback_url: location\n"
    assert anchor in text
    captured = text.replace(anchor, anchor + "        access_token: location.fragment.access_token\n"
                            "        id_token: location.fragment.id_token\n"
                            "        state: {from: location.fragment.state, secret: false}\n"
                            "      jwt:\n        - token: location.fragment.id_token\n"
                            "          aud: ${inputs.client_id}\n          nonce: ${nonce}\n", 1)
    broken = text.replace("    response:\n      status: 303\n      redirect:\n        to: ${inputs.redirect_uri}\n",
                          "    response:\n      status: 302\n      redirect:\n        to: ${inputs.redirect_uri}\n", 1)
    assert captured != text and broken != text
    outputs = {}
    for name, body, rc in (("captured", captured, 0), ("broken", broken, 1)):
        d = tmp_path / name
        d.mkdir()
        (d / "authorization-code-pkce.yaml").write_text(body)
        proc = run_verify([str(d), *cli, "--env-file", str(tmp_path / "s.env"), "--scenario", "happy-path",
                           "--report-json", str(d / "r.json")])
        assert proc.returncode == rc, proc.stdout + proc.stderr
        outputs.update({f"{name} stdout": proc.stdout, f"{name} stderr": proc.stderr,
                        f"{name} json": (d / "r.json").read_text()})
    shown = outputs["broken stdout"]
    assert re.search(r"Location: " + re.escape(srv.redirect_uri) + r"#.*access_token=«access_token#", shown), shown
    assert "id_token=«id_token#" in shown
    _scan(srv, outputs)


def test_all_versions_verify_with_full_coverage(oidc_server_verify, tmp_path):
    """--all-versions also runs the older pages: the implicit grant of authorization-code-pkce 1.x
    (tokens in the callback's URL fragment) and client-credentials 1.0.0. That one still says its
    tokens live 1 h; since 1.1.0 (and on this server) they live 10 min: verify says so, and only that."""
    srv = oidc_server_verify
    cli, env_text = verify_inputs(srv)
    (tmp_path / "s.env").write_text(env_text)
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    proc = run_verify([str(FLOWS), "--all-versions", *cli, "--env-file", str(tmp_path / "s.env"),
                       "--junit", str(junit), "--report-json", str(report), "--jobs", "8", "--timeout", "10"])
    assert proc.returncode == 1, proc.stdout[-6000:] + proc.stderr[-3000:]
    data = json.loads(report.read_text())
    versions: dict[str, list[str]] = {}
    for f in data["flows"]:
        versions.setdefault(f["id"], []).append(f["version"])
        cov = f["coverage"]
        if f["key"] == f"client-credentials@{VERSIONS['client-credentials'][0]}":  # the oldest: tokens of 1 h
            failed = [s for s in f["scenarios"] if s["status"] != "passed"]
            assert {s["name"] for s in failed} == {"happy-path", "missing_token"}
            for s in failed:
                assert [(c["what"], c["expected"], c["actual"]) for c in s["failure"]["checks"]] == [
                    ("lifecycle access_token ttl (expires_in)", "3600 s (± 36 s)", "600 s"),
                    ("lifecycle access_token ttl (exp - iat)", "3600 s (± 36 s)", "600 s")]
            continue
        assert cov["transitions"]["percent"] == 100.0, (f["key"], cov)
        assert cov["failures"]["percent"] == 100.0, (f["key"], cov)
        assert cov["transitions"]["missed"] == [] and cov["failures"]["missed"] == []
        assert all(s["status"] == "passed" for s in f["scenarios"]), f["key"]
    assert sorted(versions) == EXAMPLES
    on_disk = {fid: set(vs) for fid, vs in VERSIONS.items()}
    assert {fid: set(v) for fid, v in versions.items()} == on_disk
    assert len(on_disk["authorization-code-pkce"]) == 2 and len(on_disk["client-credentials"]) == 2
    v1 = load_flow(FLOWS / "authorization-code-pkce.v1.yaml").version
    old = next(f for f in data["flows"] if f["key"] == f"authorization-code-pkce@{v1}")
    assert {s["name"] for s in old["scenarios"]} == {"happy-path", "redirect_uri_mismatch", "wrong_password",
                                                      "account_locked", "access_denied"}
    _scan(srv, {"stdout": proc.stdout, "stderr": proc.stderr, "junit": junit.read_text(), "json": report.read_text()})


def test_coverage_shows_proven_unobservable_and_not_run_apart(full_run):
    """Terminal, JUnit and JSON: percentages count observable elements; the unobservable ones are
    listed apart, each with why."""
    _srv, proc, junit, report = full_run
    out = proc.stdout
    assert "coverage (proven of observable; unobservable listed apart):" in out
    assert re.search(r"gateway-login\s+transitions 8/8 \(100%\)\s+failure branches 3/3 \(100%\)\s+"
                     r"statements \d+/\d+ \(100%\)\s+unobservable \d+", out), out
    assert "unobservable (not counted above):" in out
    assert re.search(r"gateway-login\s+gateway_exchange — internal: gateway → auth happens behind the server", out)
    assert re.search(r"mfa-step-up\s+enter_code — an action with no HTTP exchange", out)
    suites = {s.get("name"): {p.get("name"): p.get("value") for p in s.iter("property")}
              for s in ET.parse(junit).getroot().iter("testsuite")}
    gw = suites["gateway-login"]
    assert gw["coverage.transitions"] == "8/8" and gw["coverage.missed"] == ""
    assert "gateway_exchange: internal" in gw["coverage.unobservable"]
    data = json.loads(report.read_text())
    results = {e["result"] for f in data["flows"] for e in f["coverage"]["elements"]}
    assert results == {"proven", "unobservable"}  # and "not-run" when a scenario is left out:
    cli, env_text = verify_inputs(_srv)
    (report.parent / "s2.env").write_text(env_text)
    part = run_verify([str(FLOWS / "client-credentials.yaml"), *cli, "--env-file", str(report.parent / "s2.env"),
                       "--scenario", "bad_secret", "--report-json", str(report.parent / "part.json")])
    assert part.returncode == 0, part.stdout + part.stderr
    cov = json.loads((report.parent / "part.json").read_text())["flows"][0]["coverage"]
    assert cov["transitions"]["percent"] == 0.0 and cov["transitions"]["missed"] == ["request_token", "call_api"]
    assert cov["failures"]["missed"] == ["request_token/unknown_client", "request_token/bad_scope",
                                         "call_api/missing_token"]
    assert "not run: request_token, call_api" in part.stdout
