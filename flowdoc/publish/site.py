"""``flowdoc build``: flows → Markdown pages → a static HTML site built by MkDocs.

This does not use the MkDocs plugin (MkDocs 2 drops plugins): the generated pages and
the pages of the MkDocs project are staged in one docs folder in the cache, and MkDocs
is run on it programmatically (``load_config`` + ``build``) with that folder as
``docs_dir``.

- The MkDocs project: ``config_file`` if given, else ``site/mkdocs.yml`` of the project,
  else a built-in minimal one (the ``mkdocs`` theme, no CDN for code highlighting).
- Atomic: MkDocs builds into a temporary folder beside the output, which replaces the
  output only when the build succeeded. A failing build leaves the previous site as it
  was and raises :class:`PublishError` (invalid flows: with FILE:LINE:COL).
- Incremental: see :mod:`flowdoc.publish.cache`. When nothing changed and the output is
  there, MkDocs is not run; otherwise only the pages that changed are converted and rendered
  (:mod:`flowdoc.publish.mkdocs_pages`), the others linked from the previous site.
- Phases (:func:`_build`): the MkDocs project, discover, render, collect, stage, MkDocs, swap.
- ``git_versions``: versions also come from the flow files as they stood at git revisions
  (:mod:`flowdoc.publish.gitversions`); the commit each revision names is part of the cache key.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..catalog import FlowSet
from .assets import for_file_urls
from .cache import (Manifest, clear_cache, digest, digest_json, pages_env_key, remove_path, stray_files,
                    verify_staged)
from .errors import PublishError
from .gitversions import GitHistory
from .mkdocs_build import (MkDocsFailed, PageRun, default_project, ensure_extensions, load_mkdocs_config,
                           project_digest, run_mkdocs, swap_site)
from .output import cache_lock, check_cache, check_layout, check_not_replacing, check_replaceable, output_lock, sweep
from .proofpage import ProofSet
from .flowrecs import Checked
from .flowstages import Pages as _Pages
from .flowstages import load_flows as _load_flows
from .flowstages import render as _render
from .flowstages import user_page as _user_page
from .pages import Asset, FlowSite, Layout, site_assets
from .settings import BuildResult, BuildSettings, Reporter

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

__all__ = ["BuildSettings", "BuildResult", "Reporter", "build_site", "default_project", "ensure_extensions"]


# -------------------------------------------------------------------- build


def build_site(settings: BuildSettings, *, reporter: Reporter | None = None) -> BuildResult:
    """Build the site; raise :class:`PublishError` (and leave the old output) when it fails.

    Before anything is written, the paths are checked (:mod:`flowdoc.publish.output`): an
    output folder that is not missing, empty or a site flowdoc built is refused unless
    ``force``. Builds into one output, and builds that share a cache folder, run one at a
    time (lock files); leftovers of killed builds beside the output are removed. ``force``
    clears the cache first; a build that fails with the cache is retried once from nothing."""
    out = Path(settings.out_dir).resolve()
    flows_dir = Path(settings.flows_dir).resolve()
    cache = settings.cache_path.resolve()
    if not flows_dir.is_dir():
        raise PublishError(f"{settings.flows_dir}: no such flows folder")
    check_layout(out, flows_dir, cache)
    check_cache(cache)
    check_replaceable(out, force=settings.force)
    with output_lock(out):
        sweep(out)
        with cache_lock(cache):
            return _build_or_retry(settings, cache, reporter or Reporter())


def _build_or_retry(settings: BuildSettings, cache: Path, rep: Reporter) -> BuildResult:
    """``force``: build from nothing. Otherwise a build that fails in a way the cache may
    cause (MkDocs failed, an unexpected error) is retried once from nothing: a cache never
    makes a build fail that a clean build passes."""
    clean = settings.force or not ((cache / "docs").exists() or (cache / "manifest.json").exists())
    if settings.force:
        clear_cache(cache)
    try:
        return _build(settings, cache, rep)
    except PublishError as exc:
        if clean or not isinstance(exc, MkDocsFailed):
            raise
        why = exc.message.splitlines()[0]
    except Exception as exc:
        if clean:
            raise
        why = f"{type(exc).__name__}: {exc}"
    clear_cache(cache)
    result = _build(settings, cache, rep)
    result.cache_reset = why
    return result


def _build(settings: BuildSettings, cache: Path, rep: Reporter) -> BuildResult:
    """One build, in phases: the MkDocs project; discover (what the pages are made from); render
    the pages (or reuse them); collect the docs tree (with the project's pages and flowdoc's
    assets); write it to the staged folder; MkDocs into a temporary folder; swap it in."""
    t0 = time.perf_counter()
    job = _job(settings, cache, rep)
    project = _project(job)
    inputs = _discover(job)
    site = functools.cache(functools.partial(_load_flows, job, inputs))
    pages = _render(job, inputs, site)
    tree = _collect(job, project, inputs, pages, site)
    _stage(job, inputs, tree)
    site_key = _site_key(job, project, tree)
    if not _output_current(job, inputs.manifest, site_key):
        built = _mkdocs(job, project, tree)
        _swap(job, built)
    if inputs.history is not None:
        job.result.watch += inputs.history.watch  # new tags, moved branches (flowdoc serve)
    _save_manifest(job, inputs, pages, tree, site_key)
    job.result.seconds = time.perf_counter() - t0
    return job.result


# ------------------------------------------------------------------- phases


@dataclass
class _Job:
    """A build's settings and paths (resolved), its progress and its result so far."""

    settings: BuildSettings
    cache: Path
    rep: Reporter
    out: Path
    flows_dir: Path
    templates_dir: Path | None
    layout: Layout
    result: BuildResult

    @property
    def staged_dir(self) -> Path:
        """The docs folder MkDocs builds from."""
        return self.cache / "docs"

    @property
    def manifest_path(self) -> Path:
        return self.cache / "manifest.json"


@dataclass
class _Project:
    """The MkDocs project the pages are published in, and flowdoc's assets for it."""

    config_file: Path
    cfg: "MkDocsConfig"
    docs_dir: Path
    assets: list[Asset]
    extra_css: list[str]
    extra_js: list[str]


@dataclass
class _Inputs:
    """What the pages are made from, and what the last good build made."""

    #: the flow files of the flows folder (read only when a page must be made from them)
    catalog: FlowSet
    #: flow file (relative to the flows folder) -> sha256 of its bytes
    file_hashes: dict[str, str]
    history: GitHistory | None
    git_key: str
    #: what every page is made from besides the flows (:func:`~flowdoc.publish.cache.pages_env_key`)
    env_key: str
    #: the last build's manifest (empty when it cannot be used)
    manifest: Manifest
    staged_ok: bool
    #: no flow file and no revision changed: the flows need not be read at all
    unchanged: bool
    #: the proof files (--proofs DIR), or None
    proofs: ProofSet | None = None
    #: the flows as checked by this build (:func:`_load_flows`), None until they are
    checked: Checked | None = None


@dataclass
class _Tree:
    """The staged docs folder this build wants: every file -> sha256, the files to write, and the
    project's pages with ```flowdoc fences -> sha256 of their source."""

    desired: dict[str, str]
    writes: dict[str, bytes]
    user_src: dict[str, str] = field(default_factory=dict)
    #: those pages -> {flow id: key} of the flows they embed
    user_deps: dict[str, dict] = field(default_factory=dict)

    def want(self, uri: str, data: bytes, job: _Job, manifest: Manifest) -> None:
        """``uri`` holds ``data``: written unless the staged file already does."""
        h = digest(data)
        self.desired[uri] = h
        if manifest.staged.get(uri) != h or not (job.staged_dir / uri).is_file():
            self.writes[uri] = data


def _job(settings: BuildSettings, cache: Path, rep: Reporter) -> _Job:
    templates_dir = Path(settings.templates_dir).resolve() if settings.templates_dir else None
    if templates_dir is not None and not templates_dir.is_dir():
        raise PublishError(f"{settings.templates_dir}: no such templates folder")
    out = Path(settings.out_dir).resolve()
    return _Job(
        settings=settings,
        cache=cache,
        rep=rep,
        out=out,
        flows_dir=Path(settings.flows_dir).resolve(),
        templates_dir=templates_dir,
        layout=Layout(settings.prefix, settings.versions),
        result=BuildResult(out_dir=out),
    )


def _project(job: _Job) -> _Project:
    """The MkDocs project: its configuration (given, or the built-in one), docs folder and assets."""
    s = job.settings
    config_file = Path(s.config_file).resolve() if s.config_file else default_project(job.cache, job.layout)
    cfg = load_mkdocs_config(config_file, job.result.warnings)
    if s.file_urls:
        for_file_urls(cfg)
    if "flowdoc" in cfg.plugins:
        raise PublishError(
            f"{config_file} uses the flowdoc MkDocs plugin: build it with `mkdocs build`, "
            "or remove the plugin to build it with `flowdoc build`"
        )
    docs_dir = Path(cfg.docs_dir).resolve()
    job.result.watch = [config_file, docs_dir]
    if cfg.theme.custom_dir:
        job.result.watch.append(Path(cfg.theme.custom_dir))
    check_not_replacing(job.out, [docs_dir, config_file.parent])
    assets, extra_css, extra_js = site_assets(s.mermaid_js)
    return _Project(config_file, cfg, docs_dir, assets, extra_css, extra_js)


def _discover(job: _Job) -> _Inputs:
    """The flow files and their hashes, the git revisions, and whether the last build still holds."""
    t = time.perf_counter()
    catalog = FlowSet.from_paths([job.flows_dir])
    files = catalog.files
    if not files:
        raise PublishError(f"{job.settings.flows_dir}: no flow files (*.yaml, *.yml)")
    file_hashes = {f.relative_to(job.flows_dir).as_posix(): digest(f.read_bytes()) for f in files}
    history = None
    if job.settings.git_versions:
        job.rep.stage("Resolving git revisions")
        t = time.perf_counter()
        history = GitHistory.resolve(job.flows_dir, job.settings.git_versions)
        job.result.timings["git"] = time.perf_counter() - t
    git_key = history.key if history is not None else ""
    env_key = pages_env_key(job.templates_dir, job.layout)
    proofs = None
    if job.settings.proofs_dir is not None:
        proofs = ProofSet.load(job.settings.proofs_dir, max_age=job.settings.proof_max_age)
        env_key = digest(f"{env_key}\0proofs\0{proofs.key}".encode())
    manifest = Manifest.load(job.manifest_path)
    if job.settings.force or manifest.env_key != env_key or not manifest.complete:
        manifest = Manifest()
    staged_ok = job.staged_dir.is_dir()
    unchanged = (
        staged_ok
        and manifest.files == file_hashes
        and manifest.git == git_key
        and bool(manifest.ids)
        and all((job.staged_dir / u).is_file() for u in manifest.flow_pages)
    )
    job.result.timings["discover"] = time.perf_counter() - t  # with git revisions ("git") and the manifest
    return _Inputs(catalog, file_hashes, history, git_key, env_key, manifest, staged_ok, unchanged, proofs)


def _collect(job: _Job, project: _Project, inputs: _Inputs, pages: _Pages, site: Callable[[], FlowSite]) -> _Tree:
    """The whole docs tree: the generated pages, the project's pages (```flowdoc fences expanded)
    and flowdoc's assets."""
    user = _user_files(project.docs_dir, skip=[job.cache, job.out])
    generated = pages.uris()
    clash = sorted(set(user) & set(generated))
    if clash:
        raise PublishError(
            f"{project.docs_dir / clash[0]} has the path of a generated page; rename it or set a prefix "
            "([tool.flowdoc.site] prefix)"
        )
    tree = _Tree(desired=generated, writes=pages.writes)
    for page in user.items():
        _user_page(job, inputs, tree, page, pages, site)
    for a in project.assets:
        tree.want(a.src_uri, a.data(), job, inputs.manifest)
    clash = sorted(set(user) & {a.src_uri for a in project.assets})
    if clash:
        raise PublishError(f"{project.docs_dir / clash[0]}: this path is flowdoc's own asset; rename the file")
    return tree


def _user_files(docs_dir: Path, skip: list[Path]) -> dict[str, Path]:
    """Files of the MkDocs project's docs folder (relative POSIX path -> path)."""
    out: dict[str, Path] = {}
    if not docs_dir.is_dir():
        return out
    skip = [s.resolve() for s in skip]
    for dirpath, dirnames, filenames in os.walk(docs_dir):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if (d / n).resolve() not in skip)
        for name in sorted(filenames):
            p = d / name
            out[p.relative_to(docs_dir).as_posix()] = p
    return out


def _stage(job: _Job, inputs: _Inputs, tree: _Tree) -> None:
    """Write what changed into the staged docs folder and remove what this build does not want."""
    t = time.perf_counter()
    staged = job.staged_dir
    strays = stray_files(staged, tree.desired)  # every build: the staged tree is only what this one wants
    if tree.writes or strays or not inputs.staged_ok:
        job.rep.stage("Staging pages")
        Manifest(env_key=inputs.manifest.env_key).save(job.manifest_path)  # until done, the staged folder is unknown
        staged.mkdir(parents=True, exist_ok=True)
        for p in strays:
            remove_path(p)
        for uri, data in tree.writes.items():
            target = staged / uri
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    tree.writes.clear()  # memory: the pages' text is on disk now (MkDocs reads it there)
    job.result.timings["stage"] = time.perf_counter() - t


def _site_key(job: _Job, project: _Project, tree: _Tree) -> str:
    """A hash of everything MkDocs reads."""
    return digest_json(
        {
            "staged": tree.desired,
            "project": project_digest(project.config_file, project.cfg),
            "strict": job.settings.strict,
            "file_urls": job.settings.file_urls,
            "css": project.extra_css,
            "js": project.extra_js,
        }
    )


def _output_current(job: _Job, manifest: Manifest, site_key: str) -> bool:
    """Nothing MkDocs reads has changed since the last build, and its output is still there, untouched."""
    out = job.out
    return (
        out.is_dir()
        and manifest.site_key == site_key
        and manifest.out == str(out)
        and manifest.out_mtime_ns == out.stat().st_mtime_ns
    )


def _mkdocs(job: _Job, project: _Project, tree: _Tree) -> tuple[Path, PageRun]:
    """MkDocs on the staged folder (checked against its hashes first), into a temporary folder;
    pages unchanged since the last build are reused (:mod:`.mkdocs_pages`)."""
    verify_staged(job.staged_dir, tree.desired)
    job.rep.stage(f"Building the site with MkDocs ({sum(1 for u in tree.desired if u.endswith('.md'))} pages)")
    t = time.perf_counter()
    s = job.settings
    run = PageRun.at(job.cache, project_digest(project.config_file, project.cfg), tree.desired)
    tmp = run_mkdocs(project.cfg, job.staged_dir, job.out, project.extra_css, project.extra_js, s.strict,
                     job.result.warnings, run)
    job.result.mkdocs_ran = True
    job.result.timings["mkdocs"] = time.perf_counter() - t
    run.stats.count(job.result)
    return tmp, run


def _swap(job: _Job, built: tuple[Path, PageRun]) -> None:
    """The new site replaces the output (which must still be a site of flowdoc, unless ``force``);
    the page cache then knows the pages in the output."""
    t = time.perf_counter()
    swap_site(built[0], job.out, job.result.warnings, force=job.settings.force, pages=built[1])
    job.result.timings["swap"] = time.perf_counter() - t


def _save_manifest(job: _Job, inputs: _Inputs, pages: _Pages, tree: _Tree, site_key: str) -> None:
    """What this build made, for the next one."""
    Manifest(
        env_key=inputs.env_key,
        files=inputs.file_hashes,
        git=inputs.git_key,
        git_warnings=[d.to_dict() for d in job.result.diagnostics],
        ids=pages.ids,
        index=pages.index,
        user_src=tree.user_src,
        user_deps=tree.user_deps,
        flows=inputs.checked.records if inputs.checked is not None else inputs.manifest.flows,
        staged=tree.desired,
        site_key=site_key,
        out=str(job.out),
        out_mtime_ns=job.out.stat().st_mtime_ns,
        complete=True,
    ).save(job.manifest_path)
