"""Semantic changelogs: what changed between two versions of a flow, and how much it matters.

::

    from flowdoc.diff import diff_flows, required_bump
    changes = diff_flows(old_flow, new_flow)      # list[Change], document order
    for c in changes:
        print(c.id, c.level, c.message, c.path)   # e.g. ttl-shortened warning ...
    required_bump(changes)                        # "major" | "minor" | "patch" | None

Every kind of change is a row (:class:`ChangeKind`) of the table in
:mod:`flowdoc.diff.changes`, with a stable ``id``, a ``level`` (breaking / warning /
info, for a client built from the old page) and why it has that level;
:data:`CHANGE_KINDS` lists them by id. The engine (:mod:`.engine`, :mod:`.exchange`)
compares two versions part by part. Versions of one flow (files side by side, or git
history) are in :mod:`flowdoc.diff.versions`.
"""

from __future__ import annotations

from typing import Iterable

from .changes import BUMP_RANK, CHANGE_KINDS, LEVEL_RANK, LEVELS, Bump, Change, ChangeKind, Level
from .engine import diff_flows
from .locate import position, yaml_path

__all__ = [
    "CHANGE_KINDS",
    "LEVELS",
    "Bump",
    "Change",
    "ChangeKind",
    "Level",
    "diff_flows",
    "highest_level",
    "position",
    "required_bump",
    "yaml_path",
]


def required_bump(changes: Iterable[Change]) -> Bump | None:
    """The smallest version bump that covers the changes: a breaking change needs ``"major"``, a warning or
    an addition ``"minor"``, anything else ``"patch"``; ``None`` when there is no change."""
    best: Bump | None = None
    for c in changes:
        if best is None or BUMP_RANK[c.bump] > BUMP_RANK[best]:
            best = c.bump
    return best


def highest_level(changes: Iterable[Change]) -> Level | None:
    """The most severe level among the changes, or ``None``."""
    best: Level | None = None
    for c in changes:
        if best is None or LEVEL_RANK[c.level] > LEVEL_RANK[best]:
            best = c.level
    return best
