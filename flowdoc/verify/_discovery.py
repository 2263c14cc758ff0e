"""Endpoints from discovery, the discovery cross-check, and the server behaviours a flow assumes.

:class:`Discovery` reads a server's metadata once per run and base URL (the actor's ``base_url``,
its issuer), through the run's hardened exchange (deadline, body cap, no redirects), from the first
of these that answers a JSON object:

1. ``{issuer}/.well-known/openid-configuration`` (OpenID Connect Discovery);
2. ``{origin}/.well-known/oauth-authorization-server{issuer path}`` (RFC 8414, path inserted);
3. ``{issuer}/.well-known/oauth-authorization-server`` (the form servers mounted under a path use).

The first document that answers is the server's metadata. When it lacks a value a flow needs (an
endpoint its requests name: django-oauth-toolkit's OpenID document names no introspection or
revocation endpoint, its RFC 8414 document does), the later documents are read once and fill in
what the first leaves out; a value the first names is never replaced. Where no document names an
endpoint, :meth:`Discovery.endpoint` raises :class:`EndpointMissing` and verify requests the
documented ``path`` (the cross-check reports the gap as a warning).

The document's ``issuer`` must be the base URL (OpenID Connect Discovery §4.3, RFC 8414 §3.3: a
document naming another issuer could send credentials to another server), and an endpoint it names
must be an http(s) URL on the issuer's origin (flowdoc sends credentials only to the server the flow
names). Failures are cached too: a server without discovery is asked once per run.

The first time a flow meets a server's metadata, :func:`flowdoc.check.discovery.cross_check` lists
where the metadata contradicts the flow; verify reports them as warnings with FILE:LINE:COL.
:func:`read_metadata` reads a document for ``flowdoc check --discovery``.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import httpx

from ..check.discovery import cross_check
from ..diagnostics import Diagnostic
from ..model.flow import ENDPOINTS, Flow
from ._http import BadResponse, Exchanger, Outgoing, TimedOut, Unreachable
from ._limits import install_deadline
from ._received import Received
from ._redact import Redactor

WELL_KNOWN_OIDC = "/.well-known/openid-configuration"
WELL_KNOWN_OAUTH = "/.well-known/oauth-authorization-server"
MAX_FINDINGS = 1000  # per run: a hostile document cannot grow the report without bound

Send = Callable[[Outgoing], tuple[httpx.Request, Received]]  # an Exchanger's send


class DiscoveryError(Exception):
    """The metadata could not be had, or does not name what the flow asks for (a conformance failure)."""


class DiscoveryUnreachable(DiscoveryError):
    """The server did not answer at all (exit code 3, like any unreachable server)."""


class EndpointMissing(DiscoveryError):
    """No metadata document of the server names the endpoint (verify requests the documented path)."""


def metadata_urls(base: str) -> list[str]:
    """Where a server whose issuer is ``base`` publishes its metadata, in the order they are tried."""
    issuer = base.rstrip("/")
    parts = urlsplit(issuer)
    out = [issuer + WELL_KNOWN_OIDC]
    if parts.path:
        out.append(f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_OAUTH}{parts.path}")
    out.append(issuer + WELL_KNOWN_OAUTH)
    return out


def _origin(url: str) -> tuple[str, str, int | None]:
    p = urlsplit(url)
    default = {"http": 80, "https": 443}.get(p.scheme.lower())
    try:
        port = p.port or default
    except ValueError:
        port = -1
    return p.scheme.lower(), (p.hostname or "").lower(), port


@dataclass
class Metadata:
    url: str  # where it was read
    doc: dict[str, Any]
    #: the later documents, not read yet: read once, when a value the flow needs is missing
    more: list[str] = field(default_factory=list)
    #: where the values the first document lacks were read, in order
    also: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """The documents the values come from, for messages."""
        return " and ".join([self.url, *self.also])


class Discovery:
    """Each base URL's metadata, read once per run (and its failure, remembered)."""

    def __init__(self, send: Send, timeout: float):
        self._send = send
        self._timeout = timeout
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, Metadata | DiscoveryError] = {}
        self._checked: set[tuple[int, str]] = set()
        self._findings: list[Diagnostic] = []

    # ------------------------------------------------------------ reading
    def metadata(self, base: str, wanted: Iterable[str] = ()) -> Metadata:
        """The metadata of the server whose issuer is ``base``; with ``wanted`` (names of values),
        the later documents fill in those the first lacks (read once per run)."""
        key = base.rstrip("/")
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            found = self._cache.get(key)
            if found is None:
                try:
                    found = self._read(key)
                except DiscoveryError as exc:
                    found = exc
                self._cache[key] = found
            if isinstance(found, DiscoveryError):
                raise found
            if found.more and any(name not in found.doc for name in wanted):
                self._supplement(key, found)
        return found

    def _supplement(self, issuer: str, meta: Metadata) -> None:
        """Values the first document lacks, from the later documents of the same issuer (the first
        document's values stay). A later document that cannot be read, or names another issuer, adds nothing."""
        merged = dict(meta.doc)
        for url in meta.more:
            try:
                _req, got = self._send(Outgoing("GET", url, [("Accept", "application/json")], timeout=self._timeout))
            except (Unreachable, TimedOut, BadResponse):
                continue
            if got.status != 200 or not isinstance(got.json, dict):
                continue
            try:
                doc = self._checked_issuer(issuer, url, got.json)
            except DiscoveryError:
                continue
            added = {k: v for k, v in doc.items() if k not in merged}
            if added:
                merged.update(added)
                meta.also.append(url)
        meta.more = []
        meta.doc = merged  # one assignment: a reader sees the old or the new document, whole

    def _read(self, issuer: str) -> Metadata:
        tried: list[str] = []
        urls = metadata_urls(issuer)
        for i, url in enumerate(urls):
            try:
                _req, got = self._send(Outgoing("GET", url, [("Accept", "application/json")], timeout=self._timeout))
            except (Unreachable, TimedOut) as exc:
                raise DiscoveryUnreachable(f"the discovery document of {issuer} could not be read: {exc}") from None
            except BadResponse as exc:
                tried.append(f"{url}: {exc}")
                continue
            if got.status == 200 and isinstance(got.json, dict):
                return Metadata(url, self._checked_issuer(issuer, url, got.json), more=urls[i + 1:])
            tried.append(f"{url} answered {got.status}" + ("" if got.status != 200 else ", not a JSON object"))
        raise DiscoveryError(f"no discovery document for {issuer}: " + "; ".join(tried))

    @staticmethod
    def _checked_issuer(issuer: str, url: str, doc: dict[str, Any]) -> dict[str, Any]:
        named = doc.get("issuer")
        if named is not None and (not isinstance(named, str) or named.rstrip("/") != issuer):
            shown = named[:200] if isinstance(named, str) else type(named).__name__
            raise DiscoveryError(f"the discovery document at {url} names the issuer {shown!r}, not {issuer!r}; "
                                 "pass the server's issuer exactly as its base URL")
        return doc

    def endpoint(self, base: str, name: str) -> str:
        """The URL of endpoint ``name`` (``token_endpoint`` ...) of the server whose issuer is ``base``."""
        meta = self.metadata(base, [name])
        url = meta.doc.get(name)
        if url is None:
            raise EndpointMissing(f"the discovery document at {meta.where} names no {name}")
        if not isinstance(url, str) or not url:
            raise DiscoveryError(f"the discovery document at {meta.where} names no usable {name}")
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https") or _origin(url) != _origin(base):
            raise DiscoveryError(f"the discovery document at {meta.where} puts the {name} on another origin "
                                 f"({url[:200]}); flowdoc sends requests only to the server the flow names")
        return url

    # ------------------------------------------------------------ cross-check
    def cross_check(self, flow: Flow, actor: str, base: str, resolve: Callable[[str], str | None]) -> None:
        """Once per flow and server: where the metadata contradicts the flow (kept as findings)."""
        key = (id(flow), base.rstrip("/") + " " + actor)
        with self._lock:
            if key in self._checked:
                return
            self._checked.add(key)
        wanted = {t.request.endpoint for t in flow.transitions
                  if t.receiver == actor and t.request is not None and t.request.endpoint is not None}
        try:
            meta = self.metadata(base, wanted)
        except DiscoveryError:
            return
        found = cross_check(flow, meta.doc, actors=[actor], resolve=resolve, source=f"discovery {meta.where}")
        with self._lock:
            room = MAX_FINDINGS - len(self._findings)
            self._findings.extend(found[:max(room, 0)])

    def findings(self) -> list[Diagnostic]:
        with self._lock:
            return sorted(self._findings, key=Diagnostic.sort_key)


# ------------------------------------------------------------------ `flowdoc check --discovery`

MAX_FILE = 4 * 1024 * 1024


def read_metadata(source: str, *, timeout: float = 15.0) -> Metadata:
    """A discovery document from a file, its URL (``.../.well-known/...``), or an issuer's base URL
    (the three places above); over the hardened exchange, no redirects followed. DiscoveryError if
    it cannot be had."""
    scheme = urlsplit(source).scheme.lower() if "://" in source else ""
    if not scheme:
        return _read_file(source)
    if scheme not in ("http", "https"):
        raise DiscoveryError(f"'{source}': only http(s) URLs and files are read, not {scheme}:")
    transport = httpx.HTTPTransport(retries=0)
    install_deadline(transport)
    with httpx.Client(transport=transport, follow_redirects=False, trust_env=False, timeout=timeout) as client:
        exchanger = Exchanger(client, Redactor())
        disco = Discovery(exchanger.send, timeout)
        if "/.well-known/" not in urlsplit(source).path:
            return disco.metadata(source, ENDPOINTS)  # what the OpenID document lacks, from RFC 8414's
        try:
            _req, got = exchanger.send(Outgoing("GET", source, [("Accept", "application/json")], timeout=timeout))
        except (Unreachable, TimedOut) as exc:
            raise DiscoveryUnreachable(f"cannot read {source}: {exc}") from None
        except BadResponse as exc:
            raise DiscoveryError(f"{source}: {exc}") from None
        if got.status != 200 or not isinstance(got.json, dict):
            what = ", not a JSON object" if got.status == 200 else ""
            raise DiscoveryError(f"{source} answered {got.status}{what}")
        return Metadata(source, got.json)


def _read_file(source: str) -> Metadata:
    try:
        if os.path.getsize(source) > MAX_FILE:
            raise DiscoveryError(f"{source} is larger than {MAX_FILE // (1024 * 1024)} MiB")
        with open(source, "rb") as fh:
            text = fh.read().decode("utf-8-sig")
        doc = json.loads(text)
    except OSError as exc:
        raise DiscoveryError(f"cannot read {source}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DiscoveryError(f"{source} is not a JSON document: {str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise DiscoveryError(f"{source} is not a discovery document (not a JSON object)")
    return Metadata(source, doc)
