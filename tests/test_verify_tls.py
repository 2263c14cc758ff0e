"""flowdoc verify over real TLS: a throwaway CA, server certificates for 127.0.0.1, and a small
HTTPS token endpoint (tests/support/tls.py) on 127.0.0.1. No mocks; nothing but 127.0.0.1 is
ever contacted.

A certificate the client cannot accept (untrusted, for another host, expired) stops every
scenario before a byte of the request is sent: exit 3, with a message naming the problem.
(Credentials refused over plain http to a remote host, with no traffic: test_verify_unit.py,
test_credentials_never_go_over_plain_http_to_remote_hosts.)"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.helpers import run
from tests.support.tls import DAY, TestCA, serve_http, serve_https, token_api_handler

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "tls-service"

FLOW = """id: tls-probe
title: Client credentials over TLS
version: "1.0.0"
actors:
  client: {name: Client, kind: client}
  api: {name: API, kind: authorization-server, base_url: "${inputs.api}"}
inputs:
  api: {description: Base URL of the API}
  client_id: {description: Client id}
  client_secret: {description: Client secret, secret: true}
states:
  - {id: start, initial: true}
  - {id: has_token}
  - {id: done, terminal: true}
  - {id: rejected, terminal: true, failure: true}
transitions:
  - id: get_token
    from: start
    to: has_token
    by: client -> api
    title: Request a token with the client credentials
    request:
      method: POST
      path: /token
      auth: client_secret_basic
      form: {grant_type: client_credentials}
    response:
      status: 200
      fields: [access_token]
      capture: {access_token: body.access_token}
    failures:
      - id: bad_secret
        when: the client secret is wrong
        provoke: {inputs: {client_secret: not-the-secret}}
        response: {status: 401, error: invalid_client}
        to: rejected
        remedy: Use the secret of this environment.
  - id: call_api
    from: has_token
    to: done
    by: client -> api
    title: Call the API with the bearer token
    request: {method: GET, path: /me, auth: bearer, token: "${steps.get_token.access_token}"}
    response: {status: 200, fields: [sub]}
"""


@pytest.fixture
def env(tmp_path):
    """Files and values of one test: the flow, a fresh secret, the CA and its certificates."""

    class Env:
        dir = tmp_path
        flow = tmp_path / "tls-probe.yaml"
        secret = "tls-" + secrets.token_urlsafe(18)
        ca = TestCA.create(tmp_path)

    Env.flow.write_text(FLOW)
    Env.handler = token_api_handler(CLIENT_ID, Env.secret)
    return Env


def verify(env, base_url: str, *extra: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run `flowdoc verify` in a fresh process; return it and every output (stdout, stderr, reports)."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("FLOWDOC_") and k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    e.update({"NO_COLOR": "1", "PYTHONPATH": str(ROOT), "FLOWDOC_CLIENT_SECRET": env.secret})
    junit, report = env.dir / "junit.xml", env.dir / "report.json"
    for f in (junit, report):
        f.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "flowdoc", "verify", str(env.flow), "--input", f"api={base_url}",
         "--input", f"client_id={CLIENT_ID}", "--timeout", "5", "--junit", str(junit),
         "--report-json", str(report), *extra],
        cwd=env.dir, env=e, capture_output=True, text=True, timeout=60,
    )
    outputs = "\n".join([proc.stdout, proc.stderr, junit.read_text(), report.read_text()])
    return proc, outputs


def assert_tls_failure(env, proc, outputs: str, *phrases: str) -> None:
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in outputs and "internal error" not in outputs
    assert env.secret not in outputs
    assert "2 scenarios: 0 passed, 0 failed, 2 errors" in proc.stdout
    for phrase in phrases:
        assert phrase in proc.stdout, proc.stdout
        assert phrase in proc.stderr, proc.stderr  # the live progress line says it too
    junit = ET.parse(env.dir / "junit.xml").getroot()
    errors = junit.findall(".//testcase/error")
    assert len(errors) == 2 and all(e.get("type") == "unreachable" for e in errors)
    assert all(phrases[0] in e.get("message") for e in errors)
    report = json.loads((env.dir / "report.json").read_text())
    assert report["exit_code"] == 3
    assert env.handler.requests == []  # refused at the handshake: the credentials never left


def test_untrusted_certificate_fails_with_exit_3_and_suggests_ca_bundle(env):
    cert = env.ca.issue(env.dir, "server")
    with serve_https(cert, env.handler) as url:
        proc, outputs = verify(env, url)
        assert_tls_failure(env, proc, outputs, "TLS verification failed: POST " + url + "/token",
                           "the server's certificate is not trusted", "--ca-bundle")
        # a bundle that does not hold the issuing CA is no better
        other = TestCA.create(env.dir, "other-ca")
        proc, outputs = verify(env, url, "--ca-bundle", str(other.cert))
        assert_tls_failure(env, proc, outputs, "the server's certificate is not trusted")


def test_ca_bundle_makes_the_flow_pass(env):
    cert = env.ca.issue(env.dir, "server")
    with serve_https(cert, env.handler) as url:
        proc, outputs = verify(env, url, "--ca-bundle", str(env.ca.cert))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 scenarios: 2 passed" in proc.stdout
    assert "transitions 2/2 (100%)  failure branches 1/1 (100%)" in proc.stdout
    assert env.secret not in outputs
    # the happy path and the wrong-secret branch both reached the server, over TLS
    assert env.handler.requests.count(("POST", "/token")) == 2
    assert env.handler.requests.count(("GET", "/me")) == 1


def test_certificate_for_another_host_fails_with_a_hostname_message(env):
    cert = env.ca.issue(env.dir, "elsewhere", dns=["example.test"], ips=[])
    with serve_https(cert, env.handler) as url:
        proc, outputs = verify(env, url, "--ca-bundle", str(env.ca.cert))
    assert_tls_failure(env, proc, outputs, "the server's certificate is not valid for 127.0.0.1",
                       "mismatch")


@pytest.mark.parametrize(("validity", "message"), [
    ((-2 * DAY, -DAY), "the server's certificate has expired"),
    ((DAY, 2 * DAY), "the server's certificate is not yet valid"),
], ids=["expired", "not-yet-valid"])
def test_expired_certificate_fails_with_a_clear_message(env, validity, message):
    cert = env.ca.issue(env.dir, "server", not_before=validity[0], not_after=validity[1])
    with serve_https(cert, env.handler) as url:
        proc, outputs = verify(env, url, "--ca-bundle", str(env.ca.cert))
    assert_tls_failure(env, proc, outputs, message)


def test_https_to_a_plain_http_port_is_a_handshake_failure(env):
    with serve_http(env.handler) as url:
        proc, outputs = verify(env, "https" + url[len("http"):], "--ca-bundle", str(env.ca.cert))
    assert_tls_failure(env, proc, outputs, "TLS handshake failed", "is the server speaking https")


def test_help_documents_the_tls_exit_code():
    res = run("verify", "--help")
    text = " ".join(res.output.split())
    assert "3 server unreachable or its TLS certificate rejected" in text
