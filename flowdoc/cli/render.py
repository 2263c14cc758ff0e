"""flowdoc render: a diagram or the Markdown page of one flow."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import jinja2

from ..catalog import FlowSet
from ..diagnostics import Diagnostic, format_text
from ..render import GraphvizMissing, RenderError, render_diagram, render_page
from ._common import config_or_exit, fail, use_color, write_output


EPILOG = """\b
Exit codes: 0 rendered, 2 no such file, an invalid flow, no Graphviz `dot` (or
a limit of it passed), a template error, an -o FILE that cannot be written or
a usage error."""


@click.command(epilog=EPILOG)
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option(
    "--view",
    type=click.Choice(["sequence", "state", "flowchart"]),
    default="sequence",
    show_default=True,
    help="Which diagram (ignored with --format markdown, which renders the whole page).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg", "markdown"]),
    default="mermaid",
    show_default=True,
    help="mermaid, Graphviz dot, svg (needs Graphviz's dot program), or markdown for the whole page.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically) instead of stdout.")
@click.option(
    "--templates",
    type=click.Path(file_okay=False),
    help="Folder of templates overriding the built-in ones (default: templates under [tool.flowdoc]).",
)
def command(flow: str, view: str, fmt: str, output: str | None, templates: str | None) -> None:
    """Render FLOW as a diagram (--view, --format) or as its Markdown page (--format markdown).

    \b
    Examples:
      flowdoc render flows/client-credentials.yaml --view state
      flowdoc render flows/client-credentials.yaml --view state --format svg -o state.svg
      flowdoc render flows/client-credentials.yaml --format markdown -o docs/client-credentials.md
    """
    if not os.path.exists(flow):
        fail(f"{flow}: no such file")
    res = FlowSet.from_paths([flow])
    if res.invalid or not res.flows:
        diags = res.diagnostics or [Diagnostic(flow, None, None, "invalid", "not a valid flow")]
        errors = sorted((d for d in diags if d.severity == "error"), key=Diagnostic.sort_key) or diags
        click.echo(format_text(errors, color=use_color(sys.stderr)), err=True)
        fail(f"{flow} is not a valid flow; nothing was rendered")
    model = res.flows[0]

    try:
        if fmt == "markdown":
            templates_dir = templates
            if templates_dir is None:
                templates_dir = config_or_exit().templates  # resolved against the pyproject.toml
            if templates_dir is not None and not Path(templates_dir).is_dir():
                fail(f"templates folder {templates_dir} does not exist")
            text = render_page(model, templates_dir=templates_dir)
        else:
            text = render_diagram(model, view, fmt)
    except GraphvizMissing as exc:
        fail(str(exc))
    except RenderError as exc:
        fail(str(exc))
    except Exception as exc:  # template errors from a user's folder
        if isinstance(exc, jinja2.TemplateSyntaxError):
            fail(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}")
        if isinstance(exc, jinja2.TemplateError):
            fail(f"template error: {exc}")
        raise
    write_output(text, output)
