"""flowdoc verify without the Node server: inputs, redaction, forms, planning, JWT checks, the
HTTP exchange, and faults a real server cannot be made to produce (mocked with respx)."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import typing
from pathlib import Path
from urllib.parse import parse_qs, unquote

import httpx
import pytest
import respx
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from flowdoc.load import read_flow_text
from flowdoc.model.flow import CLIENT_SECRET_AUTH, ClientAuth, latest_versions
from flowdoc.model.version import Version
from flowdoc.verify import (
    CheckFailure,
    InputError,
    Verifier,
    VerifyError,
    VerifyOptions,
    load_flows,
    parse_env_file,
    parse_input_args,
)
from flowdoc.verify._auth import AUTH_METHODS, ClientAuthMethod, _ClientSecret, auth_method
from flowdoc.verify._challenge import www_authenticate_params
from flowdoc.verify._memo import Memo
from flowdoc.verify._forms import parse_page
from flowdoc.verify._inputs import InputSources
from flowdoc.verify._jwt import JwksCache, verify_jwt
from flowdoc.verify._redact import Redactor
from tests.helpers import run
from tests.support.hostile_http import HostileServer

API = "http://127.0.0.1:9"  # never contacted: respx answers (or, unmocked, the port is closed)


def make_flow(tmp_path: Path, transitions: str, *, inputs: str = "", extra: str = "", name: str = "probe",
              version: str = "1.0.0", states: str | None = None) -> Path:
    text = f"""id: {name}
title: A probe flow for the verify tests
version: "{version}"
actors:
  client: {{name: Client, kind: client}}
  api: {{name: API, kind: resource-server, base_url: "${{inputs.api}}"}}
inputs:
  api: {{description: Base URL of the API}}
  client_id: {{description: Client id, default: probe-client}}
  client_secret: {{description: Client secret, secret: true}}
{inputs}
states:
{states or '''  - {id: start, initial: true}
  - {id: middle}
  - {id: done, terminal: true}
  - {id: rejected, terminal: true, failure: true}'''}
transitions:
{transitions}
{extra}
"""
    path = tmp_path / f"{name}-{version}.yaml"
    path.write_text(text)
    flow, diags = read_flow_text(text, str(path))
    assert flow is not None, [d.message for d in diags.items]
    return path


TOKEN_STEP = """  - id: get_token
    from: start
    to: middle
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
        when: the secret is wrong
        provoke: {inputs: {client_secret: wrong-secret}}
        response: {status: 401, error: invalid_client}
        to: rejected
        remedy: Use the right secret.
  - id: call
    from: middle
    to: done
    by: client -> api
    title: Call the API with the bearer token
    request: {method: GET, path: /me, auth: bearer, token: "${steps.get_token.access_token}"}
    response: {status: 200, fields: [sub]}
    failures:
      - id: no_token
        when: the token is missing
        provoke: {request: {omit: [Authorization]}}
        response: {status: 401, error: invalid_token}
        to: start
        remedy: Get a token first.
"""

SECRET = "p@ss:w/rd é+&="


def run_cli(args: list[str], env: dict | None = None):
    return run("verify", *args, env={"NO_COLOR": "1", **(env or {})})


def token_api(router: respx.MockRouter, *, secret: str = SECRET, calls: list | None = None) -> None:
    def token(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(request)
        auth = request.headers.get("authorization", "")
        raw = base64.b64decode(auth.split(" ", 1)[1]).decode() if auth.startswith("Basic ") else ""
        cid, _, sec = raw.partition(":")
        if unquote(sec) != secret:
            return httpx.Response(401, json={"error": "invalid_client"})
        return httpx.Response(200, json={"access_token": "at-" + "x" * 30, "token_type": "Bearer"})

    def me(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer at-" + "x" * 30:
            return httpx.Response(401, json={"error": "invalid_token"},
                                  headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return httpx.Response(200, json={"sub": "probe"})

    router.post(f"{API}/token").mock(side_effect=token)
    router.get(f"{API}/me").mock(side_effect=me)


# ------------------------------------------------------------------ inputs


def test_input_args_and_env_file(tmp_path):
    assert parse_input_args(["a=b=c", "flow-x.name=v", "e="]) == {"a": "b=c", "flow-x.name": "v", "e": ""}
    # the message names what is wrong, never the value (it may be a secret)
    for bad, shown in [("s3cret-alone", "no NAME="), ("=s3cret", "no NAME="), ("a b=s3cret", "name 'a b'")]:
        with pytest.raises(InputError) as exc:
            parse_input_args([bad])
        assert str(exc.value) == f"--input expects NAME=VALUE or FLOW.NAME=VALUE; got {shown}"
    f = tmp_path / "e.env"
    f.write_text('# c\nexport FLOWDOC_A="quoted value"\nFLOWDOC_B=\'single\'\nFLOWDOC_C=plain # note\n\nFLOWDOC_D=a=b\n')
    assert parse_env_file(f) == {"FLOWDOC_A": "quoted value", "FLOWDOC_B": "single", "FLOWDOC_C": "plain",
                                 "FLOWDOC_D": "a=b"}
    f.write_text("FLOWDOC_A=ok\nthis line holds s3cret\n")
    with pytest.raises(InputError) as exc:
        parse_env_file(f)
    assert "s3cret" not in str(exc.value) and ":2:" in str(exc.value)


def test_input_precedence(tmp_path):
    flow = read_flow_text(make_flow(tmp_path, TOKEN_STEP).read_text())[0]
    cli, env, file = {}, {}, {}

    def value(name="client_id"):
        found = InputSources(dict(cli), dict(env), dict(file)).lookup(flow, name)
        return found and found[0]

    assert InputSources().lookup(flow, "client_id") == ("probe-client", "default")
    assert value("client_secret") is None
    file["FLOWDOC_CLIENT_ID"] = "from-file"
    assert value() == "from-file"
    env["FLOWDOC_CLIENT_ID"] = "from-env"
    assert value() == "from-env"
    file["FLOWDOC_PROBE__CLIENT_ID"] = "scoped-file"
    assert value() == "from-env"  # the environment wins over the file
    env["FLOWDOC_PROBE__CLIENT_ID"] = "scoped-env"
    assert value() == "scoped-env"
    cli["client_id"] = "from-cli"
    assert value() == "from-cli"
    cli["probe.client_id"] = "scoped-cli"
    assert value() == "scoped-cli"
    assert InputSources(dict(cli)).label(flow, "client_id") == "probe.client_id"
    assert InputSources({"client_id": "x"}).label(flow, "client_id") == "client_id"
    values = {"client_secret": "s3cret-on-the-command-line", "nope": "value-of-nope", "other-flow.api": "value-of-api"}
    src = InputSources(values)
    warnings = src.warnings([flow])
    assert any("secret input 'client_secret'" in w and "$FLOWDOC_CLIENT_SECRET" in w for w in warnings)
    assert any("'nope' is not an input" in w for w in warnings)
    assert any("'other-flow.api' is not an input" in w for w in warnings)
    assert len(warnings) == 3 and not any(v in w for v in values.values() for w in warnings)


# ------------------------------------------------------------------ redaction


def test_redactor_placeholders_are_stable_and_catch_encodings():
    r = Redactor()
    assert r.add(SECRET, "client_secret", numbered=False, declared=True) == "«client_secret»"
    assert r.add("tok-aaaaaaaaaaaa", "access_token") == "«access_token#1»"
    assert r.add("tok-bbbbbbbbbbbb", "access_token") == "«access_token#2»"
    assert r.add("tok-aaaaaaaaaaaa", "other") == "«access_token#1»"
    assert r.add("short", "access_token") is None  # detected values shorter than 6 are ordinary text
    text = f"a={SECRET} b={httpx.QueryParams({'x': SECRET})} c={json.dumps(SECRET)} d=tok-bbbbbbbbbbbb"
    out = r.redact(text)
    assert SECRET not in out and "p%40ss" not in out and "tok-b" not in out
    assert out.count("«client_secret»") == 3 and "«access_token#2»" in out
    obj = r.redact_obj({"refresh_token": "rt-cccccccccccc", "nested": [{"password": "hunter2!"}], "n": 3})
    assert obj == {"refresh_token": "«refresh_token#1»", "nested": [{"password": "«password#1»"}], "n": 3}
    assert r.redact("rt-cccccccccccc") == "«refresh_token#1»"


# ------------------------------------------------------------------ HTML forms


def test_form_parser_reads_what_a_browser_submits():
    page = parse_page("""<!doctype html><html><head><title> Sign &amp; in </title></head><body>
      <p class="msg error" id="x">invalid_credentials</p>
      <form id="login" method="post" action="/login?x=1&amp;y=2">
        <input type="hidden" name="csrf" value="a&quot;b">
        <input name="username"><input type="password" name="password" value="">
        <input type="checkbox" name="remember" checked><input type="checkbox" name="off">
        <input type="radio" name="r" value="1"><input type="radio" name="r" value="2" checked>
        <select name="lang"><option value="en">English<option value="de" selected>Deutsch</select>
        <select name="first"><option>One</option><option>Two</option></select>
        <textarea name="note">hi &lt;there&gt;</textarea>
        <input type="submit" name="go" value="Go"><button name="decision" value="deny">Deny</button>
        <input name="dis" value="d" disabled>
      </form>
      <form action="/other"><input name="q" value="1"></form>
    </body></html>""")
    assert page.title == "Sign & in"
    assert page.errors == ["invalid_credentials"]
    login, other = page.forms
    assert (login.id, login.method, login.action) == ("login", "POST", "/login?x=1&y=2")
    assert login.fields == {"csrf": 'a"b', "username": "", "password": "", "remember": "on", "r": "2",
                            "lang": "de", "first": "One", "note": "hi <there>"}
    assert (other.id, other.method) == (None, "GET")
    cap = login.as_capture("http://h/interaction/u1")
    assert cap["action"] == "http://h/login?x=1&y=2"


FOLLOW_STEPS = """  - id: open
    from: start
    to: middle
    by: client -> api
    title: Open a page that redirects
    request: {method: GET, path: /open}
    response: {status: 302, capture: {next: {from: location, secret: false}}}
  - id: follow
    from: middle
    to: done
    by: client -> api
    title: Follow the redirect
    request: {method: GET, path: "DOCUMENTED", url: "${steps.open.next}"}
    response: {status: 200}
"""


@pytest.mark.parametrize("documented, location, matches", [
    ("/interaction/{uid}/login", "/interaction/abc/login", True),
    ("/interaction/{uid}/login", "/prefix/interaction/abc/login", True),  # behind a path prefix
    ("/interaction/{uid}/login", "/interaction/a/b/login", False),  # a segment is one segment
    ("/token", "/tokens", False),
    ("/token", "/token/", True),
])
def test_a_url_from_an_earlier_step_is_checked_against_the_documented_path(tmp_path, documented, location, matches):
    flow = make_flow(tmp_path, FOLLOW_STEPS.replace("DOCUMENTED", documented),
                     states="  - {id: start, initial: true}\n  - {id: middle}\n  - {id: done, terminal: true}")
    routes = {("GET", "/open"): lambda seen: (302, [("Location", location)], b""),
              ("GET", location): lambda seen: (200, [("Content-Type", "text/plain")], b"ok")}
    with HostileServer(routes) as srv, Verifier(VerifyOptions(inputs={"api": srv.url})) as v:
        result = v.run(load_flows([flow]))
        sent = [seen.path for seen in srv.requests]
    happy = result.scenarios[0]
    if matches:
        assert result.exit_code == 0 and happy.status == "passed", happy.failure
        assert sent == ["/open", location]
    else:
        assert result.exit_code == 1 and sent == ["/open"]  # refused before anything is sent
        assert happy.failure.step == "follow"
        assert happy.failure.message == "the request URL does not match the documented path"
        assert happy.failure.checks == [CheckFailure("path", documented, location)]


def test_small_helpers():
    assert www_authenticate_params('Bearer realm="api", error="invalid_token", error_description="a \\"b\\""') == {
        "realm": "api", "error": "invalid_token", "error_description": 'a "b"'}
    key = Version.key
    assert key("2.0.0") > key("2.0.0-rc.1") > key("1.9.9") > key(None)
    assert key("1.10.0") > key("1.9.0")


# ------------------------------------------------------------------ planning


def test_plan_latest_versions_routes_and_selection(tmp_path):
    old = make_flow(tmp_path, TOKEN_STEP, version="1.0.0")
    new = make_flow(tmp_path, TOKEN_STEP, version="1.2.0")
    flows = [read_flow_text(p.read_text(), str(p))[0] for p in (new, old)]
    assert [f.version for f in latest_versions(flows)] == ["1.2.0"]
    with Verifier(VerifyOptions()) as v:
        plan = v.plan(flows)
        assert [s.id for s in plan] == ["probe/happy-path", "probe/bad_secret", "probe/no_token"]
        no_token = plan[2]
        assert [t.id for t in no_token.route] == ["get_token"] and no_token.target.id == "call"
        assert no_token.follow_up.id == "get_token"  # the branch leads back to 'start'
        assert plan[1].follow_up is None and plan[1].follow_route == []  # 'rejected' is terminal
    with Verifier(VerifyOptions(all_versions=True, scenarios=["probe@1.0.0/no_token", "bad_secret"])) as v:
        assert [s.id for s in v.plan(flows)] == ["probe@1.2.0/bad_secret", "probe@1.0.0/bad_secret",
                                                 "probe@1.0.0/no_token"]
    with Verifier(VerifyOptions(scenarios=["nope"])) as v, pytest.raises(VerifyError, match="no scenario 'nope'"):
        v.plan(flows)
    with Verifier(VerifyOptions()) as v, pytest.raises(VerifyError) as exc:
        v.check_inputs(v.plan(flows))
    assert "'api'" in str(exc.value) and "$FLOWDOC_API" in str(exc.value) and "client_secret" in str(exc.value)


# ------------------------------------------------------------------ JWT


@pytest.fixture(scope="module")
def rsa_key():
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})


def _jwks_cache(*keys) -> JwksCache:
    doc = {"keys": [k.as_dict(private=False) for k in keys]}
    return JwksCache(lambda url: doc)


def test_jwt_checks(rsa_key):
    now = int(time.time())
    claims = {"iss": "https://as", "aud": ["web", "other"], "exp": now + 60, "iat": now, "nonce": "n1",
              "acr": "mfa", "sub": "alice"}
    good = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, rsa_key)
    cache = _jwks_cache(rsa_key)
    c, problems = verify_jwt(good, jwks_url="u", cache=cache, iss="https://as", aud="web", nonce="n1",
                             claims={"acr": "mfa"}, required=["sub", "iat"])
    assert problems == [] and c["sub"] == "alice"
    _, problems = verify_jwt(good, jwks_url="u", cache=cache, iss="https://AS", aud="api", nonce="n2",
                             claims={"acr": "pwd"}, required=["auth_time"])
    assert [p.what for p in problems] == ["claim iss", "claim aud", "claim nonce", "claim acr", "claim auth_time"]
    assert all(good not in (p.expected + p.actual) for p in problems)
    expired = jwt.encode({"alg": "RS256", "kid": "k1"}, {**claims, "exp": now - 5}, rsa_key)
    assert [p.what for p in verify_jwt(expired, jwks_url="u", cache=cache)[1]] == ["claim exp"]
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    forged = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, other)
    assert verify_jwt(forged, jwks_url="u", cache=cache)[1][0].what == "signature"
    unknown = jwt.encode({"alg": "RS256", "kid": "k9"}, claims, rsa_key)
    assert verify_jwt(unknown, jwks_url="u", cache=cache)[1][0].what == "kid"
    hs = jwt.encode({"alg": "HS256"}, claims, OctKey.generate_key(256))
    assert verify_jwt(hs, jwks_url="u", cache=cache)[1][0].what == "alg"
    none = ".".join(base64.urlsafe_b64encode(json.dumps(x).encode()).decode().rstrip("=")
                    for x in ({"alg": "none"}, claims)) + "."
    assert verify_jwt(none, jwks_url="u", cache=cache)[1][0].what == "alg"
    assert verify_jwt("not-a-jwt", jwks_url="u", cache=cache)[1][0].what == "JWT"


def test_jwt_key_rotation_refetches_once(rsa_key):
    new_key = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256"})
    docs = [{"keys": [rsa_key.as_dict(private=False)]},
            {"keys": [rsa_key.as_dict(private=False), new_key.as_dict(private=False)]}]
    fetched = []

    def fetch(url):
        fetched.append(url)
        return docs[min(len(fetched) - 1, 1)]

    cache = JwksCache(fetch)
    assert verify_jwt(jwt.encode({"alg": "RS256", "kid": "k1"}, {"exp": time.time() + 9}, rsa_key),
                      jwks_url="u", cache=cache)[1] == []
    time.sleep(1.05)
    assert verify_jwt(jwt.encode({"alg": "RS256", "kid": "k2"}, {"exp": time.time() + 9}, new_key),
                      jwks_url="u", cache=cache)[1] == []
    assert len(fetched) == 2


# ------------------------------------------------------------------ the exchange (respx)


def test_auth_strategies_follow_the_model():
    """One strategy per ``auth`` value; those that send the client secret are the model's CLIENT_SECRET_AUTH."""
    assert set(AUTH_METHODS) == set(typing.get_args(ClientAuth))
    assert {n for n, m in AUTH_METHODS.items() if isinstance(m, _ClientSecret)} == set(CLIENT_SECRET_AUTH)

    class SecretOutsideTheModel(_ClientSecret):
        name = "client_secret_jwt"

    class PlainInsideTheModel(ClientAuthMethod):
        name = "client_secret_basic"

    for cls in (SecretOutsideTheModel, PlainInsideTheModel):
        with pytest.raises(TypeError, match="CLIENT_SECRET_AUTH"):
            auth_method(cls)
    assert set(AUTH_METHODS) == set(typing.get_args(ClientAuth))  # nothing was registered


def test_client_secret_basic_is_form_encoded_and_nothing_leaks(tmp_path):
    flow = make_flow(tmp_path, TOKEN_STEP)
    calls: list[httpx.Request] = []
    with respx.mock(assert_all_called=False) as router:
        token_api(router, calls=calls)
        res = run_cli([str(flow), "--input", f"api={API}", "--junit", str(tmp_path / "j.xml")],
                      env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 0, res.stdout + res.stderr
    raw = base64.b64decode(calls[0].headers["authorization"][6:]).decode()
    assert raw == "probe-client:p%40ss%3Aw%2Frd%20%C3%A9%2B%26%3D"
    assert calls[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(calls[0].content.decode()) == {"grant_type": ["client_credentials"]}
    assert "transitions 2/2 (100%)" in res.stdout and "failure branches 2/2 (100%)" in res.stdout
    for text in (res.stdout, res.stderr, (tmp_path / "j.xml").read_text()):
        assert SECRET not in text and "at-xxxx" not in text


def test_client_secret_post_and_error_sources(tmp_path):
    steps = TOKEN_STEP.replace("auth: client_secret_basic", "auth: client_secret_post")
    flow = make_flow(tmp_path, steps)
    calls: list[httpx.Request] = []

    def token(request):
        calls.append(request)
        form = parse_qs(request.content.decode())
        if form.get("client_secret") != [SECRET]:
            # the error code in a redirect's query, not in the body
            return httpx.Response(401, headers={"Location": "https://cb/?error=invalid_client&state=s"})
        return httpx.Response(200, json={"access_token": "at-" + "x" * 30})

    with respx.mock(assert_all_called=False) as router:
        token_api(router)
        router.post(f"{API}/token").mock(side_effect=token)
        res = run_cli([str(flow), "--input", f"api={API}"], env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "authorization" not in calls[0].headers
    assert parse_qs(calls[0].content.decode())["client_id"] == ["probe-client"]


def test_changed_expectation_fails_with_exit_1(tmp_path):
    flow = make_flow(tmp_path, TOKEN_STEP.replace("response: {status: 401, error: invalid_client}",
                                                  "response: {status: 400, error: invalid_grant}"))
    with respx.mock(assert_all_called=False) as router:
        token_api(router)
        res = run_cli([str(flow), "--input", f"api={API}"], env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 1
    assert "FAILED probe/bad_secret" in res.stdout
    assert "step:     get_token (provoke)" in res.stdout
    assert "expected: 400\n    actual:   401" in res.stdout
    assert "expected: invalid_grant\n    actual:   invalid_client (body)" in res.stdout
    assert "Authorization: Basic «basic probe-client:client_secret»" not in res.stdout  # provoked: wrong secret
    assert "POST http://127.0.0.1:9/token" in res.stdout and SECRET not in res.stdout


def test_connection_refused_exits_3(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: a real "connection refused"
    flow = make_flow(tmp_path, TOKEN_STEP)
    res = run_cli([str(flow), "--input", f"api=http://127.0.0.1:{port}", "--timeout", "2"],
                  env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 3, res.stdout
    assert "connection refused" in res.stdout and SECRET not in res.stdout + res.stderr


def test_connection_reset_exits_3(tmp_path):
    flow = make_flow(tmp_path, TOKEN_STEP)
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/token").mock(side_effect=httpx.ReadError("[Errno 104] Connection reset by peer"))
        res = run_cli([str(flow), "--input", f"api={API}"], env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 3
    assert "connection reset" in res.stdout


def test_timeout_5xx_and_slow_body_are_conformance_failures(tmp_path):
    flow = make_flow(tmp_path, TOKEN_STEP)

    class Slow(httpx.SyncByteStream):
        def __iter__(self):
            for _ in range(20):
                time.sleep(0.1)
                yield b" "

    for effect, words in [
        (httpx.ReadTimeout("timed out"), "no response within 0.5 s"),
        (httpx.Response(503, json={"error": "temporarily_unavailable"}), "expected: 200\n    actual:   503"),
        (lambda request: httpx.Response(200, headers={"content-type": "application/json"}, stream=Slow()),
         "did not arrive within 0.5 s"),
    ]:
        with respx.mock(assert_all_called=False) as router:
            route = router.post(f"{API}/token")
            route.mock(side_effect=effect) if callable(effect) or isinstance(effect, Exception) else \
                route.mock(return_value=effect)
            started = time.monotonic()
            res = run_cli([str(flow), "--input", f"api={API}", "--timeout", "0.5", "--scenario", "happy-path"],
                          env={"FLOWDOC_CLIENT_SECRET": SECRET})
            assert time.monotonic() - started < 5
        assert res.exit_code == 1, (words, res.stdout)
        assert words in res.stdout, res.stdout


def test_retries_only_where_declared(tmp_path):
    answers = [httpx.Response(503), httpx.Response(200, json={"access_token": "at-" + "x" * 30})]
    for steps, expect_calls, code in [(TOKEN_STEP, 1, 1),
                                      (TOKEN_STEP.replace("      auth: client_secret_basic\n",
                                                          "      auth: client_secret_basic\n"
                                                          "      retry: {attempts: 3, backoff: 0}\n"), 2, 0)]:
        flow = make_flow(tmp_path, steps)
        with respx.mock(assert_all_called=False) as router:
            token_api(router)
            route = router.post(f"{API}/token").mock(side_effect=list(answers))
            res = run_cli([str(flow), "--input", f"api={API}", "--scenario", "happy-path"],
                          env={"FLOWDOC_CLIENT_SECRET": SECRET})
        assert route.call_count == expect_calls, res.stdout
        assert res.exit_code == code, res.stdout


def test_expected_timeout_outcome(tmp_path):
    steps = TOKEN_STEP.replace("""      - id: bad_secret
        when: the secret is wrong
        provoke: {inputs: {client_secret: wrong-secret}}
        response: {status: 401, error: invalid_client}""", """      - id: slow_server
        when: the server does not answer in time
        provoke: {timeout: 0.3}
        response: {outcome: timeout}""")
    flow = make_flow(tmp_path, steps)

    def slow(request):
        raise httpx.ReadTimeout("timed out")

    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/token").mock(side_effect=slow)
        res = run_cli([str(flow), "--input", f"api={API}", "--scenario", "slow_server"],
                      env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 0, res.stdout


def test_credentials_never_go_over_plain_http_to_remote_hosts(tmp_path):
    flow = make_flow(tmp_path, TOKEN_STEP)
    with respx.mock(assert_all_called=False) as router:
        route = router.post("http://api.example.test/token").mock(return_value=httpx.Response(200, json={}))
        res = run_cli([str(flow), "--input", "api=http://api.example.test", "--scenario", "happy-path"],
                      env={"FLOWDOC_CLIENT_SECRET": SECRET})
        assert route.call_count == 0
    assert res.exit_code == 2
    assert "refusing to send credentials over plain http to api.example.test" in res.stdout
    with respx.mock(assert_all_called=False) as router:
        route = router.post("http://api.example.test/token").mock(
            return_value=httpx.Response(200, json={"access_token": "at-" + "x" * 30}))
        router.get("http://api.example.test/me").mock(return_value=httpx.Response(200, json={"sub": "s"}))
        res = run_cli([str(flow), "--input", "api=http://api.example.test", "--scenario", "happy-path",
                       "--allow-insecure-http"], env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 0, res.stdout
    assert route.call_count == 1


def test_redirects_cookies_and_forms(tmp_path):
    steps = """  - id: open
    from: start
    to: middle
    by: client -> api
    title: Open the login page, which redirects
    request: {method: GET, path: /login}
    response:
      status: 302
      redirect: {to: /form, query: {next: /home}}
      capture: {form_url: {from: location, secret: false}}
  - id: show
    from: middle
    to: shown
    by: client -> api
    title: Load the login form
    request: {method: GET, path: /form, url: "${steps.open.form_url}"}
    response: {status: 200, form: true, capture: {login: {from: form, secret: false}}}
  - id: submit
    from: shown
    to: done
    by: client -> api
    title: Submit the login form with the password
    request:
      method: POST
      path: /do-login
      submit_form: ${steps.show.login}
      form: {password: "${inputs.client_secret}"}
    response: {status: 204, headers: {X-Done: "yes"}}
    failures:
      - id: wrong
        when: the password is wrong
        provoke: {inputs: {client_secret: nope-nope}}
        response: {status: 401, error: invalid_credentials}
        to: shown
        remedy: Try again.
"""
    states = """  - {id: start, initial: true}
  - {id: middle}
  - {id: shown}
  - {id: done, terminal: true}"""
    flow = make_flow(tmp_path, steps, states=states)
    seen: list[httpx.Request] = []

    def login(request):
        return httpx.Response(302, headers={"Location": "/form?next=%2Fhome",
                                            "Set-Cookie": "sid=cookie-value-123456; Path=/; HttpOnly"})

    def form(request):
        seen.append(request)
        return httpx.Response(200, html='<form method="post" action="/do-login"><input type="hidden" '
                                        'name="csrf" value="tok&amp;1"><input name="password"></form>')

    def do_login(request):
        seen.append(request)
        body = parse_qs(request.content.decode())
        if body.get("password") != [SECRET]:
            return httpx.Response(401, html='<p class="error">invalid_credentials</p>')
        return httpx.Response(204, headers={"X-Done": "yes"})

    with respx.mock(assert_all_called=False) as router:
        router.get(f"{API}/login").mock(side_effect=login)
        router.get(f"{API}/form").mock(side_effect=form)
        router.post(f"{API}/do-login").mock(side_effect=do_login)
        res = run_cli([str(flow), "--input", f"api={API}", "--report-json", str(tmp_path / "r.json")],
                      env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert res.exit_code == 0, res.stdout
    assert seen[0].url.params["next"] == "/home"  # the redirect was followed by the step, not by httpx
    assert seen[0].headers["cookie"] == "sid=cookie-value-123456"  # the jar kept the cookie of the 302
    assert parse_qs(seen[1].content.decode()) == {"csrf": ["tok&1"], "password": [SECRET]}
    report = (tmp_path / "r.json").read_text()
    assert "cookie-value-123456" not in report and SECRET not in report
    data = json.loads(report)
    wrong = next(s for s in data["flows"][0]["scenarios"] if s["name"] == "wrong")
    assert [(r["transition"], r["status"]) for r in wrong["steps"]][-2:] == [("submit", 401), ("submit", 204)]


def test_usage_errors_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: Not a flow\n")
    res = run_cli([str(bad)])
    assert res.exit_code == 2
    flow = make_flow(tmp_path, TOKEN_STEP)
    res = run_cli([str(flow)])
    assert res.exit_code == 2 and "needs inputs 'api'" in res.stderr and "$FLOWDOC_CLIENT_SECRET" in res.stderr
    res = run_cli([str(flow), "--input", "=oops"])
    assert res.exit_code == 2
    res = run_cli([str(flow), "--timeout", "0"], env={"FLOWDOC_CLIENT_SECRET": "x", "FLOWDOC_API": API})
    assert res.exit_code == 2
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    res = run_cli([str(flow), "--ca-bundle", str(bogus)], env={"FLOWDOC_CLIENT_SECRET": "x", "FLOWDOC_API": API})
    assert res.exit_code == 2 and "cannot use --ca-bundle" in res.stderr


def test_long_waits_are_skipped_not_slept(tmp_path):
    steps = TOKEN_STEP.replace("    title: Call the API with the bearer token\n",
                               "    title: Call the API with the bearer token\n    wait: 1h\n")
    flow = make_flow(tmp_path, steps)
    with respx.mock(assert_all_called=False) as router:
        token_api(router)
        started = time.monotonic()
        res = run_cli([str(flow), "--input", f"api={API}", "--max-wait", "5", "--scenario", "happy-path"],
                      env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert time.monotonic() - started < 5
    assert res.exit_code == 0 and "1 skipped" in res.stdout and "more than --max-wait 5 s" in res.stderr


def test_no_color_and_progress(tmp_path, monkeypatch):
    from io import StringIO

    from flowdoc.report.terminal import want_color

    class Tty(StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert want_color(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not want_color(Tty())
    flow = make_flow(tmp_path, TOKEN_STEP)
    with respx.mock(assert_all_called=False) as router:
        token_api(router)
        res = run_cli([str(flow), "--input", f"api={API}"], env={"FLOWDOC_CLIENT_SECRET": SECRET})
    assert "\x1b[" not in res.stdout + res.stderr
    assert "PASS  [3/3]" in res.stderr
    # FORCE_COLOR (and no NO_COLOR): the progress lines are coloured
    with respx.mock(assert_all_called=False) as router:
        token_api(router)
        res = run_cli([str(flow), "--input", f"api={API}"],
                      env={"FLOWDOC_CLIENT_SECRET": SECRET, "NO_COLOR": "", "FORCE_COLOR": "1"})
    assert re.search(r"\x1b\[[0-9;]*mPASS +\x1b\[0m \[3/3\]", res.stderr), res.stderr


def test_memo_is_bounded_and_answers_what_it_kept():
    memo: Memo[str, int] = Memo(3)
    for i in range(3):
        assert memo.keep(f"k{i}", i) == i
    assert memo.get("k2") == 2 and "k0" in memo
    memo.keep("k3", 3)  # full: what was kept goes, the new answer stays
    assert "k0" not in memo and memo.get("k1") is None and memo.get("k3") == 3
    for i in range(1000):
        memo.keep(str(i), i)
    assert sum(str(i) in memo for i in range(1000)) <= 3


def test_challenge_answers_are_copies_of_the_memo():
    first = www_authenticate_params('Bearer error="invalid_token", scope="a b"')
    first["error"] = "changed by a caller"
    assert www_authenticate_params('Bearer error="invalid_token", scope="a b"') == {"error": "invalid_token", "scope": "a b"}
