"""Redaction: every secret value seen during a run is replaced by a stable placeholder.

The run registers each secret value once, under a label: a secret input (``«password»``),
a captured or detected token (``«access_token#1»``, ``«access_token#2»``), a cookie
(``«cookie:_session#1»``), client credentials in a Basic header. Every text that leaves
the verifier (excerpts, messages, reports, exceptions) passes through :meth:`Redactor.redact`,
which also catches the encoded forms of a value (URL-encoded, JSON-escaped, base64).

What is registered (see :mod:`._detect` for the scanning of requests and responses):

* declared: secret inputs, generated secrets (PKCE verifier, TOTP code), captures (unless
  ``secret: false``), client credentials;
* by name: the value of any key that names a secret, whatever its case or separators
  (``access_token``, ``accessToken``, ``access-token``, ``X-Subject-Token``, ``clientSecret``,
  ``id_token``, ``password``, ``code`` ...), see :func:`is_secret_key`;
* by shape: a JWT anywhere, and a long high-entropy string under a token-like key or header;
* by context: the values of a response to a request that carried credentials, except the
  public ones (:data:`DEFAULT_PUBLIC` and the flow's ``public`` list).

Reports are redacted as data (:func:`scrub`): strings are replaced before serialization, so a
secret can never break the syntax of JSON or XML, whatever it looks like.
"""

from __future__ import annotations

import base64
import bisect
import functools
import json
import math
import re
import threading
from collections import Counter
from typing import Any, Callable, overload
from urllib.parse import quote, quote_plus

# ------------------------------------------------------------------ keys

# Keys whose values are secret wherever they appear (JSON bodies, form bodies, query strings),
# after normalization (lower case, words joined by "_").
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "code",
        "device_code",
        "user_code",
        "client_secret",
        "password",
        "passwd",
        "code_verifier",
        "otp",
        "totp",
        "assertion",
        "client_assertion",
        "subject_token",
        "actor_token",
        "logout_token",
        "session",
        "session_id",
        "csrf",
        "csrf_token",
    }
)

#: a key whose last word is one of these names a secret: ``accessToken``, ``X-Subject-Token``,
#: ``clientSecret``, ``user-password``, ``mfa_code``, ``x-api-key``
SECRET_WORDS = frozenset(
    {
        "token", "tokens", "secret", "password", "passwd", "pwd", "passphrase", "passcode", "pin",
        "otp", "totp", "hotp", "code", "verifier", "assertion", "credential", "credentials", "cookie",
        "session", "sessionid", "apikey", "key", "jwt", "signature", "csrf", "xsrf", "seed",
        "authorization",
    }
)
#: ... unless the word before it says otherwise (``error_code``, ``status_code``, ``public_key``)
_NOT_SECRET_BEFORE = {
    "code": frozenset({"error", "status", "http", "response", "reason", "result", "return", "exit", "country",
                       "currency", "language", "lang", "locale", "region", "postal", "zip", "area", "iso", "color",
                       "challenge"}),
    "key": frozenset({"public", "sort", "partition", "primary", "foreign", "cache", "idempotency"}),
}
#: ``session_id``, ``token_value``, ``secret_string``: a secret word followed by one of these
_CARRIER_WORDS = frozenset({"id", "value", "val", "string", "str", "data", "b64", "base64", "hex", "raw"})
#: a key with one of these words is token-like: a long high-entropy value under it is a secret
TOKEN_LIKE_WORDS = SECRET_WORDS | frozenset(
    {"auth", "authentication", "bearer", "refresh", "access", "private", "signing", "ticket", "grant",
     "sso", "saml", "saml_response", "samlresponse", "handle", "nonce", "hash", "sig", "jti"}
)

#: response keys whose values are not secret: shown even in the answer to a request that carried
#: credentials (a flow adds its own with ``public:``); a key that names a secret is never public
DEFAULT_PUBLIC = frozenset(
    {
        "token_type", "issued_token_type", "requested_token_type", "token_type_hint", "expires_in",
        "expires_at", "expires", "ext_expires_in", "refresh_expires_in", "refresh_token_expires_in",
        "not_before_policy", "scope", "scopes", "scp", "error", "error_description", "error_uri", "error_code",
        "grant_type", "response_type", "code_challenge_method", "active", "client_id", "iss", "aud", "azp",
        "exp", "iat", "nbf", "auth_time", "acr", "amr", "typ", "alg", "kid", "kty", "use", "interval",
        "issuer", "status", "message", "type", "title", "detail",
    }
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def normalize_key(key: str) -> str:
    """``accessToken``, ``Access-Token``, ``ACCESS_TOKEN`` → ``access_token``; ``X-Subject-Token`` →
    ``x_subject_token``; ``IDToken`` → ``id_token``."""
    words = _NON_WORD.split(_CAMEL.sub("_", key[:200]).lower())
    return "_".join(w for w in words if w)


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether the value of ``key`` (a JSON field, form or query parameter, header) is a secret."""
    k = normalize_key(key)
    if k in SECRET_KEYS:
        return True
    if k in DEFAULT_PUBLIC:
        return False
    words = k.split("_")
    last = words[-1] if words else ""
    if last in _CARRIER_WORDS and len(words) > 1:
        return any(w in SECRET_WORDS and w != "key" for w in words[:-1])
    if last not in SECRET_WORDS:
        return False
    before = words[-2] if len(words) > 1 else ""
    return before not in _NOT_SECRET_BEFORE.get(last, ())


@functools.lru_cache(maxsize=4096)
def is_token_like_key(key: str) -> bool:
    """A key under which a long high-entropy value is a credential (``x-auth``, ``ssoTicket``...)."""
    k = normalize_key(key)
    return k not in DEFAULT_PUBLIC and (k in TOKEN_LIKE_WORDS or any(w in TOKEN_LIKE_WORDS for w in k.split("_")))


# ------------------------------------------------------------------ values

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+/=-]+")


def looks_like_jwt(value: str) -> bool:
    """A JWS (three base64url parts) or JWE (five) whose header starts like JSON (``eyJ``)."""
    return len(value) >= 16 and value.startswith("eyJ") and bool(_JWT.fullmatch(value))


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def looks_like_credential(value: str) -> bool:
    """A long, high-entropy string of token characters (an opaque token, a key, a session id)."""
    if not 16 <= len(value) <= 65536 or not _TOKEN_CHARS.fullmatch(value):
        return False
    classes = any(c.islower() for c in value) + any(c.isupper() for c in value) + any(c.isdigit() for c in value)
    return classes >= 2 and entropy(value) >= 3.0


# ------------------------------------------------------------------ the registry


_UNCHANGED = re.compile(r"[A-Za-z0-9_.~-]*")  # what URL-encoding and JSON strings leave as it is


def _variants(value: str) -> set[str]:
    """The forms a value takes in the texts the verifier prints."""
    if _UNCHANGED.fullmatch(value):  # a JWT, most tokens: every encoding below is the value itself
        out = {value}
    else:
        out = {
            value,
            quote(value, safe=""),
            quote(value),
            quote_plus(value),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        }
    if len(value) >= Redactor.MIN_DETECTED:  # base64 of a shorter value would blank out ordinary text
        raw = value.encode("utf-8", "surrogatepass")
        b64 = base64.b64encode(raw).decode("ascii")
        out |= {b64, b64.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")}
    out.discard("")
    return out


class Redactor:
    """Thread-safe registry of secret values and their placeholders."""

    #: auto-detected values shorter than this are not treated as secrets (they would blank out
    #: ordinary text); declared secret inputs are always registered
    MIN_DETECTED = 6

    #: variants at least this long are found through an index of their first characters, so the
    #: cost of redacting a text grows with the text, not with the number of secrets seen
    PREFIX = 8
    #: while the variants are few and short, one regular expression (an alternation of literals) is
    #: fastest; it is rebuilt on each registration, and compiling costs ~1 ms per 2,000 characters
    #: (a few JWTs), so beyond this total length the prefix index is used
    SMALL_CHARS = 2048
    #: the prefix index finds candidates with one expression of the distinct prefixes, rebuilt only
    #: when a new prefix is registered (tokens of one issuer share theirs); beyond this many prefixes
    #: the text is scanned position by position instead
    PREFIXES_IN_PATTERN = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._placeholder: dict[str, str] = {}  # value -> placeholder
        self._issued: set[str] = set()  # placeholders handed out (kept as they are when text is redacted again)
        self._labels: dict[str, int] = {}  # label -> values seen under it
        self._variants: dict[str, str] = {}  # text to find -> placeholder
        self._index: dict[str, list[tuple[str, str]]] = {}  # first PREFIX chars -> variants, longest first
        self._short: dict[str, str] = {}  # variants shorter than PREFIX -> placeholder
        self._version = 0  # registrations so far (the patterns are rebuilt when it changes)
        self._chars = 0  # total length of the variants
        self._prefix_version = 0  # distinct prefixes in the index so far
        self._prefix_re: tuple[int, re.Pattern[str] | None] = (-1, None)  # the prefixes, while they are few
        self._small: tuple[int, re.Pattern[str] | None] = (-1, None)  # every variant, while they are few
        self._short_re: tuple[int, re.Pattern[str] | None] = (-1, None)  # the short variants

    def __len__(self) -> int:
        return len(self._placeholder)

    def add(self, value: Any, label: str, *, numbered: bool = True, declared: bool = False) -> str | None:
        """Register ``value`` as secret; return its placeholder (the same one for the same value)."""
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str) or not value:
            return None
        if not declared and len(value) < self.MIN_DETECTED:
            return None
        ph = self._placeholder.get(value)
        if ph is not None:
            return ph
        with self._lock:
            ph = self._placeholder.get(value)
            if ph is not None:
                return ph
            n = self._labels.get(label, 0) + 1
            self._labels[label] = n
            ph = f"«{label}#{n}»" if (numbered or n > 1) else f"«{label}»"
            for variant in _variants(value):
                if variant not in self._variants:
                    self._variants[variant] = ph
                    self._index_variant(variant, ph)
            self._issued.add(ph)
            self._placeholder[value] = ph
            self._version += 1
            return ph

    def _index_variant(self, variant: str, ph: str) -> None:
        self._chars += len(variant)
        if len(variant) >= self.PREFIX:
            if variant[: self.PREFIX] not in self._index:
                self._prefix_version += 1
            bisect.insort(self._index.setdefault(variant[: self.PREFIX], []), (variant, ph), key=lambda x: -len(x[0]))
        else:
            self._short[variant] = ph

    def placeholder(self, value: str) -> str | None:
        return self._placeholder.get(value)

    def is_secret(self, value: Any) -> bool:
        return isinstance(value, str) and value in self._placeholder

    def contains_secret(self, text: str) -> bool:
        return bool(text) and self.redact(text) != text

    # ---------------------------------------------------------------- text

    @overload
    def redact(self, text: str) -> str: ...

    @overload
    def redact(self, text: Any) -> Any: ...

    def redact(self, text: Any) -> Any:
        """Replace every registered secret in ``text`` (strings only; other values pass).

        The longest secret first at each position; the placeholders of an earlier pass are kept as
        they are, so redacting a text twice changes nothing (and never rewrites a placeholder)."""
        if not isinstance(text, str) or not text or not self._variants:
            return text
        if "«" not in text:
            return self._redact_plain(text)
        out: list[str] = []
        last = 0
        for m in _PLACEHOLDER.finditer(text):
            if m.group() in self._issued:
                out += [self._redact_plain(text[last:m.start()]), m.group()]
                last = m.end()
        out.append(self._redact_plain(text[last:]))
        return "".join(out)

    def _redact_plain(self, text: str) -> str:
        if not text:
            return text
        if self._chars <= self.SMALL_CHARS:
            pattern = self._pattern("_small", self._variants)
            if pattern is not None:
                return pattern.sub(self._replacement, text)
        pieces = self._scan(text)  # plain text at even positions, placeholders at odd ones
        short = self._pattern("_short_re", self._short)
        if short is not None:
            pieces = [short.sub(self._replacement, p) if k % 2 == 0 and p else p for k, p in enumerate(pieces)]
        return "".join(pieces)

    def _pattern(self, slot: str, variants: dict[str, str]) -> re.Pattern[str] | None:
        """One regular expression for a small set of variants (an alternation of literals, longest
        first), rebuilt when a secret was added since."""
        cached: tuple[int, re.Pattern[str] | None] = getattr(self, slot)
        if cached[0] == self._version:
            return cached[1]
        with self._lock:
            items = sorted(variants, key=len, reverse=True)
            pattern = re.compile("|".join(map(re.escape, items))) if items else None
            setattr(self, slot, (self._version, pattern))
        return pattern

    def _replacement(self, m: re.Match[str]) -> str:
        return self._variants.get(m.group(0), m.group(0))

    def _prefixes(self) -> re.Pattern[str] | None:
        """One expression of the index's prefixes (None: too many, or none)."""
        version, pattern = self._prefix_re
        if version == self._prefix_version:
            return pattern
        with self._lock:
            version, keys = self._prefix_version, list(self._index)
            few = 0 < len(keys) <= self.PREFIXES_IN_PATTERN
            pattern = re.compile("|".join(map(re.escape, keys))) if few else None
            self._prefix_re = (version, pattern)
        return pattern

    def _scan(self, text: str) -> list[str]:
        """The variants of PREFIX or more characters found through the prefix index (the longest at
        each position; after a match the search goes on after it)."""
        index, width = self._index, self.PREFIX
        out: list[str] = []
        last = i = 0
        end = len(text) - width
        finder = self._prefixes()
        if finder is not None:
            while (m := finder.search(text, i)) is not None:
                i = m.start()
                for value, ph in index.get(m.group(), ()):
                    if text.startswith(value, i):
                        out += [text[last:i], ph]
                        i = last = i + len(value)
                        break
                else:
                    i += 1
            out.append(text[last:])
            return out
        while i <= end:
            for value, ph in index.get(text[i:i + width], ()):
                if text.startswith(value, i):
                    out += [text[last:i], ph]
                    i = last = i + len(value)
                    break
            else:
                i += 1
        out.append(text[last:])
        return out

    # ---------------------------------------------------------------- data

    def redact_obj(self, obj: Any, depth: int = 0) -> Any:
        """Redact strings inside dicts and lists; values under secret keys become placeholders."""
        if depth > 64:
            return "«…»"
        if isinstance(obj, dict):
            return {(self.redact(k) if isinstance(k, str) else k): self._field(k, v, depth) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.redact_obj(v, depth + 1) for v in obj]
        if isinstance(obj, str):
            return self.add(obj, "jwt") if looks_like_jwt(obj) else self.redact(obj)
        if isinstance(obj, (int, float)) and not isinstance(obj, bool):
            return self.placeholder(str(obj)) or obj
        return obj

    def _field(self, key: Any, value: Any, depth: int) -> Any:
        """The value of one field: a placeholder under a secret key (however short), else redacted."""
        if isinstance(key, str) and is_secret_key(key) and isinstance(value, (str, int, float)) \
                and not isinstance(value, bool):
            label = normalize_key(key) or "secret"
            return self.add(value, label) or self.placeholder(str(value)) or f"«{label}»"
        return self.redact_obj(value, depth + 1)


def scrub(obj: Any, redact: Callable[[str], str], depth: int = 0) -> Any:
    """A copy of JSON-like data with every string value passed through ``redact``.

    Numbers, booleans, None and keys (the report's own names) pass unchanged: redaction works on
    values before they are serialized, so whatever a secret looks like (digits inside a duration,
    a quote, ``<``) the document stays valid. Lone surrogates (which no UTF-8 file can hold) are
    written as ``\\udXXX``.
    """
    if isinstance(obj, str):
        return _surrogates(redact(obj))
    if depth > 64:
        return None
    if isinstance(obj, dict):
        return {k: scrub(v, redact, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub(v, redact, depth + 1) for v in obj]
    return obj


_PLACEHOLDER = re.compile(r"«[^«»]{1,200}»")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _surrogates(text: str) -> str:
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _SURROGATE.search(text) else text
