"""The ``flowdoc`` command: a thin shell over the library, one module per command.

Exit codes (each command's ``--help`` lists those it can give):
  0    success
  1    findings: lint findings, a failed check, a conformance failure (verify), a change at
       diff --fail-on, nothing export can express
  2    invalid flow, invalid configuration or usage error
  3    server unreachable or its TLS certificate rejected (verify, new --from-discovery)
  130  interrupted (Ctrl-C); 143 stopped by SIGTERM
"""

from __future__ import annotations

import importlib
import signal

import click

from .._version import __version__

EXIT_CODES = """\b
Exit codes (each command's --help lists those it can give):
  0    success
  1    findings (lint, check), conformance failure (verify), a change at --fail-on (diff),
       nothing export can express
  2    invalid flow, invalid configuration or usage error
  3    server unreachable or its TLS certificate rejected (verify, new --from-discovery)
  130  interrupted (Ctrl-C); 143 stopped by SIGTERM"""

#: the signal that stopped the command (SIGINT unless SIGTERM's handler says otherwise)
_stopped_by = {"signal": signal.SIGINT}

# command name -> module under flowdoc.cli; loaded only when used
COMMANDS = {
    "validate": "validate",
    "lint": "lint",
    "schema": "schema",
    "render": "render",
    "build": "build",
    "serve": "serve",
    "diff": "diff",
    "check": "check",
    "verify": "verify",
    "new": "new",
    "export": "export",
    "import": "import_",
}

# command name -> the first line of its help: the command list of --help, which so loads no module
SUMMARIES = {
    "validate": "Validate flow files (PATHS: files or folders; default: the flows folder).",
    "lint": "Lint flow files against the documentation best practices.",
    "schema": "Print the JSON Schema of flow files, for editors.",
    "render": "Render FLOWS (files or folders) as a diagram (--view, --format) or as Markdown pages (--format markdown).",
    "build": "Build the documentation site: flows → Markdown → static HTML (MkDocs).",
    "serve": "Serve a live preview of the site on 127.0.0.1.",
    "diff": "Show the semantic changes from OLD to NEW, each with a stable id and a level.",
    "check": "Check flows for CI (PATHS: files or folders; default: the flows folder).",
    "verify": "Verify that a server behaves as the flows document (PATHS: files or folders).",
    "new": "Start a new flow: KIND (see --list), --from-har FILE or --from-discovery URL.",
    "export": "Export a flow for other tools.",
    "import": "Import a flow skeleton from another tool's format.",
}


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context):
        """Ctrl-C (or SIGTERM, see :func:`main`) ends any command with 128 + the signal's number
        and one short line, after every ``finally`` ran (temporary files and folders removed)."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            sig = _stopped_by["signal"]
            click.echo("", err=True)
            click.echo(f"flowdoc: {'terminated' if sig == signal.SIGTERM else 'interrupted'}", err=True)
            raise click.exceptions.Exit(128 + int(sig)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        mod = COMMANDS.get(name)
        if mod is None:
            return None
        return importlib.import_module(f"{__name__}.{mod}").command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help as click writes it, from :data:`SUMMARIES` (no module loaded)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl([(name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit)) for name in names])


@click.group(cls=LazyGroup, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="flowdoc")
def cli() -> None:
    """Document, draw and prove authentication flows from one YAML state machine."""


def _on_sigterm(signum, frame) -> None:
    """SIGTERM unwinds like Ctrl-C, so that what a command cleans up on the way out is cleaned up."""
    _stopped_by["signal"] = signal.SIGTERM
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise KeyboardInterrupt


def main() -> None:
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _on_sigterm)
    cli(prog_name="flowdoc")
