"""flowdoc validate: check flow files against the format and the graph rules."""

from __future__ import annotations

import click

from ._common import config_or_exit, emit, format_option, load_flows


EPILOG = """\b
Exit codes: 0 every flow valid, 2 an invalid flow, a path that does not exist
or holds no flow files, an invalid configuration or a usage error."""


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path())
@format_option
def command(paths: tuple[str, ...], fmt: str) -> None:
    """Validate flow files (PATHS: files or folders; default: the flows folder).

    Every problem is reported as FILE:LINE:COL: error[CODE]: message.
    """
    config = config_or_exit()
    res = load_flows(paths, config, keep_flows=False)  # only the diagnostics are wanted
    emit(res.diagnostics, fmt, len(res.files))
    raise SystemExit(2 if res.invalid else 0)
