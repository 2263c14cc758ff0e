"""How the diff engine records changes and compares the parts of two versions of a flow.

:class:`Recorder` collects :class:`~flowdoc.diff.changes.Change` objects (by kind id) and
compares attributes and prose; :func:`pairs` matches the parts of two versions by key.
Values are compared as they go over the wire (:func:`same`), prose with runs of white space
folded (:func:`ws`).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from . import changes as C

__all__ = ["Recorder", "duration", "labelled", "norm", "only", "pairs", "same", "sentence_key", "ws"]


class Recorder:
    """The changes found so far, and the comparisons every part of a flow uses."""

    def __init__(self) -> None:
        self.changes: list[C.Change] = []

    def add(self, kind: str, path: tuple, subject: str = "the flow", old: Any = None, new: Any = None,
            **ctx: Any) -> None:
        """Record a change of the kind ``kind`` (an id of :data:`~flowdoc.diff.changes.CHANGE_KINDS`)."""
        self.changes.append(C.change(kind, path, subject, old, new, **ctx))

    def changed(self, kind: str, path: tuple, subject: str, a: Any, b: Any, fld: str, **ctx: Any) -> None:
        """The attribute ``fld`` of ``a`` and ``b``, compared as it is; the change's path ends in ``fld``."""
        x, y = getattr(a, fld), getattr(b, fld)
        if x != y:
            self.add(kind, path + (fld,), subject, x, y, **ctx)

    def options(self, kind: str, path: tuple, subject: str, a: Any, b: Any, fields: Iterable[str] | dict[str, str],
                **ctx: Any) -> None:
        """Several attributes, each a change of ``kind`` saying ``what`` changed (its label, or its name)."""
        for fld, what in labelled(fields):
            self.changed(kind, path, subject, a, b, fld, **ctx, what=what)

    def text(self, path: tuple, subject: str, what: str, a: str | None, b: str | None) -> None:
        """Prose: compared with runs of white space folded (re-wrapping a paragraph is no change)."""
        if ws(a) == ws(b):
            return
        verb = "was added" if a is None else "was removed" if b is None else "changed"
        self.add("text-changed", path, subject, a, b, what=what, verb=verb)

    def texts(self, path: tuple, subject: str, a: Any, b: Any, fields: Iterable[str] | dict[str, str]) -> None:
        """Prose attributes of ``a`` and ``b``, each named by its label (or its name)."""
        for fld, what in labelled(fields):
            self.text(path + (fld,), subject, what, getattr(a, fld), getattr(b, fld))


def norm(v: Any) -> Any:
    """Parameter values as they go over the wire: 1, 1.0 and "1" are the same; so are true and "true"."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    return v


def same(a: Any, b: Any) -> bool:
    """The same value on the wire (see :func:`norm`)."""
    return norm(a) == norm(b)


def ws(text: str | None) -> str | None:
    """Prose with runs of white space folded."""
    return " ".join(text.split()) if isinstance(text, str) else text


def sentence_key(text: str) -> str:
    """A sentence by its words: white space folded, lower case."""
    return " ".join(text.split()).lower()


def duration(seconds: int | None) -> str:
    """Seconds as the format writes them: 90s, 15m, 1h, 1h30m, 14d."""
    if seconds is None:
        return "none"
    if seconds == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, seconds = divmod(seconds, size)
        if n:
            out += f"{n}{unit}"
    return out


def only(a: dict, b: dict) -> list:
    """Keys of ``a`` that ``b`` lacks, in ``a``'s order."""
    return [k for k in a if k not in b]


def pairs(a: dict, b: dict) -> Iterator[tuple[Any, Any, Any]]:
    """Parts of two versions matched by key (the values are never None): first the removed ones,
    ``(key, old, None)`` in ``a``'s order, then every part of ``b``, ``(key, old or None, new)``, in its order."""
    for k in only(a, b):
        yield k, a[k], None
    for k, v in b.items():
        yield k, a.get(k), v


def labelled(fields: Iterable[str] | dict[str, str]) -> Iterable[tuple[str, str]]:
    """(attribute, label) pairs: a dict's items, or each name as its own label."""
    return fields.items() if isinstance(fields, dict) else ((f, f) for f in fields)
