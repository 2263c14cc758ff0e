"""``flowdoc check --against REV``: no flow changes without a version bump, a changelog note and a new date.

For each flow file, the file at the same path at REV is the old version (a file that is new since REV
passes). When the flow changed semantically:

* its version must go up by at least the bump the changes need (:func:`flowdoc.diff.required_bump`:
  major for a breaking change, minor for a warning or an addition, patch for anything else). Below
  1.0.0 one level less is enough (0.y.z: a minor bump may break); from a pre-release any later version
  will do (pre-releases promise nothing);
* the changelog must have an entry for the new version;
* ``updated`` must move forward (or stay at today's date: a second release on one day).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..catalog import FlowSet
from ..diagnostics import Diagnostic, DiagnosticList, FlowError
from ..git import GitError
from ..model.flow import Flow
from ..model.version import Version
from . import diff_flows, required_bump
from .changes import Change
from .format import as_diagnostics, counts

__all__ = ["FileReport", "AgainstResult", "check_against", "compare_versions", "actual_bump", "next_version",
           "GitError"]


@dataclass
class FileReport:
    file: str
    old: Flow | None  # None: new since the revision (or unreadable there)
    new: Flow
    changes: list[Change] = field(default_factory=list)
    needed: str | None = None  # the bump the changes need
    ok: bool = True


@dataclass
class AgainstResult:
    rev: str
    files: list[Path] = field(default_factory=list)
    reports: list[FileReport] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    invalid: bool = False  # a path is missing or a flow is invalid

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def actual_bump(old: str, new: str) -> str:
    """``"major"``, ``"minor"``, ``"patch"``, ``"prerelease"`` (same core, later pre-release), ``"none"`` or
    ``"decrease"``."""
    vo, vn = Version.of(old), Version.of(new)
    if vo is None or vn is None:
        ko, kn = Version.key(old), Version.key(new)
        return "none" if ko == kn else "decrease" if kn < ko else "major"
    return vo.bump_to(vn)


def next_version(old: str, needed: str) -> str:
    """The smallest version after ``old`` that makes the ``needed`` bump."""
    v = Version.of(old)
    return "1.0.0" if v is None else str(v.next(needed))  # type: ignore[arg-type]


def _what(changes: list[Change]) -> str:
    n = counts(changes)
    parts = [f"{n[lvl]} {lvl}" for lvl in ("breaking", "warning", "info") if n[lvl]]
    return ", ".join(parts)


def compare_versions(old: Flow, new: Flow, rev: str, changes: list[Change], diags: DiagnosticList) -> str | None:
    """Add the findings for one flow to ``diags``; return the bump the changes need."""
    needed = required_bump(changes)
    pos = new.pos
    version_moved = old.version != new.version
    if needed is not None:
        what = f"{len(changes)} semantic change{'s' if len(changes) != 1 else ''} since {rev} ({_what(changes)})"
        if new.version is None:
            diags.add("version-missing", f"{what}, but the flow has no version", pos("id"),
                      help=f'a {needed} bump is needed: add version: "{next_version(old.version or "", needed)}"')
        elif old.version is not None:
            actual = actual_bump(old.version, new.version)
            suggest = next_version(old.version, needed)
            if actual == "none":
                diags.add("version-not-bumped", f"{what}, but the version is still {new.version}", pos("version"),
                          help=f'these changes need a {needed} bump: version: "{suggest}"')
            elif actual == "decrease":
                diags.add("version-decreased", f"the version went down from {old.version} to {new.version}",
                          pos("version"), help=f'these changes need a {needed} bump: version: "{suggest}"')
            elif not Version.parse(old.version).satisfies(Version.parse(new.version), needed):
                diags.add("version-bump-too-small",
                          f"{what} need a {needed} bump, but {old.version} → {new.version} is a {actual} bump",
                          pos("version"), help=f'set version: "{suggest}"')
    elif version_moved and old.version and new.version and actual_bump(old.version, new.version) == "decrease":
        diags.add("version-decreased", f"the version went down from {old.version} to {new.version}", pos("version"),
                  help=f'versions only go up: keep version: "{old.version}" or raise it')
    if needed is None and not version_moved:
        return None
    if new.version is not None and not any(e.version == new.version for e in new.changelog):
        where = ("changelog",) if new.changelog else ("version",)
        diags.add("changelog-missing", f"the changelog has no entry for version {new.version}", pos(*where),
                  help=f'add to changelog: - {{version: "{new.version}", date: {_dt.date.today().isoformat()}, '
                       "notes: [what changed and what clients must do]}")
    # 'updated' is a date: a second release on the same day keeps it, as long as that day is today
    today = _dt.date.today()
    if new.updated is None or (old.updated is not None and (
            new.updated < old.updated or (new.updated == old.updated and new.updated != today))):
        was = f"; at {rev} it was {old.updated.isoformat()}" if old.updated else ""
        now = f"is still {new.updated.isoformat()}" if new.updated else "is not set"
        diags.add("updated-not-moved", f"the flow changed but 'updated' {now}{was}",
                  pos("updated") if new.updated else pos("id"),
                  help=f"set updated: {_dt.date.today().isoformat()}")
    return needed


def check_against(paths: Iterable[str | os.PathLike[str]], rev: str, *, show_changes: bool = True) -> AgainstResult:
    """Compare every flow file under ``paths`` with the same path at ``rev``.

    Raises :class:`~flowdoc.git.GitError` when ``rev`` is not a revision or a path is not in a git repository.
    """
    now = FlowSet.from_paths(paths, across=False)
    res = AgainstResult(rev=rev, files=now.files)
    res.diagnostics += [Diagnostic(m, None, None, "not-found", "no such file or folder") for m in now.missing]
    res.invalid = bool(now.missing)
    git_cache: dict = {}
    for f in now.files:
        file = str(f)
        entry = now.entries[file]
        new, diags = entry.flow, DiagnosticList(file, list(entry.diagnostics.items))
        if new is None:
            res.diagnostics += diags.items
            res.invalid = True
            continue
        then = FlowSet.from_git(rev, [f], cache=git_cache, across=False)
        report = FileReport(file, None, new)
        res.reports.append(report)
        if then.missing:
            continue  # new since rev
        try:
            old = then.single()
        except FlowError as exc:
            first = exc.diagnostics[0] if exc.diagnostics else None
            diags.add("old-invalid", f"the file at {rev} is not a valid flow, so it cannot be compared"
                      + (f" ({first.location}: {first.message})" if first else ""), severity="warning")
            res.diagnostics += diags.items
            continue
        report.old = old
        report.changes = diff_flows(old, new)
        before = len(diags.items)
        report.needed = compare_versions(old, new, rev, report.changes, diags)
        report.ok = not any(d.severity == "error" for d in diags.items[before:])
        res.diagnostics += diags.items
        if show_changes:
            res.diagnostics += [
                Diagnostic(d.file, d.line, d.col, d.code, d.message, "info") for d in as_diagnostics(report.changes, new, file)
            ]
    return res
