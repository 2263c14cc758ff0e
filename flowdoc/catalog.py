"""The catalog: a set of flows, discovered, loaded, checked and indexed once for every stage.

::

    from flowdoc import FlowSet
    flows = FlowSet.from_paths(["flows/"])          # files and folders (links followed, named by their own path)
    flows.diagnostics                               # every problem, FILE:LINE:COL (as flowdoc validate)
    flows.invalid                                   # names of the files that are not valid flows (and missing paths)
    flows.by_id["client-credentials"]               # every version of one id, oldest first (SemVer)
    flows.get("client-credentials", "1.0.0")        # one version; without a version, the latest
    flows.latest()                                  # the newest version of each id
    FlowSet.from_git("v1.2.0", ["flows/"])          # the flow files as they stood at a git revision
    FlowSet.from_text(text, "flow.yaml")            # one flow from its text

Each file is read, modelled, graph-checked and claim-checked (:func:`flowdoc.check.validate_file`;
a text, such as a file at a git revision, is graph-checked only: :func:`~flowdoc.check.validate_text`);
then, across the set, one id + version is defined once (``duplicate-flow``) and each ``requires`` names a flow
that exists: among the set, else among the valid flows beside the requiring file (its folder is
read once, however many requirements miss). ``lint=True`` lints the flows that stay valid. Loading
from paths is lazy: ``files`` is known at once, the files are read on first use of anything else.
``keep_flows=False`` (flowdoc validate: only the diagnostics are wanted) keeps of each valid flow
what the checks across the set need, not its model: memory stays flat however many files there are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from .check import gc_paused, run_lint, validate_file, validate_text
from .check.requirements import check_requirements
from .config import LintConfig
from .diagnostics import Diagnostic, DiagnosticList, FlowError, Suppressed
from .git import Repo, locate
from .load import discover
from .model.flow import Flow, latest_versions
from .model.version import Version

__all__ = ["FlowFile", "FlowSet"]

PathLike = str | os.PathLike[str]


@dataclass
class FlowFile:
    """One file of the set: its name (a path, or ``REV:path``), its flow (None when not a valid
    flow) and its diagnostics."""

    name: str
    flow: Flow | None
    diagnostics: DiagnosticList


class _Slim:
    """What the checks across the set need of a valid flow whose model is not kept."""

    __slots__ = ("id", "version", "file", "requires", "_source")

    def __init__(self, flow: Flow) -> None:
        self.id, self.version, self.file, self.requires = flow.id, flow.version, flow.file, flow.requires
        self._source = flow.source

    def pos(self, *path: Any) -> tuple[int, int] | None:
        return self._source.value(path) if self._source is not None else None


@dataclass
class _Source:
    name: str
    path: Path | None = None  # a file on disk
    data: bytes | str | None = None  # or its content


@dataclass
class FlowSet:
    """A set of flow files; see the module's documentation."""

    sources: list[_Source] = field(default_factory=list)
    #: paths given that do not exist
    missing: list[str] = field(default_factory=list)
    lint: bool = False
    lint_config: LintConfig | None = None
    #: checks across the flows (duplicate id + version, requirements); off for single files compared alone
    across: bool = True
    #: problems of the selection itself (an empty selection: ``no-flows``), errors make it invalid
    notes: list[Diagnostic] = field(default_factory=list)
    #: folders searched (with their subfolders) for a required flow that is neither in the set nor
    #: beside the requiring file: the configured flow folders
    search: list[str] = field(default_factory=list)
    #: False: keep of each valid flow only what the checks across the set need (see the module)
    keep_flows: bool = True
    _entries: dict[str, FlowFile] | None = field(default=None, init=False, repr=False)
    _flows: list[Flow] = field(default_factory=list, init=False, repr=False)
    _index: dict[str, list[Flow]] = field(default_factory=dict, init=False, repr=False)
    _folders: set[str] = field(default_factory=set, init=False, repr=False)

    # ------------------------------------------------------------ building
    @classmethod
    def from_paths(cls, paths: Iterable[PathLike], *, lint: bool = False, lint_config: LintConfig | None = None,
                   across: bool = True, search: Iterable[PathLike] = (), keep_flows: bool = True) -> "FlowSet":
        """The flow files of ``paths`` (files, and ``*.yaml`` / ``*.yml`` under folders); read on first use.
        ``search``: folders where a required flow may live too (see :meth:`required`)."""
        files, missing = discover(paths)
        return cls([_Source(str(f), path=f) for f in files], missing, lint=lint, lint_config=lint_config, across=across,
                   search=[str(p) for p in search], keep_flows=keep_flows or lint)

    @classmethod
    def from_texts(cls, texts: Mapping[str, bytes | str], *, lint: bool = False,
                   lint_config: LintConfig | None = None, across: bool = True) -> "FlowSet":
        """Flows from their texts: file name (as diagnostics show it) → text."""
        return cls([_Source(name, data=data) for name, data in texts.items()], lint=lint, lint_config=lint_config,
                   across=across)

    @classmethod
    def from_text(cls, text: bytes | str, file: str = "<string>", **options) -> "FlowSet":
        """One flow from its text."""
        return cls.from_texts({file: text}, **options)

    @classmethod
    def from_flows(cls, flows: Iterable[Flow], *, search: Iterable[PathLike] = ()) -> "FlowSet":
        """A set of flows already loaded (and checked): for their index and requirements.
        ``search``: folders where a required flow may live too (see :meth:`required`)."""
        fs = cls(search=[str(p) for p in search])
        fs._entries = {}
        for f in flows:
            fs._entries.setdefault(f.file or f"<{f.id}@{f.version}>", FlowFile(f.file, f, DiagnosticList(f.file)))
            fs._flows.append(f)
            fs._index.setdefault(f.id, []).append(f)
        return fs

    @classmethod
    def from_checked(cls, files: Iterable[FlowFile], *, read: Iterable[PathLike] = ()) -> "FlowSet":
        """Files read and checked one by one already (:func:`~flowdoc.check.validate_file`), in file
        order: only the checks across them are run. ``read``: folders not to read for a required flow
        (the caller gave every flow of them that a check across the set can need)."""
        fs = cls()
        fs._entries = {}
        for f in files:
            fs._entries[f.name] = f
            if f.flow is not None:
                fs._flows.append(f.flow)
        fs._folders.update(os.path.abspath(p) for p in read)
        fs._finish()
        return fs

    @classmethod
    def from_git(cls, rev: str, paths: Iterable[PathLike], *, cache: dict | None = None, **options) -> "FlowSet":
        """The flow files of ``paths`` as they stood at the git revision ``rev``.

        A file is named ``REV:path`` (the path as given); a folder's files ``REV:path-from-the-top``
        (as ``git show`` takes them). A path absent at ``rev`` is in ``missing``. Raises
        :class:`~flowdoc.git.GitError` (no repository, unknown revision, a file that is a folder there)."""
        cache = {} if cache is None else cache
        texts: dict[str, bytes] = {}
        missing: list[str] = []
        for raw in paths:
            if os.path.isdir(raw):
                repo = Repo.discover(raw)
                tree = repo.ls_tree(repo.commit(rev), repo.relative(raw))
                blobs = repo.read_blobs(tree.values())
                texts.update((f"{rev}:{path}", blobs[blob]) for path, blob in sorted(tree.items()))
                continue
            data = locate(raw, cache).read(rev)
            if data is None:
                missing.append(str(raw))
            else:
                texts[f"{rev}:{raw}"] = data
        fs = cls.from_texts(texts, **options)
        fs.missing = missing
        return fs

    # ------------------------------------------------------------- loading
    def _load(self) -> dict[str, FlowFile]:
        if self._entries is not None:
            return self._entries
        self._entries = {}
        for src in self.sources:
            flow, diags = validate_file(src.path) if src.path is not None else validate_text(src.data or b"", src.name)
            if flow is not None and not self.keep_flows:
                flow = _Slim(flow)  # type: ignore[assignment]
            self._entries[src.name] = FlowFile(src.name, flow, diags)
            if flow is not None:
                self._flows.append(flow)
        self._finish()
        return self._entries

    def _finish(self) -> None:
        """Index the valid flows, run the checks across the set, and lint."""
        assert self._entries is not None
        for flow in self._flows:
            self._index.setdefault(flow.id, []).append(flow)
        if self.across:
            self._check_across()
        kept: list[Flow] = []
        for flow in self._flows:  # a flow with an error across the set is not valid either
            entry = self._entries[flow.file]
            if entry.diagnostics.errors:
                entry.flow = None
                continue
            kept.append(flow)
            if self.lint:
                with gc_paused():
                    run_lint(flow, entry.diagnostics, self.lint_config)
        self._flows = kept

    def _check_across(self) -> None:
        """One id + version is defined once; requirements name flows that exist."""
        seen: dict[tuple[str, str | None], Flow] = {}
        for flow in self._flows:
            key = (flow.id, flow.version)
            if key in seen:
                self._entries[flow.file].diagnostics.add(  # type: ignore[index]
                    "duplicate-flow",
                    f"flow '{flow.id}' version {flow.version} is also defined in {seen[key].file}",
                    flow.pos("id"),
                    help="bump the version, or remove one of the files",
                )
            else:
                seen[key] = flow
        for flow in self._flows:
            for name in flow.requires:
                check_requirements(flow, name, self.required(flow, name),
                                   self._entries[flow.file].diagnostics)  # type: ignore[index]

    def required(self, flow: Flow, name: str) -> list[Flow]:
        """The flows that may meet requirement ``name`` of ``flow``: that id in the set, else the valid
        flows of that id beside the file of ``flow``, else in the ``search`` folders (each read once)."""
        self._load()
        wanted = flow.requires[name].flow
        if wanted not in self._index and flow.file and not flow.file.startswith("<"):
            self._load_folder(Path(flow.file).parent)
        for folder in self.search:
            if wanted in self._index:
                break
            self._load_folder(Path(folder))
        found = self._index.get(wanted, [])
        if any(isinstance(f, _Slim) for f in found):  # read again the few flows a requirement names
            found = self._index[wanted] = [f if isinstance(f, Flow) else validate_file(f.file)[0] for f in found]
            found = [f for f in found if f is not None]
        return found

    def _load_folder(self, folder: Path) -> None:
        key = os.path.abspath(folder)
        if key in self._folders or not folder.is_dir():
            return
        self._folders.add(key)
        known = {os.path.abspath(f.file) for flows in self._index.values() for f in flows if f.file}
        for file in discover([folder])[0]:
            if os.path.abspath(file) in known:
                continue
            other, _ = validate_file(file)
            if other is not None:
                self._index.setdefault(other.id, []).append(other)

    # ------------------------------------------------------------ reading
    @property
    def files(self) -> list[Path]:
        """The files of the set, as named (without reading them)."""
        return [s.path if s.path is not None else Path(s.name) for s in self.sources]

    @property
    def entries(self) -> dict[str, FlowFile]:
        """Each file by name: its flow and its diagnostics."""
        return self._load()

    @property
    def flows(self) -> list[Flow]:
        """The valid flows, in file order."""
        self._load()
        return self._flows

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem: missing paths first, then each file's, in file order."""
        out = [Diagnostic(m, None, None, "not-found", "no such file or folder") for m in self.missing]
        out += self.notes
        for entry in self._load().values():
            out += entry.diagnostics.items
        return out

    @property
    def suppressed(self) -> list[Suppressed]:
        """The lint findings the flows switched off (``lint: {disable, reason}``), in file order."""
        return [s for entry in self._load().values() for s in entry.diagnostics.suppressed]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def invalid(self) -> list[str]:
        """The paths that do not exist and the files that are not valid flows (empty: all valid)."""
        notes = [d.file for d in self.notes if d.severity == "error"]
        return [*self.missing, *notes, *(name for name, e in self._load().items() if e.flow is None)]

    @property
    def by_id(self) -> dict[str, list[Flow]]:
        """Every valid flow by id (ids in file order), each list oldest → newest by :class:`Version`."""
        out: dict[str, list[Flow]] = {}
        for f in self.flows:
            out.setdefault(f.id, []).append(f)
        for versions in out.values():
            versions.sort(key=lambda f: Version.key(f.version))
        return out

    def versions(self, flow_id: str) -> list[Flow]:
        """Every version of one id, oldest first (empty when the id is unknown)."""
        return self.by_id.get(flow_id, [])

    def latest(self) -> list[Flow]:
        """The newest version of each id, ids in file order."""
        return latest_versions(self.flows)

    def get(self, flow_id: str, version: str | Version | None = None) -> Flow | None:
        """One flow: the newest of its id, or the one of ``version`` (None when there is none)."""
        versions = self.versions(flow_id)
        if version is None:
            return versions[-1] if versions else None
        wanted = Version.of(version)
        return next((f for f in reversed(versions)
                     if f.version == str(version) or (wanted is not None and Version.of(f.version) == wanted)), None)

    def single(self) -> Flow:
        """The one valid flow of a set of one file; :class:`FlowError` with its problems otherwise."""
        entries = list(self._load().values())
        if len(entries) == 1 and entries[0].flow is not None:
            return entries[0].flow
        errors = [d for d in self.diagnostics if d.severity == "error"]
        raise FlowError(errors or self.diagnostics)

    def __len__(self) -> int:
        return len(self.flows)

    def __iter__(self):
        return iter(self.flows)

