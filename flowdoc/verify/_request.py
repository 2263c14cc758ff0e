"""Building the request a step sends: the documented request, a failure's patch over it, rendered.

``build_request`` runs named steps, each a small merge of request and patch (patch wins):
``_merge_omit`` → ``_merge_url`` (a URL from an earlier step, a submitted form, the endpoint the
receiver's discovery documents name for ``endpoint:``, or the documented path on the receiver's base
URL, also where no document names the endpoint; checked against the documented path, or against the named endpoint) → ``_merge_query`` →
``_merge_headers`` → ``_merge_body`` (form or JSON) → ``_merge_auth`` (a strategy from
``_auth.AUTH_METHODS``) → ``_merge_timeout``. Values render in that order, so the first missing
value named is the first one the request needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from ..model.expr import as_text
from ..model.flow import Request, RequestPatch
from ._auth import AUTH_METHODS, AuthCall
from ._discovery import DiscoveryError, DiscoveryUnreachable, EndpointMissing
from ._http import Outgoing, Unreachable, redact_url
from ._outcomes import ConformanceFailure, UsageProblem
from ._redact import Redactor
from ._result import CheckFailure

NO_PATCH = RequestPatch()
_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

Render = Callable[[Any], Any]


def path_pattern(path: str) -> re.Pattern[str]:
    """A documented path (``/interaction/{uid}/login``) as a pattern for the path of a real URL."""
    parts, last = [], 0
    for m in _SEGMENT.finditer(path):
        parts.append(re.escape(path[last:m.start()]))
        parts.append(r"[^/]+")
        last = m.end()
    parts.append(re.escape(path[last:]))
    return re.compile("(?:.*)?" + "".join(parts).rstrip("/") + "/?$")


@dataclass
class Building:
    """One request being built: the step, the documented request, the patch, how values render."""

    step: str
    req: Request
    patch: RequestPatch
    render: Render
    base_url: Callable[[], str]  # the receiver's base URL (raises UsageProblem when it has none)
    redactor: Redactor
    endpoint: Callable[[str], str] | None = None  # endpoint name -> URL, from the receiver's discovery document
    check_path: bool = True  # False: the documented path is this server's assumed one (a page of its own)

    def text(self, value: Any) -> str:
        return as_text(self.render(value))


def build_request(b: Building, *, timeout: float | None, default_timeout: float) -> Outgoing:
    req, p = b.req, b.patch
    omit = _merge_omit(b)
    method = p.method or req.method
    url, form_fields = _merge_url(b, method)
    url = _merge_query(b, url, omit)
    headers = _merge_headers(b, omit)
    form, json_body = _merge_body(b, form_fields, omit)
    auth_headers, form = _merge_auth(b, omit, form, json_body)
    return Outgoing(
        method=method,
        url=url,
        headers=headers + auth_headers,
        form=form,
        json_body=json_body,
        no_cookies="cookie" in omit,
        follow_redirects=req.follow_redirects,
        timeout=_merge_timeout(req, timeout, default_timeout),
        retry_attempts=req.retry.attempts if req.retry else 1,
        retry_backoff=float(req.retry.backoff) if req.retry else 1.0,
    )


def _merge_omit(b: Building) -> frozenset[str]:
    """Names (parameters, headers, form fields, cookies) the request, the failure or the probe leaves
    out, lower-cased; a name given by an input (``${inputs.consent_field}``) is that input's value."""
    return frozenset((b.text(o) if "${" in o else o).lower() for o in [*b.req.omit, *b.patch.omit])


# ------------------------------------------------------------------ URL


def _merge_url(b: Building, method: str) -> tuple[str, dict[str, Any]]:
    """The URL to request, and the fields of a submitted form (empty otherwise)."""
    documented = b.patch.path or b.req.path
    reference = b.patch.url or b.req.url
    named = b.req.endpoint if not b.patch.path else None
    fields: dict[str, Any]
    if reference:
        url, fields = _url_of_reference(b, reference), {}
    elif b.req.submit_form:
        url, fields = _url_of_form(b, method)
    else:
        discovered = _discovered(b, named) if named else None
        return discovered or _url_of_path(b, documented), {}
    endpoint = _discovered(b, named) if named else None
    if named and endpoint is not None:
        _check_at_endpoint(b, named, url, endpoint)
    elif b.check_path:
        _check_path(b, documented, url)
    return url, fields


def _discovered(b: Building, name: str) -> str | None:
    """``endpoint: token_endpoint``: the URL the receiver's discovery document names; None when no
    document of the server names it (the documented path stands in; the cross-check warns)."""
    if b.endpoint is None:
        raise UsageProblem(f"'{b.step}': endpoint {name} needs the receiver's discovery document")
    try:
        return b.endpoint(name)
    except EndpointMissing:
        return None
    except DiscoveryUnreachable as exc:
        raise Unreachable(str(exc)) from None
    except DiscoveryError as exc:
        raise ConformanceFailure(b.step, "step", f"the {name} could not be had from discovery",
                                 [CheckFailure("discovery", name, b.redactor.redact(str(exc)))]) from None


def _check_at_endpoint(b: Building, name: str, url: str, endpoint: str) -> None:
    """A URL from an earlier step, at the endpoint it is documented at (its path within the endpoint's)."""
    want = urlsplit(endpoint)
    got = urlsplit(url)
    base = want.path.rstrip("/")
    same = (got.scheme, got.netloc.lower()) == (want.scheme, want.netloc.lower())
    if not same or not (got.path.rstrip("/") == base or got.path.startswith(base + "/")):
        raise ConformanceFailure(
            b.step, "step", f"the request URL is not at the server's {name}",
            [CheckFailure("URL", f"{name} {want.scheme}://{want.netloc}{want.path}",
                          redact_url(urlunsplit(got._replace(query="", fragment="")), b.redactor))],
        )


def _url_of_reference(b: Building, reference: str) -> str:
    """``url: ${steps.ID.location}``: absolute, or relative to the receiver's base URL."""
    target = b.text(reference)
    if urlsplit(target).scheme:
        return target
    return urljoin(b.base_url().rstrip("/") + "/", target)


def _url_of_form(b: Building, method: str) -> tuple[str, dict[str, Any]]:
    """``submit_form: ${steps.ID.form}``: the form's action, method (checked) and fields."""
    form = b.render(b.req.submit_form)
    if not isinstance(form, dict) or "action" not in form:
        raise UsageProblem(f"'{b.step}': submit_form must refer to a captured form (${{steps.ID.form}})")
    form_method = str(form.get("method") or "GET").upper()
    if form_method != method:
        raise ConformanceFailure(b.step, "step", "the page's form method differs from the documented one",
                                 [CheckFailure("form method", method, form_method)])
    return form["action"], dict(form.get("fields") or {})


def _url_of_path(b: Building, documented: str) -> str:
    """The documented path, its ``{name}`` segments filled from ``params``, on the base URL."""
    base = b.base_url()
    params = {k: b.text(v) for k, v in b.req.params.items()}
    path = _SEGMENT.sub(lambda m: params.get(m.group(1), m.group(0)), documented)
    return base.rstrip("/") + path


def _check_path(b: Building, documented: str, url: str) -> None:
    if not path_pattern(documented).match(urlsplit(url).path or "/"):
        raise ConformanceFailure(
            b.step, "step", "the request URL does not match the documented path",
            [CheckFailure("path", documented, urlsplit(redact_url(url, b.redactor)).path)],
        )


# ------------------------------------------------------------------ query, headers, body


def _merge_query(b: Building, url: str, omit: frozenset[str]) -> str:
    """Documented and patched query parameters, over (and replacing) those already in the URL."""
    merged = {**b.req.query, **b.patch.query}
    extra = [(k, b.text(v)) for k, v in merged.items() if k.lower() not in omit and v is not None]
    if not extra and not omit:
        return url
    parts = urlsplit(url)
    names = dict(extra)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in omit and k not in names]
    return urlunsplit(parts._replace(query=urlencode(kept + extra)))


def _merge_headers(b: Building, omit: frozenset[str]) -> list[tuple[str, str]]:
    merged = {**b.req.headers, **b.patch.headers}
    return [(k, b.text(v)) for k, v in merged.items() if k.lower() not in omit and v is not None]


def _merge_body(b: Building, form_fields: dict[str, Any], omit: frozenset[str]) -> tuple[dict[str, str] | None, Any]:
    return _merge_form(b, form_fields, omit), _merge_json(b, omit)


def _merge_form(b: Building, form_fields: dict[str, Any], omit: frozenset[str]) -> dict[str, str] | None:
    """A form body: a submitted form's fields, the documented form, the patch."""
    req, p = b.req, b.patch
    if req.form is None and not req.submit_form and not p.form:
        return None
    merged = {**form_fields, **_named(b, req.form or {}), **_named(b, p.form)}
    return {k: b.text(v) for k, v in merged.items() if k.lower() not in omit and v is not None}


def _named(b: Building, fields: dict[str, Any]) -> dict[str, Any]:
    """Field names may come from inputs too (``${inputs.login_field}: alice``): login forms differ."""
    if not any("${" in k for k in fields):
        return fields
    return {(b.text(k) if "${" in k else k): v for k, v in fields.items()}


def _merge_json(b: Building, omit: frozenset[str]) -> Any:
    """A JSON body: objects merge key by key (patch wins); anything else, the patch replaces."""
    req, p = b.req, b.patch
    if p.json_body is None and req.json_body is None:
        return None
    base = b.render(req.json_body) if req.json_body is not None else None
    patch = b.render(p.json_body) if p.json_body is not None else None
    body: Any
    if isinstance(base, dict) and isinstance(patch, dict):
        body = {**base, **patch}
    else:
        body = patch if patch is not None else base
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k.lower() not in omit}
    return body


# ------------------------------------------------------------------ client authentication, timeout


def _merge_auth(b: Building, omit: frozenset[str], form: dict[str, str] | None,
                json_body: Any) -> tuple[list[tuple[str, str]], dict[str, str] | None]:
    """The client authentication strategy's headers, and the form with its fields."""
    name = b.patch.auth or b.req.auth
    parts = AUTH_METHODS[name].apply(AuthCall(b.step, lambda key: b.render(_credential(b, key)), omit, b.redactor))
    if parts.form is None:
        return parts.headers, form
    if json_body is not None:
        raise UsageProblem(f"'{b.step}': {name} sends the credentials in a form body, not JSON")
    return parts.headers, {**(form or {}), **parts.form}


def _credential(b: Building, key: str) -> Any:
    """``client_id``, ``client_secret`` or ``token``: the patch's, else the request's (unrendered)."""
    patched = getattr(b.patch, key)
    return patched if patched is not None else getattr(b.req, key)


def _merge_timeout(req: Request, timeout: float | None, default: float) -> float:
    return float(timeout if timeout is not None else (req.timeout or default))
