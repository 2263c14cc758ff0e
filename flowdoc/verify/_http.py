"""The HTTP exchange: one request out, one response in, as an auth flow needs them.

* redirects are not followed unless asked, so a 302/303 and its ``Location`` can be checked;
* a timeout on every request, and an overall deadline that also covers slow bodies;
* retries with backoff only when the flow declares them;
* credentials never go over plain http to a host other than loopback unless allowed;
* excerpts of requests and responses for reports, always redacted.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import json
import ssl
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from ._forms import Page, looks_like_html, parse_page
from ._redact import Redactor, is_secret_key

MAX_BODY = 5 * 1024 * 1024
EXCERPT_BODY = 1200
_SHOWN_REQUEST_HEADERS = ("authorization", "content-type", "cookie", "accept", "dpop", "x-")
_SHOWN_RESPONSE_HEADERS = ("location", "www-authenticate", "content-type", "set-cookie", "cache-control", "x-",
                           "retry-after")


class Unreachable(Exception):
    """Connection refused, reset, or TLS failure: the server could not be talked to."""


class TimedOut(Exception):
    """No complete response within the timeout."""


class InsecureTransport(Exception):
    """Credentials would go over plain http to a non-loopback host."""


@functools.lru_cache(maxsize=256)
def is_loopback(host: str) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Outgoing:
    """A request, fully rendered, ready to be sent (and re-sent for a replay)."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    form: dict[str, str] | None = None
    json_body: Any = None
    no_cookies: bool = False
    follow_redirects: bool = False
    timeout: float = 10.0
    retry_attempts: int = 1
    retry_backoff: float = 1.0

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def basic_credentials(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: form-encode id and secret, then base64 ``id:secret``."""
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


@dataclass
class Received:
    """A response snapshot (the body fully read)."""

    method: str
    url: str  # the request URL
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    elapsed: float
    history: list[tuple[str, str, int]] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)  # Set-Cookie of this response (and followed hops)

    @cached_property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @cached_property
    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return self.body.decode("latin-1")

    @cached_property
    def json(self) -> Any:
        ct = self.content_type.lower()
        if "json" not in ct and not self.text.lstrip().startswith(("{", "[")):
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @cached_property
    def is_html(self) -> bool:
        return bool(self.body) and looks_like_html(self.content_type, self.text[:200])

    @cached_property
    def page(self) -> Page | None:
        return parse_page(self.text) if self.is_html else None

    @cached_property
    def location(self) -> str | None:
        loc = self.headers.get("location")
        return urljoin(self.url, loc) if loc is not None else None

    @cached_property
    def location_query(self) -> dict[str, str]:
        if not self.location:
            return {}
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query, keep_blank_values=True).items()}

    @cached_property
    def location_fragment(self) -> dict[str, str]:
        """Parameters in the Location's fragment (``#access_token=...&state=...``, as the implicit
        grant and response_mode=fragment return them); empty when the fragment holds none."""
        if not self.location:
            return {}
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).fragment, keep_blank_values=True).items()}

    def form_capture(self, index: int = 0) -> dict | None:
        page = self.page
        if page is None or len(page.forms) <= index:
            return None
        return page.forms[index].as_capture(self.url)

    def error_codes(self) -> list[tuple[str, str]]:
        """OAuth error codes found in the response: (where, code)."""
        out: list[tuple[str, str]] = []
        body = self.json
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            out.append(("body", body["error"]))
        if "error" in self.location_query:
            out.append(("Location", self.location_query["error"]))
        elif "error" in self.location_fragment:
            out.append(("Location", self.location_fragment["error"]))
        for value in self.headers.get_list("www-authenticate"):
            err = www_authenticate_params(value).get("error")
            if err:
                out.append(("WWW-Authenticate", err))
        if self.page is not None:
            for text in self.page.errors:
                out.append(("page", text))
        return out


def www_authenticate_params(value: str) -> dict[str, str]:
    """Parameters of a WWW-Authenticate challenge: ``Bearer error="invalid_token", ...``."""
    import re

    params: dict[str, str] = {}
    for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', value):
        key = m.group(1).lower()
        val = m.group(2) if m.group(2) is not None else m.group(3)
        params.setdefault(key, re.sub(r"\\(.)", r"\1", val))
    return params


def _set_cookies(resp: httpx.Response) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in resp.headers.get_list("set-cookie"):
        first = line.split(";", 1)[0]
        name, sep, value = first.partition("=")
        if sep:
            out[name.strip()] = value.strip()
    return out


class Exchanger:
    """Sends :class:`Outgoing` requests for one scenario (one cookie jar)."""

    def __init__(self, client: httpx.Client, redactor: Redactor, *, allow_insecure_http: bool = False):
        self.client = client
        self.redactor = redactor
        self.allow_insecure_http = allow_insecure_http

    def build(self, out: Outgoing) -> httpx.Request:
        kwargs: dict[str, Any] = {"headers": out.headers, "timeout": httpx.Timeout(out.timeout)}
        if out.form is not None:
            kwargs["content"] = urlencode(list(out.form.items())).encode("ascii")
            if out.header("content-type") is None:
                kwargs["headers"] = [*out.headers, ("Content-Type", "application/x-www-form-urlencoded")]
        elif out.json_body is not None:
            kwargs["content"] = json.dumps(out.json_body).encode("utf-8")
            if out.header("content-type") is None:
                kwargs["headers"] = [*out.headers, ("Content-Type", "application/json")]
        req = self.client.build_request(out.method, out.url, **kwargs)
        if out.no_cookies and "cookie" in req.headers:
            del req.headers["cookie"]
        return req

    def check_transport(self, req: httpx.Request) -> None:
        url = req.url
        if url.scheme != "http" or self.allow_insecure_http or is_loopback(url.host):
            return
        carries = "authorization" in req.headers or "cookie" in req.headers
        if not carries:
            body = req.content.decode("utf-8", "replace") if req.content else ""
            carries = self.redactor.contains_secret(str(url) + "\n" + body)
        if carries:
            raise InsecureTransport(
                f"refusing to send credentials over plain http to {url.host}: use https, or pass "
                "--allow-insecure-http for a test server"
            )

    def send(self, out: Outgoing) -> tuple[httpx.Request, Received]:
        """Send (with the declared retries); raise Unreachable or TimedOut."""
        attempts = max(1, out.retry_attempts)
        last_exc: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(out.retry_backoff * (2 ** (attempt - 1)))
            req = self.build(out)
            self.check_transport(req)
            try:
                got = self._send_once(req, out)
            except (Unreachable, TimedOut) as exc:
                last_exc = exc
                continue
            if attempt + 1 < attempts and (got.status >= 500 or got.status == 429):
                last_exc = None
                continue
            return req, got
        if last_exc is not None:
            raise last_exc
        return req, got  # the last 5xx/429 after all attempts

    def _send_once(self, req: httpx.Request, out: Outgoing) -> Received:
        started = time.monotonic()
        deadline = started + out.timeout
        try:
            resp = self.client.send(req, stream=True, follow_redirects=out.follow_redirects)
        except httpx.TimeoutException:
            raise TimedOut(f"no response within {out.timeout:g} s") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise Unreachable(self._network_message(exc, req)) from None
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY:
                    break
                if time.monotonic() > deadline:
                    raise TimedOut(f"the response body did not arrive within {out.timeout:g} s")
            body = b"".join(chunks)
            if time.monotonic() > deadline:
                raise TimedOut(f"the response body did not arrive within {out.timeout:g} s")
        except httpx.TimeoutException:
            raise TimedOut(f"the response body did not arrive within {out.timeout:g} s") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise Unreachable(self._network_message(exc, req)) from None
        finally:
            resp.close()
        history = [(r.request.method, str(r.request.url), r.status_code) for r in resp.history]
        cookies: dict[str, str] = {}
        for r in [*resp.history, resp]:
            cookies.update(_set_cookies(r))
        for name, value in cookies.items():
            self.redactor.add(value, f"cookie:{name}")
        got = Received(
            method=req.method,
            url=str(resp.request.url),
            status=resp.status_code,
            reason=resp.reason_phrase,
            headers=resp.headers,
            body=body,
            elapsed=time.monotonic() - started,
            history=history,
            cookies=cookies,
        )
        self._register(got)
        return got

    def _register(self, got: Received) -> None:
        """Secrets a response hands out (tokens, codes) are redacted from here on."""
        body = got.json
        if body is not None:
            self.redactor.register_json(body)
        for k, v in (*got.location_query.items(), *got.location_fragment.items()):
            if is_secret_key(k):
                self.redactor.add(v, k)

    def _network_message(self, exc: Exception, req: httpx.Request) -> str:
        kind = type(exc).__name__
        text = str(exc) or kind
        low = text.lower()
        tls = tls_problem(exc, req.url.host)
        if tls is not None:
            return self.redactor.redact(f"{tls[0]}: {req.method} {_origin(str(req.url))}: {tls[1]}")
        if "certificate" in low or "ssl" in low or "tls" in low:
            what = "TLS error"
        elif "refused" in low:
            what = "connection refused"
        elif "reset" in low or isinstance(exc, httpx.RemoteProtocolError) or isinstance(exc, httpx.ReadError):
            what = "connection reset or closed by the server"
        else:
            what = "network error"
        return self.redactor.redact(f"{what}: {req.method} {_origin(str(req.url))} ({text})")


# OpenSSL X509_V_ERR_* codes, grouped by what the reader should do about them
_UNTRUSTED = {2, 18, 19, 20, 21, 24, 27, 28, 29, 32}
_WRONG_HOST = {62, 64}
_EXPIRED = {10}
_NOT_YET_VALID = {9}
_CA_HINT = "pass the CA certificate that issued it with --ca-bundle FILE (PEM)"


def tls_problem(exc: BaseException, host: str) -> tuple[str, str] | None:
    """(what, explanation) for a failed TLS handshake behind ``exc``, or None if it is not one.

    httpx wraps the ssl module's exceptions (httpx.ConnectError from httpcore's, from ssl's), so
    the certificate check's result is found by walking ``__cause__`` / ``__context__``."""
    if not isinstance(exc, httpx.ConnectError):
        return None  # the handshake happens while connecting; later TLS errors are network errors
    seen: set[int] = set()
    err: BaseException | None = exc
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, ssl.SSLCertVerificationError):
            return "TLS verification failed", _certificate_problem(err, host)
        if isinstance(err, ssl.SSLError):
            reason = getattr(err, "reason", None) or str(err)
            return "TLS handshake failed", f"{reason}; is the server speaking https on this port?"
        err = err.__cause__ or err.__context__
    return None


def _certificate_problem(err: ssl.SSLCertVerificationError, host: str) -> str:
    code = getattr(err, "verify_code", None)
    detail = (getattr(err, "verify_message", None) or getattr(err, "reason", None) or str(err)).strip().rstrip(".")
    low = detail.lower()
    if code in _WRONG_HOST or "mismatch" in low:
        short = detail.split(",")[0]  # "IP address mismatch, certificate is not valid for '...'"
        return (f"the server's certificate is not valid for {host} ({short}); call the server by a "
                "name its certificate lists, or give the server a certificate for this name")
    if code in _EXPIRED or "expired" in low:
        return "the server's certificate has expired; renew it on the server (or check this machine's clock)"
    if code in _NOT_YET_VALID or "not yet valid" in low:
        return "the server's certificate is not yet valid; check the server's and this machine's clocks"
    if code in _UNTRUSTED or "issuer" in low or "self-signed" in low or "self signed" in low:
        return f"the server's certificate is not trusted ({detail}); {_CA_HINT}"
    return f"the server's certificate was rejected ({detail}); if a private CA issued it, {_CA_HINT}"


def _origin(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))


# ------------------------------------------------------------------ excerpts


def _shown(name: str, prefixes: tuple[str, ...]) -> bool:
    n = name.lower()
    return any(n == p or (p.endswith("-") and n.startswith(p)) for p in prefixes)


def _redact_cookie_pairs(value: str, redactor: Redactor) -> str:
    parts = []
    for part in value.split(";"):
        name, sep, val = part.strip().partition("=")
        if sep and val:
            ph = redactor.add(val, f"cookie:{name}", declared=True)
            parts.append(f"{name}={ph}")
        else:
            parts.append(part.strip())
    return "; ".join(parts)


def _redact_set_cookie(value: str, redactor: Redactor) -> str:
    first, sep, rest = value.partition(";")
    name, eq, val = first.partition("=")
    if eq and val.strip():
        ph = redactor.add(val.strip(), f"cookie:{name.strip()}", declared=True)
        first = f"{name.strip()}={ph}"
    return first + sep + rest


def _redact_authorization(value: str, redactor: Redactor) -> str:
    scheme, _, cred = value.partition(" ")
    if not cred:
        return "«credentials»"
    ph = redactor.placeholder(cred) or redactor.add(cred, f"{scheme.lower()}-credentials", declared=True)
    return f"{scheme} {ph}"


def redact_url(url: str, redactor: Redactor) -> str:
    p = urlsplit(url)

    def params(text: str) -> str:
        pairs = []
        for k, v in parse_qsl(text, keep_blank_values=True):
            if is_secret_key(k) and v and not redactor.is_secret(v):
                redactor.add(v, k, declared=True)
            pairs.append(f"{k}={redactor.placeholder(v) or v}" if v else f"{k}=")
        return "&".join(pairs)

    query, fragment = p.query, p.fragment
    if query:
        query = params(query)
    if "=" in fragment:  # parameters in the fragment (implicit grant): tokens are redacted as in a query
        fragment = params(fragment)
    if (query, fragment) != (p.query, p.fragment):
        url = urlunsplit((p.scheme, p.netloc, p.path, query, fragment))
    return redactor.redact(url)


def _clip(text: str, limit: int = EXCERPT_BODY) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"


def request_excerpt(req: httpx.Request, redactor: Redactor) -> str:
    lines = [f"{req.method} {redact_url(str(req.url), redactor)}"]
    for k, v in req.headers.multi_items():
        if not _shown(k, _SHOWN_REQUEST_HEADERS):
            continue
        if k.lower() == "authorization":
            v = _redact_authorization(v, redactor)
        elif k.lower() == "cookie":
            v = _redact_cookie_pairs(v, redactor)
        lines.append(f"{k.title()}: {redactor.redact(v)}")
    content = req.content if hasattr(req, "_content") else b""
    if content:
        ctype = req.headers.get("content-type", "")
        text = content.decode("utf-8", "replace")
        if "x-www-form-urlencoded" in ctype:
            pairs = []
            for k, v in parse_qsl(text, keep_blank_values=True):
                if is_secret_key(k) and v:
                    v = redactor.placeholder(v) or redactor.add(v, k, declared=True) or v
                pairs.append(f"{k}={redactor.redact(v)}")
            body = "&".join(pairs)
        elif "json" in ctype:
            try:
                body = json.dumps(redactor.redact_obj(json.loads(text)), ensure_ascii=False)
            except ValueError:
                body = redactor.redact(text)
        else:
            body = redactor.redact(text)
        lines += ["", _clip(body)]
    return "\n".join(lines)


def response_excerpt(got: Received, redactor: Redactor) -> str:
    lines = []
    for method, url, status in got.history:
        lines.append(f"(followed) {method} {redact_url(url, redactor)} -> {status}")
    lines.append(f"HTTP {got.status} {got.reason}".rstrip())
    for k, v in got.headers.multi_items():
        if not _shown(k, _SHOWN_RESPONSE_HEADERS):
            continue
        if k.lower() == "set-cookie":
            v = _redact_set_cookie(v, redactor)
        elif k.lower() == "location":
            v = redact_url(v, redactor)
        lines.append(f"{k.title()}: {redactor.redact(v)}")
    if got.body:
        lines.append("")
        body = got.json
        if body is not None:
            lines.append(_clip(json.dumps(redactor.redact_obj(body), ensure_ascii=False)))
        elif got.page is not None:
            page = got.page
            if page.title:
                lines.append(f"<html page: {redactor.redact(page.title)}>")
            for err in page.errors:
                lines.append(f"  error text: {redactor.redact(err)}")
            for f in page.forms:
                lines.append(f"  form {f.id or ''} {f.method} {redact_url(f.action, redactor)} "
                             f"fields: {', '.join(f.fields) or '-'}")
        else:
            lines.append(_clip(redactor.redact(got.text)))
    return "\n".join(lines)
