"""Why a TLS handshake failed, in words a reader can act on (untrusted, wrong host, expired)."""

from __future__ import annotations

import ssl

import httpx


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
