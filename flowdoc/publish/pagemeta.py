"""What the site does with the front matter of flowdoc's pages, in any theme.

:mod:`.pages` writes a front matter on each generated flow page (MkDocs reads it into
``page.meta``)::

    title: "Sign in with the implicit flow (v1, deprecated)"
    flowdoc: {"flow": ID, "flow_title": ..., "kind": "version", "nav": "v1 (1.0.1, deprecated)",
              "order": 2, "label": "v1, deprecated", "deprecated": true,
              "canonical": "ID/latest.md"}             # a vN page that repeats the latest
    search: {"exclude": true}                          # the same page (mkdocs-material reads it)
    status: "deprecated"                               # mkdocs-material's navigation mark

and :class:`SitePages`, used by ``flowdoc build`` (:class:`SitePlugin`) and the MkDocs plugin:

- **navigation** (an automatic ``nav``): the folder of a flow becomes a section named by the
  flow's title, its pages latest first, then the major versions newest first, the changelog
  last, each with a short title (``Latest (2.0.1)``, ``v1 (1.0.1, deprecated)``);
- **canonical link**: a vN page that repeats the latest page points to it
  (``<link rel="canonical">``, absolute with ``site_url``);
- **search index** (``search/search_index.json`` of MkDocs' search or mkdocs-material's): the
  repeated pages are left out, and the entries of older and deprecated versions carry their
  label (``Steps (v1, deprecated)``), so a search returns each page once, labelled.
"""

from __future__ import annotations

import html
import json
import os
import re
from typing import Any

from mkdocs.plugins import event_priority, get_plugin_logger
from mkdocs.structure.nav import Section
from mkdocs.structure.pages import Page
from mkdocs.utils import meta as _meta

from ..render.labels import readable_loose
from .assets import offline_theme
from .csp import CspPlugin, add_csp

__all__ = [
    "SitePages",
    "SitePlugin",
    "flow_page_meta",
    "front_matter",
    "is_deprecated",
    "nav_order",
    "page_info",
    "readable_changes",
]

KEY = "flowdoc"


def front_matter(meta: dict) -> str:
    """YAML front matter MkDocs reads into ``page.meta``: one ``key: JSON`` line per key (JSON is
    YAML, and ASCII-escaped it is safe whatever the text). Titles are HTML-escaped: themes write
    ``page.title`` and ``page.meta.title`` into the HTML as they are."""
    meta = dict(meta)
    if "title" in meta:
        meta["title"] = html.escape(str(meta["title"]), quote=True)
    info = meta.get(KEY)
    if isinstance(info, dict):
        info = dict(info)
        for key in ("nav", "flow_title", "label"):
            if key in info:
                info[key] = html.escape(str(info[key]), quote=True)
        meta[KEY] = info
    lines = [f"{key}: {json.dumps(value, sort_keys=True)}" for key, value in meta.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n"


# ------------------------------------------------------------- what pages.py writes


def _labels(flow: Any, kind: str, current: str, deprecated: bool) -> tuple[str, str, str]:
    """(label, navigation title, page title) of a flow page."""
    version = flow.version or ""
    if kind == "changelog":
        return "", "Changelog", f"Changelog: {flow.title}"
    if kind == "version":
        label = current + (", deprecated" if deprecated else "")
        nav = f"{current} ({version}{', deprecated' if deprecated else ''})" if version else label
        return label, nav, f"{flow.title} ({label})"
    nav = (f"Latest ({version})" if version else "Latest") + (" (deprecated)" if deprecated else "")
    return ("deprecated" if deprecated else ""), nav, flow.title + (" (deprecated)" if deprecated else "")


def nav_order(fv: Any, current: str) -> int:
    """Latest first, then the major versions newest first, the changelog last."""
    if current == "latest":
        return 0
    if current == "changelog":
        return 1000
    majors = [f"v{m}" for m, _ in fv.majors()]
    return 1 + majors.index(current) if current in majors else 999


def is_deprecated(flow: Any) -> bool:
    return flow.deprecation is not None or getattr(flow.status, "value", flow.status) == "deprecated"


def flow_page_meta(fv: Any, flow: Any, kind: str, current: str, latest_uri: str) -> dict:
    """The front matter of a flow page (see the module): its title and label in navigation and
    search, and, for a vN page that repeats the latest (``latest_uri``), a canonical link and no
    search entry. ``kind``: latest | version | changelog | flow."""
    deprecated = is_deprecated(flow) and kind != "changelog"
    label, nav, title = _labels(flow, kind, current, deprecated)
    info: dict[str, Any] = {
        "flow": fv.id,
        "flow_title": fv.latest.title + (" (deprecated)" if is_deprecated(fv.latest) else ""),
        "kind": kind,
        "nav": nav,
        "order": nav_order(fv, current),
    }
    if label:
        info["label"] = label
    meta: dict[str, Any] = {"title": title, KEY: info}
    if deprecated:
        info["deprecated"] = True
        meta["status"] = "deprecated"  # mkdocs-material marks the page in its navigation
    if kind == "version" and flow is fv.latest:  # the same page as latest: one search result, one URL
        info["canonical"] = latest_uri
        meta["search"] = {"exclude": True}
    return meta


def readable_changes(fv: Any, entries: list[dict]) -> list[dict]:
    """A flow's changelog ``entries`` (:func:`.pages.changelog_for`), their change messages read as
    a reader reads the page: a value they quote (``'${pkce.challenge}'``) in words (``'the PKCE
    challenge'``), as that version's flow says."""
    flows = {f.version: f for f in fv.history}
    out = []
    for entry in entries:
        flow = flows.get(entry.get("version")) or fv.latest
        changes = [{**c, "message": readable_loose(flow, str(c.get("message", "")))} for c in entry.get("changes") or []]
        out.append({**entry, "changes": changes})
    return out


def page_info(meta: Any) -> dict | None:
    info = meta.get(KEY) if isinstance(meta, dict) else None
    return info if isinstance(info, dict) and isinstance(info.get("flow"), str) else None


def _source_info(page: Page) -> dict | None:
    """The flowdoc front matter of a page before MkDocs has read it (navigation comes first)."""
    try:
        text = page.file.content_string
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("---"):
        return None
    _, meta = _meta.get_data(text)
    info = page_info(meta)
    if info is not None and isinstance(meta.get("title"), str):
        info = {**info, "title": meta["title"]}
    return info


_CANONICAL = re.compile(r"<link\s+rel=\"canonical\"\s+href=\"[^\"]*\"\s*/?>", re.I)
_HEAD_END = re.compile(r"</head\s*>", re.I)


class SitePages:
    """Navigation, canonical links and the search index of flowdoc's pages (see the module)."""

    def __init__(self) -> None:
        self.files: Any = None
        #: page URL -> its flowdoc front matter (pages MkDocs rendered in this build)
        self.pages: dict[str, dict] = {}
        #: src_uri -> the full title of a page whose navigation title was shortened
        self.full_titles: dict[str, str] = {}
        #: the search plugin's entries were filtered before it wrote them (flowdoc's driver, mkdocs_pages)
        self.filtered = False

    # ------------------------------------------------------------ navigation
    def on_files(self, files: Any) -> None:
        self.files = files
        self.filtered = False
        self.pages = {}
        self.full_titles = {}

    def on_nav(self, nav: Any) -> Any:
        """Sections of flow folders named by the flow, their pages latest first, short titles."""
        changed = False
        stack = list(nav.items)
        while stack:
            item = stack.pop()
            if isinstance(item, Section):
                changed |= self._flow_section(item)
                stack.extend(item.children)
        if changed:
            _relink(nav)
        return nav

    def _flow_section(self, section: Section) -> bool:
        pages = [c for c in section.children if isinstance(c, Page)]
        infos = {id(p): _source_info(p) for p in pages}
        flows = {i["flow"] for i in infos.values() if i is not None and i.get("kind") != "index"}
        if len(flows) != 1 or any(i is None for i in infos.values()):
            return False
        first = next(iter(infos.values())) or {}
        section.title = first.get("flow_title") or section.title
        others = [c for c in section.children if not isinstance(c, Page)]
        section.children = sorted(pages, key=lambda p: (infos[id(p)] or {}).get("order", 999)) + others
        for p in pages:
            self._short_title(p, infos[id(p)] or {})
        return True

    def _short_title(self, page: Page, info: dict) -> None:
        """The page's title in the navigation (its full title kept for <title> and search)."""
        if info.get("nav"):
            if info.get("title"):
                self.full_titles[page.file.src_uri] = info["title"]
            page.title = info["nav"]

    # ----------------------------------------------------------------- pages
    def on_page_context(self, page: Any) -> None:
        info = page_info(getattr(page, "meta", None))
        if info is not None:
            full = self.full_titles.get(page.file.src_uri) or page.meta.get("title") or page.title
            # a flow page's changelog repeats the changelog page: searched there only
            repeat = _section_ids(page.toc, "changelog") if info.get("kind") in ("latest", "version", "flow") else set()
            h1 = next((getattr(i, "id", None) for i in (page.toc or []) if getattr(i, "level", 0) == 1), None)
            self.pages[page.url] = {**info, "title": full, "repeats": repeat, "h1": h1}

    def on_post_page(self, output: str, page: Any, config: Any) -> str:
        info = page_info(getattr(page, "meta", None))
        if info is None:
            return output
        short, full = page.title, self.full_titles.get(page.file.src_uri)
        if full and short and full != short:
            output = output.replace(f"<title>{short} - ", f"<title>{full} - ", 1)
            output = output.replace(f"<title>{short}</title>", f"<title>{full}</title>", 1)
        target = info.get("canonical")
        if isinstance(target, str) and self.files is not None:
            output = _canonical(output, page, self.files.get_file_from_path(target), config)
        return output

    # ---------------------------------------------------------------- search
    def filter_entries(self, entries: list) -> list:
        """The search index entries as they should be (see :meth:`_search_entry`)."""
        whole = {d.get("location") for d in entries if isinstance(d, dict) and "#" not in str(d.get("location"))}
        return [d for d in (self._search_entry(d, whole) for d in entries) if d is not None]

    def on_post_build(self, config: Any) -> None:
        path = os.path.join(config.site_dir, "search", "search_index.json")
        if not self.pages or self.filtered or not os.path.isfile(path):
            return
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        docs = data.get("docs") if isinstance(data, dict) else None
        if not isinstance(docs, list):
            return
        data["docs"] = self.filter_entries(docs)
        data.pop("index", None)  # a prebuilt lunr index would still hold the entries left out
        with open(path, "w", encoding="utf-8") as fh:  # as the search plugin writes it
            json.dump(data, fh, sort_keys=True, separators=(",", ":"))

    def _search_entry(self, doc: Any, whole: set) -> Any:
        """An entry of the search index as it should be (None: left out): no entry for a page
        that repeats another (a copy of latest), for a page's changelog (the changelog page has
        it), or for a page's title when the page has an entry of its own; older and deprecated
        versions labelled."""
        if not isinstance(doc, dict) or not isinstance(doc.get("location"), str):
            return doc
        url, _, anchor = doc["location"].partition("#")
        info = self.pages.get(url)
        if info is None:
            return doc
        if info.get("canonical") or (anchor and anchor in info.get("repeats", ())):
            return None
        if anchor and anchor == info.get("h1") and url in whole:
            return None
        title = str(doc.get("title") or "")
        if "#" not in doc["location"] and info.get("title"):
            doc["title"] = info["title"]
        elif info.get("label") and info["label"] not in title:
            doc["title"] = f"{title} ({info['label']})"
        return doc


def _section_ids(toc: Any, top: str) -> set[str]:
    """The ids of the heading ``top`` of a page's table of contents and of the headings under it."""
    found: set[str] = set()
    stack = [(item, False) for item in (toc or [])]
    while stack:
        item, inside = stack.pop()
        inside = inside or getattr(item, "id", None) == top
        if inside:
            found.add(item.id)
        stack.extend((child, inside) for child in getattr(item, "children", []) or [])
    return found


def _canonical(output: str, page: Any, target: Any, config: Any) -> str:
    if target is None:
        return output
    if config.site_url:
        href = config.site_url.rstrip("/") + "/" + target.url
    else:
        href = target.url_relative_to(page.file)
    tag = f'<link rel="canonical" href="{html.escape(href, quote=True)}">'
    if _CANONICAL.search(output):
        return _CANONICAL.sub(lambda _m: tag, output, count=1)
    end = _HEAD_END.search(output)
    return output if end is None else output[: end.start()] + tag + "\n" + output[end.start():]


def _relink(nav: Any) -> None:
    """The navigation's page order (previous/next links) after sections were reordered."""
    pages: list[Page] = []
    stack = list(reversed(nav.items))
    while stack:
        item = stack.pop()
        if isinstance(item, Page):
            pages.append(item)
        elif isinstance(item, Section):
            stack.extend(reversed(item.children))
    nav.pages = pages
    for i, p in enumerate(pages):
        p.previous_page = pages[i - 1] if i else None
        p.next_page = pages[i + 1] if i + 1 < len(pages) else None


class SitePlugin(CspPlugin):
    """``flowdoc build``'s own MkDocs plugin: the Content-Security-Policy (:mod:`.csp`),
    :class:`SitePages`, and a theme that loads nothing from a CDN unless the mkdocs.yml says so
    (:func:`~flowdoc.publish.assets.offline_theme`)."""

    def __init__(self) -> None:
        super().__init__()
        self.site_pages = SitePages()

    def on_config(self, config):
        offline_theme(config, get_plugin_logger("flowdoc"))
        return config

    def on_files(self, files, /, *, config):
        self.site_pages.on_files(files)
        return files

    def on_nav(self, nav, /, *, config, files):
        return self.site_pages.on_nav(nav)

    def on_page_context(self, context, /, *, page, config, nav):
        self.site_pages.on_page_context(page)
        return context

    @event_priority(-100)  # last: the policy hashes the page's final inline scripts
    def on_post_page(self, output: str, /, *, page, config) -> str:
        return add_csp(self.site_pages.on_post_page(output, page, config), getattr(page, "content", None))

    @event_priority(-100)  # after the search plugin wrote its index (unless its entries were filtered before)
    def on_post_build(self, *, config) -> None:
        self.site_pages.on_post_build(config)
