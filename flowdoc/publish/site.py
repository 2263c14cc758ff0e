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
  there, MkDocs is not run (it re-renders every page on each build).
- ``git_versions``: versions also come from the flow files as they stood at git revisions
  (:mod:`flowdoc.publish.gitversions`); the commit each revision names is part of the cache key.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..diagnostics import Diagnostic
from ..load import discover
from .cache import (
    Manifest,
    clear_cache,
    code_fingerprint,
    digest,
    digest_json,
    remove_path,
    stray_files,
    verify_staged,
)
from .mkdocs_build import (
    MkDocsFailed,
    default_project,
    ensure_extensions,
    load_mkdocs_config,
    project_digest,
    run_mkdocs,
)
from .output import check_cache, check_layout, check_not_replacing, check_replaceable, mark_cache, output_lock, sweep
from .pages import FlowSite, Layout, PublishError, is_url, load_site, site_assets
from .assets import for_file_urls
from .templates import templates_digest

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["BuildSettings", "BuildResult", "Reporter", "build_site", "default_project", "ensure_extensions"]


@dataclass
class BuildSettings:
    """Everything ``flowdoc build`` needs; :meth:`from_config` reads ``[tool.flowdoc]``."""

    flows_dir: Path
    out_dir: Path
    config_file: Path | None = None
    mermaid_js: str | None = None
    templates_dir: Path | None = None
    prefix: str = ""
    versions: bool = True
    cache_dir: Path | None = None
    strict: bool = False
    force: bool = False
    #: git revisions whose flow files add versions: tags, branches, commits, tag globs (``v*``)
    git_versions: list[str] = field(default_factory=list)
    #: a site that works opened from disk (file://): NAME.html pages, no search (assets.for_file_urls)
    file_urls: bool = False

    @classmethod
    def from_config(cls, config: "Config", **overrides) -> "BuildSettings":
        """Settings from ``[tool.flowdoc]`` (paths relative to the pyproject.toml), then ``overrides``
        (values that are None are ignored; paths relative to the current folder)."""
        root = Path(config.root)

        def rel(v: str | None) -> Path | None:
            if v is None:
                return None
            p = Path(v).expanduser()
            return p if p.is_absolute() else root / p

        site = config.site
        config_file = rel(site.config_file)
        if config_file is None and (root / "site" / "mkdocs.yml").is_file():
            config_file = root / "site" / "mkdocs.yml"
        mermaid = site.mermaid_js
        if mermaid and not is_url(mermaid):
            mermaid = str(rel(mermaid))
        s = cls(
            flows_dir=rel(config.flows),  # type: ignore[arg-type]
            out_dir=rel(config.out),  # type: ignore[arg-type]
            config_file=config_file,
            mermaid_js=mermaid,
            templates_dir=rel(config.templates),
            prefix=site.prefix,
            versions=site.versions,
            cache_dir=rel(site.cache_dir),
            strict=site.strict,
            git_versions=list(site.git_versions),
            file_urls=site.file_urls,
        )
        for k, v in overrides.items():
            if v is not None:
                if k in ("flows_dir", "out_dir", "config_file", "templates_dir", "cache_dir"):
                    v = Path(v)
                elif k == "git_versions":
                    v = [v] if isinstance(v, str) else list(v)
                setattr(s, k, v)
        return s

    @property
    def cache_path(self) -> Path:
        if self.cache_dir is not None:
            return Path(self.cache_dir)
        out = Path(self.out_dir).resolve()
        return out.parent / ".flowdoc-cache" / out.name


@dataclass
class BuildResult:
    out_dir: Path
    flows: int = 0
    pages_built: int = 0
    pages_reused: int = 0
    mkdocs_ran: bool = False
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    #: flowdoc's own warnings (a flow file not valid at a git revision: REV:path:LINE:COL)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: seconds per stage: check, render, stage, mkdocs
    timings: dict[str, float] = field(default_factory=dict)
    #: the MkDocs project's files (configuration, docs folder, theme overrides), for serve
    watch: list[Path] = field(default_factory=list)
    #: why the cache was cleared and the build run again from nothing (a build with it failed)
    cache_reset: str | None = None

    def summary(self) -> str:
        pages = self.pages_built + self.pages_reused
        what = (
            f"{pages} page{'s' if pages != 1 else ''} of {self.flows} flow{'s' if self.flows != 1 else ''}: "
            f"{self.pages_built} built, {self.pages_reused} reused"
        )
        site = "site built by MkDocs" if self.mkdocs_ran else "site unchanged (MkDocs not run)"
        return f"{what}; {site} in {self.seconds:.2f} s → {self.out_dir}"


class Reporter:
    """Progress of a build; the CLI shows it as a progress bar on a terminal."""

    def stage(self, message: str) -> None: ...

    def start(self, total: int, label: str) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self) -> None: ...


# ------------------------------------------------------------------ helpers


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
        cache.mkdir(parents=True, exist_ok=True)
        mark_cache(cache)
        with _locked(cache / "lock"):
            return _build_or_retry(settings, cache, reporter or Reporter())


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


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
    t0 = time.perf_counter()
    flows_dir = Path(settings.flows_dir).resolve()
    out = Path(settings.out_dir).resolve()
    layout = Layout(settings.prefix, settings.versions)
    templates_dir = Path(settings.templates_dir).resolve() if settings.templates_dir else None
    if templates_dir is not None and not templates_dir.is_dir():
        raise PublishError(f"{settings.templates_dir}: no such templates folder")
    result = BuildResult(out_dir=out)

    # ---- the MkDocs project
    config_file = Path(settings.config_file).resolve() if settings.config_file else default_project(cache, layout)
    cfg = load_mkdocs_config(config_file, result.warnings)
    if settings.file_urls:
        for_file_urls(cfg)
    if "flowdoc" in cfg.plugins:
        raise PublishError(
            f"{config_file} uses the flowdoc MkDocs plugin: build it with `mkdocs build`, "
            "or remove the plugin to build it with `flowdoc build`"
        )
    docs_dir = Path(cfg.docs_dir).resolve()
    result.watch = [config_file, docs_dir]
    if cfg.theme.custom_dir:
        result.watch.append(Path(cfg.theme.custom_dir))
    staged_dir = cache / "docs"
    check_not_replacing(out, [docs_dir, config_file.parent])
    assets, extra_css, extra_js = site_assets(settings.mermaid_js)

    # ---- the flow files and what the pages are made from
    files, _ = discover([flows_dir])
    if not files:
        raise PublishError(f"{settings.flows_dir}: no flow files (*.yaml, *.yml)")
    file_hashes = {f.relative_to(flows_dir).as_posix(): digest(f.read_bytes()) for f in files}
    history = None
    if settings.git_versions:
        from .gitversions import GitHistory

        rep.stage("Resolving git revisions")
        t = time.perf_counter()
        history = GitHistory.resolve(flows_dir, settings.git_versions)
        result.timings["git"] = time.perf_counter() - t
    git_key = history.key if history is not None else ""
    env_key = digest_json(
        {
            "code": code_fingerprint(),
            "templates": templates_digest(templates_dir),
            "layout": [layout.prefix, layout.versions],
        }
    )
    manifest_path = cache / "manifest.json"
    manifest = Manifest.load(manifest_path)
    if settings.force or manifest.env_key != env_key or not manifest.complete:
        manifest = Manifest()
    staged_ok = staged_dir.is_dir()
    flows_unchanged = (
        staged_ok
        and manifest.files == file_hashes
        and manifest.git == git_key
        and bool(manifest.ids)
        and all((staged_dir / u).is_file() for u in manifest.flow_pages)
    )

    site_holder: list[FlowSite] = []

    def get_site() -> FlowSite:
        if not site_holder:
            rep.stage("Checking flows")
            t = time.perf_counter()
            site_holder.append(
                load_site(
                    flows_dir,
                    prefix=settings.prefix,
                    versions=settings.versions,
                    templates_dir=templates_dir,
                    work_dir=cache / "work",
                    git_versions=history,
                )
            )
            result.timings["check"] = time.perf_counter() - t
        return site_holder[0]

    new_ids: dict[str, dict] = {}
    new_index: dict[str, str] = {}
    writes: dict[str, bytes] = {}  # staged uri -> content to write
    if flows_unchanged:
        new_ids, new_index = manifest.ids, manifest.index
        result.flows = len(new_ids)
        result.pages_reused = len(manifest.flow_pages)
        result.diagnostics = [Diagnostic(**d) for d in manifest.git_warnings]
    else:
        site = get_site()
        result.flows = len(site.entries)
        result.diagnostics = list(site.warnings)

        def source(f) -> tuple[str, str]:
            if f.file in site.sources:  # a version from git history: its content, whatever the revision
                return ("", site.sources[f.file])
            r = Path(f.file).relative_to(flows_dir).as_posix()  # the link's own path, not its target
            return (r, file_hashes.get(r, ""))

        todo: list[tuple[str, str, list[str]]] = []
        for fid, fv in site.entries.items():
            parts = sorted(source(f) for f in fv.history)
            key = digest_json([env_key, fid, parts, site.deps_key(fid)])
            uris = layout.flow_uris(fv)
            prev = manifest.ids.get(fid)
            if (
                prev
                and prev.get("key") == key
                and sorted(prev.get("pages", {})) == sorted(uris)
                and all(manifest.staged.get(u) == h and (staged_dir / u).is_file() for u, h in prev["pages"].items())
            ):
                new_ids[fid] = prev
                result.pages_reused += len(uris)
            else:
                todo.append((fid, key, uris))
        t = time.perf_counter()
        if todo:
            rep.start(len(todo), "Rendering flows")
            try:
                for fid, key, _uris in todo:
                    pages = site.pages_for(fid)
                    for p in pages:
                        writes[p.src_uri] = p.content.encode("utf-8")
                    new_ids[fid] = {"key": key, "pages": {p.src_uri: p.digest for p in pages}}
                    result.pages_built += len(pages)
                    rep.advance()
            finally:
                rep.finish()
        index = site.index_page()
        new_index = {index.src_uri: index.digest}
        if manifest.index == new_index and manifest.staged.get(index.src_uri) == index.digest:
            result.pages_reused += 1
        else:
            writes[index.src_uri] = index.content.encode("utf-8")
            result.pages_built += 1
        result.timings["render"] = time.perf_counter() - t

    generated: dict[str, str] = dict(new_index)
    for rec in new_ids.values():
        generated.update(rec["pages"])

    # ---- the pages of the MkDocs project, and flowdoc's assets
    user = _user_files(docs_dir, skip=[cache, out])
    clash = sorted(set(user) & set(generated))
    if clash:
        raise PublishError(
            f"{docs_dir / clash[0]} has the path of a generated page; rename it or set a prefix "
            "([tool.flowdoc.site] prefix)"
        )
    desired: dict[str, str] = dict(generated)
    user_src: dict[str, str] = {}
    for uri, path in user.items():
        data = path.read_bytes()
        src_hash = digest(data)
        if uri.endswith(".md") and b"flowdoc" in data:
            user_src[uri] = src_hash
            if (
                flows_unchanged
                and manifest.user_src.get(uri) == src_hash
                and uri in manifest.staged
                and (staged_dir / uri).is_file()
            ):
                desired[uri] = manifest.staged[uri]
                continue
            text = data.decode("utf-8")
            expanded = get_site().expand_embeds(text, where=str(path)) if "flowdoc" in text else text
            data = expanded.encode("utf-8")
        h = digest(data)
        desired[uri] = h
        if manifest.staged.get(uri) != h or not (staged_dir / uri).is_file():
            writes[uri] = data
    for a in assets:
        data = a.data()
        h = digest(data)
        desired[a.src_uri] = h
        if manifest.staged.get(a.src_uri) != h or not (staged_dir / a.src_uri).is_file():
            writes[a.src_uri] = data
    clash = sorted(set(user) & {a.src_uri for a in assets})
    if clash:
        raise PublishError(f"{docs_dir / clash[0]}: this path is flowdoc's own asset; rename the file")

    # ---- stage: write what changed, remove what is gone
    t = time.perf_counter()
    strays = stray_files(staged_dir, desired)  # every build: the staged tree is only what this one wants
    if writes or strays or not staged_ok:
        rep.stage("Staging pages")
        Manifest(env_key=manifest.env_key).save(manifest_path)  # until done, the staged folder is unknown
        staged_dir.mkdir(parents=True, exist_ok=True)
        for p in strays:
            remove_path(p)
        for uri, data in writes.items():
            target = staged_dir / uri
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    result.timings["stage"] = time.perf_counter() - t
    # ---- MkDocs, unless nothing it reads has changed and the output is there
    site_key = digest_json(
        {
            "staged": desired,
            "project": project_digest(config_file, cfg),
            "strict": settings.strict,
            "file_urls": settings.file_urls,
            "css": extra_css,
            "js": extra_js,
        }
    )
    out_current = (
        out.is_dir()
        and manifest.site_key == site_key
        and manifest.out == str(out)
        and manifest.out_mtime_ns == out.stat().st_mtime_ns
    )
    if not out_current:
        verify_staged(staged_dir, desired)
        rep.stage(f"Building the site with MkDocs ({sum(1 for u in desired if u.endswith('.md'))} pages)")
        t = time.perf_counter()
        run_mkdocs(cfg, staged_dir, out, extra_css, extra_js, settings.strict, result.warnings, settings.force)
        result.mkdocs_ran = True
        result.timings["mkdocs"] = time.perf_counter() - t

    if history is not None:
        result.watch += history.watch  # new tags, moved branches (flowdoc serve)
    Manifest(
        env_key=env_key,
        files=file_hashes,
        git=git_key,
        git_warnings=[d.to_dict() for d in result.diagnostics],
        ids=new_ids,
        index=new_index,
        user_src=user_src,
        staged=desired,
        site_key=site_key,
        out=str(out),
        out_mtime_ns=out.stat().st_mtime_ns,
        complete=True,
    ).save(manifest_path)
    result.seconds = time.perf_counter() - t0
    return result
