"""Where the first discovery document lacks an endpoint a flow names: the later documents (RFC 8414
after OpenID Connect Discovery) fill in what it leaves out, read once per run; where none names it,
verify requests the documented path and the cross-check says so. Against real servers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

from flowdoc import load_flow
from flowdoc.verify import VerifyOptions, verify_flows
from tests.helpers import line_of
from tests.support.hostile_http import HostileServer

INTROSPECT_FLOW = """\
id: introspect-only
title: Introspect a token
version: "1.0.0"
actors:
  api: {name: API, kind: resource-server}
  auth: {name: Authorization Server, kind: authorization-server, base_url: "${inputs.issuer}"}
inputs:
  issuer: {description: Issuer}
  client_id: {description: Client id}
  client_secret: {description: Secret, secret: true}
states:
  - {id: start, title: Start, initial: true}
  - {id: done, title: Done, terminal: true}
transitions:
  - id: introspect
    from: start
    to: done
    by: api -> auth
    title: Introspect the token
    request:
      method: POST
      path: /token/introspection
      endpoint: introspection_endpoint
      auth: client_secret_basic
      form: {token: some-token}
    response:
      status: 200
      fields: [active]
"""

JSON = [("Content-Type", "application/json")]
OIDC = "/.well-known/openid-configuration"
OAUTH = "/.well-known/oauth-authorization-server"


def _flow(tmp_path: Path) -> Path:
    path = tmp_path / "introspect-only.yaml"
    path.write_text(INTROSPECT_FLOW)
    return path


def _verify(path: Path, issuer: str):
    options = VerifyOptions(inputs={"issuer": issuer, "client_id": "api", "client_secret": "s3cr3t-value-123"},
                            env={}, timeout=5, jobs=2)
    return verify_flows([load_flow(path)], options)


def _doc(body: dict):
    return lambda seen: (200, JSON, json.dumps(body))


def _active(seen):
    return 200, JSON, '{"active": true}'


def test_rfc_8414_document_fills_in_what_the_openid_document_lacks(tmp_path):
    """django-oauth-toolkit's shape: the OpenID document names the token endpoint only, the RFC 8414
    document the introspection endpoint too; the first document's values are kept."""
    with HostileServer({}) as srv:
        srv.routes[("GET", OIDC)] = _doc({"issuer": srv.url, "token_endpoint": srv.url + "/o/token/"})
        srv.routes[("GET", OAUTH)] = _doc({"issuer": srv.url, "token_endpoint": srv.url + "/elsewhere",
                                           "introspection_endpoint": srv.url + "/o/introspect/"})
        srv.routes[("POST", "/o/introspect/")] = _active
        result = _verify(_flow(tmp_path), srv.url)
        seen = [(r.method, r.path) for r in srv.requests]
    assert result.exit_code == 0, [(s.name, s.failure) for s in result.scenarios]
    assert seen.count(("GET", OIDC)) == 1 and seen.count(("GET", OAUTH)) == 1
    assert ("POST", "/o/introspect/") in seen and ("POST", "/token/introspection") not in seen
    assert not [w for w in result.warnings if "discovery-endpoint" in w], result.warnings


def test_no_document_names_the_endpoint_so_the_documented_path_is_requested(tmp_path):
    with HostileServer({}) as srv:
        srv.routes[("GET", OIDC)] = _doc({"issuer": srv.url, "token_endpoint": srv.url + "/token"})
        srv.routes[("POST", "/token/introspection")] = _active
        path = _flow(tmp_path)
        result = _verify(path, srv.url)
        seen = [(r.method, r.path) for r in srv.requests]
    assert result.exit_code == 0, [(s.name, s.failure) for s in result.scenarios]
    assert seen == [("GET", OIDC), ("GET", OAUTH), ("POST", "/token/introspection")]
    line = line_of(path, "endpoint: introspection_endpoint")
    (warning,) = [w for w in result.warnings if "discovery-endpoint" in w]
    assert warning.startswith(f"{path}:{line}:17: error[discovery-endpoint]: 'introspect' requests the server's "
                              "introspection_endpoint, which its metadata does not name (verify requests the "
                              "documented path '/token/introspection')"), warning


def test_a_later_document_naming_another_issuer_adds_nothing(tmp_path):
    """Its endpoint is not used: the documented path is requested, on the flow's server."""
    with HostileServer({}) as srv:
        srv.routes[("GET", OIDC)] = _doc({"issuer": srv.url, "token_endpoint": srv.url + "/token"})
        srv.routes[("GET", OAUTH)] = _doc({"issuer": "https://evil.invalid",
                                           "introspection_endpoint": srv.url + "/stolen"})
        srv.routes[("POST", "/token/introspection")] = _active
        result = _verify(_flow(tmp_path), srv.url)
        seen = [(r.method, r.path) for r in srv.requests]
    assert result.exit_code == 0, [(s.name, s.failure) for s in result.scenarios]
    assert ("POST", "/stolen") not in seen and ("POST", "/token/introspection") in seen


def test_a_later_documents_endpoint_on_another_origin_is_refused_before_anything_is_sent(tmp_path):
    with HostileServer({}) as other, HostileServer({}) as srv:
        other.routes[("POST", "/introspect")] = _active
        srv.routes[("GET", OIDC)] = _doc({"issuer": srv.url, "token_endpoint": srv.url + "/token"})
        srv.routes[("GET", OAUTH)] = _doc({"issuer": srv.url, "introspection_endpoint": other.url + "/introspect"})
        result = _verify(_flow(tmp_path), srv.url)
        assert other.requests == []
    (scn,) = result.scenarios
    assert scn.status == "failed" and result.exit_code == 1
    assert "another origin" in scn.failure.checks[0].actual
    assert f"{srv.url}{OIDC} and {srv.url}{OAUTH}" in scn.failure.checks[0].actual
    assert "s3cr3t-value-123" not in json.dumps(result.to_dict())
