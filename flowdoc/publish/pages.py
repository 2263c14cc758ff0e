"""The page set of a site of flows, shared by ``flowdoc build`` and the MkDocs plugin.

URLs (``prefix`` is the URL folder of the generated pages, '' for the site root; with
MkDocs' default ``use_directory_urls``, ``FLOW/latest.md`` is served at ``FLOW/latest/``)::

    PREFIX/index.md             index of flows: title, status, latest version, last updated
    PREFIX/FLOW/latest.md       the newest version of the flow
    PREFIX/FLOW/v1.md           the newest 1.x.y version (one page per major version)
    PREFIX/FLOW/v2.md           ...
    PREFIX/FLOW/changelog.md    authors' notes and generated changes, newest first

With ``versions`` off a flow has one page, ``PREFIX/FLOW/index.md`` (its newest version).

Versions come from files: several files in the flows folder with the same ``id`` and
different ``version`` values; and, with ``git_versions``, from the flow files as they stood
at git revisions (:mod:`.gitversions`). Every flow page gets a version selector under its title;
every older or deprecated version gets a banner with the migration link.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml

from .. import render as renderer
from ..catalog import FlowSet
from ..diagnostics import Diagnostic
from ..model.flow import Flow
from ..model.version import Version
from ..render import RenderError
from .assets import (
    ASSET_DIR,
    DEFAULT_MERMAID_JS,
    Asset,
    add_assets,
    is_url,
    site_assets,
)
from .errors import PublishError
from .gitversions import GitHistory
from .layout import (
    FlowVersions,
    Layout,
    changelog_for,
    group_versions,
    major_of,
    relative,
    status_of,
)
from .pagemeta import flow_page_meta, front_matter, is_deprecated, readable_changes
from .proofpage import ProofSet, badge, index_cell, proof_section
from .templates import SiteTemplates, overlay_templates

__all__ = [
    "ASSET_DIR",
    "DEFAULT_MERMAID_JS",
    "Asset",
    "FlowSite",
    "FlowVersions",
    "Layout",
    "major_of",
    "relative",
    "Page",
    "PublishError",
    "add_assets",
    "is_url",
    "load_site",
    "site_assets",
]


VIEWS = ("sequence", "state", "flowchart", "page")


@dataclass(frozen=True)
class Page:
    """A generated Markdown page; ``src_uri`` is its path in the docs folder (POSIX)."""

    src_uri: str
    content: str
    kind: str  # index | latest | version | changelog | flow
    flow_id: str | None = None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()


def _is_link(value: str) -> bool:
    """A migration 'guide' that is only a URL (else it is text, whose URLs become autolinks)."""
    value = value.strip()
    return is_url(value) and not any(c.isspace() for c in value)


# ----------------------------------------------------------------------- site


def _insert_after_title(markdown: str, block: str) -> str:
    """Put ``block`` right under the page's first ``# Title`` (or at the top)."""
    lines = markdown.split("\n")
    in_fence = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if in_fence:
            if stripped.startswith(in_fence):
                in_fence = None
            continue
        m = re.match(r"(`{3,}|~{3,})", stripped)
        if m:
            in_fence = m.group(1)
            continue
        if re.match(r"^#\s", line):
            return "\n".join(lines[: i + 1] + ["", block.rstrip("\n"), ""] + lines[i + 1 :])
    return block.rstrip("\n") + "\n\n" + markdown


class FlowSite:
    """The flows of a site, grouped by id, and the pages made from them."""

    def __init__(
        self,
        flows: list["Flow"],
        *,
        prefix: str = "",
        versions: bool = True,
        templates_dir: str | Path | None = None,
        title: str = "Authentication flows",
        work_dir: str | Path | None = None,
        sources: dict[str, str] | None = None,
        warnings: Iterable[Diagnostic] = (),
        proofs: ProofSet | None = None,
        loader: Callable[[Any], Flow] | None = None,
    ):
        self.layout = Layout(prefix, versions)
        #: proof files (``--proofs DIR``): a badge, a proof section and a status in the index
        self.proofs = proofs
        self.templates_dir = Path(templates_dir) if templates_dir else None
        self.templates = SiteTemplates(self.templates_dir)
        if work_dir is None:
            work_dir = tempfile.mkdtemp(prefix="flowdoc-site-")
            weakref.finalize(self, shutil.rmtree, work_dir, True)
        #: the templates of site pages: the user's, and the site's own sections (see overlay_templates)
        self.page_templates_dir = overlay_templates(self.templates_dir, Path(work_dir) / "templates")
        self.title = title
        self.set_flows(flows, sources=sources, warnings=warnings, loader=loader)

    def set_flows(self, flows: list[Any], *, sources: dict[str, str] | None = None, warnings: Iterable[Diagnostic] = (),
                  loader: Callable[[Any], Flow] | None = None) -> None:
        """The flows of the site (see :class:`FlowSite`'s arguments)."""
        #: every flow id -> its versions; a version may be a stub (what the index and other flows' pages
        #: read of it, see :mod:`.flowrecs`), whose full model ``loader`` gives (:meth:`full`)
        self.entries = group_versions(flows)
        self._loader = loader
        #: flows that are not files on disk (``REV:path`` from git history) → a digest of their content
        self.sources: dict[str, str] = dict(sources or {})
        #: problems that did not stop the site (a file not valid at a git revision)
        self.warnings: list[Diagnostic] = sorted(warnings, key=Diagnostic.sort_key)

    # -------------------------------------------------------------- helpers
    def source_digest(self, flow: "Flow") -> str:
        """A digest of what ``flow`` was read from (its file's bytes, or its content at a git revision)."""
        known = self.sources.get(flow.file)
        if known is not None:
            return known
        return hashlib.sha256(Path(flow.file).read_bytes()).hexdigest()

    def full(self, fid: str) -> FlowVersions:
        """Every version of ``fid`` as full models (stubs are loaded; not kept)."""
        fv = self.entries[fid]
        if self._loader is None or all(isinstance(f, Flow) for f in fv.history):
            return fv
        return FlowVersions(fid, [self._loader(f) for f in fv.history])

    def changelog(self, fid: str) -> list[dict]:
        """The changelog of ``fid``, newest first (empty with ``versions`` off)."""
        return self._changelog_of(self.full(fid))

    def _changelog_of(self, fv: FlowVersions) -> list[dict]:
        return readable_changes(fv, changelog_for(fv)) if self.layout.versions else []

    def _proof_status(self, flow: Any) -> Any:
        assert self.proofs is not None
        return self.proofs.status(flow, digest=getattr(flow, "proof_digest", None))

    def deps_key(self, fid: str) -> str:
        """What this flow's pages show of other flows (the flow that replaces a deprecated one,
        and links to the flows it requires)."""
        out: list[list[Any]] = []
        for f in self.entries[fid].history:
            dep = f.deprecation.replaced_by if f.deprecation else None
            if dep and dep != fid:
                other = self.entries.get(dep)
                out.append([dep, other.latest.title if other else None])
            out += [["requires", r.flow, r.flow in self.entries] for r in f.requires.values()]
        return json.dumps(out, sort_keys=True)

    def _flow_links(self, flow: "Flow", here: str) -> dict[str, str]:
        """Links from a page to the latest page of each other flow it names (required flows, the
        flow that replaces it) that this site publishes."""
        names = [r.flow for r in flow.requires.values()]
        if flow.deprecation is not None:
            names.append(flow.deprecation.replaced_by)
        return {n: relative(here, self.layout.latest(n)) for n in names if n in self.entries or n == flow.id}

    def _render_page(self, flow: "Flow", changelog: list[dict] | None, context: dict, *, embed: bool = False) -> str:
        templates = self.templates_dir if embed else self.page_templates_dir
        try:
            return renderer.render_page(flow, templates_dir=templates, changelog=changelog, context=context)
        except RenderError as exc:
            raise PublishError(f"{self._user_path(str(exc))} (rendering {flow.file})") from None

    def _site_template(self, name: str, **context: object) -> str:
        try:
            return self.templates.render(name, **context)
        except RenderError as exc:
            raise PublishError(self._user_path(str(exc))) from None

    def _user_path(self, message: str) -> str:
        """A template error names the user's file, not its copy among the site's page templates."""
        if self.templates_dir is not None:
            for copy in {str(self.page_templates_dir.resolve()), str(self.page_templates_dir)}:
                message = message.replace(copy, str(self.templates_dir))
        return message

    def _choices(self, fv: FlowVersions, here: str, current: str) -> list[dict]:
        lay = self.layout
        latest = fv.latest
        label = f"latest ({latest.version})" if latest.version else "latest"
        out = [{"label": label, "link": relative(here, lay.latest(fv.id)), "current": current == "latest"}]
        for major, f in fv.majors():
            tag = f"v{major}"
            extra = " (deprecated)" if is_deprecated(f) else ""
            out.append(
                {"label": tag + extra, "link": relative(here, lay.version(fv.id, major)), "current": current == tag}
            )
        return out

    def _banner(self, fv: FlowVersions, flow: "Flow", here: str) -> dict | None:
        lay = self.layout
        changelog = relative(here, lay.changelog(fv.id)) if lay.versions else None
        if is_deprecated(flow):
            dep = flow.deprecation
            replaced = None
            if dep is not None:
                target = fv if dep.replaced_by == fv.id else self.entries.get(dep.replaced_by)
                if target is None:  # not on this site: named, without a link
                    replaced = {"title": None, "id": dep.replaced_by, "link": None}
                elif dep.replaced_by != fv.id or flow is not fv.latest:
                    replaced = {"title": target.latest.title, "id": target.id, "link": relative(here, lay.latest(target.id))}
            return {
                "kind": "deprecated",
                "version": flow.version or "",
                "reason": " ".join(dep.reason.split()) if dep and dep.reason else "",
                "replaced_by": replaced,
                "sunset": dep.sunset.isoformat() if dep and dep.sunset else None,
                "migration": " ".join(dep.migration.split()) if dep else None,
                "migration_url": dep.migration.strip() if dep and _is_link(dep.migration) else None,
                "changelog": changelog,
            }
        if flow is not fv.latest and Version.key(flow.version) < Version.key(fv.latest.version):
            return {
                "kind": "older",
                "version": flow.version or "",
                "latest_version": fv.latest.version or "latest",
                "latest_link": relative(here, lay.latest(fv.id)),
                "migration": None,
                "migration_url": None,
                "changelog": changelog,
            }
        return None

    def _flow_page(self, fv: FlowVersions, flow: "Flow", uri: str, kind: str, current: str,
                   changelog: list[dict]) -> Page:
        entries = changelog
        if flow is not fv.latest and flow.version:
            entries = [e for e in entries if Version.key(str(e.get("version"))) <= Version.key(flow.version)]
        context = {
            "page_kind": kind,
            "version_label": current,
            "latest_version": fv.latest.version,
            "is_latest": flow is fv.latest,
            "flow_links": self._flow_links(flow, uri),
        }
        body = self._render_page(flow, entries if self.layout.versions else None, context)
        if self.layout.versions:
            header = self._site_template(
                "site-header.md.j2",
                choices=self._choices(fv, uri, current),
                changelog=relative(uri, self.layout.changelog(fv.id)),
                banner=self._banner(fv, flow, uri),
            )
        else:
            banner = self._banner(fv, flow, uri) if is_deprecated(flow) else None
            header = self._site_template("site-header.md.j2", choices=[], changelog=None, banner=banner)
        status = self.proofs.status(flow) if self.proofs is not None else None
        if status is not None:
            header = header.rstrip("\n") + "\n\n" + badge(status) + "\n"
            body = body.rstrip("\n") + "\n\n" + proof_section(flow, status)
        meta = flow_page_meta(fv, flow, kind, current, self.layout.latest(fv.id))
        return Page(uri, front_matter(meta) + _insert_after_title(body, header), kind, fv.id)

    # ---------------------------------------------------------------- pages
    def pages_for(self, fid: str) -> list[Page]:
        """Every page of one flow id (latest, one per major version, changelog)."""
        return self.pages_of(self.full(fid))

    def pages_of(self, fv: FlowVersions) -> list[Page]:
        """Every page of the versions ``fv`` of one flow id, as full models (its pages read of other
        flows what ``entries`` holds: the flow that replaces it, the flows it requires)."""
        lay, fid = self.layout, fv.id
        changelog = self._changelog_of(fv)
        if not lay.versions:
            return [self._flow_page(fv, fv.latest, lay.latest(fid), "flow", "latest", changelog)]
        pages = [self._flow_page(fv, fv.latest, lay.latest(fid), "latest", "latest", changelog)]
        for major, flow in fv.majors():
            pages.append(self._flow_page(fv, flow, lay.version(fid, major), "version", f"v{major}", changelog))
        uri = lay.changelog(fid)
        content = self._site_template(
            "site-changelog.md.j2",
            flow=fv.latest,
            entries=changelog,
            choices=self._choices(fv, uri, "changelog"),
        )
        meta = flow_page_meta(fv, fv.latest, "changelog", "changelog", self.layout.latest(fid))
        pages.append(Page(uri, front_matter(meta) + content, "changelog", fid))
        return pages

    def index_page(self) -> Page:
        lay = self.layout
        here = lay.index
        rows = []
        for fid, fv in sorted(self.entries.items(), key=lambda kv: (kv[1].latest.title.lower(), kv[0])):
            f = fv.latest
            rows.append(
                {
                    "id": fid,
                    "title": f.title,
                    "link": relative(here, lay.latest(fid)),
                    "status": status_of(f),
                    "version": f.version,
                    "updated": f.updated.isoformat() if f.updated else None,
                    "versions": [
                        {
                            "label": f"v{m}" + (" (deprecated)" if is_deprecated(vf) else ""),
                            "link": relative(here, lay.version(fid, m)),
                            "deprecated": is_deprecated(vf),
                        }
                        for m, vf in fv.majors()
                    ]
                    if lay.versions
                    else [],
                    "changelog": relative(here, lay.changelog(fid)) if lay.versions else None,
                }
            )
            if self.proofs is not None:
                rows[-1]["proof"] = index_cell(self._proof_status(f), relative(here, lay.latest(fid)) + "#proof")
        content = self._site_template("site-index.md.j2", title=self.title, flows=rows, versions=lay.versions,
                                      proofs=self.proofs is not None)
        return Page(here, content, "index")

    def all_pages(self) -> list[Page]:
        pages = [self.index_page()]
        for fid in self.entries:
            pages.extend(self.pages_for(fid))
        return pages

    # --------------------------------------------------------------- embeds
    def embed(self, spec: dict, *, where: str = "", used: set[str] | None = None) -> str:
        """The Markdown for one ```flowdoc fence: ``flow``, ``view`` and ``version`` (``used``: gets the flow id)."""
        fid = spec.get("flow")
        if fid is None or str(fid) not in self.entries:
            known = ", ".join(self.entries) or "none"
            raise PublishError(f"{where}flowdoc fence: unknown flow {fid!r} (flows: {known})")
        fv = self.full(str(fid))
        if used is not None:
            used.add(fv.id)
        flow = fv.find(spec.get("version"))
        if flow is None:
            have = ", ".join(f.version or "-" for f in fv.history)
            raise PublishError(f"{where}flowdoc fence: flow {fid!r} has no version {spec.get('version')!r} ({have})")
        view = str(spec.get("view", "page"))
        if view not in VIEWS:
            raise PublishError(f"{where}flowdoc fence: unknown view {view!r}; views: {', '.join(VIEWS)}")
        if view == "page":
            entries = self._changelog_of(fv) if self.layout.versions else None
            if entries and flow is not fv.latest:
                entries = [e for e in entries if Version.key(str(e.get("version"))) <= Version.key(flow.version)]
            return self._render_page(flow, entries, {"page_kind": "embed"}, embed=True)
        return "```mermaid\n" + renderer.render_diagram(flow, view, "mermaid").strip("\n") + "\n```"

    def expand_embeds(self, markdown: str, *, where: str = "", used: set[str] | None = None) -> str:
        """Replace every ```flowdoc fence of a page by the flow or view it names (``used``: gets their ids)."""
        if "flowdoc" not in markdown:
            return markdown

        def repl(m: re.Match[str]) -> str:
            line = markdown.count("\n", 0, m.start()) + 1
            loc = f"{where}:{line}: " if where else f"line {line}: "
            try:
                spec = yaml.safe_load(m.group("body")) or {}
            except yaml.YAMLError as exc:
                raise PublishError(f"{loc}flowdoc fence: not YAML: {exc}") from None
            if not isinstance(spec, dict):
                raise PublishError(f"{loc}flowdoc fence: write 'flow: ID' (and optionally view:, version:)")
            unknown = sorted(set(map(str, spec)) - {"flow", "view", "version"})
            if unknown:
                raise PublishError(f"{loc}flowdoc fence: unknown key {unknown[0]!r}; keys: flow, view, version")
            out = self.embed(spec, where=loc, used=used)
            indent = m.group("indent")
            return "\n".join(indent + ln if ln else ln for ln in out.split("\n"))

        return EMBED_FENCE.sub(repl, markdown)


EMBED_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*\{?\.?flowdoc\}?[ \t]*\n"
    r"(?P<body>(?:.*\n)*?)"
    r"(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE,
)


def load_site(
    flows_dir: str | Path,
    *,
    prefix: str = "",
    versions: bool = True,
    templates_dir: str | Path | None = None,
    work_dir: str | Path | None = None,
    git_versions: "Sequence[str] | GitHistory | None" = None,
    flows: FlowSet | None = None,
    proofs: ProofSet | None = None,
) -> FlowSite:
    """Load and check every flow in the folder; raise :class:`PublishError` on an invalid one.

    ``git_versions``: revisions (tags, branches, commits, tag globs such as ``v*``) whose flow
    files add versions (see :mod:`flowdoc.publish.gitversions`), or a resolved
    :class:`~flowdoc.publish.gitversions.GitHistory`. A file not valid at a revision is skipped
    and reported in ``FlowSite.warnings``. ``flows``: the catalog of the folder when the caller
    has it already (:meth:`FlowSet.from_paths`), so that the folder is discovered once.
    """
    flows_dir = Path(flows_dir)
    if not flows_dir.is_dir():
        raise PublishError(f"{flows_dir}: no such flows folder")
    catalog = flows if flows is not None else FlowSet.from_paths([flows_dir])
    if catalog.invalid:
        errors = catalog.errors
        n = len({d.file for d in errors})
        raise PublishError(f"{n} invalid flow file{'s' if n != 1 else ''} in {flows_dir}", errors)
    if not catalog.flows:
        raise PublishError(f"{flows_dir}: no flow files (*.yaml, *.yml)")
    published = list(catalog.flows)
    sources: dict[str, str] = {}
    warnings: list[Diagnostic] = []
    if git_versions:
        history = git_versions if isinstance(git_versions, GitHistory) else GitHistory.resolve(flows_dir, git_versions)
        found = history.load(catalog.flows, catalog.files)
        published += found.flows
        sources, warnings = found.sources, found.warnings
    return FlowSite(
        published,
        prefix=prefix,
        versions=versions,
        templates_dir=templates_dir,
        work_dir=work_dir,
        sources=sources,
        warnings=warnings,
        proofs=proofs,
    )
