"""Excerpts of requests and responses for reports, always redacted: the headers a reader needs,
credentials, cookies and secret-named parameters as placeholders, bodies clipped."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from ._received import Received
from ._redact import Redactor, is_secret_key

EXCERPT_BODY = 1200
_SHOWN_REQUEST_HEADERS = ("authorization", "content-type", "cookie", "accept", "dpop", "x-")
_SHOWN_RESPONSE_HEADERS = ("location", "www-authenticate", "content-type", "set-cookie", "cache-control", "x-",
                           "retry-after")


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


def redacted_form(text: str, redactor: Redactor) -> list[tuple[str, str]]:
    """The fields of a form body, each value redacted; the value of a secret-named field becomes a
    secret of the run first (a placeholder), so it is redacted wherever else it appears."""
    pairs = []
    for k, v in parse_qsl(text, keep_blank_values=True):
        if is_secret_key(k) and v:
            v = redactor.placeholder(v) or redactor.add(v, k, declared=True) or v
        pairs.append((k, redactor.redact(v)))
    return pairs


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
            body = "&".join(f"{k}={v}" for k, v in redacted_form(text, redactor))
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
