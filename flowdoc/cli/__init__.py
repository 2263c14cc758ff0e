"""The ``flowdoc`` command: a thin shell over the library, one module per command.

Exit codes (all commands):
  0  success
  1  findings: lint findings, a conformance failure (verify), a failed check
  2  invalid flow, invalid configuration or usage error
  3  server unreachable or its TLS certificate rejected (verify)
"""

from __future__ import annotations

import importlib

import click

from .._version import __version__

EXIT_CODES = """\b
Exit codes:
  0  success
  1  findings (lint), conformance failure (verify), failed check
  2  invalid flow, invalid configuration or usage error
  3  server unreachable or its TLS certificate rejected (verify)"""

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


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        mod = COMMANDS.get(name)
        if mod is None:
            return None
        return importlib.import_module(f"{__name__}.{mod}").command


@click.group(cls=LazyGroup, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="flowdoc")
def cli() -> None:
    """Document, draw and prove authentication flows from one YAML state machine."""


def main() -> None:
    cli(prog_name="flowdoc")
