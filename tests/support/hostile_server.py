"""A small real HTTP server on 127.0.0.1 that misbehaves on purpose, byte by byte (verify tests).

    def slow(conn):                                  # one call per TCP connection
        conn.dribble(b"HTTP/1.1 200 OK\\r\\n...", delay=0.05)

    with HostileServer(routes({"slow": slow, "reset": lambda c: c.reset()})) as srv:
        srv.url                 # "http://127.0.0.1:PORT"; routes() dispatches on the first path
                                # segment, so a flow's base URL can be f"{srv.url}/slow"
        srv.connections         # TCP connections accepted (0: nothing at all was sent here)
        srv.requests            # every request read: method, path, headers, body, raw bytes

No HTTP library on the server side: a handler writes the bytes it wants, when it wants (headers
one byte at a time, a body that never ends, a reset instead of an answer). The server listens on
127.0.0.1 port 0 only; ``tls=(cert, key)`` serves https instead. Leaving the ``with`` block stops
every connection (handlers waiting or dribbling give up at once).
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

MAX_REQUEST = 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    raw: bytes  # everything read for this request, as it arrived


class Conn:
    """One accepted connection, as a handler sees it."""

    def __init__(self, sock: socket.socket, stop: threading.Event, server: "HostileServer"):
        self.sock = sock
        self.stop = stop
        self.server = server
        self.request: Request | None = None

    @property
    def origin(self) -> str:
        return self.server.url

    def send(self, data: bytes) -> bool:
        """Send everything; False if the client went away."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def dribble(self, data: bytes, delay: float, step: int = 1) -> bool:
        """Send ``step`` bytes every ``delay`` seconds until done, stopped, or the client leaves."""
        for i in range(0, len(data), step):
            if self.stop.wait(delay) or not self.send(data[i:i + step]):
                return False
        return True

    def stream(self, head: bytes, total: int, chunk: bytes = b"\0" * 65536) -> bool:
        """Send ``head``, then ``total`` bytes of ``chunk`` repeated, as fast as the client reads."""
        if not self.send(head):
            return False
        left = total
        while left > 0 and not self.stop.is_set():
            piece = chunk[:left]
            if not self.send(piece):
                return False
            left -= len(piece)
        return True

    def hang(self) -> None:
        """Say nothing until the server stops (or the client leaves)."""
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                if self.sock.recv(1) == b"":
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def reset(self) -> None:
        """Close with a TCP reset (RST) instead of an answer."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            self.sock.close()


Handler = Callable[[Conn], None]


def http_response(status: int, body: bytes = b"", headers: Iterable[tuple[str, str]] = (),
                  reason: str = "Hostile") -> bytes:
    """A complete HTTP/1.1 response; Content-Length (unless given) and Connection: close added."""
    headers = list(headers)
    names = {k.lower() for k, _ in headers}
    if "content-length" not in names:
        headers.append(("Content-Length", str(len(body))))
    headers.append(("Connection", "close"))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def json_response(status: int, body: bytes, *extra: tuple[str, str]) -> bytes:
    return http_response(status, body, [("Content-Type", "application/json"), *extra])


def routes(table: dict[str, Handler], default: Handler | None = None) -> Handler:
    """A handler that picks another by the request path's first segment ("/slow/token" -> "slow")."""

    def dispatch(conn: Conn) -> None:
        assert conn.request is not None
        first = conn.request.path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
        handler = table.get(first, default)
        if handler is None:
            conn.send(json_response(404, b'{"error": "not_found"}'))
        else:
            handler(conn)

    return dispatch


def record_only(conn: Conn) -> None:
    """Answer 200 {} to anything (the request is already recorded)."""
    conn.send(json_response(200, b"{}"))


def _read_request(sock: socket.socket) -> Request | None:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk or len(buf) > MAX_REQUEST:
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path = (lines[0].split(" ") + ["", ""])[:2]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(rest) < min(length, MAX_REQUEST):
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, path, headers, rest[:length], head + b"\r\n\r\n" + rest)


@dataclass
class HostileServer:
    handler: Handler
    tls: tuple[Path, Path] | None = None  # (certificate PEM, key PEM): serve https
    connections: int = 0
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._context: ssl.SSLContext | None = None
        if self.tls is not None:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> "HostileServer":
        thread = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _addr = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), name="hostile-conn", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(10)
            if self._context is not None:
                sock = self._context.wrap_socket(sock, server_side=True)
                with self._lock:
                    self._socks.append(sock)
            request = _read_request(sock)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            conn = Conn(sock, self._stop, self)
            conn.request = request
            self.handler(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass
