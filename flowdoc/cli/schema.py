"""flowdoc schema: print the JSON Schema of the flow format."""

from __future__ import annotations

import click

from ..model.schema import flow_json_schema_text
from ._common import write_output


EPILOG = """\b
Exit codes: 0 written, 2 the -o FILE cannot be written or a usage error."""


@click.command(epilog=EPILOG)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def command(output: str | None) -> None:
    """Print the JSON Schema of flow files, for editors.

    \b
    With yaml-language-server (VS Code's YAML extension and others), put this
    first line in a flow file to get completion and checking as you type:
      # yaml-language-server: $schema=PATH-OR-URL/flow.schema.json
    """
    write_output(flow_json_schema_text(), output)
