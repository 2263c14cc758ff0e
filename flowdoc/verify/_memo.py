"""A memo of answers that verify works out again and again (the same URLs, challenges, templates,
header blocks in every scenario of a run), bounded whatever a server sends: at most ``entries``
answers, emptied when full. What may be kept (only short keys, never a server's long text) is the
caller's test, made before :meth:`Memo.keep`."""

from __future__ import annotations

from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    def __init__(self, entries: int):
        self._kept: dict[K, V] = {}
        self._entries = entries

    def get(self, key: K) -> V | None:
        return self._kept.get(key)

    def __contains__(self, key: K) -> bool:
        return key in self._kept

    def keep(self, key: K, value: V) -> V:
        """Keep ``value`` for ``key`` (all that is kept goes first when the memo is full); returns it."""
        if len(self._kept) >= self._entries:
            self._kept.clear()
        self._kept[key] = value
        return value
