"""The page cache of ``flowdoc build``'s MkDocs stage (:mod:`.mkdocs_pages`), in ``CACHE/pages``:

- ``conv/``: a page's conversion (Markdown → HTML), by its conversion key
  (:meth:`Keys.conversion`): the HTML, its table of contents, title, front matter, the anchors
  it has and links to, and the warnings MkDocs logged converting it (logged again when reused);
- ``out/``: what rendering a page added to the site besides its HTML file (its search index
  entries, flowdoc's information on it), by its output key (:meth:`Keys.output`);
- ``site.json``: the output key, size and modification time of each page of the site in the
  output folder, written once that site is in place (:meth:`PageStore.commit`).

Every entry is checked when read; one that is missing or not well formed is made again (the
page is converted or rendered as in a build from nothing). Entries no build used are removed.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import markdown
import mkdocs

from .cache import code_fingerprint, digest, digest_json
from .templates import templates_digest

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import File, Files

__all__ = ["Converted", "Keys", "PageStore", "SiteIndex", "lookup", "nav_digest"]

FORMAT = 1


@dataclass
class Converted:
    """A page's conversion, without its HTML (small: every page's is kept during a build)."""

    title: str | None
    #: the front matter (None: read it from the page)
    meta: dict | None
    toc: list
    anchors: list[str]
    #: src_uri -> {anchor: the link as written}, or None (MkDocs keeps none at DEBUG level)
    links: dict[str, dict[str, str]] | None
    #: (logger name, level, message) MkDocs logged converting the page
    logs: list[list] = field(default_factory=list)
    #: the documentation files the conversion looked up (links): path -> [url, inclusion] or None
    #: (not found); None when it used the whole list of files (``listing`` is then its digest)
    lookups: dict[str, list | None] | None = None
    listing: str | None = None

    def to_json(self) -> dict:
        """The information as JSON; a front matter JSON does not give back as it is (dates, say)
        is kept as None: it is read again from the page (:func:`~.pagework.apply`)."""
        return {"title": self.title, "meta": self.meta if _json_exact(self.meta) else None, "toc": self.toc, "anchors": self.anchors,
                "links": self.links, "logs": self.logs, "lookups": self.lookups, "listing": self.listing}

    @classmethod
    def from_json(cls, data: Any) -> "Converted | None":
        try:
            c = cls(data["title"], data["meta"], data["toc"], data["anchors"], data["links"], data["logs"],
                    data["lookups"], data["listing"])
        except (KeyError, TypeError):
            return None
        if not ((c.lookups is None and isinstance(c.listing, str)) or isinstance(c.lookups, dict)):
            return None
        ok = (
            (c.title is None or isinstance(c.title, str))
            and (c.meta is None or isinstance(c.meta, dict))
            and isinstance(c.toc, list)
            and isinstance(c.anchors, list)
            and (c.links is None or isinstance(c.links, dict))
            and all(isinstance(r, list) and len(r) == 3 and isinstance(r[1], int) for r in c.logs)
        )
        return c if ok else None


def _plain(o: Any) -> Any:
    return sorted(o, key=repr) if isinstance(o, (set, frozenset)) else str(o)


def canonical(value: Any) -> str:
    """``value`` as the same text in every process: sets sorted (their order changes with the
    process's string hashing), other objects by their text."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_plain)
    except (TypeError, ValueError):  # keys that do not sort: a text that at worst differs (no reuse)
        return repr(value)


def _json_exact(value: Any) -> bool:
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False


def _stamps(names: list[str]) -> list:
    """What tells an installed module from another version of it: the size and time of its
    file (extensions named by module; Markdown's own are covered by Markdown's version)."""
    out: list = []
    for name in names:
        top = name.split(":")[0].split(".")[0]
        try:
            spec = importlib.util.find_spec(top) if "." in name or ":" in name else None
        except (ImportError, ValueError):
            spec = None
        origin = getattr(spec, "origin", None)
        try:
            st = os.stat(origin) if origin else None
        except OSError:
            st = None
        out.append([top, origin, st.st_size if st else None, st.st_mtime_ns if st else None])
    return out


def _theme_key(cfg: "MkDocsConfig") -> str:
    """The theme's templates: the custom_dir's files; the others by name, size and time."""
    custom = cfg.theme.custom_dir
    parts: list[object] = [cfg.theme.name, canonical(dict(cfg.theme)), mkdocs.__version__]
    if custom and Path(custom).is_dir():
        parts.append(templates_digest(custom))
    for d in cfg.theme.dirs:
        if custom and Path(d) == Path(custom):
            continue
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
            for name in sorted(filenames):
                try:
                    st = os.stat(os.path.join(dirpath, name))
                except OSError:
                    continue
                parts.append([os.path.relpath(os.path.join(dirpath, name), d), st.st_size, st.st_mtime_ns])
    return digest_json(parts)


class Keys:
    """The keys of a build's pages: what a page's conversion and its HTML depend on."""

    def __init__(self, cfg: "MkDocsConfig", files: "Files", project: str, digests: dict[str, str]) -> None:
        level = logging.getLogger("mkdocs").getEffectiveLevel()
        exts = [str(e) for e in cfg.markdown_extensions]
        listing = sorted((f.src_uri, f.dest_uri, f.url, f.inclusion.name) for f in files)
        self.digests = digests
        self.files = files
        #: every file of the site; a conversion depends on the files it looked up (Converted.lookups)
        self.listing = digest_json(listing)
        self.conv_env = digest_json([
            FORMAT, mkdocs.__version__, markdown.__version__, code_fingerprint(), project, exts,
            canonical(cfg.mdx_configs), _stamps(exts), cfg.use_directory_urls, canonical(dict(cfg.validation)), level,
            list(cfg.plugins),
        ])
        self.theme = _theme_key(cfg)
        self.project = project

    def source(self, file: "File") -> str:
        """The sha256 of the page's Markdown (of the staged folder when known)."""
        if file.generated_by is None and file.src_uri in self.digests:
            return self.digests[file.src_uri]
        return digest(file.content_bytes)

    def still_valid(self, conv: Converted) -> bool:
        """The files a conversion looked up are still what they were (so its links are too)."""
        if conv.lookups is None:
            return conv.listing == self.listing
        return all(lookup(self.files, path) == was for path, was in conv.lookups.items())

    def conversion(self, file: "File") -> str:
        return digest_json([self.conv_env, file.src_uri, self.source(file), file.inclusion.name])

    def output_env(self, cfg: "MkDocsConfig", nav_digest: str, build_date: str) -> str:
        """What every page's HTML depends on besides its own conversion and place."""
        listing = self.listing if _theme_lists_pages(cfg) else None
        return digest_json([
            self.conv_env, self.theme, self.project, listing, [str(s) for s in cfg.extra_css],
            [str(s) for s in cfg.extra_javascript], cfg.site_url, cfg.use_directory_urls, nav_digest, build_date,
            sorted(str(t) for t in cfg.theme.static_templates), cfg.strict,
        ])


def lookup(files: "Files", path: str) -> list | None:
    """What a page sees of the file at ``path``: its URL and inclusion, or None."""
    f = files.get_file_from_path(path)
    return None if f is None else [f.url, f.inclusion.name]


_PAGES_VAR = re.compile(r"(?<![.\w])pages\b")


def _theme_lists_pages(cfg: "MkDocsConfig") -> bool:
    """A template of the theme (not the sitemap, built on every build) may use the ``pages``
    variable, the list of every page: then every page depends on every file."""
    for d in cfg.theme.dirs:
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames[:] = [n for n in dirnames if not n.startswith(".")]
            for name in filenames:
                if name.endswith((".html", ".j2", ".jinja")) and name != "sitemap.xml":
                    try:
                        text = Path(dirpath, name).read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        return True
                    if _PAGES_VAR.search(text):
                        return True
    return False


def nav_digest(nav: Any) -> str:
    """The navigation every page shows: titles, URLs and structure."""
    out: list = []
    stack: list = [(item, 0) for item in reversed(nav.items)]
    while stack:
        item, depth = stack.pop()
        url = getattr(item, "url", None)
        out.append([depth, type(item).__name__, item.title, url])
        for child in reversed(getattr(item, "children", None) or []):
            stack.append((child, depth + 1))
    home = nav.homepage.url if nav.homepage is not None else None
    return digest_json([out, home])


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class SiteIndex:
    """The pages of a site: dest_uri -> [output key, size, mtime_ns] of its file."""

    out: str = ""
    pages: dict[str, list] = field(default_factory=dict)

    def unchanged(self, site: Path, dest_uri: str, key: str) -> tuple[str, int, int] | None:
        """The page's file in ``site`` (path, size, mtime_ns) when it was made with ``key`` and
        is as it was written."""
        rec = self.pages.get(dest_uri)
        if not (isinstance(rec, list) and len(rec) == 3 and rec[0] == key):
            return None
        path = os.path.join(site, dest_uri)
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (path, st.st_size, st.st_mtime_ns) if (st.st_size, st.st_mtime_ns) == (rec[1], rec[2]) else None


class PageStore:
    """The ``pages`` folder of the build cache (see the module)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = str(root)
        self.used_conv: set[str] = set()
        self.used_out: set[str] = set()
        self.pending: SiteIndex | None = None

    def _conv(self, key: str) -> Path:
        return Path(self._conv_name(key))

    def _conv_name(self, key: str) -> str:
        return os.path.join(self._base, "conv", key[:2], key)

    def _out(self, key: str) -> Path:
        return Path(self._out_name(key))

    def _out_name(self, key: str) -> str:
        return os.path.join(self._base, "out", key[:2], key + ".json")

    # ----------------------------------------------------------- conversions
    def load_conversion(self, key: str) -> Converted | None:
        """The conversion's information (not its HTML), or None."""
        try:
            with open(self._conv_name(key), "rb") as fh:
                head = fh.readline()
                c = Converted.from_json(json.loads(head))
        except (OSError, ValueError):
            return None
        if c is not None:
            self.used_conv.add(key)
        return c

    def has_conversion(self, key: str) -> bool:
        return os.path.isfile(self._conv_name(key))

    def content(self, key: str) -> str | None:
        """The HTML of a conversion; None when it is gone or not what was saved."""
        try:
            with open(self._conv(key), "rb") as fh:
                head = json.loads(fh.readline())
                data = fh.read()
        except (OSError, ValueError):
            return None
        if not isinstance(head, dict) or head.get("sha256") != digest(data):
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def save_conversion(self, key: str, conv: Converted, content: str) -> None:
        data = content.encode("utf-8")
        head = json.dumps({**conv.to_json(), "sha256": digest(data)}, ensure_ascii=True, separators=(",", ":"))
        _write_atomic(self._conv(key), head.encode() + b"\n" + data)
        self.used_conv.add(key)

    # ---------------------------------------------------------------- output
    def load_output(self, key: str) -> dict | None:
        """What rendering the page added to the site: {"index": its search index entries (JSON,
        without the brackets), "site": flowdoc's information on it, or None, "logs": what MkDocs
        logged rendering it}."""
        try:
            with open(self._out_name(key), "rb") as fh:
                data = json.loads(fh.read())
        except (OSError, ValueError):
            return None
        if not (isinstance(data, dict) and isinstance(data.get("index"), str)
                and (data.get("site") is None or isinstance(data.get("site"), dict))
                and isinstance(data.get("logs"), list)
                and all(isinstance(r, list) and len(r) == 3 and isinstance(r[1], int) for r in data["logs"])):
            return None
        if data.get("sha256") != digest(data["index"]):  # the entries as they were written (valid JSON)
            return None
        self.used_out.add(key)
        return data

    def save_output(self, key: str, record: dict) -> None:
        record = {**record, "sha256": digest(record["index"])}
        _write_atomic(self._out(key), json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode())
        self.used_out.add(key)

    # ------------------------------------------------------------------ site
    def site_index(self, out: Path) -> SiteIndex:
        """The pages of the site in ``out`` (empty when they are not known)."""
        try:
            data = json.loads((self.root / "site.json").read_bytes())
        except (OSError, ValueError):
            return SiteIndex()
        if not (isinstance(data, dict) and data.get("format") == FORMAT and data.get("out") == str(out)
                and isinstance(data.get("pages"), dict)):
            return SiteIndex()
        return SiteIndex(str(out), data["pages"])

    def commit(self, out: Path) -> None:
        """The site built (:attr:`pending`) is now in ``out``."""
        if self.pending is None:
            return
        data = {"format": FORMAT, "out": str(out), "pages": self.pending.pages}
        _write_atomic(self.root / "site.json", json.dumps(data, separators=(",", ":")).encode())
        self.pending = None

    def forget_site(self) -> None:
        (self.root / "site.json").unlink(missing_ok=True)

    def sweep(self) -> None:
        """Remove the entries this build did not use."""
        for sub, used, suffix in (("conv", self.used_conv, ""), ("out", self.used_out, ".json")):
            base = self.root / sub
            if not base.is_dir():
                continue
            for d in os.scandir(base):
                if not d.is_dir(follow_symlinks=False):
                    continue
                for e in os.scandir(d.path):
                    name = e.name[: len(e.name) - len(suffix)] if suffix and e.name.endswith(suffix) else e.name
                    if name not in used:
                        Path(e.path).unlink(missing_ok=True)
