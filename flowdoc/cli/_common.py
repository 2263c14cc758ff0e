"""Helpers shared by the commands: output formats, colour, diagnostics."""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterable, NoReturn

import click

from ..catalog import FlowSet
from ..config import Config, ConfigError, load_config, shown
from ..diagnostics import Diagnostic, format_github, format_json, format_text


def use_color(stream=None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for tools, github for workflow annotations on the pull request.",
)


EXIT_HELP = """\b
Exit codes: 0 success, 1 findings, 2 invalid flow or usage, 3 server unreachable or TLS certificate rejected."""


def write_output(text: str, output: str | None) -> None:
    """Write to a file atomically (nothing half-written is left) or to stdout."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"flowdoc: error: {message}", err=True)
    raise SystemExit(code)


def config_or_exit() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        fail(str(exc))


def emit(diags: Iterable[Diagnostic], fmt: str, nfiles: int) -> None:
    diags = sorted(diags, key=Diagnostic.sort_key)
    if fmt == "json":
        click.echo(format_json(diags))
    elif fmt == "github":
        if diags:
            click.echo(format_github(diags))
    elif diags:
        color = use_color()
        click.echo(format_text(diags, color=color), color=color)
    counts = Counter(d.severity for d in diags)
    files_bad = len({d.file for d in diags})
    if fmt == "text":
        if diags:
            parts = [f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in sorted(counts.items())]
            click.echo(f"{', '.join(parts)} in {files_bad} of {nfiles} file{'s' if nfiles != 1 else ''}", err=True)
        else:
            click.echo(f"{nfiles} file{'s' if nfiles != 1 else ''} checked, no problems", err=True)


def paths_or_default(paths: tuple[str, ...], config: Config) -> list[str]:
    """PATHS, else the flows folder of the configuration (resolved against the pyproject.toml)."""
    return list(paths) if paths else [shown(config.flows)]


def no_flows_found(paths: tuple[str, ...], config: Config) -> Diagnostic:
    return Diagnostic(" ".join(paths) or shown(config.flows), None, None, "no-flows", "no flow files (*.yaml, *.yml) found")


def load_flows(paths: tuple[str, ...], config: Config, **options) -> FlowSet:
    """The catalog of PATHS (default: the flows folder); an empty selection is an error (no-flows)."""
    flows = FlowSet.from_paths(paths_or_default(paths, config), **options)
    if not flows.files and not flows.missing:  # an empty selection is an error, never a silent success
        flows.notes.append(no_flows_found(paths, config))
    return flows
