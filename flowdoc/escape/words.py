"""Escaping helpers shared by the diagram languages: word wrapping that keeps every character,
and generated ids for author ids."""

from __future__ import annotations

import re
from typing import Iterable


def wrap_words(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` characters, breaking only at single spaces.

    ``" ".join(lines) == text`` for text without line breaks (line breaks in the text
    always break), so a reader of the wrapped label sees every character; a word
    longer than ``width`` keeps its own line.
    """
    if "\n" not in text and (width <= 0 or len(text) <= width):
        return [text]
    if width <= 0:
        return text.split("\n")
    lines: list[str] = []
    for para in text.split("\n"):
        _wrap_paragraph(para, width, lines)
    return lines


def _wrap_paragraph(para: str, width: int, lines: list[str]) -> None:
    """The lines of one paragraph, greedily: each ends at the last space that keeps it within
    ``width``, unless it holds only spaces up to there (a line needs a word before it may break);
    a line with no such space runs to the end of its first word. Linear: each line is found by one
    search back within ``width`` (no character is searched more than twice) and at most one
    search forward."""
    start, end = 0, len(para)
    while end - start > width:
        cut = para.rfind(" ", start, start + width + 1)
        if cut == -1 or not para[start:cut].strip(" "):
            word = _WORD.search(para, start)  # the line runs to the end of its first word
            cut = para.find(" ", word.end()) if word else -1
            if cut == -1:
                break
        lines.append(para[start:cut])
        start = cut + 1
    lines.append(para[start:])


_WORD = re.compile(r"[^ ]+")


_ID_CHARS = re.compile(r"[^A-Za-z0-9_]+")
#: ASCII letters and digits in runs joined by single '-', '_', ':' or '.': ``_ID_CHARS`` makes each
#: joiner one '_' and there is nothing to strip
_ID_SIMPLE = re.compile(r"[A-Za-z0-9]+(?:[-_:.][A-Za-z0-9]+)*")


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
        if len(hint) <= self.max_len and _ID_SIMPLE.fullmatch(hint):  # the common case, same base
            base = hint.replace("-", "_").replace(":", "_").replace(".", "_")
        else:
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
