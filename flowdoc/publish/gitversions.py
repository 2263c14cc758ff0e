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

It runs read-only git commands only (``rev-parse``, ``tag --list``, ``cat-file``, ``ls-tree``).
:meth:`GitHistory.resolve` is cheap (three or four git calls) and gives :attr:`GitHistory.key`,
the commit each revision names, which the build cache compares; :meth:`GitHistory.load` reads and
validates the files, once per distinct content (git's blob id).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from ..diagnostics import Diagnostic
from .cache import digest_json
from .pages import PublishError

if TYPE_CHECKING:
    from ..model.flow import Flow

__all__ = ["GitHistory", "HistoryVersions", "is_tag_glob"]

_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "GIT_PAGER": "cat"}
_GLOB = re.compile(r"[*?\[]")


def is_tag_glob(spec: str) -> bool:
    """A spec with ``*``, ``?`` or ``[`` is a tag glob (git forbids these characters in ref names)."""
    return bool(_GLOB.search(spec))


def _git(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, env={**os.environ, **_ENV}, timeout=120, check=False
        )
    except FileNotFoundError:
        raise PublishError("git_versions: git is not installed (it is needed to read flows at git revisions)") from None
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung git
        raise PublishError(f"git_versions: git {' '.join(args[:2])} timed out") from None


def _stderr(res: subprocess.CompletedProcess) -> str:
    return " ".join(res.stderr.decode("utf-8", "replace").split())


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
    #: the top of the work tree, and the flows folder relative to it (POSIX, '' for the top itself)
    root: Path
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
        res = _git(["rev-parse", "--show-toplevel", "--git-dir", "--git-common-dir"], flows_dir)
        if res.returncode != 0:
            why = _stderr(res)
            if "not a git repository" in why.lower():
                raise PublishError(f"git_versions: {flows_dir} is not in a git repository")
            raise PublishError(f"git_versions: cannot use the git repository of {flows_dir}: {why}")
        lines = res.stdout.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) < 3 or not lines[0]:
            raise PublishError(f"git_versions: {flows_dir} is not in a git work tree")
        root = Path(lines[0])
        git_dir, common = ((Path(p) if os.path.isabs(p) else flows_dir / p).resolve() for p in lines[1:3])
        try:
            rel = Path(os.path.realpath(flows_dir)).relative_to(os.path.realpath(root)).as_posix()
        except ValueError:
            raise PublishError(f"git_versions: {flows_dir} is outside the git repository {root}") from None
        rel = "" if rel == "." else rel

        warnings: list[Diagnostic] = []
        names: list[tuple[str, str, str | None]] = []  # (revision as shown, object name, the glob it came from)
        for spec in specs:
            if is_tag_glob(spec):
                tags = _git(["tag", "--list", "--sort=v:refname", "--", spec], root)
                if tags.returncode != 0:
                    raise PublishError(f"git_versions: git tag --list {spec!r} failed: {_stderr(tags)}")
                found = [t for t in tags.stdout.decode("utf-8", "surrogateescape").splitlines() if t]
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
        names = [n for n in names if not (n[0] in seen or seen.add(n[0]))]  # type: ignore[func-returns-value]
        revs: list[tuple[str, str]] = []
        if names:
            query = "".join(f"{obj}^{{commit}}\n" for _, obj, _ in names).encode("utf-8", "surrogateescape")
            out = _git(["cat-file", "--batch-check"], root, stdin=query)
            if out.returncode != 0:
                raise PublishError(f"git_versions: git cat-file failed: {_stderr(out)}")
            answers = out.stdout.decode("utf-8", "surrogateescape").splitlines()
            if len(answers) != len(names):  # pragma: no cover - git answers every line
                raise PublishError("git_versions: git cat-file gave fewer answers than asked")
            for (rev, _obj, glob), answer in zip(names, answers):
                parts = answer.split()
                if len(parts) == 3 and parts[1] == "commit":
                    revs.append((rev, parts[0]))
                elif glob is not None:  # a tag of something else than a commit: skipped
                    warnings.append(
                        Diagnostic(
                            "git_versions", None, None, "git-tag-skipped",
                            f"tag {rev!r} (from {glob!r}) does not name a commit; skipped", "warning",
                        )
                    )
                else:
                    why = "ambiguous" if answer.endswith(" ambiguous") else "unknown"
                    raise PublishError(f"git_versions: {why} git revision {rev!r} in {root}")
        watch = [common / "refs", common / "packed-refs", git_dir / "HEAD"]
        return cls(specs, flows_dir, root, rel, revs, warnings, watch)

    @property
    def key(self) -> str:
        """Changes when a revision names another commit, or another set of revisions is named."""
        return digest_json([str(self.root), self.flows_rel, self.revs])

    # -------------------------------------------------------------------- load
    def _ls_tree(self, commit: str) -> dict[str, str]:
        """Flow files under the flows folder at ``commit``: path from the top → blob id."""
        args = ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-name", commit]
        if self.flows_rel:
            args += ["--", self.flows_rel]
        res = _git(args, self.root)
        if res.returncode != 0:
            raise PublishError(f"git_versions: git ls-tree {commit} failed: {_stderr(res)}")
        out: dict[str, str] = {}
        for entry in res.stdout.split(b"\0"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            mode, kind, obj = meta.decode().split()
            name = path.decode("utf-8", "surrogateescape")
            if kind == "blob" and mode in ("100644", "100755") and name.endswith((".yaml", ".yml")):
                out[name] = obj
        return out

    def _read_blobs(self, blobs: Iterable[str]) -> dict[str, bytes]:
        blobs = list(blobs)
        if not blobs:
            return {}
        res = _git(["cat-file", "--batch"], self.root, stdin="".join(b + "\n" for b in blobs).encode())
        if res.returncode != 0:
            raise PublishError(f"git_versions: git cat-file failed: {_stderr(res)}")
        data, pos, out = res.stdout, 0, {}
        for blob in blobs:
            end = data.index(b"\n", pos)
            header = data[pos:end].decode().split()
            pos = end + 1
            if len(header) != 3:  # pragma: no cover - a blob ls-tree just listed
                raise PublishError(f"git_versions: cannot read git object {blob}")
            size = int(header[2])
            out[blob] = data[pos : pos + size]
            pos += size + 1
        return out

    def load(self, disk_flows: Sequence["Flow"], disk_files: Sequence[Path] = ()) -> HistoryVersions:
        """Read and validate the flow files at every revision; the versions to add to ``disk_flows``."""
        from ..check.graph import check_graph
        from ..load import read_flow_text

        result = HistoryVersions(warnings=list(self.warnings))
        if not self.revs:
            return result
        disk_keys = {(f.id, f.version) for f in disk_flows}
        disk_ids = {f.id for f in disk_flows}
        on_disk = set()  # blob ids of the files on disk: the same content as a file there, skipped
        hash_len = len(self.revs[0][1])
        for f in disk_files:
            try:
                data = Path(f).read_bytes()
            except OSError:
                continue
            h = hashlib.sha256() if hash_len == 64 else hashlib.sha1()
            h.update(b"blob %d\0" % len(data) + data)
            on_disk.add(h.hexdigest())

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
        contents = self._read_blobs(first_label)

        parsed: dict[str, "Flow | None"] = {}
        for blob, label in first_label.items():
            flow, diags = read_flow_text(contents[blob], label)
            if flow is not None:
                check_graph(flow, diags)
            if flow is None or diags.errors:
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
