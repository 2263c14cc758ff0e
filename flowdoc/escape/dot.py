"""Graphviz DOT: quoted strings and ids, and the text of HTML-like labels."""

from __future__ import annotations

import re


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
