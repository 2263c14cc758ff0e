"""Inputs for running the example flows (flows/*.yaml) against the test server with flowdoc verify.

    env = random_server_env()                       # start_oidc_server(env=env, ...)
    args, env_file_text = verify_inputs(srv)        # CLI --input args, and an env file with the secrets
    inputs, env = verify_values(srv)                # the same as VerifyOptions(inputs=, env=) take them
    secrets_of(srv)                                 # every secret value, to scan outputs for

Non-secret inputs go on the command line; secrets go in an env file (flow-scoped variables
FLOWDOC_<FLOW>__<NAME> where flows need different values), as a careful user would.
"""

from __future__ import annotations

import secrets

import pyotp


def random_server_env() -> dict[str, str]:
    """Fresh secrets and passwords for every client and user (never the defaults)."""
    tok = lambda: "fd-" + secrets.token_urlsafe(18)  # noqa: E731
    return {
        "FLOWDOC_OIDC_SERVICE_SECRET": tok(),
        "FLOWDOC_OIDC_SERVICE_POST_SECRET": tok(),
        "FLOWDOC_OIDC_WEB_SECRET": tok(),
        "FLOWDOC_OIDC_GATEWAY_SECRET": tok(),
        "FLOWDOC_OIDC_REPORTING_SECRET": tok(),
        "FLOWDOC_OIDC_API_SECRET": tok(),
        "FLOWDOC_OIDC_ALICE_PASSWORD": tok(),
        "FLOWDOC_OIDC_BOB_PASSWORD": tok(),
        "FLOWDOC_OIDC_MALLORY_PASSWORD": tok(),
        "FLOWDOC_OIDC_BOB_TOTP_SECRET": pyotp.random_base32(32),
    }


def secrets_of(srv) -> dict[str, str]:
    out = {f"client secret {k}": v for k, v in srv.secrets.items()}
    for user, vals in srv.users.items():
        for k, v in vals.items():
            out[f"{user} {k}"] = v
    return out


def verify_values(srv, *, short_ttl: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    """(inputs, secret environment variables) for the example flows against ``srv``, as
    ``VerifyOptions(inputs=..., env=...)`` take them."""
    args = {
        "issuer": srv.issuer,
        "resource_url": srv.resource,
        "gateway_url": srv.gateway,
        "redirect_uri": srv.redirect_uri,
        "client_id": "flowdoc-web",
        "client-credentials.client_id": "flowdoc-service",
        "username": "alice",
        "mfa-step-up.username": "bob",
        "locked_username": "mallory",
        "device-authorization.client_id": "flowdoc-tv",
        "device_code_ttl": "15",
        "token-introspection-revocation.client_id": "flowdoc-reporting",
        "api_client_id": "flowdoc-api",
    }
    if short_ttl:
        args.update({"access_token_ttl": "3", "refresh_token_ttl": "6", "challenge_ttl": "5"})
    env = {
        "FLOWDOC_CLIENT_SECRET": srv.secrets["flowdoc-web"],
        "FLOWDOC_CLIENT_CREDENTIALS__CLIENT_SECRET": srv.secrets["flowdoc-service"],
        "FLOWDOC_PASSWORD": srv.users["alice"]["password"],
        "FLOWDOC_MFA_STEP_UP__PASSWORD": srv.users["bob"]["password"],
        "FLOWDOC_TOTP_SECRET": srv.users["bob"]["totpSecret"],
        "FLOWDOC_LOCKED_PASSWORD": srv.users["mallory"]["password"],
        "FLOWDOC_TOKEN_INTROSPECTION_REVOCATION__CLIENT_SECRET": srv.secrets["flowdoc-reporting"],
        "FLOWDOC_API_CLIENT_SECRET": srv.secrets["flowdoc-api"],
    }
    return args, env


def verify_inputs(srv, *, short_ttl: bool = True) -> tuple[list[str], str]:
    """(--input arguments, env file text) for the example flows against ``srv``."""
    args, env = verify_values(srv, short_ttl=short_ttl)
    cli: list[str] = []
    for k, v in args.items():
        cli += ["--input", f"{k}={v}"]
    text = "# secrets for flowdoc verify (test server)\n" + "".join(f"{k}={v}\n" for k, v in env.items())
    return cli, text
