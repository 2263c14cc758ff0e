"""A small real HTTP server on 127.0.0.1 (port 0) for hostile-server tests of flowdoc verify.

    with HostileServer({("POST", "/token"): handler}) as srv:
        srv.url                                  # http://127.0.0.1:PORT
        srv.requests                             # every request seen: Seen(method, path, headers, body)

A handler takes the :class:`Seen` request and returns ``(status, headers, body)``; headers are
``(name, value)`` pairs written as they are, the body ``bytes`` (or ``str``, sent as UTF-8).
Unknown routes answer 404. The server speaks HTTP/1.1 with Content-Length, so the verifier's
connection pool is used as against a real server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit

Reply = tuple[int, list[tuple[str, str]], "bytes | str"]


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class HostileServer:
    routes: dict[tuple[str, str], Callable[[Seen], Reply]]
    requests: list[Seen] = field(default_factory=list)

    def __enter__(self) -> "HostileServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, parts.query, {k.lower(): v for k, v in self.headers.items()},
                            body)
                server.requests.append(seen)
                route = server.routes.get((self.command, parts.path))
                status, headers, payload = route(seen) if route else (404, [], b'{"error": "not_found"}')
                data = payload.encode("utf-8") if isinstance(payload, str) else payload
                self.send_response_only(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args) -> None:  # quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hostile-http", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"
