"""Git, read-only: every git command flowdoc runs, and their one error type.

Used by ``flowdoc diff REV:path``, ``flowdoc check --against/--merge-base``, the catalog's
:meth:`~flowdoc.catalog.FlowSet.from_git` and the site's ``git_versions``. Only read-only commands
are run: ``rev-parse``, ``cat-file``, ``show``, ``ls-tree``, ``tag --list`` and ``merge-base``,
without a terminal prompt, optional locks or a pager; a revision never starts with ``-`` and is
passed after ``--end-of-options``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .load import FLOW_SUFFIXES

__all__ = ["GitError", "NotARepository", "Repo", "GitPath", "locate", "merge_base", "FLOW_SUFFIXES"]

_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}
_TIMEOUT = 120



class GitError(Exception):
    """git is missing, a path is not in a repository, a revision or a path at it cannot be read;
    the message says which."""


class NotARepository(GitError):
    """The folder is not inside a git work tree."""


def run(args: Sequence[str], cwd: str | os.PathLike[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """``git ARGS`` in ``cwd``, output as bytes; :class:`GitError` when git is missing or hangs."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                              env={**os.environ, **_ENV}, timeout=_TIMEOUT, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (it is needed to read flows at git revisions)") from None
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung git
        raise GitError(f"git {' '.join(args[:2])} timed out") from None


def stderr_of(res: subprocess.CompletedProcess) -> str:
    """git's complaint on one line."""
    return " ".join(res.stderr.decode("utf-8", "replace").split())


def _check_rev(rev: str) -> None:
    if not rev or rev.startswith("-") or "\n" in rev or "\0" in rev:
        raise GitError(f"'{rev}' is not a git revision")


class Repo:
    """One git work tree: ``root`` is its top; each revision is resolved to its commit once."""

    def __init__(self, root: Path, git_dir: Path | None = None, common_dir: Path | None = None):
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._commits: dict[str, str] = {}

    @classmethod
    def discover(cls, folder: str | os.PathLike[str]) -> "Repo":
        """The work tree holding ``folder`` (which exists); :class:`NotARepository` when there is none."""
        folder = Path(folder)
        res = run(["rev-parse", "--show-toplevel", "--git-dir", "--git-common-dir"], folder)
        if res.returncode != 0:
            why = stderr_of(res)
            if "not a git repository" in why.lower():
                raise NotARepository(f"{folder} is not in a git repository")
            raise GitError(f"cannot use the git repository of {folder}: {why}")
        lines = res.stdout.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 3 or not lines[0]:
            raise NotARepository(f"{folder} is not in a git work tree")
        git_dir, common = ((Path(p) if os.path.isabs(p) else folder / p).resolve() for p in lines[1:3])
        return cls(Path(lines[0]), git_dir, common)

    def relative(self, path: str | os.PathLike[str]) -> str:
        """``path`` (which may be gone from the work tree) as a POSIX path from the top; '' for the top."""
        p = Path(os.path.abspath(path))
        if p.is_dir():
            real = Path(os.path.realpath(p))
        else:  # a file is named by its own path (a link's, not its target's); it may be gone
            folder = p.parent
            while not folder.is_dir() and folder != folder.parent:
                folder = folder.parent
            real = Path(os.path.realpath(folder)) / p.relative_to(folder)
        try:
            rel = real.relative_to(os.path.realpath(self.root)).as_posix()
        except ValueError:
            raise GitError(f"{path}: outside the git repository {self.root}") from None
        return "" if rel == "." else rel

    # ------------------------------------------------------------- revisions
    def commit(self, rev: str) -> str:
        """The commit ``rev`` names; :class:`GitError` when it names none."""
        if rev not in self._commits:
            _check_rev(rev)
            res = run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], self.root)
            if res.returncode != 0:
                raise GitError(f"unknown git revision '{rev}' in {self.root}")
            self._commits[rev] = res.stdout.decode().strip()
        return self._commits[rev]

    def resolve(self, names: Sequence[str]) -> list[tuple[str | None, str]]:
        """For each object name: (its commit or None, git's answer), in one ``cat-file --batch-check``."""
        if not names:
            return []
        query = "".join(f"{n}^{{commit}}\n" for n in names).encode("utf-8", "surrogateescape")
        out = run(["cat-file", "--batch-check"], self.root, stdin=query)
        if out.returncode != 0:
            raise GitError(f"git cat-file failed: {stderr_of(out)}")
        answers = out.stdout.decode("utf-8", "surrogateescape").splitlines()
        if len(answers) != len(names):  # pragma: no cover - git answers every line
            raise GitError("git cat-file gave fewer answers than asked")
        result: list[tuple[str | None, str]] = []
        for answer in answers:
            parts = answer.split()
            result.append((parts[0] if len(parts) == 3 and parts[1] == "commit" else None, answer))
        return result

    def tags(self, glob: str) -> list[str]:
        """The tags matching ``glob``, oldest first by version order (``git tag --list``)."""
        res = run(["tag", "--list", "--sort=v:refname", "--", glob], self.root)
        if res.returncode != 0:
            raise GitError(f"git tag --list {glob!r} failed: {stderr_of(res)}")
        return [t for t in res.stdout.decode("utf-8", "surrogateescape").splitlines() if t]

    # ----------------------------------------------------------------- files
    def read(self, rev: str, rel: str) -> bytes | None:
        """The file ``rel`` (from the top) at ``rev``; None when it did not exist there."""
        obj = f"{self.commit(rev)}:{rel}"
        kind = run(["cat-file", "-t", obj], self.root)
        if kind.returncode != 0:
            return None
        if kind.stdout.decode().strip() != "blob":
            raise GitError(f"'{rel}' is a folder at revision '{rev}', not a flow file")
        res = run(["show", obj], self.root)
        if res.returncode != 0:  # pragma: no cover - cat-file just found it
            raise GitError(f"git show {rev}:{rel} failed: {stderr_of(res)}")
        return res.stdout

    def ls_tree(self, commit: str, rel: str = "", suffixes: tuple[str, ...] = FLOW_SUFFIXES) -> dict[str, str]:
        """Regular files under ``rel`` at ``commit`` whose names end with ``suffixes``: path from the top → blob id."""
        args = ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-name", commit]
        if rel:
            args += ["--", rel]
        res = run(args, self.root)
        if res.returncode != 0:
            raise GitError(f"git ls-tree {commit} failed: {stderr_of(res)}")
        out: dict[str, str] = {}
        for entry in res.stdout.split(b"\0"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            mode, kind, obj = meta.decode().split()
            name = path.decode("utf-8", "surrogateescape")
            if kind == "blob" and mode in ("100644", "100755") and name.endswith(suffixes):
                out[name] = obj
        return out

    def read_blobs(self, blobs: Iterable[str]) -> dict[str, bytes]:
        """The content of each blob, in one ``cat-file --batch``."""
        blobs = list(blobs)
        if not blobs:
            return {}
        res = run(["cat-file", "--batch"], self.root, stdin="".join(b + "\n" for b in blobs).encode())
        if res.returncode != 0:
            raise GitError(f"git cat-file failed: {stderr_of(res)}")
        data, pos, out = res.stdout, 0, {}
        for blob in blobs:
            end = data.index(b"\n", pos)
            header = data[pos:end].decode().split()
            pos = end + 1
            if len(header) != 3:  # pragma: no cover - a blob ls-tree just listed
                raise GitError(f"cannot read git object {blob}")
            size = int(header[2])
            out[blob] = data[pos: pos + size]
            pos += size + 1
        return out


@dataclass
class GitPath:
    """One path inside one repository: ``rel`` is the POSIX path from the top of ``repo``."""

    repo: Repo
    rel: str

    @property
    def root(self) -> Path:
        return self.repo.root

    def read(self, rev: str) -> bytes | None:
        """The file's bytes at ``rev``; ``None`` when the file did not exist there."""
        return self.repo.read(rev, self.rel)


def locate(path: str | os.PathLike[str], cache: dict | None = None) -> GitPath:
    """The repository holding ``path`` (which need not exist in the work tree any more).

    ``cache``: one dict passed for many paths remembers each folder's repository (and so each
    revision's commit)."""
    cache = {} if cache is None else cache
    folder = Path(os.path.abspath(path)).parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    repo = cache.get(("repo", folder))
    if repo is None:
        res = run(["rev-parse", "--show-toplevel"], folder)
        if res.returncode != 0:
            raise NotARepository(f"{path}: not inside a git repository")
        root = Path(res.stdout.decode().strip())
        repo = cache.get(("root", root)) or cache.setdefault(("root", root), Repo(root))
        cache[("repo", folder)] = repo
    return GitPath(repo, repo.relative(path))


def merge_base(ref: str, cwd: str | os.PathLike[str] = ".") -> str:
    """The commit where HEAD left ``ref`` (``git merge-base HEAD REF``) in the repository of ``cwd``."""
    _check_rev(ref)
    res = run(["merge-base", "HEAD", "--end-of-options", ref], cwd)
    if res.returncode != 0:
        lines = res.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"no merge base of HEAD and '{ref}': {lines[-1] if lines else 'unknown revision'}")
    return res.stdout.decode().strip()
