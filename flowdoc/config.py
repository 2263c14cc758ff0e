"""Typed configuration from ``[tool.flowdoc]`` in pyproject.toml."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .check.lint import LintConfig

__all__ = ["Config", "ConfigError", "LintConfig", "SiteConfig", "find_pyproject", "is_url", "load_config", "shown"]


class ConfigError(Exception):
    """The configuration is invalid; the message says where and why."""


def is_url(value: str) -> bool:
    """``https://...``, ``http://...`` or ``//host/...`` (else a value is a path)."""
    return bool(re.match(r"^(https?:)?//", value))


def _resolve(root: Path, value: str | None) -> str | None:
    """A path of the configuration, against its folder (``~`` expanded), as mkdocs does."""
    if value is None:
        return None
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else root / p)


def shown(path: str | os.PathLike[str]) -> str:
    """A resolved path as messages show it: relative when under the current folder, else absolute."""
    p = os.path.abspath(path)
    cwd = os.getcwd()
    return os.path.relpath(p, cwd) if p == cwd or p.startswith(cwd.rstrip(os.sep) + os.sep) else p


class SiteConfig(BaseModel):
    """``[tool.flowdoc.site]``: settings of ``flowdoc build`` and ``flowdoc serve``."""

    model_config = ConfigDict(extra="forbid")

    config_file: str | None = Field(
        None, description="A MkDocs project (mkdocs.yml) to build with; default: site/mkdocs.yml, else a built-in one"
    )
    mermaid_js: str | None = Field(
        None,
        description="Mermaid's script: a local file (copied into the site) or a URL (a CDN, opt-in); "
        "default: the Mermaid shipped with flowdoc (flowdoc.publish.DEFAULT_MERMAID_JS), works offline",
    )
    prefix: str = Field("", description="URL folder of the generated flow pages ('' = the site root)")
    versions: bool = Field(True, description="Publish a page per major version, a version selector and changelogs")
    cache_dir: str | None = Field(None, description="Build cache folder; default: .flowdoc-cache beside the output")
    strict: bool = Field(False, description="Fail the build on MkDocs warnings (broken links ...)")
    file_urls: bool = Field(False, description="A site that works opened from disk (file://): NAME.html pages, no search")
    port: int = Field(8000, ge=0, le=65535, description="Port of flowdoc serve (on 127.0.0.1)")
    git_versions: list[str] = Field(
        default_factory=list,
        description="Also publish the flow files as they stood at these git revisions: tags, branches, "
        "commits, or tag globs such as 'v*' (expanded with git tag --list)",
    )

    @field_validator("git_versions", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flows: str = Field("flows", description="Folder of flow files")
    flow_folders: list[str] = Field(
        default_factory=list,
        description="More folders of flows that 'requires' may name (shared sign-in flows); a required flow "
        "is looked for in the flows given, beside the requiring file, in 'flows', then in these",
    )
    templates: str | None = Field(None, description="Folder of templates overriding the built-in ones")
    out: str = Field("build/site", description="Output folder of flowdoc build")
    lint: LintConfig = Field(default_factory=LintConfig)
    site: SiteConfig = Field(default_factory=SiteConfig, description="flowdoc build / serve")

    root: Path = Field(default_factory=Path.cwd, exclude=True, description="Folder of the pyproject.toml")

    @model_validator(mode="after")
    def _resolve_paths(self) -> "Config":
        """Every path is resolved once, against the folder of the pyproject.toml (``root``): flows,
        templates, out, site.config_file, site.cache_dir and site.mermaid_js when it is a file."""
        root = Path(self.root)
        self.flows = _resolve(root, self.flows)  # type: ignore[assignment]
        self.flow_folders = [_resolve(root, f) for f in self.flow_folders]  # type: ignore[misc]
        self.templates = _resolve(root, self.templates)
        self.out = _resolve(root, self.out)  # type: ignore[assignment]
        site = self.site
        site.config_file = _resolve(root, site.config_file)
        site.cache_dir = _resolve(root, site.cache_dir)
        if site.mermaid_js and not is_url(site.mermaid_js):
            site.mermaid_js = _resolve(root, site.mermaid_js)
        return self


def find_pyproject(start: Path | None = None) -> Path | None:
    cur = (start or Path.cwd()).resolve()
    for folder in (cur, *cur.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path | None = None) -> Config:
    """Read ``[tool.flowdoc]`` from the nearest pyproject.toml (defaults when there is none)."""
    path = find_pyproject(start)
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read [tool.flowdoc]: {exc}") from None
    section = data.get("tool", {}).get("flowdoc", {})
    try:
        return Config.model_validate({**section, "root": path.parent})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: [tool.flowdoc] {where}: {msg}") from None
