"""Session-scoped pytest fixtures for the real OIDC provider.

Use them from a conftest.py with ``pytest_plugins = ["tests.support.fixtures"]`` or import them
into a test module (``from tests.support.fixtures import oidc_server``).

- ``oidc_server``: normal TTLs (access token 1 h, refresh token 14 d, ...).
- ``oidc_server_short_ttl``: access token 2 s, refresh token 3 s, authorization code 2 s
  (also client-credentials token 2 s, id token 2 s), for expiry tests.

Both are stopped (SIGTERM, then SIGKILL) at the end of the session.
"""

from __future__ import annotations

import pytest

from tests.support.oidc import ServerHandle, start_oidc_server

SHORT_TTL = {
    "AccessToken": 2,
    "ClientCredentials": 2,
    "RefreshToken": 3,
    "AuthorizationCode": 2,
    "IdToken": 2,
}


@pytest.fixture(scope="session")
def oidc_server():
    handle: ServerHandle = start_oidc_server()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def oidc_server_short_ttl():
    handle: ServerHandle = start_oidc_server(ttl=SHORT_TTL)
    try:
        yield handle
    finally:
        handle.stop()


# --------------------------------------------------------------------------------------------
# flowdoc verify: a server with non-default, random secrets and TTLs short enough to wait out

VERIFY_TTL = {
    "AccessToken": 2,  # the flows wait access_token_ttl=3 s for it to expire
    "RefreshToken": 6,  # still valid after that wait; refresh_token_ttl=6 waits it out
    "Interaction": 4,  # an unanswered MFA challenge expires (challenge_ttl=5)
    "DeviceCode": 15,  # the device flow's expired_token branch waits device_code_ttl=15 s
}
#: device flow: poll every second (the one slow_down adds 5 s), so a happy path takes about 7 s
VERIFY_DEVICE = {"deviceInterval": 1}


@pytest.fixture(scope="session")
def oidc_server_verify():
    from tests.support.verify_inputs import random_server_env

    handle: ServerHandle = start_oidc_server(env=random_server_env(), ttl=VERIFY_TTL, **VERIFY_DEVICE)
    try:
        yield handle
    finally:
        handle.stop()
