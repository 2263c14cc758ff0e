"""The MkDocs stage of ``flowdoc build``, page by page: MkDocs' build (``mkdocs.commands.build``,
MkDocs 1.6) in the same phases and with the same plugin events, which converts only the pages
whose Markdown (or what it links to) changed and renders only the pages whose HTML would change.

- **Conversion** (:func:`_populate`): a page's conversion is reused from the page store
  (:mod:`.pagecache`) when its key is unchanged: its Markdown, its path, the Markdown
  configuration and extensions, the documentation files (links resolve against them), MkDocs'
  version and flowdoc's code. The warnings MkDocs logged converting it are logged again, in page
  order, so strict mode fails as a build from nothing does. The others are converted in worker
  processes (:mod:`.pagework`) when there are many; in a rebuild (few pages to convert), in
  worker processes started at once while this process reads the other pages' conversions.
- **Rendering** (:func:`_render_pages`): a page whose output key is unchanged (its conversion,
  title, front matter, previous and next pages, the navigation, the configuration and theme, the
  day) and whose file in the previous site is as that build wrote it is linked (or copied) from
  there, and its search entries and flowdoc's information on it come from the store; the others
  are rendered (in worker processes when there are many), each written as soon as it is made.
  In a rebuild (few pages to render) the workers start at once and this process links the
  unchanged pages meanwhile; the search entries of the rendered pages are put in their place.
- The garbage collector runs less often during the stage (:data:`GC_THRESHOLD`): a rebuild
  keeps a few objects per page alive, which it would otherwise scan again and again.
  Templates that show the time of the build (the homepage of MkDocs' themes) are always rendered.
- Only with plugins whose every effect is known (:func:`supported`): MkDocs' search and
  flowdoc's own plugin. Any other plugin: :func:`mkdocs.commands.build.build` as it is.
"""

from __future__ import annotations

import gc
import gzip
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import urlsplit

import jinja2
from jinja2.exceptions import TemplateNotFound
from mkdocs import utils
from mkdocs.commands.build import get_context
from mkdocs.contrib.search import SearchPlugin
from mkdocs.exceptions import Abort, BuildError
from mkdocs.structure.files import InclusionLevel, get_files, set_exclusions
from mkdocs.structure.nav import get_navigation
from mkdocs.structure.pages import Page

from .cache import digest_json
from .csp import CspPlugin
from .pagecache import Converted, Keys, PageStore, SiteIndex, canonical, lookup, nav_digest
from .pagemeta import SitePlugin
from .pagework import MIN_PARALLEL, Work, apply, convert, here, iter_all, render, replay

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

__all__ = ["PageStats", "build_pages", "supported"]

log = logging.getLogger("mkdocs.commands.build")

#: plugins whose effects on a build are all known (and replayed for a page that is not rendered)
KNOWN_PLUGINS = (SearchPlugin, SitePlugin, CspPlugin)
#: themes whose templates show the build's time on the homepage only
HOMEPAGE_DATE_THEMES = ("mkdocs", "readthedocs")
#: allocations between two collections of the youngest generation during the stage: the build
#: keeps a few objects per page alive (its files, navigation, conversions), and the collector,
#: run every 700 allocations by default, would scan them again and again (a third of a rebuild)
GC_THRESHOLD = 10_000


class PageStats:
    """What the build did with the pages."""

    def __init__(self) -> None:
        self.converted = 0
        self.rendered = 0
        self.linked = 0

    def count(self, result: Any) -> None:
        """Into the build's result (:class:`~.settings.BuildResult`)."""
        result.pages_converted, result.pages_rendered, result.pages_linked = self.converted, self.rendered, self.linked


def supported(cfg: "MkDocsConfig") -> str | None:
    """None when every plugin is one this build knows; else the name of the first other one."""
    for name, plugin in cfg.plugins.items():
        if type(plugin) not in KNOWN_PLUGINS:
            return name
    return None


def build_pages(cfg: "MkDocsConfig", store: PageStore, *, previous: Path | None, project: str,
                digests: dict[str, str], stats: PageStats) -> None:
    """Build the site into ``cfg.site_dir`` as :func:`mkdocs.commands.build.build` does; reuse
    what ``store`` holds and the pages of the site in ``previous``."""
    logger = logging.getLogger("mkdocs")
    counter = utils.CountHandler()
    counter.setLevel(logging.WARNING)
    if cfg.strict:
        logger.addHandler(counter)
    try:
        with _fewer_collections():
            _build_pages(cfg, store, previous, project, digests, stats, counter)
    except Exception as e:
        store.pending = None
        cfg.plugins.on_build_error(error=e)
        if isinstance(e, BuildError):
            log.error(str(e))
            raise Abort("Aborted with a BuildError!") from e
        raise
    finally:
        logger.removeHandler(counter)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """The garbage collector runs less often (:data:`GC_THRESHOLD`); as it was after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _build_pages(cfg: "MkDocsConfig", store: PageStore, previous: Path | None, project: str,
                 digests: dict[str, str], stats: PageStats, counter: utils.CountHandler) -> None:
    """The build, phase by phase (see :func:`build_pages`)."""
    config = cfg.plugins.on_config(cfg)
    config.plugins.on_pre_build(config=config)
    utils.clean_directory(config.site_dir)
    work = _prepare(config, store)
    keys = Keys(config, work.files, project, digests)
    work.listing = keys.listing
    conv_keys = _populate(work, keys, stats)
    work.env = config.plugins.on_env(work.env, config=config, files=work.files)
    _static(work)
    site = store.site_index(previous) if previous is not None else SiteIndex()
    store.pending = _render_pages(work, keys, conv_keys, site, previous, stats)
    _validate_anchors(work)
    config.plugins.on_post_build(config=config)
    work.sink.finish(config)
    if counts := counter.get_counts():
        msg = ", ".join(f"{v} {k.lower()}s" for k, v in counts)
        raise Abort(f"Aborted with {msg} in strict mode!")
    store.sweep()


# ------------------------------------------------------------------- phases


def _prepare(config: "MkDocsConfig", store: PageStore) -> Work:
    """The files (docs folder and theme), then the navigation, with their plugin events."""
    files = get_files(config)
    env = config.theme.get_env()
    files.add_files_from_theme(env, config)
    files = config.plugins.on_files(files, config=config)
    set_exclusions(files, config)
    nav = get_navigation(files, config)
    nav = config.plugins.on_nav(nav, config=config, files=files)
    work = Work(config, files, store)
    work.nav, work.env = nav, env
    for plugin in config.plugins.values():
        if isinstance(plugin, SearchPlugin):
            work.search = plugin.search_index
        elif isinstance(plugin, SitePlugin):
            work.site_pages = plugin.site_pages
    return work


def _populate(work: Work, keys: Keys, stats: PageStats) -> dict[str, str]:
    """Every page's conversion: from the store, else made; their warnings logged in page order.
    The pages not in the store are converted first, in worker processes while this one reads
    the others (a rebuild: the few pages that changed, the index of every flow among them)."""
    config, files = work.config, work.files
    conv_keys: dict[str, str] = {}
    todo: list[tuple[Page, tuple]] = []
    cached: list[Any] = []
    for file in files.documentation_pages(inclusion=InclusionLevel.is_included):
        if file.page is None and file.inclusion.is_not_in_nav():
            Page(None, file, config)
        key = conv_keys[file.src_uri] = keys.conversion(file)
        if work.store.has_conversion(key):
            cached.append(file)
        else:
            todo.append((file.page, (key,)))
    running = iter_all(work, convert, todo, eager=len(cached) >= MIN_PARALLEL)
    try:
        known, again = _load_conversions(work, keys, cached, conv_keys)
        _converted(work, running, known, conv_keys, stats)
    finally:
        running.close()
    _converted(work, iter_all(work, convert, again), known, conv_keys, stats)
    for file in files.documentation_pages(inclusion=InclusionLevel.is_included):
        conv = known[file.src_uri]
        replay(conv.logs)
        apply(file.page, conv, files)
    return conv_keys


def _converted(work: Work, running: Any, known: dict[str, Converted], conv_keys: dict[str, str],
               stats: PageStats) -> None:
    """The conversions the workers (or this process) make, as they come."""
    try:
        for page, conv in running:
            known[page.file.src_uri] = conv
            work.store.used_conv.add(conv_keys[page.file.src_uri])
            stats.converted += 1
    finally:
        running.close()


def _load_conversions(work: Work, keys: Keys, cached: list[Any], conv_keys: dict[str, str]
                      ) -> tuple[dict[str, Converted], list[tuple[Page, tuple]]]:
    """The conversions the store holds; the pages whose entry could not be used, to convert."""
    known: dict[str, Converted] = {}
    again: list[tuple[Page, tuple]] = []
    for file in cached:
        key = conv_keys[file.src_uri]
        conv = work.store.load_conversion(key)
        if conv is None or not keys.still_valid(conv):
            again.append((file.page, (key,)))
        else:
            known[file.src_uri] = conv
    return known, again


def _static(work: Work) -> None:
    """Static files, the theme's static templates (sitemap, 404) and the extra templates."""
    config, files, env = work.config, work.files, work.env
    files.copy_static_files(inclusion=InclusionLevel.is_included)
    for name in config.theme.static_templates:
        try:
            template = env.get_template(name)
        except TemplateNotFound:
            log.warning(f"Template skipped: '{name}' not found in theme directories.")
            continue
        _write_template(work, name, template, os.path.join(config.site_dir, name))
    for name in config.extra_templates:
        file = files.get_file_from_path(name)
        if file is None:
            log.warning(f"Template skipped: '{name}' not found in docs_dir.")
            continue
        try:
            template = jinja2.Template(file.content_string)
        except Exception as e:
            log.warning(f"Error reading template '{name}': {e}")
            continue
        _write_template(work, name, template, file.abs_dest_path)


def _write_template(work: Work, name: str, template: Any, path: str) -> None:
    """MkDocs' ``_build_template``, written to ``path`` (the sitemap gzipped too)."""
    config, files, nav = work.config, work.files, work.nav
    template = config.plugins.on_pre_template(template, template_name=name, config=config)
    if utils.is_error_template(name):
        base_url = urlsplit(config.site_url or "/").path
    else:
        base_url = utils.get_relative_url(".", name)
    context = get_context(nav, files, config, base_url=base_url)
    context = config.plugins.on_template_context(context, template_name=name, config=config)
    output = config.plugins.on_post_template(template.render(context), template_name=name, config=config)
    if not output.strip():
        log.info(f"Template skipped: '{name}' generated empty output.")
        return
    utils.write_file(output.encode("utf-8"), path)
    if name == "sitemap.xml":
        pages = [f.page for f in files.documentation_pages() if f.page is not None]
        with open(f"{path}.gz", "wb") as fh:
            stamp = utils.get_build_timestamp(pages=pages)
            with gzip.GzipFile(fileobj=fh, filename=f"{path}.gz", mode="wb", mtime=stamp) as gz:
                gz.write(output.encode("utf-8"))


def _dated_pages(config: "MkDocsConfig") -> str:
    """Which pages show the time of the build: "none", "home" or "all" (a theme that may)."""
    if config.theme.name in HOMEPAGE_DATE_THEMES and not config.theme.custom_dir:
        return "home"
    for d in config.theme.dirs:
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames[:] = [n for n in dirnames if not n.startswith(".")]
            for name in filenames:
                if name.endswith((".html", ".xml", ".j2", ".jinja")):
                    try:
                        text = Path(dirpath, name).read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        return "all"
                    if "build_date_utc" in text:
                        return "all"
    return "none"


def _output_key(env_key: str, conv_key: str, page: Page, files: Any) -> str:
    def near(p: Page | None) -> Any:
        return None if p is None else [p.url, p.title]

    info = page.meta.get("flowdoc") if isinstance(page.meta, dict) else None
    canon_uri = info.get("canonical") if isinstance(info, dict) else None  # SitePages links it by its URL
    target = lookup(files, canon_uri) if isinstance(canon_uri, str) else None

    parents = []
    item = page.parent
    while item is not None:
        parents.append(item.title)
        item = item.parent
    return digest_json([env_key, conv_key, page.url, page.title, canonical(page.meta), near(page.previous_page),
                        near(page.next_page), parents, page.file.inclusion.name, page.is_homepage, target])


def _render_pages(work: Work, keys: Keys, conv_keys: dict[str, str], site: SiteIndex, previous: Path | None,
                  stats: PageStats) -> SiteIndex:
    """Every page's HTML, in page order: linked from the previous site when unchanged, else
    rendered (in worker processes when there are many); what each adds to the search index
    and to flowdoc's information on the pages, and the index of the new site. A rebuild (few
    pages to render) renders them in worker processes started at once, while this process links
    the others."""
    config = work.config
    work.doc_files = work.files.documentation_pages(inclusion=InclusionLevel.is_included)
    env_key = keys.output_env(config, nav_digest(work.nav), utils.get_build_date())
    dated = _dated_pages(config)
    plan: list[list] = []
    todo: list[tuple[Page, tuple]] = []
    for file in work.doc_files:
        key = _output_key(env_key, conv_keys[file.src_uri], file.page, work.files)
        old = None
        if previous is not None and dated != "all" and not (dated == "home" and file.page.is_homepage):
            old = site.unchanged(previous, file.dest_uri, key)
        if old is None:
            todo.append((file.page, (conv_keys[file.src_uri], file.inclusion.is_excluded())))
        plan.append([file, key, old])
    sink = _SearchSink(work)
    ahead = sink.can_defer and len(todo) < MIN_PARALLEL <= len(plan) - len(todo)
    results = iter_all(work, render, todo, eager=ahead)
    index = SiteIndex()
    try:
        if ahead:  # link the unchanged pages first: [file, key, old, its record or None, hole]
            for item in plan:
                item.append(_reused(work, *item) if item[2] is not None else None)
                if item[3] is not None:
                    sink.add(item[3]["index"])
                item.append(sink.hole() if item[3] is None else None)
        for item in plan:
            file, key, old = item[:3]
            rec = (item[3] if ahead else _reused(work, file, key, old)) if old is not None else None
            if rec is not None:
                stats.linked += 1
            else:
                rec = _rendered(work, file, key, old, results, conv_keys)
                stats.rendered += 1
            replay(rec["logs"])
            _replay_info(work, file.page, rec)
            if not ahead:
                sink.add(rec["index"])
            elif item[3] is None:
                sink.fill(item[4], rec["index"])
            if rec["written"] is not None:
                index.pages[file.dest_uri] = [key, *rec["written"]]
    finally:
        results.close()
    work.sink = sink
    return index


def _rendered(work: Work, file: Any, key: str, old: Any, results: Any, conv_keys: dict[str, str]) -> dict:
    """The page rendered: by the workers (its turn in ``results``) or, when it was to be linked
    and could not be after all, here."""
    if old is None:
        page, rec = next(results)
        assert page is file.page
    else:
        rec = here(work, render, file.page, (conv_keys[file.src_uri], file.inclusion.is_excluded()))
    work.store.save_output(key, {k: rec[k] for k in ("index", "site", "logs")})
    return rec


def _reused(work: Work, file: Any, key: str, old: tuple[str, int, int]) -> dict | None:
    """The page's record, its file in the previous site (path, size, mtime) linked into the new
    one; None when either fails."""
    rec = work.store.load_output(key)
    if rec is None:
        return None
    written = _link(old, file.abs_dest_path)
    return None if written is None else {**rec, "written": written}


def _link(old: tuple[str, int, int], new: str) -> list[int] | None:
    """``new`` is a hard link to the file ``old`` (or a copy where links are refused): its size
    and modification time; None when neither works."""
    try:
        try:
            os.link(old[0], new)
        except FileNotFoundError:  # its folder is not made yet (one per page: x/index.html)
            os.makedirs(os.path.dirname(new), exist_ok=True)
            os.link(old[0], new)
    except OSError:
        try:
            shutil.copyfile(old[0], new)
            st = os.stat(new)
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns]
    return [old[1], old[2]]  # the same file: as it was when found unchanged


def _replay_info(work: Work, page: Page, rec: dict) -> None:
    """flowdoc's information on the page (SitePages), as rendering it gave it."""
    if work.site_pages is not None and rec.get("site") is not None:
        info = dict(rec["site"])
        info["repeats"] = set(info.get("repeats") or ())
        work.site_pages.pages[page.url] = info


class _SearchSink:
    """The search index, page by page (each page's entries already filtered by flowdoc): written
    to a spool file as the pages come, then as ``search/search_index.json`` after MkDocs' search
    plugin wrote its own without them (:meth:`finish`); when the plugin prebuilds a lunr index,
    given to the plugin instead. The entries of a page still being rendered may be given later
    (:meth:`hole`, :meth:`fill`) when they go to a spool file (:attr:`can_defer`)."""

    def __init__(self, work: Work) -> None:
        self.search = work.search
        self.stream = self.search is not None and not self.search.config.get("prebuild_index")
        self.spool = tempfile.TemporaryFile(dir=work.store.root) if self.stream else None
        self.can_defer = self.search is None or self.stream
        #: [where in the spool, the entries of the page that goes there] for each hole
        self.holes: list[list] = []
        if work.site_pages is not None:
            work.site_pages.filtered = True  # no index to read and filter again after the plugin wrote it

    def add(self, fragment: str) -> None:
        """The page's entries (JSON, without the brackets) after those of the pages before it."""
        if self.search is None or not fragment:
            return
        if self.spool is None:
            self.search._entries.extend(json.loads("[" + fragment + "]"))
            return
        self.spool.write(fragment.encode("utf-8") + b",")

    def hole(self) -> int | None:
        """A place for the entries of the next page, given later with :meth:`fill`."""
        if self.spool is None:
            return None
        self.holes.append([self.spool.tell(), ""])
        return len(self.holes) - 1

    def fill(self, hole: int | None, fragment: str) -> None:
        if hole is not None:
            self.holes[hole][1] = fragment

    def finish(self, config: "MkDocsConfig") -> None:
        if self.spool is None:
            return
        head = json.dumps({"config": self.search.config, "docs": []}, sort_keys=True, separators=(",", ":"), default=str)
        path = os.path.join(config.site_dir, "search", "search_index.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(head[: -len("]}")].encode("utf-8"))
            start = out.tell()
            done = 0
            for at, fragment in self.holes:
                _copy_range(self.spool, out, done, at)
                done = at
                if fragment:
                    out.write(fragment.encode("utf-8") + b",")
            self.spool.seek(done)
            shutil.copyfileobj(self.spool, out)
            if out.tell() > start:
                out.seek(out.tell() - 1)  # the comma after the last page's entries
            out.write(b"]}")
        self.close()

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _copy_range(src: Any, dst: Any, start: int, end: int) -> None:
    src.seek(start)
    left = end - start
    while left > 0:
        chunk = src.read(min(left, 1 << 20))
        if not chunk:
            return
        dst.write(chunk)
        left -= len(chunk)


def _validate_anchors(work: Work) -> None:
    level = work.config.validation.links.anchors
    for file in work.doc_files:
        file.page.validate_anchor_links(files=work.files, log_level=level)
