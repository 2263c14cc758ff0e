"""Publish: a versioned documentation site of the flows.

Shared by ``flowdoc build`` (which drives MkDocs itself, without the plugin) and the
MkDocs plugin (``plugins: [flowdoc]``)::

    from flowdoc.publish import BuildSettings, build_site
    result = build_site(BuildSettings(flows_dir=Path("flows"), out_dir=Path("build/site")))
    print(result.summary())      # pages built, reused, and the time

Modules: :mod:`.pages` (the page set and its URLs, ```flowdoc embeds), :mod:`.site`
(the atomic, incremental build, in phases), :mod:`.settings` (its settings and result),
:mod:`.cache` (with the page key the build and the plugin share), :mod:`.serve` (live preview),
:mod:`.plugin` (MkDocs plugin), :mod:`.markdown` (```mermaid fences → ``pre.mermaid``),
:mod:`.templates` (index, version header, changelog), :mod:`.assets` (flowdoc's CSS and JS,
the Mermaid it ships), :mod:`.pagemeta` (front matter, navigation, canonical links, search
index), :mod:`.gitversions` (versions from git history: ``git_versions``,
``flowdoc build --git-versions``).
"""

from __future__ import annotations

from .pages import DEFAULT_MERMAID_JS, FlowSite, Layout, Page, PublishError, load_site
from .site import BuildResult, BuildSettings, Reporter, build_site

__all__ = [
    "DEFAULT_MERMAID_JS",
    "BuildResult",
    "BuildSettings",
    "FlowSite",
    "Layout",
    "Page",
    "PublishError",
    "Reporter",
    "build_site",
    "load_site",
]
