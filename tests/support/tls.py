"""A throwaway certificate authority and a small HTTPS test server on 127.0.0.1 (TLS tests).

    from tests.support.tls import TestCA, serve_https, token_api_handler

    ca = TestCA.create(tmp_path)                      # tmp_path/ca.pem (the trust anchor)
    good = ca.issue(tmp_path, "good")                 # SAN: IP 127.0.0.1, DNS localhost; valid 1 day
    other = ca.issue(tmp_path, "other", dns=["example.test"], ips=[])
    old = ca.issue(tmp_path, "old", not_before=-2 * DAY, not_after=-DAY)   # expired
    with serve_https(good, token_api_handler(client_id, secret)) as base_url:
        ...                                           # "https://127.0.0.1:PORT"
    with serve_http(handler) as base_url: ...         # the same without TLS: "http://127.0.0.1:PORT"

Keys are EC P-256 (fast to make); certificates live a day at most. The server listens on
127.0.0.1 only, port 0, in a daemon thread, and is shut down when the ``with`` block ends.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = 24 * 3600


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass
class ServerCert:
    cert: Path  # PEM: the leaf certificate
    key: Path  # PEM: its private key (unencrypted)


@dataclass
class TestCA:
    __test__ = False  # not a pytest test class

    cert: Path  # PEM: give this to --ca-bundle
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, folder: Path, name: str = "ca") -> "TestCA":
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flowdoc test CA (throwaway)")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        path = folder / f"{name}.pem"
        _write_cert(cert, path)
        return cls(path, key, cert)

    def issue(self, folder: Path, name: str, *, dns: list[str] | None = None, ips: list[str] | None = None,
              not_before: int = -300, not_after: int = DAY) -> ServerCert:
        """A server certificate; validity in seconds relative to now (negative: in the past)."""
        dns = ["localhost"] if dns is None else dns
        ips = ["127.0.0.1"] if ips is None else ips
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        cn = (dns or ips or ["flowdoc test server"])[0]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(seconds=not_before))
            .not_valid_after(now + dt.timedelta(seconds=not_after))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
        _write_cert(cert, cert_path)
        _write_key(key, key_path)
        return ServerCert(cert_path, key_path)


def token_api_handler(client_id: str, client_secret: str) -> type[BaseHTTPRequestHandler]:
    """A minimal OAuth-like API: POST /token (client_secret_basic, client_credentials grant) answers
    a fresh opaque access token or 401 invalid_client; GET /me wants that token (401 invalid_token).
    ``Handler.requests`` lists ("METHOD", "/path") of every request that got past the handshake."""
    expected = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
    issued: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        requests: list[tuple[str, str]] = []

        def parse_request(self) -> bool:
            ok = super().parse_request()
            if ok:
                with lock:
                    self.requests.append((self.command, self.path))
            return ok

        def log_message(self, format, *args):  # quiet test output
            pass

        def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode("utf-8", "replace")
            if self.path != "/token":
                return self._json(404, {"error": "not_found"})
            if self.headers.get("Authorization") != expected:
                return self._json(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="test"'})
            if "grant_type=client_credentials" not in form.split("&"):
                return self._json(400, {"error": "unsupported_grant_type"})
            token = "at-" + secrets.token_urlsafe(24)
            with lock:
                issued.add(token)
            return self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 600})

        def do_GET(self):
            if self.path != "/me":
                return self._json(404, {"error": "not_found"})
            auth = self.headers.get("Authorization") or ""
            with lock:
                ok = auth.startswith("Bearer ") and auth[7:] in issued
            if not ok:
                return self._json(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return self._json(200, {"sub": client_id})

    return Handler


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler, context: ssl.SSLContext):
        self.context = context
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(10)
        # the handshake runs in the request's thread (finish_request), so a client that gives up
        # on the certificate never blocks the accept loop
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate (the point of several tests)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):  # a rejected handshake is expected
        pass


@contextlib.contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """The same handler without TLS (for a client that speaks https to a plain http port)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    yield from _running(server, "http")


@contextlib.contextmanager
def serve_https(cert: ServerCert, handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` over TLS with ``cert`` on 127.0.0.1 (any free port); yield the base URL."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert.cert), str(cert.key))
    server = _TLSServer(("127.0.0.1", 0), handler, ctx)
    yield from _running(server, "https")


def _running(server: ThreadingHTTPServer, scheme: str) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"{scheme}-test-server", daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
