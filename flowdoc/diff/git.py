"""Flows as they stood at a git revision: ``REV:path`` arguments of ``flowdoc diff``.

git itself (read-only commands, one error type :class:`~flowdoc.git.GitError`) is :mod:`flowdoc.git`;
flows are read and checked by the catalog (:class:`~flowdoc.catalog.FlowSet`).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..catalog import FlowSet
from ..git import GitError, GitPath, locate
from ..model.flow import Flow

__all__ = ["split_spec", "read_at", "flow_from_text", "load_spec"]


def read_at(rev: str, path: str | os.PathLike[str]) -> bytes | None:
    """``git show REV:path`` for a path given like a file argument (relative to the current folder)."""
    return locate(path).read(rev)


def split_spec(spec: str) -> tuple[str | None, str]:
    """``"HEAD~1:flows/x.yaml"`` → ``("HEAD~1", "flows/x.yaml")``; an existing file → ``(None, spec)``."""
    if os.path.exists(spec) or ":" not in spec:
        return None, spec
    rev, _, path = spec.partition(":")
    return rev, path


def flow_from_text(data: bytes | str, label: str) -> Flow:
    """Load and validate a flow from its text, as :func:`flowdoc.load_flow` does for a file."""
    return FlowSet.from_text(data, label, across=False).single()


def load_spec(spec: str) -> Flow:
    """A flow from a file path or from ``REV:path``.

    Raises :class:`~flowdoc.git.GitError` (unknown revision, no repository, path absent at the revision,
    missing file) and :class:`~flowdoc.FlowError` (not a valid flow; diagnostics name ``REV:path:LINE:COL``).
    """
    rev, path = split_spec(spec)
    if rev is None:
        if not os.path.exists(path):
            raise GitError(f"{path}: no such file")
        if os.path.isdir(path):
            raise GitError(f"{path}: is a folder; name one flow file")
        return FlowSet.from_paths([path], across=False).single()
    if not path:
        raise GitError(f"'{spec}': name a file after the revision, e.g. {rev}:flows/my-flow.yaml")
    gf = locate(path)
    data = gf.read(rev)
    if data is None and not os.path.isabs(path):
        # git's own reading of REV:path: relative to the top of the work tree
        data = GitPath(gf.repo, Path(path).as_posix()).read(rev)
    if data is None:
        raise GitError(f"'{path}' does not exist at revision '{rev}'")
    return flow_from_text(data, spec)
