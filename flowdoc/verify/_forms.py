"""HTML pages: forms (action, method, the fields a browser would submit) and error texts.

Built on the standard library's :mod:`html.parser`, which decodes entities in attribute
values and text and tolerates the markup real login pages use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_NOT_SUBMITTED = {"submit", "button", "image", "reset", "file"}


@dataclass
class HtmlForm:
    id: str | None
    action: str
    method: str  # upper case
    fields: dict[str, str] = field(default_factory=dict)
    field_types: dict[str, str] = field(default_factory=dict)

    def as_capture(self, page_url: str) -> dict:
        """The value of a ``form`` capture: action resolved against the page URL."""
        from urllib.parse import urljoin

        return {
            "id": self.id,
            "action": urljoin(page_url, self.action or page_url),
            "method": self.method,
            "fields": dict(self.fields),
            "page_url": page_url,
        }


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.errors: list[str] = []
        self.title: str = ""
        self._form: HtmlForm | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._error_depth = 0  # >0 while inside an error element
        self._error_tag: str | None = None
        self._error_text: list[str] = []
        self._in_title = False

    # ------------------------------------------------------------------ tags
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v if v is not None else "") for k, v in attrs}
        if tag == "title":
            self._in_title = True
        if self._error_tag is None and tag not in _VOID:
            classes = a.get("class", "").split()
            if a.get("id") == "error" or "error" in classes or a.get("role") == "alert":
                self._error_tag, self._error_depth, self._error_text = tag, 1, []
                return
        elif self._error_tag == tag:
            self._error_depth += 1
        if tag == "form":
            self._form = HtmlForm(a.get("id") or a.get("name") or None, a.get("action", ""),
                                  (a.get("method") or "get").upper())
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in _NOT_SUBMITTED:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields[name] = a.get("value", "on")
                    form.field_types[name] = kind
                return
            form.fields[name] = a.get("value", "")
            form.field_types[name] = kind
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": [], "selected": "selected" in a}

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._error_tag == tag:
            self._error_depth -= 1
            if self._error_depth == 0:
                text = " ".join("".join(self._error_text).split())
                if text:
                    self.errors.append(text)
                self._error_tag = None
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
            if self._option is not None:
                self._close_option()
            sel = self._select
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
            self.title += data
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
    errors: list[str]


def parse_page(html: str) -> Page:
    p = _PageParser()
    try:
        p.feed(html)
        p.close()
    except Exception:  # pragma: no cover - html.parser is lenient; keep what was read
        pass
    return Page(" ".join(p.title.split()), p.forms, p.errors)


def looks_like_html(content_type: str, text: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = text.lstrip()[:100].lower()
    return head.startswith("<!doctype html") or head.startswith("<html")
