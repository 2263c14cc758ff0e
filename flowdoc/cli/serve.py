"""flowdoc serve: a live preview of the site on 127.0.0.1, rebuilt when a flow or template changes."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

from ..publish import PublishError
from ..publish.serve import PreviewServer, check_output
from ._common import config_or_exit, fail
from .build import ProgressReporter, settings_from, site_options


EPILOG = """\b
Exit codes: 2 an invalid configuration, no flows folder, a refused output
folder, the port cannot be used or a usage error; 130 stopped with Ctrl-C
(143 with SIGTERM). A build that fails while serving does not stop it."""


@click.command(epilog=EPILOG)
@site_options
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port on 127.0.0.1 [8000; 0 = any free port].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Preview folder [a temporary folder].")
def command(port: int | None, **opts) -> None:
    """Serve a live preview of the site on 127.0.0.1.

    Builds the site like `flowdoc build`, serves it, and rebuilds (incrementally) when a
    flow, a template, the MkDocs project or Mermaid's local script changes; open pages
    reload by themselves. A failed build keeps the last good site and shows the error.
    Only requests for http://127.0.0.1:PORT/, http://localhost:PORT/ or http://[::1]:PORT/
    are answered (Host header; 421 otherwise).
    """
    config = config_or_exit()
    tmp = None
    if opts.get("out_dir") is None:
        tmp = tempfile.mkdtemp(prefix="flowdoc-serve-")
    try:  # the temporary folder goes, whatever ends the command: an error, Ctrl-C, SIGTERM
        _serve(config, port, tmp, opts)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _serve(config, port: int | None, tmp: str | None, opts: dict) -> None:
    if tmp:
        opts["out_dir"] = str(Path(tmp) / "site")
        if opts.get("cache_dir") is None:
            opts["cache_dir"] = str(Path(tmp) / "cache")
    settings = settings_from(config, **opts)
    if not Path(settings.flows_dir).is_dir():
        fail(f"{settings.flows_dir}: no such flows folder")
    try:
        check_output(settings)
    except PublishError as exc:
        fail(exc.message)
    server = PreviewServer(
        settings,
        port=config.site.port if port is None else port,
        echo=lambda m: click.echo(m, err=True),
        reporter=ProgressReporter(enabled=sys.stderr.isatty()),
    )
    try:
        server.serve_forever()
    except OSError as exc:
        fail(f"cannot serve on 127.0.0.1:{server.port}: {exc.strerror or exc}")
