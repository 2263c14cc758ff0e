"""flowdoc new: start a flow from a kind, a browser recording (HAR) or a server's discovery metadata."""

from __future__ import annotations

from pathlib import Path

import click

from ..catalog import FlowSet
from ..diagnostics import format_text
from ..model.schema import SCHEMA_ID
from ..scaffold.discovery import DiscoveryUnreachable, flows_from_discovery
from ..scaffold.har import har_to_flow
from ..scaffold.kinds import KINDS, ScaffoldError, render_kind
from ._common import fail, write_output

EPILOG = """\b
Kinds: client-credentials, authorization-code-pkce, refresh-rotation,
mfa-step-up, gateway-login, device-flow. Each starting flow is complete and
valid; `flowdoc lint` lists its TODOs (rule todo-marker) until you replace them.

\b
--from-har FILE.har: a login recorded by the browser (DevTools, Save all as
HAR; or Playwright's record_har_path) becomes a flow skeleton: an actor per
host, a step per request in order, redirects and cookies mapped. Passwords,
codes, tokens, client secrets and cookies become secret inputs or captures:
no secret value of the recording is written.

\b
--from-discovery URL: fetches that one URL (a server's
/.well-known/openid-configuration or oauth-authorization-server metadata)
and writes one flow per grant it supports into the folder -o DIR.

\b
Every file starts with the modeline of the published JSON Schema
(# yaml-language-server: $schema=...), for completion in editors.

\b
Examples:
  flowdoc new client-credentials --id orders-sync -o flows/orders-sync.yaml
  flowdoc new --from-har login.har --id portal-login -o flows/portal-login.yaml
  flowdoc new --from-discovery https://auth.example.com/.well-known/openid-configuration -o flows/

\b
Exit codes: 0 written, 2 bad input, a file that cannot be written or usage
(an existing file is never overwritten without --force), 3 the discovery URL
is unreachable."""


@click.command(epilog=EPILOG)
@click.argument("kind", required=False)
@click.option("--id", "flow_id", metavar="ID", help="Id of the new flow (letters, digits, '_', '-').")
@click.option("--title", help="Title of the new flow (default: one for the kind).")
@click.option("-o", "--output", type=click.Path(), help="File to write (a folder with --from-discovery); default: stdout.")
@click.option("--from-har", "har", type=click.Path(dir_okay=False), metavar="FILE.har",
              help="Start from a browser recording (HAR 1.2) of the login.")
@click.option("--from-discovery", "discovery", metavar="URL",
              help="Start one flow per grant of the server's discovery metadata (http(s) URL).")
@click.option("--schema", "schema", metavar="URL|PATH",
              help="Schema for the modeline (default: the published URL of flowdoc's JSON Schema).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--list", "list_kinds", is_flag=True, help="List the kinds and exit.")
def command(kind, flow_id, title, output, har, discovery, schema, force, list_kinds) -> None:
    """Start a new flow: KIND (see --list), --from-har FILE or --from-discovery URL."""
    if list_kinds:
        for k in KINDS.values():
            click.echo(f"{k.name}\t{k.title}")
        return
    modes = [m for m in (kind, har, discovery) if m]
    if len(modes) != 1:
        raise click.UsageError("give one of KIND, --from-har FILE or --from-discovery URL")
    schema = schema or SCHEMA_ID
    try:
        if discovery:
            _discovery(discovery, output, flow_id, schema, force)
            return
        if har:
            text = har_to_flow(har, flow_id=flow_id, title=title, schema=schema)
        else:
            if not flow_id:
                raise click.UsageError("give the new flow's --id")
            text = render_kind(kind, flow_id, title=title, schema=schema)
    except ScaffoldError as exc:
        fail(str(exc))
    _self_check(text, output or "<stdout>")
    _write(text, output, force)


def _self_check(text: str, name: str) -> None:
    """Every scaffold validates before it is written (a bug here must not leave a broken file)."""
    scaffold = FlowSet.from_text(text, name, across=False)
    if scaffold.invalid:
        fail("the generated flow does not validate (nothing was written):\n" + format_text(scaffold.errors))


def _write(text: str, output: str | None, force: bool) -> None:
    if output and output != "-" and Path(output).exists() and not force:
        fail(f"{output} exists; choose another file or pass --force")
    write_output(text, output)
    if output and output != "-":
        click.echo(f"wrote {output}", err=True)


def _discovery(url: str, output: str | None, flow_id: str | None, schema: str, force: bool) -> None:
    if not output:
        raise click.UsageError("--from-discovery writes several files: give the folder with -o DIR")
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        fail(f"{output} is not a folder")
    try:
        files = flows_from_discovery(url, prefix=flow_id, schema=schema)
    except DiscoveryUnreachable as exc:
        fail(str(exc), code=3)
    clash = [name for name in files if (folder / name).exists()]
    if clash and not force:
        fail(f"{', '.join(str(folder / c) for c in clash)} exist; choose another folder or pass --force")
    for name, text in files.items():
        _self_check(text, str(folder / name))
    for name, text in files.items():
        _write(text, str(folder / name), True)
