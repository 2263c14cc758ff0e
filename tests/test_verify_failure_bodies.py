"""Failure branches with bodies: a failure's answer takes the same checks as a success (fields, body
values, headers, page text, JWT), against the real oidc-provider test server — introspection of a
revoked refresh token answers 200 with ``active: false`` (RFC 7662 §2.2), told apart from the
success only by that value; an HTML error page is checked by what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdoc.catalog import FlowSet
from flowdoc.render import render_diagram
from flowdoc.verify import Verifier, VerifyOptions, load_flows
from tests.helpers import FLOWS
from tests.support.verify_inputs import verify_inputs


INTROSPECTION = """\
id: introspection-check
title: Check a refresh token by introspection, before and after revoking it
version: "1.0.0"
actors:
  client: {name: Web App, kind: client}
  auth: {name: Authorization Server, kind: authorization-server, base_url: "${inputs.issuer}"}
inputs:
  issuer: {description: Issuer}
  client_id: {description: Client id}
  client_secret: {description: Secret, secret: true}
requires:
  signin:
    flow: authorization-code-pkce
    provides: {refresh_token: steps.exchange_code.refresh_token}
states:
  - {id: token_held, initial: true}
  - {id: checked, terminal: true}
  - {id: revoked, terminal: true}
  - {id: refused, terminal: true, failure: true}
transitions:
  - id: introspect
    from: token_held
    to: checked
    by: client -> auth
    title: Ask whether the refresh token is active
    request:
      method: POST
      path: /token/introspection
      endpoint: introspection_endpoint
      auth: client_secret_basic
      form: {token: "${signin.refresh_token}", token_type_hint: refresh_token}
    response:
      status: 200
      fields: [client_id]
      body: {active: true}
    failures:
      - id: revoked_token
        when: the refresh token was revoked
        provoke: {before: [revoke]}
        response: {status: 200, body: {active: false}, fields: [active]}
        to: revoked
        remedy: Sign in again.
      - id: unknown_token
        when: the token is not one the server issued
        provoke: {request: {form: {token: not-a-token-of-this-server}}}
        response: {status: 200, body: {active: false}}
        to: refused
        remedy: Send a token the server issued.
      - id: wrong_secret
        when: the client secret is wrong
        provoke: {inputs: {client_secret: not-the-secret}}
        response:
          status: 401
          error: invalid_client
          content_type: application/json
          headers: {Content-Type: null}
          text: [client authentication failed]
        to: refused
        remedy: Check the secret.
  - id: revoke
    from: token_held
    to: revoked
    by: client -> auth
    title: Revoke the refresh token
    request:
      method: POST
      path: /token/revocation
      endpoint: revocation_endpoint
      auth: client_secret_basic
      form: {token: "${signin.refresh_token}", token_type_hint: refresh_token}
    response: {status: 200}
"""


def _inputs(srv) -> tuple[dict, dict]:
    cli, env_text = verify_inputs(srv)
    inputs = dict(a.split("=", 1) for a in cli[1::2])
    env = dict(line.split("=", 1) for line in env_text.splitlines()[1:] if "=" in line)
    return inputs, env


def _folder(tmp_path: Path, name: str, text: str, pkce: str | None = None) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "introspection-check.yaml").write_text(text)
    pkce_text = pkce if pkce is not None else (FLOWS / "authorization-code-pkce.yaml").read_text()
    (folder / "authorization-code-pkce.yaml").write_text(pkce_text)
    return folder


def _run(srv, folder: Path, scenarios: list[str]):
    inputs, env = _inputs(srv)
    inputs["introspection-check.client_id"] = "flowdoc-web"
    with Verifier(VerifyOptions(inputs=inputs, env=env, scenarios=scenarios)) as v:
        return v.run(load_flows([folder]))


@pytest.mark.node
def test_failure_bodies_are_checked_against_the_real_server(oidc_server_verify, tmp_path):
    srv = oidc_server_verify
    result = _run(srv, _folder(tmp_path, "right", INTROSPECTION), ["introspection-check"])
    ours = [s for s in result.scenarios if s.flow == "introspection-check"]
    assert {s.name for s in ours} >= {"happy-path", "revoked_token", "unknown_token", "wrong_secret"}
    assert all(s.status == "passed" for s in ours), [(s.name, s.failure) for s in ours if s.status != "passed"]
    cov = next(f for f in result.flows if f.id == "introspection-check").coverage
    assert sorted(cov.failures_covered) == sorted(cov.failures) and len(cov.failures) == 3

    # the same branch documented with the success's value: proven by nothing, so refused up front
    same = INTROSPECTION.replace("response: {status: 200, body: {active: false}, fields: [active]}",
                                 "response: {status: 200, fields: [active]}")
    flows = FlowSet.from_paths([_folder(tmp_path, "same", same)])
    assert [d.code for d in flows.errors] == ["failure-indistinguishable"]
    assert "a body value" in flows.errors[0].help

    # a wrong body value, a wrong text and a wrong content type of a failure are each caught, named
    wrong = {
        "revoked_token": ("body: {active: false}, fields: [active]}",
                          "body: {active: false, scope: nope}, fields: [active]}", "body scope"),
        "wrong_secret": ("text: [client authentication failed]", "text: [the password is wrong]",
                         "text 'the password is wrong'"),
    }
    for name, (old, new, what) in wrong.items():
        assert old in INTROSPECTION
        res = _run(srv, _folder(tmp_path, f"wrong-{name}", INTROSPECTION.replace(old, new)), [f"introspection-check/{name}"])
        scn = next(s for s in res.scenarios if s.flow == "introspection-check" and s.name == name)
        assert scn.status == "failed", scn
        assert res.exit_code == 1
        assert what in [c.what for c in scn.failure.checks], scn.failure.checks
        assert f"failure '{name}' was not answered as documented" in scn.failure.message


@pytest.mark.node
def test_html_failure_page_is_checked_by_its_text(oidc_server_verify, tmp_path):
    """The login page answered to a wrong password: the same form as before, told apart by what it says."""
    srv = oidc_server_verify
    flow = (FLOWS / "authorization-code-pkce.yaml").read_text()
    old = "response: {status: 401, error: invalid_credentials}"
    assert flow.count(old) == 1
    results = {}
    for name, text in (("says", "Sign in"), ("says-not", "Welcome back")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "authorization-code-pkce.yaml").write_text(
            flow.replace(old, f"response: {{status: 401, error: invalid_credentials, text: [{text}]}}"))
        inputs, env = _inputs(srv)
        with Verifier(VerifyOptions(inputs=inputs, env=env, scenarios=["wrong_password"])) as v:
            results[name] = v.run(load_flows([folder]))
    assert results["says"].exit_code == 0, results["says"].scenarios[0].failure
    bad = results["says-not"].scenarios[0]
    assert bad.status == "failed"
    check = bad.failure.checks[0]
    assert (check.what, check.expected, check.actual) == ("text 'Welcome back'", "in the page's visible text",
                                                          "not found")


def test_body_values_tell_the_cases_apart_on_arrows():
    flow = FlowSet.from_text(INTROSPECTION, "introspection-check.yaml").flows
    assert flow, FlowSet.from_text(INTROSPECTION, "introspection-check.yaml").diagnostics
    seq = render_diagram(flow[0], "sequence", "mermaid")
    assert "200 — client_id, active#58; true" in seq
    assert seq.count("200 — active#58; false") == 2  # revoked and unknown
    assert "401 invalid_client\n" in seq or "401 invalid_client" in seq
    # revocation's answer has no body value that tells cases apart: no value on it
    assert "p_auth-->>p_client: 200\n" in seq


def test_a_timeout_has_no_body_to_check():
    bad = INTROSPECTION.replace("response: {status: 200, body: {active: false}}",
                                "response: {outcome: timeout, body: {active: false}}")
    flows = FlowSet.from_text(bad, "introspection-check.yaml")
    assert not flows.flows
    d = flows.errors[0]
    assert "a timeout has no answer to check" in d.message and d.line is not None
