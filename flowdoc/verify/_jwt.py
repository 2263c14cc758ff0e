"""JWT checks against the issuer's JWKS (joserfc): signature, kid, alg, iss, aud, exp, nonce, claims."""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeGuard

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from ._limits import MAX_JSON_DEPTH, json_depth

#: asymmetric algorithms only: a JWKS publishes public keys; "none" and HS* are never accepted
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


class JwksError(Exception):
    """The JWKS (or the discovery document pointing to it) could not be had."""


@dataclass
class JwtProblem:
    what: str
    expected: str
    actual: str


class JwksCache:
    """Discovery documents and key sets, fetched once per run (and once more on an unknown kid)."""

    def __init__(self, fetch_json: Callable[[str], Any]):
        self._fetch = fetch_json
        self._lock = threading.Lock()
        self._jwks_uri: dict[str, str] = {}
        self._keys: dict[str, tuple[KeySet, float]] = {}

    def jwks_uri(self, issuer: str) -> str:
        with self._lock:
            if issuer in self._jwks_uri:
                return self._jwks_uri[issuer]
        base = issuer.rstrip("/")
        last: Exception | None = None
        for suffix in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
            try:
                doc = self._fetch(base + suffix)
            except JwksError as exc:
                last = exc
                continue
            uri = doc.get("jwks_uri") if isinstance(doc, dict) else None
            if isinstance(uri, str):
                with self._lock:
                    self._jwks_uri[issuer] = uri
                return uri
        raise JwksError(f"no jwks_uri in the discovery document of {issuer}" + (f" ({last})" if last else ""))

    def keys(self, url: str, *, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys.get(url)
        if cached and not (refresh and time.monotonic() - cached[1] > 1.0):
            return cached[0]
        doc = self._fetch(url)
        try:
            ks = KeySet.import_key_set(doc)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise JwksError(f"{url} is not a usable JWKS ({type(exc).__name__})") from None
        with self._lock:
            self._keys[url] = (ks, time.monotonic())
        return ks


def _fmt(v: Any) -> str:
    return "(absent)" if v is None else repr(v) if not isinstance(v, str) else v


class _Rejected(Exception):
    """The token cannot be verified at all: one problem, and no claims."""

    def __init__(self, what: str, expected: str, actual: str):
        super().__init__(what)
        self.problem = JwtProblem(what, expected, actual)


def verify_jwt(
    token: Any,
    *,
    jwks_url: str,
    cache: JwksCache,
    iss: str | None = None,
    aud: str | None = None,
    nonce: str | None = None,
    check_exp: bool = True,
    claims: dict[str, Any] | None = None,
    required: list[str] | None = None,
    now: float | None = None,
) -> tuple[dict[str, Any] | None, list[JwtProblem]]:
    """Verify a compact JWS; return (claims, problems). Never puts the token in a message."""
    try:
        alg, kid = _header(token)
        key = _key(cache, jwks_url, kid, alg)
        c = _verified_claims(token, key, alg, kid)
    except _Rejected as exc:
        return None, [exc.problem]
    t = time.time() if now is None else now
    problems = [*_registered_claims(c, iss, aud, check_exp, t), *_nonce(c, nonce),
                *_expected_claims(c, claims or {}, required or [])]
    return c, problems


def _header(token: Any) -> tuple[str, str | None]:
    """The token's alg (one of ALGORITHMS) and kid, read before any JSON parser recurses into it."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise _Rejected("JWT", "a signed JWT (header.payload.signature)", "not a JWT")
    if any(_too_deep(part) for part in token.split(".")[:2]):
        raise _Rejected("JWT", f"JSON nested at most {MAX_JSON_DEPTH} levels deep", "nested deeper")
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError):
        raise _Rejected("JWT", "a signed JWT", "a token that does not parse") from None
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGORITHMS:
        raise _Rejected("alg", "one of " + ", ".join(ALGORITHMS), _fmt(alg))
    return alg, kid


def _key(cache: JwksCache, jwks_url: str, kid: str | None, alg: str) -> Key:
    """The JWKS key that signed the token (the JWKS fetched again once for an unknown kid)."""
    try:
        keyset = cache.keys(jwks_url)
        key = _pick(keyset, kid, alg)
        if key is None and kid is not None:
            keyset = cache.keys(jwks_url, refresh=True)  # the issuer may have rotated its keys
            key = _pick(keyset, kid, alg)
    except JwksError as exc:
        raise _Rejected("JWKS", f"keys from {jwks_url}", str(exc)) from None
    if key is None:
        kids = ", ".join(str(k.kid) for k in keyset.keys) or "none"
        if kid is None:
            raise _Rejected("kid", "a kid naming one key of the JWKS", f"no kid (JWKS keys: {kids})")
        raise _Rejected("kid", f"one of the JWKS keys ({kids})", kid)
    return key


def _verified_claims(token: str, key: Key, alg: str, kid: str | None) -> dict[str, Any]:
    try:
        obj = jws.deserialize_compact(token, key, algorithms=[alg])
        c = json.loads(obj.payload)
        if not isinstance(c, dict):
            raise ValueError("claims")
    except JoseError as exc:
        what = "signature" if "signature" in type(exc).__name__.lower() else "JWT"
        raise _Rejected(what, "valid for the issuer's key " + str(kid or ""),
                        getattr(exc, "error", None) or type(exc).__name__) from None
    except (ValueError, UnicodeDecodeError):
        raise _Rejected("JWT", "a JSON object of claims", "a payload that is not one") from None
    return c


def _is_number(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _registered_claims(c: dict[str, Any], iss: str | None, aud: str | None, check_exp: bool, t: float) -> list[JwtProblem]:
    """iss, aud, exp and nbf (60 s of clock skew allowed)."""
    problems: list[JwtProblem] = []
    if iss is not None and c.get("iss") != iss:
        problems.append(JwtProblem("claim iss", iss, _fmt(c.get("iss"))))
    got = c.get("aud")
    if aud is not None and not (got == aud or (isinstance(got, list) and aud in got)):
        problems.append(JwtProblem("claim aud", aud, _fmt(got)))
    exp = c.get("exp")
    if check_exp:
        if not _is_number(exp):
            problems.append(JwtProblem("claim exp", "a NumericDate", _fmt(exp)))
        elif exp <= t:
            problems.append(JwtProblem("claim exp", "in the future", f"expired {int(t - exp)} s ago"))
    nbf = c.get("nbf")
    if _is_number(nbf) and nbf > t + 60:
        problems.append(JwtProblem("claim nbf", "not in the future", f"{int(nbf - t)} s from now"))
    return problems


def _nonce(c: dict[str, Any], nonce: str | None) -> list[JwtProblem]:
    if nonce is None or c.get("nonce") == nonce:
        return []
    return [JwtProblem("claim nonce", "the nonce sent with the request",
                       "a different nonce" if "nonce" in c else "(absent)")]


def _expected_claims(c: dict[str, Any], claims: dict[str, Any], required: list[str]) -> list[JwtProblem]:
    """Claims with an exact value (a number matches its text), and claims that must be present."""
    problems: list[JwtProblem] = []
    for name, want in claims.items():
        got = c.get(name)
        same = got == want or (isinstance(want, str) and _is_number(got) and str(got) == want)
        if not same:
            problems.append(JwtProblem(f"claim {name}", _fmt(want), _fmt(got)))
    for name in required:
        if name not in c:
            problems.append(JwtProblem(f"claim {name}", "present", "(absent)"))
    return problems


def _too_deep(part: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (ValueError, binascii.Error):
        return False  # not base64url: the parser reports it
    return json_depth(raw.decode("utf-8", "replace")) > MAX_JSON_DEPTH


def _pick(keyset: KeySet, kid: str | None, alg: str) -> Key | None:
    keys = list(keyset.keys)
    if kid is not None:
        return next((k for k in keys if k.kid == kid), None)
    family = "OKP" if alg == "EdDSA" else {"R": "RSA", "P": "RSA", "E": "EC"}[alg[0]]
    usable = [k for k in keys if k.key_type == family]
    return usable[0] if len(usable) == 1 else None
