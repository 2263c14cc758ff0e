"""flowdoc new: a starting flow per kind, from a browser recording (HAR) and from discovery metadata."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets as pysecrets
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCOPE = "openid profile offline_access api:read"

APP_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>App</title></head><body>
<p id="out">loading</p>
<script>
(async () => {
  const t = await (await fetch('/tokens')).json();
  const me = await (await fetch('/api/me', {headers: {Authorization: 'Bearer ' + t.access_token}})).json();
  document.getElementById('out').textContent = 'signed in as ' + me.sub;
})();
</script></body></html>"""


class WebApp:
    """A small confidential web client on 127.0.0.1 (flowdoc-web): it starts the authorization code
    login with PKCE, redeems the code at its callback, hands the tokens to its page (/tokens) and
    forwards /api/me to the resource server, so the recording holds codes, tokens and cookies."""

    def __init__(self, srv, port: int):
        self.srv, self.port = srv, port
        self.pending: dict[str, tuple[str, str]] = {}  # state -> (verifier, nonce)
        self.sessions: dict[str, dict] = {}
        self.seen_tokens: list[dict] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):  # noqa: N802
                app.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def send(self, h, status, body=b"", headers=()):
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Cache-Control", "no-store")
        h.end_headers()
        h.wfile.write(body)

    def handle(self, h):
        u = urlsplit(h.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        cookies = SimpleCookie(h.headers.get("Cookie", ""))
        if u.path == "/login":
            verifier = pysecrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            state, nonce = pysecrets.token_urlsafe(16), pysecrets.token_urlsafe(16)
            self.pending[state] = (verifier, nonce)
            params = {"client_id": "flowdoc-web", "response_type": "code", "redirect_uri": self.url + "/callback",
                      "scope": SCOPE, "state": state, "nonce": nonce, "code_challenge": challenge,
                      "code_challenge_method": "S256", "prompt": "consent"}
            sid = pysecrets.token_urlsafe(24)
            return self.send(h, 302, headers=[("Location", f"{self.srv.issuer}/auth?{urlencode(params)}"),
                                              ("Set-Cookie", f"app_sid={sid}; Path=/; HttpOnly; SameSite=Lax")])
        if u.path == "/callback":
            verifier, _nonce = self.pending.pop(q.get("state", ""), (None, None))
            r = httpx.post(self.srv.issuer + "/token", auth=("flowdoc-web", self.srv.secrets["flowdoc-web"]),
                           data={"grant_type": "authorization_code", "code": q.get("code", ""),
                                 "redirect_uri": self.url + "/callback", "code_verifier": verifier or ""}, timeout=10)
            if r.status_code != 200:
                return self.send(h, 400, r.content, [("Content-Type", "application/json")])
            sid = pysecrets.token_urlsafe(24)
            self.sessions[sid] = r.json()
            self.seen_tokens.append(r.json())
            return self.send(h, 302, headers=[("Location", "/app"),
                                              ("Set-Cookie", f"app_session={sid}; Path=/; HttpOnly; SameSite=Lax")])
        if u.path == "/app":
            return self.send(h, 200, APP_PAGE.encode(), [("Content-Type", "text/html; charset=utf-8")])
        if u.path == "/tokens":
            tokens = self.sessions.get(cookies["app_session"].value if "app_session" in cookies else "")
            if tokens is None:
                return self.send(h, 401, b'{"error":"login_required"}', [("Content-Type", "application/json")])
            return self.send(h, 200, json.dumps(tokens).encode(), [("Content-Type", "application/json")])
        if u.path == "/api/me":
            r = httpx.get(self.srv.resource + "/api/me", headers={"Authorization": h.headers.get("Authorization", "")},
                          timeout=10)
            return self.send(h, r.status_code, r.content, [("Content-Type", "application/json")])
        return self.send(h, 404, b"not found")


def record_login(browser, srv, app: WebApp, har_path, username="alice") -> None:
    """Sign in through the app in Chromium; the context records every request into a HAR file."""
    context = browser.new_context(record_har_path=str(har_path), record_har_content="embed")
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        page = context.new_page()
        page.goto(app.url + "/login")
        page.fill("#login input[name=username]", username)
        page.fill("#login input[name=password]", srv.users[username]["password"])
        page.click("#login button[type=submit]")
        page.click("#consent button[value=approve]")
        page.wait_for_function("() => document.getElementById('out') && "
                               "document.getElementById('out').textContent.startsWith('signed in as')", timeout=30_000)
    finally:
        context.close()  # writes the HAR
    assert outside == []


# ==================================================================== tests

import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import jsonschema  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from flowdoc import FlowSet  # noqa: E402
from flowdoc.model.schema import SCHEMA_ID, flow_json_schema  # noqa: E402
from flowdoc.scaffold.kinds import KINDS  # noqa: E402
from flowdoc.scaffold.secrets import SecretSet  # noqa: E402
from tests.helpers import run  # noqa: E402
from tests.support.hostile_http import HostileServer  # noqa: E402
from tests.support.oidc import start_oidc_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELINE = f"# yaml-language-server: $schema={SCHEMA_ID}"



def lint_codes(path) -> list[str]:
    res = FlowSet.from_paths([str(path)], lint=True)
    assert not res.invalid, [d.location + " " + d.message for d in res.diagnostics]
    return [d.code for d in res.diagnostics]


def schema_errors(path) -> list[str]:
    data = json.loads(json.dumps(yaml.safe_load(Path(path).read_text()), default=str))
    return [e.message for e in jsonschema.Draft202012Validator(flow_json_schema()).iter_errors(data)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_validates_and_lints_clean_but_for_todos(tmp_path, kind):
    out = tmp_path / f"{kind}.yaml"
    r = run("new", kind, "--id", f"my-{kind}", "-o", str(out))
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert text.splitlines()[0] == MODELINE
    assert run("validate", str(out)).exit_code == 0
    codes = lint_codes(out)
    assert codes and set(codes) == {"todo-marker"}, codes
    assert schema_errors(out) == []
    # the kind's requests are there, with their failure branches
    flow = FlowSet.from_paths([str(out)]).flows[0]
    assert flow.id == f"my-{kind}" and any(t.request for t in flow.transitions)
    assert any(t.failures for t in flow.transitions)


def test_kinds_cover_the_examples_and_device_flow():
    assert set(KINDS) == {"client-credentials", "authorization-code-pkce", "refresh-rotation", "mfa-step-up",
                          "gateway-login", "device-flow"}
    r = run("new", "--list")
    assert r.exit_code == 0 and all(k in r.stdout for k in KINDS)


def test_new_to_stdout_and_hostile_title(tmp_path):
    title = 'Sign in: "quoted" {braces} # not a comment\nsecond: line'
    r = run("new", "client-credentials", "--id", "x", "--title", title)
    assert r.exit_code == 0, r.output
    p = tmp_path / "x.yaml"
    p.write_text(r.stdout)
    assert FlowSet.from_paths([str(p)]).flows[0].title == title


def test_existing_file_is_not_overwritten(tmp_path):
    out = tmp_path / "f.yaml"
    out.write_text("keep me\n")
    r = run("new", "device-flow", "--id", "tv", "-o", str(out))
    assert r.exit_code == 2 and "exists" in r.stderr and out.read_text() == "keep me\n"
    assert run("new", "device-flow", "--id", "tv", "-o", str(out), "--force").exit_code == 0
    assert out.read_text().startswith(MODELINE)


@pytest.mark.parametrize("args, message", [
    (("new", "client-credentials", "--id", "9 bad id"), "not a flow id"),
    (("new", "no-such-kind", "--id", "x"), "unknown kind"),
    (("new", "client-credentials"), "--id"),
    (("new",), "one of KIND"),
    (("new", "client-credentials", "--id", "x", "--from-discovery", "http://127.0.0.1:9/"), "one of KIND"),
])
def test_usage_errors_exit_2(args, message):
    r = run(*args)
    assert r.exit_code == 2 and message in r.output, r.output


# ---------------------------------------------------------------- --from-discovery


def test_from_discovery_one_flow_per_grant_and_the_client_credentials_one_verifies(tmp_path, oidc_server):
    out = tmp_path / "flows"
    r = run("new", "--from-discovery", oidc_server.discovery_url, "-o", str(out))
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    # the test server lists authorization_code, implicit, refresh_token, client_credentials and device_code
    assert names == ["authorization-code-pkce.yaml", "client-credentials.yaml", "device-flow.yaml",
                     "refresh-rotation.yaml"]
    assert "implicit" in r.stderr
    for p in out.iterdir():
        assert p.read_text().startswith(MODELINE + "\n")
        assert set(lint_codes(p)) == {"todo-marker"}
    cc = (out / "client-credentials.yaml").read_text()
    assert f'example: "{oidc_server.issuer}"' in cc and 'scope: "api:read api:write"' not in cc
    assert 'default: "api:read api:write"' in cc and "path: \"/token\"" in cc
    # the started flow is a working conformance test against the server it came from
    env = {"FLOWDOC_CLIENT_SECRET": oidc_server.secrets["flowdoc-service"], "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "flowdoc", "verify", str(out / "client-credentials.yaml"), "-q",
                           "--input", f"issuer={oidc_server.issuer}", "--input", f"resource_url={oidc_server.resource}",
                           "--input", "client_id=flowdoc-service"], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, **env}, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 scenarios: 4 passed" in proc.stdout + proc.stderr


def test_from_discovery_bad_sources(tmp_path):
    with HostileServer({
        ("GET", "/redirect"): lambda s: (302, [("Location", "http://metadata.invalid/")], b""),
        ("GET", "/notjson"): lambda s: (200, [], b"<html>"),
        ("GET", "/noissuer"): lambda s: (200, [], b'{"grant_types_supported": ["client_credentials"]}'),
        ("GET", "/nogrant"): lambda s: (200, [], json.dumps({"issuer": "http://127.0.0.1:1",
                                                             "grant_types_supported": ["password"]}).encode()),
    }) as srv:
        for path, message in (("/redirect", "redirects to http://metadata.invalid/"), ("/notjson", "is not JSON"),
                              ("/noissuer", "no 'issuer'"), ("/nogrant", "lists no grant"),
                              ("/missing", "answered 404")):
            r = run("new", "--from-discovery", srv.url + path, "-o", str(tmp_path / "d"))
            assert r.exit_code == 2 and message in r.stderr, (path, r.output)
        assert [s.path for s in srv.requests].count("/redirect") == 1
        closed = srv.url
    r = run("new", "--from-discovery", closed + "/.well-known/openid-configuration", "-o", str(tmp_path / "d"))
    assert r.exit_code == 3 and "cannot fetch" in r.stderr
    assert not (tmp_path / "d").exists()


# ---------------------------------------------------------------- --from-har


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _forms(value: str):
    raw = value.encode()
    yield value
    yield quote(value, safe="")
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        yield enc(raw).decode()
        yield enc(raw).decode().rstrip("=")


def _recorded_secrets(har: dict, app: WebApp, srv, username: str) -> dict[str, str]:
    """Every secret the recording holds, read independently of flowdoc's detector."""
    found = {"password": srv.users[username]["password"]}
    tokens = app.seen_tokens[0]
    for k in ("access_token", "refresh_token", "id_token"):
        found[k] = tokens[k]
    for e in har["log"]["entries"]:
        for part in ("request", "response"):
            for c in e[part].get("cookies", []):
                if c.get("value"):
                    found[f"cookie {c['name']}"] = c["value"]
        q = parse_qs(urlsplit(e["request"]["url"]).query)
        if "code" in q:
            found["code"] = q["code"][0]
        for h in e["request"]["headers"]:
            if h["name"].lower() == "authorization":
                found["authorization header"] = h["value"].split(" ", 1)[1]
    return found


@pytest.mark.slow
def test_har_recorded_in_chromium_becomes_a_flow_without_secrets(tmp_path):
    from playwright.sync_api import sync_playwright

    port = _free_port()
    har_path = tmp_path / "login.har"
    with start_oidc_server(redirectUris=[f"http://127.0.0.1:{port}/callback"]) as srv, WebApp(srv, port) as app:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                record_login(browser, srv, app, har_path)
            finally:
                browser.close()
        har = json.loads(har_path.read_text())
        secrets = _recorded_secrets(har, app, srv, "alice")
    har_text = har_path.read_text()
    # the recording really holds them (the test would prove nothing otherwise)
    assert all(v in har_text for k, v in secrets.items() if k != "password") and len(secrets) >= 8
    assert srv.users["alice"]["password"] in har_text

    out = tmp_path / "recorded.yaml"
    r = run("new", "--from-har", str(har_path), "--id", "recorded-login", "-o", str(out))
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert text.startswith(MODELINE + "\n")
    assert run("validate", str(out)).exit_code == 0
    assert schema_errors(out) == []
    leaked = [name for name, value in secrets.items() for form in _forms(value) if len(value) >= 6 and form in text]
    assert leaked == []

    flow = FlowSet.from_paths([str(out)]).flows[0]
    kinds = {a.kind.value for a in flow.actors.values()}
    assert {"user-agent", "authorization-server"} <= kinds
    steps = {t.id: t for t in flow.transitions}
    assert [t.request.method for t in flow.transitions][:4] == ["GET", "GET", "GET", "POST"]
    login = steps["post_interaction_login"]
    assert login.request.path == "/interaction/{id}/login" and login.request.form == {
        "username": "${inputs.username}", "password": "${inputs.password}"}
    assert login.request.submit_form == "${steps.get_interaction.page_form}"
    assert flow.inputs["password"].secret and login.failures[0].provoke.inputs == {"password": "not-the-password"}
    # redirects: the Location is captured and requested by the next step
    assert steps["get_auth"].request.url == "${steps.get_login.next_url}"
    callback = steps["get_callback"]
    assert callback.request.url == "${steps.get_auth_3.next_url}"
    assert steps["get_auth_3"].response.redirect.query == {"code": None, "state": None, "iss": None}
    assert steps["get_auth_3"].response.capture["next_url"].secret is True  # it carries the code
    # cookies: Set-Cookie documented and captured, sent back from the capture
    assert "Set-Cookie" in callback.response.headers
    assert callback.response.capture["cookie_app_session"].source == "cookies.app_session"
    assert "app_session=${steps.get_callback.cookie_app_session}" in steps["get_tokens"].request.headers["Cookie"]
    # the token from a JSON answer is captured where it appears and used as the bearer token later
    assert steps["get_tokens"].response.capture["access_token"].source == "body.access_token"
    assert steps["get_api_me"].request.auth == "bearer"
    assert steps["get_api_me"].request.token == "${steps.get_tokens.access_token}"


def _har(entries) -> dict:
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}


def _e(method, url, status, *, headers=(), resp_headers=(), post=None, mime="text/html", text="", rtype="document"):
    req = {"method": method, "url": url, "headers": [{"name": k, "value": v} for k, v in headers],
           "cookies": [], "queryString": []}
    if post is not None:
        req["postData"] = post
    return {"_resourceType": rtype, "request": req,
            "response": {"status": status, "headers": [{"name": k, "value": v} for k, v in resp_headers],
                         "cookies": [], "content": {"mimeType": mime, "text": text}}}


def test_har_client_secrets_basic_auth_and_fragment_tokens_are_not_written(tmp_path):
    secret = "s3cr3t-client-secret-value"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"
    basic = base64.b64encode(f"svc:{secret}".encode()).decode()
    entries = [
        _e("POST", "https://auth.example.test/oauth/token", 200, headers=[("Authorization", f"Basic {basic}")],
           post={"mimeType": "application/x-www-form-urlencoded",
                 "params": [{"name": "grant_type", "value": "client_credentials"},
                            {"name": "client_secret", "value": secret},
                            {"name": "api_key", "value": "k-0123456789abcdefXYZ"}]},
           mime="application/json", text=json.dumps({"access_token": jwt, "token_type": "Bearer"}), rtype="fetch"),
        _e("GET", "https://auth.example.test/authorize?response_type=token&client_id=spa", 302,
           resp_headers=[("Location", f"https://app.example.test/cb#access_token={jwt}&state=xyz0123456789")]),
        _e("GET", "https://app.example.test/logo.png", 200, mime="image/png", rtype="image"),
        _e("GET", "https://api.example.test/api/orders/8f14e45fceea167a5a36dedd4bea2543", 200,
           headers=[("Authorization", f"Bearer {jwt}")], mime="application/json", text='{"id": 1}', rtype="fetch"),
    ]
    har = tmp_path / "x.har"
    har.write_text(json.dumps(_har(entries)))
    r = run("new", "--from-har", str(har))
    assert r.exit_code == 0, r.output
    text = r.stdout
    for value in (secret, jwt, basic, "k-0123456789abcdefXYZ", "8f14e45fceea167a5a36dedd4bea2543"):
        assert not any(f in text for f in _forms(value)), value
    p = tmp_path / "x.yaml"
    p.write_text(text)
    flow = FlowSet.from_paths([str(p)]).flows[0]
    token, _redirect, orders = flow.transitions
    assert token.request.auth == "client_secret_basic" and flow.inputs["client_secret"].secret
    assert token.request.form["client_secret"] == "${inputs.client_secret}"
    assert token.request.form["grant_type"] == "client_credentials"
    assert orders.request.path == "/api/orders/{id}" and orders.request.token == "${steps.post_oauth_token.access_token}"
    assert len(flow.transitions) == 3  # the image is left out


def test_secret_scan_finds_every_encoding():
    s = SecretSet()
    s.add("correct-horse-battery")
    assert s.leaks("x correct-horse-battery x") == ["plain"]
    assert s.leaks(base64.b64encode(b"correct-horse-battery").decode()) == ["base64"]
    assert s.leaks("a%2Bb") == []
    s.add("a+b/c=d&e")
    assert s.leaks(quote("a+b/c=d&e", safe="")) == ["url-encoded"]


@pytest.mark.parametrize("content, message", [
    (b"not json", "not a HAR file"),
    (b'{"log": {}}', "no log.entries"),
    (json.dumps(_har([])).encode(), "no page, form or API request"),
    (b"[" * 200_000, "not a HAR file"),
])
def test_bad_har_exits_2(tmp_path, content, message):
    p = tmp_path / "bad.har"
    p.write_bytes(content)
    r = run("new", "--from-har", str(p), "-o", str(tmp_path / "out.yaml"))
    assert r.exit_code == 2 and message in r.stderr, r.output
    assert not (tmp_path / "out.yaml").exists()


def test_har_hostile_names_and_values_stay_data(tmp_path):
    entries = [_e("POST", "https://auth.example.test/login?next=%24%7Binputs.password%7D", 302,
                  post={"mimeType": "application/x-www-form-urlencoded",
                        "params": [{"name": "x: {y}", "value": "${inputs.password}"},
                                   {"name": "username", "value": "alice\n- injected"}]},
                  resp_headers=[("Location", "/home?a=1")]),
               _e("GET", "https://auth.example.test/home?a=1", 200)]
    p = tmp_path / "h.har"
    p.write_text(json.dumps(_har(entries)))
    r = run("new", "--from-har", str(p))
    assert r.exit_code == 0, r.output
    assert "injected" not in r.stdout
    out = tmp_path / "h.yaml"
    out.write_text(r.stdout)
    assert run("validate", str(out)).exit_code == 0
