"""Versions of the flows from git history: ``git_versions`` of ``flowdoc build`` and the plugin.

``git_versions`` names revisions: tags, branches, commits (anything ``git rev-parse`` takes), and
tag globs (a spec with ``*``, ``?`` or ``[``, expanded with ``git tag --list``, oldest first by
version order). At each revision, every flow file under the flows folder (``*.yaml``, ``*.yml``,
as they stood there) is read; its version joins the site like a file side by side would:

- only flows that have a file in the flows folder now get versions from history (a flow deleted
  or renamed since is not brought back);
- one id + version is published once: a file on disk wins over history, and between revisions
  the later one in the list wins (for a glob: the newer tag);
- a file that is not a valid flow at a revision is skipped with warnings that name
  ``REV:path:LINE:COL`` (the path from the top of the repository, as ``git show`` takes it).

It runs read-only git commands only (``rev-parse``, ``tag --list``, ``cat-file``, ``ls-tree``), through
:mod:`flowdoc.git`; the files are read and checked by the catalog (:meth:`flowdoc.FlowSet.from_texts`).
:meth:`GitHistory.resolve` is cheap (three or four git calls) and gives :attr:`GitHistory.key`,
the commit each revision names, which the build cache compares; :meth:`GitHistory.load` reads and
validates the files, once per distinct content (git's blob id).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..catalog import FlowSet
from ..diagnostics import Diagnostic
from ..git import GitError, Repo
from ..model.flow import Flow
from .cache import digest_json
from .errors import PublishError

__all__ = ["GitHistory", "HistoryVersions", "is_tag_glob"]

_GLOB = re.compile(r"[*?\[]")


def is_tag_glob(spec: str) -> bool:
    """A spec with ``*``, ``?`` or ``[`` is a tag glob (git forbids these characters in ref names)."""
    return bool(_GLOB.search(spec))


@dataclass
class HistoryVersions:
    """What :meth:`GitHistory.load` found: the flows to add to the site, and the warnings."""

    #: flows from history, not on disk (deduplicated by id + version); ``flow.file`` is ``REV:path``
    flows: list["Flow"] = field(default_factory=list)
    #: ``REV:path`` label of each flow in ``flows`` → a digest of its content (git's blob id)
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass
class GitHistory:
    """The revisions of ``git_versions`` resolved in the repository holding the flows folder."""

    specs: list[str]
    flows_dir: Path
    #: the work tree, and the flows folder relative to its top (POSIX, '' for the top itself)
    repo: Repo
    flows_rel: str
    #: (revision, commit), in the order they were named; a glob's tags oldest first
    revs: list[tuple[str, str]]
    warnings: list[Diagnostic] = field(default_factory=list)
    #: files to watch for new tags and moved branches (flowdoc serve)
    watch: list[Path] = field(default_factory=list)

    # ----------------------------------------------------------------- resolve
    @classmethod
    def resolve(cls, flows_dir: str | os.PathLike[str], specs: Sequence[str]) -> "GitHistory":
        """Find the repository and the commit of each revision; :class:`PublishError` when git is
        missing, the flows folder is not in a git repository, or a revision is unknown."""
        flows_dir = Path(flows_dir)
        specs = [str(s) for s in specs]
        for s in specs:
            if not s.strip() or s.startswith("-") or "\n" in s or "\0" in s:
                raise PublishError(f"git_versions: {s!r} is not a git revision or tag glob")
        if not flows_dir.is_dir():
            raise PublishError(f"{flows_dir}: no such flows folder")
        try:
            repo = Repo.discover(flows_dir)
            rel = repo.relative(flows_dir)
            warnings: list[Diagnostic] = []
            names = _names(repo, specs, warnings)
            revs = _commits(repo, names, warnings)
        except GitError as exc:
            raise PublishError(f"git_versions: {exc}") from None
        watch = [repo.common_dir / "refs", repo.common_dir / "packed-refs", repo.git_dir / "HEAD"]  # type: ignore[operator]
        return cls(specs, flows_dir, repo, rel, revs, warnings, watch)

    @property
    def root(self) -> Path:
        """The top of the work tree."""
        return self.repo.root

    @property
    def key(self) -> str:
        """Changes when a revision names another commit, or another set of revisions is named."""
        return digest_json([str(self.root), self.flows_rel, self.revs])

    # -------------------------------------------------------------------- load
    def _ls_tree(self, commit: str) -> dict[str, str]:
        """Flow files under the flows folder at ``commit``: path from the top → blob id."""
        try:
            return self.repo.ls_tree(commit, self.flows_rel)
        except GitError as exc:
            raise PublishError(f"git_versions: {exc}") from None

    def _read_blobs(self, blobs: list[str]) -> dict[str, bytes]:
        try:
            return self.repo.read_blobs(blobs)
        except GitError as exc:
            raise PublishError(f"git_versions: {exc}") from None

    def load(self, disk_flows: Sequence["Flow"], disk_files: Sequence[Path] = ()) -> HistoryVersions:
        """Read and validate the flow files at every revision; the versions to add to ``disk_flows``."""
        result = HistoryVersions(warnings=list(self.warnings))
        if not self.revs:
            return result
        disk_keys = {(f.id, f.version) for f in disk_flows}
        disk_ids = {f.id for f in disk_flows}
        on_disk = _blob_ids(disk_files, len(self.revs[0][1]))  # the same content as a file there: skipped

        trees: dict[str, dict[str, str]] = {}
        for _rev, commit in self.revs:
            if commit not in trees:
                trees[commit] = self._ls_tree(commit)
        first_label: dict[str, str] = {}  # blob → REV:path where it is first seen
        for rev, commit in self.revs:
            tree = trees[commit]
            if not tree:
                where = f"{rev}:{self.flows_rel or '.'}"
                result.warnings.append(
                    Diagnostic(where, None, None, "git-version-empty", "no flow file in the flows folder at this revision", "warning")
                )
            for path, blob in sorted(tree.items()):
                if blob not in on_disk:
                    first_label.setdefault(blob, f"{rev}:{path}")
        contents = self._read_blobs(list(first_label))
        found = FlowSet.from_texts({label: contents[blob] for blob, label in first_label.items()}, across=False)

        parsed: dict[str, "Flow | None"] = {}
        for blob, label in first_label.items():
            entry = found.entries[label]
            flow, diags = entry.flow, entry.diagnostics
            if flow is None:
                parsed[blob] = None
                rev = label.split(":", 1)[0]
                result.warnings.append(
                    Diagnostic(
                        label, None, None, "git-version-invalid",
                        f"not a valid flow at revision {rev}; skipped (this version is not published)", "warning",
                    )
                )
                result.warnings += [
                    Diagnostic(d.file, d.line, d.col, d.code, d.message, "warning", d.help) for d in diags.errors
                ]
            else:
                parsed[blob] = flow

        chosen: dict[tuple[str, str | None], tuple["Flow", str]] = {}
        for _rev, commit in self.revs:  # a later revision wins
            for _path, blob in sorted(trees[commit].items()):
                flow = parsed.get(blob)
                if flow is not None and flow.id in disk_ids and (flow.id, flow.version) not in disk_keys:
                    chosen[(flow.id, flow.version)] = (flow, blob)
        for flow, blob in chosen.values():
            result.flows.append(flow)
            result.sources[flow.file] = "git:" + blob
        return result


def _names(repo: Repo, specs: list[str], warnings: list[Diagnostic]) -> list[tuple[str, str, str | None]]:
    """(revision as shown, object name, the glob it came from) of each spec, a glob's tags oldest first."""
    names: list[tuple[str, str, str | None]] = []
    for spec in specs:
        if is_tag_glob(spec):
            found = repo.tags(spec)
            if not found:
                warnings.append(
                    Diagnostic(
                        "git_versions", None, None, "git-no-tags", f"no git tag matches {spec!r}", "warning",
                        help="create the tag, or fetch the tags (a shallow clone in CI has none: fetch-depth: 0)",
                    )
                )
            names += [(t, f"refs/tags/{t}", spec) for t in found]
        else:
            names.append((spec, spec, None))
    seen: set[str] = set()
    return [n for n in names if not (n[0] in seen or seen.add(n[0]))]  # type: ignore[func-returns-value]


def _commits(repo: Repo, names: list[tuple[str, str, str | None]],
             warnings: list[Diagnostic]) -> list[tuple[str, str]]:
    """(revision, commit) of each name; a glob's tag of something else than a commit is skipped."""
    revs: list[tuple[str, str]] = []
    for (rev, _obj, glob), (commit, answer) in zip(names, repo.resolve([obj for _, obj, _ in names]), strict=True):
        if commit is not None:
            revs.append((rev, commit))
        elif glob is not None:
            warnings.append(
                Diagnostic(
                    "git_versions", None, None, "git-tag-skipped",
                    f"tag {rev!r} (from {glob!r}) does not name a commit; skipped", "warning",
                )
            )
        else:
            why = "ambiguous" if answer.endswith(" ambiguous") else "unknown"
            raise GitError(f"{why} git revision {rev!r} in {repo.root}")
    return revs


def _blob_ids(files: Sequence[Path], hash_len: int) -> set[str]:
    """git's blob id of each readable file (SHA-1, or SHA-256 in a repository that uses it)."""
    out = set()
    for f in files:
        try:
            data = Path(f).read_bytes()
        except OSError:
            continue
        h = hashlib.sha256() if hash_len == 64 else hashlib.sha1()
        h.update(b"blob %d\0" % len(data) + data)
        out.add(h.hexdigest())
    return out
