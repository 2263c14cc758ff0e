"""Every escaping rule of flowdoc's outputs, in one place.

Author text (titles, guards, notes, parameter values, ids) must reach the reader
exactly as written, whatever it holds. Each output language has its own rules:

Mermaid
    Text goes through :func:`mermaid_text`: the characters Mermaid's grammars
    treat as syntax are written as Mermaid entity codes (``#59;`` for ``;``,
    ``#35;`` for ``#``, ``#lt;`` for ``<`` ...), which Mermaid decodes when it
    draws. ``#`` starts a comment in a sequence message and silently drops the
    rest, ``;`` ends a statement, ``%%`` starts a comment, ``:`` splits
    messages and notes, ``"`` ends a quoted label, ``{}``/``[]``/``|`` are
    shape and edge delimiters. Leading and trailing spaces (which Mermaid
    trims) and control characters are encoded too. Very long labels are
    wrapped at spaces with ``<br/>`` (:func:`mermaid_label`). Ids are never
    author text: :class:`IdMap` maps each author id to a generated safe id
    (``[A-Za-z][A-Za-z0-9_]*``, prefixed, so never a Mermaid keyword).

Markdown (CommonMark + GFM tables)
    :func:`md_text` backslash-escapes inline syntax and block markers at the
    start of a line; :func:`md_cell` also escapes ``|`` and turns line breaks
    into ``<br>``; :func:`md_code` / :func:`md_code_cell` make a code span
    whatever backticks the text holds; :func:`md_url` makes a link
    destination.

HTML
    :func:`html_text` and :func:`html_attr`.

Graphviz DOT
    :func:`dot_id` / :func:`dot_string` for quoted strings (``\\`` and ``"``),
    :func:`dot_html` for the content of HTML-like labels ``<...>``.
"""

from __future__ import annotations

import html as _html
import re
from typing import Iterable
from urllib.parse import quote as _quote

__all__ = [
    "MERMAID_RESERVED",
    "IdMap",
    "wrap_words",
    "mermaid_text",
    "mermaid_label",
    "unwrap",
    "md_text",
    "md_cell",
    "md_code",
    "md_code_cell",
    "md_url",
    "md_link",
    "md_heading",
    "link_problem",
    "visible_controls",
    "html_text",
    "html_attr",
    "dot_id",
    "dot_string",
    "dot_html",
]

# ------------------------------------------------------------------- Mermaid

#: Words with a meaning in Mermaid's sequence, state or flowchart grammars (case-insensitive).
#: Generated ids carry a prefix, so they never equal one of these; the list is also used
#: to keep a bare label from being read as a keyword.
MERMAID_RESERVED = frozenset(
    w.lower()
    for w in """
    end alt else opt loop par and rect critical option break note over left right of
    participant actor as autonumber activate deactivate title box link links properties
    details create destroy state direction classdef class style click call callback href
    subgraph graph flowchart default interpolate linkstyle accTitle accDescr
    stateDiagram stateDiagram-v2 sequenceDiagram TB TD BT RL LR fork join choice
    """.split()
)

#: Characters written as Mermaid entity codes in every label. Mermaid decodes
#: ``#name;`` and ``#number;`` itself (see /work/shared/notes/mermaid.md).
_MERMAID_ENTITIES = {
    ";": "#59;",
    "#": "#35;",
    ":": "#58;",
    "<": "#lt;",
    ">": "#gt;",
    '"': "#quot;",
    "%": "#37;",
    "&": "#38;",
    "{": "#123;",
    "}": "#125;",
    "[": "#91;",
    "]": "#93;",
    "|": "#124;",
    "`": "#96;",
    "\\": "#92;",
}
_MERMAID_RE = re.compile(r"[;#:<>\"%&{}\[\]|`\\\x00-\x1f\x7f]")


def _mermaid_char(m: re.Match) -> str:
    ch = m.group(0)
    return _MERMAID_ENTITIES.get(ch) or f"#{ord(ch)};"


def mermaid_text(text: str) -> str:
    """One line of author text as Mermaid label source (no line breaks added)."""
    out = _MERMAID_RE.sub(_mermaid_char, text)
    # Mermaid trims labels: keep author spaces at either end.
    if out[:1] == " ":
        stripped = out.lstrip(" ")
        out = "#32;" * (len(out) - len(stripped)) + stripped
    if out[-1:] == " ":
        stripped = out.rstrip(" ")
        out = stripped + "#32;" * (len(out) - len(stripped))
    return out


def wrap_words(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` characters, breaking only at single spaces.

    ``" ".join(lines) == text`` for text without line breaks (line breaks in the text
    always break), so a reader of the wrapped label sees every character; a word
    longer than ``width`` keeps its own line.
    """
    if "\n" not in text and (width <= 0 or len(text) <= width):
        return [text]
    lines: list[str] = []
    for para in text.split("\n"):
        words = para.split(" ")
        cur: list[str] = []
        length = 0
        for w in words:
            add = len(w) + (1 if cur else 0)
            if cur and width > 0 and length + add > width and any(cur):
                lines.append(" ".join(cur))
                cur, length = [w], len(w)
            else:
                cur.append(w)
                length += add
        lines.append(" ".join(cur))
    return lines


BR = "<br/>"


def mermaid_label(text: str, width: int = 0) -> str:
    """Author text as a Mermaid label: wrapped at ``width`` (0: only at line breaks) with ``<br/>``."""
    if (width <= 0 or len(text) <= width) and not _MERMAID_RE.search(text) and text.strip(" ") == text:
        # nothing to encode or wrap (the common case)
        return text if text.lower() not in MERMAID_RESERVED else f"#{ord(text[0])};{text[1:]}"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = wrap_words(text, width) if width else text.split("\n")
    # a label that is exactly a keyword stays text (it always is after ':' or in quotes,
    # but encoding its first letter costs nothing and guards the bare positions)
    out = [mermaid_text(line) for line in lines]
    if len(out) == 1 and out[0].lower() in MERMAID_RESERVED:
        out[0] = f"#{ord(out[0][0])};{out[0][1:]}"
    return BR.join(out)


_BR_ANY = re.compile(r"<br\s*/?>", re.I)


def unwrap(label: str) -> str:
    """What wrapping added, removed again: line breaks back to a space (for comparisons).

    Mermaid keeps ``<br/>`` in sequence labels and normalises it to ``<br>`` in state and
    flowchart labels; both count.
    """
    return _BR_ANY.sub(" ", label).replace("\n", " ")


_ID_CHARS = re.compile(r"[^A-Za-z0-9_]+")


class IdMap:
    """Generated, safe ids for author ids: stable, unique, never a keyword.

    >>> ids = IdMap("s")
    >>> ids["mfa-pending"], ids["end"], ids["mfa_pending"]
    ('s_mfa_pending', 's_end', 's_mfa_pending_2')
    """

    def __init__(self, prefix: str, max_len: int = 40):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", prefix):
            raise ValueError(f"bad id prefix {prefix!r}")
        self.prefix = prefix
        self.max_len = max_len
        self._ids: dict[str, str] = {}
        self._used: set[str] = set()

    def __getitem__(self, key: str) -> str:
        got = self._ids.get(key)
        if got is None:
            got = self._ids[key] = self._make(key)
        return got

    def _make(self, hint: str) -> str:
        base = _ID_CHARS.sub("_", hint.encode("ascii", "ignore").decode()).strip("_")[: self.max_len]
        cand = f"{self.prefix}_{base}" if base else f"{self.prefix}_{len(self._used) + 1}"
        unique, n = cand, 1
        while unique.lower() in self._used:
            n += 1
            unique = f"{cand}_{n}"
        self._used.add(unique.lower())
        return unique

    def fresh(self, hint: str = "") -> str:
        """A new id nobody asked for by key (choice points, helper nodes)."""
        return self._make(hint)

    def items(self) -> Iterable[tuple[str, str]]:
        return self._ids.items()


# ------------------------------------------------------------------ Markdown
#
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
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_MD_PLAIN = re.compile(r"[^\\`*\[\]<>&|~#!_:{}=^+\x00-\x08\x0b-\x1f\x7f]*")


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
    text = _MD_UNDERSCORE.sub(r"\\_", _MD_ALWAYS.sub(_md_char, text))
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
    line = visible_controls(line)
    if _MD_PLAIN.fullmatch(line) and not (line[:1] in "-+=?/" or line[:1].isdigit()):
        return line  # nothing to escape (the common case)
    # block markers at the start of a line: '- x', '+ x', '1. x', '1) x', '---', '===', ': x' ...
    prefix = ""
    m = _MD_ORDERED.match(line)
    if m:
        prefix, line = m.group(1) + "\\" + m.group(2), line[m.end():]
    elif _MD_BULLET.match(line) or _MD_RULE.fullmatch(line):
        prefix, line = "\\" + line[0], line[1:]
    elif _MD_LEAD.match(line):
        prefix, line = f"&#{ord(line[0])};", line[1:]
    if not autolink:
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


def md_text(text: str, autolink: bool = True) -> str:
    """Author text as inline Markdown that renders as exactly that text.

    Line breaks are kept (each line escaped on its own); leading spaces of a line
    are dropped, as Markdown would ignore (or misread) them, and so are trailing ones
    (two would make a hard line break). http(s) URLs become autolinks (same text).
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
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


def _code_span(text: str) -> str:
    text = visible_controls(str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
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
        return md_code(s)
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


# ---------------------------------------------------------------------- HTML


def html_text(text: object) -> str:
    """Text content of an HTML element."""
    return _html.escape("" if text is None else str(text), quote=False)


def html_attr(text: object) -> str:
    """A double-quoted HTML attribute value."""
    return _html.escape("" if text is None else str(text), quote=True)


# ----------------------------------------------------------------------- DOT


def dot_string(text: object) -> str:
    """A DOT double-quoted string showing ``text`` literally.

    Backslashes are doubled (so ``\\n``, ``\\N``, ``\\G`` in author text are not DOT
    escapes), ``&`` is written ``&amp;`` (Graphviz decodes entities in every label);
    line breaks become ``\\n`` (centred lines).
    """
    s = "" if text is None else str(text)
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{s}"'


def dot_id(text: str) -> str:
    """A DOT id: always quoted, so keywords (node, edge, graph, strict) and any text are safe."""
    return dot_string(text)


def dot_html(text: object) -> str:
    """Text inside a Graphviz HTML-like label (``label=<...>``)."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    s = s.replace("]", "&#93;").replace("[", "&#91;")
    # control characters are not allowed in the XML Graphviz parses
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", s)
