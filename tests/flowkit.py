"""Small builders for flows in tests: a valid minimal flow as a dict, and checking helpers."""

from __future__ import annotations

import copy
from typing import Any

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
