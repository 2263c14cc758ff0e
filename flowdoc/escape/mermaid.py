"""Mermaid: author text as label source (entity codes, wrapping with ``<br/>``), see
:mod:`flowdoc.escape`."""

from __future__ import annotations

import re

from .words import wrap_words

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


BR = "<br/>"


def mermaid_label(text: str, width: int = 0) -> str:
    """Author text as a Mermaid label: wrapped at ``width`` (0: only at line breaks) with ``<br/>``."""
    special = _MERMAID_RE.search(text) is not None  # (line breaks and controls included)
    if not special and (width <= 0 or len(text) <= width) and text.strip(" ") == text:
        # nothing to encode or wrap (the common case)
        return text if text.lower() not in MERMAID_RESERVED else f"#{ord(text[0])};{text[1:]}"
    if special:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = wrap_words(text, width) if width else text.split("\n")
    # a label that is exactly a keyword stays text (it always is after ':' or in quotes,
    # but encoding its first letter costs nothing and guards the bare positions)
    if special:
        out = [mermaid_text(line) for line in lines]
    else:  # only spaces at either end of a line to encode
        out = [line if line[:1] != " " and line[-1:] != " " else mermaid_text(line) for line in lines]
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
