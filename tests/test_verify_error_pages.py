"""Error codes wherever servers put them: JSON bodies, WWW-Authenticate, the Location's query and
fragment, and the error pages of common servers (oidc-provider's stock page, django-oauth-toolkit,
Keycloak, Spring's whitelabel page, plain text). A documented code that is not found names where
flowdoc looked."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdoc.verify import Verifier, VerifyOptions, load_flows
from flowdoc.verify._forms import parse_page
from flowdoc.verify._received import LOOKED_IN
from tests.support.hostile_http import HostileServer

ROOT = Path(__file__).resolve().parent.parent


# oidc-provider 9.x's default renderError (lib/helpers/defaults.js), as it answers an unknown redirect_uri
OIDC_PROVIDER_STOCK = """<!DOCTYPE html>
    <html>
    <head>
      <meta charset="utf-8">
      <title>oops! something went wrong</title>
      <style>@import url(https://fonts.googleapis.com/css?family=Roboto:400,100);h1{font-weight:100}</style>
    </head>
    <body>
      <div class="container">
        <h1>oops! something went wrong</h1>
        <pre><strong>error</strong>: invalid_redirect_uri</pre><pre><strong>error_description</strong>: \
redirect_uri did not match any of the client&#39;s registered redirect_uris</pre>
      </div>
    </body>
    </html>"""
# django-oauth-toolkit: oauth2_provider/authorize.html when the request is invalid
DJANGO_OAUTH_TOOLKIT = """<!DOCTYPE html><html><head><title>Authorize</title></head><body>
<div class="block-center">
    <h2>Error: invalid_request</h2>
    <p>Mismatching redirect URI.</p>
</div></body></html>"""
# Keycloak's login theme error.ftl
KEYCLOAK = """<!DOCTYPE html><html class="login-pf"><head><title>Sign in to test</title></head><body>
<div id="kc-content"><div id="kc-content-wrapper">
  <div id="kc-error-message">
    <p class="instruction">Invalid parameter: redirect_uri</p>
  </div>
</div></div></body></html>"""
# Spring Boot's whitelabel page, with server.error.include-message=always (Spring Authorization Server)
SPRING_WHITELABEL = """<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping \
for /error, so you are seeing this as a fallback.</p><div id='created'>Sun Nov 29 22:00:00 UTC 2026</div>\
<div>There was an unexpected error (type=Bad Request, status=400).</div><div>[invalid_request] OAuth 2.0 Parameter: \
redirect_uri</div></body></html>"""
# the project's test server (and many hand-written pages)
MARKED = """<!DOCTYPE html><html><body><h1>Sign in</h1><p class="error" id="error">invalid_credentials</p>
<form method="post" action="/login"><input name="username"></form></body></html>"""

PAGES = [
    ("oidc-provider", OIDC_PROVIDER_STOCK, "invalid_redirect_uri", "page text"),
    ("django-oauth-toolkit", DJANGO_OAUTH_TOOLKIT, "invalid_request", "page text"),
    ("keycloak", KEYCLOAK, "Invalid parameter: redirect_uri", "page"),
    ("spring", SPRING_WHITELABEL, "invalid_request", "page text"),
    ("marked", MARKED, "invalid_credentials", "page"),
]


@pytest.mark.parametrize("server,html,code,where", PAGES, ids=[p[0] for p in PAGES])
def test_error_pages_of_common_servers(server, html, code, where):
    found = parse_page(html).error_codes()
    assert (where, code) in found, found


def test_words_around_errors_are_not_codes():
    page = parse_page("<html><body><p>An unexpected error (type=Bad Request) occurred.</p><p>error_description: "
                      "x</p><script>var error = 'not_this';</script><p>[Not a code]</p></body></html>")
    assert page.error_codes() == []


FLOW = """id: errors
title: Where a server puts its error codes
version: "1.0.0"
actors:
  client: {name: Client, kind: client}
  api: {name: API, kind: resource-server, base_url: "${inputs.api}"}
inputs:
  api: {description: Base URL}
states:
  - {id: start, initial: true}
  - {id: done, terminal: true}
  - {id: rejected, terminal: true, failure: true}
transitions:
  - id: ask
    from: start
    to: done
    by: client -> api
    title: Ask for the page
    request: {method: GET, path: /ok}
    response: {status: 200}
    failures:
      - id: refused
        when: the server refuses
        provoke: {request: {path: /refused/NAME}}
        response: {status: STATUS, error: "CODE"}
        to: rejected
        remedy: Fix it.
"""


@pytest.fixture(scope="module")
def server():
    """One real HTTP server answering every kind of refusal below at /refused/NAME."""
    routes = {("GET", "/ok"): lambda seen: (200, [("Content-Type", "text/plain")], "fine")}
    for name, status, headers, body, _code, _where in ANSWERS:
        routes[("GET", f"/refused/{name}")] = lambda seen, a=(status, headers, body): a
    routes[("GET", "/refused/no-code")] = lambda seen: (400, [("Content-Type", "text/html")],
                                                        "<html><body><p>Bad request</p></body></html>")
    with HostileServer(routes) as srv:
        yield srv


def _run(tmp_path, srv, name: str, status: int, code: str):
    path = tmp_path / f"errors-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(FLOW.replace("STATUS", str(status)).replace("CODE", code).replace("NAME", name))
    with Verifier(VerifyOptions(inputs={"api": srv.url})) as v:
        result = v.run(load_flows([path]))
    return result, next(s for s in result.scenarios if s.name == "refused")


ANSWERS = [
    ("json", 400, [("Content-Type", "application/json")], '{"error": "invalid_grant"}', "invalid_grant", "body"),
    ("www-authenticate", 401, [("WWW-Authenticate", 'Bearer error="invalid_token"')], "", "invalid_token",
     "WWW-Authenticate"),
    ("location-query", 302, [("Location", "https://app.invalid/cb?error=access_denied&state=x")], "",
     "access_denied", "Location query"),
    ("location-fragment", 302, [("Location", "https://app.invalid/cb#error=access_denied&state=x")], "",
     "access_denied", "Location fragment"),
    ("plain-text-pairs", 400, [("Content-Type", "text/plain")], "error=invalid_request&error_description=bad",
     "invalid_request", "text body"),
    ("plain-text-code", 400, [("Content-Type", "text/plain; charset=utf-8")], "unsupported_grant_type\n",
     "unsupported_grant_type", "text body"),
    *[(name, 400, [("Content-Type", "text/html; charset=utf-8")], html, code, where) for name, html, code, where in PAGES],
]


@pytest.mark.parametrize("name,status,headers,body,code,where", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_a_documented_code_is_found_where_the_server_put_it(tmp_path, server, name, status, headers, body, code,
                                                             where):
    _result, refused = _run(tmp_path, server, name, status, code)
    assert refused.status == "passed", refused.failure
    wrong, refused = _run(tmp_path, server, name, status, "not_the_code")
    assert wrong.exit_code == 1 and refused.status == "failed"
    check = refused.failure.checks[0]
    assert (check.what, check.expected) == ("error", "not_the_code")
    assert f"{code} ({where})" in check.actual  # what was found, and where
    assert f"no not_the_code in {LOOKED_IN}" in check.actual  # and where flowdoc looked


def test_no_code_at_all_says_where_flowdoc_looked(tmp_path, server):
    _result, refused = _run(tmp_path, server, "no-code", 400, "invalid_request")
    assert refused.failure.checks[0].actual == "no error code in " + LOOKED_IN
    assert "Location's query and fragment" in LOOKED_IN and "HTML page" in LOOKED_IN and "plain-text" in LOOKED_IN


@pytest.mark.node
def test_oidc_provider_stock_error_page_end_to_end(tmp_path):
    """The real oidc-provider with its own error page: the redirect_uri branch is proven from the
    page's `error: invalid_redirect_uri`, and a wrong documented code fails naming what it found."""
    from tests.support.oidc import start_oidc_server
    from tests.support.verify_inputs import verify_inputs

    flow = (ROOT / "flows" / "authorization-code-pkce.yaml").read_text()
    wrong = flow.replace("response: {status: 400, error: invalid_redirect_uri}",
                         "response: {status: 400, error: invalid_request}")
    assert wrong != flow
    with start_oidc_server(stockErrorPage=True) as srv:
        cli, env_text = verify_inputs(srv)
        inputs = dict(a.split("=", 1) for a in cli[1::2])
        env = dict(line.split("=", 1) for line in env_text.splitlines()[1:])
        results = []
        for name, text in (("right", flow), ("wrong", wrong)):
            (tmp_path / name).mkdir()
            (tmp_path / name / "authorization-code-pkce.yaml").write_text(text)
            opts = VerifyOptions(inputs=inputs, env=env, scenarios=["redirect_uri_mismatch"])
            with Verifier(opts) as v:
                results.append(v.run(load_flows([tmp_path / name])))
    right, bad = results
    assert right.exit_code == 0, right.scenarios[0].failure
    assert bad.exit_code == 1
    check = bad.scenarios[0].failure.checks[0]
    assert check.what == "error" and check.actual.startswith("invalid_redirect_uri (page text)")
