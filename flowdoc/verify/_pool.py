"""What every scenario of a run shares: one connection pool, reusable clients, the JWKS cache and
the servers' discovery documents (read once per run and base URL)."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import httpx

from ._discovery import Discovery
from ._http import BadResponse, Exchanger, Outgoing, TimedOut, Unreachable
from ._inputs import InputSources
from ._jwt import JwksCache, JwksError
from ._limits import install_deadline
from ._redact import Redactor

if TYPE_CHECKING:
    from ._plan import Scenario
    from ._runner import Exchange


class SharedTransport(httpx.BaseTransport):
    """One connection pool for the whole run; closing a scenario's client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        install_deadline(inner)  # --timeout bounds each whole exchange, not each socket read

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:  # closed by the run
        pass


class PooledTransport(httpx.BaseTransport):
    """The run's connection pools: plain http in one made at once, https in one made at the first https
    request, with the SSL context ``tls()`` returns (the default one loads the CA certificates: ~20 ms
    that a run against http://127.0.0.1 never needs). Each pool is sized for ``jobs`` scenarios at once.

    The plain pool's own SSL context loads no certificate, so it could verify none: were an https
    request ever to reach it, the handshake would fail (it never does: https goes to the other)."""

    def __init__(self, tls: Callable[[], ssl.SSLContext | bool], jobs: int = 1):
        per_origin = max(10, 2 * jobs)  # a connection per scenario at once, with room for a parallel group
        self._limits = httpx.Limits(max_connections=max(100, 4 * per_origin),
                                    max_keepalive_connections=max(20, 2 * per_origin))
        self._tls_context = tls
        self._plain = self._pool(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def _pool(self, verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
        pool = httpx.HTTPTransport(verify=verify, retries=0, limits=self._limits)
        install_deadline(pool)
        return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return self._plain.handle_request(request)
        tls = self._tls
        if tls is None:
            with self._lock:
                if self._tls is None:
                    self._tls = self._pool(self._tls_context())
                tls = self._tls
        return tls.handle_request(request)

    def close(self) -> None:
        self._plain.close()
        if self._tls is not None:
            self._tls.close()


@dataclass
class RunContext:
    """The run's settings and shared resources, handed to every scenario."""

    redactor: Redactor
    inputs: InputSources
    base_url: str | None
    timeout: float
    allow_insecure_http: bool
    max_wait: float
    transport: httpx.BaseTransport
    user_agent: str
    strict: bool = False  # --strict: a --probe finding fails its scenario (else a warning)
    #: called with (scenario, exchange) for every exchange (``--proof``: see ``_proofs.ProofRecorder``)
    recorder: Callable[[Scenario, Exchange], None] | None = None
    jwks: JwksCache = field(init=False)
    discovery: Discovery = field(init=False)
    _meta: httpx.Client = field(init=False)
    _shared: SharedTransport = field(init=False)

    def __post_init__(self) -> None:
        self._shared = SharedTransport(self.transport)  # one for every client (closing it is a no-op)
        self._meta = self.new_client()
        self.jwks = JwksCache(self._fetch_json)
        self.discovery = Discovery(lambda out: self.exchanger(self._meta).send(out), self.timeout)
        self._idle: list[httpx.Client] = []
        self._idle_lock = threading.Lock()

    def acquire_client(self) -> httpx.Client:
        """A client with an empty cookie jar (clients are reused; their jars never are)."""
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self.new_client()

    def release_client(self, client: httpx.Client) -> None:
        client.cookies.clear()
        with self._idle_lock:
            self._idle.append(client)

    def new_client(self) -> httpx.Client:
        return httpx.Client(
            transport=self._shared,
            follow_redirects=False,
            trust_env=False,  # no proxies and no .netrc credentials slipped in from the environment
            timeout=self.timeout,
            headers={"User-Agent": self.user_agent},
        )

    def exchanger(self, client: httpx.Client, *, registers: bool = True) -> Exchanger:
        """``registers=False``: the scenario registers each response itself (``_detect.register_exchange``)."""
        return Exchanger(client, self.redactor, allow_insecure_http=self.allow_insecure_http, transport=self._shared,
                         registers=registers)

    def _fetch_json(self, url: str) -> Any:
        try:
            _req, got = self.exchanger(self._meta).send(
                Outgoing("GET", url, [("Accept", "application/json")], timeout=self.timeout))
        except (Unreachable, TimedOut, BadResponse) as exc:
            raise JwksError(f"GET {url}: {exc}") from None
        if got.status != 200 or got.json is None:
            raise JwksError(f"GET {url} answered {got.status}")
        return got.json

    def close(self) -> None:
        self._meta.close()
        with self._idle_lock:
            for c in self._idle:
                c.close()
            self._idle.clear()
