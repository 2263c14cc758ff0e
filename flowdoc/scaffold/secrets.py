"""Which values of a browser recording are secret, and a last check that none reaches a file.

Secret: values of parameters, JSON fields and headers whose name says so (password, code, token,
secret, verifier, otp, csrf, session, ...), every cookie value, the Authorization header and the
parts of a Basic one, and anything shaped like a JWT. The scan looks for each secret as it is,
URL-encoded and base64-encoded (standard and URL-safe alphabets, with and without padding).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

__all__ = ["SECRET_NAME", "is_secret_name", "looks_random", "SecretSet"]

SECRET_NAME = re.compile(
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|code|verifier|otp|totp|assertion|credential|"
    r"session|sid|csrf|xsrf|cookie|api[_-]?key|private|signature|saml|ticket|nonce|state)",
    re.IGNORECASE,
)
_NOT_SECRET = {"response_type", "code_challenge_method", "grant_type", "token_type", "token_type_hint",
               "state_hint", "response_mode", "expires_in", "token_endpoint_auth_method"}
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
MIN_SCAN = 6  # shorter values (1, true, en) are not scanned for: they would match ordinary text
MAX_VALUES = 20_000
MAX_JSON = 2 * 1024 * 1024


def is_secret_name(name: str) -> bool:
    return name.lower() not in _NOT_SECRET and bool(SECRET_NAME.search(name))


def looks_random(value: str) -> bool:
    """A long value mixing letters and digits (an id, a key, a token)."""
    if len(value) < 16:
        return False
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value) or bool(_JWT.match(value))


class SecretSet:
    """The secret values found in a recording."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, value: Any) -> None:
        if isinstance(value, str) and value and len(self.values) < MAX_VALUES:
            self.values.add(value)

    def __contains__(self, value: object) -> bool:
        return value in self.values

    def pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        for name, value in pairs:
            if is_secret_name(name) or _JWT.match(value or ""):
                self.add(value)

    def url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.password:
            self.add(parts.password)
        self.pairs(parse_qsl(parts.query, keep_blank_values=True))
        self.pairs(parse_qsl(parts.fragment, keep_blank_values=True))

    def header(self, name: str, value: str) -> None:
        low = name.lower()
        if low == "authorization":
            self.add(value)
            scheme, _, cred = value.partition(" ")
            self.add(cred.strip())
            if scheme.lower() == "basic":
                self._basic(cred.strip())
        elif low == "cookie":
            for part in value.split(";"):
                self.add(part.partition("=")[2].strip())
        elif low == "set-cookie":
            self.add(value.split(";", 1)[0].partition("=")[2].strip())
        elif low == "location":
            self.url(value)
        elif is_secret_name(name):
            self.add(value)

    def _basic(self, cred: str) -> None:
        try:
            user, _, password = base64.b64decode(cred, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return
        self.add(password)

    def json_text(self, text: str) -> None:
        if not text or len(text) > MAX_JSON:
            return
        try:
            self.json_value(json.loads(text))
        except (ValueError, RecursionError):
            return

    def json_value(self, value: Any) -> None:
        stack: list[tuple[str, Any]] = [("", value)]
        while stack and len(self.values) < MAX_VALUES:
            name, v = stack.pop()
            if isinstance(v, dict):
                stack.extend((str(k), x) for k, x in v.items())
            elif isinstance(v, list):
                stack.extend((name, x) for x in v)
            elif isinstance(v, str) and (is_secret_name(name) or _JWT.match(v)):
                self.add(v)

    def leaks(self, text: str) -> list[str]:
        """Names of the forms in which a secret appears in ``text`` (never the secret itself)."""
        found = []
        for value in self.values:
            if len(value) < MIN_SCAN:
                continue
            for label, form in _forms(value):
                if form in text:
                    found.append(label)
                    break
        return found


def _forms(value: str) -> Iterable[tuple[str, str]]:
    raw = value.encode("utf-8")
    yield "plain", value
    yield "url-encoded", quote(value, safe="")
    yield "form-encoded", quote_plus(value, safe="")
    for label, enc in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
        b = enc(raw).decode("ascii")
        yield label, b
        yield label, b.rstrip("=")
