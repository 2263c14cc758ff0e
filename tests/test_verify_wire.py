"""How verify's requests go on the wire: a request's head and body in one write, a server that closes
early still read, the connection pools (real sockets on 127.0.0.1, no mocks)."""

from __future__ import annotations

import socket
import threading

import httpcore
import httpx

from flowdoc.verify._limits import DeadlineBackend, deadline
from flowdoc.verify._pool import PooledTransport


class _RecordingServer:
    """An HTTP/1.1 server on 127.0.0.1 that keeps what each recv() of a connection returned."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.reads: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "_RecordingServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        self.thread.join(5)

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(5)
            got = b""
            while b"\r\n\r\n" not in got or not got.endswith(b"grant_type=client_credentials"):
                data = conn.recv(65536)
                if not data:
                    return
                self.reads.append(data)
                got += data
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")


def test_a_request_head_and_body_reach_the_server_in_one_read():
    with _RecordingServer() as srv, PooledTransport(lambda: True) as transport:
        with httpx.Client(transport=transport) as client:
            resp = client.post(srv.url + "/token", content=b"grant_type=client_credentials",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status_code == 200 and resp.json() == {}
    assert len(srv.reads) == 1, srv.reads  # one write: one segment, one wake-up of the server
    head, _, body = srv.reads[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /token HTTP/1.1") and body == b"grant_type=client_credentials"


def test_a_server_that_answers_and_closes_before_the_request_is_sent_is_still_read():
    """The held request cannot be written (the peer is gone): httpcore ignores a write error to read
    what the server answered, and so does the held write."""
    ours, theirs = socket.socketpair()
    theirs.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n")
    theirs.close()
    stream = DeadlineBackend(_Fixed(ours)).connect_tcp("127.0.0.1", 1)
    with deadline(5):
        stream.write(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        stream.write(b"x" * 10)  # held: written (into a closed socket) at the first read
        assert stream.read(65536).startswith(b"HTTP/1.1 413")
    stream.close()


def test_plain_http_needs_no_tls_pool_and_https_gets_a_verifying_one():
    made: list[bool] = []

    def tls() -> bool:
        made.append(True)
        return True

    with _RecordingServer() as srv, PooledTransport(tls) as transport:
        with httpx.Client(transport=transport) as client:
            client.post(srv.url + "/token", content=b"grant_type=client_credentials")
        assert made == []  # no CA certificates loaded for a plain-http run
        with httpx.Client(transport=transport) as client:
            try:  # a name under .invalid never resolves: nothing leaves the machine
                client.get("https://flowdoc-test.invalid/")
            except httpx.ConnectError:
                pass
        assert made == [True]


class _Fixed(httpcore.NetworkBackend):
    """A backend whose connection is a given socket (one end of a socketpair)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        from httpcore._backends.sync import SyncStream
        return SyncStream(self.sock)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - unused
        raise NotImplementedError

    def sleep(self, seconds):  # pragma: no cover - unused
        pass
