"""Starting flows, one per kind the examples cover: complete, valid and lint-clean but for TODOs.

A template is a flow file under ``templates/`` with ``{{ name }}`` holes. Every value put into a
hole is checked (ids, dates, paths, the client authentication) or written as a JSON string,
which is a valid double-quoted YAML scalar, so no value can change the file's structure.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from importlib import resources

from ..model.flow import CLIENT_SECRET_AUTH, ID_PATTERN
from ..model.schema import SCHEMA_ID

__all__ = ["KINDS", "Kind", "ScaffoldError", "Endpoints", "render_kind"]


class ScaffoldError(Exception):
    """Bad input for a scaffold (id, path, file): a usage error, exit code 2."""


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    summary: str


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("client-credentials", "Service-to-service calls with the client credentials grant",
         "A backend service gets an access token with its own credentials and calls the API."),
    Kind("authorization-code-pkce", "Sign in with the authorization code flow and PKCE",
         "The browser is sent to the authorization server; the app redeems the returned code for tokens."),
    Kind("refresh-rotation", "Refresh an expired access token with a rotating refresh token",
         "After a 401 the client redeems its refresh token for a new pair and retries."),
    Kind("mfa-step-up", "Multi-factor sign-in with a one-time code",
         "After the password, the server asks for a TOTP code before it issues tokens."),
    Kind("gateway-login", "Sign in through the API gateway (backend-for-frontend)",
         "The gateway signs the user in, keeps the tokens and gives the browser a session cookie."),
    Kind("device-flow", "Sign in on a device without a browser (device authorization grant)",
         "The device shows a code; the user approves on a phone; the device polls for tokens."),
)}

_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/{}-]*$")
_HOLE = re.compile(r"\{\{ ([a-z_]+) \}\}")
_ID = re.compile(ID_PATTERN)
CLIENT_AUTH = (*CLIENT_SECRET_AUTH, "none")


@dataclass
class Endpoints:
    """Where the flow's requests go; --from-discovery fills them from the server's metadata."""

    issuer: str = "https://auth.example.com"
    authorize_path: str = "/authorize"
    token_path: str = "/token"
    device_path: str = "/device/authorize"
    login_path: str = "/login"
    otp_path: str = "/login/otp"
    api_path: str = "/api/me"
    client_auth: str = "client_secret_basic"
    scope: dict[str, str] = field(default_factory=dict)  # kind -> default scope


DEFAULT_SCOPES = {
    "client-credentials": "api:read",
    "authorization-code-pkce": "openid profile offline_access",
    "mfa-step-up": "openid profile",
    "device-flow": "openid offline_access",
}


def check_id(flow_id: str) -> str:
    if not _ID.match(flow_id or "") or len(flow_id) > 80:
        raise ScaffoldError(f"'{flow_id}' is not a flow id: use letters, digits, '_' and '-', starting with a letter")
    return flow_id


def _path(value: str, what: str) -> str:
    if not _SAFE_PATH.match(value) or len(value) > 300:
        raise ScaffoldError(f"{what} '{value[:80]}' is not a URL path (it must start with '/')")
    return json.dumps(value)


def _template(name: str) -> str:
    return resources.files("flowdoc.scaffold").joinpath("templates", name).read_text(encoding="utf-8")


def render_kind(kind: str, flow_id: str, *, title: str | None = None, today: _dt.date | None = None,
                schema: str = SCHEMA_ID, endpoints: Endpoints | None = None) -> str:
    """The text of a starting flow of ``kind``."""
    if kind not in KINDS:
        raise ScaffoldError(f"unknown kind '{kind}'; choose one of: {', '.join(KINDS)}")
    ep = endpoints or Endpoints()
    if ep.client_auth not in CLIENT_AUTH:
        raise ScaffoldError(f"client authentication '{ep.client_auth}' is not one of {', '.join(CLIENT_AUTH)}")
    info = KINDS[kind]
    day = (today or _dt.date.today()).isoformat()
    values = {
        "schema": schema.replace("\n", " "),
        "kind": kind,
        "id": check_id(flow_id),
        "title": json.dumps(title or info.title, ensure_ascii=False),
        "summary": info.summary,
        "today": day,
        "issuer": json.dumps(ep.issuer),
        "scope": json.dumps(ep.scope.get(kind, DEFAULT_SCOPES.get(kind, "openid"))),
        "client_auth": ep.client_auth,
    }
    for name in ("authorize_path", "token_path", "device_path", "login_path", "otp_path", "api_path"):
        values[name] = _path(getattr(ep, name), name.replace("_", " "))
    text = _template("_head.yaml") + _template(f"{kind}.yaml")
    return _HOLE.sub(lambda m: values[m.group(1)], text)
