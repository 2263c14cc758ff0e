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

_MD_ALWAYS = re.compile(r"[\\`*\[\]<>&|~#!]")
_MD_URL = re.compile(r"https?://[^\s<>\"`|\\]+")
_URL_TRAIL = ".,;:!?)'"


# '_' only makes emphasis at a word boundary; between two letters or digits (grant_type) it is
# literal, so only the others are escaped. [^\W_] is a Unicode letter or digit.
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_MD_PLAIN = re.compile(r"[^\\`*\[\]<>&|~#!_:]*")


_MD_ORDERED = re.compile(r"(\d{1,9})([.)])(?=\s|$)")
_MD_BULLET = re.compile(r"[-+](?=\s|$)")
_MD_RULE = re.compile(r"(?:-[ \t]*){3,}|=+[ \t]*")
_BACKTICKS = re.compile(r"`+")


def _md_underscores(text: str) -> str:
    return _MD_UNDERSCORE.sub(r"\\_", text)


def _md_inline(text: str) -> str:
    return _md_underscores(_MD_ALWAYS.sub(lambda m: "\\" + m.group(0), text))


def _md_line(line: str, autolink: bool = True) -> str:
    if _MD_PLAIN.fullmatch(line) and not (line[:1] in "-+=" or line[:1].isdigit()):
        return line  # nothing to escape (the common case)
    # block markers at the start of a line: '- x', '+ x', '1. x', '1) x', '> x', '---', '==='
    prefix = ""
    m = _MD_ORDERED.match(line)
    if m:
        prefix, line = m.group(1) + "\\" + m.group(2), line[m.end():]
    elif _MD_BULLET.match(line) or _MD_RULE.fullmatch(line):
        prefix, line = "\\" + line[0], line[1:]
    if not autolink:
        return prefix + _md_inline(line)
    out, last = [prefix], 0
    for u in _MD_URL.finditer(line):
        url = u.group(0).rstrip(_URL_TRAIL)
        if len(url) <= len(u.group(0).split("://", 1)[0]) + 3:
            continue
        out.append(_md_inline(line[last:u.start()]))
        out.append(f"<{url}>")  # an autolink: shows the URL as written, and links it
        last = u.start() + len(url)
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
    text = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if "`" not in text and not (text[:1] == " " and text[-1:] == " "):
        return f"`{text}`"
    runs = [len(r) for r in _BACKTICKS.findall(text)]
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
    """A code span for a GFM table cell: ``|`` is escaped (GFM unescapes it inside the span)."""
    s = md_code(text)
    return s.replace("|", "\\|")


def md_url(url: str) -> str:
    """A link destination: ``<...>`` form when needed, with ``<``, ``>`` and spaces percent-encoded."""
    u = str(url).strip().replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    u = u.replace("\n", "%0A").replace("\r", "%0D")
    if re.search(r"[()\\]", u):
        return "<" + u.replace("\\", "%5C") + ">"
    return u


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
