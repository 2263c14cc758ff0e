"""The work on one page of :mod:`.mkdocs_pages`, as MkDocs' build does it, in this process or in
worker processes (forked once the pages, navigation and titles are known, so they share them):

- :func:`convert`: Markdown → HTML (MkDocs' page events, ``Page.render``), saved in the page
  store; returns the page's :class:`~.pagecache.Converted` information and the warnings MkDocs
  logged (held back and logged again, in page order, by the build);
- :func:`render`: the theme's template with the page (MkDocs' ``_build_page``), written to the
  site; returns what it added to the search index and to flowdoc's page information.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Callable, Generator, Iterable, Iterator

from mkdocs import utils
from mkdocs.commands.build import get_context
from mkdocs.exceptions import BuildError
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import meta as _meta

from .pagecache import Converted, PageStore, lookup

__all__ = ["Running", "Work", "convert", "here", "in_process", "iter_all", "render", "search_fragment", "toc_tokens"]

log = logging.getLogger("mkdocs.commands.build")

#: fewer pages than this are worked on in this process
MIN_PARALLEL = 20
MAX_WORKERS = 8


class Work:
    """What the work on a page needs: the build's configuration, files, navigation, theme and store."""

    def __init__(self, config: Any, files: Any, store: PageStore) -> None:
        self.config = config
        self.files = files
        self.store = store
        self.nav: Any = None
        self.env: Any = None
        self.doc_files: Any = None
        self.search: Any = None  # the search plugin's SearchIndex
        self.site_pages: Any = None  # SitePages of flowdoc's plugin
        self.sink: Any = None  # the search index being written (mkdocs_pages)
        self.listing = ""  # the digest of every file (pagecache.Keys.listing)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[list] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append([record.name, record.levelno, record.getMessage()])


@contextmanager
def held_logs() -> Iterator[_Capture]:
    """MkDocs' log records, held (not handled) while the block runs."""
    logger = logging.getLogger("mkdocs")
    cap = _Capture()
    handlers, propagate = logger.handlers, logger.propagate
    logger.handlers, logger.propagate = [cap], False
    try:
        yield cap
    finally:
        logger.handlers, logger.propagate = handlers, propagate


def replay(logs: Iterable[list]) -> None:
    """Log again what MkDocs logged converting or rendering a page."""
    for name, level, message in logs:
        logging.getLogger(str(name)).log(int(level), "%s", message)


def toc_tokens(toc: Iterable[Any]) -> list[dict]:
    """A page's table of contents as the tokens :func:`mkdocs.structure.toc.get_toc` reads."""
    out: list[dict] = []
    stack = [(item, out) for item in reversed(list(toc))]
    while stack:
        item, into = stack.pop()
        tok = {"level": item.level, "id": item.id, "name": item.title, "children": []}
        into.append(tok)
        stack.extend((child, tok["children"]) for child in reversed(item.children))
    return out


def apply(page: Page, conv: Converted, files: Any) -> None:
    """Give ``page`` its conversion (its HTML stays in the store until the page is rendered)."""
    page.meta = conv.meta if conv.meta is not None else _meta.get_data(page.file.content_string)[1]
    page.markdown = ""  # read again when the page is rendered
    page.content = ""
    page.toc = get_toc([])  # made when the page is rendered (most pages of a rebuild are not)
    page._flowdoc_toc = conv.toc  # type: ignore[attr-defined]
    page._title_from_render = conv.title
    page.present_anchor_ids = set(conv.anchors)
    if conv.links is not None:
        links = {}
        for uri, anchors in conv.links.items():
            f = files.get_file_from_path(uri)
            if f is not None:
                links[f] = dict(anchors)
        page.links_to_anchors = links


def convert(work: Work, page: Page, key: str) -> Converted:
    """MkDocs' ``_populate_page`` on ``page``; the HTML goes to the store under ``key``."""
    config, files = work.config, work.files
    config._current_page = page
    with held_logs() as cap:
        try:
            page = config.plugins.on_pre_page(page, config=config, files=files)
            page.read_source(config)
            page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config, files=files)
            looked = _Lookups(files)
            page.render(config, looked)  # type: ignore[arg-type]  # a Files that keeps what it is asked
            page.content = config.plugins.on_page_content(page.content, page=page, config=config, files=files)
        except Exception as e:
            message = f"Error reading page '{page.file.src_uri}':"
            if not isinstance(e, BuildError):
                message += f" {e}"
            log.error(message)
            replay_now = cap.records
            raise _Failed(replay_now) from e
        finally:
            config._current_page = None
    links = None
    if page.links_to_anchors is not None:
        links = {f.src_uri: dict(a) for f, a in page.links_to_anchors.items()}
    conv = Converted(page._title_from_render, dict(page.meta), toc_tokens(page.toc),
                     sorted(page.present_anchor_ids or ()), links, cap.records,
                     None if looked.whole else looked.seen, work.listing if looked.whole else None)
    work.store.save_conversion(key, conv, page.content or "")
    page.content = page.markdown = None
    return conv


class _Lookups:
    """The documentation files as a page's conversion sees them, keeping what it looked up
    (``seen``); ``whole`` when it used them otherwise (then it depends on every file)."""

    def __init__(self, files: Any) -> None:
        self._files = files
        self.seen: dict[str, list | None] = {}
        self.whole = False

    def get_file_from_path(self, path: str) -> Any:
        self.seen[path] = lookup(self._files, path)
        return self._files.get_file_from_path(path)

    def __getattr__(self, name: str) -> Any:
        self.whole = True
        return getattr(self._files, name)

    def __iter__(self) -> Iterator[Any]:
        self.whole = True
        return iter(self._files)

    def __len__(self) -> int:
        self.whole = True
        return len(self._files)

    def __contains__(self, item: Any) -> bool:
        self.whole = True
        return item in self._files


class _Failed(Exception):
    """A page failed; ``logs`` are what MkDocs logged about it."""

    def __init__(self, logs: list[list]) -> None:
        super().__init__("page failed")
        self.logs = logs


def render(work: Work, page: Page, conv_key: str, excluded: bool) -> dict:
    """MkDocs' ``_build_page`` on ``page`` (its HTML from the store); returns its record:
    ``index`` (its search index entries, filtered, as JSON), ``site`` (flowdoc's information on it), ``logs``,
    ``written`` (the size and mtime of the file written, or None)."""
    config, nav, env = work.config, work.nav, work.env
    page.toc = get_toc(getattr(page, "_flowdoc_toc", None) or [])
    page.content = _content(work, page, conv_key)
    page.markdown, _ = _meta.get_data(page.file.content_string)
    before = len(work.search._entries) if work.search is not None else 0
    if work.site_pages is not None:
        work.site_pages.pages.pop(page.url, None)
    config._current_page = page
    with held_logs() as cap:
        try:
            page.active = True
            context = get_context(nav, work.doc_files, config, page)
            template = env.get_template(page.meta.get("template", "main.html"))
            context = config.plugins.on_page_context(context, page=page, config=config, nav=nav)
            if excluded:
                page.content = (
                    '<div class="mkdocs-draft-marker" title="This page will not be included into the built site.">'
                    "DRAFT</div>" + (page.content or "")
                )
            output = template.render(context)
            output = config.plugins.on_post_page(output, page=page, config=config)
            written = None
            if output.strip():
                utils.write_file(output.encode("utf-8", errors="xmlcharrefreplace"), page.file.abs_dest_path)
                st = os.stat(page.file.abs_dest_path)
                written = [st.st_size, st.st_mtime_ns]
            else:
                log.info(f"Page skipped: '{page.file.src_uri}'. Generated empty output.")
        except Exception as e:
            message = f"Error building page '{page.file.src_uri}':"
            if not isinstance(e, BuildError):
                message += f" {e}"
            log.error(message)
            raise _Failed(cap.records) from e
        finally:
            page.active = False
            config._current_page = None
            page.content, page.markdown = "", ""
    index = search_fragment(work, _take_entries(work, before))
    return {"index": index, "site": _take_info(work, page), "logs": cap.records, "written": written}


def search_fragment(work: Work, entries: list[dict]) -> str:
    """A page's search index entries as flowdoc keeps them (:meth:`~.pagemeta.SitePages.filter_entries`;
    the page's own information is still in ``work.site_pages``), as the search plugin writes them."""
    if work.site_pages is not None:
        entries = work.site_pages.filter_entries(entries)
    return ",".join(json.dumps(e, sort_keys=True, separators=(",", ":"), default=str) for e in entries)


def _content(work: Work, page: Page, key: str) -> str:
    """The page's HTML from the store; converted again when its entry is gone or damaged."""
    content = work.store.content(key)
    if content is None:
        meta, title, toc = page.meta, page._title_from_render, page.toc
        convert(work, page, key)
        page.meta, page._title_from_render, page.toc = meta, title, toc
        content = work.store.content(key)
    if content is None:
        raise OSError(f"the page cache could not keep the HTML of {page.file.src_uri}")
    return content


def _take_entries(work: Work, before: int) -> list[dict]:
    if work.search is None:
        return []
    entries = work.search._entries[before:]
    del work.search._entries[before:]
    return entries


def _take_info(work: Work, page: Page) -> dict | None:
    if work.site_pages is None:
        return None
    info = work.site_pages.pages.pop(page.url, None)
    if info is None:
        return None
    return {**info, "repeats": sorted(info.get("repeats") or ())}


# ------------------------------------------------------------------ workers

_WORK: dict[str, Any] = {}


def _call(item: tuple) -> tuple[str, Any]:
    fn, uri, args = item
    page = _WORK["work"].files.get_file_from_path(uri).page
    try:
        return "ok", fn(_WORK["work"], page, *args)
    except _Failed:
        return "failed", None
    except Exception:  # noqa: BLE001 - the page is worked on again in the build's process
        return "failed", None


#: >0 while some caller asked for pages to be worked on in this process (:func:`in_process`)
_in_process = 0


@contextmanager
def in_process() -> Iterator[None]:
    """Builds inside this block work on every page in this process: no fork. For callers that run
    threads of their own (``flowdoc serve``'s HTTP server), beside which fork is not safe."""
    global _in_process
    _in_process += 1
    try:
        yield
    finally:
        _in_process -= 1


def workers_for(n: int, *, eager: bool = False) -> int:
    """How many worker processes for ``n`` pages (0: work in this process); ``eager``: as soon as
    there is one page (this process has other work meanwhile)."""
    if n < (1 if eager else MIN_PARALLEL) or os.name != "posix" or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if _in_process:  # inside in_process(): a caller with threads of its own (flowdoc serve)
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cpus, MAX_WORKERS, n) if cpus > 1 else 0


def iter_all(work: Work, fn: Callable, items: list[tuple[Page, tuple]], *, eager: bool = False) -> "Running":
    """``(page, fn(work, page, *args))`` for each item, in order; in worker processes when there
    are enough pages. A page that fails in a worker is worked on again here (its error is then
    MkDocs' error, raised as a build from nothing raises it), and so are the pages left when a
    worker dies (killed, out of memory). ``eager``: the workers start now, on one page or more
    (the pages are worked on while this process does something else until it asks for them);
    :meth:`Running.close` stops them."""
    return Running(work, fn, items, workers_for(len(items), eager=eager))


class Running:
    """The pages being worked on (:func:`iter_all`): an iterator of ``(page, result)``."""

    def __init__(self, work: Work, fn: Callable, items: list[tuple[Page, tuple]], n: int) -> None:
        self.work, self.fn, self.items = work, fn, items
        self.pool: ProcessPoolExecutor | None = None
        results: Iterator[tuple[str, Any]] | None = None
        if n > 0:
            _WORK["work"] = work
            self.pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"))
            try:
                jobs = [(fn, page.file.src_uri, args) for page, args in items]
                results = self.pool.map(_call, jobs, chunksize=max(1, min(16, len(items) // (n * 8))))
            except BaseException:
                self._shutdown()
                raise
        self._gen = self._iterate(results)

    def __iter__(self) -> "Running":
        return self

    def __next__(self) -> tuple[Page, Any]:
        return next(self._gen)

    def _iterate(self, results: Iterator[tuple[str, Any]] | None) -> Generator[tuple[Page, Any], None, None]:
        work, fn, items = self.work, self.fn, self.items
        done = 0
        if results is not None and self.pool is not None:
            try:
                for (page, args), (status, result) in zip(items, results, strict=True):
                    yield page, (result if status == "ok" else here(work, fn, page, args))
                    done += 1
                self.pool.shutdown(wait=True)
            except BrokenProcessPool:
                pass
            finally:
                self._shutdown()
        for page, args in items[done:]:
            yield page, here(work, fn, page, args)

    def close(self) -> None:
        """Stop the workers (the pages not given yet are not worked on)."""
        self._gen.close()
        self._shutdown()

    def _shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
            _WORK.clear()


def here(work: Work, fn: Callable, page: Page, args: tuple) -> Any:
    try:
        return fn(work, page, *args)
    except _Failed as failed:
        replay(failed.logs)
        raise failed.__cause__ from None  # type: ignore[misc]
