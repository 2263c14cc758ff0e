"""The MkDocs plugin: ``plugins: [flowdoc]`` in any mkdocs.yml (MkDocs >= 1.6, < 2).

::

    plugins:
      - search
      - flowdoc:
          flows_dir: flows        # relative to mkdocs.yml (default: flows)
          templates_dir: null     # templates overriding the built-in ones
          prefix: flows           # URL folder of the generated pages
          versions: true          # a page per major version, version selector, changelogs
          mermaid_js: null        # local mermaid.min.js or URL (a CDN); default: the one flowdoc ships
          offline: true           # no CDN: the mkdocs theme's highlight.js off, Material's fonts local
          git_versions: []        # git revisions whose flow files add versions: tags, commits, 'v*'
          csp: true               # a Content-Security-Policy <meta> tag in every page

It adds the pages of :mod:`flowdoc.publish.pages` as virtual files, replaces
```` ```flowdoc ```` fences (``flow: ID``, optionally ``view: sequence|state|flowchart|page``
and ``version:``) in every page, watches the flows in ``mkdocs serve``, and fails the
build with the flow's FILE:LINE:COL when a flow is invalid. ``flowdoc build`` does not
use this plugin; both share the page generation.
"""

from __future__ import annotations

import os

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files

from ..catalog import FlowSet
from ..diagnostics import format_text
from .assets import offline_theme
from .cache import flow_key, pages_env_key
from .csp import add_csp
from .errors import PublishError
from .gitversions import GitHistory
from .mkdocs_build import ensure_extensions
from .pagemeta import SitePages
from .proofpage import DEFAULT_MAX_AGE, ProofSet
from .pages import FlowSite, add_assets, is_url, load_site, site_assets

log = get_plugin_logger(__name__)

__all__ = ["FlowdocPlugin", "FlowdocPluginConfig"]


class FlowdocPluginConfig(base.Config):
    flows_dir = c.Dir(exists=True, default="flows")
    templates_dir = c.Optional(c.Dir(exists=True))
    prefix = c.Type(str, default="flows")
    versions = c.Type(bool, default=True)
    mermaid_js = c.Optional(c.Type(str))
    git_versions = c.ListOfItems(c.Type(str), default=[])
    #: a Content-Security-Policy <meta> tag in every page (flowdoc/publish/csp.py)
    csp = c.Type(bool, default=True)
    #: a site that loads nothing from outside (see offline_theme)
    offline = c.Type(bool, default=True)
    #: proof files of ``flowdoc verify --proof DIR`` (badges, real exchanges and code on the pages)
    proofs_dir = c.Optional(c.Dir(exists=True))
    #: a proof older than this many days reads as stale
    proof_max_age = c.Type(int, default=DEFAULT_MAX_AGE)


def _link_targets(flows_dir: str) -> list[str]:
    """The folders outside ``flows_dir`` that hold the targets of its linked flow files."""
    top = os.path.realpath(flows_dir)
    found = {os.path.dirname(os.path.realpath(f)) for f in FlowSet.from_paths([flows_dir]).files}
    return sorted(d for d in found if d != top and not d.startswith(top + os.sep))


def _plugin_error(exc: PublishError) -> PluginError:
    text = "flowdoc: " + exc.message
    if exc.diagnostics:
        text += "\n" + format_text(exc.diagnostics)
    return PluginError(text)


class FlowdocPlugin(BasePlugin[FlowdocPluginConfig]):
    """Publishes the flows of ``flows_dir`` in a MkDocs site."""

    def __init__(self) -> None:
        self.site: FlowSite | None = None
        self._assets: list = []
        # pages rendered in an earlier build of this project in this process (mkdocs serve): key -> pages
        self._memo: dict[str, list] = {}
        self._project: tuple[str, str] | None = None  # (mkdocs.yml, flows_dir) the memo belongs to
        self._git_watch: list[str] = []
        self._serving = False
        self._site_pages = SitePages()  # navigation, canonical links, search index (pagemeta.py)

    # ---------------------------------------------------------------- config
    def on_startup(self, *, command, dirty) -> None:
        """Declared so that MkDocs keeps this plugin across the rebuilds of ``mkdocs serve``
        (MkDocs >= 1.4): a rebuild re-renders only the flows whose files changed.
        ``mkdocs serve`` injects an inline live-reload script into each page it serves, so its
        preview goes without the Content-Security-Policy; ``mkdocs build`` has it."""
        self._serving = command == "serve"

    def on_config(self, config):
        # MkDocs keeps one instance of a plugin with on_startup per process, whatever the project
        # (its class-level plugin cache): another project's build starts with nothing remembered
        project = (str(config.config_file_path), str(self.config.flows_dir))
        if project != self._project:
            self._project, self._memo, self._git_watch = project, {}, []
        ensure_extensions(config)
        if self.config.offline:
            offline_theme(config, log)
        mermaid = self.config.mermaid_js
        if mermaid and not is_url(mermaid) and not os.path.isabs(mermaid):
            mermaid = os.path.join(os.path.dirname(config.config_file_path or "."), mermaid)
        try:
            self._assets, css, js = site_assets(mermaid)
        except PublishError as exc:
            raise _plugin_error(exc) from None
        add_assets(config, css, js)
        return config

    # ----------------------------------------------------------------- files
    @event_priority(50)
    def on_files(self, files: Files, /, *, config) -> Files:
        try:
            self.site = load_site(
                self.config.flows_dir,
                prefix=self.config.prefix,
                versions=self.config.versions,
                templates_dir=self.config.templates_dir,
                git_versions=self._history(),
                proofs=self._proofs(),
            )
            pages = self._pages(self.site)
        except PublishError as exc:
            raise _plugin_error(exc) from None
        for d in self.site.warnings:  # a flow file not valid at a git revision
            log.warning("%s: %s[%s]: %s", d.location, d.severity, d.code, d.message)
        for page in pages:
            if files.get_file_from_path(page.src_uri) is not None:
                raise PluginError(
                    f"flowdoc: {os.path.join(config.docs_dir, page.src_uri)} has the path of a generated page; "
                    "rename it or set the plugin's prefix"
                )
            files.append(File.generated(config, page.src_uri, content=page.content))
        for asset in self._assets:
            if files.get_file_from_path(asset.src_uri) is None:
                if asset.path is not None:
                    files.append(File.generated(config, asset.src_uri, abs_src_path=str(asset.path)))
                else:
                    files.append(File.generated(config, asset.src_uri, content=asset.content))
        log.info("added %d pages of %d flows under %s/", len(pages), len(self.site.entries), self.config.prefix or ".")
        self._site_pages.on_files(files)
        return files

    def on_nav(self, nav, /, *, config, files):
        return self._site_pages.on_nav(nav)

    def on_page_context(self, context, /, *, page, config, nav):
        self._site_pages.on_page_context(page)
        return context

    @event_priority(-100)  # after the search plugin wrote its index
    def on_post_build(self, *, config) -> None:
        self._site_pages.on_post_build(config)

    def _history(self):
        """The revisions of ``git_versions``, resolved (None without it)."""
        if not self.config.git_versions:
            return None
        history = GitHistory.resolve(self.config.flows_dir, self.config.git_versions)
        self._git_watch = [str(p) for p in history.watch if p.exists()]
        return history

    def _proofs(self) -> ProofSet | None:
        if not self.config.proofs_dir:
            return None
        return ProofSet.load(self.config.proofs_dir, max_age=self.config.proof_max_age)

    def _pages(self, site: FlowSite) -> list:
        """All pages; a flow's pages are reused from an earlier build when their key is unchanged
        (the key ``flowdoc build`` uses too: :func:`~flowdoc.publish.cache.flow_key`)."""
        env = pages_env_key(site.templates_dir, site.layout)
        if site.proofs is not None:
            env += site.proofs.key
        pages = [site.index_page()]
        memo: dict[str, list] = {}
        for fid in site.entries:
            key = flow_key(env, site, fid, self.config.flows_dir)
            memo[key] = self._memo.get(key) or site.pages_for(fid)
            pages.extend(memo[key])
        self._memo = memo
        return pages

    # ------------------------------------------------------------------ pages
    def on_page_markdown(self, markdown: str, /, *, page, config, files) -> str:
        if self.site is None or "flowdoc" not in markdown:
            return markdown
        where = page.file.src_uri
        if page.file.abs_src_path:
            where = os.path.relpath(page.file.abs_src_path)
        try:
            return self.site.expand_embeds(markdown, where=where)
        except PublishError as exc:
            raise _plugin_error(exc) from None
        except Exception as exc:  # a renderer's error, with the page it came from
            raise PluginError(f"flowdoc: {where}: {exc}") from exc

    @event_priority(-100)  # last: the policy hashes the page's final inline scripts
    def on_post_page(self, output: str, /, *, page, config) -> str:
        output = self._site_pages.on_post_page(output, page, config)
        return add_csp(output, page.content) if self._csp() else output

    @event_priority(-100)
    def on_post_template(self, output_content: str, /, *, template_name: str, config) -> str:
        if self._csp() and template_name.endswith(".html"):
            return add_csp(output_content)
        return output_content

    def _csp(self) -> bool:
        return bool(self.config.csp) and not self._serving

    # ------------------------------------------------------------------ serve
    def on_serve(self, server, /, *, config, builder):
        server.watch(self.config.flows_dir)
        for folder in _link_targets(self.config.flows_dir):  # where linked flow files really are
            server.watch(folder, recursive=False)
        if self.config.templates_dir:
            server.watch(self.config.templates_dir)
        if self.config.proofs_dir:
            server.watch(self.config.proofs_dir)
        for path in self._git_watch:  # a new tag or a moved branch
            server.watch(path)
        return server
