"""What ``flowdoc build`` takes and gives: :class:`BuildSettings` (from ``[tool.flowdoc]`` and
the command line), :class:`BuildResult` and the :class:`Reporter` of its progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["BuildResult", "BuildSettings", "Reporter"]


@dataclass
class BuildSettings:
    """Everything ``flowdoc build`` needs; :meth:`from_config` reads ``[tool.flowdoc]``."""

    flows_dir: Path
    out_dir: Path
    config_file: Path | None = None
    mermaid_js: str | None = None
    templates_dir: Path | None = None
    prefix: str = ""
    versions: bool = True
    cache_dir: Path | None = None
    strict: bool = False
    force: bool = False
    #: git revisions whose flow files add versions: tags, branches, commits, tag globs (``v*``)
    git_versions: list[str] = field(default_factory=list)
    #: a site that works opened from disk (file://): NAME.html pages, no search (assets.for_file_urls)
    file_urls: bool = False
    #: proof files of ``flowdoc verify --proof`` (badges, examples and code on the pages)
    proofs_dir: Path | None = None
    #: a proof older than this many days is stale
    proof_max_age: int = 30

    @classmethod
    def from_config(cls, config: "Config", **overrides) -> "BuildSettings":
        """Settings from ``[tool.flowdoc]`` (paths resolved by :class:`~flowdoc.config.Config` against the
        pyproject.toml), then ``overrides`` (values that are None are ignored; paths relative to the current folder)."""
        root = Path(config.root)

        def rel(v: str | None) -> Path | None:
            return None if v is None else Path(v)

        site = config.site
        config_file = rel(site.config_file)
        if config_file is None and (root / "site" / "mkdocs.yml").is_file():
            config_file = root / "site" / "mkdocs.yml"
        mermaid = site.mermaid_js
        s = cls(
            flows_dir=rel(config.flows),  # type: ignore[arg-type]
            out_dir=rel(config.out),  # type: ignore[arg-type]
            config_file=config_file,
            mermaid_js=mermaid,
            templates_dir=rel(config.templates),
            prefix=site.prefix,
            versions=site.versions,
            cache_dir=rel(site.cache_dir),
            strict=site.strict,
            git_versions=list(site.git_versions),
            file_urls=site.file_urls,
            proofs_dir=rel(site.proofs),
            proof_max_age=site.proof_max_age,
        )
        for k, v in overrides.items():
            if v is not None:
                if k in ("flows_dir", "out_dir", "config_file", "templates_dir", "cache_dir", "proofs_dir"):
                    v = Path(v)
                elif k == "git_versions":
                    v = [v] if isinstance(v, str) else list(v)
                setattr(s, k, v)
        return s

    @property
    def cache_path(self) -> Path:
        if self.cache_dir is not None:
            return Path(self.cache_dir)
        out = Path(self.out_dir).resolve()
        return out.parent / ".flowdoc-cache" / out.name


@dataclass
class BuildResult:
    out_dir: Path
    flows: int = 0
    pages_built: int = 0
    pages_reused: int = 0
    mkdocs_ran: bool = False
    #: flow files read and checked, and flow ids whose pages were made (the others came from the cache)
    flows_checked: int = 0
    flows_rendered: int = 0
    #: pages MkDocs converted from Markdown, rendered with the theme, and linked from the last site unchanged
    pages_converted: int = 0
    pages_rendered: int = 0
    pages_linked: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    #: flowdoc's own warnings (a flow file not valid at a git revision: REV:path:LINE:COL)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: seconds per stage: discover, check (with the pages made as flows are read), render, stage, mkdocs
    timings: dict[str, float] = field(default_factory=dict)
    #: the MkDocs project's files (configuration, docs folder, theme overrides), for serve
    watch: list[Path] = field(default_factory=list)
    #: why the cache was cleared and the build run again from nothing (a build with it failed)
    cache_reset: str | None = None

    def summary(self) -> str:
        pages = self.pages_built + self.pages_reused
        what = (
            f"{pages} page{'s' if pages != 1 else ''} of {self.flows} flow{'s' if self.flows != 1 else ''}: "
            f"{self.pages_built} built, {self.pages_reused} reused"
        )
        site = "site built by MkDocs" if self.mkdocs_ran else "site unchanged (MkDocs not run)"
        if self.pages_linked:  # an incremental MkDocs stage: how many HTML pages it made anew
            site += f" ({self.pages_rendered} HTML rendered, {self.pages_linked} unchanged)"
        return f"{what}; {site} in {self.seconds:.2f} s → {self.out_dir}"


class Reporter:
    """Progress of a build; the CLI shows it as a progress bar on a terminal."""

    def stage(self, message: str) -> None: ...

    def start(self, total: int, label: str) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self) -> None: ...
