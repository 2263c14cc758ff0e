"""A Content-Security-Policy for every HTML page of the site, as a ``<meta>`` tag.

Escaping keeps author text from becoming HTML; the policy is the second wall, for the day
something slips through: the browser runs no inline event handler (``onerror=``,
``onfocus=``), follows no ``javascript:`` URL, and runs no script but the site's own files,
the scripts the theme and ``extra_javascript`` load, and the theme's own inline scripts::

    default-src 'self'; script-src 'self' ORIGINS 'sha256-...'; style-src 'self' 'unsafe-inline' ORIGINS;
    img-src 'self' data: https:; font-src 'self' data: https:; connect-src 'self';
    object-src 'none'; base-uri 'self'; form-action 'self'

- ``ORIGINS``: the origins of the ``<script src>`` (and stylesheet) URLs the theme writes
  outside the page's content (Mermaid from a CDN, a theme's fonts);
- ``'sha256-...'``: the hash of each inline ``<script>`` the theme writes outside the page's
  content (MkDocs' ``var base_url = ...``). An inline script inside the content of a page is
  never allowed: write scripts as files and list them under ``extra_javascript``;
- inline styles stay allowed: Mermaid styles the SVG it draws with a ``<style>`` element.

:class:`CspPlugin` adds the tag to the pages of ``flowdoc build`` (and ``add_csp`` to the
MkDocs plugin's pages). The tag goes right after ``<meta charset>`` at the top of ``<head>``,
so it governs everything after it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from mkdocs.plugins import BasePlugin, event_priority

from ..escape import html_attr

__all__ = ["CspPlugin", "add_csp", "policy_for", "FIXED_DIRECTIVES"]

#: Directives that do not depend on the page.
FIXED_DIRECTIVES = [
    "img-src 'self' data: https:",
    "font-src 'self' data: https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
]

_HEAD = re.compile(r"<head\b[^>]*>", re.I)
_CHARSET = re.compile(r"<meta\s+charset\s*=\s*[\"']?[\w-]+[\"']?\s*/?>", re.I)
_HAS_CSP = re.compile(r"<meta\s+http-equiv\s*=\s*[\"']?content-security-policy", re.I)


class _Scripts(HTMLParser):
    """Inline scripts, script and stylesheet URLs of a page (outside ``content``)."""

    def __init__(self, content: str) -> None:
        super().__init__(convert_charrefs=False)
        self.content = content
        self.inline: list[str] = []
        self.script_urls: list[str] = []
        self.style_urls: list[str] = []
        self._script: list[str] | None = None

    def _outside(self) -> bool:
        tag = self.get_starttag_text() or ""
        return not (self.content and tag in self.content)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "script":
            if "src" in a:
                if self._outside():
                    self.script_urls.append(a["src"])
            else:
                self._script = []
        elif tag == "link" and "stylesheet" in a.get("rel", "").lower().split() and self._outside():
            self.style_urls.append(a.get("href", ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            text = "".join(self._script)
            self._script = None
            if not (self.content and text.strip() and text in self.content):
                self.inline.append(text)


def _origins(urls: list[str]) -> list[str]:
    out: list[str] = []
    for url in urls:
        parts = urlsplit(url.strip())
        if parts.scheme in ("http", "https") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in out and re.fullmatch(r"https?://[A-Za-z0-9.\-:\[\]]+", origin):
                out.append(origin)
    return out


def _hash(script: str) -> str:
    # the browser hashes the script's text after HTML parsing, which makes every line end \n
    text = script.replace("\r\n", "\n").replace("\r", "\n")
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _shell(html: str, content: str | None) -> str:
    """The page without its content, when the theme wrote the content once as it is: what is
    outside is what the policy is made of, and the content is most of a page (parsing it made the
    policy cost more than rendering the page)."""
    if content and len(content) > 256:
        at = html.find(content)
        if at >= 0 and html.find(content, at + 1) < 0:
            return html[:at] + html[at + len(content):]
    return html


def policy_for(html: str, content: str | None = None) -> str:
    """The policy of one page: its theme's scripts allowed, nothing inline in ``content``."""
    found = _Scripts(content or "")
    found.feed(_shell(html, content))
    found.close()
    scripts = ["'self'", *_origins(found.script_urls)]
    for text in found.inline:
        h = _hash(text)
        if h not in scripts:
            scripts.append(h)
    styles = ["'self'", "'unsafe-inline'", *_origins(found.style_urls)]
    return "; ".join(
        ["default-src 'self'", "script-src " + " ".join(scripts), "style-src " + " ".join(styles), *FIXED_DIRECTIVES]
    )


def add_csp(html: str, content: str | None = None) -> str:
    """``html`` with the policy's ``<meta http-equiv="Content-Security-Policy">`` at the top of
    ``<head>`` (after ``<meta charset>``). A page that has a policy already, or no ``<head>``, is
    returned as it is."""
    head = _HEAD.search(html)
    if head is None or _HAS_CSP.search(html):
        return html
    tag = f'<meta http-equiv="Content-Security-Policy" content="{html_attr(policy_for(html, content))}">'
    where = head.end()
    charset = _CHARSET.search(html, head.end(), head.end() + 1024)
    if charset is not None:
        where = charset.end()
    return html[:where] + "\n        " + tag + html[where:]


class CspPlugin(BasePlugin):
    """Adds the policy to every page and HTML template MkDocs writes (``flowdoc build``)."""

    @event_priority(-100)  # last: the policy hashes the page's final inline scripts
    def on_post_page(self, output: str, /, *, page, config) -> str:
        return add_csp(output, getattr(page, "content", None))

    @event_priority(-100)
    def on_post_template(self, output_content: str, /, *, template_name: str, config) -> str:
        return add_csp(output_content) if template_name.endswith(".html") else output_content
