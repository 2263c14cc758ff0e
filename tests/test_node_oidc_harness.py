"""Proves the real OIDC test server (tests/node/oidc_server.mjs) with plain httpx: no flowdoc code."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # make `tests.support` importable

httpx = pytest.importorskip("httpx")
pyotp = pytest.importorskip("pyotp")

from tests.support.oidc import ACR_MFA, ACR_PWD  # noqa: E402
from tests.support.oidc_browser import (  # noqa: E402
    authorize,
    exchange_code,
    jwt_claims,
    parse_page,
    pkce_pair,
)

pytestmark = pytest.mark.node

SCOPE = "openid profile offline_access api:read api:write"


@pytest.fixture
def browser():
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


def start_auth(browser, srv, client_id="flowdoc-web"):
    """GET /auth and follow to the first interaction page; return (page response, pkce verifier)."""
    verifier, challenge = pkce_pair()
    r = browser.get(
        srv.issuer + "/auth",
        params={
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": srv.redirect_uri,
            "scope": SCOPE,
            "state": "st-123",
            "nonce": "n-456",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "consent",
        },
    )
    assert r.status_code == 303, r.text
    assert urlsplit(r.headers["location"]).path.startswith("/interaction/")
    page = browser.get(urljoin(str(r.url), r.headers["location"]))
    assert page.status_code == 200
    return page, verifier


def post_form(browser, page, form_id, **data):
    forms, _ = parse_page(page.text)
    form = forms[form_id]
    assert form.method == "post"
    return browser.post(urljoin(str(page.url), form.action), data={**form.fields, **data})


# --------------------------------------------------------------------------------------------


def test_discovery(oidc_server):
    r = httpx.get(oidc_server.discovery_url, timeout=10)
    assert r.status_code == 200
    d = r.json()
    iss = oidc_server.issuer
    assert d["issuer"] == iss
    assert iss.startswith("http://127.0.0.1:")
    assert d["authorization_endpoint"] == iss + "/auth"
    assert d["token_endpoint"] == iss + "/token"
    assert d["jwks_uri"] == iss + "/jwks"
    assert d["userinfo_endpoint"] == iss + "/me"
    assert d["introspection_endpoint"] == iss + "/token/introspection"
    assert d["revocation_endpoint"] == iss + "/token/revocation"
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert {ACR_PWD, ACR_MFA} <= set(d["acr_values_supported"])
    assert {"client_credentials", "authorization_code", "refresh_token"} <= set(d["grant_types_supported"])
    assert {"api:read", "api:write", "offline_access"} <= set(d["scopes_supported"])
    assert d["authorization_response_iss_parameter_supported"] is True
    jwks = httpx.get(d["jwks_uri"], timeout=10).json()
    assert jwks["keys"] and all("d" not in k for k in jwks["keys"])


def test_client_credentials(oidc_server):
    srv = oidc_server
    token_url = srv.issuer + "/token"
    r = httpx.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": "api:read"},
        auth=("flowdoc-service", srv.secrets["flowdoc-service"]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "api:read"
    at = body["access_token"]
    assert len(at.split(".")) == 3
    claims = jwt_claims(at)
    assert claims["iss"] == srv.issuer
    assert claims["aud"] == srv.audience
    assert claims["client_id"] == claims["sub"] == "flowdoc-service"

    me = httpx.get(srv.resource + "/api/me", headers={"Authorization": f"Bearer {at}"})
    assert me.status_code == 200
    assert me.json() == {"sub": "flowdoc-service", "scope": "api:read", "client_id": "flowdoc-service", "acr": None}

    bad = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=("flowdoc-service", "wrong"))
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"

    post = httpx.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "scope": "api:read api:write",
            "client_id": "flowdoc-service-post",
            "client_secret": srv.secrets["flowdoc-service-post"],
        },
    )
    assert post.status_code == 200, post.text
    assert post.json()["scope"] == "api:read api:write"

    unknown = httpx.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": "api:read api:delete"},
        auth=("flowdoc-service", srv.secrets["flowdoc-service"]),
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_scope"


def test_authorization_code_pkce_by_hand(oidc_server, browser):
    srv = oidc_server
    page, verifier = start_auth(browser, srv)
    forms, _ = parse_page(page.text)
    assert set(forms["login"].fields) == {"csrf", "username", "password"}
    assert forms["login"].action.endswith("/login")

    r = post_form(browser, page, "login", username="alice", password=srv.users["alice"]["password"])
    assert r.status_code == 303
    resume = urljoin(str(r.url), r.headers["location"])
    assert urlsplit(resume).path.startswith("/auth/")

    r = browser.get(resume)
    assert r.status_code == 303
    consent = browser.get(urljoin(str(r.url), r.headers["location"]))
    assert consent.status_code == 200
    assert "consent" in parse_page(consent.text)[0]
    assert "api:read" in consent.text

    r = post_form(browser, consent, "consent")
    assert r.status_code == 303
    r = browser.get(urljoin(str(r.url), r.headers["location"]))
    assert r.status_code == 303
    callback = r.headers["location"]
    assert callback.startswith(srv.redirect_uri + "?")
    q = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    assert set(q) == {"code", "state", "iss"}
    assert q["state"] == "st-123"
    assert q["iss"] == srv.issuer

    tok = httpx.post(
        srv.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": q["code"],
            "redirect_uri": srv.redirect_uri,
            "code_verifier": verifier,
        },
        auth=("flowdoc-web", srv.secrets["flowdoc-web"]),
    )
    assert tok.status_code == 200, tok.text
    t = tok.json()
    assert {"access_token", "id_token", "refresh_token"} <= set(t)
    idt = jwt_claims(t["id_token"])
    assert idt["sub"] == "alice"
    assert idt["nonce"] == "n-456"
    assert idt["acr"] == ACR_PWD
    assert idt["aud"] == "flowdoc-web"
    at = jwt_claims(t["access_token"])
    assert at["aud"] == srv.audience
    assert set(at["scope"].split()) == {"api:read", "api:write"}

    # resource server
    ok = httpx.get(srv.resource + "/api/me", headers={"Authorization": f"Bearer {t['access_token']}"})
    assert ok.status_code == 200
    assert ok.json()["sub"] == "alice"
    missing = httpx.get(srv.resource + "/api/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert missing.json()["error"] == "invalid_token"
    garbage = httpx.get(srv.resource + "/api/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert garbage.status_code == 401
    stepup = httpx.get(srv.resource + "/api/admin", headers={"Authorization": f"Bearer {t['access_token']}"})
    assert stepup.status_code == 403
    assert 'error="insufficient_user_authentication"' in stepup.headers["www-authenticate"]

    # refresh rotates; replaying the old refresh token fails
    rt1 = t["refresh_token"]
    r1 = httpx.post(srv.issuer + "/token", data={"grant_type": "refresh_token", "refresh_token": rt1},
                    auth=("flowdoc-web", srv.secrets["flowdoc-web"]))
    assert r1.status_code == 200, r1.text
    rt2 = r1.json()["refresh_token"]
    assert rt2 != rt1
    assert jwt_claims(r1.json()["access_token"])["acr"] == ACR_PWD
    replay = httpx.post(srv.issuer + "/token", data={"grant_type": "refresh_token", "refresh_token": rt1},
                        auth=("flowdoc-web", srv.secrets["flowdoc-web"]))
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # reuse detection: the replay revoked the whole grant, so the rotated token is dead too
    r2 = httpx.post(srv.issuer + "/token", data={"grant_type": "refresh_token", "refresh_token": rt2},
                    auth=("flowdoc-web", srv.secrets["flowdoc-web"]))
    assert r2.status_code == 400
    assert r2.json()["error"] == "invalid_grant"

    # the code is single use
    again = httpx.post(
        srv.issuer + "/token",
        data={"grant_type": "authorization_code", "code": q["code"], "redirect_uri": srv.redirect_uri,
              "code_verifier": verifier},
        auth=("flowdoc-web", srv.secrets["flowdoc-web"]),
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_wrong_password_and_locked_account(oidc_server, browser):
    srv = oidc_server
    page, _ = start_auth(browser, srv)
    r = post_form(browser, page, "login", username="alice", password="not-the-password")
    assert r.status_code == 401
    forms, errors = parse_page(r.text)
    assert "login" in forms
    assert errors == ["invalid_credentials"]

    r = post_form(browser, page, "login", username="nobody", password="x")
    assert r.status_code == 401

    r = post_form(browser, page, "login", username="mallory", password=srv.users["mallory"]["password"])
    assert r.status_code == 403
    assert "account_locked" in r.text

    # missing CSRF field
    r = browser.post(str(page.url) + "/login", data={"username": "alice", "password": "x"})
    assert r.status_code == 400
    assert "csrf_mismatch" in r.text


def test_bob_totp(oidc_server, browser):
    srv = oidc_server
    totp = pyotp.TOTP(srv.users["bob"]["totpSecret"])
    page, _ = start_auth(browser, srv)
    r = post_form(browser, page, "login", username="bob", password=srv.users["bob"]["password"])
    assert r.status_code == 303
    otp_page = browser.get(urljoin(str(r.url), r.headers["location"]))
    assert otp_page.status_code == 200
    forms, _ = parse_page(otp_page.text)
    assert "otp" in forms and forms["otp"].action.endswith("/otp")

    wrong = f"{(int(totp.now()) + 500000) % 1000000:06d}"
    r = post_form(browser, otp_page, "otp", otp=wrong)
    assert r.status_code == 401
    assert "invalid_otp" in r.text

    r = post_form(browser, otp_page, "otp", otp=totp.now())
    assert r.status_code == 303
    result = authorize(srv, "bob", srv.users["bob"]["password"], otp=totp.now())
    tokens = exchange_code(srv, result)
    assert jwt_claims(tokens["id_token"])["acr"] == ACR_MFA
    assert jwt_claims(tokens["id_token"])["amr"] == ["pwd", "otp"]
    admin = httpx.get(srv.resource + "/api/admin", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert admin.status_code == 200
    assert admin.json()["acr"] == ACR_MFA


def test_bob_mfa_lockout(oidc_server, browser):
    srv = oidc_server
    totp = pyotp.TOTP(srv.users["bob"]["totpSecret"])
    page, _ = start_auth(browser, srv)
    r = post_form(browser, page, "login", username="bob", password=srv.users["bob"]["password"])
    otp_page = browser.get(urljoin(str(r.url), r.headers["location"]))
    wrong = f"{(int(totp.now()) + 500000) % 1000000:06d}"
    statuses = [post_form(browser, otp_page, "otp", otp=wrong).status_code for _ in range(3)]
    assert statuses == [401, 401, 403]
    r = post_form(browser, otp_page, "otp", otp=totp.now())
    assert r.status_code == 403
    assert "mfa_locked" in r.text
    assert browser.get(str(otp_page.url)).status_code == 403


def test_public_client_and_errors(oidc_server, browser):
    srv = oidc_server
    result = authorize(srv, "alice", srv.users["alice"]["password"], client_id="flowdoc-spa")
    tokens = exchange_code(srv, result)
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens)
    # replaying the authorization code fails and revokes what the code produced
    replay = httpx.post(srv.issuer + "/token", data={
        "grant_type": "authorization_code", "code": result.params["code"], "client_id": "flowdoc-spa",
        "redirect_uri": result.redirect_uri, "code_verifier": result.code_verifier})
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    refresh = httpx.post(srv.issuer + "/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "flowdoc-spa"})
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"

    # PKCE missing: the error goes back to the client's redirect_uri
    r = browser.get(srv.issuer + "/auth", params={
        "client_id": "flowdoc-web", "response_type": "code", "redirect_uri": srv.redirect_uri,
        "scope": "openid", "state": "s1"})
    assert r.status_code == 303
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["error"] == ["invalid_request"]
    assert q["state"] == ["s1"]

    # unregistered redirect_uri: an HTML error page, no redirect
    r = browser.get(srv.issuer + "/auth", params={
        "client_id": "flowdoc-web", "response_type": "code", "redirect_uri": "http://127.0.0.1:9/evil",
        "scope": "openid"})
    assert r.status_code == 400
    assert "invalid_redirect_uri" in r.text


def test_short_ttl_expiry(oidc_server_short_ttl):
    srv = oidc_server_short_ttl
    result = authorize(srv, "alice", srv.users["alice"]["password"])
    tokens = exchange_code(srv, result)
    assert tokens["expires_in"] <= 2
    cc = httpx.post(srv.issuer + "/token", data={"grant_type": "client_credentials", "scope": "api:read"},
                    auth=("flowdoc-service", srv.secrets["flowdoc-service"])).json()
    assert cc["expires_in"] <= 2
    ok = httpx.get(srv.resource + "/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert ok.status_code == 200
    time.sleep(3.2)
    expired = httpx.get(srv.resource + "/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert "expired" in expired.json()["error_description"]
    refresh = httpx.post(srv.issuer + "/token",
                         data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                         auth=("flowdoc-web", srv.secrets["flowdoc-web"]))
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"
