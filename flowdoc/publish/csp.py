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
import html as _html
import hashlib
import re
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

#: the <head> start tag (found once: a "<head" the page never closes ends the search)
_HEAD = re.compile(r"<head\b[^>]*+(?:>|\Z)", re.I)
_CHARSET = re.compile(r"<meta\s+charset\s*=\s*[\"']?[\w-]+[\"']?\s*/?>", re.I)
_HAS_CSP = re.compile(r"<meta\s+http-equiv\s*=\s*[\"']?content-security-policy", re.I)

# ------------------------------------------------------------------ the scanner
#
# The policy needs the page's <script> elements (their src, or their text) and its stylesheet
# <link>s, found as a browser's HTML tokenizer finds them: not inside a comment, an attribute
# value, or the text of an element whose content is text (title, textarea, style, noscript ...).
# One regular expression walks the page from a position to the next <script or <link start
# tag, stepping over everything else token by token: text, comments, bogus comments
# (<!DOCTYPE>, <?x>, <![CDATA[ in HTML content), end tags, other start tags with their
# attributes (a quoted value may hold '<' and '>'), and the whole content of the text-only
# elements. Each alternative consumes at least one character and cannot backtrack (possessive
# quantifiers; lazy scans that stop at the end of the page), so the scan is linear in the page.

_WS = r"\t\n\f\r "
#: the attributes of a tag, as the tokenizer reads them (a name may start with '='; a value is
#: "...", '...' or unquoted up to a space or '>'; an unclosed quote runs to the end of the page)
_ATTRS = (
    rf"(?:[{_WS}/]++|[^{_WS}/>][^{_WS}/=>]*+"
    rf"(?:[{_WS}]*+=[{_WS}]*+(?:\"[^\"]*+(?:\"|\Z)|'[^']*+(?:'|\Z)|[^{_WS}>]*+))?+)*+"
)
_END = rf"(?=[{_WS}/>]|\Z)"
#: elements whose content is text up to their end tag (raw text and RCDATA; noscript as a
#: browser that runs scripts reads it)
_TEXT_ONLY = ("style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript")
_SKIP = (
    r"(?:[^<]++"
    r"|<!--(?:>|->|.*?(?:--!?>|\Z))"  # comment (also <!--> and <!--->)
    rf"|<(?:!|\?|/(?![A-Za-z>]))[^>]*+(?:>|\Z)"  # bogus comment
    r"|</>"
    rf"|</[A-Za-z]{_ATTRS}(?:>|\Z)"  # end tag
    rf"|<plaintext{_END}.*"  # the rest of the page is text
    # a text-only element: its start tag and its text (no group: one per name)
    + "".join(rf"|<{name}{_END}{_ATTRS}(?:>|\Z).*?(?=</{name}{_END}|\Z)" for name in _TEXT_ONLY)
    + rf"|<(?!(?:script|link){_END})[A-Za-z][^{_WS}/>]*+{_ATTRS}(?:>|\Z)"  # any other start tag
    r"|<(?![A-Za-z!?/]))*+"  # a '<' that starts no tag
)
#: from a position: past everything else, to the next <script> or <link> start tag (groups 1, 2)
#: or to the end of the page (a tag the page ends in is no tag)
_NEXT = re.compile(rf"{_SKIP}(?:<(script|link){_END}({_ATTRS})>|\Z)", re.I | re.S)
#: a script's text: up to the first "</script" followed by a space, '/' or '>' (found once: when
#: there is none, the script runs to the end of the page and never runs)
_SCRIPT_TEXT = re.compile(rf".*?(?=</script[{_WS}/>])", re.I | re.S)
#: the end tag of a script (a tag cut by the end of the page is none: the script never runs)
_SCRIPT_END = re.compile(rf"</script{_ATTRS}>", re.I)
_ATTR = re.compile(
    rf"([^{_WS}/>][^{_WS}/=>]*+)(?:[{_WS}]*+=[{_WS}]*+(?:\"([^\"]*+)\"?|'([^']*+)'?|([^{_WS}>]*+)))?+", re.S
)


def _attributes(text: str) -> dict[str, str]:
    """A tag's attributes, names lower-cased, values decoded; the first of a name wins."""
    out: dict[str, str] = {}
    for m in _ATTR.finditer(text):
        name = m.group(1).lower()
        if name not in out:
            value = next((v for v in m.group(2, 3, 4) if v is not None), "")
            out[name] = _html.unescape(value)
    return out


class _Found:
    """The inline scripts, script URLs and stylesheet URLs of a page (outside ``content``)."""

    def __init__(self, content: str) -> None:
        self.content = content
        self.inline: list[str] = []
        self.script_urls: list[str] = []
        self.style_urls: list[str] = []

    def _outside(self, text: str) -> bool:
        return not (self.content and text in self.content)

    def scan(self, page: str) -> "_Found":
        pos, n = 0, len(page)
        while pos < n:
            m = _NEXT.match(page, pos)
            if m is None or m.group(1) is None:  # the end of the page
                break
            pos = m.end()
            tag, attrs = m.group(1).lower(), _attributes(m.group(2))
            start_tag = page[m.start(1) - 1:pos]
            if tag == "link":
                href = attrs.get("href", "")
                if "stylesheet" in attrs.get("rel", "").lower().split() and _origins([href]) and self._outside(start_tag):
                    self.style_urls.append(href)
                continue
            body = _SCRIPT_TEXT.match(page, pos)
            end = _SCRIPT_END.match(page, body.end()) if body is not None else None
            if body is None or end is None:  # the page ends inside the script, which never runs
                break
            pos = end.end()
            if "src" in attrs:  # only an origin goes into the policy (a path is 'self')
                if _origins([attrs["src"]]) and self._outside(start_tag):
                    self.script_urls.append(attrs["src"])
                continue
            text = body.group(0)
            if not (self.content and text.strip() and text in self.content):
                self.inline.append(text)
        return self


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


def _shell(page: str, content: str | None) -> str:
    """The page without its content, when the theme wrote the content once as it is: what is
    outside is what the policy is made of, and the content is most of a page (scanning it made the
    policy cost more than rendering the page)."""
    if content and len(content) > 256:
        at = page.find(content)
        if at >= 0 and page.find(content, at + 1) < 0:
            return page[:at] + page[at + len(content):]
    return page


def _policy(shell: str, content: str | None) -> str:
    found = _Found(content or "").scan(shell)
    scripts = ["'self'", *_origins(found.script_urls)]
    for text in found.inline:
        h = _hash(text)
        if h not in scripts:
            scripts.append(h)
    styles = ["'self'", "'unsafe-inline'", *_origins(found.style_urls)]
    return "; ".join(
        ["default-src 'self'", "script-src " + " ".join(scripts), "style-src " + " ".join(styles), *FIXED_DIRECTIVES]
    )


def policy_for(page: str, content: str | None = None) -> str:
    """The policy of one page: its theme's scripts allowed, nothing inline in ``content``."""
    return _policy(_shell(page, content), content)


def add_csp(page: str, content: str | None = None) -> str:
    """``page`` with the policy's ``<meta http-equiv="Content-Security-Policy">`` at the top of
    ``<head>`` (after ``<meta charset>``). A page that has a policy already (in what the theme
    wrote: a ``<meta>`` inside the content is no policy, and keeps no policy out), or no
    ``<head>``, is returned as it is."""
    head = _HEAD.search(page)
    if head is None or not head.group().endswith(">"):
        return page
    shell = _shell(page, content)
    if _HAS_CSP.search(shell):
        return page
    tag = f'<meta http-equiv="Content-Security-Policy" content="{html_attr(_policy(shell, content))}">'
    where = head.end()
    charset = _CHARSET.search(page, head.end(), head.end() + 1024)
    if charset is not None:
        where = charset.end()
    return page[:where] + "\n        " + tag + page[where:]


class CspPlugin(BasePlugin):
    """Adds the policy to every page and HTML template MkDocs writes (``flowdoc build``)."""

    @event_priority(-100)  # last: the policy hashes the page's final inline scripts
    def on_post_page(self, output: str, /, *, page, config) -> str:
        return add_csp(output, getattr(page, "content", None))

    @event_priority(-100)
    def on_post_template(self, output_content: str, /, *, template_name: str, config) -> str:
        return add_csp(output_content) if template_name.endswith(".html") else output_content
