"""Markdown (CommonMark + GFM tables, and Python-Markdown as MkDocs reads it): inline text,
headings, table cells, code spans, link destinations and links; see :mod:`flowdoc.escape`."""

from __future__ import annotations

import html as _html
import re
from urllib.parse import quote as _quote

# Two Markdown dialects read these pages: CommonMark + GFM (markdown-it, GitHub) and
# Python-Markdown, which MkDocs uses. Python-Markdown only knows backslash escapes for
# ``\\ ` * _ { } [ ] ( ) > # + - . !`` (and ``|`` with the tables extension): ``\\<`` shows
# a stray backslash there. So the characters both dialects escape with a backslash are
# backslash-escaped, and the others are written as character references, which both decode
# and which no extension reads as syntax: ``<`` ``>`` ``&`` (raw HTML, entities), ``{`` ``}``
# (attr_list's ``{: onclick=...}``, macros), ``~`` ``^`` (strike-through, sub- and superscript),
# ``|`` (table cells), and doubled ``==`` ``++`` (pymdownx.mark, keys).
# Control characters (Python-Markdown's placeholders are ``\\x02...\\x03``) are shown as
# their Unicode control pictures.

_MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "{": "&#123;", "}": "&#125;", "~": "&#126;", "|": "&#124;",
                "^": "&#94;"}
_MD_ALWAYS = re.compile(r"[\\`*\[\]<>&|~#!{}^]")
_MD_URL = re.compile(r"https?://[^\s<>\"`|\\{}]+")
_URL_TRAIL = ".,;:!?)'"
#: an ``&`` a browser would read as the start of a character reference
_ENTITY_LIKE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _control_picture(m: re.Match) -> str:
    c = ord(m.group(0))
    return "\u2421" if c == 0x7F else chr(0x2400 + c)


def visible_controls(text: str) -> str:
    """Control characters (but tab and line feed) as their Unicode pictures (``\\x02`` → ``␂``)."""
    return _CONTROL.sub(_control_picture, text) if _CONTROL.search(text) else text


# '_' only makes emphasis at a word boundary; between two letters or digits (grant_type) it is
# literal, so only the others are escaped. [^\W_] is a Unicode letter or digit.
# (the look-behind comes after the '_', which lets the search skip to each '_')
_MD_UNDERSCORE = re.compile(r"_(?:(?<![^\W_]_)|(?![^\W_]))")
#: a line with none of these needs no escape, unless it starts a block (see _md_line), holds "://" or
#: a '_' that can make emphasis
_MD_PLAIN = re.compile(r"[^\\`*\[\]<>&|~#!{}=^+\x00-\x08\x0b-\x1f\x7f]*")


_MD_ORDERED = re.compile(r"(\d{1,9})([.)])(?=\s|$)")
_MD_BULLET = re.compile(r"[-+](?=\s|$)")
_MD_RULE = re.compile(r"(?:-[ \t]*){3,}")
#: block syntax of Python-Markdown extensions at the start of a line: setext / tabbed ``===``,
#: details ``???``, blocks ``///``, definition lists ``: ``, fenced divs ``:::``
_MD_LEAD = re.compile(r"=|\?\?\?|///|:(?=[ \t:]|$)")
_BACKTICKS = re.compile(r"`+")


def _md_char(m: re.Match) -> str:
    ch = m.group(0)
    return _MD_ENTITIES.get(ch) or "\\" + ch


#: doubled characters that are inline syntax of common extensions: ``==mark==``,
#: ``++ctrl+alt++`` (pymdownx.mark, keys)
_MD_DOUBLED = re.compile(r"=(?==)|\+(?=\+)")


def _md_inline(text: str) -> str:
    text = _MD_ALWAYS.sub(_md_char, text)
    if "_" in text:
        text = _MD_UNDERSCORE.sub(r"\\_", text)
    if "==" in text or "++" in text:
        text = _MD_DOUBLED.sub(lambda m: f"&#{ord(m.group(0))};", text)
    return text


def _url_end(line: str, m: re.Match) -> int:
    """Where an autolink found by ``_MD_URL`` ends: before trailing punctuation and before an
    ``&`` that would read as a character reference."""
    url = m.group(0).rstrip(_URL_TRAIL)
    amp = _ENTITY_LIKE.search(url)
    if amp:
        url = url[: amp.start()].rstrip(_URL_TRAIL)
    return m.start() + len(url)


def _md_line(line: str, autolink: bool = True) -> str:
    if _MD_PLAIN.fullmatch(line):  # no control character, nothing inline to escape (the common case)
        if not (line[:1] in "-+=?/:" or line[:1].isdigit() or "://" in line
                or ("_" in line and _MD_UNDERSCORE.search(line))):
            return line
    elif not line.isprintable():  # (a control character is never printable: the test is cheap)
        line = visible_controls(line)
    prefix, line = _block_marker(line)
    if not autolink or "://" not in line:
        return prefix + _md_inline(line)
    out, last = [prefix], 0
    for u in _MD_URL.finditer(line):
        if u.start() < last:
            continue
        end = _url_end(line, u)
        url = line[u.start():end]
        if len(url) <= url.index("://") + 3:
            continue
        out.append(_md_inline(line[last:u.start()]))
        out.append(f"<{url}>")  # an autolink: shows the URL as written, and links it
        last = end
    out.append(_md_inline(line[last:]))
    return "".join(out)


def _block_marker(line: str) -> tuple[str, str]:
    """A block marker at the start of a line escaped ('- x', '+ x', '1. x', '1) x', '---', '===',
    ': x' ...), and the rest of the line; each marker is told by its first character."""
    first = line[:1]
    if not first:
        return "", line
    if first.isdigit():
        m = _MD_ORDERED.match(line)
        if m:
            return m.group(1) + "\\" + m.group(2), line[m.end():]
    elif first in "-+":
        if _MD_BULLET.match(line) or _MD_RULE.fullmatch(line):
            return "\\" + first, line[1:]
    elif first in "=?/:" and _MD_LEAD.match(line):
        return f"&#{ord(first)};", line[1:]
    return "", line


def md_text(text: str, autolink: bool = True) -> str:
    """Author text as inline Markdown that renders as exactly that text.

    Line breaks are kept (each line escaped on its own); leading spaces of a line
    are dropped, as Markdown would ignore (or misread) them, and so are trailing ones
    (two would make a hard line break). http(s) URLs become autolinks (same text).
    """
    text = str(text)
    if "\n" not in text and "\r" not in text:
        return _md_line(text.strip(" \t"), autolink)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_md_line(line.strip(" \t"), autolink) for line in text.split("\n"))


def md_heading(text: object) -> str:
    """Author text for a heading (one line: line breaks read as spaces)."""
    s = "" if text is None else str(text)
    return md_text(" ".join(s.split()) if ("\n" in s or "\r" in s) else s)


def md_cell(text: object) -> str:
    """Author text for a GFM table cell (one line; ``|`` escaped; line breaks as ``<br>``)."""
    if text is None:
        return ""
    s = str(text).strip()
    if "\n" not in s and "\r" not in s:
        return _md_line(s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return "<br>".join(_md_line(line.strip()) for line in s.split("\n"))


#: text a code span shows as it is between single backticks (no backtick, line break or control)
_CODE_PLAIN = re.compile(r"[^`\x00-\x1f\x7f]*")


def _code_span(text: str) -> str:
    text = str(text)
    if _CODE_PLAIN.fullmatch(text) and not (text[:1] == " " and text[-1:] == " "):
        return f"`{text}`"  # the common case
    text = visible_controls(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    if "`" not in text and not (text[:1] == " " and text[-1:] == " "):
        return f"`{text}`"
    runs = {len(r) for r in _BACKTICKS.findall(text)}
    n = 1
    while n in runs:
        n += 1
    fence = "`" * n
    # a span that starts or ends with a backtick, or is all spaces around text, needs padding
    pad = " " if (text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ") and text.strip())) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_code(text: object) -> str:
    """A code span showing ``text`` verbatim (outside tables)."""
    s = "" if text is None else str(text)
    if not s:
        return ""
    return _code_span(s)


def md_code_cell(text: object) -> str:
    """Code for a GFM table cell.

    A ``|`` splits a GFM row even inside a code span (``\\|`` does not, but Python-Markdown
    then shows the backslash), so text with a ``|`` is written as an HTML ``<code>`` element
    (its text escaped as inline Markdown, ``|`` as a character reference), which reads the
    same in both dialects.
    """
    s = "" if text is None else str(text)
    if "|" not in s:
        return _code_span(s) if s else ""  # md_code(s)
    s = visible_controls(s.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    # between inline HTML tags, text is Markdown again: escaped as inline text
    return "<code>" + _md_inline(s) + "</code>"


# ---------------------------------------------------------------------- links

#: URL schemes a link may have; anything else (javascript:, data:, vbscript:, file: ...) is
#: never written as a link. URLs without a scheme (relative, ``//host/...``) are fine.
LINK_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_STRIP = "".join(chr(c) for c in range(0x21))
_URL_SAFE = "-._~:/?#@!$&*+,;=%"


def _url_as_browsers_read_it(url: object) -> str:
    """The URL a browser follows: character references decoded, tabs and line breaks
    removed, leading and trailing spaces and control characters stripped."""
    s = _ENTITY_LIKE.sub(lambda m: _html.unescape(m.group(0)), "" if url is None else str(url))
    s = s.replace("\t", "").replace("\n", "").replace("\r", "")
    return s.strip(_URL_STRIP)


def link_problem(url: object) -> str | None:
    """Why ``url`` may not be a link target, or None when it may (http, https or relative)."""
    u = _url_as_browsers_read_it(url)
    if not u:
        return "a link needs a URL"
    m = _SCHEME.match(u)
    if m and m.group(1).lower() not in LINK_SCHEMES:
        return f"a link may be an http(s) or a relative URL, not a {m.group(1).lower()}: URL"
    return None


def _balanced(u: str, limit: int = 8) -> bool:
    """Parentheses that nest properly (both dialects then keep them in a link destination)."""
    depth = 0
    for ch in u:
        if ch == "(":
            depth += 1
            if depth > limit:
                return False
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def md_url(url: object) -> str:
    """A link destination that reads as one in every Markdown dialect and is never a script.

    Every character with a meaning in Markdown or HTML (``[ ] < > \\ " '``, parentheses
    that do not pair, spaces, controls, non-ASCII) is percent-encoded, and so is an ``&``
    that would read as a character reference. A URL with a scheme other than http(s) gets its ``:`` encoded:
    it becomes a harmless relative URL.
    """
    u = _url_as_browsers_read_it(url)
    m = _SCHEME.match(u)
    if m and m.group(1).lower() not in LINK_SCHEMES:
        u = m.group(1) + "%3A" + u[m.end():]
    u = _quote(u, safe=_URL_SAFE + "()" if _balanced(u) else _URL_SAFE)
    if "&" in u:
        u = _ENTITY_LIKE.sub(lambda e: "%26" + e.group(0)[1:], u)
    return u or "#"


def md_link(text: object, url: object) -> str:
    """``[text](url)``, or only the text (and the URL as code) when ``url`` may not be a link."""
    label = "" if text is None else " ".join(str(text).split())
    if link_problem(url) is not None:
        shown = " ".join(str(url or "").split())
        return md_text(label, autolink=False) + (f" ({md_code(shown)})" if shown and shown != label else "")
    return f"[{md_text(label or str(url), autolink=False)}]({md_url(url)})"
