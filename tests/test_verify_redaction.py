"""Redaction of tokens whatever shape a server returns them in (issue 16), against a small real HTTP
server on 127.0.0.1: camelCase JSON, a form-encoded body, a response header, JSON behind an XSSI
prefix; values of answers to requests that carried credentials; the flow's ``public`` list."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from flowdoc.load import read_flow_text
from flowdoc.verify._detect import Publicity, note_request, parse_body, register_text
from flowdoc.verify._redact import Redactor, is_secret_key, looks_like_credential, normalize_key
from tests.support.fake_jwt import b64url, fake_jwt
from tests.support.hostile_http import HostileServer

ROOT = Path(__file__).resolve().parent.parent
CLIENT_SECRET = "cs-" + secrets.token_urlsafe(24)


def _std_b64_token() -> str:
    """An opaque token in standard base64: '+', '/' and '=' change when URL-encoded."""
    while True:
        tok = base64.b64encode(secrets.token_bytes(31)).decode()
        if "+" in tok and "/" in tok:
            return tok


TOKENS = {
    "camel access": secrets.token_urlsafe(32),
    "camel refresh": secrets.token_urlsafe(32),
    "camel token": "tok_" + secrets.token_hex(12),
    "form access": _std_b64_token(),
    "form refresh": secrets.token_urlsafe(40),
    "header subject": "gAAAAA" + secrets.token_urlsafe(60),
    "xssi access": secrets.token_urlsafe(32),
    "xssi id": fake_jwt(),
    "opaque reference": "ref-" + secrets.token_hex(10),
    "captured": "kept-in-" + secrets.token_hex(3),
}


def _json(status: int, data, prefix: str = "") -> tuple:
    return status, [("Content-Type", "application/json")], prefix + json.dumps(data)


ROUTES = {
    ("POST", "/camel/token"): lambda rq: _json(200, {
        "accessToken": TOKENS["camel access"], "refreshToken": TOKENS["camel refresh"], "token": TOKENS["camel token"],
        "tokenType": "Bearer", "expiresIn": 3600, "scope": "api:read"}),
    ("POST", "/form/token"): lambda rq: (200, [("Content-Type", "application/x-www-form-urlencoded")],
                                        f"access_token={quote_plus(TOKENS['form access'])}&token_type=bearer"
                                        f"&expires_in=3600&scope=api%3Aread"
                                        f"&refresh_token={quote_plus(TOKENS['form refresh'])}"),
    ("POST", "/header/token"): lambda rq: (200, [("Content-Type", "application/json"),
                                                 ("X-Subject-Token", TOKENS["header subject"])],
                                          json.dumps({"token": {"expires_at": "2026-11-20T10:00:00Z",
                                                                "methods": ["password"]}})),
    ("POST", "/xssi/token"): lambda rq: _json(200, {"access_token": TOKENS["xssi access"],
                                                    "id_token": TOKENS["xssi id"], "token_type": "Bearer",
                                                    "expires_in": 300}, prefix=")]}',\n"),
    ("POST", "/capture/token"): lambda rq: _json(200, {"h": TOKENS["captured"], "kind": "plain"}),
    ("POST", "/opaque/token"): lambda rq: _json(200, {"reference": TOKENS["opaque reference"], "token_type": "Bearer",
                                                      "expires_in": 3600, "scope": "api:read"}),
}


@pytest.fixture(scope="module")
def server():
    with HostileServer(dict(ROUTES)) as srv:
        yield srv


def write_flow(folder: Path, shape: str, *, auth: str = "client_secret_basic", public: str = "",
               response: str = "{status: 202}") -> Path:
    text = f"""id: shape-{shape}
title: Tokens returned as {shape}
version: "1.0.0"
{public}
actors:
  client: {{name: Client, kind: client}}
  auth: {{name: Auth, kind: authorization-server, base_url: "${{inputs.issuer}}"}}
inputs:
  issuer: {{description: Issuer}}
  client_id: {{description: Client id, default: probe-client}}
  client_secret: {{description: Client secret, secret: true}}
states:
  - {{id: start, initial: true}}
  - {{id: done, terminal: true}}
transitions:
  - id: get_token
    from: start
    to: done
    by: client -> auth
    title: Request a token with the client credentials
    request:
      method: POST
      path: /{shape}/token
      auth: {auth}
      form: {{grant_type: client_credentials}}
    response: {response}
"""
    path = folder / f"shape-{shape}.yaml"
    path.write_text(text)
    assert read_flow_text(text, str(path))[0] is not None
    return path


def run_verify(args: list[str], tmp_path: Path) -> dict[str, str]:
    """flowdoc verify in a subprocess; returns every output: stdout, stderr, JUnit, JSON report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDOC_")}
    env.update({"NO_COLOR": "1", "PYTHONPATH": str(ROOT), "FLOWDOC_CLIENT_SECRET": CLIENT_SECRET})
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "flowdoc", "verify", *args, "--junit", str(junit),
                           "--report-json", str(report)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # every step fails: its excerpts are printed
    ET.fromstring(junit.read_text())  # both reports stay valid
    json.loads(report.read_text())
    return {"stdout": proc.stdout, "stderr": proc.stderr, "junit": junit.read_text(), "json": report.read_text()}


def forms_of(value: str) -> dict[str, str]:
    raw = value.encode()
    return {
        "plain": value,
        "url-encoded": quote(value, safe=""),
        "form-encoded": quote_plus(value),
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "base64url": b64url(raw),
    }


def assert_nothing_leaks(outputs: dict[str, str], values: dict[str, str]) -> None:
    for what, value in values.items():
        for form, text in forms_of(value).items():
            for name, out in outputs.items():
                assert text not in out, f"{what} ({form}) leaked into {name}"


@pytest.mark.parametrize("auth", ["client_secret_basic", "none"])
def test_tokens_in_every_shape_are_redacted_on_a_failing_step(server, tmp_path, auth):
    """With credentials (every value of the answer is secret unless public) and without (the
    tokens are still found by their names and shapes, not by a list of field names)."""
    flows = tmp_path / "flows"
    flows.mkdir()
    for shape in ("camel", "form", "header", "xssi"):
        write_flow(flows, shape, auth=auth)
    out = run_verify([str(flows), "--input", f"issuer={server.url}"], tmp_path)
    assert_nothing_leaks(out, {k: v for k, v in TOKENS.items() if not k.startswith("opaque")})
    assert_nothing_leaks(out, {"client secret": CLIENT_SECRET})
    text = out["stdout"]
    assert text.count("expected: 202") == 4 and "actual:   200" in text
    # the excerpts are there, with placeholders a reader can follow, and the public fields in clear
    for shown in ('"accessToken": "«access_token#', '"refreshToken": "«refresh_token#', '"token": "«token#',
                  '"tokenType": "Bearer"', '"expiresIn": 3600', '"scope": "api:read"',
                  "access_token=«access_token#", "&token_type=bearer&expires_in=3600&scope=api%3Aread",
                  "refresh_token=«refresh_token#", "X-Subject-Token: «x_subject_token#",
                  '"expires_at": "2026-11-20T10:00:00Z"', ")]}',", '"id_token": "«id_token#',
                  '"token_type": "Bearer"'):
        assert shown in text, (shown, text)
    report = json.loads(out["json"])
    failures = [s["failure"] for f in report["flows"] for s in f["scenarios"]]
    assert len(failures) == 4 and all("«" in f["response"] for f in failures)


def test_values_of_an_answer_to_credentials_are_secret_unless_public(server, tmp_path):
    ref = TOKENS["opaque reference"]
    (tmp_path / "a").mkdir()
    write_flow(tmp_path / "a", "opaque")
    out = run_verify([str(tmp_path / "a"), "--input", f"issuer={server.url}"], tmp_path)
    assert_nothing_leaks(out, {"reference": ref})
    assert '"reference": "«reference#1»"' in out["stdout"]
    assert '"token_type": "Bearer", "expires_in": 3600, "scope": "api:read"' in out["stdout"]  # public by default
    # without credentials, a value under a name that says nothing secret is ordinary text
    (tmp_path / "b").mkdir()
    write_flow(tmp_path / "b", "opaque", auth="none")
    out = run_verify([str(tmp_path / "b"), "--input", f"issuer={server.url}"], tmp_path)
    assert f'"reference": "{ref}"' in out["stdout"]
    # the flow marks it public
    (tmp_path / "c").mkdir()
    write_flow(tmp_path / "c", "opaque", public="public: [reference, headers.X-Request-Id]")
    out = run_verify([str(tmp_path / "c"), "--input", f"issuer={server.url}"], tmp_path)
    assert f'"reference": "{ref}"' in out["stdout"] and CLIENT_SECRET not in str(out)


def test_a_value_the_flow_captures_is_redacted_even_when_its_step_fails(server, tmp_path):
    """Nothing about ``h`` looks secret and the request carried no credentials: the flow's capture
    alone makes it secret, before the step's checks fail and its excerpt is printed."""
    write_flow(tmp_path, "capture", auth="none", response="{status: 202, capture: {handle: body.h}}")
    out = run_verify([str(tmp_path / "shape-capture.yaml"), "--input", f"issuer={server.url}"], tmp_path)
    assert_nothing_leaks(out, {"captured": TOKENS["captured"]})
    assert '{"h": "«handle#1»", "kind": "plain"}' in out["stdout"]


def test_public_never_unmasks_a_secret_name(server, tmp_path):
    write_flow(tmp_path, "camel", public="public: [accessToken, token, headers.X-Subject-Token]")
    out = run_verify([str(tmp_path / "shape-camel.yaml"), "--input", f"issuer={server.url}"], tmp_path)
    assert_nothing_leaks(out, {k: v for k, v in TOKENS.items() if k.startswith("camel")})


# ------------------------------------------------------------------ the rules, one by one


def test_key_names_are_matched_whatever_their_case_and_separators():
    for key in ("access_token", "accessToken", "AccessToken", "access-token", "ACCESS_TOKEN", "X-Subject-Token",
                "id_token", "IDToken", "token", "refreshToken", "clientSecret", "x-api-key", "apiKey", "sessionId",
                "mfaCode", "code", "password", "userPassword", "Authorization", "X-Auth-Token", "oauth_token_secret"):
        assert is_secret_key(key), key
    for key in ("token_type", "tokenType", "expires_in", "expiresIn", "scope", "token_endpoint", "error_code",
                "status_code", "public_key", "code_challenge", "client_id", "session_state", "state", "error"):
        assert not is_secret_key(key), key
    assert normalize_key("X-Subject-Token") == "x_subject_token" and normalize_key("IDToken") == "id_token"


def test_shapes_found_in_text_and_bodies():
    red = Redactor()
    jwt, opaque = fake_jwt(), secrets.token_urlsafe(24)
    register_text(red, f"Your token {jwt}. Try again; session: {opaque}; sid=short")
    assert red.redact(f"a {jwt} b {opaque}") == "a «jwt#1» b «session#1»"
    assert parse_body(")]}',\n{\"a\": 1}", "application/json") == {"a": 1}
    assert parse_body("while(1);[1]", "text/javascript") == [1]
    assert parse_body("access_token=x%2By&token_type=bearer", "text/plain") == [{"access_token": "x+y"},
                                                                                 {"token_type": "bearer"}]
    assert parse_body("just some words", "text/plain") is None
    assert parse_body(")]}'" + "[" * 100_000, "application/json") is None  # too deep: not JSON, no crash
    assert looks_like_credential(opaque) and not looks_like_credential("client_credentials_grant_type")
    assert not looks_like_credential("aaaaaaaaaaaaaaaaaaaaaaa1")
    assert Publicity.of(["sub", "body.user.id", "headers.X-Request-Id"]) == Publicity(
        frozenset({"sub", "id"}), frozenset({"x_request_id"}))


def test_a_request_with_credentials_is_recognized():
    red = Redactor()
    red.add("the-declared-secret", "client_secret", declared=True)
    assert note_request(red, "http://h/t", [("Authorization", "Bearer abcdefghijkl")], b"")
    assert red.redact("abcdefghijkl") == "«bearer-credentials#1»"
    assert note_request(red, "http://h/t", [("Cookie", "s=1")], b"")
    assert note_request(red, "http://h/t", [], b"grant_type=refresh_token&refresh_token=r")
    assert note_request(red, "http://h/t?apiKey=k", [], b"")
    assert note_request(red, "http://h/t", [], b'{"userPassword": "x"}')
    assert note_request(red, "http://h/t", [], b"echo=the-declared-secret")
    assert not note_request(red, "http://h/t?state=abc", [("Accept", "application/json")], b"grant_type=none")


def test_redaction_is_one_pass_and_keeps_earlier_placeholders():
    red = Redactor()
    red.add("123456", "otp", declared=True)
    red.add("otp#1", "weird", declared=True)  # a secret that is part of a placeholder's text
    once = red.redact("code 123456")
    assert once == "code «otp#1»" and red.redact(once) == once
    for n in range(60):  # past the small-set pattern: the indexed scan keeps placeholders too
        red.add(f"tok-{n:04d}-{'x' * 10}", "t")
    twice = red.redact(red.redact("code 123456 and tok-0007-xxxxxxxxxx"))
    assert twice == "code «otp#1» and «t#8»"


def _reply(content_type: str, body: str):
    """A HostileServer route answering 200 with ``body`` as ``content_type``."""
    return lambda rq: (200, [("Content-Type", content_type)], body)


def test_a_hostile_body_cannot_stall_the_run_or_grow_the_registry_without_bound(tmp_path):
    """5 MiB bodies made of what the scanners look for (pairs, JWT-like runs, opaque values in a
    JSON list) in answers to a request with credentials: the run ends (a hang guard, not a timing)
    and each answer adds a bounded number of secrets."""
    from flowdoc.verify import Verifier, VerifyOptions
    from flowdoc.verify._detect import MAX_NEW

    size = 5 * 1024 * 1024
    bodies = {
        "pairs": ("text/plain", ("token=" + "Ab1" * 5 + "&") * (size // 22)),
        "jwts": ("text/plain", ("eyJ" + "a" * 13 + ".eyJb.c ") * (size // 25)),
        "runs": ("text/plain", " ".join(secrets.token_urlsafe(16) for _ in range(size // 23))),
        "list": ("application/json", json.dumps([{"ref": f"r{n:012d}x"} for n in range(size // 26)])),
    }
    routes = {("POST", f"/{name}/token"): _reply(ct, b)
              for name, (ct, b) in bodies.items()}
    for name in bodies:
        write_flow(tmp_path, name)
    flows = [read_flow_text((tmp_path / f"shape-{n}.yaml").read_text(), f"shape-{n}.yaml")[0] for n in bodies]
    with HostileServer(routes) as srv:
        options = VerifyOptions(inputs={"issuer": srv.url}, env={"FLOWDOC_CLIENT_SECRET": CLIENT_SECRET}, jobs=5)
        with Verifier(options) as v:
            started = time.monotonic()
            result = v.run(flows)
            assert time.monotonic() - started < 120  # hang guard
            assert len(v.redactor) <= len(bodies) * (MAX_NEW + 10)
    assert [s.status for s in result.scenarios] == ["failed"] * len(bodies)


def test_a_public_entry_that_names_nothing_is_a_clear_error(tmp_path):
    path = write_flow(tmp_path, "camel", public="public: [sub, headers.X-Request-Id]")
    text = path.read_text().replace("public: [sub, headers.X-Request-Id]", 'public: [sub, "user name"]')
    flow, diags = read_flow_text(text, "f.yaml")
    assert flow is None
    [d] = diags.items
    assert (d.code, d.line, d.message) == ("invalid-value", 4, "public[1]: 'user name' is not a response field or header")
    assert "headers.X-Request-Id" in d.help
