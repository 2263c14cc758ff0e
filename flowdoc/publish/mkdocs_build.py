"""MkDocs for ``flowdoc build``: the MkDocs project (given or built in), its configuration,
the run into a temporary folder beside the output (:func:`run_mkdocs`), and the swap that
replaces the output with it (:func:`swap_site`)."""

from __future__ import annotations

import logging
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import mkdocs
import yaml
from mkdocs import exceptions
from mkdocs.commands.build import build
from mkdocs.config import load_config

from .cache import digest, digest_json
from .markdown import EXTENSION
from .mkdocs_pages import PageStats, build_pages, supported
from .pagecache import PageStore
from .output import check_replaceable, new_temp, swap_in, write_marker
from .errors import PublishError
from .pagemeta import SitePlugin
from .pages import Layout, add_assets
from .templates import templates_digest

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

__all__ = [
    "MkDocsFailed",
    "PageRun",
    "default_project",
    "ensure_extensions",
    "load_mkdocs_config",
    "project_digest",
    "run_mkdocs",
    "swap_site",
]

#: Markdown extensions the generated pages use; added to the MkDocs configuration when missing.
REQUIRED_EXTENSIONS = ("tables", "md_in_html", "attr_list", "toc", EXTENSION)


DEFAULT_PROJECT = """\
# flowdoc's built-in MkDocs project, used when there is no site/mkdocs.yml
site_name: Authentication flows
docs_dir: docs
use_directory_urls: true
theme:
  name: mkdocs
  highlightjs: false
nav:
  - Flows: {index}
markdown_extensions:
  - toc:
      permalink: true
  - tables
  - admonition
  - md_in_html
  - attr_list
"""


def default_project(cache: Path, layout: Layout) -> Path:
    """Write the built-in MkDocs project into the cache and return its mkdocs.yml."""
    folder = cache / "default-project"
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    cfg = folder / "mkdocs.yml"
    text = DEFAULT_PROJECT.format(index=layout.index)
    if not cfg.is_file() or cfg.read_text(encoding="utf-8") != text:
        cfg.write_text(text, encoding="utf-8")
    return cfg


@contextmanager
def mkdocs_logs(sink: list[str], level: int = logging.WARNING) -> Iterator[None]:
    """Collect MkDocs' warnings (instead of letting them go to the root logger)."""
    logger = logging.getLogger("mkdocs")

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            sink.append(f"{record.levelname}: {record.getMessage()}")

    handler = _Handler(level)
    old_propagate, old_level = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate = False
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate
        logger.setLevel(old_level)


def load_mkdocs_config(config_file: Path, sink: list[str]) -> "MkDocsConfig":
    if not config_file.is_file():
        raise PublishError(f"{config_file}: no such MkDocs configuration file")
    try:
        with mkdocs_logs(sink):
            return load_config(str(config_file))
    except (exceptions.ConfigurationError, exceptions.Abort) as exc:
        raise PublishError(f"{config_file}: {exc}") from None


def ensure_extensions(cfg: "MkDocsConfig") -> None:
    """Add the Markdown extensions the generated pages need."""
    have = {str(e) for e in cfg.markdown_extensions}
    for ext in REQUIRED_EXTENSIONS:
        if ext not in have:
            cfg.markdown_extensions.append(ext)



class MkDocsFailed(PublishError):
    """MkDocs failed on the staged docs (which may come from the cache)."""


def project_digest(config_file: Path, cfg: "MkDocsConfig") -> str:
    """What of the MkDocs project, besides its docs, the HTML depends on: the configuration
    (and the one it INHERITs), the theme's custom_dir, and the MkDocs version."""
    parts: list[object] = [mkdocs.__version__, cfg.theme.name, digest(config_file.read_bytes())]
    try:
        inherit = (yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}).get("INHERIT")
    except Exception:  # a !!python tag and the like: MkDocs read it, so ignore
        inherit = None
    if isinstance(inherit, str) and (config_file.parent / inherit).is_file():
        parts.append(digest((config_file.parent / inherit).read_bytes()))
    custom = cfg.theme.custom_dir
    if custom and Path(custom).is_dir():
        parts.append(templates_digest(custom))
    return digest_json(parts)


@dataclass
class PageRun:
    """The page cache for a run of MkDocs (:mod:`.mkdocs_pages`): its store, the project's digest
    (:func:`project_digest`), the sha256 of each staged file, and what the run did."""

    store: PageStore
    project: str
    digests: dict[str, str]
    stats: PageStats = field(default_factory=PageStats)

    @classmethod
    def at(cls, cache: Path, project: str, digests: dict[str, str]) -> "PageRun":
        """The page cache of the build cache folder ``cache``."""
        return cls(PageStore(cache / "pages"), project, digests)


def run_mkdocs(
    cfg: "MkDocsConfig",
    docs: Path,
    out: Path,
    extra_css: list[str],
    extra_js: list[str],
    strict: bool,
    warnings: list[str],
    pages: PageRun | None = None,
) -> Path:
    """Build the site from ``docs`` into a new temporary folder beside ``out`` and return it;
    :class:`MkDocsFailed` (and no folder left) when MkDocs fails. With ``pages``, page by page
    (:func:`~.mkdocs_pages.build_pages`) when every plugin is one it knows, reusing the pages of
    the site in ``out``; else MkDocs' own build."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp(out)
    cfg.docs_dir = str(docs)
    cfg.site_dir = str(tmp)
    if strict:
        cfg.strict = True
    ensure_extensions(cfg)
    add_assets(cfg, extra_css, extra_js)
    if "flowdoc-csp" not in cfg.plugins:  # a Content-Security-Policy (csp.py), navigation, search (pagemeta.py)
        cfg.plugins["flowdoc-csp"] = SitePlugin()
    with _removed_on_failure(tmp, warnings):
        with mkdocs_logs(warnings):
            _build(cfg, out, pages, warnings)
        write_marker(tmp)
    return tmp


def _build(cfg: "MkDocsConfig", out: Path, pages: PageRun | None, warnings: list[str]) -> None:
    other = supported(cfg) if pages is not None else None
    if pages is None or other is not None:
        if pages is not None:
            pages.store.forget_site()
            warnings.append(f"INFO: the MkDocs plugin '{other}' is not one flowdoc knows: every page is built by MkDocs")
        build(cfg)
        return
    previous = out if out.is_dir() else None
    build_pages(cfg, pages.store, previous=previous, project=pages.project, digests=pages.digests, stats=pages.stats)


def swap_site(tmp: Path, out: Path, warnings: list[str], force: bool = False, pages: PageRun | None = None) -> None:
    """Replace ``out`` with the site built in ``tmp``, if ``out`` is still a site of flowdoc
    (or empty, or gone) or ``force``; otherwise remove ``tmp`` and raise. ``pages``: the page
    cache then knows the pages of the site in ``out``."""
    with _removed_on_failure(tmp, warnings):
        check_replaceable(out, force=force)
    if pages is not None:
        pages.store.forget_site()
    swap_in(tmp, out)
    if pages is not None:
        pages.store.commit(out)


@contextmanager
def _removed_on_failure(tmp: Path, warnings: list[str]) -> Iterator[None]:
    """Remove ``tmp`` when the block fails; MkDocs' errors (and OS errors) become :class:`MkDocsFailed`."""
    try:
        yield
    except (exceptions.MkDocsException, exceptions.Abort, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        detail = "\n".join(w for w in warnings if w.startswith(("WARNING", "ERROR")))
        raise MkDocsFailed(f"MkDocs failed: {exc}" + (f"\n{detail}" if detail else "")) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
