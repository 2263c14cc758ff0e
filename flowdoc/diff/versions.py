"""Versions of one flow, and the changelog a page shows for them.

Versions come from two places (see docs/versions.md):

* files side by side: several files in the flows folder with the same ``id`` and different ``version``
  (``flows/ID.yaml`` the current one, ``flows/ID.vMAJOR[.MINOR].yaml`` older ones);
* git history: the flow file as it stood at tags or commits (:func:`versions_from_git`).

:func:`flow_history` groups flows by id, oldest first; :func:`changelog_entries` merges the authors'
changelog notes with the generated changes between consecutive versions, newest first.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Iterable

from ..model.flow import Flow
from ..model.version import Version
from .engine import diff_flows
from ..catalog import FlowSet

__all__ = ["flow_history", "changelog_entries", "versions_from_git"]

def flow_history(flows: Iterable[Flow]) -> dict[str, list[Flow]]:
    """Flows grouped by id, each group sorted oldest → newest by version (SemVer precedence)."""
    return FlowSet.from_flows(flows).by_id


def changelog_entries(history: Iterable[Flow]) -> list[dict[str, Any]]:
    """The changelog of one flow id, newest first.

    Each entry: ``{"version": str, "date": date | None, "notes": [str], "changes": [{"id", "level",
    "message"}], "since": str | None}`` (``since``: the version the changes are counted from). ``notes`` are the authors' (from the changelog of the file of that version, else of the
    newest file that has an entry for it); ``changes`` are generated between that version's file and the
    previous version's file (empty for the oldest file and for versions known only from changelog notes).
    """
    flows = sorted(history, key=lambda f: Version.key(f.version))
    by_version: dict[str, Flow] = {}
    for f in flows:
        if f.version is not None:
            by_version[f.version] = f  # a repeated version: the last one wins
    notes: dict[str, tuple[list[str], _dt.date | None]] = {}
    for f in reversed(flows):  # newest file first: it has the last word on older entries
        for e in f.changelog:
            if e.version not in notes:
                notes[e.version] = (list(e.notes), e.date)
    for v, f in by_version.items():  # but a version's own file has the last word on its own entry
        own = next((e for e in f.changelog if e.version == v), None)
        if own is not None:
            notes[v] = (list(own.notes), own.date)

    ordered = sorted(set(by_version) | set(notes), key=Version.key)
    files = [by_version[v] for v in ordered if v in by_version]
    entries: list[dict[str, Any]] = []
    for v in ordered:
        flow = by_version.get(v)
        changes: list[dict[str, str]] = []
        since = None
        if flow is not None:
            i = files.index(flow)
            if i > 0:
                since = files[i - 1].version
                changes = [{"id": c.id, "level": c.level, "message": c.message} for c in diff_flows(files[i - 1], flow)]
        text, date = notes.get(v, ([], None))
        entries.append({
            "version": v,
            "date": date if date is not None else (flow.updated if flow is not None else None),
            "notes": text,
            "changes": changes,
            # the version the changes are counted from: the previous published file, which may be
            # several versions back when intermediate versions are known only from changelog notes
            "since": since,
        })
    entries.reverse()
    return entries


def versions_from_git(path: str | os.PathLike[str], revs: list[str]) -> list[Flow]:
    """The flow file at ``path`` as it stood at each revision (tags, branches, commits), in ``revs`` order.

    Revisions where the file did not exist are skipped. Raises
    :class:`~flowdoc.git.GitError` for an unknown revision and :class:`~flowdoc.FlowError`
    when the file at a revision is not a valid flow (diagnostics name ``REV:path:LINE:COL``).
    """
    cache: dict = {}
    out: list[Flow] = []
    for rev in revs:
        at = FlowSet.from_git(rev, [path], cache=cache, across=False)
        if not at.missing:
            out.append(at.single())
    return out
