"""Following a redirect when a step asks (``follow_redirects: true``), without leaking credentials.

``follow_redirects: same-origin`` follows only redirects within the origin and stops at the first one
that leaves it (a browser inside the authorization server, up to the client's redirect_uri): that
redirect is the step's response, and nothing is sent to its target.

An origin is (scheme, host, port). The rules, checked before anything is sent to the new URL:

* **same origin**: the request is re-sent as HTTP says (303, and 301/302 after a POST, become a
  GET without body; 307/308 keep method and body) with its Authorization header and the jar's
  cookies, as the step sent it;
* **another origin**: followed only as a request without credentials: no Authorization header,
  no cookies, no header that holds a secret, and no body. A 307/308 that would re-send a body
  (a token request's client secret, a password, a code) to another origin is refused: stripping
  the body would turn it into another request whose answer would be checked as the documented one;
* **never** from https to http, and never to plain http on a host that is not loopback (refused
  whatever ``--allow-insecure-http`` says: that flag trusts the servers the flow names, not the
  ones they redirect to);
* at most :data:`MAX_REDIRECTS` hops; a longer chain is named a redirect loop when it repeats a URL.
"""

from __future__ import annotations

from typing import Callable

import httpx

from ._redact import Redactor

MAX_REDIRECTS = 10
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOP_DROPPED = frozenset({"host", "cookie", "content-length", "transfer-encoding"})
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class RedirectRefused(Exception):
    """A redirect that must not be followed (nothing was sent to its target)."""


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _origin_text(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"


def is_redirect(resp: httpx.Response) -> bool:
    return resp.status_code in REDIRECT_STATUSES and "location" in resp.headers


def leaves_origin(req: httpx.Request, resp: httpx.Response) -> bool:
    """The redirect goes to another origin (``follow_redirects: same-origin`` stops there, unsent)."""
    try:
        return origin(req.url.join(resp.headers["location"])) != origin(req.url)
    except (httpx.InvalidURL, ValueError, KeyError):
        return False  # not followable: next_request names the problem


def _target(req: httpx.Request, resp: httpx.Response) -> httpx.URL:
    location = resp.headers["location"]
    try:
        url = req.url.join(location)
    except (httpx.InvalidURL, ValueError):
        raise RedirectRefused(f"the {resp.status_code} redirect's Location is not a valid URL: not followed") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise RedirectRefused(f"the {resp.status_code} redirect goes to a {url.scheme or 'relative'} URL, "
                              "not http(s): not followed")
    return url.copy_with(fragment=None)


def _check_chain(url: httpx.URL, chain: list[str]) -> None:
    if len(chain) < MAX_REDIRECTS:
        return
    urls = [*chain, str(url)]
    what = "redirect loop" if len(set(urls)) < len(urls) else "too many redirects"
    raise RedirectRefused(f"{what}: more than {MAX_REDIRECTS} redirects, the last to {_origin_text(url)}{url.path}; "
                          "not followed further")


def _check_transport(req: httpx.Request, url: httpx.URL, status: int, is_loopback: Callable[[str], bool]) -> None:
    if req.url.scheme == "https" and url.scheme == "http":
        raise RedirectRefused(f"the server redirected ({status}) from https to plain http "
                              f"({_origin_text(url)}): not followed, nothing was sent there")
    if url.scheme == "http" and not is_loopback(url.host) and origin(url) != origin(req.url):
        raise RedirectRefused(f"the server redirected ({status}) to plain http on a host that is not loopback "
                              f"({_origin_text(url)}): not followed, nothing was sent there")


def _hop_headers(req: httpx.Request, *, same: bool, with_body: bool, redactor: Redactor) -> list[tuple[str, str]]:
    """The headers to send again: none that holds credentials when the hop leaves the origin."""
    headers = []
    for k, v in req.headers.multi_items():
        low = k.lower()
        if low in _HOP_DROPPED or (not with_body and low == "content-type"):
            continue
        if not same and (low in _CREDENTIAL_HEADERS or redactor.contains_secret(v)):
            continue
        headers.append((k, v))
    return headers


def next_request(client: httpx.Client, req: httpx.Request, resp: httpx.Response, chain: list[str],
                 redactor: Redactor, *, no_cookies: bool, is_loopback: Callable[[str], bool]) -> httpx.Request:
    """The request that follows redirect ``resp`` of ``req`` (``chain``: the URLs requested so far);
    RedirectRefused if it must not be followed."""
    status = resp.status_code
    url = _target(req, resp)
    _check_chain(url, chain)
    _check_transport(req, url, status, is_loopback)
    same = origin(url) == origin(req.url)
    method, content = req.method, req.content or None
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, content = "GET", None
    if content is not None and not same:
        raise RedirectRefused(
            f"the server redirected ({status}) this {method} to another origin ({_origin_text(url)}); "
            "flowdoc does not re-send a request body to another origin (it may hold credentials): not "
            "followed, nothing was sent there. Document the redirect (status and redirect.to) instead")
    headers = _hop_headers(req, same=same, with_body=content is not None, redactor=redactor)
    nxt = client.build_request(method, url, headers=headers, content=content,
                               extensions=dict(req.extensions))
    if (no_cookies or not same) and "cookie" in nxt.headers:
        del nxt.headers["cookie"]  # the jar matches hosts, not origins: another port would get them
    return nxt
