"""Small builders for flows in tests: a valid minimal flow as a dict (:data:`BASE`, :func:`base`),
a flow with a little of everything for the diff tests (:data:`DEMO`, edited with :func:`S`,
:func:`D`, :func:`A` and built with :func:`build` or :func:`flow_text`), and checking helpers."""

from __future__ import annotations

import copy
from typing import Any, Callable

import yaml

from flowdoc.check import check_graph, run_lint
from flowdoc.load import read_flow_text

BASE: dict[str, Any] = {
    "id": "mini",
    "title": "A minimal flow",
    "summary": "Used by the tests.",
    "version": "1.0.0",
    "updated": "2026-11-20",
    "status": "current",
    "changelog": [{"version": "1.0.0", "notes": ["First version."]}],
    "actors": {
        "app": {"name": "App", "kind": "client"},
        "auth": {"name": "Auth", "kind": "authorization-server", "base_url": "${inputs.issuer}"},
    },
    "inputs": {
        "issuer": {"description": "Issuer"},
        "client_id": {"description": "Client"},
        "client_secret": {"secret": True},
    },
    "states": [
        {"id": "start", "initial": True},
        {"id": "done", "terminal": True, "handoff": "See the Authorization Guide."},
        {"id": "rejected", "terminal": True, "failure": True},
    ],
    "transitions": [
        {
            "id": "get_token",
            "from": "start",
            "to": "done",
            "by": "app -> auth",
            "title": "Request a token with the client credentials",
            "request": {
                "method": "POST",
                "path": "/token",
                "auth": "client_secret_basic",
                "form": {"grant_type": "client_credentials"},
            },
            "response": {"status": 200, "fields": ["access_token"], "capture": {"access_token": "body.access_token"}},
            "failures": [
                {
                    "id": "bad_secret",
                    "when": "the secret is wrong",
                    "provoke": {"inputs": {"client_secret": "wrong"}},
                    "response": {"status": 401, "error": "invalid_client"},
                    "to": "rejected",
                    "remedy": "Fix the secret.",
                }
            ],
        }
    ],
    "lifecycle": {
        "tokens": {"access_token": {"ttl": "1h"}},
        "storage": {"server": "memory"},
        "reauthenticate": ["the token expired"],
    },
}


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def diagnose(data: dict[str, Any] | str, *, lint: bool = False, file: str = "t.yaml"):
    """All diagnostics for a flow given as a dict or YAML text."""
    text = data if isinstance(data, str) else to_yaml(data)
    flow, diags = read_flow_text(text, file)
    if flow is not None:
        check_graph(flow, diags)
        if lint and not diags.errors:
            run_lint(flow, diags)
    return diags.items


def codes(data: dict[str, Any] | str, **kw) -> list[str]:
    return [d.code for d in diagnose(data, **kw)]


# ------------------------------------------------------------------ the diff tests' flow

# A flow with a little of everything: three HTTP steps (redirect, token with JWT checks, bearer call), an
# action step off the happy path, failures, named paths, a lifecycle and troubleshooting.
DEMO: dict[str, Any] = {
    "id": "demo",
    "title": "Sign in to the demo app",
    "summary": "A test flow.",
    "version": "1.0.0",
    "updated": "2026-01-10",
    "status": "current",
    "changelog": [{"version": "1.0.0", "date": "2026-01-10", "notes": ["First version."]}],
    "tags": ["oauth2"],
    "links": {"authorization_guide": "https://docs.example.com/authz"},
    "actors": {
        "client": {"name": "App", "kind": "client"},
        "auth": {"name": "Auth", "kind": "authorization-server", "base_url": "${inputs.issuer}"},
        "api": {"name": "API", "kind": "resource-server", "base_url": "${inputs.api}"},
    },
    "inputs": {
        "issuer": {"description": "Issuer"},
        "api": {"description": "API base URL"},
        "client_id": {"description": "Client id"},
        "client_secret": {"description": "Secret", "secret": True},
        "scope": {"description": "Scopes", "default": "api:read"},
    },
    "generate": {"state": {"kind": "random"}, "pkce": {"kind": "pkce"}},
    "states": [
        {"id": "start", "initial": True},
        {"id": "authorized"},
        {"id": "issued"},
        {"id": "done", "terminal": True, "handoff": "See the Authorization Guide."},
        {"id": "rejected", "terminal": True, "failure": True},
    ],
    "transitions": [
        {
            "id": "authorize",
            "from": "start",
            "to": "authorized",
            "by": "client -> auth",
            "title": "Send the user to the authorization endpoint",
            "request": {
                "method": "GET",
                "path": "/authorize",
                "query": {
                    "response_type": "code",
                    "client_id": "${inputs.client_id}",
                    "state": "${state}",
                    "code_challenge": "${pkce.challenge}",
                },
                "headers": {"Accept": "text/html"},
            },
            "response": {
                "status": 302,
                "redirect": {"to": "https://app.example.com/cb", "query": {"code": None, "state": "${state}"}},
                "capture": {"code": "location.query.code"},
            },
            "failures": [
                {
                    "id": "bad_redirect",
                    "when": "the redirect URI is not registered",
                    "response": {"status": 400, "error": "invalid_request"},
                    "to": "rejected",
                    "remedy": "Register the redirect URI.",
                }
            ],
        },
        {
            "id": "token",
            "from": "authorized",
            "to": "issued",
            "by": "client -> auth",
            "title": "Exchange the code for tokens",
            "guard": "the state matches",
            "request": {
                "method": "POST",
                "path": "/token",
                "auth": "client_secret_basic",
                "form": {
                    "grant_type": "authorization_code",
                    "code": "${steps.authorize.code}",
                    "code_verifier": "${pkce.verifier}",
                },
            },
            "response": {
                "status": 200,
                "fields": ["access_token", "id_token", "expires_in"],
                "body": {"token_type": "Bearer"},
                "headers": {"Cache-Control": "no-store"},
                "content_type": "application/json",
                "capture": {"access_token": "body.access_token"},
                "jwt": [
                    {
                        "token": "body.id_token",
                        "iss": "${inputs.issuer}",
                        "aud": "${inputs.client_id}",
                        "nonce": "${state}",
                        "claims": {"acr": "1"},
                        "required": ["sub", "exp"],
                    }
                ],
            },
            "failures": [
                {
                    "id": "bad_client",
                    "when": "the client secret is wrong",
                    "provoke": {"inputs": {"client_secret": "wrong"}},
                    "response": {"status": 401, "error": "invalid_client"},
                    "to": "rejected",
                    "remedy": "Fix the secret.",
                },
                {
                    "id": "code_reused",
                    "when": "the code was used before",
                    "provoke": {"replay": True},
                    "response": {"status": 400, "error": "invalid_grant"},
                    "to": "rejected",
                    "remedy": "Redeem each code once.",
                },
            ],
        },
        {
            "id": "userinfo",
            "from": "issued",
            "to": "done",
            "by": "client -> api",
            "title": "Call the API with the access token",
            "request": {"method": "GET", "path": "/me", "auth": "bearer", "token": "${steps.token.access_token}"},
            "response": {"status": 200, "fields": ["sub"]},
            "failures": [
                {
                    "id": "expired",
                    "when": "the token has expired",
                    "response": {"status": 401, "error": "invalid_token"},
                    "to": "rejected",
                    "remedy": "Sign in again.",
                }
            ],
        },
        {
            "id": "retry_login",
            "from": "authorized",
            "to": "start",
            "by": "client -> auth",
            "title": "Start the sign-in again",
            "action": "The user selects Sign in again",
        },
    ],
    "paths": [
        {"id": "main", "steps": ["authorize", "token", "userinfo"]},
        {"id": "again", "steps": ["authorize", "retry_login"]},
    ],
    "lifecycle": {
        "tokens": {
            "access_token": {"format": "jwt", "ttl": "1h", "refresh_ahead": "60s"},
            "refresh_token": {"format": "opaque", "ttl": "14d", "rotation": "Rotated on every use."},
            "authorization_code": {"ttl": "60s"},
        },
        "storage": {"web": "In the server-side session.", "ios": "Keychain."},
        "reauthenticate": ["the refresh token has expired"],
        "caching": ["Cache one token per scope."],
    },
    "troubleshooting": [
        {"error": "invalid_grant", "status": 400, "cause": "The code expired.", "remedy": "Sign in again."}
    ],
}

DEPRECATED = {"replaced_by": "demo-v2", "migration": "https://docs.example.com/migrate"}


# ------------------------------------------------------------------ edits
Edit = Callable[[dict], None]
_LIST_KEYS = ("id", "token", "error")


def _walk(d: Any, parts: list[str]) -> Any:
    for p in parts:
        if isinstance(d, list):
            d = d[int(p)] if p.isdigit() else next(x for x in d if any(x.get(k) == p for k in _LIST_KEYS))
        else:
            d = d[p]
    return d


def S(path: str, value: Any) -> Edit:
    """Set the value at path ('/'-separated; list items by id, token, error or position)."""
    parts = path.split("/")

    def edit(d):
        _walk(d, parts[:-1])[parts[-1]] = copy.deepcopy(value)

    return edit


def D(path: str) -> Edit:
    """Delete the value at path."""
    parts = path.split("/")

    def edit(d):
        parent = _walk(d, parts[:-1])
        if isinstance(parent, list):
            parent.remove(_walk(parent, parts[-1:]))
        else:
            del parent[parts[-1]]

    return edit


def A(path: str, item: Any) -> Edit:
    """Append an item to the list at path."""
    parts = path.split("/")

    def edit(d):
        _walk(d, parts).append(copy.deepcopy(item))

    return edit


def build(edits: list[Edit], file: str = "flow.yaml"):
    data = copy.deepcopy(DEMO)
    for e in edits:
        e(data)
    flow, diags = read_flow_text(to_yaml(data), file)
    assert flow is not None, [d.message for d in diags.items]
    return flow


def flow_text(edits: list[Edit] | tuple[Edit, ...] = ()) -> str:
    """The YAML text of DEMO with ``edits`` applied."""
    data = copy.deepcopy(DEMO)
    for e in edits:
        e(data)
    return to_yaml(data)


T = "transitions"
TOK = "transitions/token"
RESP = "transitions/token/response"
JWT = "transitions/token/response/jwt/body.id_token"
LC = "lifecycle"
NEW_ACTION_STEP = {"id": "cancel", "from": "authorized", "to": "rejected", "by": "client -> auth",
                   "title": "Cancel the sign-in", "action": "The user cancels"}
A_REQUEST = {"method": "GET", "path": "/restart"}
A_RESPONSE = {"status": 302, "redirect": {"to": "/authorize"}}
