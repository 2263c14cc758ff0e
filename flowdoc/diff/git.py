"""Flows as they stood at a git revision: ``REV:path`` arguments, ``git show`` in the repository holding the path.

Only read-only git commands are run (``rev-parse``, ``cat-file``, ``show``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..check.graph import check_graph
from ..diagnostics import FlowError
from ..load import read_flow_text
from ..model.flow import Flow

__all__ = ["RevisionError", "GitFile", "split_spec", "locate_in_repo", "read_at", "flow_from_text", "load_spec"]


class RevisionError(Exception):
    """A revision, a repository or a path at a revision cannot be read; the message says which."""


_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=_ENV, timeout=60)
    except FileNotFoundError:
        raise RevisionError("git is not installed (needed to read REV:path)") from None
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung git
        raise RevisionError(f"git {' '.join(args[:2])} timed out") from None


class GitFile:
    """One path inside one repository: ``root`` (the work tree's top) and ``rel`` (posix path from it)."""

    def __init__(self, root: Path, rel: str, commits: dict[str, str] | None = None):
        self.root = root
        self.rel = rel
        #: revision → commit; pass one dict to the files of one repository to resolve each revision once
        self._commits: dict[str, str] = {} if commits is None else commits

    def commit(self, rev: str) -> str:
        """The commit ``rev`` names; :class:`RevisionError` when it names none."""
        if rev not in self._commits:
            if not rev or rev.startswith("-"):
                raise RevisionError(f"'{rev}' is not a git revision")
            res = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], self.root)
            if res.returncode != 0:
                raise RevisionError(f"unknown git revision '{rev}' in {self.root}")
            self._commits[rev] = res.stdout.decode().strip()
        return self._commits[rev]

    def read(self, rev: str) -> bytes | None:
        """The file's bytes at ``rev``; ``None`` when the file did not exist there."""
        commit = self.commit(rev)
        obj = f"{commit}:{self.rel}"
        kind = _git(["cat-file", "-t", obj], self.root)
        if kind.returncode != 0:
            return None
        if kind.stdout.decode().strip() != "blob":
            raise RevisionError(f"'{self.rel}' is a folder at revision '{rev}', not a flow file")
        res = _git(["show", obj], self.root)
        if res.returncode != 0:  # pragma: no cover - cat-file just found it
            raise RevisionError(f"git show {rev}:{self.rel} failed: {res.stderr.decode(errors='replace').strip()}")
        return res.stdout


def locate_in_repo(path: str | os.PathLike[str], cache: dict | None = None) -> GitFile:
    """The repository holding ``path`` (which need not exist in the work tree any more).

    ``cache``: one dict passed for many paths remembers each folder's repository and each revision's commit.
    """
    cache = {} if cache is None else cache
    p = Path(os.path.abspath(path))
    folder = p.parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    root = cache.get(("root", folder))
    if root is None:
        res = _git(["rev-parse", "--show-toplevel"], folder)
        if res.returncode != 0:
            raise RevisionError(f"{path}: not inside a git repository")
        root = cache[("root", folder)] = Path(res.stdout.decode().strip())
    real = Path(os.path.realpath(folder)) / p.relative_to(folder)  # the file itself may be gone
    try:
        rel = real.relative_to(os.path.realpath(root))
    except ValueError:
        raise RevisionError(f"{path}: outside the git repository {root}") from None
    return GitFile(root, rel.as_posix(), cache.setdefault(("commits", root), {}))


def read_at(rev: str, path: str | os.PathLike[str]) -> bytes | None:
    """``git show REV:path`` for a path given like a file argument (relative to the current folder)."""
    return locate_in_repo(path).read(rev)


def split_spec(spec: str) -> tuple[str | None, str]:
    """``"HEAD~1:flows/x.yaml"`` → ``("HEAD~1", "flows/x.yaml")``; an existing file → ``(None, spec)``."""
    if os.path.exists(spec) or ":" not in spec:
        return None, spec
    rev, _, path = spec.partition(":")
    return rev, path


def flow_from_text(data: bytes | str, label: str) -> Flow:
    """Load and validate a flow from its text, as :func:`flowdoc.load_flow` does for a file."""
    flow, diags = read_flow_text(data, label)
    if flow is not None:
        check_graph(flow, diags)
    if flow is None or diags.errors:
        raise FlowError(diags.errors or diags.items)
    return flow


def load_spec(spec: str) -> Flow:
    """A flow from a file path or from ``REV:path``.

    Raises :class:`RevisionError` (unknown revision, no repository, path absent at the revision, missing
    file) and :class:`~flowdoc.FlowError` (not a valid flow; diagnostics name ``REV:path:LINE:COL``).
    """
    rev, path = split_spec(spec)
    if rev is None:
        if not os.path.exists(path):
            raise RevisionError(f"{path}: no such file")
        if os.path.isdir(path):
            raise RevisionError(f"{path}: is a folder; name one flow file")
        from .. import load_flow

        return load_flow(path)
    if not path:
        raise RevisionError(f"'{spec}': name a file after the revision, e.g. {rev}:flows/my-flow.yaml")
    gf = locate_in_repo(path)
    data = gf.read(rev)
    if data is None and not os.path.isabs(path):
        # git's own reading of REV:path: relative to the top of the work tree
        alt = GitFile(gf.root, Path(path).as_posix())
        data = alt.read(rev)
    if data is None:
        raise RevisionError(f"'{path}' does not exist at revision '{rev}'")
    return flow_from_text(data, spec)
