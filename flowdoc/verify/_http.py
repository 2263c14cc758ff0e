"""The HTTP exchange: one request out, one response in, as an auth flow needs them.

* redirects are not followed unless asked, so a 302/303 and its ``Location`` can be checked; when
  a step asks, credentials, cookies and bodies never follow a redirect to another origin, and
  never from https to http (see ``_redirects``);
* one deadline for each whole exchange: connecting, the response headers, the body and the
  redirects followed end within the step's timeout, however slowly the server sends (``_limits``);
* bodies are read up to 10 MB after decompression, JSON up to 64 levels deep, the
  ``WWW-Authenticate`` header in linear time: a hostile answer is a named problem, never a hang
  or a crash;
* retries with backoff only when the flow declares them;
* credentials never go over plain http to a host other than loopback unless allowed;
* excerpts of requests and responses for reports, always redacted (``_excerpts``).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from ._challenge import www_authenticate_params
from ._detect import register_handed_out
# the excerpts were defined here: their names stay importable from here
from ._excerpts import (
    _SHOWN_REQUEST_HEADERS as _SHOWN_REQUEST_HEADERS,
    _SHOWN_RESPONSE_HEADERS as _SHOWN_RESPONSE_HEADERS,
    EXCERPT_BODY as EXCERPT_BODY,
    _redact_authorization as _redact_authorization,
    _redact_cookie_pairs as _redact_cookie_pairs,
    _redact_set_cookie as _redact_set_cookie,
    _shown as _shown,
    redact_url as redact_url,
    redacted_form as redacted_form,
    request_excerpt as request_excerpt,
    response_excerpt as response_excerpt,
)
from ._limits import MAX_BODY, BodyProblem, Clock, content_codings, deadline, decoded, too_large
from ._memo import Memo
from ._received import Received
from ._redact import Redactor
from ._redirects import RedirectRefused, is_redirect, leaves_origin, next_request
from ._tls import tls_problem

__all__ = ["MAX_BODY", "BadResponse", "Exchanger", "InsecureTransport", "Outgoing", "Received", "TimedOut",
           "Unreachable", "is_loopback", "redact_url", "request_excerpt", "response_excerpt",
           "tls_problem", "www_authenticate_params"]

_httpx_log = logging.getLogger("httpx")  # the logger httpx.Client logs each exchange to (redacted by the run)


class Unreachable(Exception):
    """Connection refused, reset, or TLS failure: the server could not be talked to."""


class TimedOut(Exception):
    """No complete response within the timeout."""


class InsecureTransport(Exception):
    """Credentials would go over plain http to a non-loopback host."""


class BadResponse(Exception):
    """The server answered, but its answer cannot be taken as it is: a body over the size limit or
    not decodable, headers too long, a body cut short, a redirect that must not be followed.
    A conformance problem with a name; ``got`` is what was received (body possibly empty)."""

    def __init__(self, message: str, request: httpx.Request | None = None, got: "Received | None" = None):
        super().__init__(message)
        self.request = request
        self.got = got


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
    follow_redirects: bool | str = False  # True, or "same-origin": stop at a redirect to another origin
    timeout: float = 10.0
    retry_attempts: int = 1
    retry_backoff: float = 1.0

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def _counted(raw: Iterable[bytes], codings: list[str]) -> Iterator[bytes]:
    """The raw (still compressed) body, stopped once it is larger than MAX_BODY."""
    size = 0
    for chunk in raw:
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyProblem(too_large(codings, compressed=bool(codings)))
        yield chunk


_URLS: Memo[str, httpx.URL] = Memo(512)  # parsed once: scenarios send the same URLs again and again


def _parsed_url(text: str) -> httpx.URL:
    """``httpx.URL(text)`` (immutable, so shareable), from a small cache; an invalid URL still raises."""
    url = _URLS.get(text)
    if url is None:
        url = httpx.URL(text)
        if len(text) <= 2048:  # kept: a few hundred short URLs, never a server's long one
            _URLS.keep(text, url)
    return url


@functools.lru_cache(maxsize=64)
def _timeout(seconds: float) -> httpx.Timeout:
    """``httpx.Timeout(seconds)``, made once per value (the client only reads it)."""
    return httpx.Timeout(seconds)


def _raw(resp: httpx.Response) -> Iterable[bytes]:
    """The body as the connection delivers it (still encoded), as ``resp.iter_raw()`` gives it, without
    the per-call layers that method adds for chunk sizes and progress (none is used here)."""
    stream = resp.stream
    return stream if isinstance(stream, httpx.SyncByteStream) else resp.iter_raw()


def _set_cookies(resp: httpx.Response) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in resp.headers.get_list("set-cookie"):
        first = line.split(";", 1)[0]
        name, sep, value = first.partition("=")
        if sep:
            out[name.strip()] = value.strip()
    return out


class Exchanger:
    """Sends :class:`Outgoing` requests for one scenario (one cookie jar).

    ``transport``: the client's own transport, to send through directly (see :meth:`_direct`).
    ``registers``: the secrets a response hands out are registered here (False: the caller registers
    what :meth:`send` returns, with ``_detect.register_exchange``; a retried attempt is registered here)."""

    def __init__(self, client: httpx.Client, redactor: Redactor, *, allow_insecure_http: bool = False,
                 transport: httpx.BaseTransport | None = None, registers: bool = True):
        self.client = client
        self.redactor = redactor
        self.allow_insecure_http = allow_insecure_http
        self.transport = transport
        self.registers = registers

    def build(self, out: Outgoing) -> httpx.Request:
        kwargs: dict[str, Any] = {"headers": out.headers, "timeout": _timeout(out.timeout)}
        if out.form is not None:
            kwargs["content"] = urlencode(list(out.form.items())).encode("ascii")
            if out.header("content-type") is None:
                kwargs["headers"] = [*out.headers, ("Content-Type", "application/x-www-form-urlencoded")]
        elif out.json_body is not None:
            kwargs["content"] = json.dumps(out.json_body).encode("utf-8")
            if out.header("content-type") is None:
                kwargs["headers"] = [*out.headers, ("Content-Type", "application/json")]
        req = self.client.build_request(out.method, _parsed_url(out.url), **kwargs)
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
                if not self.registers:
                    self._register(got)
                last_exc = None
                continue
            return req, got
        if last_exc is not None:
            raise last_exc
        return req, got  # the last 5xx/429 after all attempts

    def _send_once(self, req: httpx.Request, out: Outgoing) -> Received:
        """One exchange (with the redirects the step follows), all of it within ``out.timeout``."""
        started = time.monotonic()
        with deadline(out.timeout) as clock:
            resp, history, cookies = self._follow(req, out, clock)
            try:
                body = self._read_body(req, resp, out, clock, history)
            finally:
                resp.close()
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
        if self.registers:
            self._register(got)
        return got

    def _open(self, req: httpx.Request, out: Outgoing, clock: Clock) -> httpx.Response:
        """Send one request and read its status line and headers (the body is left to stream)."""
        before = clock.received
        try:
            if self.transport is None or req.url.userinfo:  # a user:password@ URL: httpx sends it as Basic
                return self.client.send(req, stream=True, follow_redirects=False)
            return self._direct(req, self.transport)
        except httpx.TimeoutException:
            if clock.received > before:
                raise TimedOut(f"the response headers did not arrive within {out.timeout:g} s "
                               "(the server was still sending them)") from None
            raise TimedOut(f"no response within {out.timeout:g} s") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise self._broken(exc, req, "headers" if clock.received > before else None) from None

    def _direct(self, req: httpx.Request, transport: httpx.BaseTransport) -> httpx.Response:
        """What ``client.send(req, stream=True, follow_redirects=False)`` does for a request the client
        built, without its layers for auth, hooks and redirects (none is used: a third of the CPU of an
        exchange): the transport's response, its cookies into the jar, the same log line."""
        resp = transport.handle_request(req)
        resp.request = req
        headers = resp.headers
        if "set-cookie" in headers or "set-cookie2" in headers:  # else the jar's extraction finds nothing
            self.client.cookies.extract_cookies(resp)
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info('HTTP Request: %s %s "%s %d %s"', req.method, req.url, resp.http_version,
                            resp.status_code, resp.reason_phrase)
        return resp

    def _follow(self, req: httpx.Request, out: Outgoing,
                clock: Clock) -> tuple[httpx.Response, list[tuple[str, str, int]], dict[str, str]]:
        """The final response (streaming), the hops followed before it, and the cookies all of them set."""
        history: list[tuple[str, str, int]] = []
        cookies: dict[str, str] = {}
        current = req
        while True:
            resp = self._open(current, out, clock)
            for name, value in _set_cookies(resp).items():
                cookies[name] = value
                self.redactor.add(value, f"cookie:{name}")
            if not (out.follow_redirects and is_redirect(resp)) or (
                    out.follow_redirects == "same-origin" and leaves_origin(current, resp)):
                return resp, history, cookies
            resp.close()  # a hop's body is not read
            try:
                nxt = next_request(self.client, current, resp, [u for _m, u, _s in history] + [str(current.url)],
                                   self.redactor, no_cookies=out.no_cookies, is_loopback=is_loopback)
            except RedirectRefused as exc:
                got = Received(current.method, str(current.url), resp.status_code, resp.reason_phrase,
                               resp.headers, b"", 0.0, list(history), cookies)
                raise BadResponse(self.redactor.redact(str(exc)), req, got) from None
            history.append((current.method, str(current.url), resp.status_code))
            self.check_transport(nxt)
            current = nxt

    def _read_body(self, req: httpx.Request, resp: httpx.Response, out: Outgoing, clock: Clock,
                   history: list[tuple[str, str, int]]) -> bytes:
        """The body, decoded; at most MAX_BODY bytes after decompression, by the deadline."""
        late = f"the response body did not arrive within {out.timeout:g} s"
        try:
            codings = content_codings(resp.headers)
            parts: list[bytes] = []
            size = 0
            for piece in decoded(_counted(_raw(resp), codings), codings):
                size += len(piece)
                if size > MAX_BODY:
                    raise BodyProblem(too_large(codings))
                parts.append(piece)
                if clock.left() <= 0:
                    raise TimedOut(late)
            return b"".join(parts)
        except BodyProblem as exc:
            got = Received(req.method, str(resp.request.url), resp.status_code, resp.reason_phrase, resp.headers,
                           b"", 0.0, history)
            raise BadResponse(f"{exc}: {req.method} {_origin(str(resp.request.url))}", req, got) from None
        except httpx.TimeoutException:
            raise TimedOut(late) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise self._broken(exc, req, "body") from None

    def _broken(self, exc: Exception, req: httpx.Request, phase: str | None) -> Exception:
        """What a failed read means: the server unreachable (nothing received yet, exit 3), or an
        answer that broke off or is not HTTP (a conformance problem)."""
        text = str(exc) or type(exc).__name__
        where = f"{req.method} {_origin(str(req.url))}"
        if "receive buffer too long" in text.lower():
            what = ("the response headers are too long (more than 100 KB)" if phase != "body"
                    else "a chunk-size line of the response body is too long (more than 100 KB)")
            return BadResponse(self.redactor.redact(f"{what}: {where}"), req)
        if phase is None:
            return Unreachable(self._network_message(exc, req))
        if phase == "body":
            detail = text.split(": ", 1)[1] if "complete message body: " in text else text
            what = f"the server broke off the response body ({detail})"
        elif isinstance(exc, httpx.RemoteProtocolError) and "closed" not in text.lower():
            what = f"the response is not valid HTTP/1.1 ({text})"
        else:
            what = f"the server broke off the response headers ({text})"
        return BadResponse(self.redactor.redact(f"{what}: {where}"), req)

    def _register(self, got: Received) -> None:
        """Secrets a response hands out (tokens, codes) are redacted from here on."""
        register_handed_out(self.redactor, got)  # by key name and by shape

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


def _origin(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, p.path, "", ""))
