"""flowdoc render: a diagram or the Markdown page of one flow."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import jinja2

from ..catalog import FlowSet
from ..diagnostics import Diagnostic, escape_control, format_text
from ..render import GraphvizMissing, RenderError, render_diagram, render_page
from ._common import config_or_exit, fail, flow_folders, use_color, write_output

EPILOG = """\b
Exit codes: 0 rendered, 2 no such file, an invalid flow (nothing is written),
no Graphviz `dot` (or a limit of it passed), a template error, an -o FILE that
cannot be written or a usage error."""


@click.command(epilog=EPILOG)
@click.argument("flows", nargs=-1, required=True, type=click.Path())
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
@click.option("-o", "--output", type=click.Path(),
              help="Write to FILE (atomically) instead of stdout; with several flows, a folder: one file each, "
              "named after the flow file (NAME.md, NAME.VIEW.mmd|dot|svg).")
@click.option(
    "--templates",
    type=click.Path(file_okay=False),
    help="Folder of templates overriding the built-in ones (default: templates under [tool.flowdoc]).",
)
def command(flows: tuple[str, ...], view: str, fmt: str, output: str | None, templates: str | None) -> None:
    """Render FLOWS (files or folders) as a diagram (--view, --format) or as Markdown pages (--format markdown).

    A flow's requirements are looked for among the flows given, beside its file, and in the
    configured flow folders ([tool.flowdoc] flows and flow_folders). Every flow is checked before
    anything is written; several flows go to stdout one after another (each headed by a comment
    naming its file), or with -o DIR one file each.

    \b
    Examples:
      flowdoc render flows/client-credentials.yaml --view state
      flowdoc render flows/client-credentials.yaml --view state --format svg -o state.svg
      flowdoc render flows/client-credentials.yaml --format markdown -o docs/client-credentials.md
      flowdoc render flows/ --format markdown -o docs/flows/
    """
    for path in flows:
        if not os.path.exists(path):
            fail(f"{path}: no such file")
    config = config_or_exit()
    res = FlowSet.from_paths(flows, search=flow_folders(config))
    if res.invalid or not res.flows:
        diags = res.diagnostics or [Diagnostic(" ".join(flows), None, None, "invalid", "not a valid flow")]
        errors = sorted((d for d in diags if d.severity == "error"), key=Diagnostic.sort_key) or diags
        click.echo(format_text(errors, color=use_color(sys.stderr)), err=True)
        bad = ", ".join(res.invalid) or " ".join(flows)
        fail(f"{bad} {'is not a valid flow' if len(res.invalid) <= 1 else 'are not valid flows'}; nothing was rendered")
    models = res.flows
    if len(models) == 1 and len(res.files) == 1:
        write_output(_render(models[0], view, fmt, templates, config), output)
        return
    _render_many(models, view, fmt, templates, config, output)


def _render(model, view: str, fmt: str, templates: str | None, config) -> str:
    try:
        if fmt == "markdown":
            templates_dir = templates if templates is not None else config.templates  # resolved against pyproject
            if templates_dir is not None and not Path(templates_dir).is_dir():
                fail(f"templates folder {templates_dir} does not exist")
            return render_page(model, templates_dir=templates_dir)
        return render_diagram(model, view, fmt)
    except GraphvizMissing as exc:
        fail(str(exc))
    except RenderError as exc:
        fail(str(exc))
    except jinja2.TemplateSyntaxError as exc:  # template errors from a user's folder
        fail(f"{exc.filename or exc.name}:{exc.lineno}: template error: {exc.message}")
    except jinja2.TemplateError as exc:
        fail(f"template error: {exc}")


_SUFFIX = {"mermaid": "mmd", "dot": "dot", "svg": "svg"}
_COMMENT = {"mermaid": "%% {}", "dot": "// {}", "markdown": "<!-- {} -->"}


def _first_repeated(names: list[str]) -> str | None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _render_many(models, view: str, fmt: str, templates: str | None, config, output: str | None) -> None:
    """Several flows: every one rendered first (nothing written if one fails), then written."""
    texts = [(m, _render(m, view, fmt, templates, config)) for m in models]
    if output is None or output == "-":
        if fmt == "svg":
            fail("several flows as SVG need -o FOLDER (one file each)")
        click.echo("\n".join(_COMMENT[fmt].format(escape_control(m.file)) + "\n" + text for m, text in texts), nl=False)
        return
    if os.path.exists(output) and not os.path.isdir(output):
        fail(f"-o {output}: several flows are written to a folder, and this is a file")
    names = [Path(m.file).stem + (".md" if fmt == "markdown" else f".{view}.{_SUFFIX[fmt]}") for m, _ in texts]
    twice = _first_repeated(names)
    if twice is not None:
        fail(f"two flow files would both be written as {twice}; render them one at a time with -o FILE")
    for name, (_m, text) in zip(names, texts, strict=True):
        write_output(text, os.path.join(output, name))
