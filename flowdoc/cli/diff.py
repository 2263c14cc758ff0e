"""flowdoc diff: the semantic changes between two versions of a flow."""

from __future__ import annotations

import click

from ..diagnostics import FlowError, format_github, format_json, format_text
from ..diff import diff_flows
from ..diff.changes import LEVEL_RANK
from ..diff.format import kinds_table, render
from ..diff.git import load_spec, split_spec
from ..git import GitError
from ._common import fail, use_color, write_output

EPILOG = """\b
OLD and NEW are flow files or git revisions REV:path (the path as for a file,
relative to the current folder), e.g.:
  flowdoc diff flows/client-credentials.v1.0.yaml flows/client-credentials.yaml
  flowdoc diff HEAD~1:flows/client-credentials.yaml flows/client-credentials.yaml
  flowdoc diff v1.0.0:flows/x.yaml main:flows/x.yaml --format markdown

\b
Levels, for a client built from the OLD page: breaking (it breaks), warning
(it may break), info (it does not). `flowdoc diff --list-changes` lists every
change id with its level and why.

\b
Exit codes: 0 success, 1 a change at or above --fail-on, 2 invalid flow,
unknown revision or path, an -o FILE that cannot be written, or usage error."""


@click.command(epilog=EPILOG)
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "github"]), default="text",
              show_default=True,
              help="text for people, markdown for changelogs and pull requests, json for tools, "
                   "github for workflow annotations on the NEW file's lines.")
@click.option("--fail-on", type=click.Choice(["breaking", "warning", "info"]), default=None,
              help="Exit 1 when a change at this level or above is found.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write to this file.")
@click.option("--list-changes", is_flag=True, help="Print every change kind (id, level, why) and exit.")
def command(old: str | None, new: str | None, fmt: str, fail_on: str | None, output: str | None,
            list_changes: bool) -> None:
    """Show the semantic changes from OLD to NEW, each with a stable id and a level."""
    if list_changes:
        if fmt == "github":
            raise click.UsageError("--list-changes prints text, markdown or json (--format github is for changes)")
        write_output(kinds_table(fmt), output)
        return
    if old is None or new is None:
        fail("name two flows: flowdoc diff OLD NEW (files or REV:path)")

    flows = []
    for spec in (old, new):
        try:
            flows.append(load_spec(spec))
        except GitError as exc:
            fail(str(exc))
        except FlowError as exc:
            click.echo(format_text(exc.diagnostics, color=use_color()), err=True)
            if fmt == "github":
                click.echo(format_github(exc.diagnostics))
            elif fmt == "json":
                click.echo(format_json(exc.diagnostics))
            fail(f"{spec} is not a valid flow")
    a, b = flows
    changes = diff_flows(a, b)
    annotate = split_spec(new)[1]
    text = render(fmt, changes, a, b, file=annotate, old_label=old, new_label=new,
                  color=output is None and use_color())
    write_output(text, output)
    if fail_on and any(LEVEL_RANK[c.level] >= LEVEL_RANK[fail_on] for c in changes):
        raise SystemExit(1)
