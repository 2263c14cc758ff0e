"""HTML pages: forms (action, method, the fields a browser would submit) and error texts.

Error texts come from the markup the common servers use: elements marked as errors
(``id="error"``, class ``error``, ``errorlist``, ``alert-error``, ``kc-feedback-text``,
Keycloak's ``id="kc-error-message"``, ``role="alert"``), and from the visible text of any page
as ``error: CODE`` / ``error=CODE`` (oidc-provider's stock page
``<pre><strong>error</strong>: invalid_redirect_uri</pre>``, django-oauth-toolkit's
``Error: invalid_request``) or ``[CODE]`` (Spring's whitelabel page ``[invalid_request] ...``).

A page is hostile input, so it is read by a small tokenizer of our own that only moves forward
(every step consumes input; ``str.find`` and patterns that cannot backtrack), in time
proportional to the page: the standard library's :mod:`html.parser` takes quadratic time on
unclosed tags (50 KB of ``<a `` took 14 s) and fails on huge numeric character references.
It follows the HTML standard where login pages need it: tag and attribute names in any case,
quoted and bare attribute values, entities decoded in text and values (the first of two equal
attributes wins), comments and doctypes skipped, ``script``/``style`` read as raw text,
``title``/``textarea`` as text, and a tag left open at the end of the page is dropped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

_MARKUP = re.compile(r"<[A-Za-z!?/]")
_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\f\r />]*")
_ATTR_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_BETWEEN_ATTRS = re.compile(r"[\t\n\f\r /]*")
_WS = re.compile(r"[\t\n\f\r ]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_RAW_TEXT = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes"})
_RCDATA = frozenset({"title", "textarea"})
_CLOSERS: dict[str, re.Pattern[str]] = {t: re.compile(rf"</{t}(?=[\t\n\f\r />]|$)", re.IGNORECASE)
                                        for t in _RAW_TEXT | _RCDATA}
# a numeric reference beyond U+10FFFF (html.unescape would convert every digit: a hostile page
# can make that fail); html.unescape turns such references into U+FFFD as well
_HUGE_CHARREF = re.compile(r"&#(?:[xX]0*+[0-9a-fA-F]{7,}+|0*+[0-9]{8,}+);?")
MAX_TITLE, MAX_ERRORS, MAX_ERROR_TEXT = 200, 20, 300
MAX_SCANNED_TEXT = 1 << 20  # visible text kept for `error: CODE` patterns
_ERROR_IDS = frozenset({"error", "kc-error-message", "input-error"})
_ERROR_CLASSES = frozenset({"error", "errorlist", "alert-error", "kc-feedback-text", "error-message"})
# `error: CODE`, `error=CODE`, `"error": "CODE"`; `[CODE]`: no nested quantifier, linear on any text
_CODE_AFTER_ERROR = re.compile(r"(?i)\berror(?:_code)?\"?\s{0,8}[:=]\s{0,8}\"?([A-Za-z][A-Za-z0-9_.-]{0,79})")
_CODE_IN_BRACKETS = re.compile(r"\[([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\]")
_SNAKE_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_NOT_SUBMITTED = {"submit", "button", "image", "reset", "file"}


@dataclass
class HtmlForm:
    id: str | None
    action: str
    method: str  # upper case
    fields: dict[str, str] = field(default_factory=dict)
    field_types: dict[str, str] = field(default_factory=dict)

    def as_capture(self, page_url: str) -> dict[str, Any]:
        """The value of a ``form`` capture: action resolved against the page URL."""
        return {
            "id": self.id,
            "action": urljoin(page_url, self.action or page_url),
            "method": self.method,
            "fields": dict(self.fields),
            "page_url": page_url,
        }


def unescape(text: str) -> str:
    """Character references decoded, in linear time, whatever the text."""
    if "&" not in text:
        return text
    return html.unescape(_HUGE_CHARREF.sub("\ufffd", text))


def _attributes(page: str, pos: int) -> tuple[list[tuple[str, str | None]], int, bool]:
    """The attributes of a start tag from ``pos``: (attributes, position after the tag, whether
    the tag was closed by '>' before the end of the page)."""
    attrs: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    n = len(page)
    while True:
        pos = _BETWEEN_ATTRS.match(page, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            return attrs, n, False
        if page[pos] == ">":
            return attrs, pos + 1, True
        m = _ATTR_NAME.match(page, pos)
        assert m is not None  # the first character is neither space, '/' nor '>'
        name, pos = m.group().lower(), m.end()
        pos = _WS.match(page, pos).end()  # type: ignore[union-attr]
        value: str | None = None
        if pos < n and page[pos] == "=":
            pos = _WS.match(page, pos + 1).end()  # type: ignore[union-attr]
            if pos < n and page[pos] in "\"'":
                end = page.find(page[pos], pos + 1)
                if end < 0:
                    return attrs, n, False
                value, pos = page[pos + 1:end], end + 1
            else:
                m = _UNQUOTED.match(page, pos)
                value, pos = m.group(), m.end()  # type: ignore[union-attr]
        if name not in seen:
            seen.add(name)
            attrs.append((name, unescape(value) if value is not None else None))


class _Tokenizer:
    """Feeds start tags, end tags and text of a page to ``handle_*`` methods, in one pass."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None: ...
    def handle_endtag(self, tag: str) -> None: ...
    def handle_data(self, data: str) -> None: ...

    def feed(self, page: str) -> None:
        pos, n = 0, len(page)
        while pos < n:
            m = _MARKUP.search(page, pos)
            start = n if m is None else m.start()
            if start > pos:
                self.handle_data(unescape(page[pos:start]))
            if m is None:
                return
            pos = self._markup(page, start)

    def _markup(self, page: str, lt: int) -> int:
        """Read the markup at ``page[lt] == '<'`` (followed by a letter, '!', '?' or '/'); return
        the position after it."""
        n = len(page)
        kind = page[lt + 1]
        if kind in "!?":
            if page.startswith("<!--", lt):
                end = page.find("-->", lt + 4)
                return n if end < 0 else end + 3
            end = page.find(">", lt + 2)  # doctype, CDATA, processing instruction: skipped
            return n if end < 0 else end + 1
        if kind == "/":
            end = page.find(">", lt + 2)
            m = _TAG_NAME.match(page, lt + 2)
            if end >= 0 and m is not None:
                self.handle_endtag(m.group().lower())
            return n if end < 0 else end + 1
        m = _TAG_NAME.match(page, lt + 1)
        assert m is not None  # _MARKUP saw a letter
        tag = m.group().lower()
        attrs, pos, closed = _attributes(page, m.end())
        if not closed:
            return n  # a tag still open at the end of the page is dropped, as browsers do
        self.handle_starttag(tag, attrs)
        if tag in _CLOSERS:
            return self._text_element(page, tag, pos)
        return pos

    def _text_element(self, page: str, tag: str, pos: int) -> int:
        n = len(page)
        close = _CLOSERS[tag].search(page, pos)
        text = page[pos:n if close is None else close.start()]
        if text:
            self.handle_data(unescape(text) if tag in _RCDATA else text)
        if close is None:
            return n
        self.handle_endtag(tag)
        end = page.find(">", close.end())
        return n if end < 0 else end + 1


class _PageParser(_Tokenizer):
    def __init__(self) -> None:
        self.forms: list[HtmlForm] = []
        self.errors: list[str] = []
        self._title: list[str] = []
        self._form: HtmlForm | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: dict[str, Any] | None = None
        self._option: dict[str, Any] | None = None
        self._error_depth = 0  # >0 while inside an error element
        self._error_tag: str | None = None
        self._error_text: list[str] = []
        self._in_title = False
        self._raw = 0  # >0 inside script or style: not visible text
        self.text: list[str] = []
        self._text_size = 0

    # ------------------------------------------------------------------ tags
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v if v is not None else "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag in ("script", "style"):
            self._raw += 1
        if self._opens_error(tag, a):
            return
        if tag == "form":
            self._form = HtmlForm(a.get("id") or a.get("name") or None, a.get("action", ""),
                                  (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif self._form is not None:
            self._field(self._form, tag, a)

    def _opens_error(self, tag: str, a: dict[str, str]) -> bool:
        """An element that holds an error text starts here (id="error", class "error", role="alert")."""
        if self._error_tag is None and tag not in _VOID:
            classes = a.get("class", "").split()
            if a.get("id") in _ERROR_IDS or _ERROR_CLASSES.intersection(classes) or a.get("role") == "alert":
                self._error_tag, self._error_depth, self._error_text = tag, 1, []
                return True
        elif self._error_tag == tag:
            self._error_depth += 1
        return False

    def _field(self, form: HtmlForm, tag: str, a: dict[str, str]) -> None:
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            self._input(form, name, a)
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": [], "selected": "selected" in a}

    @staticmethod
    def _input(form: HtmlForm, name: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in _NOT_SUBMITTED or (kind in ("checkbox", "radio") and "checked" not in a):
            return
        form.fields[name] = a.get("value", "on" if kind in ("checkbox", "radio") else "")
        form.field_types[name] = kind

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in ("script", "style") and self._raw:
            self._raw -= 1
        if self._error_tag == tag:
            self._close_error()
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            name, parts = self._textarea
            self._form.fields[name] = "".join(parts)
            self._form.field_types[name] = "textarea"
            self._textarea = None
        elif tag == "option" and self._option is not None:
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_select()

    def _close_error(self) -> None:
        self._error_depth -= 1
        if self._error_depth == 0:
            text = " ".join("".join(self._error_text).split())
            if text and len(self.errors) < MAX_ERRORS:
                self.errors.append(text[:MAX_ERROR_TEXT])
            self._error_tag = None

    def _close_select(self) -> None:
        if self._option is not None:
            self._close_option()
        sel = self._select
        assert sel is not None
        value = sel["selected"] if sel["selected"] is not None else sel["first"]
        if value is not None and self._form is not None:
            self._form.fields[sel["name"]] = value
            self._form.field_types[sel["name"]] = "select"
        self._select = None

    def _close_option(self) -> None:
        opt, sel = self._option, self._select
        self._option = None
        if opt is None or sel is None:
            return
        value = opt["value"] if opt["value"] is not None else " ".join("".join(opt["text"]).split())
        if sel["first"] is None:
            sel["first"] = value
        if opt["selected"]:
            sel["selected"] = value

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        elif not self._raw and self._text_size < MAX_SCANNED_TEXT:
            self.text.append(data[:MAX_SCANNED_TEXT - self._text_size])
            self._text_size += len(self.text[-1])
        if self._error_tag is not None:
            self._error_text.append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option["text"].append(data)


@dataclass
class Page:
    title: str
    forms: list[HtmlForm]
    errors: list[str]  # texts of the elements marked as errors
    codes: list[str] = field(default_factory=list)  # `error: CODE` and `[CODE]` in the visible text
    text: str = ""  # the visible text (no tags, scripts or styles), spaces folded; at most MAX_SCANNED_TEXT

    def error_codes(self) -> list[tuple[str, str]]:
        """(where, code): each marked error text (whole, and the codes in it), then the codes of the text."""
        out: list[tuple[str, str]] = []
        for text in self.errors:
            out.append(("page", text))
            out += [("page", c) for c in _SNAKE_CODE.findall(text) + text_codes(text) if c != text]
        out += [("page text", c) for c in self.codes]
        return _unique(out)


def text_codes(text: str) -> list[str]:
    """Error codes written in a text as ``error: CODE``, ``error=CODE`` or ``[CODE]``."""
    found = [m.group(1).rstrip(".") for m in _CODE_AFTER_ERROR.finditer(text)]
    found += _CODE_IN_BRACKETS.findall(text)
    return [c for c in dict.fromkeys(found)][:MAX_ERRORS]


def _unique(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for where, code in items:
        if code not in seen:
            seen.add(code)
            out.append((where, code))
    return out


def parse_page(page: str) -> Page:
    p = _PageParser()
    p.feed(page)
    title = " ".join("".join(p._title)[:MAX_TITLE * 4].split())[:MAX_TITLE]
    visible = " ".join(p.text)
    return Page(title, p.forms, p.errors, text_codes(visible), " ".join(visible.split()))


def looks_like_html(content_type: str, text: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = text.lstrip()[:100].lower()
    return head.startswith("<!doctype html") or head.startswith("<html")
