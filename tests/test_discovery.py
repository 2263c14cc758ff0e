"""Endpoints from discovery, the discovery cross-check (verify and `flowdoc check --discovery`),
assumed server behaviours, and `follow_redirects: same-origin` — against real servers on 127.0.0.1."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from flowdoc import load_flow
from flowdoc.check import validate_file
from flowdoc.check.discovery import cross_check
from flowdoc.verify import VerifyOptions, verify_flows
from flowdoc.verify._discovery import metadata_urls
from tests.helpers import FLOWS, line_of, run_flowdoc
from tests.support.hostile_http import HostileServer


# ------------------------------------------------------------------ a tiny flow, written per test

TOKEN_FLOW = """\
id: token-only
title: Ask for a token with a grant type
version: "1.0.0"
actors:
  svc: {name: Service, kind: client}
  auth: {name: Authorization Server, kind: authorization-server, base_url: "${inputs.issuer}"}
inputs:
  issuer: {description: Issuer}
  client_id: {description: Client id}
  client_secret: {description: Secret, secret: true}
states:
  - {id: start, title: Start, initial: true}
  - {id: done, title: Done, terminal: true}
transitions:
  - id: ask
    from: start
    to: done
    by: svc -> auth
    title: Ask for a token with the JWT bearer grant
    request:
      method: POST
      path: /token
      endpoint: token_endpoint
      auth: client_secret_basic
      form:
        grant_type: GRANT
        scope: SCOPE
    response:
      status: STATUS
      fields: [FIELD]
"""


def token_flow(tmp_path: Path, grant: str = "client_credentials", scope: str = "api:read", status: int = 200,
               field: str = "access_token", name: str = "token-only.yaml") -> Path:
    path = tmp_path / name
    path.write_text(TOKEN_FLOW.replace("GRANT", grant).replace("SCOPE", scope).replace("STATUS", str(status))
                    .replace("FIELD", field))
    return path


GOOD_BASIC = base64.b64encode(b"svc:s3cr3t-value-123").decode()


def metadata_server(doc: dict | None, issuer_path: str = "") -> HostileServer:
    """A real server that publishes ``doc`` (its ``issuer`` filled in) at the OIDC location, and a token endpoint."""
    routes = {}

    def well_known(seen):
        body = dict(doc or {})
        body.setdefault("issuer", srv.url + issuer_path)
        body.setdefault("token_endpoint", srv.url + issuer_path + "/oauth2/v1/token")
        return 200, [("Content-Type", "application/json")], json.dumps(body)

    def token(seen):
        if seen.headers.get("authorization") != "Basic " + GOOD_BASIC:
            return 401, [("Content-Type", "application/json")], '{"error": "invalid_client"}'
        return 200, [("Content-Type", "application/json")], '{"access_token": "x", "token_type": "Bearer"}'

    if doc is not None:
        routes[("GET", issuer_path + "/.well-known/openid-configuration")] = well_known
    routes[("POST", issuer_path + "/oauth2/v1/token")] = token
    srv = HostileServer(routes)
    return srv


# ------------------------------------------------------------------ where discovery documents are read


def test_metadata_urls_in_order():
    assert metadata_urls("https://auth.test/o/") == [
        "https://auth.test/o/.well-known/openid-configuration",
        "https://auth.test/.well-known/oauth-authorization-server/o",
        "https://auth.test/o/.well-known/oauth-authorization-server",
    ]
    assert metadata_urls("https://auth.test") == [
        "https://auth.test/.well-known/openid-configuration",
        "https://auth.test/.well-known/oauth-authorization-server",
    ]


def _verify(flow_path: Path, issuer: str, **opts):
    flow = load_flow(flow_path)
    options = VerifyOptions(inputs={"issuer": issuer, "client_id": "svc", "client_secret": "s3cr3t-value-123"},
                            env={}, timeout=5, **opts)
    return verify_flows([flow], options)


def test_endpoint_from_discovery_is_requested_once_per_run(tmp_path):
    """The token request goes to the URL discovery names (not the documented /token), and the
    document is read once for every scenario of the run."""
    with metadata_server({}) as srv:
        path = token_flow(tmp_path)
        text = path.read_text().replace("    response:\n", "    failures:\n      - id: bad_secret\n"
                                        "        when: the secret is wrong\n"
                                        "        provoke: {inputs: {client_secret: not-the-secret}}\n"
                                        "        response: {status: 401, error: invalid_client}\n"
                                        "        remedy: Use the right secret.\n"
                                        "    response:\n", 1)
        path.write_text(text)
        result = _verify(path, srv.url, jobs=2)
        assert result.exit_code == 0, [(s.name, s.reason, s.failure) for s in result.scenarios]
        paths = [(r.method, r.path) for r in srv.requests]
    assert paths.count(("GET", "/.well-known/openid-configuration")) == 1
    assert ("POST", "/token") not in paths
    # the happy path; the wrong secret, then the step from the state it leads to
    assert paths.count(("POST", "/oauth2/v1/token")) == 3


def test_rfc8414_path_inserted_location(tmp_path):
    """A server without OIDC discovery: the RFC 8414 document, with the issuer's path inserted."""
    with HostileServer({}) as srv:
        doc = lambda seen: (200, [("Content-Type", "application/json")],  # noqa: E731
                            json.dumps({"issuer": srv.url + "/tenant",
                                        "token_endpoint": srv.url + "/tenant/token-here"}))
        srv.routes[("GET", "/.well-known/oauth-authorization-server/tenant")] = doc
        srv.routes[("POST", "/tenant/token-here")] = lambda seen: (200, [("Content-Type", "application/json")],
                                                                   '{"access_token": "x"}')
        result = _verify(token_flow(tmp_path), srv.url + "/tenant")
        tried = [r.path for r in srv.requests]
    assert result.exit_code == 0, [(s.name, s.failure) for s in result.scenarios]
    assert tried[:3] == ["/tenant/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant",
                         "/tenant/token-here"]


def test_endpoint_on_another_origin_is_refused_before_anything_is_sent(tmp_path):
    with HostileServer({}) as other, metadata_server({}) as srv:
        other.routes[("POST", "/token")] = lambda seen: (200, [], "{}")
        srv.routes[("GET", "/.well-known/openid-configuration")] = lambda seen: (
            200, [("Content-Type", "application/json")],
            json.dumps({"issuer": srv.url, "token_endpoint": other.url + "/token"}))
        result = _verify(token_flow(tmp_path), srv.url)
        assert other.requests == []
    (scn,) = result.scenarios
    assert scn.status == "failed" and result.exit_code == 1
    assert "another origin" in scn.failure.checks[0].actual
    assert "s3cr3t-value-123" not in json.dumps(result.to_dict())


def test_document_naming_another_issuer_is_refused(tmp_path):
    with metadata_server({"issuer": "https://evil.invalid"}) as srv:
        result = _verify(token_flow(tmp_path), srv.url)
        assert [r.path for r in srv.requests] == ["/.well-known/openid-configuration"]
    (scn,) = result.scenarios
    assert scn.status == "failed"
    assert "names the issuer 'https://evil.invalid'" in scn.failure.checks[0].actual


def test_no_discovery_document_is_a_named_failure(tmp_path):
    with metadata_server(None) as srv:
        result = _verify(token_flow(tmp_path), srv.url)
    (scn,) = result.scenarios
    assert scn.status == "failed"
    assert scn.failure.checks[0].what == "discovery"
    assert "no discovery document" in scn.failure.checks[0].actual and "answered 404" in scn.failure.checks[0].actual


def test_huge_discovery_document_is_cut_at_the_body_cap(tmp_path):
    big = b'{"x": "' + b"a" * (11 * 1024 * 1024) + b'"}'
    with HostileServer({}) as srv:
        srv.routes[("GET", "/.well-known/openid-configuration")] = lambda seen: (
            200, [("Content-Type", "application/json")], big)
        result = _verify(token_flow(tmp_path), srv.url)
    (scn,) = result.scenarios
    assert scn.status == "failed"
    assert "larger than 10 MB" in scn.failure.checks[0].actual


# ------------------------------------------------------------------ the cross-check


def test_verify_reports_a_contradiction_at_the_flow_statement(tmp_path):
    """The server refuses a grant type its metadata does not list, as the flow documents; the run
    passes, and the contradiction is reported with the flow's FILE:LINE:COL."""
    doc = {"grant_types_supported": ["authorization_code", "client_credentials"],
           "scopes_supported": ["openid", "api:read"]}
    with metadata_server(doc) as srv:
        path = token_flow(tmp_path, grant="password", scope="api:read admin:all", status=200)
        result = _verify(path, srv.url)
    assert result.exit_code == 0
    line = line_of(path, "grant_type: password")
    scope_line = line_of(path, "scope: api:read admin:all")
    found = [w for w in result.warnings if "discovery-" in w]
    assert any(w.startswith(f"{path}:{line}:21: error[discovery-grant-type]: 'ask' uses the grant type 'password'")
               for w in found), found
    assert any(w.startswith(f"{path}:{scope_line}:16: warning[discovery-scope]") and "'admin:all'" in w
               for w in found), found


def test_check_discovery_file_reports_each_kind(tmp_path):
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({
        "issuer": "https://auth.test",
        "authorization_endpoint": "https://auth.test/authorize",
        "token_endpoint": "https://auth.test/token",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["plain"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "scopes_supported": ["openid"],
    }))
    proc = run_flowdoc("check", "--discovery", str(meta), "flows/authorization-code-pkce.yaml",
                   "flows/client-credentials.yaml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    acp, cc = FLOWS / "authorization-code-pkce.yaml", FLOWS / "client-credentials.yaml"
    rel_acp, rel_cc = "flows/authorization-code-pkce.yaml", "flows/client-credentials.yaml"
    expected = [
        (rel_acp, line_of(acp, "code_challenge_method: S256"), "discovery-pkce"),
        (rel_acp, line_of(acp, "auth: client_secret_basic"), "discovery-auth-method"),
        (rel_acp, line_of(acp, "- token: body.id_token"), "discovery-signing-alg"),
        (rel_acp, line_of(acp, "scope: ${inputs.scope}"), "discovery-scope"),
        (rel_cc, line_of(cc, "grant_type: client_credentials"), "discovery-grant-type"),
        (rel_cc, line_of(cc, "auth: client_secret_basic"), "discovery-auth-method"),
    ]
    for file, line, code in expected:
        assert f"{file}:{line}:" in out and code in out, (file, line, code, out)
        assert any(ln.startswith(f"{file}:{line}:") and code in ln for ln in out.splitlines()), (file, line, code)
    assert "response_type" not in out  # code is listed
    assert "'api:read'" in out  # the scope's input default was resolved


@pytest.mark.node
def test_check_discovery_against_the_running_test_server(oidc_server, tmp_path):
    """`flowdoc check --discovery ISSUER` reads the real oidc-provider's document: the example flows
    agree with it; a copy asking for the plain PKCE method and an unlisted response type does not."""
    ok = run_flowdoc("check", "--discovery", oidc_server.issuer, "flows/")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "contradictions" in ok.stderr
    flow = tmp_path / "authorization-code-pkce.yaml"
    flow.write_text((FLOWS / "authorization-code-pkce.yaml").read_text()
                    .replace("code_challenge_method: S256", "code_challenge_method: plain")
                    .replace("response_type: code\n", "response_type: code id_token\n"))
    bad = run_flowdoc("check", "--discovery", oidc_server.discovery_url, str(flow))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    lines = bad.stdout.splitlines()
    pkce = line_of(flow, "code_challenge_method: plain")
    rtype = line_of(flow, "response_type: code id_token")
    assert any(ln.startswith(f"{flow}:{pkce}:32: error[discovery-pkce]") and "'plain'" in ln and "S256" in ln
               for ln in lines), bad.stdout
    assert any(ln.startswith(f"{flow}:{rtype}:24: error[discovery-response-type]") for ln in lines), bad.stdout


def test_check_discovery_unreadable_and_unreachable(tmp_path):
    (tmp_path / "bad.json").write_text("[1, 2]")
    proc = run_flowdoc("check", "--discovery", str(tmp_path / "bad.json"), "flows/client-credentials.yaml")
    assert proc.returncode == 2 and "not a discovery document" in proc.stderr and "Traceback" not in proc.stderr
    with HostileServer({}) as srv:
        url = srv.url
    proc = run_flowdoc("check", "--discovery", url, "flows/client-credentials.yaml")  # nothing listens there now
    assert proc.returncode == 3 and "unreachable discovery document" in proc.stderr, proc.stderr
    proc = run_flowdoc("check", "--discovery", "ftp://auth.invalid/x", "flows/client-credentials.yaml")
    assert proc.returncode == 2 and "only http(s) URLs and files" in proc.stderr


def test_cross_check_skips_unknown_values_and_hostile_lists():
    flow = load_flow(FLOWS / "client-credentials.yaml")
    # no lists at all: nothing contradicts (token_endpoint_auth_methods defaults to client_secret_basic)
    assert cross_check(flow, {"token_endpoint": "https://a.test/t"}) == []
    assert cross_check(flow, ["not", "a", "dict"]) == []
    # a document listing a million grant types is read up to a bound, and still answers
    huge = {"token_endpoint": "x", "grant_types_supported": ["g%d" % i for i in range(1_000_000)]}
    found = cross_check(flow, huge)
    assert [d.code for d in found] == ["discovery-grant-type"]
    assert len(found[0].message) < 600


# ------------------------------------------------------------------ assumed behaviours


def test_undefined_assumption_and_input_are_validation_errors(tmp_path):
    path = tmp_path / "cc.yaml"
    text = (FLOWS / "client-credentials.yaml").read_text()
    text = text.replace("assumes: [unknown_scope_refused]", "assumes: [unknown_scope_refusd]")
    text = text.replace("input: jwt_access_tokens", "input: jwt_tokens")
    path.write_text(text)
    _flow, diags = validate_file(path)
    found = {(d.code, d.line, d.col) for d in diags.errors}
    assert ("undefined-assumption", line_of(path, "unknown_scope_refusd"), 19) in found, found
    assert ("undefined-input", line_of(path, "input: jwt_tokens"), 12) in found, found
    msgs = " ".join(d.message + " " + (d.help or "") for d in diags.errors)
    assert "did you mean 'unknown_scope_refused'" in msgs or "unknown_scope_refused" in msgs


def test_a_token_format_names_a_listed_behaviour_and_needs_a_format(tmp_path):
    path = tmp_path / "cc.yaml"
    base = (FLOWS / "client-credentials.yaml").read_text()
    assert base.count("format_assumes: jwt_access_tokens") == 1
    path.write_text(base.replace("format_assumes: jwt_access_tokens", "format_assumes: jwt_acces_tokens"))
    _flow, diags = validate_file(path)
    found = [(d.code, d.line, d.col) for d in diags.errors]
    assert found == [("undefined-assumption", line_of(path, "format_assumes: jwt_acces_tokens"), 23)], found
    assert "the format of token 'access_token'" in diags.errors[0].message
    path.write_text(base.replace("      format: jwt\n      format_assumes:", "      format_assumes:"))
    _flow, diags = validate_file(path)
    token = line_of(path, "description: JWT access token for the API audience")  # the token's mapping
    assert [(d.code, d.line) for d in diags.errors] == [("invalid-value", token)], [d.message for d in diags.errors]
    assert "give the format too" in diags.errors[0].message


def test_switched_off_behaviour_skips_its_branch_naming_it(tmp_path):
    """The branch is skipped (not passed), its reason names the behaviour and the input; its
    inputs are not asked for."""
    with metadata_server({}) as srv:
        path = token_flow(tmp_path)
        text = path.read_text()
        text = text.replace("inputs:\n", "inputs:\n  narrows: {description: refuses, default: true}\n"
                                        "  other_secret: {description: never given, secret: true}\n", 1)
        text = text.replace("states:\n", "assumes:\n  - id: refuses_scope\n    text: A scope it does not "
                                         "know is refused.\n    input: narrows\nstates:\n", 1)
        text = text.replace("    response:\n", "    failures:\n      - id: bad_scope\n        when: unknown scope\n"
                                              "        provoke: {inputs: {client_secret: '${inputs.other_secret}'}}\n"
                                              "        response: {status: 400, error: invalid_scope}\n"
                                              "        assumes: [refuses_scope]\n        remedy: Ask less.\n"
                                              "    response:\n", 1)
        path.write_text(text)
        flow = load_flow(path)
        result = verify_flows([flow], VerifyOptions(inputs={"issuer": srv.url, "client_id": "svc",
                                                            "client_secret": "s3cr3t-value-123", "narrows": "false"},
                                                    env={}, timeout=5))
    by = {s.name: s for s in result.scenarios}
    assert by["happy-path"].status == "passed"
    assert by["bad_scope"].status == "skipped"
    assert "'refuses_scope'" in by["bad_scope"].reason and "input narrows=false" in by["bad_scope"].reason
    assert result.exit_code == 0


# ------------------------------------------------------------------ follow_redirects: same-origin


def test_same_origin_stops_at_a_redirect_elsewhere_and_sends_nothing_there(tmp_path):
    with HostileServer({}) as app, HostileServer({}) as auth:
        app.routes[("GET", "/callback")] = lambda seen: (200, [], "callback reached")
        auth.routes[("GET", "/authorize")] = lambda seen: (302, [("Location", "/login?x=1")], "")
        auth.routes[("GET", "/login")] = lambda seen: (303, [("Location", app.url + "/callback?code=abc")], "")
        path = tmp_path / "browser.yaml"
        path.write_text(f"""\
id: browser
title: The browser inside the server
actors:
  browser: {{name: Browser, kind: user-agent}}
  auth: {{name: Authorization Server, kind: authorization-server, base_url: "{auth.url}"}}
states:
  - {{id: start, title: Start, initial: true}}
  - {{id: done, title: Done, terminal: true}}
transitions:
  - id: go
    from: start
    to: done
    by: browser -> auth
    title: Open the authorization endpoint
    request: {{method: GET, path: /authorize, follow_redirects: same-origin}}
    response:
      status: 303
      redirect: {{to: "{app.url}/callback", query: {{code: abc}}}}
""")
        result = verify_flows([load_flow(path)], VerifyOptions(env={}, timeout=5))
        assert app.requests == []
        assert [r.path for r in auth.requests] == ["/authorize", "/login"]
    assert result.exit_code == 0, [(s.name, s.failure) for s in result.scenarios]
