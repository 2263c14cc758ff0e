"""Text from a server or a flow, made safe for a terminal and for XML.

A response body may hold ANSI escape sequences (clear the screen, rewrite the line, set the
window title), NUL, carriage returns, Unicode direction overrides. :func:`visible` writes every
such character as a visible escape (``\\x1b``, ``\\x00``, ``\\u202e``), so what a reader sees in
the terminal or in a CI log is exactly what the server sent, and nothing the server sent acts on
the terminal. The same form keeps JUnit XML well-formed: every character XML 1.0 forbids
(C0 controls but tab and line feed, lone surrogates, U+FFFE, U+FFFF) is among them.
"""

from __future__ import annotations

import re
from typing import Callable

# C0 controls but tab and line feed, DEL, C1 controls (0x9b is a one-byte CSI), line and paragraph
# separators, direction marks, embeddings, overrides and isolates, BOM, interlinear annotation,
# non-characters U+FFFE/U+FFFF, lone surrogates
_UNSAFE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
    "\ufff9-\ufffb\ufffe\uffff\ud800-\udfff"
)
_MULTI = re.compile(f"[{_UNSAFE}]")
_SINGLE = re.compile(f"[\t\n{_UNSAFE}]")


def _code(m: re.Match) -> str:
    o = ord(m.group())
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with control and direction characters written as visible escapes; line feeds are
    kept when ``multiline`` (an excerpt), escaped otherwise (a table cell, a message)."""
    pattern = _MULTI if multiline else _SINGLE
    return pattern.sub(_code, text) if pattern.search(text) else text


def cleaner(redact: Callable[[str], str]) -> Callable[..., str]:
    """``clean(text, multiline=False)``: redacted first (a secret is found as it was sent), then made visible."""

    def clean(text: object, multiline: bool = False) -> str:
        return visible(redact(str(text)), multiline=multiline)

    return clean


def cached_cleaner(redact: Callable[[str], str]) -> Callable[..., str]:
    """:func:`cleaner` for one report, made at once: a text met again (a scenario name, a kind, a flow's
    key in each of its rows) is cleaned once (no secret is registered while the report is made)."""
    clean = cleaner(redact)
    done: dict[tuple[str, bool], str] = {}

    def cached(text: object, multiline: bool = False) -> str:
        key = (str(text), multiline)
        out = done.get(key)
        if out is None:
            out = done[key] = clean(key[0], multiline)
        return out

    return cached
