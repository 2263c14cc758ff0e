"""A response as verify checks it: status, headers, the body read in full, and what it means
(JSON, an HTML page and its forms, the Location and its parameters, OAuth error codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from ._challenge import www_authenticate_params
from ._forms import MAX_SCANNED_TEXT, Page, looks_like_html, parse_page, text_codes
from ._limits import parse_json


@dataclass
class Received:
    """A response snapshot (the body fully read)."""

    method: str
    url: str  # the request URL
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    elapsed: float
    history: list[tuple[str, str, int]] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)  # Set-Cookie of this response (and followed hops)

    @cached_property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))

    @cached_property
    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return self.body.decode("latin-1")

    @cached_property
    def _parsed(self) -> tuple[Any, str | None]:
        ct = self.content_type.lower()
        if not self.body or ("json" not in ct and not self.text.lstrip().startswith(("{", "["))):
            return None, None
        return parse_json(self.body)

    @cached_property
    def json(self) -> Any:
        return self._parsed[0]

    @cached_property
    def json_problem(self) -> str | None:
        """Why a body that should be JSON is none: not UTF-8, nested too deeply, not valid JSON."""
        return self._parsed[1]

    @cached_property
    def is_html(self) -> bool:
        return bool(self.body) and looks_like_html(self.content_type, self.text[:200])

    @cached_property
    def page(self) -> Page | None:
        return parse_page(self.text) if self.is_html else None

    @cached_property
    def visible_text(self) -> str:
        """What a reader sees: an HTML page's visible text, else the body as text (spaces folded)."""
        page = self.page
        if page is not None:
            return page.text
        return " ".join(self.text[:MAX_SCANNED_TEXT].split())

    @cached_property
    def location(self) -> str | None:
        loc: str | None = self.headers.get("location")
        if loc is None:
            return None
        try:
            return urljoin(self.url, loc)
        except ValueError:  # e.g. an unclosed "[" of an IPv6 host: kept as sent
            return loc

    def _location_part(self, part: str) -> str:
        try:
            return str(getattr(urlsplit(self.location or ""), part))
        except ValueError:
            return ""

    @cached_property
    def location_query(self) -> dict[str, str]:
        if not self.location:
            return {}
        return {k: v[0] for k, v in parse_qs(self._location_part("query"), keep_blank_values=True).items()}

    @cached_property
    def location_fragment(self) -> dict[str, str]:
        """Parameters in the Location's fragment (``#access_token=...&state=...``, as the implicit
        grant and response_mode=fragment return them); empty when the fragment holds none."""
        if not self.location:
            return {}
        return {k: v[0] for k, v in parse_qs(self._location_part("fragment"), keep_blank_values=True).items()}

    @cached_property
    def location_params(self) -> tuple[tuple[str, str], ...]:
        """The parameters of the Location's query, then of its fragment (none without a Location)."""
        if not self.location:
            return ()
        return (*self.location_query.items(), *self.location_fragment.items())

    def form_capture(self, index: int = 0) -> dict[str, Any] | None:
        page = self.page
        if page is None or len(page.forms) <= index:
            return None
        return page.forms[index].as_capture(self.url)

    def error_codes(self) -> list[tuple[str, str]]:
        """OAuth error codes found in the response: (where, code), from every place servers put
        them (see :data:`LOOKED_IN`)."""
        out: list[tuple[str, str]] = []
        body = self.json
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            out.append(("body", body["error"]))
        if self.location and "error" in self.location_query:
            out.append(("Location query", self.location_query["error"]))
        if self.location and "error" in self.location_fragment:
            out.append(("Location fragment", self.location_fragment["error"]))
        for value in self.headers.get_list("www-authenticate"):
            err = www_authenticate_params(value).get("error")
            if err:
                out.append(("WWW-Authenticate", err))
        if self.page is not None:
            out += self.page.error_codes()
        elif body is None and self.body and self.content_type.split(";")[0].strip().lower() in ("text/plain", ""):
            out += self._text_codes()
        return out

    def _text_codes(self) -> list[tuple[str, str]]:
        """A plain-text body: ``error=CODE``, ``error: CODE``, ``[CODE]``, or a body that is one code."""
        text = self.text[:1 << 20]
        codes = text_codes(text)
        word = text.strip()
        if not codes and word and len(word) <= 80 and word.replace("_", "").replace(".", "").isalnum():
            codes = [word]
        return [("text body", c) for c in codes]


#: where :meth:`Received.error_codes` looks, for messages that say a code was not found
LOOKED_IN = ("the JSON body's error, WWW-Authenticate, the Location's query and fragment, the HTML page "
             "(error elements, 'error: CODE', '[CODE]') and a plain-text body")
