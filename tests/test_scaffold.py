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
