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
