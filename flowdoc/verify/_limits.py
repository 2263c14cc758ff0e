"""What a server can make verify spend: time per exchange, bytes per body, depth per JSON body.

* **Time.** :func:`deadline` sets one deadline for a whole exchange (connecting, TLS, sending,
  the response headers, the body, and the redirects a step follows) in the running thread;
  :class:`DeadlineBackend` gives every socket operation only the time left, so a server that
  dribbles bytes is cut off at the deadline however slowly it sends.
* **Bytes.** :func:`decoded` decodes ``Content-Encoding`` layers in bounded pieces, so the caller
  can count the bytes *after* decompression and stop at :data:`MAX_BODY` before a compression
  bomb is expanded.
* **Depth.** :func:`parse_json` refuses JSON nested deeper than :data:`MAX_JSON_DEPTH` before
  parsing it (found in one linear pass), so no body drives a recursion past Python's limit.
"""

from __future__ import annotations

import json
import operator
import re
import ssl
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Iterable, Iterator

import httpcore
import httpx
from httpcore._backends.base import SOCKET_OPTION  # the type of httpcore's own signatures

MAX_BODY = 10 * 1024 * 1024  # bytes of one response body, counted after decompression
MAX_BODY_TEXT = "10 MB"
MAX_CODINGS = 3  # Content-Encoding layers ("gzip, gzip" is two)
MAX_JSON_DEPTH = 64
_PIECE = 64 * 1024  # most bytes one decompression step may produce
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BodyProblem(Exception):
    """The body cannot be accepted as it is: too large, or not decodable (a conformance problem)."""


# ------------------------------------------------------------------ time


@dataclass
class Clock:
    """The deadline of one exchange, and how many bytes it has read so far."""

    at: float
    received: int = 0

    def left(self) -> float:
        return self.at - time.monotonic()


_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[Clock]:
    """Every socket operation of this thread inside the block ends by ``seconds`` from now."""
    clock = Clock(time.monotonic() + seconds)
    previous = getattr(_local, "clock", None)
    _local.clock = clock
    try:
        yield clock
    finally:
        _local.clock = previous


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    clock: Clock | None = getattr(_local, "clock", None)
    if clock is None:
        return timeout
    left = clock.left()
    if left <= 0:
        raise exc("the deadline of this exchange has passed")
    return left if timeout is None else min(timeout, left)


_COALESCED = 64 * 1024  # bytes of a request held back to go out in one write (see _DeadlineStream)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the thread's deadline.

    A request's writes (its head, then its body) are held and sent in one write before the first
    read of the response, or as soon as they pass ``_COALESCED`` bytes: one segment and one wake-up
    of the server instead of two. A write error then surfaces where httpcore would have ignored it
    (it goes on to read what the server answered): ignored there too."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner
        self._held: list[bytes] = []
        self._held_size = 0
        self._held_timeout: float | None = None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._held:
            try:
                self._flush()
            except httpcore.WriteError:  # as httpcore does: the server may have answered already
                pass
        data = self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        clock: Clock | None = getattr(_local, "clock", None)
        if clock is not None:
            clock.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        self._held.append(buffer)
        self._held_size += len(buffer)
        self._held_timeout = timeout
        if self._held_size > _COALESCED:
            self._flush()

    def _flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        self._held_size = 0
        self._inner.write(data, _bounded(self._held_timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._held.clear()
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        if self._held:
            self._flush()
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with every operation bounded by the thread's :func:`deadline`."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None):
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:  # pragma: no cover - not used
        return _DeadlineStream(self._inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore sleeps only between retries
        self._inner.sleep(seconds)


def install_deadline(transport: httpx.BaseTransport) -> bool:
    """Put :class:`DeadlineBackend` under an ``httpx.HTTPTransport``'s connection pool; False if the
    transport is another kind (its exchanges are then bounded between chunks only)."""
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        return False
    if not isinstance(pool._network_backend, DeadlineBackend):
        pool._network_backend = DeadlineBackend(pool._network_backend)
    return True


# ------------------------------------------------------------------ bytes


def content_codings(headers: httpx.Headers) -> list[str]:
    """The ``Content-Encoding`` layers to undo, outermost first; BodyProblem if not decodable."""
    listed = [c.strip().lower() for v in headers.get_list("content-encoding") for c in v.split(",")]
    codings = [c for c in listed if c and c != "identity"]
    if len(codings) > MAX_CODINGS:
        raise BodyProblem(f"the body has {len(codings)} Content-Encoding layers (at most {MAX_CODINGS} are decoded)")
    for c in codings:
        if c not in _DECODERS:
            raise BodyProblem(f"the body has Content-Encoding '{c[:40]}', which flowdoc cannot decode "
                              "(it asks for gzip or deflate)")
    return codings[::-1]


def _inflate(chunks: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """Undo one gzip/deflate layer, yielding at most ``_PIECE`` bytes per step."""
    wbits = _DECODERS[coding]
    d = zlib.decompressobj(wbits)
    produced = False
    for chunk in chunks:
        data = chunk
        while data:
            try:
                out = d.decompress(data, _PIECE)
            except zlib.error as exc:
                if coding == "deflate" and not produced and wbits > 0:  # raw deflate, as some servers send
                    wbits, d = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise BodyProblem(f"the body is not valid {coding} data ({exc})") from None
            if out:
                produced = True
                yield out
            if d.eof:  # the end of a gzip member: another may follow
                data = d.unused_data
                if data and wbits == _DECODERS["gzip"]:
                    d = zlib.decompressobj(wbits)
                    continue
                break
            data = d.unconsumed_tail
            while not data and len(out) == _PIECE:  # output still pending with the input consumed
                out = d.decompress(b"", _PIECE)
                if out:
                    yield out
    tail = d.flush()
    if tail:
        yield tail


def decoded(raw: Iterable[bytes], codings: list[str]) -> Iterator[bytes]:
    """The body after undoing ``codings`` (from :func:`content_codings`), in bounded pieces."""
    stream: Iterable[bytes] = raw
    for coding in codings:
        stream = _inflate(stream, coding)
    return iter(stream)


def too_large(codings: list[str], compressed: bool = False) -> str:
    if compressed:
        return f"compressed response body larger than {MAX_BODY_TEXT}"
    return f"response body larger than {MAX_BODY_TEXT}" + (" after decompression" if codings else "")


# ------------------------------------------------------------------ depth

_ESCAPED_BACKSLASH = "\\\\"
_ESCAPED_QUOTE = '\\"'
_STRING = re.compile(r'"[^"]*+"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_UP = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


def json_depth(text: str) -> int:
    """How deeply ``text`` nests arrays and objects (strings ignored), in one linear pass."""
    bare = text.replace(_ESCAPED_BACKSLASH, "").replace(_ESCAPED_QUOTE, "")  # no quote left inside strings
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", bare))
    if not brackets:
        return 0
    steps = brackets.translate(_UP).encode("ascii")  # 2 for an opening bracket, 0 for a closing one
    # depth after i+1 brackets = sum(step - 1) = running sum - (i + 1)
    depths: Iterator[int] = map(operator.sub, accumulate(steps), range(1, len(steps) + 1))
    return max(0, max(depths))


def parse_json(body: bytes) -> tuple[Any, str | None]:
    """(value, None), or (None, the problem): not UTF-8, nested too deeply, not valid JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})"
    # no deeper than the brackets it opens (counted in C): the exact depth only for a body with many
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and json_depth(text) > MAX_JSON_DEPTH:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        return json.loads(text), None
    except RecursionError:  # pragma: no cover - the depth check comes first
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as exc:
        return None, f"not valid JSON ({str(exc)[:120]})"
