"""Helpers shared by the commands: output formats, colour, diagnostics."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Iterable, NoReturn

import click

from ..catalog import FlowSet
from ..config import Config, ConfigError, load_config, shown
from ..diagnostics import Diagnostic, format_github, format_json, format_text, summary


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


def write_output(text: str, output: str | None) -> None:
    """Write to a file atomically (nothing half-written is left) or to stdout.

    The file gets the mode any new file of the user gets (0666 less the umask), or keeps the
    mode of the file it replaces; a file that cannot be written is an error (exit 2)."""
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            os.fchmod(fh.fileno(), _new_file_mode(target))
            fh.write(text)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _new_file_mode(target: Path) -> int:
    """The mode ``open(target, "w")`` would give: the replaced file's, else 0666 less the umask."""
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process's umask (read from /proc where it can be, so the umask is never changed)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
    if fmt == "text":
        click.echo(summary(diags, nfiles), err=True)


def paths_or_default(paths: tuple[str, ...], config: Config) -> list[str]:
    """PATHS, else the flows folder of the configuration (resolved against the pyproject.toml)."""
    return list(paths) if paths else [shown(config.flows)]


def no_flows_found(paths: tuple[str, ...], config: Config) -> Diagnostic:
    return Diagnostic(" ".join(paths) or shown(config.flows), None, None, "no-flows", "no flow files (*.yaml, *.yml) found")


def flow_folders(config: Config) -> list[str]:
    """Where a required flow may live besides the flows given: the flows folder, then ``flow_folders``."""
    return [config.flows, *config.flow_folders]


def load_flows(paths: tuple[str, ...], config: Config, **options) -> FlowSet:
    """The catalog of PATHS (default: the flows folder); an empty selection is an error (no-flows).
    A required flow is also looked for in the configured flow folders."""
    flows = FlowSet.from_paths(paths_or_default(paths, config), search=flow_folders(config), **options)
    if not flows.files and not flows.missing:  # an empty selection is an error, never a silent success
        flows.notes.append(no_flows_found(paths, config))
    return flows
