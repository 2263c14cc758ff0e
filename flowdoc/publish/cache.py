"""The build cache of ``flowdoc build``: content hashes, so unchanged flows are not re-rendered.

A flow's pages are reused when the hash of everything they are made from is unchanged:
the bytes of every file of that flow id (for a version from git history: git's blob id of
its content), the templates folder, the flowdoc version and code, the settings (prefix,
versions) and what the pages show of other flows (:func:`flow_key`, which the MkDocs plugin
uses too). With ``git_versions``, each build first resolves the revisions to commits
(cheap): when no revision names another commit and no flow file changed, no flow is read
at all; a new tag makes the build read the history again and re-render the flows whose
versions changed. MkDocs is not run at all when no
staged file, the MkDocs configuration and the output folder have changed since the last
successful build.

The flows are read incrementally too (:mod:`.flowrecs`): the manifest holds a record of
each valid flow file (its hash; the id, version, title, status, date, deprecation and
requirements the index and other flows' pages show), so a build reads and checks only the
files that changed and those their change can affect (the other files of their ids, the
flows requiring them), renders the index from the records, and re-expands a page's
```flowdoc fences only when a flow it embeds changed.

The cache folder (default ``.flowdoc-cache/<output name>`` beside the output) holds
``manifest.json`` and ``docs/``, the Markdown tree MkDocs builds from. It is safe to
delete; the next build is then a full one.

A cache cannot make a build fail that a clean build passes: the staged tree is made to be
exactly what the current flows and project give on every build (other files are removed),
each staged file is checked against its hash before MkDocs reads it, a manifest that is
not well formed is ignored, and a build that fails with the cache in a way the cache may
cause (MkDocs failed, an unexpected error) is run again once from nothing. ``--force``
clears the cache before building.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .._version import __version__
from ..render import page as render_page
from .flowrecs import records_ok
from .templates import templates_digest

if TYPE_CHECKING:
    from .pages import FlowSite, Layout

__all__ = [
    "CACHE_ENTRIES",
    "CACHE_FORMAT",
    "Manifest",
    "StaleCache",
    "clear_cache",
    "code_fingerprint",
    "digest",
    "digest_json",
    "flow_key",
    "pages_env_key",
    "remove_path",
    "stray_files",
    "verify_staged",
]

CACHE_FORMAT = 2


def digest(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def digest_json(value: Any) -> str:
    return digest(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))


def code_fingerprint() -> str:
    """flowdoc's version, and a hash of its source files and of the renderer's built-in
    templates (pages depend on both; the templates folder may be a link, which a recursive
    glob does not follow). Cached per process, except for the templates, read each time."""
    try:
        builtin = templates_digest(render_page.default_templates_dir())
    except FileNotFoundError:
        builtin = ""
    return digest_json([_source_fingerprint(), builtin])


@functools.lru_cache(maxsize=1)
def _source_fingerprint() -> str:
    pkg = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(__version__.encode())
    for f in sorted(pkg.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix in (".py", ".j2", ".md", ".json", ".css", ".js"):
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()


# ------------------------------------------------------------ the page keys
# Shared by ``flowdoc build`` and the MkDocs plugin: both reuse a flow's pages exactly when its key is unchanged.


def pages_env_key(templates_dir: str | Path | None, layout: "Layout") -> str:
    """What every generated page is made from besides the flows: flowdoc's code and built-in
    templates, the templates folder, and the layout (prefix, versions)."""
    return digest_json(
        {
            "code": code_fingerprint(),
            "templates": templates_digest(templates_dir),
            "layout": [layout.prefix, layout.versions],
        }
    )


def flow_key(env_key: str, site: "FlowSite", fid: str, flows_dir: str | Path,
             file_hashes: Mapping[str, str] | None = None) -> str:
    """The key of the pages of the flow ``fid``: they are unchanged when it is.

    It is a hash of ``env_key`` (:func:`pages_env_key`), the flow id, every version's source
    and what the pages show of other flows (``FlowSite.deps_key``). A version's source is its
    file's path in ``flows_dir`` (the link's own path, not its target) and the sha256 of its
    bytes (from ``file_hashes`` by that path when given, else read); for a version from git
    history, ``""`` and the digest of its content at the revision."""
    parts = sorted(_source(site, f, Path(flows_dir), file_hashes) for f in site.entries[fid].history)
    return digest_json([env_key, fid, parts, site.deps_key(fid)])


def _source(site: "FlowSite", flow, flows_dir: Path, file_hashes: Mapping[str, str] | None) -> tuple[str, str]:
    if flow.file in site.sources:  # a version from git history: its content, whatever the revision
        return ("", site.sources[flow.file])
    try:
        rel = Path(flow.file).relative_to(flows_dir).as_posix()
    except ValueError:  # not under flows_dir as written: named by its full path
        rel = str(flow.file)
    known = file_hashes.get(rel) if file_hashes is not None else None
    return (rel, known if known is not None else site.source_digest(flow))


def _safe_uri(uri: object) -> bool:
    """A relative POSIX path that stays in its folder (no '..', not absolute)."""
    if not isinstance(uri, str) or not uri or uri.startswith("/") or "\0" in uri:
        return False
    return all(part not in ("", ".", "..") for part in uri.split("/"))


@dataclass
class Manifest:
    """What the last build made (JSON in the cache folder)."""

    format: int = CACHE_FORMAT
    env_key: str = ""
    #: flow file (relative to the flows folder) -> sha256 of its bytes, at the last good build
    files: dict[str, str] = field(default_factory=dict)
    #: the git revisions of git_versions and the commits they named (GitHistory.key), at the last good build
    git: str = ""
    #: warnings about flow files at those revisions (Diagnostic dicts), shown again when nothing changed
    git_warnings: list[dict] = field(default_factory=list)
    #: flow id -> {"key": hash of its inputs, "pages": {src_uri: sha256}}
    ids: dict[str, dict] = field(default_factory=dict)
    #: the index page's src_uri -> sha256
    index: dict[str, str] = field(default_factory=dict)
    #: user page -> sha256 of its source (pages with ```flowdoc fences depend on the flows)
    user_src: dict[str, str] = field(default_factory=dict)
    #: user page -> {flow id: key of its pages} of the flows its ```flowdoc fences embed
    user_deps: dict[str, dict] = field(default_factory=dict)
    #: flow file -> its record: what the index and other flows' pages need of it (:mod:`.flowrecs`)
    flows: dict[str, dict] = field(default_factory=dict)
    #: every file in the staged docs folder -> sha256 of its bytes
    staged: dict[str, str] = field(default_factory=dict)
    #: hash of the whole MkDocs input at the last good build, and the output it made
    site_key: str = ""
    out: str = ""
    out_mtime_ns: int = 0
    complete: bool = False

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        """The manifest at ``path``; an empty one (a full build) when it is missing, of another
        format, or not well formed (wrong types, page paths outside the staged folder)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return cls()
        m = cls()
        for k in cls.__dataclass_fields__:
            if k in data:
                if type(data[k]) is not type(getattr(m, k)):
                    return cls()
                setattr(m, k, data[k])
        return m if m._well_formed() else cls()

    def _well_formed(self) -> bool:
        maps = [self.files, self.index, self.user_src, self.staged]
        for rec in self.ids.values():
            if not (isinstance(rec, dict) and isinstance(rec.get("key"), str) and isinstance(rec.get("pages"), dict)):
                return False
            maps.append(rec["pages"])
        if not all(isinstance(d, dict) for d in self.git_warnings) or not records_ok(self.flows):
            return False
        if not all(_safe_uri(k) and isinstance(v, dict) for d in (self.flows, self.user_deps) for k, v in d.items()):
            return False
        if not all(isinstance(k, str) and isinstance(v, str) for d in self.user_deps.values() for k, v in d.items()):
            return False
        return all(_safe_uri(k) and isinstance(v, str) for d in maps for k, v in d.items())

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                # the fields as they are (asdict copies them deeply); dumps: the C encoder in one go
                fh.write(json.dumps({k: getattr(self, k) for k in self.__dataclass_fields__}, sort_keys=True))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @property
    def flow_pages(self) -> dict[str, str]:
        out = dict(self.index)
        for rec in self.ids.values():
            out.update(rec.get("pages", {}))
        return out


# ------------------------------------------------------------ the cache folder

#: what a build writes in its cache folder (all of it is removed by a clean build)
CACHE_ENTRIES = ("docs", "work", "default-project", "manifest.json", "pages")


def clear_cache(cache: Path) -> None:
    """Remove what builds wrote in the cache folder (and nothing else in it)."""
    for name in CACHE_ENTRIES:
        p = cache / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)
    for p in cache.glob(".manifest.*.tmp"):
        p.unlink(missing_ok=True)


class StaleCache(Exception):
    """A staged file is not what the manifest says it is (the build is retried from nothing)."""


def stray_files(staged: Path, desired: dict[str, str]) -> list[Path]:
    """What the staged folder holds that this build does not want: other files, links, and
    folders with nothing wanted in them (so they are removed, not walked)."""
    if not staged.is_dir():
        return []
    wanted_dirs = {"/".join(u.split("/")[:i]) for u in desired for i in range(1, u.count("/") + 1)}
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(staged):
        d = Path(dirpath)
        rel = d.relative_to(staged).as_posix()
        prefix = "" if rel == "." else rel + "/"
        for n in list(dirnames):
            if (d / n).is_symlink() or prefix + n not in wanted_dirs:
                out.append(d / n)
                dirnames.remove(n)
        out += [d / n for n in filenames if prefix + n not in desired or (d / n).is_symlink()]
    return out


def remove_path(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    else:
        p.unlink(missing_ok=True)


def verify_staged(staged: Path, desired: dict[str, str]) -> None:
    """Every staged file has the content this build wants (read before MkDocs reads them all)."""
    for uri, h in desired.items():
        try:
            data = (staged / uri).read_bytes()
        except OSError:
            data = None
        if data is None or digest(data) != h:
            raise StaleCache(f"the cached page {uri} is not the page this build made")
