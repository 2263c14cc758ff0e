"""Every escaping rule of flowdoc's outputs, in one package: one module per output language
(:mod:`.mermaid`, :mod:`.markdown`, :mod:`.html`, :mod:`.dot`, and :mod:`.words` for what the
diagram languages share); import them from here.

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

from .dot import dot_html, dot_id, dot_string
from .html import html_attr, html_text
from .markdown import (
    link_problem,
    md_cell,
    md_code,
    md_code_cell,
    md_heading,
    md_link,
    md_text,
    md_url,
    visible_controls,
)
from .mermaid import MERMAID_RESERVED, mermaid_label, mermaid_text, unwrap
from .words import IdMap, wrap_words

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
