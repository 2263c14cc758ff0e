"""The placeholders a run hands out, pinned: which label and number each secret of a response gets
(a response is registered by key name, by shape and by context; the order of that registration
decides the labels), and no secret in any output of a run.

Against the real test server (tests/support/oidc.py) for the workload of benchmarks/flows/token-api.yaml,
and against a small real HTTP server for secrets in JSON, headers, cookies and a Location.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest

from flowdoc.verify import Verifier, VerifyOptions, load_flows
from flowdoc.verify._detect import Publicity, register_exchange
from flowdoc.verify._received import Received
from flowdoc.verify._redact import Redactor
from tests.support.fake_jwt import b64url, fake_jwt
from tests.support.hostile_http import HostileServer
from tests.support.oidc import start_oidc_server
from tests.support.verify_inputs import random_server_env

ROOT = Path(__file__).resolve().parent.parent
TOKEN_API = ROOT / "benchmarks" / "flows" / "token-api.yaml"
CLIENT_SECRET = "cs-" + secrets.token_urlsafe(24)


# ------------------------------------------------------------------ the token-api workload


@pytest.fixture(scope="module")
def oidc():
    with start_oidc_server(env=random_server_env()) as srv:
        yield srv


def _token_api_options(srv) -> VerifyOptions:
    return VerifyOptions(inputs={"token_url": srv.issuer, "api_url": srv.resource, "client_id": "flowdoc-service"},
                         env={"FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-service"]})


def _registry(v: Verifier) -> list[str]:
    """The placeholders handed out so far, in the order they were."""
    return list(v.redactor._placeholder.values())


def test_token_api_labels_are_pinned(oidc, tmp_path):
    """Both scenarios of the workload pass, twice in one session; then a copy whose token step
    expects another status fails and shows its response with the placeholders a reader follows."""
    flows = load_flows([TOKEN_API])
    with Verifier(_token_api_options(oidc)) as v:
        plan = v.plan(flows)
        for _ in range(2):
            assert v.run(flows, scenarios=plan).exit_code == 0
        assert _registry(v) == ["«client_secret»", "«basic flowdoc-service:client_secret»", "«access_token#1»",
                                "«basic flowdoc-service:secret»", "«access_token#2»"]
        assert v.redactor.placeholder(oidc.secrets["flowdoc-service"]) == "«client_secret»"
    failing = tmp_path / "token-api.yaml"
    failing.write_text(TOKEN_API.read_text().replace("      status: 200\n      fields: [access_token",
                                                      "      status: 201\n      fields: [access_token", 1))
    flows = load_flows([failing])
    with Verifier(_token_api_options(oidc)) as v:
        res = v.run(flows)
        failure = res.scenarios[0].failure
        assert res.exit_code == 1 and failure is not None
        lines = failure.response.splitlines()
        assert lines[0] == "HTTP 200 OK" and "Cache-Control: no-store" in lines
        body = json.loads(lines[-1])
        assert body == {"access_token": "«access_token#1»", "expires_in": 600, "token_type": "Bearer",
                        "scope": "api:read"}
        assert failure.request.splitlines() == [f"POST {oidc.issuer}/token", "Accept: */*",
                                                "Authorization: Basic «basic flowdoc-service:client_secret»",
                                                "Content-Type: application/x-www-form-urlencoded", "",
                                                "grant_type=client_credentials&scope=api:read"]
        assert _registry(v) == ["«client_secret»", "«basic flowdoc-service:client_secret»", "«access_token#1»",
                                "«basic flowdoc-service:secret»"]


# ------------------------------------------------------------------ secrets in responses and cookies

VALUES = {
    "session cookie": secrets.token_urlsafe(24),
    "csrf cookie": "c" + secrets.token_hex(16),
    "code": secrets.token_urlsafe(20),
    "state": "st-" + secrets.token_hex(8),
    "camel location": secrets.token_urlsafe(22),
    "camel access": secrets.token_urlsafe(32),
    "refresh": secrets.token_urlsafe(40),
    "id token": fake_jwt(),
    "subject header": "gAAAAA" + secrets.token_urlsafe(60),
    "opaque": "ref-" + secrets.token_hex(10),
    "nested session": secrets.token_urlsafe(18),
    "echo opaque": "Zq" + secrets.token_hex(12),
    "text jwt": fake_jwt(),
}


def _login(_rq):
    return 302, [("Location", f"/cb?code={VALUES['code']}&state={VALUES['state']}&loginToken={VALUES['camel location']}"),
                 ("Set-Cookie", f"sid={VALUES['session cookie']}; Path=/; HttpOnly"),
                 ("Set-Cookie", f"csrf={VALUES['csrf cookie']}; Path=/")], ""


def _token(_rq):
    body = {"accessToken": VALUES["camel access"], "refresh_token": VALUES["refresh"],
            "id_token": VALUES["id token"], "token_type": "Bearer", "expires_in": 3600,
            "reference": VALUES["opaque"], "session": {"sessionKey": VALUES["nested session"]},
            "items": [{"value": VALUES["echo opaque"]}, {"note": f"see {VALUES['text jwt']} here"}]}
    return 200, [("Content-Type", "application/json"), ("X-Subject-Token", VALUES["subject header"]),
                 ("Cache-Control", "no-store")], json.dumps(body)


ROUTES = {("POST", "/login"): _login, ("POST", "/token"): _token}

SHAPES_FLOW = """id: shapes
title: Secrets in cookies, a Location and a token response
version: "1.0.0"
actors:
  client: {name: Client, kind: client}
  auth: {name: Auth, kind: authorization-server, base_url: "${inputs.issuer}"}
inputs:
  issuer: {description: Issuer}
  client_id: {description: Client id, default: probe-client}
  client_secret: {description: Client secret, secret: true}
states:
  - {id: start, initial: true}
  - {id: logged_in}
  - {id: done, terminal: true}
transitions:
  - id: login
    from: start
    to: logged_in
    by: client -> auth
    title: Log in
    request:
      method: POST
      path: /login
      form: {user: someone}
    response:
      status: 302
      capture:
        code: location.query.code
  - id: get_token
    from: logged_in
    to: done
    by: client -> auth
    title: Exchange the code
    request:
      method: POST
      path: /token
      auth: client_secret_basic
      form: {grant_type: authorization_code, code: "${steps.login.code}"}
    response: {status: 202}
"""


@pytest.fixture(scope="module")
def server():
    with HostileServer(dict(ROUTES)) as srv:
        yield srv


def _shapes_flow(folder: Path) -> Path:
    path = folder / "shapes.yaml"
    path.write_text(SHAPES_FLOW)
    return path


def test_response_and_cookie_labels_are_pinned(server, tmp_path):
    flows = load_flows([_shapes_flow(tmp_path)])
    opts = VerifyOptions(inputs={"issuer": server.url}, env={"FLOWDOC_CLIENT_SECRET": CLIENT_SECRET})
    with Verifier(opts) as v:
        res = v.run(flows)
        failure = res.scenarios[0].failure
        assert res.exit_code == 1 and failure is not None and failure.step == "get_token"
        got = {what: v.redactor.placeholder(value) for what, value in VALUES.items()}
        assert got == {
            "session cookie": "«cookie:sid#1»", "csrf cookie": "«cookie:csrf#1»", "code": "«code#1»",
            "state": None, "camel location": "«loginToken#1»", "camel access": "«access_token#1»", "refresh": "«refresh_token#1»",
            "id token": "«id_token#1»", "subject header": "«x_subject_token#1»", "opaque": "«reference#1»",
            "nested session": "«session_key#1»", "echo opaque": "«value#1»", "text jwt": "«jwt#1»",
        }
        assert v.redactor.placeholder(CLIENT_SECRET) == "«client_secret»"
        assert _registry(v) == ["«client_secret»", "«cookie:sid#1»", "«cookie:csrf#1»", "«code#1»",
                                "«loginToken#1»", "«basic probe-client:client_secret»", "«access_token#1»", "«refresh_token#1»",
                                "«id_token#1»", "«session_key#1»", "«jwt#1»", "«x_subject_token#1»",
                                "«reference#1»", "«value#1»"]
        body = json.loads(failure.response.splitlines()[-1])
        assert body["accessToken"] == "«access_token#1»" and body["items"][0] == {"value": "«value#1»"}
        assert body["items"][1] == {"note": "see «jwt#1» here"}
        assert "X-Subject-Token: «x_subject_token#1»" in failure.response


def _forms(value: str) -> list[str]:
    raw = value.encode()
    return [value, quote(value, safe=""), quote_plus(value), base64.b64encode(raw).decode().rstrip("="),
            b64url(raw)]


def test_no_secret_reaches_any_output_of_a_run(server, oidc, tmp_path):
    """Every output of `flowdoc verify` (stdout, stderr, JUnit, JSON report, proof files) for the
    token-api workload and the flow with secrets in cookies, a Location and a token response."""
    (tmp_path / "flows").mkdir()
    _shapes_flow(tmp_path / "flows")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDOC_")}
    env.update({"NO_COLOR": "1", "PYTHONPATH": str(ROOT), "FLOWDOC_CLIENT_SECRET": CLIENT_SECRET})
    outputs: dict[str, str] = {}
    runs = {"shapes": [str(tmp_path / "flows"), "--input", f"issuer={server.url}"],
            "token-api": [str(TOKEN_API), "--input", f"token_url={oidc.issuer}", "--input",
                          f"api_url={oidc.resource}", "--input", "client_id=flowdoc-service"]}
    for name, args in runs.items():
        run_env = dict(env)
        if name == "token-api":
            run_env["FLOWDOC_CLIENT_SECRET"] = oidc.secrets["flowdoc-service"]
        junit, report, proofs = tmp_path / f"{name}.xml", tmp_path / f"{name}.json", tmp_path / f"proofs-{name}"
        proc = subprocess.run([sys.executable, "-m", "flowdoc", "verify", *args, "--junit", str(junit),
                               "--report-json", str(report), "--proof", str(proofs)], cwd=tmp_path, env=run_env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == (1 if name == "shapes" else 0), proc.stdout + proc.stderr
        ET.fromstring(junit.read_text())
        json.loads(report.read_text())
        outputs.update({f"{name} stdout": proc.stdout, f"{name} stderr": proc.stderr,
                        f"{name} junit": junit.read_text(), f"{name} json": report.read_text()})
        outputs.update({f"{name} proof {p.name}": p.read_text() for p in proofs.rglob("*") if p.is_file()})
    assert "«access_token#1»" in outputs["shapes stdout"]  # the failing step's excerpt is shown
    assert any("proof" in k for k in outputs)
    leaked = dict(VALUES, **{"client secret": CLIENT_SECRET, "server secret": oidc.secrets["flowdoc-service"]})
    del leaked["state"]  # not a secret: shown in clear
    for what, value in leaked.items():
        for form in _forms(value):
            for name, text in outputs.items():
                assert form not in text, f"{what} leaked into {name}"


def test_headers_skipped_as_inert_never_hide_a_secret_in_another_context():
    """A header block with no candidate is remembered with its context: the same headers in the
    answer to a request with credentials, or with a flow's public list, are scanned again."""
    trace = "Zq" + secrets.token_hex(12)  # opaque: secret only in an answer to credentials
    headers = httpx.Headers([("Content-Type", "application/json"), ("X-Trace", trace)])
    plain = httpx.Request("GET", "http://127.0.0.1:9/api")
    with_creds = httpx.Request("GET", "http://127.0.0.1:9/api", headers={"Authorization": "Bearer " + "t" * 20})
    red = Redactor()
    for _ in range(2):  # the second time from the caches
        register_exchange(red, plain, Received("GET", str(plain.url), 200, "OK", headers, b"{}", 0.0))
    assert red.placeholder(trace) is None
    public = Publicity.of(["headers.X-Trace"])
    register_exchange(red, with_creds, Received("GET", str(plain.url), 200, "OK", headers, b"{}", 0.0), public)
    assert red.placeholder(trace) is None  # public by the flow's list
    register_exchange(red, with_creds, Received("GET", str(plain.url), 200, "OK", headers, b"{}", 0.0))
    assert red.placeholder(trace) == "«x_trace#1»"
