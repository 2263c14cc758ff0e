"""flowdoc build: flows → Markdown pages → a static HTML site (MkDocs, without its plugin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..diagnostics import format_text
from ..publish import BuildSettings, PublishError, Reporter, build_site
from ..publish.output import MARKER
from ._common import config_or_exit, fail, use_color

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

MERMAID_HELP = (
    "Mermaid's script: a local file, copied into the site, or a URL (a CDN: the site then needs the "
    "network, e.g. https://cdn.jsdelivr.net/npm/mermaid@11.17.2/dist/mermaid.min.js). Default: the "
    "Mermaid 11.17.2 shipped with flowdoc, copied into the site, so it works with no network."
)


class ProgressReporter(Reporter):
    """A progress bar on stderr for long builds; stage messages; nothing when not a terminal."""

    def __init__(self, enabled: bool, quiet: bool = False, min_items: int = 20):
        self.enabled = enabled
        self.quiet = quiet
        self.min_items = min_items
        self._bar: ProgressBar[int] | None = None

    def stage(self, message: str) -> None:
        if self.enabled and not self.quiet:
            click.echo(f"{message} …", err=True)

    def start(self, total: int, label: str) -> None:
        if self.enabled and not self.quiet and total >= self.min_items:
            self._bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            self._bar.__enter__()

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def site_options(f):
    """Options shared by build and serve."""
    for opt in reversed(
        [
            click.option("--flows", "flows_dir", type=click.Path(file_okay=False), help="Folder of flow files [flows]."),
            click.option(
                "--config-file",
                "config_file",
                type=click.Path(dir_okay=False),
                help="The MkDocs project to build with (a mkdocs.yml). Default: site/mkdocs.yml, else a built-in one.",
            ),
            click.option("--mermaid-js", "mermaid_js", metavar="PATH|URL", help=MERMAID_HELP),
            click.option("--templates", "templates_dir", type=click.Path(file_okay=False), help="Templates overriding the built-in ones."),
            click.option("--prefix", default=None, help="URL folder of the generated flow pages ['' = site root]."),
            click.option("--versions/--no-versions", default=None, help="A page per major version, selector, changelogs [on]."),
            click.option("--cache-dir", type=click.Path(file_okay=False), help="Build cache [.flowdoc-cache beside the output]."),
            click.option("--strict/--no-strict", default=None, help="Fail on MkDocs warnings (broken links ...)."),
            click.option(
                "--file-urls/--no-file-urls",
                "file_urls",
                default=None,
                help="A site that works opened from disk (file://): pages as NAME.html, no search [off].",
            ),
            click.option(
                "--git-versions",
                "git_versions",
                multiple=True,
                metavar="SPEC",
                help="Also publish the flow files as they stood at this git revision: a tag, branch or "
                "commit, or a tag glob such as 'v*'. Repeatable; replaces git_versions of [tool.flowdoc.site].",
            ),
        ]
    ):
        f = opt(f)
    return f


def settings_from(config, **opts):
    opts["git_versions"] = list(opts.get("git_versions") or ()) or None  # not given: the configuration's
    return BuildSettings.from_config(config, **opts)


def report_warnings(diagnostics) -> None:
    """flowdoc's own warnings of a build (a flow file not valid at a git revision), on stderr."""
    if diagnostics:
        click.echo(format_text(diagnostics, color=use_color(sys.stderr)), err=True)


def report_error(exc, out: Path | None) -> None:
    if exc.diagnostics:
        click.echo(format_text(exc.diagnostics, color=use_color(sys.stderr)), err=True)
    kept = ""
    if out is not None and (out / MARKER).is_file():
        kept = f"; the site in {out} was left as it was"
    elif out is not None and out.exists():
        kept = f"; nothing in {out} was changed"
    click.echo(f"flowdoc: error: {exc.message}{kept}", err=True)


EPILOG = """\b
Exit codes: 0 built, 2 an invalid flow, configuration or project, a refused
output folder, MkDocs failed (the previous site is kept) or a usage error."""


@click.command(epilog=EPILOG)
@site_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder of the site [build/site].")
@click.option(
    "--force",
    is_flag=True,
    help="Build from nothing: clear the cache, render every page and run MkDocs. Also replaces an --out "
    "folder that is not empty and was not built by flowdoc (its files are deleted).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def command(quiet: bool, force: bool, **opts) -> None:
    """Build the documentation site: flows → Markdown → static HTML (MkDocs).

    \b
    Site layout (with MkDocs' default directory URLs):
      /                   index of flows (title, status, latest version, last updated)
      /FLOW/latest/       newest version        /FLOW/v1/, /FLOW/v2/  one page per major version
      /FLOW/changelog/    authors' notes and generated changes, newest first

    The site is built in a temporary folder beside --out and replaces it only when the
    build succeeds; unchanged flows are not re-rendered (content-hash cache), and MkDocs is
    not run when nothing changed. Every site carries a .flowdoc-site file: a non-empty
    --out folder without it is refused (exit 2) unless --force, and --out may not be in
    the flows folder. Every option can also be set in [tool.flowdoc]
    (flows, out, templates) and [tool.flowdoc.site] (config_file, mermaid_js, prefix,
    versions, cache_dir, strict, git_versions).

    \b
    Versions come from flow files side by side (same id, another version) and, with
    --git-versions (tags, branches, commits, tag globs such as 'v*'), from the flow
    files as they stood at those git revisions; a file on disk wins over history.
    """
    config = config_or_exit()
    settings = settings_from(config, force=force or None, **opts)
    reporter = ProgressReporter(enabled=sys.stderr.isatty(), quiet=quiet)
    try:
        result = build_site(settings, reporter=reporter)
    except PublishError as exc:
        report_error(exc, Path(settings.out_dir))
        raise SystemExit(2) from None
    except OSError as exc:
        fail(str(exc))
    if not quiet:
        if result.cache_reset:
            click.echo(
                f"flowdoc: note: the build failed with the cache ({result.cache_reset}); "
                "it was cleared and the site built from nothing",
                err=True,
            )
        report_warnings(result.diagnostics)
        for w in result.warnings:
            if w.startswith(("WARNING", "ERROR")):
                click.echo(f"mkdocs: {w}", err=True)
        click.echo(result.summary())
