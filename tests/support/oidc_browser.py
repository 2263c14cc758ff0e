"""A tiny hand-driven "browser" for the test OIDC provider (needs httpx).

No redirect is followed automatically: every hop is asserted and followed by hand, so tests
see the provider's real status codes. Useful to obtain real tokens in test setup:

    from tests.support.oidc_browser import authorize, exchange_code

    result = authorize(srv, "alice", srv.users["alice"]["password"])
    tokens = exchange_code(srv, result)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

REDIRECT_STATUSES = (302, 303)


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)"""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def jwt_claims(token: str) -> dict:
    """Decode (without verifying) the payload of a JWS compact token."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@dataclass
class Form:
    id: str | None
    action: str
    method: str
    fields: dict = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None
        self.errors: list[str] = []
        self._in_error = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = Form(a.get("id"), a.get("action", ""), (a.get("method") or "get").lower())
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and a.get("name"):
            self._current.fields[a["name"]] = a.get("value", "")
        elif tag == "p" and "error" in (a.get("class") or "").split():
            self._in_error = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "p":
            self._in_error = False

    def handle_data(self, data):
        if self._in_error and data.strip():
            self.errors.append(data.strip())


def parse_page(html: str) -> tuple[dict[str, Form], list[str]]:
    """Forms by id (or by index when without id) and the `<p class="error">` texts."""
    p = _FormParser()
    p.feed(html)
    forms = {(f.id or str(i)): f for i, f in enumerate(p.forms)}
    return forms, p.errors


@dataclass
class AuthorizeResult:
    callback: str | None  # the final redirect to redirect_uri
    params: dict  # its query parameters (code, state, iss | error, error_description)
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    client_id: str
    hops: list  # [(method, url, status)]


def _follow(client: httpx.Client, resp: httpx.Response, hops: list, stop_prefix: str) -> httpx.Response:
    while resp.status_code in REDIRECT_STATUSES:
        loc = urljoin(str(resp.url), resp.headers["location"])
        if loc.startswith(stop_prefix):
            return resp
        resp = client.get(loc)
        hops.append(("GET", str(resp.url), resp.status_code))
    return resp


def authorize(
    srv,
    username: str,
    password: str,
    *,
    otp: str | None = None,
    client_id: str = "flowdoc-web",
    scope: str = "openid profile offline_access api:read api:write",
    prompt: str | None = "consent",
    extra_params: dict | None = None,
    client: httpx.Client | None = None,
) -> AuthorizeResult:
    """Run the authorization code + PKCE front channel for one user; return the callback."""
    own = client is None
    client = client or httpx.Client(follow_redirects=False, timeout=10)
    try:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        redirect_uri = srv.redirect_uri
        params = {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if prompt:
            params["prompt"] = prompt
        params.update(extra_params or {})
        hops: list = []
        resp = client.get(srv.issuer + "/auth", params=params)
        hops.append(("GET", str(resp.url), resp.status_code))
        for _ in range(6):
            resp = _follow(client, resp, hops, redirect_uri)
            if resp.status_code in REDIRECT_STATUSES:
                loc = urljoin(str(resp.url), resp.headers["location"])
                q = {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}
                return AuthorizeResult(loc, q, state, nonce, verifier, redirect_uri, client_id, hops)
            if resp.status_code != 200:
                raise AssertionError(f"unexpected {resp.status_code} at {resp.url}: {resp.text[:500]}")
            forms, _ = parse_page(resp.text)
            if "login" in forms:
                form, data = forms["login"], {"username": username, "password": password}
            elif "otp" in forms:
                if otp is None:
                    raise AssertionError("the provider asks for a one-time code but none was given")
                form, data = forms["otp"], {"otp": otp}
            elif "consent" in forms:
                form, data = forms["consent"], {}
            else:
                raise AssertionError(f"no known form at {resp.url}: {resp.text[:500]}")
            url = urljoin(str(resp.url), form.action)
            resp = client.post(url, data={**form.fields, **data})
            hops.append(("POST", url, resp.status_code))
            if resp.status_code not in REDIRECT_STATUSES:
                raise AssertionError(f"{form.id} form answered {resp.status_code}: {resp.text[:500]}")
        raise AssertionError(f"too many interaction steps: {hops}")
    finally:
        if own:
            client.close()


def exchange_code(srv, result: AuthorizeResult, *, client_secret: str | None = None) -> dict:
    """Redeem the code at /token (client_secret_basic for flowdoc-web, none for flowdoc-spa)."""
    data = {
        "grant_type": "authorization_code",
        "code": result.params["code"],
        "redirect_uri": result.redirect_uri,
        "code_verifier": result.code_verifier,
    }
    auth = None
    if result.client_id == "flowdoc-spa":
        data["client_id"] = result.client_id
    else:
        auth = (result.client_id, client_secret or srv.secrets[result.client_id])
    r = httpx.post(srv.issuer + "/token", data=data, auth=auth, timeout=10)
    r.raise_for_status()
    return r.json()
