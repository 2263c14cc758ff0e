"""One starting flow per grant a server's metadata supports (RFC 8414 / OpenID Connect Discovery).

Only the URL the user names is fetched (no redirect is followed, at most :data:`MAX_BYTES`, with a
timeout); the endpoints, the client authentication and the scopes it lists fill the kind templates.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import urlsplit

import httpx

from ..model.flow import CLIENT_SECRET_AUTH
from ..model.schema import SCHEMA_ID
from .kinds import DEFAULT_SCOPES, Endpoints, ScaffoldError, check_id, render_kind

__all__ = ["DiscoveryUnreachable", "fetch_metadata", "flows_from_discovery", "GRANT_KINDS"]

MAX_BYTES = 1024 * 1024
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_KINDS = {
    "authorization_code": "authorization-code-pkce",
    "client_credentials": "client-credentials",
    "refresh_token": "refresh-rotation",
    DEVICE_GRANT: "device-flow",
}
_SKIPPED = {
    "implicit": "the implicit grant is deprecated (OAuth 2.0 Security BCP); use authorization_code with PKCE",
    "password": "the password grant is deprecated (OAuth 2.0 Security BCP)",
}
_OIDC_SCOPES = {"openid", "profile", "email", "address", "phone", "offline_access"}


class DiscoveryUnreachable(ScaffoldError):
    """The metadata URL cannot be reached: exit code 3."""


def fetch_metadata(url: str, timeout: float = 15.0) -> dict:
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise ScaffoldError(f"'{url}' is not an http(s) URL")
    try:
        with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False) as client:
            with client.stream("GET", url, headers={"Accept": "application/json"}) as resp:
                if resp.is_redirect:
                    raise ScaffoldError(f"{url} redirects to {resp.headers.get('location', '')[:200]}; "
                                        "name that URL if you trust it")
                if resp.status_code != 200:
                    raise ScaffoldError(f"{url} answered {resp.status_code}, not the server's metadata")
                data = bytearray()
                for chunk in resp.iter_bytes():
                    data += chunk
                    if len(data) > MAX_BYTES:
                        raise ScaffoldError(f"{url} sends more than 1 MiB; that is not discovery metadata")
    except httpx.HTTPError as exc:
        raise DiscoveryUnreachable(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
    try:
        meta = json.loads(bytes(data).decode("utf-8"))
    except (ValueError, RecursionError):
        raise ScaffoldError(f"{url} is not JSON; give the /.well-known/openid-configuration URL") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("issuer"), str):
        raise ScaffoldError(f"{url} is not discovery metadata (no 'issuer'); "
                            "give the /.well-known/openid-configuration URL")
    return meta


def _path(meta: dict, key: str, issuer: str, default: str) -> str:
    url = meta.get(key)
    if not isinstance(url, str) or not url:
        return default
    if url.startswith(issuer.rstrip("/") + "/"):
        return url[len(issuer.rstrip("/")):]
    return urlsplit(url).path or default


def _strings(meta: dict, key: str, default: list[str]) -> list[str]:
    value = meta.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else default


def endpoints_from(meta: dict) -> Endpoints:
    issuer = meta["issuer"]
    if urlsplit(issuer).scheme.lower() not in ("http", "https"):
        raise ScaffoldError(f"the metadata's issuer '{issuer[:80]}' is not an http(s) URL")
    methods = _strings(meta, "token_endpoint_auth_methods_supported", ["client_secret_basic"])
    auth = next((m for m in CLIENT_SECRET_AUTH if m in methods), "none")
    scopes = _strings(meta, "scopes_supported", [])
    api = [s for s in scopes if s not in _OIDC_SCOPES and " " not in s][:3]
    oidc = [s for s in ("openid", "profile", "offline_access") if s in scopes]
    scope = dict(DEFAULT_SCOPES)
    if api:
        scope["client-credentials"] = " ".join(api)
    if oidc:
        scope["authorization-code-pkce"] = scope["device-flow"] = " ".join(oidc)
    return Endpoints(
        issuer=issuer,
        authorize_path=_path(meta, "authorization_endpoint", issuer, "/authorize"),
        token_path=_path(meta, "token_endpoint", issuer, "/token"),
        device_path=_path(meta, "device_authorization_endpoint", issuer, "/device/authorize"),
        client_auth=auth,
        scope=scope,
    )


def flows_from_discovery(url: str, *, prefix: str | None = None, schema: str = SCHEMA_ID,
                         timeout: float = 15.0) -> dict[str, str]:
    """File name -> flow text, one per supported grant (in the order the metadata lists them)."""
    meta = fetch_metadata(url, timeout)
    ep = endpoints_from(meta)
    grants = _strings(meta, "grant_types_supported", ["authorization_code", "implicit"])
    if prefix is not None:
        check_id(prefix)
    out: dict[str, str] = {}
    for grant in grants:
        kind = GRANT_KINDS.get(grant)
        if kind is None:
            print(f"flowdoc: note: grant {grant[:100]!r}: {_SKIPPED.get(grant, 'no template for it')}",
                  file=sys.stderr)
            continue
        if kind == "device-flow" and "device_authorization_endpoint" not in meta:
            print("flowdoc: note: the device grant is listed without a device_authorization_endpoint; skipped",
                  file=sys.stderr)
            continue
        flow_id = f"{prefix}-{kind}" if prefix else kind
        out[f"{flow_id}.yaml"] = render_kind(kind, flow_id, schema=schema, endpoints=ep)
    if not out:
        raise ScaffoldError(f"{url} lists no grant flowdoc has a template for ({', '.join(grants)[:200]})")
    return out
