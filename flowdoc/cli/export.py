"""flowdoc export: a flow in another tool's format (Arazzo 1.0.1, for Redocly Respect and others)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..catalog import FlowSet
from ..diagnostics import Diagnostic, Severity, format_text
from ..interop import ArazzoExportError, export_arazzo
from ._common import fail, use_color, write_output

EXPORT_EXIT = """\b
Exit codes: 0 written (what Arazzo cannot express is listed on stderr), 1 no workflow of the flow
can be expressed (nothing written), 2 no such file, an invalid flow, a file that cannot be written
or a usage error."""


@click.group(epilog=EXPORT_EXIT)
def command() -> None:
    """Export a flow for other tools."""


def _notes(flow_file: str, unexpressed) -> list[Diagnostic]:
    out = []
    for u in unexpressed:
        line, col = u.pos if u.pos else (None, None)
        sev: Severity = "warning" if u.effect.endswith("left out") else "info"
        out.append(Diagnostic(flow_file, line, col, f"arazzo-{u.kind}", u.line(), sev))
    return out


def _echo_notes(diags: list[Diagnostic]) -> None:
    if diags:
        color = use_color(sys.stderr)
        click.echo(format_text(diags, color=color), err=True, color=color)


@command.command("arazzo", epilog=EXPORT_EXIT)
@click.argument("flow", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="The Arazzo file to write (default: FLOW_ID.arazzo.yaml in the current folder). "
                   "One OpenAPI description per server is written beside it.")
def arazzo(flow: str, output: str | None) -> None:
    """Export FLOW as an Arazzo 1.0.1 description, runnable by Redocly Respect.

    The happy path and every failure branch become workflows; each step checks the documented
    status, error code and fields. Inputs become workflow inputs (secrets get format: password),
    captures become step outputs. Steps Arazzo cannot express (redirects that must not be
    followed, HTML forms, generated PKCE/TOTP values, waits, parallel steps) are left out and
    listed: on stderr, and in the file under x-flowdoc-unexpressed.

    \b
    Examples:
      flowdoc export arazzo flows/client-credentials.yaml -o build/cc.arazzo.yaml
      redocly respect build/cc.arazzo.yaml --server auth=$ISSUER --server api=$API \\
          --input client_id=orders-sync --input client_secret=...
    """
    if output == "-":
        fail("the export is several files (the Arazzo description and one OpenAPI description per server); "
             "give -o FILE")
    model = _valid_flow(flow)
    target = Path(output) if output else Path(f"{model.id}.arazzo.yaml")
    try:
        result = export_arazzo(model, filename=target.name)
    except ArazzoExportError as exc:
        _echo_notes(_notes(flow, exc.unexpressed))
        fail(f"{exc}; nothing was written", 1)
    _echo_notes(_notes(flow, result.unexpressed))
    written = []
    for name, text in result.files().items():
        write_output(text, str(target.parent / name))
        written.append(str(target.parent / name))
    left = sum(1 for u in result.unexpressed if u.effect.endswith("left out"))
    wf = len(result.document["workflows"])
    servers = " ".join(f"--server {n}=URL" for n in result.servers())
    click.echo(f"wrote {', '.join(written)}: {wf} workflow{'s' if wf != 1 else ''}, "
               f"{left} thing{'s' if left != 1 else ''} left out (listed above and under x-flowdoc-unexpressed)",
               err=True)
    click.echo(f"run: redocly respect {written[0]} {servers} --input NAME=VALUE ...", err=True)


def _valid_flow(flow: str):
    if not Path(flow).exists():
        fail(f"{flow}: no such file")
    res = FlowSet.from_paths([flow])
    if res.invalid or not res.flows:
        diags = res.diagnostics or [Diagnostic(flow, None, None, "invalid", "not a valid flow")]
        errors = sorted((d for d in diags if d.severity == "error"), key=Diagnostic.sort_key) or diags
        click.echo(format_text(errors, color=use_color(sys.stderr)), err=True)
        fail(f"{flow} is not a valid flow; nothing was exported")
    return res.flows[0]
