"""The server-neutral example flows against a second, independent server: django-oauth-toolkit
(tests/django_app, started on 127.0.0.1 with SQLite in a temporary folder).

The same flow files verify against the project's oidc-provider and against Django without edits:
endpoints come from discovery, and what differs between the servers is carried by inputs
(:data:`DJANGO_INPUTS`). Where django-oauth-toolkit lacks a behaviour a flow assumes, the input
switches it off and the scenario is skipped with the behaviour named (:data:`DJANGO_GAPS`); a test
below shows each such gap is real: with the switch left on, the scenario fails.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import FLOWS, run_verify
from tests.support.django_server import start_django_server
from tests.support.verify_inputs import verify_inputs

NEUTRAL = ["client-credentials", "authorization-code-pkce", "silent-refresh-rotation", "token-introspection-revocation"]

#: how django-oauth-toolkit differs, as inputs: the consent form's field and values
DJANGO_INPUTS = {"consent_field": "allow", "consent_approve": "Authorize", "consent_deny": "false",
                 "jwt_access_tokens": "false", "interaction_paths": "false"}
#: behaviours the flows assume that django-oauth-toolkit does not have: scenario -> input that says so
DJANGO_GAPS = {
    "authorization-code-pkce/redirect_uri_mismatch": "checks_request_before_login",
    "authorization-code-pkce/missing_pkce": "checks_request_before_login",
    "authorization-code-pkce/wrong_password": "login_error_code",
    "authorization-code-pkce/account_locked": "has_lockout",
    "authorization-code-pkce/token_redirect_mismatch": "redirect_mismatch_invalid_grant",
    "token-introspection-revocation/wrong_client": "introspection_invalid_client",
    "token-introspection-revocation/unauthenticated_after_revocation": "introspection_invalid_client",
}
#: django-oauth-toolkit >= 3.4 refuses a refresh token REFRESH_TOKEN_EXPIRE_SECONDS after its access
#: token expired (older versions never did): its lifetime from issue is the sum, 2 + 4 s here, so the
#: flows wait refresh_token_ttl=5 s after the access token's 3 s
DJANGO_TTL = {"AccessToken": 2, "RefreshToken": 4}


def verify_with(args: list[str], env_file: Path) -> subprocess.CompletedProcess[str]:
    """``flowdoc verify ARGS --env-file ENV_FILE`` in a process of its own."""
    return run_verify([*args, "--env-file", str(env_file)])


@pytest.fixture(scope="module")
def django_server(tmp_path_factory):
    srv = start_django_server(tmp_path_factory.mktemp("django"), ttl=DJANGO_TTL)
    try:
        yield srv
    finally:
        srv.stop()


def django_args(srv, *, gaps: bool = True) -> list[str]:
    values = {
        "issuer": srv.issuer, "resource_url": srv.resource, "redirect_uri": srv.redirect_uri,
        "client_id": "flowdoc-web", "client-credentials.client_id": "flowdoc-service", "username": "alice",
        # introspection: the service gets the token, the web client stands in for the API (any confidential client)
        "token-introspection-revocation.client_id": "flowdoc-service", "api_client_id": "flowdoc-web",
        "access_token_ttl": "3", "service_token_ttl": str(DJANGO_TTL["AccessToken"]), "refresh_token_ttl": "5",
        **DJANGO_INPUTS,
    }
    if gaps:
        values.update({name: "false" for name in DJANGO_GAPS.values()})
    out: list[str] = []
    for k, v in values.items():
        out += ["--input", f"{k}={v}"]
    return out


def django_env(srv, tmp_path: Path) -> Path:
    path = tmp_path / "django.env"
    path.write_text(f"FLOWDOC_CLIENT_SECRET={srv.secrets['flowdoc-web']}\n"
                    f"FLOWDOC_CLIENT_CREDENTIALS__CLIENT_SECRET={srv.secrets['flowdoc-service']}\n"
                    f"FLOWDOC_TOKEN_INTROSPECTION_REVOCATION__CLIENT_SECRET={srv.secrets['flowdoc-service']}\n"
                    f"FLOWDOC_API_CLIENT_SECRET={srv.secrets['flowdoc-web']}\n"
                    f"FLOWDOC_PASSWORD={srv.users['alice']['password']}\n")
    return path


@pytest.fixture(scope="module")
def django_run(django_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("django-run")
    report = tmp / "report.json"
    proc = verify_with([*(str(FLOWS / f"{n}.yaml") for n in NEUTRAL), *django_args(django_server), "--jobs", "4",
                        "--report-json", str(report), "--junit", str(tmp / "junit.xml")], django_env(django_server, tmp))
    return django_server, proc, json.loads(report.read_text()) if report.exists() else None, tmp


def test_server_neutral_flows_verify_against_django(django_run):
    srv, proc, data, _tmp = django_run
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:] + srv.stderr_tail()
    scenarios = {f"{f['id']}/{s['name']}": s for f in data["flows"] for s in f["scenarios"]}
    assert sorted({f["id"] for f in data["flows"]}) == sorted(NEUTRAL)
    skipped = {k for k, s in scenarios.items() if s["status"] == "skipped"}
    passed = {k for k, s in scenarios.items() if s["status"] == "passed"}
    assert skipped == set(DJANGO_GAPS)
    assert passed == set(scenarios) - skipped and len(passed) == 17
    for key, switch in DJANGO_GAPS.items():  # each gap is named, with the input that says so
        reason = scenarios[key]["reason"]
        assert "does not have the behaviour" in reason and f"input {switch}=false" in reason, (key, reason)
    # every step of each flow ran; the skipped branches show as not covered
    for f in data["flows"]:
        assert f["coverage"]["transitions"]["percent"] == 100.0, f["id"]
    # the token requests went to Django's own token endpoint, read from discovery
    happy = scenarios["client-credentials/happy-path"]
    assert [r["url"] for r in happy["steps"] if r["transition"] == "request_token" and r["outcome"] == "response"] == [
        srv.issuer + "/token/"]
    # the JWT check of an opaque access token was not run, and the step says so
    notes = [r["note"] for r in happy["steps"] if r["outcome"] == "skipped"]
    assert any("JWT check of body.access_token not run" in n and "jwt_access_tokens" in n for n in notes), notes
    # nor the lifecycle's format: unobservable on this server, naming the behaviour (not counted as proven)
    for fid in ("client-credentials", "authorization-code-pkce", "silent-refresh-rotation"):  # JWTs assumed
        (flow,) = [f for f in data["flows"] if f["id"] == fid]
        fmt = {e["id"]: e for e in flow["coverage"]["elements"]}["lifecycle:access_token.format"]
        assert fmt["result"] == "unobservable" and "jwt_access_tokens" in fmt["reason"], (fid, fmt)
    # consent denied is proven at the callback, on both servers' terms
    denied = scenarios["authorization-code-pkce/access_denied"]
    assert [r["status"] for r in denied["steps"] if r["transition"] == "give_consent"] == [302]


def test_introspection_and_revocation_endpoints_come_from_rfc_8414(django_run):
    """Django's OpenID document names no introspection or revocation endpoint; its RFC 8414 document
    does: verify reads it once and requests /o/introspect/ and /o/revoke_token/, and the cross-check
    finds nothing missing."""
    srv, proc, data, _tmp = django_run
    scenarios = {s["name"]: s for f in data["flows"] if f["id"] == "token-introspection-revocation"
                 for s in f["scenarios"]}
    happy = scenarios["happy-path"]
    assert happy["status"] == "passed", happy
    assert [(r["transition"], r["url"]) for r in happy["steps"] if r["outcome"] == "response"] == [
        ("get_token", srv.issuer + "/token/"), ("introspect_active", srv.issuer + "/introspect/"),
        ("revoke", srv.issuer + "/revoke_token/"), ("introspect_revoked", srv.issuer + "/introspect/")]
    assert "discovery-endpoint" not in proc.stdout + proc.stderr
    assert not [w for w in data.get("warnings", []) if "introspection_endpoint" in w or "revocation_endpoint" in w]
    # a wrong secret at the revocation endpoint is the standard 401 invalid_client on Django too
    assert scenarios["revoke_bad_secret"]["status"] == "passed"


def test_no_secret_in_django_outputs(django_run):
    srv, proc, data, tmp = django_run
    texts = {"stdout": proc.stdout, "stderr": proc.stderr, "json": json.dumps(data),
             "junit": (tmp / "junit.xml").read_text()}
    for name, text in texts.items():
        for secret in [*srv.secrets.values(), srv.users["alice"]["password"]]:
            assert secret not in text, name
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.", text), name


@pytest.mark.node
def test_token_endpoint_flow_verifies_against_both_servers_without_edits(django_server, oidc_server_verify,
                                                                           tmp_path):
    """client-credentials names `endpoint: token_endpoint`: /token on oidc-provider, /o/token/ on Django."""
    flow = str(FLOWS / "client-credentials.yaml")
    cli, env_text = verify_inputs(oidc_server_verify)
    (tmp_path / "oidc.env").write_text(env_text)
    oidc = verify_with([flow, *cli, "--scenario", "client-credentials", "--report-json", str(tmp_path / "o.json")],
                       tmp_path / "oidc.env")
    dj = verify_with([flow, *django_args(django_server), "--report-json", str(tmp_path / "d.json")],
                     django_env(django_server, tmp_path))
    assert oidc.returncode == 0, oidc.stdout + oidc.stderr
    assert dj.returncode == 0, dj.stdout + dj.stderr
    urls = {}
    for name in ("o", "d"):
        data = json.loads((tmp_path / f"{name}.json").read_text())
        (flow_result,) = data["flows"]
        assert [s["status"] for s in flow_result["scenarios"]] == ["passed"] * 5
        happy = flow_result["scenarios"][0]
        urls[name] = [r["url"] for r in happy["steps"]
                      if r["transition"] == "request_token" and r["outcome"] == "response"]
    assert urls == {"o": [oidc_server_verify.issuer + "/token"], "d": [django_server.issuer + "/token/"]}


def test_django_gaps_are_real(django_server, tmp_path):
    """Left switched on, each behaviour Django lacks fails its scenario: the skips hide no pass."""
    flows = [str(FLOWS / "authorization-code-pkce.yaml"), str(FLOWS / "token-introspection-revocation.yaml")]
    args = django_args(django_server, gaps=False) + ["--input", "has_lockout=false", "--report-json",
                                                     str(tmp_path / "r.json"), "--jobs", "4"]
    for key in DJANGO_GAPS:
        if key.endswith("account_locked"):
            continue  # Django has no locked test account to try
        args += ["--scenario", key]
    proc = verify_with([*flows, *args], django_env(django_server, tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    got = {f"{f['id']}/{s['name']}": s for f in data["flows"] for s in f["scenarios"]}
    assert {k: s["status"] for k, s in got.items()} == {k: "failed" for k in DJANGO_GAPS if "locked" not in k}
    # a wrong password shows the form again with 200, not 401 invalid_credentials
    wrong = got["authorization-code-pkce/wrong_password"]["failure"]
    assert {"what": "status", "expected": "401", "actual": "200"} in wrong["checks"], wrong
    # oauthlib answers a redirect_uri mismatch at the token endpoint with invalid_request
    mismatch = got["authorization-code-pkce/token_redirect_mismatch"]["failure"]
    assert any(c["what"] == "error" and "invalid_request" in c["actual"] for c in mismatch["checks"]), mismatch
    # introspection with a wrong secret: a bare 403, not RFC 7662's 401 invalid_client
    for name in ("wrong_client", "unauthenticated_after_revocation"):
        wrong = got[f"token-introspection-revocation/{name}"]["failure"]
        assert {"what": "status", "expected": "401", "actual": "403"} in wrong["checks"], wrong
