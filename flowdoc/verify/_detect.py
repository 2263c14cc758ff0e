"""Finding the secrets in what a run sends and receives, whatever shape they come in.

:func:`note_request` looks at a request as it went out: whether it carried credentials
(``Authorization``, ``Cookie``, a header or parameter that names a secret, a value already known
to be secret). :func:`register_response` then registers the secrets of its response with the
run's :class:`~._redact.Redactor` before anything about it is printed:

* JSON (also behind an XSSI prefix such as ``)]}',``), form-encoded bodies
  (``access_token=…&token_type=…``), ``key=value`` / ``"key": "value"`` pairs in other text,
  response headers and the parameters of ``Location``: values under a key that names a secret
  (``accessToken``, ``X-Subject-Token``, ``id_token`` ...), JWTs anywhere, long high-entropy
  strings under a token-like key;
* in the answer to a request that carried credentials, every value of 6 characters or more
  (numbers too) that is not a plain word, a date or a URL, in the body and in headers that are
  not standard HTTP ones, unless its key is public (:data:`~._redact.DEFAULT_PUBLIC`, the flow's
  ``public`` list, captures marked ``secret: false``).

Every scan reads at most :data:`TEXT_LIMIT` characters and uses linear-time patterns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from ._memo import Memo
from ._redact import (
    DEFAULT_PUBLIC,
    Redactor,
    is_secret_key,
    is_token_like_key,
    looks_like_credential,
    looks_like_jwt,
    normalize_key,
)

#: characters of a text (body, header) scanned for secrets
TEXT_LIMIT = 256 * 1024
#: values of a structured body visited at most (an excerpt shows the first few hundred)
MAX_ITEMS = 10_000
MAX_DEPTH = 48
#: secrets one text registers at most (a hostile body cannot grow the run's registry without bound)
MAX_NEW = 2_000

#: prefixes servers put before JSON to defeat cross-site script inclusion
XSSI_PREFIXES = (")]}'", ")]}", "while(1);", "while (1);", "for(;;);", "for (;;);", "{}&&")

#: headers whose values are never secret by context (their names are checked all the same)
STANDARD_HEADERS = frozenset(
    {
        "content_type", "content_length", "content_encoding", "content_language", "content_location",
        "content_disposition", "date", "server", "connection", "keep_alive", "transfer_encoding",
        "cache_control", "pragma", "expires", "vary", "etag", "last_modified", "age", "via", "accept_ranges",
        "allow", "www_authenticate", "retry_after", "strict_transport_security", "content_security_policy",
        "x_content_type_options", "x_frame_options", "x_xss_protection", "referrer_policy",
        "permissions_policy", "cross_origin_opener_policy", "cross_origin_resource_policy",
        "cross_origin_embedder_policy", "alt_svc", "link", "access_control_allow_origin",
        "access_control_allow_credentials", "access_control_allow_methods", "access_control_allow_headers",
        "access_control_expose_headers", "access_control_max_age", "upgrade", "trailer", "x_powered_by",
        "x_ratelimit_limit", "x_ratelimit_remaining", "x_ratelimit_reset", "ratelimit_limit",
        "ratelimit_remaining", "ratelimit_reset",
    }
)
_HANDLED_HEADERS = frozenset({"set_cookie", "location"})  # registered by the exchange itself

_RUN = re.compile(r"[A-Za-z0-9_.-]+")  # where a JWT may sit
_TOKEN_RUN = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")
_KV = re.compile(  # the key starts a word (so a long run of letters is tried once, not at each letter)
    r"(?<![A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_.-]{0,63})"  # key
    r"[\"']?[ \t]{0,4}[:=][ \t]{0,4}[\"']?"  # "key": "value", key=value, key: value
    r"([A-Za-z0-9._~+/=%\\-]{6,16384})"  # value
)
_FORM_BODY = re.compile(r"[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*")
_PLAIN_WORDS = re.compile(r"[A-Za-z]+(?:[ _.:-][A-Za-z]+)*")
_PATH_WORD = re.compile(r"[a-z]{3,}|[A-Z][a-z]{2,}|[0-9]{1,5}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")


@dataclass(frozen=True)
class Publicity:
    """Keys (normalized) of response fields and headers whose values are not secret."""

    body: frozenset[str] = frozenset()
    headers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[str]) -> "Publicity":
        """From a flow's ``public`` entries: ``sub``, ``body.user.id`` (its last name), ``headers.X-Request-Id``."""
        body: set[str] = set()
        headers: set[str] = set()
        for entry in entries:
            head, _, rest = entry.partition(".")
            if head.lower() == "headers" and rest:
                headers.add(normalize_key(rest))
            elif entry:
                body.add(normalize_key(entry.rsplit(".", 1)[-1]))
        return cls(frozenset(body), frozenset(headers))

    @classmethod
    def of_flow(cls, flow: Any) -> "Publicity":
        """The flow's ``public`` list, and the sources of its captures marked ``secret: false``."""
        entries = list(getattr(flow, "public", None) or ())
        for t in flow.transitions:
            if t.response is not None:
                entries += [cap.source for cap in t.response.capture.values() if not cap.secret]
        return cls.of(entries)

    def key(self, nk: str) -> bool:
        return nk in DEFAULT_PUBLIC or nk in self.body

    def header(self, nk: str) -> bool:
        return nk in self.headers or nk in self.body


NO_PUBLIC = Publicity()


# ------------------------------------------------------------------ values


def _opaque(value: str) -> bool:
    """A value that may be a secret by context: not a plain word or enum, a date or a URL."""
    if len(value) < Redactor.MIN_DETECTED or len(value) > TEXT_LIMIT or any(c.isspace() for c in value):
        return False
    if "://" in value or _DATE.fullmatch(value):
        return False
    return not _PLAIN_WORDS.fullmatch(value) or looks_like_credential(value)


def _add_secret(red: Redactor, value: str, label: str) -> None:
    red.add(value, label)
    scheme, sep, cred = value.partition(" ")
    if sep and scheme.isalpha() and cred and " " not in cred:  # "Bearer xyz": the credential alone too
        red.add(cred, label)
    if "%" in value or "+" in value:
        decoded = unquote_plus(value)
        if decoded != value:
            red.add(decoded, label)


def _url_params(red: Redactor, url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    for text in (parts.query, parts.fragment):
        if "=" in text:
            for k, v in parse_qsl(text, keep_blank_values=True):
                _pair(red, k, v, credentialed=False, public=NO_PUBLIC)


def _pair(red: Redactor, key: str, value: Any, *, credentialed: bool, public: Publicity) -> bool:
    """One key and its value (a JSON field, a form pair, a ``key=value`` in text). True when what it
    registers depends on the context (credentials sent, the flow's public keys), not on its name and
    shape alone (a key public by default is public in every context)."""
    nk = normalize_key(key) if key else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        secret = is_secret_key(nk)
        if secret or (credentialed and not public.key(nk)):
            red.add(value, nk or "value")  # numbers of 6 digits or more: short ones are ordinary text
        return not secret and nk not in DEFAULT_PUBLIC
    if isinstance(value, str) and value:
        return _string(red, nk, value, credentialed=credentialed, public=public)
    return False


def _string(red: Redactor, nk: str, value: str, *, credentialed: bool, public: Publicity) -> bool:
    if nk and is_secret_key(nk):
        _add_secret(red, value, nk)
    elif looks_like_jwt(value):
        red.add(value, nk or "jwt")
    elif "://" in value:
        _url_params(red, value[:TEXT_LIMIT])
    else:
        if not public.key(nk) and ((is_token_like_key(nk) and looks_like_credential(value))
                                   or (credentialed and _opaque(value))):
            red.add(value, nk or "value")
        elif len(value) >= 20:
            register_text(red, value)
        return nk not in DEFAULT_PUBLIC
    return False


# ------------------------------------------------------------------ structures and text


def _leaves(data: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """The values of parsed JSON under their nearest string key, in document order (bounded in
    items and depth)."""
    stack: list[tuple[str, Any, int]] = [(key, data, 0)]
    seen = 0
    while stack and seen < MAX_ITEMS:
        k, value, depth = stack.pop()
        seen += 1
        if isinstance(value, dict):
            if depth < MAX_DEPTH:
                items = list(value.items())[:MAX_ITEMS]
                stack.extend((ck if isinstance(ck, str) else k, cv, depth + 1) for ck, cv in reversed(items))
        elif isinstance(value, list):
            if depth < MAX_DEPTH:
                stack.extend((k, cv, depth + 1) for cv in reversed(value[:MAX_ITEMS]))
        else:
            yield k, value


def register_data(red: Redactor, data: Any, *, credentialed: bool = False, public: Publicity = NO_PUBLIC,
                  key: str = "") -> None:
    """Register the secrets in parsed JSON (document order, bounded in items and depth). A string
    holding JSON or other text is scanned as text (:func:`register_text`)."""
    _register_leaves(red, _leaves(data, key), credentialed, public)


def _register_leaves(red: Redactor, leaves: Iterable[tuple[str, Any]], credentialed: bool,
                     public: Publicity) -> list[tuple[str, Any]] | None:
    """Register each value (at most MAX_NEW new secrets); the values whose registration depends on
    the context, or None when the bound cut the walk short."""
    limit = len(red) + MAX_NEW
    undecided = []
    for k, value in leaves:
        if len(red) > limit:
            return None
        if _pair(red, k, value, credentialed=credentialed, public=public):
            undecided.append((k, value))
    return undecided


def register_text(red: Redactor, text: str, *, credentialed: bool = False) -> bool:
    """Secrets in unstructured text: JWTs, ``key=value`` / ``"key": "value"`` pairs whose key names a
    secret, and (in an answer to a request with credentials) every long high-entropy run. False when
    the text holds no candidate at all (then it registers nothing, whatever the registry holds)."""
    text = text[:TEXT_LIMIT]
    limit = len(red) + MAX_NEW
    scans = [_jwts] if "eyJ" in text else []
    if ":" in text or "=" in text:
        scans.append(_pairs)
    if credentialed:
        scans.append(_runs)
    found = False
    for scan in scans:
        for _ in scan(red, text):
            found = True
            if len(red) > limit:
                return True
    return found


def _jwts(red: Redactor, text: str) -> Iterator[None]:
    for m in _RUN.finditer(text):
        run = m.group(0)
        start = run.find("eyJ")
        if start >= 0 and run.count(".", start) >= 2:
            _register_jwt(red, run[start:])
            yield


def _pairs(red: Redactor, text: str) -> Iterator[None]:
    for m in _KV.finditer(text):
        key, value = m.group(1), m.group(2).rstrip("\\")
        if is_secret_key(key) or (is_token_like_key(key) and looks_like_credential(value)):
            _add_secret(red, value, normalize_key(key) or "secret")
            yield


def _runs(red: Redactor, text: str) -> Iterator[None]:
    for m in _TOKEN_RUN.finditer(text):
        _register_run(red, m.group(0))
        yield


def _register_run(red: Redactor, run: str) -> None:
    """A long run of token characters in text: the run if it is one credential, else its pieces
    (``/interaction/UID/login`` is a path with a credential in it, ``state=VALUE`` a parameter)."""
    body = run.rstrip("=")
    pieces = [p for p in re.split(r"[/=]", body) if p]
    if "=" not in body and not any(_PATH_WORD.fullmatch(p) for p in pieces) and looks_like_credential(run):
        red.add(run, "token")
    for piece in pieces:
        if piece != run and looks_like_credential(piece):
            red.add(piece, "token")


def _register_jwt(red: Redactor, candidate: str) -> None:
    parts = candidate.split(".")
    for count in (5, 3):  # a JWE has five parts, a JWS three; a sentence's full stop is not part of it
        if len(parts) >= count:
            jwt = ".".join(parts[:count])
            if looks_like_jwt(jwt):
                red.add(jwt, "jwt")
                return


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def parse_body(text: str, content_type: str) -> Any:
    """A body as data: JSON (also behind an XSSI prefix), or form pairs as a list of one-key
    dicts; None for other text."""
    text = text[:TEXT_LIMIT * 4]
    stripped = text.strip()
    if not stripped:
        return None
    if stripped[0] in "{[":
        data = _json_or_none(stripped)
        if data is not None:
            return data
    for prefix in XSSI_PREFIXES:
        if stripped.startswith(prefix):
            data = _json_or_none(stripped[len(prefix):].lstrip(",; \t\r\n"))
            if data is not None:
                return data
    if "x-www-form-urlencoded" in content_type.lower() or (len(stripped) <= TEXT_LIMIT
                                                         and _FORM_BODY.fullmatch(stripped)):
        return [{k: v} for k, v in parse_qsl(stripped, keep_blank_values=True)]
    return None


# ------------------------------------------------------------------ requests and responses


def note_request(red: Redactor, url: str, headers: Iterable[tuple[str, str]], body: bytes) -> bool:
    """Whether a request carried credentials; registers the secrets in its headers."""
    text = body[:TEXT_LIMIT].decode("utf-8", "replace") if body else ""
    if _credential_headers(red, headers) or red.contains_secret(url + "\n" + text):
        return True
    try:
        query = urlsplit(url).query
    except ValueError:
        query = ""
    keys = [k for k, _ in parse_qsl(query, keep_blank_values=True)]
    data = parse_body(text, "")
    if isinstance(data, list):
        keys += [k for item in data if isinstance(item, dict) for k in item]
    elif isinstance(data, dict):
        keys += list(data)
    return any(is_secret_key(k) for k in keys if isinstance(k, str))


def _credential_headers(red: Redactor, headers: Iterable[tuple[str, str]]) -> bool:
    found = False
    for name, value in headers:
        nk = normalize_key(name)
        if nk in ("authorization", "proxy_authorization"):
            found = True
            scheme, _, cred = value.partition(" ")
            if cred and red.placeholder(cred) is None:
                red.add(cred, f"{scheme.lower()}-credentials", declared=True)
        elif nk == "cookie":
            found = True
        elif is_secret_key(nk):
            found = True
            _add_secret(red, value, nk)
    return found


def register_response(red: Redactor, got: Any, *, credentialed: bool, public: Publicity = NO_PUBLIC) -> None:
    """Register the secrets of a response (see the module's docstring); ``got`` is a ``Received``."""
    _register_around(red, got, credentialed, public)
    _register_body(red, got, credentialed, public)


def register_handed_out(red: Redactor, got: Any) -> list[tuple[str, Any]] | None:
    """What a response hands out, by key name and shape alone: the secrets of its JSON body and the
    secret-named parameters of its ``Location``. Returns the body's values whose registration
    depends on the context (None: no JSON body, or one cut short by the bound)."""
    undecided = None if got.json is None else _register_leaves(red, _leaves(got.json), False, NO_PUBLIC)
    for k, v in got.location_params:
        if is_secret_key(k):
            red.add(v, k)
    return undecided


def register_exchange(red: Redactor, req: Any, got: Any, public: Publicity = NO_PUBLIC) -> None:
    """All an exchange registers, in this order: what the response hands out
    (:func:`register_handed_out`), the credentials of the request (:func:`note_request`), then the
    response in the context of those (:func:`register_response`). Each value of a JSON body is
    looked at once by name and shape, and once more only when its context can change the outcome."""
    undecided = register_handed_out(red, got)
    credentialed = note_request(red, str(req.url), req.headers.multi_items(), req.content)
    _register_around(red, got, credentialed, public)
    if undecided is None:
        _register_body(red, got, credentialed, public)
    elif credentialed or public.body:  # else the context changes nothing: all of it is registered
        _register_leaves(red, undecided, credentialed, public)


def _register_around(red: Redactor, got: Any, credentialed: bool, public: Publicity) -> None:
    """The headers of a response and the parameters of its ``Location``."""
    raw = tuple(got.headers.raw)
    block = (raw, credentialed, public)
    if block not in _INERT_HEADERS:
        if not _register_headers(red, got.headers.multi_items(), credentialed, public) and \
                sum(len(k) + len(v) for k, v in raw) <= 4096:  # kept: a few KB, never a server's long headers
            _INERT_HEADERS.keep(block, None)
    for k, v in got.location_params:
        if looks_like_jwt(v) or is_secret_key(k) or (is_token_like_key(k) and looks_like_credential(v)):
            _add_secret(red, v, normalize_key(k) or "secret")


def _register_headers(red: Redactor, items: list[tuple[str, str]], credentialed: bool, public: Publicity) -> bool:
    """Each header (see :func:`_header`); False when none holds a candidate."""
    found = False
    for name, value in items:
        nk = normalize_key(name)
        key = (nk, value, credentialed, public.header(nk))  # all _header reads of the publicity
        if key in _INERT_HEADERS:
            continue
        if _header(red, nk, value, credentialed=credentialed, public=public):
            found = True
        elif len(value) <= 512:
            _INERT_HEADERS.keep(key, None)
    return found


def _register_body(red: Redactor, got: Any, credentialed: bool, public: Publicity) -> None:
    if not got.body:
        return
    data = got.json if got.json is not None else parse_body(got.text, got.content_type)
    if data is not None:
        register_data(red, data, credentialed=credentialed, public=public)
    elif got.page is not None:  # an HTML page is shown as its title, error texts and forms (no values)
        register_text(red, got.text)
        page = got.page
        for text in (page.title or "", *page.errors):
            register_text(red, text, credentialed=credentialed)
    else:
        register_text(red, got.text, credentialed=credentialed)


#: headers (normalized name, value, credentialed, public) in which :func:`_header` finds no
#: candidate at all, and whole header blocks (raw headers, credentialed, publicity) of which no header
#: holds one: that depends on nothing else, so the next response with the same headers skips them
_INERT_HEADERS: Memo[tuple[Any, ...], None] = Memo(2048)


def _header(red: Redactor, nk: str, value: str, *, credentialed: bool, public: Publicity) -> bool:
    """One response header; False when it holds no candidate (registers nothing, whatever the registry holds)."""
    if nk in _HANDLED_HEADERS or not value:
        return False
    if is_secret_key(nk):
        _add_secret(red, value, nk)
    elif looks_like_jwt(value):
        red.add(value, nk)
    elif public.header(nk):
        return False
    elif nk in STANDARD_HEADERS:
        return register_text(red, value)
    elif (is_token_like_key(nk) and looks_like_credential(value)) or (credentialed and _opaque(value)):
        _add_secret(red, value, nk)
    else:
        return register_text(red, value)
    return True
