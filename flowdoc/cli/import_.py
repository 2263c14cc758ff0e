"""flowdoc import: a flow skeleton from another tool's format (Arazzo 1.0.x)."""

from __future__ import annotations

import sys

import click

from ..diagnostics import format_text
from ..interop import ArazzoImportError, ArazzoReadError, import_arazzo
from ._common import fail, use_color, write_output

IMPORT_EXIT = """\b
Exit codes: 0 written, 1 the imported flow does not validate (a flowdoc bug; nothing written),
2 not an Arazzo 1.0.x description (FILE:LINE:COL on stderr), an -o FILE that cannot be written
or a usage error."""


@click.group(epilog=IMPORT_EXIT)
def command() -> None:
    """Import a flow skeleton from another tool's format."""


@command.command("arazzo", epilog=IMPORT_EXIT)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the flow to FILE (atomically) instead of stdout.")
def arazzo(file: str, output: str | None) -> None:
    """Import the Arazzo 1.0.x description FILE as a flow skeleton.

    The happy-path workflow becomes a chain of transitions; the other workflows become failure
    branches of the steps they change. What Arazzo does not say (states, actors, failure
    remedies, token lifecycle) is marked TODO(arazzo) in comments and placeholder texts. The
    result passes flowdoc validate; flowdoc lint shows what is left to write.

    \b
    Examples:
      flowdoc import arazzo orders.arazzo.yaml -o flows/orders.yaml
      flowdoc validate flows/orders.yaml
    """
    try:
        result = import_arazzo(file)
    except ArazzoReadError as exc:
        color = use_color(sys.stderr)
        click.echo(format_text(exc.diagnostics, color=color), err=True, color=color)
        fail(f"{file} is not an Arazzo 1.0.x description flowdoc can import; nothing was written")
    except ArazzoImportError as exc:
        click.echo(format_text(exc.diagnostics), err=True)
        fail(f"the flow imported from {file} does not validate (a flowdoc bug; please report it)", 1)
    write_output(result.text, output)
    where = output if output and output != "-" else "stdout"
    click.echo(f"imported {file} as flow '{result.flow_id}' ({where}): {result.transitions} transitions, "
               f"{result.failures} failure branches, {result.todo_count} TODO(arazzo) placeholders to resolve"
               + (f" ({len(result.todos)} things not imported, listed at the top)" if result.todos else ""), err=True)
