"""The files flowdoc adds to every site: its stylesheet, its script and Mermaid.

- ``assets/flowdoc/flowdoc.css`` and ``assets/flowdoc/flowdoc.js`` (``flowdoc/data/site/``): the
  script draws every ``pre.flowdoc-mermaid`` with Mermaid, in a box that scrolls sideways at a
  readable size, with a full-size view (zoom and pan, keyboard too), Mermaid's light or dark
  theme following the page's palette, and a message above the diagram's source when Mermaid
  did not load; it wraps wide tables in a box of their own and keeps the reader's section when
  the version menu changes version.
- ``assets/flowdoc/mermaid.min.js``: Mermaid itself. By default the copy shipped in the package
  (``flowdoc/data/mermaid/``, :data:`MERMAID_VERSION`), so a site draws its diagrams with no
  network and under a Content-Security-Policy that allows scripts from the site only. A local
  file given as ``mermaid_js`` is copied instead; a URL (:data:`MERMAID_CDN_URL`, say) is used as
  it is: a CDN is opt-in.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from mkdocs.plugins import BasePlugin

from ..config import is_url
from .errors import PublishError

__all__ = [
    "ASSET_DIR",
    "BUNDLED_MERMAID_JS",
    "DEFAULT_MERMAID_JS",
    "FLOWDOC_CSS",
    "FLOWDOC_JS",
    "MERMAID_CDN_URL",
    "MERMAID_VERSION",
    "Asset",
    "add_assets",
    "is_url",
    "site_assets",
]

DATA = Path(__file__).resolve().parent.parent / "data"
#: The Mermaid shipped with flowdoc (the version the tests pin: tests/node/package.json).
MERMAID_VERSION = "11.17.2"
BUNDLED_MERMAID_JS = DATA / "mermaid" / "mermaid.min.js"
#: Mermaid's script when none is named: the copy in the package (works offline).
DEFAULT_MERMAID_JS = str(BUNDLED_MERMAID_JS)
#: The same version from a CDN, for ``mermaid_js`` (opt-in: the site then needs the network).
MERMAID_CDN_URL = f"https://cdn.jsdelivr.net/npm/mermaid@{MERMAID_VERSION}/dist/mermaid.min.js"
#: Where flowdoc's own assets go in the site.
ASSET_DIR = "assets/flowdoc"

FLOWDOC_CSS = (DATA / "site" / "flowdoc.css").read_text(encoding="utf-8")
FLOWDOC_JS = (DATA / "site" / "flowdoc.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Asset:
    """A file flowdoc adds to the site: in-memory ``content`` or a copy of ``path``."""

    src_uri: str
    content: bytes | None = None
    path: Path | None = None

    def data(self) -> bytes:
        return self.content if self.content is not None else Path(self.path).read_bytes()  # type: ignore[arg-type]


def add_assets(cfg: Any, css: Iterable[str], js: Iterable[str]) -> None:
    """Add flowdoc's stylesheets and scripts to a MkDocs config, once each (build and plugin)."""
    for item in css:
        if item not in cfg.extra_css:
            cfg.extra_css.append(item)
    have = {str(j) for j in cfg.extra_javascript}
    for item in js:
        if item not in have:
            cfg.extra_javascript.append(item)


def site_assets(mermaid_js: str | None, *, init: bool = True) -> tuple[list[Asset], list[str], list[str]]:
    """flowdoc's assets: (files to add, extra_css entries, extra_javascript entries).

    ``mermaid_js`` is a URL (used as is) or a local file (copied into the site, so it works
    offline); None means the Mermaid shipped with flowdoc. ``init`` adds flowdoc's script, which
    draws the diagrams (in every theme: mkdocs-material's own Mermaid support is not used, as it
    draws into a closed shadow root that neither zoom nor a dark palette can reach).
    """
    assets = [Asset(f"{ASSET_DIR}/flowdoc.css", FLOWDOC_CSS.encode())]
    css = [f"{ASSET_DIR}/flowdoc.css"]
    js: list[str] = []
    src = mermaid_js or DEFAULT_MERMAID_JS
    if is_url(src):
        js.append(src)
    else:
        path = Path(src).expanduser()
        if not path.is_file():
            raise PublishError(f"mermaid_js: {src}: no such file (give a local mermaid.min.js or a URL)")
        assets.append(Asset(f"{ASSET_DIR}/mermaid.min.js", path=path.resolve()))
        js.append(f"{ASSET_DIR}/mermaid.min.js")
    if init:
        assets.append(Asset(f"{ASSET_DIR}/flowdoc.js", FLOWDOC_JS.encode()))
        js.append(f"{ASSET_DIR}/flowdoc.js")
    return assets, css, js


#: Theme settings that make a theme load files from a CDN, and the value that keeps it offline:
#: the mkdocs theme's highlight.js (cdnjs) and mkdocs-material's Google Fonts.
CDN_THEME_SETTINGS = {"mkdocs": ("highlightjs", False), "material": ("font", False)}


def _user_theme_keys(config: Any) -> set[str]:
    """The ``theme:`` keys the user's mkdocs.yml sets itself."""
    keys: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        user = getattr(config, "user_configs", None) or []
    for part in user:
        theme = part.get("theme") if hasattr(part, "get") else None
        if isinstance(theme, dict):
            keys |= set(map(str, theme))
    return keys


def offline_theme(config: Any, log: Any) -> None:
    """Turn off what makes the theme load files from a CDN (the plugin's ``offline: true``),
    unless the mkdocs.yml sets it itself: then say that the site needs the network."""
    setting = CDN_THEME_SETTINGS.get(config.theme.name)
    if setting is None:
        return
    key, value = setting
    if key in _user_theme_keys(config):
        if config.theme[key]:
            log.info("theme.%s loads files from a CDN, so this site needs the network; "
                     "set theme.%s: false for a site that works offline", key, key)
        return
    if key in config.theme and config.theme[key]:
        config.theme[key] = value
        log.info("theme.%s set to false, so the site loads nothing from a CDN "
                 "(set it in mkdocs.yml, or the plugin's offline: false, to keep it)", key)


def for_file_urls(cfg: Any) -> None:
    """A site that works opened from disk (``file://``): pages are ``NAME.html`` files
    (``use_directory_urls: false``, so links do not land on folder listings). Search cannot work
    there (browsers refuse the search's worker and index from ``file://``): its script is left
    out, and flowdoc.js hides the search box. (The search plugin itself stays: the mkdocs
    theme's own script needs its dialog.)"""
    cfg.use_directory_urls = False
    if "flowdoc-file-urls" not in cfg.plugins:
        cfg.plugins["flowdoc-file-urls"] = _NoSearchScript()


class _NoSearchScript(BasePlugin):
    """Leaves the search's script out of a ``file://`` site (:func:`for_file_urls`)."""

    def on_config(self, config):  # after the search plugin's, which adds the script
        config.extra_javascript[:] = [j for j in config.extra_javascript if str(j) != "search/main.js"]
        return config
