"""A random value shaped like a signed JWT (header.payload.signature, base64url), for servers in
tests that hand out tokens: redaction must find it by its shape. Not a valid signature."""

from __future__ import annotations

import base64
import json
import secrets


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt() -> str:
    head = b64url(json.dumps({"alg": "RS256", "kid": "k1", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": "probe", "nonce": secrets.token_hex(8)}).encode())
    return f"{head}.{body}.{b64url(secrets.token_bytes(64))}"
